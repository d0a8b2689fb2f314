#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# What watching costs the served work: a real nginx on loopback, loaded by
# wrk, with nothing attached, with tlswatch (live BPF), and with
# `tcpdump -w` on the TLS port, in interleaved rounds. Workloads:
#   handshake  new TLS connections, one small request each (Connection: close)
#   tlsbulk    a large file over long-lived TLS connections
#   plainbulk  the same over plain HTTP, on a port nobody watches
# Throughput is given as a ratio to `none` in the same round (mean and 95%
# confidence interval over the rounds, median and spread); CPU from cgroup
# v2 cpu.stat (workload and tool each in a cgroup of their own), and the
# tool's work in the kernel from perf's samples of the host (see
# perf_ns), with kernel.bpf_stats_enabled off as in production. PERF=0
# (or no perf): the BPF programs' run_time_ns instead, with the
# statistics on (restored at exit), and tcpdump's tap not counted.
# Root. Settings (environment): ROUNDS (10), SECS (5 per run), QUICK=1
# (3 rounds of 2 s), WORKLOADS, MODES, CONNS_HS (8), CONNS_BULK (4),
# KEY (ec: the server's key ECDSA P-256; rsa: RSA 2048), TLS13 (1: nginx
# offers TLS 1.3 too, and wrk takes it; 0: TLS 1.2, nginx 1.22's last),
# TLSWATCH_B (another tlswatch binary, run as mode tlswatch_b: an A/B of
# two builds; add tlswatch_b to MODES), BENCH_DIR
# ($TMPDIR/tlswatch-overhead), PORT_TLS (18620), PORT_PLAIN (18621),
# PORT_IDLE (18629). Mode tlswatch_idle (add it to MODES) runs tlswatch
# watching PORT_IDLE, where nothing happens: its programs still run on
# every packet, so it is the floor of what watching costs, capture aside.
# Mode tlswatch_scoped (add it to MODES) runs tlswatch attached to
# nginx's own cgroup (--cgroup), as a service's operator can, instead of
# the root: wrk's sockets, in a cgroup beside it, then pass no program,
# as remote clients' would not.
# Mode floor (add it to MODES) runs bench/floor.c watching PORT_TLS:
# stateless hooks that send each ClientHello and the server's answer to a
# ring buffer, read and thrown away, the least any watcher on these hooks
# pays per handshake. Mode floor_state (add it to MODES) runs floor -s:
# the same, but following each connection as tlswatch does (state in its
# socket, its open and close as events, capture ended by the server's
# second segment; five events per TLS 1.2 handshake, as tlswatch's), so
# the least a watcher that keeps connections pays, decoding nothing.
# Mode empty (add it to MODES) runs bench/floor.c -e:
# programs that only return, on the same hooks: what the hooks alone
# cost, any watcher's share of plain bulk on a port it does not watch.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ ${QUICK:-0} == 1 ]]; then
	ROUNDS=${ROUNDS:-3}
	SECS=${SECS:-2}
fi
ROUNDS=${ROUNDS:-10}
SECS=${SECS:-5}
WORKLOADS=${WORKLOADS:-"handshake tlsbulk plainbulk"}
MODES=${MODES:-"none tlswatch tcpdump"}
CONNS_HS=${CONNS_HS:-8}
CONNS_BULK=${CONNS_BULK:-4}
PORT_TLS=${PORT_TLS:-18620}
PORT_PLAIN=${PORT_PLAIN:-18621}
PORT_IDLE=${PORT_IDLE:-18629}
KEY=${KEY:-ec}
TLS13=${TLS13:-0}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tlswatch-overhead}
PERF_HZ=${PERF_HZ:-999}
PERF=${PERF:-$(command -v perf >/dev/null && echo 1 || echo 0)}
[[ $PERF == 1 ]] || echo "overhead.sh: no perf (PERF=0 or not installed): BPF from run_time_ns, and tcpdump's tap in the kernel not counted" >&2
# cgroup v2, wherever it is mounted (/sys/fs/cgroup/unified on hybrid hosts).
CG2=${CG2:-$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)}

die() { echo "overhead.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (BPF, tcpdump, cgroups)"
for t in nginx wrk tcpdump bpftool jq openssl awk; do
	command -v "$t" >/dev/null || die "$t missing (tests/install-deps.sh test)"
done
[[ -f $CG2/cgroup.procs ]] || die "no cgroup v2 at $CG2 (set CG2)"
[[ -x ./tlswatch ]] || make -s tlswatch
[[ " $MODES " != *" floor"* && " $MODES " != *" empty "* ]] ||
	make -s -C bench floor

mkdir -p "$DIR/nginx" "$DIR/www"
rm -f "$DIR"/runs.tsv "$DIR"/cap.pcap*
# The binary is copied: a rebuild in the tree does not change it mid-run.
cp ./tlswatch "$DIR/tlswatch"
rm -f "$DIR/tlswatch_b"
[[ -z ${TLSWATCH_B:-} ]] || cp "$TLSWATCH_B" "$DIR/tlswatch_b"
rm -f "$DIR/floor"
[[ " $MODES " != *" floor"* && " $MODES " != *" empty "* ]] ||
	cp build/bench/floor "$DIR/floor"
CG=$CG2/tlswatch-overhead-$$
mkdir "$CG" "$CG/work" "$CG/work/server" "$CG/work/client" "$CG/tool"
STATS_WAS=$(cat /proc/sys/kernel/bpf_stats_enabled)
NGINX=
TOOL=

cleanup() {
	[[ -n ${PERF_PID:-} ]] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
	[[ -n $TOOL ]] && kill "$TOOL" 2>/dev/null && wait "$TOOL" 2>/dev/null
	[[ -n $NGINX ]] && kill "$NGINX" 2>/dev/null && wait "$NGINX" 2>/dev/null
	echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled
	# Anything left in the cgroups goes back to the root first.
	for c in "$CG/work/server" "$CG/work/client" "$CG/work" "$CG/tool"; do
		[[ -d $c ]] || continue
		while read -r p; do echo "$p" >"$CG2/cgroup.procs" 2>/dev/null || true; done <"$c/cgroup.procs"
		rmdir "$c" 2>/dev/null || true
	done
	rmdir "$CG" 2>/dev/null || true
	rm -f "$DIR"/cap.pcap*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ECDSA P-256: the usual choice today, and more handshakes per CPU second
# than RSA, so more weight on the watcher (KEY=rsa: RSA 2048).
case $KEY in
ec) keyargs=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
rsa) keyargs=(-newkey rsa:2048) ;;
*) die "KEY is ec or rsa" ;;
esac
openssl req -x509 "${keyargs[@]}" -nodes \
	-sha256 -days 2 -subj "/CN=tlswatch-bench.invalid" \
	-keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
# nginx 1.22's default protocols end at TLS 1.2; TLS13=1 adds TLS 1.3,
# which wrk then negotiates.
protocols=
[[ $TLS13 == 1 ]] && protocols="ssl_protocols TLSv1.2 TLSv1.3;"
echo ok >"$DIR/www/small.txt"
[[ -s $DIR/www/big.bin ]] || head -c $((16 << 20)) /dev/urandom >"$DIR/www/big.bin"
cat >"$DIR/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/body;
  proxy_temp_path $DIR/nginx/proxy;
  fastcgi_temp_path $DIR/nginx/fastcgi;
  uwsgi_temp_path $DIR/nginx/uwsgi;
  scgi_temp_path $DIR/nginx/scgi;
  default_type application/octet-stream;
  sendfile on;
  ssl_certificate $DIR/cert.pem;
  ssl_certificate_key $DIR/key.pem;
  ssl_session_tickets off;
  ssl_session_cache off;
  $protocols
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$PORT_TLS ssl; root $DIR/www; }
  server { listen 127.0.0.1:$PORT_PLAIN; root $DIR/www; }
}
EOF
# nginx and wrk in the workload's cgroup, from the start, each in one of
# its own (its CPU counts the two).
(echo "$BASHPID" >"$CG/work/server/cgroup.procs"
 exec nginx -e "$DIR/nginx-error.log" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" \
	-g 'daemon off; master_process on;' </dev/null >"$DIR/nginx.out" 2>&1) &
NGINX=$!
for _ in $(seq 50); do
	[[ -n $(ss -Hltn "( sport = :$PORT_TLS )") && -n $(ss -Hltn "( sport = :$PORT_PLAIN )") ]] && break
	kill -0 "$NGINX" 2>/dev/null || die "nginx died: $(cat "$DIR/nginx-error.log")"
	sleep 0.1
done
[[ $PERF == 1 ]] && echo 0 >/proc/sys/kernel/bpf_stats_enabled ||
	echo 1 >/proc/sys/kernel/bpf_stats_enabled

# Other watchers' cgroup programs run on every packet of this host too.
others=$(bpftool cgroup show "$CG2" 2>/dev/null | grep -c cgroup_ || true)
echo "cgroup programs already attached at $CG2: $others (they run in every mode)"

cpu_us() { awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"; }
cpu_ut() { awk '$1 == "user_usec" { u = $2 } $1 == "system_usec" { s = $2 } END { print u, s }' "$1/cpu.stat"; }

# Modes whose tool holds BPF programs, whose run time is counted.
bpf_mode() { [[ $1 == tlswatch* || $1 == floor* || $1 == empty ]]; }

# The tool's work in the kernel, from perf's samples of the whole host
# during the load (cpu-clock, PERF_HZ a second per CPU, call chains):
# for tcpdump its tap (the packet socket's filter and copy of every
# packet, run in the sender's context and charged to the workload), which
# has no run_time_ns; for the BPF tools the programs and the cgroup hooks
# that call them, which run_time_ns leaves out. Without the statistics:
# in this guest their two clock reads cost about what a short program
# does. perf runs in every mode, so that its own cost weighs on all of
# them alike.
perf_start() {
	[[ $PERF == 1 ]] || return 0
	perf record -q -a -g -e cpu-clock -F "$PERF_HZ" -o "$DIR/perf.data" \
		>/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.2
}
perf_stop() {
	[[ -n ${PERF_PID:-} ]] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
}
perf_ns() {  # mode: ns of CPU in the mode's kernel-side work
	[[ $PERF == 1 && -s $DIR/perf.data ]] || { echo 0; return; }
	local pat
	case $1 in
	tcpdump) pat='dev_queue_xmit_nit|tpacket_rcv|[^t]packet_rcv' ;;
	none) echo 0; return ;;
	*) pat='__cgroup_bpf_run_filter_(skb|sock_ops)|bpf_prog_[0-9a-f]+_(handle|floor|state|empty)_' ;;
	esac
	perf script -i "$DIR/perf.data" -F ip,sym 2>/dev/null |
		awk -v pat="$pat" -v hz="$PERF_HZ" 'BEGIN { RS = "" }
			$0 ~ pat { n++ } END { printf "%d\n", n * 1e9 / hz }'
}

# run_time_ns of the BPF programs the process holds (fdinfo names them).
bpf_ns() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u)
	[[ -n $ids ]] || { echo 0; return; }
	bpftool prog show --json | jq --argjson ids "[$(echo $ids | tr ' ' ,)]" \
		'[.[] | select(.id as $i | $ids | index($i)) | .run_time_ns // 0] | add // 0'
}

start_tool() {  # mode
	local err=$DIR/tool.err
	: >"$err"
	case $1 in
	none) TOOL=; return ;;
	tlswatch | tlswatch_b | tlswatch_idle | tlswatch_scoped)
		local bin=$DIR/tlswatch port=$PORT_TLS args=()
		[[ $1 == tlswatch_b ]] && bin=$DIR/tlswatch_b
		[[ $1 == tlswatch_idle ]] && port=$PORT_IDLE
		[[ $1 == tlswatch_scoped ]] && args=(--cgroup "$CG/work/server")
		[[ -x $bin ]] || die "mode $1 needs TLSWATCH_B"
		(echo "$BASHPID" >"$CG/tool/cgroup.procs"
		 exec "$bin" -p "$port" "${args[@]}" --json >/dev/null 2>"$err") &
		TOOL=$!
		ready="watching TCP port" ;;
	floor | floor_state)
		local s=()
		[[ $1 == floor_state ]] && s=(-s)
		(echo "$BASHPID" >"$CG/tool/cgroup.procs"
		 exec "$DIR/floor" "${s[@]}" -p "$PORT_TLS" >/dev/null 2>"$err") &
		TOOL=$!
		ready="watching TCP port" ;;
	empty)
		(echo "$BASHPID" >"$CG/tool/cgroup.procs"
		 exec "$DIR/floor" -e >/dev/null 2>"$err") &
		TOOL=$!
		ready="empty programs attached" ;;
	tcpdump)
		# A ring of two 100 MB files: the writes a user's capture makes,
		# without filling the disk during bulk runs.
		(echo "$BASHPID" >"$CG/tool/cgroup.procs"
		 exec tcpdump -i lo -Z root -C 100 -W 2 -w "$DIR/cap.pcap" port "$PORT_TLS" 2>"$err") &
		TOOL=$!
		ready="listening on" ;;
	esac
	for _ in $(seq 100); do
		grep -q "$ready" "$err" && return
		kill -0 "$TOOL" 2>/dev/null || die "$1 died: $(cat "$err")"
		sleep 0.05
	done
	die "$1 not ready: $(cat "$err")"
}

stop_tool() {
	[[ -n $TOOL ]] || return 0
	kill -INT "$TOOL" 2>/dev/null || true
	wait "$TOOL" 2>/dev/null || true
	TOOL=
	rm -f "$DIR"/cap.pcap*
}

# One run: prints "units bytes seconds" of wrk.
load() {  # workload
	local url args
	case $1 in
	handshake) url=https://127.0.0.1:$PORT_TLS/small.txt
		args=(-c "$CONNS_HS" -H "Connection: close") ;;
	tlsbulk) url=https://127.0.0.1:$PORT_TLS/big.bin; args=(-c "$CONNS_BULK") ;;
	plainbulk) url=http://127.0.0.1:$PORT_PLAIN/big.bin; args=(-c "$CONNS_BULK") ;;
	esac
	(echo "$BASHPID" >"$CG/work/client/cgroup.procs"
	 exec wrk -t1 -d"${SECS}s" "${args[@]}" "$url") >"$DIR/wrk.out" 2>&1
	awk '/requests in/ {
		n = $1; t = $4; sub(/s,$/, "", t); b = $5
		m = 1; if (b ~ /KB$/) m = 1024; else if (b ~ /MB$/) m = 1048576;
		else if (b ~ /GB$/) m = 1073741824; sub(/[KMG]?B$/, "", b)
		printf "%d %.0f %s\n", n, b * m, t }' "$DIR/wrk.out"
}

echo "overhead: rounds $ROUNDS, $SECS s per run, workloads: $WORKLOADS; modes: $MODES"
printf 'workload\tround\tmode\tunits\tbytes\tsecs\twork_us\ttool_user_us\ttool_sys_us\tbpf_ns\tbg_ns_per_s\tkern_perf_ns\n' >"$DIR/runs.tsv"
read -ra modes <<<"$MODES"
nm=${#modes[@]}
for w in $WORKLOADS; do
	# A warm-up run, not counted.
	load "$w" >/dev/null
	for ((r = 0; r < ROUNDS; r++)); do
		for ((i = 0; i < nm; i++)); do
			m=${modes[$(((i + r) % nm))]}
			start_tool "$m"
			# The hooks see every packet of the host: other traffic's
			# share of the BPF time, from a second before the load
			# (run_time_ns: without perf only).
			bg=0
			if [[ $PERF != 1 ]] && bpf_mode "$m"; then
				bg=$(bpf_ns "$TOOL")
				sleep 1
				bg=$(($(bpf_ns "$TOOL") - bg))
			fi
			w0=$(cpu_us "$CG/work")
			read -r u0 s0 < <(cpu_ut "$CG/tool")
			b0=0
			bpf_mode "$m" && b0=$(bpf_ns "$TOOL")
			perf_start
			read -r units bytes secs < <(load "$w")
			b1=0
			bpf_mode "$m" && b1=$(bpf_ns "$TOOL")
			w1=$(cpu_us "$CG/work")
			read -r u1 s1 < <(cpu_ut "$CG/tool")
			perf_stop
			kern=$(perf_ns "$m")
			rm -f "$DIR/perf.data"
			stop_tool
			printf '%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n' "$w" "$r" "$m" \
				"$units" "$bytes" "$secs" $((w1 - w0)) $((u1 - u0)) \
				$((s1 - s0)) $((b1 - b0)) "$bg" "$kern" >>"$DIR/runs.tsv"
			printf '  %-9s round %2d %-8s %8s units %6ss\n' "$w" "$r" "$m" "$units" "$secs"
		done
	done
done

echo
echo "reproduce: ROUNDS=$ROUNDS SECS=$SECS WORKLOADS='$WORKLOADS' MODES='$MODES' KEY=$KEY TLS13=$TLS13${TLSWATCH_B:+ TLSWATCH_B=$TLSWATCH_B} bench/overhead.sh"
echo "(per-run data: $DIR/runs.tsv)"
bench/overhead-report.awk -v base=none "$DIR/runs.tsv"
