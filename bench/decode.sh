#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Offline decode speed: `tlswatch --read` against tshark, on the same
# captures of 10k, 100k and 1M connections (bench/genpcap), in the same
# run, runs of the two interleaved, from a warm page cache. Prints CPU
# time (user+sys, the figure to trust on a shared machine) and wall time,
# medians and spread, connections per second, the ratio, and the cost per
# connection at each size (flat means linear growth).
#
# Environment: SIZES ("10000 100000 1000000"), QUICK (1: leave out sizes
# of 1M and more), RUNS (5: tlswatch runs per size), TSHARK_RUNS (3),
# RUNS_1M (1: tshark runs at 1M and more; it needs minutes and GBs
# there), BENCH_DIR (${TMPDIR:-/tmp}/tlswatch-bench), TLSWATCH_ARGS,
# BASELINE (another tlswatch binary, e.g. a build of an older commit:
# timed as a third row, RUNS times, for a before/after in the same run).
set -eu

cd "$(dirname "$0")/.."
SIZES=${SIZES:-10000 100000 1000000}
QUICK=${QUICK:-0}
RUNS=${RUNS:-5}
TSHARK_RUNS=${TSHARK_RUNS:-3}
RUNS_1M=${RUNS_1M:-1}
TLSWATCH_ARGS=${TLSWATCH_ARGS:-}
BASELINE=${BASELINE:-}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tlswatch-bench}
GEN=build/bench/genpcap
TIME=/usr/bin/time

die() {
	echo "decode.sh: $*" >&2
	exit 1
}

command -v tshark > /dev/null || die "needs tshark (apt-get install tshark)"
[ -x "$TIME" ] || die "needs GNU time at $TIME (apt-get install time)"
mkdir -p "$DIR" build/bench
if [ ! -x ./tlswatch ]; then
	make --no-print-directory tlswatch
fi
# A copy, so that a rebuild in the tree during the runs changes nothing.
cp ./tlswatch "$DIR/tlswatch-decode"
TW=$DIR/tlswatch-decode
TOOLS="tlswatch tshark"
if [ -n "$BASELINE" ]; then
	[ -x "$BASELINE" ] || die "$BASELINE is not executable"
	cp "$BASELINE" "$DIR/tlswatch-baseline"
	TOOLS="baseline tlswatch tshark"
fi
if [ ! -x "$GEN" ] || [ bench/genpcap.c -nt "$GEN" ] ||
   [ bench/captured.h -nt "$GEN" ]; then
	${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$GEN" \
		bench/genpcap.c -lm
fi

if [ "$QUICK" = 1 ]; then
	SIZES=$(for n in $SIZES; do if [ "$n" -lt 1000000 ]; then echo "$n"; fi; done)
fi
[ -n "$SIZES" ] || die "no sizes left to run"

# The baseline. tshark dissects every frame, reassembles TCP (the
# default, stated) and TLS records, and prints the handshake and alert
# fields tlswatch reports: addresses, ports, record and handshake
# versions, handshake types, SNI, cipher suites, alerts. -n: no name
# lookups. Its output goes to /dev/null, as tlswatch's does.
TSHARK_ARGS=(-n -o tcp.desegment_tcp_streams:TRUE
	-o tls.desegment_ssl_records:TRUE
	-o tls.desegment_ssl_application_data:TRUE
	-Y "tls.handshake or tls.alert_message"
	-T fields -e frame.time_epoch -e ip.src -e tcp.srcport -e ip.dst
	-e tcp.dstport -e tls.record.version -e tls.handshake.type
	-e tls.handshake.version -e tls.handshake.extensions_server_name
	-e tls.handshake.ciphersuite -e tls.alert_message.desc)
# shellcheck disable=SC2206
TW_ARGS=(--json -p 443 $TLSWATCH_ARGS)

res=$(mktemp -d)
trap 'rm -rf "$res"' EXIT

echo "== decode speed, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel $(uname -r), $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "tlswatch $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo '+changes'), binary sha256 $(sha256sum "$TW" | cut -c1-12); $(tshark -v 2> /dev/null | head -1)"
echo "tlswatch: $TW --read FILE ${TW_ARGS[*]} > /dev/null"
printf 'tshark:   tshark -r FILE'
printf " %q" "${TSHARK_ARGS[@]}"
printf ' > /dev/null\n'
[ -n "$BASELINE" ] &&
	echo "baseline: $BASELINE, binary sha256 $(sha256sum "$BASELINE" | cut -c1-12), same arguments"
echo "reproduce: SIZES='$SIZES' RUNS=$RUNS TSHARK_RUNS=$TSHARK_RUNS RUNS_1M=$RUNS_1M${BASELINE:+ BASELINE=$BASELINE} bench/decode.sh"

# run TOOL FILE OUT: one timed run; appends "user sys wall maxrss_kib"
run() {
	local status=0
	if [ "$1" = tlswatch ] || [ "$1" = baseline ]; then
		"$TIME" -f '%U %S %e %M' -o "$res/t" \
			"$([ "$1" = tlswatch ] && echo "$TW" || echo "$DIR/tlswatch-baseline")" \
			--read "$2" "${TW_ARGS[@]}" > /dev/null 2>&1 || status=$?
	else
		"$TIME" -f '%U %S %e %M' -o "$res/t" \
			tshark -r "$2" "${TSHARK_ARGS[@]}" > /dev/null 2>&1 || status=$?
	fi
	# tlswatch exits 1 when it reports failures: only a signal is wrong.
	[ "$status" -lt 2 ] || die "$1 on $2 exited with $status"
	tail -1 "$res/t" >> "$3"
}

# stats FILE: "cpu_med cpu_min cpu_max wall_med wall_min wall_max rss_max"
stats() {
	awk '{ c[NR] = $1 + $2; w[NR] = $3; if ($4 > m) m = $4 }
	function med(a, n,   i, j, t) {
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		n = NR
		cm = med(c, n); wm = med(w, n)
		printf "%.2f %.2f %.2f %.2f %.2f %.2f %d %d\n", cm, c[1], c[n],
			wm, w[1], w[n], m, n
	}' "$1"
}

for n in $SIZES; do
	f=$DIR/decode-$n.pcap
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
		"$GEN" -n "$n" -o "$f" 2> "$DIR/decode-$n.log"
	fi
	echo
	echo "-- $n connections: $f, $(stat -c %s "$f" | awk '{ printf "%.0f MiB", $1 / 1048576 }'), $(awk '/packets/ { print $4; exit }' "$DIR/decode-$n.log") packets"
	cat "$f" > /dev/null	# warm cache
	tr=$TSHARK_RUNS
	[ "$n" -ge 1000000 ] && tr=$RUNS_1M
	# One run of each first, not timed: the page cache and the binaries.
	run tlswatch "$f" /dev/null
	# Interleaved, so that both tools see the same background load.
	for ((r = 1; r <= RUNS || r <= tr; r++)); do
		if [ "$r" -le "$RUNS" ]; then
			run tlswatch "$f" "$res/tlswatch.$n"
			[ -n "$BASELINE" ] && run baseline "$f" "$res/baseline.$n"
		fi
		[ "$r" -le "$tr" ] && run tshark "$f" "$res/tshark.$n"
		printf '.' >&2
	done
	echo >&2
	printf '%-9s %4s %24s %24s %12s %9s %9s\n' tool runs \
		"cpu s: median (min-max)" "wall s: median (min-max)" \
		"conns/s cpu" "us/conn" "peak MiB"
	for t in $TOOLS; do
		read -r cm c0 c1 wm w0 w1 rss k < <(stats "$res/$t.$n")
		echo "$t $n $cm $wm" >> "$res/summary"
		printf '%-9s %4d %10.2f (%5.2f-%5.2f) %10.2f (%5.2f-%5.2f) %12.0f %9.2f %9.1f\n' \
			"$t" "$k" "$cm" "$c0" "$c1" "$wm" "$w0" "$w1" \
			"$(awk -v n="$n" -v c="$cm" 'BEGIN { print (c > 0 ? n / c : 0) }')" \
			"$(awk -v n="$n" -v c="$cm" 'BEGIN { print c * 1e6 / n }')" \
			"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
	done
done

echo
echo "== tlswatch against tshark (medians; ratio = tshark / tlswatch)"
printf '%12s %12s %12s %14s %14s %12s %12s %12s\n' connections "cpu ratio" \
	"wall ratio" "tlswatch us/c" "tshark us/c" "tlswatch x" "tshark x" \
	"vs baseline"
awk '
	{ cpu[$1, $2] = $3; wall[$1, $2] = $4; if (!seen[$2]++) sizes[++ns] = $2 }
	END {
		for (i = 1; i <= ns; i++) {
			n = sizes[i]
			a = cpu["tlswatch", n] * 1e6 / n; b = cpu["tshark", n] * 1e6 / n
			if (i == 1) { a0 = a; b0 = b }
			printf "%12d %11.1fx %11.1fx %14.2f %14.2f %12.2f %12.2f %12s\n", n,
				(cpu["tlswatch", n] > 0 ? cpu["tshark", n] / cpu["tlswatch", n] : 0),
				(wall["tlswatch", n] > 0 ? wall["tshark", n] / wall["tlswatch", n] : 0),
				a, b, (a0 > 0 ? a / a0 : 0), (b0 > 0 ? b / b0 : 0),
				(cpu["baseline", n] > 0 ? sprintf("%.2fx", cpu["baseline", n] / cpu["tlswatch", n]) : "-")
		}
	}' "$res/summary"
echo "(us/c: CPU microseconds per connection; x: that cost relative to the"
echo " smallest size, 1.00 everywhere being linear growth; vs baseline: the"
echo " baseline's CPU time over tlswatch's)"
