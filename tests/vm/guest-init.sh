#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the tests/vm guest (PID 1, root in RAM). Mounts what tlswatch
# needs, runs tlswatch --check and the BPF unit test (if brought), then
# tlswatch watching an openssl s_server on lo while one TLS 1.2 client
# is refused (the server takes TLS 1.3 only) and one TLS 1.3 client gets
# through; then powers off.
# Results go to the second serial port (/dev/ttyS1), free of kernel
# messages, as "VM key value" lines and the records between markers;
# tests/vm/run.sh reads them.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs dev /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
busybox ip link set lo up
out=/dev/ttyS1
stty -F $out raw -echo 2>/dev/null
say() { echo "VM $*" >>$out; }
port=4433

say uname "$(uname -r)"
say btf "$(test -s /sys/kernel/btf/vmlinux && echo yes || echo no)"
/tlswatch --check >/tmp/check.out 2>&1
say check_rc $?
sed 's/^/VM check: /' /tmp/check.out >>$out
# The BPF unit test (crafted frames through BPF_PROG_TEST_RUN, three
# budgets), when run.sh brought it.
if [ -x /vm/test_bpf ]; then
	/vm/test_bpf >/tmp/test_bpf.out 2>&1
	say test_bpf_rc $?
	sed 's/^/VM test_bpf: /' /tmp/test_bpf.out >>$out
fi

/tlswatch -v --capture bpf --json -a -p $port >/tmp/tw.jsonl 2>/tmp/tw.err &
tw=$!
i=0
while [ $i -lt 600 ] && ! grep -q '^tlswatch: watching' /tmp/tw.err; do
	kill -0 $tw 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
say attached "$(grep '^tlswatch: watching' /tmp/tw.err)"
# The privileges it kept after attaching, said and as the kernel has them.
i=0
while [ $i -lt 100 ] && ! grep -q '^tlswatch: now running as' /tmp/tw.err; do
	sleep 0.1
	i=$((i + 1))
done
say privileges "$(sed -n 's/^tlswatch: now running as //p' /tmp/tw.err)"
say cap_eff "$(awk '/^CapEff:/ { print $2 }' /proc/$tw/status)"

openssl s_server -accept 127.0.0.1:$port -cert /vm/cert.pem -key /vm/key.pem \
	-tls1_3 -quiet >/dev/null 2>&1 &
srv=$!
i=0
while [ $i -lt 300 ] && ! grep -q ":$(printf %04X $port) 00000000:0000 0A" /proc/net/tcp; do
	sleep 0.1
	i=$((i + 1))
done
timeout 60 openssl s_client -connect 127.0.0.1:$port -tls1_2 >/tmp/c1.out 2>&1
say client_tls12_rc $?
timeout 60 openssl s_client -connect 127.0.0.1:$port -tls1_3 >/tmp/c2.out 2>&1
say client_tls13_rc $?
# Both outcomes are known once the connections closed; give the ring
# buffer and the loader a moment under emulation before stopping.
sleep 3
kill -INT $tw
i=0
while [ $i -lt 300 ] && kill -0 $tw 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 $tw 2>/dev/null && kill -9 $tw
wait $tw
say tlswatch_rc $?
kill $srv 2>/dev/null
{
	echo "VM records begin"
	cat /tmp/tw.jsonl
	echo "VM records end"
	echo "VM stderr begin"
	cat /tmp/tw.err
	echo "VM stderr end"
	echo "VM done"
} >>$out
sync
busybox poweroff -f
