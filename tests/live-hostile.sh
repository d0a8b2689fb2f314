#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Hostile traffic and faults, live (issue #7, items 3 and 4): tlswatch
# attached (--json) to a real nginx while a SYN flood, tens of thousands
# of idle and stalled connections, byte-a-second clients, malformed
# records and hellos, garbage and a retransmission with different bytes
# arrive; then kill -9, two instances at once, nginx restarted, a full
# ring buffer. Asserts that genuine failures are still reported, memory
# stays within the configured bounds, every loss is counted, and nothing
# is left attached. Prints "PASS live-hostile NAME" or
# "FAIL live-hostile NAME: why". Needs root. Ports 18700-18739 only.
# HOSTILE_IDLE (default 70000) idle connections, HOSTILE_SYNS (50000).
set -u
cd "$(dirname "$0")/.." || exit 1
bin=./tlswatch
here=tests/hostile
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3	# Debian's, with its modules

if [ "$(id -u)" != 0 ]; then
	echo "SKIP live-hostile: !!! NOT RUN: live BPF tests need root (sudo make test) !!!"
	exit 0
fi

P_MAIN=18700	# nginx TLS 1.2/1.3: the flood's target
P_SECOND=18701	# nginx TLS 1.2/1.3: a second watched port
P_RING=18702	# nginx: the ring-buffer instance's port
P_KILL=18703	# nginx: the kill -9 instance's port
M_MAIN=18720	# --metrics of the main instance
M_RING=18721	# --metrics of the ring-buffer instance

IDLE=${HOSTILE_IDLE:-70000}
SYNS=${HOSTILE_SYNS:-50000}

tmp=$(mktemp -d /tmp/tlswatch-live-hostile.XXXXXX)
pids=()		# servers and helpers, stopped by cleanup
tw=		# the main tlswatch
suite=live-hostile
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Other tlswatch instances are in pids too; cleanup stops them all.

for p in $(seq 18700 18703) $M_MAIN $M_RING; do
	if [ -n "$(ss -Hltn "( sport = :$p )")" ]; then
		ko setup "port $p already in use"
		exit 1
	fi
done

cc -O2 -Wall -o "$tmp/synflood" $here/synflood.c ||
	{ ko setup "cannot build $here/synflood.c"; exit 1; }

(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=app.test \
		-keyout srv.key -out srv.pem
) >/dev/null 2>&1 || { ko setup "openssl could not make a certificate"; exit 1; }

# ---- nginx: several workers, since each may hold only as many sockets
# as RLIMIT_NOFILE allows (no CAP_SYS_RESOURCE in some containers).
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=100000
[ "$nofile" -gt 100000 ] && nofile=100000	# nginx allocates per worker_connections
if [ "$nofile" -lt 4096 ]; then
	ko setup "RLIMIT_NOFILE hard limit $nofile: too low for tens of thousands of connections"
	exit 1
fi
workers=$(( (IDLE + 20000) / (nofile - 1000) + 1 ))
if [ "$workers" -gt 8 ]; then
	workers=8
	IDLE=$(( 8 * (nofile - 1000) - 20000 ))
	echo "live-hostile: RLIMIT_NOFILE $nofile: $IDLE idle connections only"
fi
wconns=$(( nofile - 500 ))
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGX
worker_processes $workers;
worker_rlimit_nofile $nofile;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log crit;
events { worker_connections $wconns; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  default_type text/plain;
  ssl_certificate $tmp/srv.pem;
  ssl_certificate_key $tmp/srv.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_tickets off;
  server {
    listen 127.0.0.1:$P_MAIN ssl reuseport backlog=4096;
    listen 127.0.0.1:$P_SECOND ssl;
    listen 127.0.0.1:$P_RING ssl;
    listen 127.0.0.1:$P_KILL ssl;
    location / { return 200 "ok\n"; }
  }
}
NGX
nginx_pid=
nginx_start() {
	nginx -e "$tmp/nginx-error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
		-g 'daemon off; master_process on;' </dev/null >>"$tmp/nginx.out" 2>&1 &
	nginx_pid=$!
	pids+=("$nginx_pid")
	for p in $P_MAIN $P_SECOND $P_RING $P_KILL; do
		for _ in $(seq 100); do
			[ -n "$(ss -Hltn "( sport = :$p )")" ] && break
			sleep 0.1
		done
		if [ -z "$(ss -Hltn "( sport = :$p )")" ]; then
			ko setup "nginx does not listen on $p: $(tail -n 5 "$tmp/nginx-error.log" "$tmp/nginx.out")"
			exit 1
		fi
	done
}
nginx_stop() {
	kill -TERM "$nginx_pid"
	wait "$nginx_pid" 2>/dev/null
	for _ in $(seq 50); do
		[ -z "$(ss -Hltn "( sport = :$P_MAIN )")" ] && return 0
		sleep 0.1
	done
}

# ---- tlswatch instances: twstart NAME ARGS... sets twpid.
twpid=
twstart() {
	local name=$1
	shift
	"$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	twpid=$!
	pids+=("$twpid")
	for _ in $(seq 100); do
		grep -q "^tlswatch: watching" "$tmp/$name.err" && return 0
		kill -0 $twpid 2>/dev/null || break
		sleep 0.1
	done
	# In CI (root) BPF must load: a tlswatch that does not attach fails.
	ko "$name" "tlswatch did not attach: $(head -c 400 "$tmp/$name.err")"
	return 1
}
twstop() {	# twstop PID: SIGINT, wait; the exit status
	kill -INT "$1" 2>/dev/null
	wait "$1"
}
alive() { kill -0 "$1" 2>/dev/null; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
metric() {	# metric PORT NAME{LABELS-REGEX}: the sum of matching samples
	curl -s --max-time 3 "http://127.0.0.1:$1/metrics" |
		awk -v re="^$2" '$0 ~ re {s += $NF} END {printf "%d\n", s}'
}
# One TSV line per connection record: ip outcome reason detail sni capture
table() {
	jq -r 'select(.event=="connection") | [.client.ip, .outcome,
		(.reason // "-"), (.detail // "-"), (.client_hello.sni // "-"),
		.capture] | @tsv' "$tmp/$1.out"
}
# Every stdout line parses as one JSON object: the count of lines that do not.
bad_json() {
	$py -c '
import json, sys
bad = 0
for line in open(sys.argv[1], "rb"):
    try:
        if not isinstance(json.loads(line), dict):
            bad += 1
    except ValueError:
        bad += 1
print(bad)' "$tmp/$1.out"
}
fail_client() {	# fail_client KIND SRC PORT
	timeout 10 $py $here/clients.py fail "$@" 2>>"$tmp/clients.err"
}

ONLY=${HOSTILE_ONLY:-}
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# ====================================================================
# The main instance starts before nginx: a server that starts after
# tlswatch changes nothing.
twstart main --json -p $P_MAIN,$P_SECOND --metrics 127.0.0.1:$M_MAIN \
	--handshake-timeout 30 --interval 2 || exit 1
tw=$twpid
main=$twpid
nginx_start
sleep 0.5
base_rss=$(rss_kib $main)
fail_client tls10 127.0.0.2 $P_MAIN
sleep 1.5
t=$(table main)
if grep -qP '^127\.0\.0\.2\tfailed\tserver_alert' <<<"$t"; then
	ok "server-after: nginx started after tlswatch, its failures are reported"
else
	ko server-after "no server_alert record for 127.0.0.2: $(head -c 400 <<<"$t")"
fi

# ====================================================================
# SYN flood and tens of thousands of idle or stalled connections, with
# genuine failures arriving meanwhile. The main instance's handshake
# timeout (30 s) outlasts the ramp, so the idle connections overflow its
# table of 65536 (pushed out: counted, reported unknown).
if want flood; then
	echo 0 >"$tmp/rss.max"
	touch "$tmp/rss.on"
	(
		m=0
		while [ -e "$tmp/rss.on" ]; do
			r=$(rss_kib $main)
			[ "${r:-0}" -gt "$m" ] && m=$r && echo $m >"$tmp/rss.max"
			sleep 0.2
		done
	) &
	pids+=($!)
	"$tmp/synflood" 127.0.0.1 $P_MAIN "$SYNS" 6 200 >"$tmp/syn.out" 2>&1 &
	synpid=$!
	pids+=("$synpid")
	t_start=$SECONDS
	per=$((nofile - 300))
	nhold=$(( (IDLE + per - 1) / per ))
	mkfifo "$tmp/hold.fifo"
	hpids=()
	left=$IDLE
	for i in $(seq 0 $((nhold - 1))); do
		n=$(( left < per ? left : per ))
		left=$((left - n))
		$py $here/clients.py hold $n $((100 + i)) $P_MAIN 10 \
			<"$tmp/hold.fifo" >"$tmp/hold.$i.out" 2>&1 &
		hpids+=($!)
		pids+=($!)
	done
	exec 9>"$tmp/hold.fifo"
	# Genuine failures during the flood, from addresses of their own.
	sleep 2
	for i in $(seq 1 10); do
		fail_client http 127.0.1.$i $P_MAIN
		fail_client tls10 127.0.1.$((i + 10)) $P_MAIN
	done
	for i in $(seq 0 $((nhold - 1))); do
		for _ in $(seq 600); do
			grep -q held "$tmp/hold.$i.out" && break
			sleep 0.1
		done
	done
	wait $synpid
	t_ramp=$((SECONDS - t_start))
	held=$(cat "$tmp"/hold.*.out | awk '/^held/ {s += $2} END {print s + 0}')
	refused=$(cat "$tmp"/hold.*.out | awk '/^held/ {s += $4} END {print s + 0}')
	syns=$(cat "$tmp/syn.out")
	# More genuine failures while every connection is held.
	for i in $(seq 21 30); do
		fail_client http 127.0.1.$i $P_MAIN
	done
	sleep 1.5
	peak=$(metric $M_MAIN 'tlswatch_connections_in_flight')
	exec 9>&-
	for p in "${hpids[@]}"; do wait "$p"; done
	sleep 3
	rm -f "$tmp/rss.on"
	sleep 0.3
	max_rss=$(cat "$tmp/rss.max")
	curl -s --max-time 5 "http://127.0.0.1:$M_MAIN/metrics" >"$tmp/flood.metrics"
	mget() { awk -v re="^$1" '$0 ~ re {s += $NF} END {printf "%d\n", s}' "$tmp/flood.metrics"; }
	seen=$(mget 'tlswatch_handshakes_total.port="18700"')
	inflight=$(mget tlswatch_connections_in_flight)
	rb=$(mget 'tlswatch_events_lost_total.cause="ringbuf_full"')
	kf=$(mget 'tlswatch_events_lost_total.cause="kernel_flows_full"')
	ev=$(mget 'tlswatch_events_lost_total.cause="flows_evicted"')
	echo "flood: $syns SYNs from 127.200/16, $held idle connections held ($refused refused, 1 in 10 stalled after 2 header bytes), ramp ${t_ramp}s; tlswatch: in flight while held $peak, connections seen $seen, in flight after $inflight, pushed out $ev, ring buffer full $rb, kernel table full $kf; RSS $base_rss KiB at start, at most $max_rss KiB"

	t=$(table main)
	why=
	for i in $(seq 1 30); do
		want_r=not_tls
		[ "$i" -gt 10 ] && [ "$i" -le 20 ] && want_r=server_alert
		n=$(grep -cP "^127\\.0\\.1\\.$i\\tfailed\\t$want_r\\t" <<<"$t")
		[ "$n" = 1 ] || why+=" 127.0.1.$i: $n $want_r records ($(grep -P "^127\\.0\\.1\\.$i\\t" <<<"$t" | tr '\t\n' ' ;'));"
	done
	if [ -z "$why" ]; then ok "flood-genuine: 30 genuine failures during the flood reported (20 not_tls, 10 server_alert)"
	else ko flood-genuine "$why (ring buffer full: $rb)"; fi

	if alive $main; then ok "flood-alive: tlswatch still running after $syns SYNs and $held idle connections"
	else ko flood-alive "tlswatch died: $(tail -n 3 "$tmp/main.err")"; fi

	# The bound from the configured tables: 65536 connections followed
	# at about 8 KiB each at most (README), the 8 MiB ring buffer, and
	# what tlswatch held at start.
	bound=$((base_rss + 32768 + 65536 * 8))
	if [ "$max_rss" -gt 0 ] && [ "$max_rss" -le "$bound" ]; then
		ok "flood-memory: RSS at most $max_rss KiB, bound $bound KiB (start $base_rss + ring 32768 + 65536 flows x 8 KiB)"
	else
		ko flood-memory "RSS reached $max_rss KiB, bound $bound KiB"
	fi

	# Every connection opened is seen (reported or still followed), or
	# accounted for by a counted loss; none come from the SYNs; the
	# table never holds more than its 65536.
	made=$((held + 30))
	unknown=$(grep -cP '^127\.1\d\d\.\d+\.\d+\tunknown\t' <<<"$t")
	why=
	[ $((seen + inflight + rb + kf)) -ge "$made" ] ||
		why+=" $made connections made, $seen seen + $inflight in flight, losses only $rb + $kf;"
	[ "$seen" -le $((made + 2 + 10)) ] || why+=" $seen connections seen for $made made: the SYNs made some?;"
	[ "$peak" -le 65536 ] || why+=" $peak in flight, above the table's 65536;"
	[ "$unknown" -ge "$ev" ] || why+=" $ev pushed out but only $unknown unknown records;"
	[ "$held" -le 65536 ] || [ "$peak" -lt 65535 ] || [ "$ev" -gt 0 ] ||
		why+=" the table was full with $held held yet nothing was pushed out;"
	# The loop around the ring buffer kept turning: --interval 2 gave
	# its summaries all along (a poll that never returned under a
	# steady stream of events held them, and signals, for seconds).
	gap=$($py -c '
import json, sys
from datetime import datetime
ts = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "summary" and not e.get("final"):
        ts.append(datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp())
print("%.1f %d" % (max([b - a for a, b in zip(ts, ts[1:])] or [99]), len(ts)))' "$tmp/main.out")
	if [ "${gap%.*}" -le 5 ]; then ok "flood-responsive: ${gap#* } interval summaries, at most ${gap% *} s apart (--interval 2)"
	else ko flood-responsive "interval summaries up to ${gap% *} s apart with --interval 2 (${gap#* } of them)"; fi
	if [ -z "$why" ]; then ok "flood-accounting: $made made, $seen seen, $ev pushed out (all reported unknown), losses counted: ring buffer $rb, kernel table $kf"
	else ko flood-accounting "$why"; fi
fi

# ====================================================================
# Byte-a-second clients (in the background, 15 s), watched also by an
# instance with an 8 s handshake timeout; meanwhile malformed input and
# a retransmission with different bytes.
if want slow; then
	twstart slow8 --json -p $P_MAIN --handshake-timeout 8 || true
	slow8=$twpid
	spids=()
	for i in $(seq 1 12); do
		kind=hello
		[ "$i" -gt 6 ] && kind=ssh
		timeout 25 $py $here/clients.py slow $kind 127.0.2.$i $P_MAIN 15 \
			2>>"$tmp/clients.err" &
		spids+=($!)
	done
fi

if want bad; then
	timeout 20 $py $here/clients.py bad $P_MAIN 127.0.5 >"$tmp/bad.cases" 2>>"$tmp/clients.err"
	sleep 1.5
	t=$(table main)
	why=
	n=0
	while read -r name ip outcomes want_sni; do
		n=$((n + 1))
		got=$(grep -P "^${ip//./\\.}\\t" <<<"$t")
		r=$(cut -f2- <<<"$got" | tr '\t\n' ' ;')
		if [ "$(grep -c . <<<"$got")" != 1 ]; then
			why+=" $name ($ip): $(grep -c . <<<"$got") records: $r;"
			continue
		fi
		IFS=$'\t' read -r _ o reason _ sni capture <<<"$got"
		[[ ",$outcomes," == *",$o:$reason,"* ]] || why+=" $name ($ip): $r, want $outcomes;"
		[ "$o" != unknown ] || [ "$capture" = truncated ] ||
			why+=" $name ($ip): unknown but capture $capture, want truncated;"
		[ "$sni" = "$want_sni" ] || why+=" $name ($ip): SNI $sni, want $want_sni;"
		echo "  $name: $o $reason capture $capture"
	done <"$tmp/bad.cases"
	if [ -z "$why" ] && [ "$n" -gt 10 ]; then ok "malformed: $n malformed, oversized and garbage inputs each reported as expected"
	else ko malformed "$why"; fi
	if alive $main; then ok "malformed-alive: tlswatch still running"
	else ko malformed-alive "tlswatch died: $(tail -n 3 "$tmp/main.err")"; fi
fi

# A retransmission with different bytes, live: the first 120 bytes of a
# ClientHello (SNI first-copy.test), then the same range again from a
# raw socket with another SNI. The server's TCP keeps the first copy;
# tlswatch must too, and count the bytes that differed.
if want retrans; then
	twstart retrans --json -p $P_MAIN || true
	rpid=$twpid
	timeout 10 $py $here/clients.py retrans 127.0.6.1 $P_MAIN 2>>"$tmp/clients.err" ||
		ko retrans "the client failed: $(tail -n 3 "$tmp/clients.err")"
	sleep 1.5
	twstop $rpid
	why=
	for inst in main retrans; do
		got=$(table $inst | grep -P '^127\.0\.6\.1\t' | cut -f2,3,5,6 | tr '\t' ' ')
		[ "$got" = "failed client_closed first-copy.test complete" ] ||
			why+=" $inst: '$got', want 'failed client_closed first-copy.test complete';"
	done
	conflicts=$(jq -r 'select(.event=="summary") | .losses["retransmitted bytes that differed (first copy kept)"] // 0' \
		"$tmp/retrans.out" | tail -n 1)
	[ "${conflicts:-0}" -gt 0 ] || why+=" the summary counts no retransmitted bytes that differed;"
	if [ -z "$why" ]; then ok "retrans-live: the first copy kept (SNI first-copy.test), $conflicts differing bytes counted in the summary"
	else ko retrans-live "$why $(grep -h 127.0.6.1 "$tmp/retrans.out" | head -c 600)"; fi
fi

if want slow; then
	for p in "${spids[@]}"; do wait "$p"; done
	sleep 1.5
	why=
	for inst in main slow8; do
		t=$(table $inst)
		for i in $(seq 1 12); do
			got=$(grep -P "^127\\.0\\.2\\.$i\\t" <<<"$t" | cut -f2-4 | tr '\t' ' ')
			if [ "$i" -le 6 ]; then
				want_o="failed client_closed -"
				[ $inst = slow8 ] && want_o="failed timeout -"
			else
				want_o="failed not_tls ssh"
			fi
			[ "$got" = "$want_o" ] || why+=" $inst 127.0.2.$i: '$got', want '$want_o';"
		done
	done
	alive $slow8 || why+=" the 8 s instance died;"
	if [ -z "$why" ]; then ok "slow: 12 byte-a-second clients: hellos cut at 15 s client_closed (timeout with --handshake-timeout 8), SSH banners not_tls ssh"
	else ko slow "$why"; fi
	twstop $slow8 >/dev/null 2>&1
fi

# ====================================================================
# Faults.
# Two more instances beside main: one on the same port, one on another.
if want two; then
	twstart twoA --json -p $P_MAIN || true
	twoA=$twpid
	twstart twoB --json -p $P_SECOND || true
	twoB=$twpid
	fail_client tls10 127.0.7.1 $P_MAIN
	fail_client http 127.0.7.2 $P_SECOND
	fail_client tls10 127.0.7.3 $P_SECOND
	fail_client http 127.0.7.4 $P_MAIN
	sleep 1.5
	why=
	for inst in main twoA twoB; do
		got=$(table $inst | grep -P '^127\.0\.7\.' | cut -f1-3 | sort | tr '\t\n' ' ;')
		case $inst in
		main) want_t="127.0.7.1 failed server_alert;127.0.7.2 failed not_tls;127.0.7.3 failed server_alert;127.0.7.4 failed not_tls;" ;;
		twoA) want_t="127.0.7.1 failed server_alert;127.0.7.4 failed not_tls;" ;;
		twoB) want_t="127.0.7.2 failed not_tls;127.0.7.3 failed server_alert;" ;;
		esac
		[ "$got" = "$want_t" ] || why+=" $inst: '$got', want '$want_t';"
	done
	if [ -z "$why" ]; then ok "two-instances: three at once (two on port $P_MAIN, one on $P_SECOND), each reports the failures on its ports"
	else ko two-instances "$why"; fi

	# nginx restarted while they run.
	nginx_stop
	timeout 5 $py -c 'import socket; s = socket.socket(); s.bind(("127.0.8.9", 0)); s.connect_ex(("127.0.0.1", '$P_MAIN'))'
	nginx_start
	fail_client tls10 127.0.8.1 $P_MAIN
	fail_client http 127.0.8.2 $P_SECOND
	sleep 1.5
	why=
	for inst in main twoA twoB; do
		got=$(table $inst | grep -P '^127\.0\.8\.' | cut -f1-3 | sort | tr '\t\n' ' ;')
		case $inst in
		main) want_t="127.0.8.1 failed server_alert;127.0.8.2 failed not_tls;" ;;
		twoA) want_t="127.0.8.1 failed server_alert;" ;;
		twoB) want_t="127.0.8.2 failed not_tls;" ;;
		esac
		[ "$got" = "$want_t" ] || why+=" $inst: '$got', want '$want_t';"
	done
	if [ -z "$why" ]; then ok "server-restart: nginx stopped and started again under three instances, failures still reported"
	else ko server-restart "$why"; fi
	for p in $twoA $twoB; do
		twstop $p || ko two-instances-exit "an instance exited with status $?"
	done
fi

# kill -9: no program, link or map of the instance is left.
if want kill; then
	twstart killme --json -p $P_KILL || true
	k=$twpid
	fail_client tls10 127.0.9.1 $P_KILL
	sleep 1
	ids() {	# ids PID KIND: the BPF objects of KIND (prog, link, map) PID holds
		for f in /proc/$1/fdinfo/*; do
			awk -v k="$2_id:" '$1 == k {print $2}' "$f" 2>/dev/null
		done | sort -un
	}
	progs=$(ids $k prog)
	links=$(ids $k link)
	maps=$(ids $k map)
	kill -9 $k
	wait $k 2>/dev/null
	left=
	for _ in $(seq 50); do
		left=
		for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && left+=" prog $id"; done
		for id in $links; do bpftool link show id "$id" >/dev/null 2>&1 && left+=" link $id"; done
		for id in $maps; do bpftool map show id "$id" >/dev/null 2>&1 && left+=" map $id"; done
		tree=$(bpftool cgroup tree 2>/dev/null)
		for id in $progs; do grep -qE "^\\s*$id\\s" <<<"$tree" && left+=" cgroup-attached $id"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	np=$(wc -w <<<"$progs")
	nl=$(wc -w <<<"$links")
	nm=$(wc -w <<<"$maps")
	if [ "$np" -lt 3 ] || [ "$nl" -lt 3 ]; then
		ko kill-9 "found only $np programs and $nl links held by tlswatch before kill -9"
	elif [ -n "$left" ]; then
		ko kill-9 "left after kill -9:$left"
	else
		ok "kill-9: its $np programs, $nl links and $nm maps are gone (bpftool prog/link/map show, cgroup tree)"
	fi
	grep -qP '^127\.0\.9\.1\tfailed\tserver_alert' <<<"$(table killme)" ||
		ko kill-9-reported "the killed instance had not reported 127.0.9.1"
fi

# A full ring buffer: the instance is stopped (SIGSTOP) while a burst of
# connections, each sending 4000 bytes, overflows its 32 MiB; then it
# runs again. The drop is counted (summary and metrics) and reporting
# goes on. With -a every connection it saw is reported: each burst
# connection sent 4000 bytes, so none may come out as no_data or timeout
# with a complete capture (whose close was lost with the rest: unknown).
if want ring; then
	twstart ring --json -a -p $P_RING --metrics 127.0.0.1:$M_RING \
		--handshake-timeout 2 || true
	rp=$twpid
	fail_client http 127.0.9.10 $P_RING
	sleep 1
	kill -STOP $rp
	timeout 30 $py $here/clients.py burst 5000 60 $P_RING 4000 >"$tmp/burst1.out" 2>&1 &
	b1=$!
	timeout 30 $py $here/clients.py burst 5000 61 $P_RING 4000 >"$tmp/burst2.out" 2>&1
	wait $b1
	kill -CONT $rp
	sleep 2
	fail_client tls10 127.0.9.11 $P_RING
	fail_client http 127.0.9.12 $P_RING
	sleep 3
	lost=$(metric $M_RING 'tlswatch_events_lost_total.cause="ringbuf_full"')
	twstop $rp
	burst=$(( $(cat "$tmp/burst1.out") + $(cat "$tmp/burst2.out") ))
	t=$(table ring)
	shown=$(jq -r 'select(.event=="summary" and .final) | .losses["events lost: ring buffer full"] // 0' "$tmp/ring.out")
	seen=$(grep -cP '^127\.6[01]\.' <<<"$t")
	unknown=$(grep -cP '^127\.6[01]\.\S+\tunknown' <<<"$t")
	wrong=$(grep -P '^127\.6[01]\.' <<<"$t" | grep -vP '\t(failed\tnot_tls\t\w+|unknown\t-\t-)\t' | cut -f2- | sort | uniq -c | tr '\t\n' ' ;')
	why=
	[ -z "$wrong" ] || why+=" burst connections reported otherwise than not_tls or unknown: $wrong;"
	[ "$lost" -gt 0 ] || why+=" no ringbuf_full loss in the metrics;"
	[ "$shown" = "$lost" ] || why+=" summary says $shown events lost to a full ring buffer, metrics $lost;"
	grep -q "events lost: ring buffer full: $lost" "$tmp/ring.err" || why+=" the text summary does not show the loss;"
	for ip in 127.0.9.10 127.0.9.11 127.0.9.12; do
		grep -qP "^${ip//./\\.}\\tfailed\\t" <<<"$t" || why+=" $ip not reported;"
	done
	[ "$seen" -lt "$burst" ] || [ "$lost" -gt 0 ] || why+=" all $burst burst connections seen yet losses claimed;"
	echo "ring: $burst connections of 4000 bytes while stopped; $lost events lost (ring buffer full), $seen of the connections reported ($unknown unknown)"
	if [ -z "$why" ]; then ok "ringbuf-full: $lost events lost while stopped, counted in metrics and summary; reporting goes on after"
	else ko ringbuf-full "$why"; fi
fi
# ====================================================================
# The main instance, through all of it: still reporting, then a clean
# stop with every loss in its final summary, and only valid JSON lines.
fail_client tls10 127.0.9.20 $P_MAIN
sleep 1.5
grep -qP '^127\.0\.9\.20\tfailed\tserver_alert' <<<"$(table main)" &&
	ok "main-reporting: the first instance still reports at the end" ||
	ko main-reporting "no record for 127.0.9.20"
lost_metrics=$(curl -s --max-time 5 "http://127.0.0.1:$M_MAIN/metrics" |
	awk '/^tlswatch_events_lost_total/ && $NF > 0 {print}')
twstop $main
rc=$?
tw=
s=$(jq -c 'select(.event=="summary" and .final)' "$tmp/main.out")
why=
[ "$rc" = 0 ] || why+=" exit status $rc;"
[ -n "$s" ] || why+=" no final summary;"
# Each loss the metrics show is in the summary, JSON and text.
while read -r line; do
	[ -n "$line" ] || continue
	cause=$(sed -E 's/.*cause="([^"]*)".*/\1/' <<<"$line")
	n=${line##* }
	case $cause in
	ringbuf_full) words="events lost: ring buffer full" ;;
	flows_evicted) words="connections pushed out of the flow table" ;;
	kernel_flows_full) words="connections not followed: kernel flow table full" ;;
	*) words= ;;
	esac
	[ -n "$words" ] || continue
	got=$(jq -r --arg w "$words" '.losses[$w] // 0' <<<"$s")
	[ "$got" -ge "$n" ] || why+=" $cause: $n in the metrics, $got in the summary;"
	grep -q "^$words: " "$tmp/main.err" || why+=" $cause not in the text summary;"
done <<<"$lost_metrics"
if [ -z "$why" ]; then ok "main-summary: exit 0, losses in the final summary: $(jq -c .losses <<<"$s")"
else ko main-summary "$why"; fi

why=
for f in "$tmp"/*.out; do
	name=$(basename "$f" .out)
	case $name in main|slow8|retrans|twoA|twoB|killme|ring) ;; *) continue ;; esac
	[ -s "$f" ] || continue
	b=$(bad_json "$name")
	[ "$b" = 0 ] || why+=" $name: $b lines that are not JSON objects;"
done
lines=$(cat "$tmp"/{main,slow8,retrans,twoA,twoB,killme,ring}.out 2>/dev/null | wc -l)
if [ -z "$why" ]; then ok "json: all $lines output lines of every instance are JSON objects"
else ko json "$why"; fi

# ---- debugging: HOSTILE_KEEP=DIR keeps the outputs
if [ -n "${HOSTILE_KEEP:-}" ]; then rm -rf "$HOSTILE_KEEP"; cp -r "$tmp" "$HOSTILE_KEEP"; fi

echo "live-hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
