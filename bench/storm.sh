#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Failure storm: how many failed handshakes per second can tlswatch follow
# live, and what happens above that? bench/alertserver answers every
# ClientHello with a fatal alert; bench/loadgen opens connections at a set
# rate from many 127.x.y.z addresses, sends a real ClientHello, reads the
# alert and resets. For each rate of a ladder, tlswatch --json (attached
# live) watches the port while the load runs, and its report is compared
# with what loadgen saw answered:
#   reported  `failed` connection records
#   counted   connections tlswatch knows it could not decide (outcome
#             unknown or incomplete) and events it counted as lost (ring
#             buffer full, flow tables full, evicted, ...)
#   missing   answered connections neither reported nor covered by a
#             count: must be 0 (never silent)
# with tlswatch's CPU (% of one core, over the load's seconds) and peak
# RSS. A run of the same load without tlswatch, at the start and at the
# end, shows what loadgen, server and kernel take on their own.
#
# Needs root (live BPF), jq, a C compiler. Environment: RATES (the ladder,
# connections/s; 0 is as fast as loadgen can), SECS (10 per rate), PORT
# (18600), LOADGEN_THREADS (1), SERVER_THREADS (1), TLSWATCH_ARGS (more
# options), TLSWATCH (the binary, ./tlswatch), TLSWATCH_PREFIX (a command tlswatch runs under: "nice -n 19"
# starves it, to see what happens above its knee), BENCH_DIR
# (${TMPDIR:-/tmp}/tlswatch-storm).
set -eu

cd "$(dirname "$0")/.."
RATES=${RATES:-2000 5000 10000 15000 20000 30000 50000 70000 0}
SECS=${SECS:-10}
PORT=${PORT:-18600}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-1}
TLSWATCH_ARGS=${TLSWATCH_ARGS:-}
TLSWATCH_PREFIX=${TLSWATCH_PREFIX:-}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tlswatch-storm}
CC=${CC:-cc}
HZ=$(getconf CLK_TCK)

die() {
	echo "storm.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (live BPF capture)"
command -v jq >/dev/null || die "needs jq"
mkdir -p "$DIR" build/bench
TLSWATCH=${TLSWATCH:-./tlswatch}
[ -x "$TLSWATCH" ] || make --no-print-directory tlswatch
# A copy, so that a rebuild in the tree during the runs changes nothing.
cp "$TLSWATCH" "$DIR/tlswatch"
for b in alertserver loadgen; do
	if [ ! -x "build/bench/$b" ] || [ "bench/$b.c" -nt "build/bench/$b" ] ||
	   [ bench/captured.h -nt "build/bench/$b" ]; then
		$CC -O2 -Wall -Wextra -Werror -std=gnu11 -o "build/bench/$b" \
			"bench/$b.c" -lpthread
	fi
done

server=""
tw=""
cleanup() {
	[ -n "$tw" ] && kill "$tw" 2>/dev/null
	[ -n "$server" ] && kill "$server" 2>/dev/null
	wait 2>/dev/null || true
}
trap cleanup EXIT

build/bench/alertserver -t "$SERVER_THREADS" "$PORT" &
server=$!
sleep 0.3
kill -0 "$server" 2>/dev/null || die "alertserver did not start on port $PORT"

# ticks PID: user + system CPU ticks of a process.
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# field LINE KEY: a key=value of loadgen's line.
field() {
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

baseline() {
	local line
	line=$(build/bench/loadgen -t "$LOADGEN_THREADS" -r 0 -d "$SECS" "$PORT")
	echo "$(field "$line" rate)"
}

# failed_lines: connection records with outcome failed so far.
failed_lines() {
	grep -c '"event":"connection".*"outcome":"failed"' "$DIR/out.json" || true
}

echo "kernel $(uname -r), $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "tlswatch $(sha256sum "$DIR/tlswatch" | cut -c1-12)${TLSWATCH_PREFIX:+ under $TLSWATCH_PREFIX}, $SECS s per rate, port $PORT, loadgen threads $LOADGEN_THREADS, server threads $SERVER_THREADS"
base0=$(baseline)
echo "baseline without tlswatch: $base0 connections/s (loadgen as fast as it can)"
echo
printf '%8s %8s %9s %9s %8s %8s %8s %7s %8s %6s %7s\n' offered achieved \
	answered reported unknown lost missing "cpu%" us/conn "rss" reports
for rate in $RATES; do
	: > "$DIR/out.json"
	# shellcheck disable=SC2086
	$TLSWATCH_PREFIX "$DIR/tlswatch" --json -p "$PORT" --interval 1 $TLSWATCH_ARGS \
		> "$DIR/out.json" 2> "$DIR/err.txt" &
	tw=$!
	for _ in $(seq 100); do
		grep -q '^tlswatch: watching' "$DIR/err.txt" && break
		sleep 0.1
	done
	grep -q '^tlswatch: watching' "$DIR/err.txt" ||
		die "tlswatch did not start: $(cat "$DIR/err.txt")"
	c0=$(ticks "$tw")
	line=$(build/bench/loadgen -t "$LOADGEN_THREADS" -r "$rate" -d "$SECS" "$PORT")
	# Until the records stop coming (what is still in the ring buffer
	# is read), at most 10 s.
	prev=-1
	for _ in $(seq 20); do
		now=$(failed_lines)
		[ "$now" = "$prev" ] && break
		prev=$now
		sleep 0.5
	done
	c1=$(ticks "$tw")
	rss=$(awk '/^VmHWM/ { printf "%.0fM", $2 / 1024 }' "/proc/$tw/status")
	kill -INT "$tw"
	wait "$tw" || die "tlswatch exited with $? at $rate/s: $(tail -3 "$DIR/err.txt")"
	tw=""
	cp "$DIR/out.json" "$DIR/out-$rate.json"
	cp "$DIR/err.txt" "$DIR/err-$rate.txt"
	answered=$(field "$line" completed)
	achieved=$(field "$line" rate)
	reported=$(failed_lines)
	final=$(grep '"event":"summary".*"final":true' "$DIR/out.json" | tail -1)
	[ -n "$final" ] || die "no final summary at $rate/s"
	unknown=$(echo "$final" | jq '.outcomes.unknown + .outcomes.incomplete')
	lost=$(echo "$final" | jq '[.losses[]] | add // 0')
	# Summaries while the storm ran: reporting goes on.
	reports=$(grep -c '"event":"summary".*"final":false' "$DIR/out.json" || true)
	missing=$((answered - reported - unknown - lost))
	[ "$missing" -lt 0 ] && missing=0
	cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v s="$SECS" \
		'BEGIN { printf "%.1f", (b - a) * 100 / hz / s }')
	per=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v n="$answered" \
		'BEGIN { printf "%.1f", n ? (b - a) * 1e6 / hz / n : 0 }')
	printf '%8s %8s %9s %9s %8s %8s %8s %7s %8s %6s %7s\n' \
		"$([ "$rate" = 0 ] && echo max || echo "$rate")" "$achieved" \
		"$answered" "$reported" "$unknown" "$lost" "$missing" "$cpu" \
		"$per" "$rss" "$reports"
	if [ "$lost" != 0 ]; then
		echo "         losses: $(echo "$final" | jq -c .losses)"
	fi
done
echo
base1=$(baseline)
echo "baseline without tlswatch, again: $base1 connections/s"
echo "columns: offered and achieved connections/s; answered (loadgen got the alert);"
echo "reported (failed records); unknown (outcome unknown or incomplete); lost (events"
echo "tlswatch counted as lost); missing = answered - reported - unknown - lost, floored"
echo "at 0 (never silent: must be 0); cpu% of one core over the load's seconds; us/conn"
echo "of tlswatch CPU per answered connection; rss = VmHWM; reports = interval summaries"
echo "written during the run. Outputs in $DIR."
