#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A second kernel: boots Debian 12's own kernel (6.1) under qemu with the
# root filesystem tests/vm/build.sh makes (building it first if needed),
# the host-built ./tlswatch (and build/tests/test_bpf, if built) copied
# in, and checks what the guest (tests/vm/guest-init.sh) saw: the kernel
# is 6.1, --check passes, the BPF unit test passes, the BPF programs load
# and attach, a refused handshake is reported with its reason and alert,
# an established one is reported and counted, nothing is lost.
# Runs under TCG where there is no KVM. Needs root (the build),
# qemu-system-x86, cpio, jq, openssl. TLSWATCH_VM_TIMEOUT: seconds before
# qemu is killed (FAIL); TLSWATCH_VM_VERBOSE=1 shows the guest's output;
# TLSWATCH_VM_CACHE: see build.sh.
set -u
cd "$(dirname "$0")/../.."
suite=vm
bin=./tlswatch
cache=${TLSWATCH_VM_CACHE:-/var/cache/tlswatch-vm}
limit=${TLSWATCH_VM_TIMEOUT:-900}

if [ "$(id -u)" != 0 ]; then
	echo "!!! SKIPPED vm tests: they need root (sudo make test) !!!"
	exit 0
fi
tmp=$(mktemp -d)
pids=()
tw=
. tests/lib.sh

if [ ! -x "$bin" ]; then
	ko build "$bin is missing (make tlswatch)"
	echo "vm: $pass passed, $fail failed"
	exit 1
fi
start=$(date +%s)
if ! TLSWATCH_VM_CACHE=$cache tests/vm/build.sh; then
	ko build "tests/vm/build.sh failed"
	echo "vm: $pass passed, $fail failed"
	exit 1
fi
built=$(date +%s)

# Every library the binaries link must be in the guest's root (a gcc
# sanitizer build wants libasan, for one): else say which, and stop.
unit=build/tests/test_bpf
have=$(cpio -t --quiet <"$cache/rootfs.cpio" | sed 's|.*/||' | sort -u)
missing=$(for b in "$bin" $([ -x $unit ] && echo $unit); do
	ldd "$b" | awk '/=>/ { print $1 }'
done | sort -u | comm -23 - <(echo "$have") | paste -sd' ')
if [ -n "$missing" ]; then
	ko libraries "the guest lacks $missing (add their packages to tests/vm/build.sh)"
	echo "vm: $pass passed, $fail failed"
	exit 1
fi

# The guest's own files, appended to the cached root as a second cpio
# archive (the kernel unpacks both, the later one over the earlier).
mkdir -p "$tmp/ov/vm"
install -m 755 tests/vm/guest-init.sh "$tmp/ov/init"
install -m 755 "$bin" "$tmp/ov/tlswatch"
# The BPF unit test too, when built (make test builds it first).
[ -x $unit ] && install -m 755 $unit "$tmp/ov/vm/test_bpf"
# An EC key: quick to use under emulation.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 2 -subj /CN=vm.invalid -keyout "$tmp/ov/vm/key.pem" \
	-out "$tmp/ov/vm/cert.pem" 2>/dev/null
(cd "$tmp/ov" && find . | cpio -o -H newc --quiet) >"$tmp/ov.cpio"
cat "$cache/rootfs.cpio" "$tmp/ov.cpio" >"$tmp/initrd"

# console=ttyS0 (the boot log), results on ttyS1; no reboot, so a panic
# or the guest's poweroff ends qemu.
boot() {  # accelerator and CPU model
	: >"$tmp/out.log"
	timeout -k 10 "$limit" qemu-system-x86_64 -machine q35 -accel "$1" \
		-cpu "$2" -smp 2 -m 1536 -nodefaults -display none -no-reboot \
		-kernel "$cache/vmlinuz" -initrd "$tmp/initrd" \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4" \
		-serial "file:$tmp/console.log" -serial "file:$tmp/out.log" \
		>>"$tmp/qemu.log" 2>&1
}
# KVM when the host offers it, with the host's CPU. Under nested
# virtualisation KVM can fail to set up the guest's CPU (seen here:
# "failed to set MSR 0x10a", with -cpu max and with -cpu host), and
# qemu then aborts before the guest starts. Emulation when there is no
# KVM, or when it failed so.
: >"$tmp/qemu.log"
qrc=1
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	boot kvm host
	qrc=$?
fi
if [ $qrc -ne 0 ] && [ ! -s "$tmp/out.log" ]; then
	[ -e /dev/kvm ] && echo "vm: KVM did not start the guest (qemu exit $qrc): emulating"
	boot tcg max
	qrc=$?
fi
end=$(date +%s)
tr -d '\r' <"$tmp/out.log" >"$tmp/out"
# TLSWATCH_VM_LOG=FILE keeps the guest's whole output (the verifier log).
[ -n "${TLSWATCH_VM_LOG:-}" ] && cp "$tmp/out" "$TLSWATCH_VM_LOG"
echo "vm: build/cache $((built - start)) s, boot and test $((end - built)) s"

val() { sed -n "s/^VM $1 //p" "$tmp/out" | head -n 1; }
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	ko boot "qemu killed after $limit s"
elif ! grep -q '^VM done' "$tmp/out"; then
	ko boot "the guest did not finish (qemu exit $qrc)"
else
	ok "boot (qemu exit $qrc)"
fi
rel=$(val uname)
case "$rel" in
6.1.*) ok "kernel $rel ($(cat "$cache/kernel-package"))" ;;
*) ko kernel "guest kernel is '$rel', not 6.1" ;;
esac
[ "$(val btf)" = yes ] && ok "kernel BTF present" || ko btf "no /sys/kernel/btf/vmlinux"
if [ "$(val check_rc)" = 0 ]; then
	ok "tlswatch --check passes"
else
	ko check "tlswatch --check exit '$(val check_rc)': $(sed -n 's/^VM check: //p' "$tmp/out" | paste -sd'|')"
fi
if [ ! -x $unit ]; then
	echo "vm: $unit not built, the BPF unit test not run in the guest"
elif [ "$(val test_bpf_rc)" = 0 ]; then
	ok "BPF unit test: $(sed -n 's/^VM test_bpf: //p' "$tmp/out" | grep -F '[  PASSED  ]' | tr -s ' ')"
else
	ko test_bpf "exit '$(val test_bpf_rc)': $(sed -n 's/^VM test_bpf: //p' "$tmp/out" | grep -E 'FAIL|ERROR' | tail -n 10 | paste -sd'|')"
fi
if [ -n "$(val attached)" ]; then
	ok "BPF loaded and attached: $(val attached)"
else
	ko attach "tlswatch did not attach: $(sed -n '/^VM stderr begin/,/^VM stderr end/p' "$tmp/out" | grep -v '^VM' | grep -iv debug | tail -n 15 | paste -sd'|')"
fi
# Kernels since 5.19 need no capability for bpf() calls on open
# descriptors: nothing is kept.
if [ "$(val privileges)" = "user nobody, capabilities: none" ] &&
   [ "$(val cap_eff)" = 0000000000000000 ]; then
	ok "after attaching: $(val privileges), CapEff $(val cap_eff)"
else
	ko privileges "'$(val privileges)', CapEff '$(val cap_eff)'"
fi
[ "$(val tlswatch_rc)" = 0 ] && ok "tlswatch exit 0 on SIGINT" ||
	ko exit "tlswatch exit '$(val tlswatch_rc)'"

sed -n '/^VM records begin/,/^VM records end/p' "$tmp/out" | grep -v '^VM' >"$tmp/records.jsonl"
conn() { jq -r "select(.event == \"connection\") | $1" "$tmp/records.jsonl" 2>/dev/null; }
got=$(conn 'select(.outcome == "failed") | [.reason, .alert.from, .alert.name, .client_hello.version] | join(" ")')
if [ "$got" = "server_alert server protocol_version TLS 1.2" ]; then
	ok "refused TLS 1.2 handshake: $got"
else
	ko refused "expected 'server_alert server protocol_version TLS 1.2', got '$got'"
fi
got=$(conn 'select(.outcome == "established") | [.server_hello.version, .stage] | join(" ")')
if [ "$got" = "TLS 1.3 finished" ]; then
	ok "established TLS 1.3 handshake reported"
else
	ko established "expected one established TLS 1.3 connection, got '$got'"
fi
got=$(jq -r 'select(.event == "summary" and .final) | [.connections, .outcomes.established, .failed, ([.losses | keys[] | select(test("lost|full|drop|malformed|evicted|missing|snaplen|gap"))] | length)] | map(tostring) | join(" ")' "$tmp/records.jsonl" 2>/dev/null)
if [ "$got" = "2 1 1 0" ]; then
	ok "summary: 2 connections, 1 established, 1 failed, no losses"
else
	ko summary "expected connections/established/failed/losses '2 1 1 0', got '$got'"
fi

if [ "$fail" -gt 0 ] || [ -n "${TLSWATCH_VM_VERBOSE:-}" ]; then
	echo "--- guest results (ttyS1)"
	grep -v -i 'libbpf: .*debug' "$tmp/out" | tail -n 60
	echo "--- guest console (ttyS0), last lines"
	tr -d '\r' <"$tmp/console.log" | tail -n 30
	[ -s "$tmp/qemu.log" ] && { echo "--- qemu"; tail -n 10 "$tmp/qemu.log"; }
fi
echo "vm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
