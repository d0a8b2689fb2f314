#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Live capture through libpcap (--capture pcap), against real peers:
#  - differential: the same handshakes watched at once by a libpcap
#    instance and a BPF instance give the same records, timing aside;
#  - loopback packets are read once, connections opened before the
#    capture are ignored, and the capture stays "complete";
#  - fallback: where BPF cannot load (an unprivileged user holding only
#    CAP_NET_RAW) tlswatch says so in one line and captures with libpcap;
#  - failures: no CAP_NET_RAW is one line and exit 1; kernel drops of a
#    capture that falls behind are shown in the summary.
# Needs root. Ports 18480-18489 only.
set -u
cd "$(dirname "$0")/.."
bin=$PWD/tlswatch
ports=18480-18489

if [ "$(id -u)" != 0 ]; then
	echo "!!! SKIPPED live libpcap tests: they need root (sudo make test) !!!"
	exit 0
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0
ok() { echo "PASS live-pcap $1"; pass=$((pass + 1)); }
ko() { echo "FAIL live-pcap $1"; fail=$((fail + 1)); }

# Start tlswatch in the background: name, then its arguments. Waits for
# its "watching" line.
start() {
	local name=$1
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	eval "pid_$name=$!"
	for _ in $(seq 100); do
		grep -q "^tlswatch: watching" "$tmp/$name.err" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
# SIGINT, and the exit status.
stop() {
	local p
	p=$(eval echo "\$pid_$1")
	kill -INT "$p" 2>/dev/null
	wait "$p"
}
listening() {
	for _ in $(seq 50); do
		ss -ltn | grep -q "$1" && return 0
		sleep 0.1
	done
	return 1
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pcap.invalid \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
# 18480: TLS 1.2 and 1.3, HTTP answers. 18481: TLS 1.2, one cipher.
# 18482: client certificate required. 18483: [::1], TLS 1.2 only.
# 18484: a plain TCP echo server for a connection older than the capture.
server() {
	openssl s_server -cert "$tmp/cert.pem" -key "$tmp/key.pem" -quiet "$@" \
		</dev/null >/dev/null 2>&1 &
	pids+=($!)
}
if ss -ltn | grep -qE ':184[89][0-9] '; then
	ko "ports $ports are in use: $(ss -ltn | grep -E ':184[89][0-9] ' | head -n 1)"
	exit 1
fi
server -accept 127.0.0.1:18480 -www
server -accept 127.0.0.1:18481 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
server -accept 127.0.0.1:18482 -Verify 1 -www
server -accept '[::1]:18483' -tls1_2 -www
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18484))
s.listen(1)
c, _ = s.accept()
while c.recv(4096):
    pass
' &
pids+=($!)
for a in 127.0.0.1:18480 127.0.0.1:18481 127.0.0.1:18482 '\[::1\]:18483' \
	127.0.0.1:18484; do
	listening "$a" || ko "server $a did not start"
done

# A connection opened before the capture: its later bytes are not a
# handshake's start and must be ignored, as BPF capture ignores them.
exec 7<>/dev/tcp/127.0.0.1/18484

if start pcap "$bin" --capture pcap -p $ports --json -a -v &&
	start bpf "$bin" -p $ports --json -a; then
	ok "attached: $(head -n 1 "$tmp/pcap.err")"
else
	ko "did not attach: $(cat "$tmp/pcap.err" "$tmp/bpf.err")"
	echo "live-pcap: $pass passed, $fail failed"
	exit 1
fi
if [ "$(head -n 1 "$tmp/pcap.err")" = "tlswatch: watching TCP ports $ports on all interfaces (libpcap)" ]; then
	ok "watching line names libpcap"
else
	ko "watching line: $(head -n 1 "$tmp/pcap.err")"
fi

echo "GET / HTTP/1.0" >&7
exec 7>&-

osc() {	# source address, port, s_client arguments
	local src=$1 port=$2
	shift 2
	timeout 5 openssl s_client -connect "127.0.0.1:$port" -bind "$src" "$@" \
		</dev/null >/dev/null 2>&1
}
# Fallback probe (inappropriate_fallback), then the retry.
osc 127.0.0.11 18480 -tls1_2 -fallback_scsv
osc 127.0.0.11 18480
osc 127.0.0.12 18481 -tls1_2 -cipher AES128-SHA	# no shared cipher
osc 127.0.0.13 18481 -tls1_3			# version refused
osc 127.0.0.14 18480 -tls1_2 -verify_return_error	# certificate rejected
osc 127.0.0.15 18480 -tls1_3 -verify_return_error
timeout 5 gnutls-cli --port 18480 127.0.0.1 </dev/null >/dev/null 2>&1
osc 127.0.0.16 18482 -tls1_2			# client certificate missing
osc 127.0.0.17 18482 -tls1_3
timeout 5 curl -s --interface 127.0.0.18 http://127.0.0.1:18480/ >/dev/null
timeout 5 curl -sk --interface 127.0.0.19 --tlsv1.2 --tls-max 1.2 \
	https://127.0.0.1:18480/ >/dev/null
timeout 5 curl -sk --interface 127.0.0.20 --tlsv1.3 https://127.0.0.1:18480/ \
	>/dev/null
osc 127.0.0.21 18481 -tls1_2			# success, TLS 1.2
timeout 5 openssl s_client -connect '[::1]:18483' -tls1_3 </dev/null \
	>/dev/null 2>&1
timeout 5 curl -sk -6 --tlsv1.2 'https://[::1]:18483/' >/dev/null

# 15 connections. Outcomes fall due up to a second after the last packet.
sleep 2
stop pcap
rcp=$?
stop bpf
rcb=$?
if [ $rcp -eq 0 ] && [ $rcb -eq 0 ] &&
	grep -q "^tlswatch: [0-9]* connections" "$tmp/pcap.err"; then
	ok "SIGINT: both exit 0, libpcap's with a summary"
else
	ko "SIGINT: exit $rcp and $rcb: $(tail -n 3 "$tmp/pcap.err")"
fi

# As in tests/live.sh: timing, who closed first when both sides close
# within a millisecond, an established TLS 1.3 handshake's bytes (they end
# with whichever side's next record comes first) and diagnoses (they
# depend on what the same run saw first) are left out, and the owner,
# which libpcap cannot know.
strip='select(.event == "connection")
       | del(.time, .duration_ms, .latency_ms, .diagnosis, .close.by, .owner)
       | if .outcome == "established" and .server_hello.version == "TLS 1.3"
         then del(.bytes) else . end | tostring'
jq -r "$strip" "$tmp/pcap.out" | sort >"$tmp/pcap.sorted"
jq -r "$strip" "$tmp/bpf.out" | sort >"$tmp/bpf.sorted"
n=$(wc -l <"$tmp/pcap.sorted")
diff -u "$tmp/bpf.sorted" "$tmp/pcap.sorted" >"$tmp/diff"
if [ "$n" -ge 15 ] && [ ! -s "$tmp/diff" ]; then
	ok "differential: $n libpcap records equal the BPF records"
else
	ko "differential: $n records; libpcap and BPF differ (- bpf, + pcap)"
	head -n 40 "$tmp/diff"
fi
got=$(jq -r 'select(.event == "connection") | [.client.ip, .outcome,
	.reason, .alert.code] | tostring' "$tmp/pcap.out" | sort | paste -sd' ' -)
for want in '["127.0.0.11","failed","server_alert",86]' \
	'["127.0.0.12","failed","server_alert",40]' \
	'["127.0.0.13","failed","server_alert",70]' \
	'["127.0.0.14","failed","client_alert",48]' \
	'["127.0.0.18","failed","not_tls",null]' \
	'["127.0.0.19","established",null,null]' \
	'["127.0.0.20","established",null,null]' \
	'["::1","failed","server_alert",70]' '["::1","established",null,null]'; do
	grep -qF "$want" <<<"$got" || missing="${missing-} $want"
done
if [ -z "${missing-}" ]; then
	ok "libpcap records: the expected outcomes"
else
	ko "libpcap records missing:$missing; got: $got"
fi
if ! grep -q '"capture":"[gt]' "$tmp/pcap.out" &&
	[ "$(grep -c '"capture":"complete"' "$tmp/pcap.out")" = "$n" ]; then
	ok "every libpcap record's capture is complete"
else
	ko "libpcap records with capture not complete: $(grep -v '"capture":"complete"' "$tmp/pcap.out" | grep connection | head -n 3)"
fi
if ! grep -q '"port":18484' "$tmp/pcap.out" "$tmp/bpf.out" &&
	! grep -q "bytes missing\|retransmitted bytes that differed" "$tmp/pcap.err"; then
	ok "a connection older than the capture is ignored; no gaps or conflicts"
else
	ko "older connection or stream losses: $(grep -A20 'connections' "$tmp/pcap.err")"
fi
# Each loopback packet is read once: the outgoing copies the kernel also
# hands a packet socket on "any" are left out (by libpcap, or by tlswatch
# with an older libpcap), so no segment is processed twice.
copies=$(sed -n 's/^outgoing copies of loopback packets left out: //p' "$tmp/pcap.err")
read_n=$(sed -n 's/^packets read: //p' "$tmp/pcap.err")
tcp_n=$(sed -n 's/^tcp segments: //p' "$tmp/pcap.err")
if [ -n "$read_n" ] && [ "$read_n" = $((tcp_n + ${copies:-0})) ]; then
	ok "loopback packets read once ($read_n read, ${copies:-0} outgoing copies left out)"
else
	ko "loopback: ${read_n:-?} read, ${tcp_n:-?} TCP segments, ${copies:-0} copies"
fi

# Fallback: a user with CAP_NET_RAW alone cannot load BPF programs.
# The binary goes where that user can run it.
mkdir "$tmp/bin"
cp "$bin" "$tmp/bin/tlswatch"
chmod 755 "$tmp" "$tmp/bin"
if start fallback setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_raw --ambient-caps=+net_raw \
	"$tmp/bin/tlswatch" -p $ports --json -a; then
	osc 127.0.0.31 18481 -tls1_3
	sleep 1.5
	stop fallback
	rc=$?
	line=$(grep -c "^tlswatch: BPF capture unavailable (.*): capturing with libpcap instead$" \
		"$tmp/fallback.err")
	rec=$(jq -r 'select(.client.ip == "127.0.0.31") | [.outcome, .alert.code] | tostring' \
		"$tmp/fallback.out")
	if [ $rc -eq 0 ] && [ "$line" = 1 ] &&
		[ "$(sed -n 1p "$tmp/fallback.err" | grep -c "Operation not permitted")" = 1 ] &&
		[ "$rec" = '["failed",70]' ]; then
		ok "fallback: $(head -n 1 "$tmp/fallback.err")"
	else
		ko "fallback: exit $rc, record '$rec': $(head -n 3 "$tmp/fallback.err")"
	fi
else
	ko "fallback did not start: $(cat "$tmp/fallback.err")"
fi

# No CAP_NET_RAW either: one line, exit 1, naming both methods.
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	"$tmp/bin/tlswatch" -p 18489 -d 1 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
	grep -q "(run as root.*libpcap.*CAP_NET_RAW)$" <<<"$out"; then
	ok "unprivileged: $out"
else
	ko "unprivileged: exit $rc: $out"
fi
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	"$tmp/bin/tlswatch" --capture pcap -p 18489 -d 1 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
	grep -q "^tlswatch: libpcap .*CAP_NET_RAW" <<<"$out"; then
	ok "unprivileged --capture pcap: $out"
else
	ko "unprivileged --capture pcap: exit $rc: $out"
fi
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_raw --ambient-caps=+net_raw \
	"$tmp/bin/tlswatch" --capture bpf -p 18489 -d 1 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && ! grep -q libpcap <<<"$out"; then
	ok "--capture bpf does not fall back: $out"
else
	ko "--capture bpf: exit $rc: $out"
fi

# Losses: a capture stopped while 400 MB cross a watched port overflows
# the kernel's capture buffer; the drops must show in the summary.
if start drops "$bin" --capture pcap -p 18488; then
	kill -STOP "$pid_drops"
	timeout 30 python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18488))
s.listen(1)
c = socket.create_connection(("127.0.0.1", 18488))
a, _ = s.accept()
buf = b"\0" * (1 << 20)
got = 0
for _ in range(400):
    c.sendall(buf)
    while got < 1 << 20:
        got += len(a.recv(1 << 20))
    got -= 1 << 20
c.close()
a.close()
'
	kill -CONT "$pid_drops"
	sleep 0.5
	stop drops
	rc=$?
	d=$(sed -n 's/^packets dropped by the kernel: capture buffer full: //p' \
		"$tmp/drops.err")
	if [ $rc -eq 0 ] && [ "${d:-0}" -gt 0 ]; then
		ok "kernel drops shown: packets dropped by the kernel: capture buffer full: $d"
	else
		ko "kernel drops not shown (exit $rc): $(cat "$tmp/drops.err")"
	fi
else
	ko "drops instance did not start: $(cat "$tmp/drops.err")"
fi

echo "live-pcap: $pass passed, $fail failed"
[ $fail -eq 0 ]
