#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Steady memory: does tlswatch's resident memory stay flat once warm,
# whatever the number of connections? Generates a capture of CONNS
# connections (bench/genpcap), reads it with `tlswatch -r` in each mode
# RUNS times while sampling VmRSS every 100 ms, and prints RSS against
# connections seen, and the growth per 100,000 connections after WARM.
#
# Progress is exact rather than estimated: the capture is fed through a
# FIFO, the bytes tlswatch has read (rchar in /proc/PID/io) are mapped to
# connections through genpcap's index (file offset after every 1000th
# SYN), and once everything is read tlswatch is held on the open FIFO for
# the last sample, before end-of-file makes it report what is still open.
#
# Environment: CONNS (1000000), RUNS (3), WARM (200000), MODES ("json text
# write"), STORM (300000: connections of the -w bound check, 0 skips
# it), BENCH_DIR (${TMPDIR:-/tmp}/tlswatch-bench, needs ~1.2 GB per
# million connections), LIMIT_MIB (1: the growth allowed per 100k),
# TLSWATCH_ARGS (more tlswatch options, e.g. "--handshake-timeout 2").
set -eu

cd "$(dirname "$0")/.."
CONNS=${CONNS:-1000000}
RUNS=${RUNS:-3}
WARM=${WARM:-200000}
MODES=${MODES:-json text write}
STORM=${STORM:-300000}
TLSWATCH_ARGS=${TLSWATCH_ARGS:-}
LIMIT_MIB=${LIMIT_MIB:-1}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tlswatch-bench}
GEN=build/bench/genpcap
STEP=100000

die() {
	echo "memory.sh: $*" >&2
	exit 1
}

[ -r /proc/self/io ] || die "needs /proc/PID/io (a Linux with task I/O accounting)"
[ "$CONNS" -ge $((2 * STEP)) ] || die "CONNS must be at least $((2 * STEP))"
[ "$WARM" -lt "$CONNS" ] || die "WARM must be below CONNS"
mkdir -p "$DIR" build/bench

if [ ! -x ./tlswatch ]; then
	make --no-print-directory tlswatch
fi
# A copy, so that a rebuild in the tree during the runs changes nothing.
cp ./tlswatch "$DIR/tlswatch"
if [ ! -x "$GEN" ] || [ bench/genpcap.c -nt "$GEN" ] ||
   [ bench/captured.h -nt "$GEN" ]; then
	${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$GEN" \
		bench/genpcap.c -lm
fi

# gen NAME CONNS [genpcap options]: the capture and its index, made again
# only when genpcap changed; its report is kept beside it.
gen() {
	local name=$1 n=$2 t0="" t1
	shift 2
	if [ ! -s "$DIR/$name.pcap" ] || [ "$GEN" -nt "$DIR/$name.pcap" ] ||
	   [ ! -s "$DIR/$name.log" ]; then
		t0=$EPOCHREALTIME
		"$GEN" -n "$n" "$@" -o "$DIR/$name.pcap" -i "$DIR/$name.idx" \
			2> "$DIR/$name.log"
		t1=$EPOCHREALTIME
		echo "generated in $(echo "$t0 $t1" |
			awk '{ printf "%.1f", $2 - $1 }') s" >> "$DIR/$name.log"
	fi
	sed 's/^/  /' "$DIR/$name.log"
	[ -z "${t0:-}" ] &&
		echo "  (reused: delete $DIR/$name.pcap to make it again)"
	echo "  $DIR/$name.pcap: $(stat -c %s "$DIR/$name.pcap" |
		awk '{ printf "%.0f MiB", $1 / 1048576 }')"
}

field() {	# field FILE KEY: the number after KEY in "key value" lines
	awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null || true
}

# proc PID: sets rchar, rss and hwm (KiB) from /proc with shell builtins
# only, so that sampling takes no CPU from tlswatch; false once it is gone.
# Each file is read whole in one go: reading it line by line makes bash
# seek back, the kernel then formats it anew and a line can come out cut.
proc() {
	local st="" io=""
	IFS= read -r -d '' st 2>/dev/null < "/proc/$1/status" || true
	IFS= read -r -d '' io 2>/dev/null < "/proc/$1/io" || true
	kv "$st" VmRSS:; rss=$val
	kv "$st" VmHWM:; hwm=$val
	kv "$io" rchar:; rchar=$val
	[ -n "$rchar" ] && [ -n "$rss" ] && [ -n "$hwm" ]
}

kv() {	# kv TEXT KEY: val= the number after KEY in TEXT, or empty
	val=""
	case $1 in
	*"$2"*) ;;
	*) return 0 ;;
	esac
	val=${1#*"$2"}
	val=${val#"${val%%[0-9]*}"}
	val=${val%%[!0-9]*}
}

# run NAME OUT [tlswatch options]: one read of $DIR/NAME.pcap; samples
# "seconds rchar rss_kb hwm_kb" go to OUT, the last one marked "end",
# then "maxrss KB" (getrusage, so it covers the end of the run too).
run() {
	local name=$1 out=$2 fifo="$DIR/fifo" fed="$DIR/fed"
	local done_="$DIR/sampled" tpid pid="" t0 t last="" same=0
	shift 2
	rm -f "$fifo" "$fed" "$done_" "$out"
	mkfifo "$fifo"
	/usr/bin/time -f 'maxrss %M' -o "$out.time" \
		"$DIR/tlswatch" -r "$fifo" -p 443 "$@" > /dev/null 2> "$out.err" &
	tpid=$!
	( cat "$DIR/$name.pcap"; : > "$fed"
	  while [ ! -e "$done_" ]; do sleep 0.05; done ) > "$fifo" &
	while [ -z "$pid" ]; do
		pid=$(cat "/proc/$tpid/task/$tpid/children" 2>/dev/null || true)
		pid=${pid%% *}
		kill -0 "$tpid" 2>/dev/null || break
	done
	t0=${EPOCHREALTIME/./}
	while [ -n "$pid" ] && proc "$pid"; do
		if [ -e "$fed" ] && [ ! -e "$done_" ]; then
			# Everything is in the FIFO: once tlswatch stops
			# reading for 300 ms, it has read it all.
			if [ "$rchar" = "$last" ]; then
				same=$((same + 1))
			else
				same=0
			fi
			if [ $same -ge 3 ]; then
				echo "end $rchar $rss $hwm" >> "$out"
				: > "$done_"
				continue
			fi
		fi
		last=$rchar
		t=$(( ${EPOCHREALTIME/./} - t0 ))
		printf '%d.%02d %s %s %s\n' $((t / 1000000)) \
			$((t / 10000 % 100)) "$rchar" "$rss" "$hwm" >> "$out"
		sleep 0.1
	done
	: > "$done_"
	wait $tpid || die "tlswatch failed: $(tail -n 3 "$out.err")"
	wait
	grep -q '^end ' "$out" || die "no final sample in $out"
	cat "$out.time" >> "$out"
	rm -f "$fifo" "$fed" "$done_"
}

# rss_at IDX SAMPLES: "checkpoint rss_kb" for every STEP connections (RSS
# interpolated between the samples around it; the last checkpoint is the
# final sample), then "hwm KB", "maxrss KB", "seconds S".
rss_at() {
	awk -v step=$STEP -v conns="$CONNS" '
	FNR == NR { k[n] = $1; off[n] = $2; n++; next }
	$1 == "end" { endrchar = $2; endrss = $3; endhwm = $4; next }
	$1 == "maxrss" { maxrss = $2; next }
	{ t[m] = $1; rc[m] = $2; rss[m] = $3; m++ }
	END {
		# What tlswatch read besides the capture (its libraries):
		# at the end it has read all of it.
		extra = endrchar - off[n - 1]
		for (i = 0; i < m; i++) {
			b = rc[i] - extra
			while (j + 1 < n && off[j + 1] <= b)
				j++
			seen[i] = k[j]
		}
		i = 0
		for (cp = step; cp < conns; cp += step) {
			while (i < m && seen[i] < cp)
				i++
			if (i >= m) {
				v = endrss
			} else if (i == 0 || seen[i] == seen[i - 1]) {
				v = rss[i]
			} else {
				f = (cp - seen[i - 1]) / (seen[i] - seen[i - 1])
				v = rss[i - 1] + f * (rss[i] - rss[i - 1])
			}
			printf "%d %.0f\n", cp, v
		}
		printf "%d %d\n", conns, endrss
		printf "hwm %d\nmaxrss %d\nseconds %s\nsamples %d\n",
			endhwm, maxrss, t[m - 1], m
	}' "$1" "$2"
}

median() {	# of the numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

mode_args() {
	case $1 in
	json) echo "--json $TLSWATCH_ARGS" ;;
	text) echo "$TLSWATCH_ARGS" ;;
	write) echo "--json -w $DIR/x.pcap $TLSWATCH_ARGS" ;;
	*) die "unknown mode $1 (json, text, write)" ;;
	esac
}

echo "== machine"
echo "kernel $(uname -r), $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "tlswatch: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- user bpf 2>/dev/null || echo ' with uncommitted changes'), binary built $(date -u -r ./tlswatch '+%F %H:%M') UTC, sha256 $(sha256sum ./tlswatch | cut -c1-12)"
echo
echo "== capture"
gen "conns-$CONNS" "$CONNS"
echo

res="$DIR/results"
rm -rf "$res" "$DIR/x.pcap"
mkdir -p "$res"
for r in $(seq 1 "$RUNS"); do
	for mode in $MODES; do
		# shellcheck disable=SC2046
		run "conns-$CONNS" "$res/$mode.$r" $(mode_args "$mode")
		rss_at "$DIR/conns-$CONNS.idx" "$res/$mode.$r" > "$res/$mode.$r.at"
		printf '  run %d %-5s %5.1f s, %3d samples, VmHWM %s KiB\n' "$r" \
			"$mode" "$(field "$res/$mode.$r.at" seconds)" \
			"$(field "$res/$mode.$r.at" samples)" \
			"$(field "$res/$mode.$r.at" hwm)"
	done
done
echo

# The table: median over the runs, per mode.
med() {	# med MODE KEY
	local r
	for r in $(seq 1 "$RUNS"); do
		field "$res/$1.$r.at" "$2"
	done | median
}
mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}
printf '== RSS (MiB, median of %d runs) by connections seen\n' "$RUNS"
printf '%12s' connections
for mode in $MODES; do printf '%10s' "$mode"; done
echo
for cp in $(seq $STEP $STEP "$CONNS"); do
	printf '%12d' "$cp"
	for mode in $MODES; do printf '%10s' "$(mib "$(med "$mode" "$cp")")"; done
	echo
done
for what in hwm maxrss; do
	printf '%12s' "$([ $what = hwm ] && echo 'VmHWM' || echo 'peak(exit)')"
	for mode in $MODES; do printf '%10s' "$(mib "$(med "$mode" $what)")"; done
	echo
done
printf '%12s' "seconds"
for mode in $MODES; do printf '%10s' "$(med "$mode" seconds)"; done
echo
echo
growth() {	# growth MODE FROM: MiB per 100k from FROM to CONNS
	local r
	# per run, then the median, so that one run's noise stays its own
	for r in $(seq 1 "$RUNS"); do
		awk -v a="$(field "$res/$1.$r.at" "$2")" \
		    -v b="$(field "$res/$1.$r.at" "$CONNS")" \
		    -v n="$(( (CONNS - $2) / STEP ))" \
		    'BEGIN { printf "%.3f\n", (b - a) / n / 1024 }'
	done | median
}
half=$(( CONNS / 2 - CONNS / 2 % STEP ))
echo "== growth after warm-up, MiB per 100k connections (median of runs)"
printf '  %-6s %14s %14s\n' mode "from $WARM" "from $half"
fail=0
for mode in $MODES; do
	g=$(growth "$mode" "$WARM")
	ok=$(awk -v g="$g" -v l="$LIMIT_MIB" 'BEGIN { print (g < l) ? "ok" : "TOO MUCH" }')
	[ "$ok" = ok ] || fail=1
	printf '  %-6s %14s %14s  (limit %s MiB from %s: %s)\n' "$mode" "$g" \
		"$(growth "$mode" "$half")" "$LIMIT_MIB" "$WARM" "$ok"
done
if [ -e "$DIR/x.pcap" ]; then
	echo "  -w wrote $(stat -c %s "$DIR/x.pcap" | awk '{ printf "%.0f MiB", $1 / 1048576 }') to $DIR/x.pcap"
fi
echo

# The -w bound: connections that all stall, so that each keeps its packets
# until the handshake timeout and the connection table (65536) stays full;
# the logs would need far more than the 64 MiB allowed.
if [ "$STORM" -gt 0 ]; then
	echo "== -w bound: $STORM connections that all stall (ClientHello, no answer)"
	gen "storm-$STORM" "$STORM" -m 0,0,0,0,0,0,1000
	for mode in json write; do
		# shellcheck disable=SC2046
		run "storm-$STORM" "$res/storm-$mode" $(mode_args "$mode")
	done
	a=$(field "$res/storm-json" maxrss)
	b=$(field "$res/storm-write" maxrss)
	printf '  peak RSS %s MiB without -w, %s MiB with -w: -w adds %s MiB (bound: 64 MiB of packets)\n' \
		"$(mib "$a")" "$(mib "$b")" "$(mib $((b - a)))"
	[ $((b - a)) -lt $((80 * 1024)) ] || fail=1
	echo
fi

# shellcheck disable=SC2016 # the quotes are for the reader to paste
echo "reproduce: CONNS=$CONNS RUNS=$RUNS WARM=$WARM MODES='$MODES' STORM=$STORM${TLSWATCH_ARGS:+ TLSWATCH_ARGS='$TLSWATCH_ARGS'} bench/memory.sh"
exit $fail
