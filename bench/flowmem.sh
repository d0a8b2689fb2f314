#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bytes per tracked connection, kernel side and userspace side.
#
# Kernel: the sizes of the key and values of the `flows` and `done` LRU
# hash maps (from the BTF of build/tlswatch.bpf.o), and what the kernel
# charges for such maps of FLOW_ENTRIES entries (bpftool's memlock, the
# kernel's own accounting), measured on maps of the same shape created for
# the purpose and removed at once (needs root and /sys/fs/bpf).
#
# Userspace: the peak RSS of `tlswatch --read` over captures of N1 and N2
# connections that all stay open in their handshake (ClientHello sent, no
# answer: genpcap's `stalled` outcome, all within the 10 s timeout), the
# difference divided by N2 - N1. BASELINE=path/to/other/tlswatch measures
# that binary too, side by side (e.g. a build of an older commit).
#
# Environment: N1 (20000), N2 (40000), RUNS (3), FLOW_ENTRIES (65536, as
# in bpf/tlswatch.bpf.c), BENCH_DIR (${TMPDIR:-/tmp}/tlswatch-bench),
# BASELINE.
set -eu

cd "$(dirname "$0")/.."
N1=${N1:-20000}
N2=${N2:-40000}
RUNS=${RUNS:-3}
FLOW_ENTRIES=${FLOW_ENTRIES:-65536}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tlswatch-bench}
BASELINE=${BASELINE:-}
GEN=build/bench/genpcap
TIME=/usr/bin/time
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}

die() {
	echo "flowmem.sh: $*" >&2
	exit 1
}

[ -x "$TIME" ] || die "needs GNU time at $TIME (apt-get install time)"
[ "$N2" -gt "$N1" ] || die "N2 must be above N1"
mkdir -p "$DIR" build/bench
make --no-print-directory tlswatch > /dev/null
cp ./tlswatch "$DIR/tlswatch-flowmem"
if [ ! -x "$GEN" ] || [ bench/genpcap.c -nt "$GEN" ] ||
   [ bench/captured.h -nt "$GEN" ]; then
	${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$GEN" \
		bench/genpcap.c -lm
fi
grep -q "max_entries, $FLOW_ENTRIES)" bpf/tlswatch.bpf.c ||
	echo "flowmem.sh: warning: FLOW_ENTRIES=$FLOW_ENTRIES is not in bpf/tlswatch.bpf.c" >&2

echo "== bytes per tracked connection, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "tlswatch $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo '+changes'); kernel $(uname -r)"
echo "reproduce: N1=$N1 N2=$N2 RUNS=$RUNS${BASELINE:+ BASELINE=$BASELINE} bench/flowmem.sh"

# ---- kernel ----
echo
echo "-- kernel: LRU hash maps of $FLOW_ENTRIES entries"
size_of() {	# size_of STRUCT: its size in the BTF of the BPF object
	"$BPFTOOL" btf dump file build/tlswatch.bpf.o format raw |
		awk -v s="'$1'" '$2 == "STRUCT" && $3 == s {
			sub("size=", "", $4); print $4; exit }'
}
# charged KEY VALUE: memlock of a map of that shape, or "-"
charged() {
	local pin=/sys/fs/bpf/tlswatch_flowmem_$$ m
	rm -f "$pin"
	if ! "$BPFTOOL" map create "$pin" type lru_hash key "$1" value "$2" \
		entries "$FLOW_ENTRIES" name tw_flowmem 2> /dev/null; then
		echo -
		return
	fi
	m=$("$BPFTOOL" map show pinned "$pin" | sed -n 's/.*memlock \([0-9]*\)B.*/\1/p')
	rm -f "$pin"
	echo "${m:--}"
}
key=$(size_of tw_key)
flow=$(size_of tw_flow)
[ -n "$key" ] && [ -n "$flow" ] || die "no tw_key/tw_flow in build/tlswatch.bpf.o"
printf '%-8s %6s %6s %8s %16s %12s\n' map key value payload "charged (total)" "per entry"
total_pay=0 total_ch=0
for m in "flows $key $flow" "done $key 1"; do
	set -- $m
	ch=$(charged "$2" "$3")
	pay=$(($2 + $3))
	total_pay=$((total_pay + pay))
	if [ "$ch" = - ]; then
		per=-
	else
		per=$(awk -v c="$ch" -v n="$FLOW_ENTRIES" 'BEGIN { printf "%.1f", c / n }')
		total_ch=$(awk -v a="$total_ch" -v c="$ch" -v n="$FLOW_ENTRIES" 'BEGIN { print a + c / n }')
	fi
	printf '%-8s %6d %6d %8d %16s %12s\n' "$1" "$2" "$3" "$pay" "$ch" "$per"
done
printf '%-8s %6s %6s %8d %16s %12s\n' both "" "" "$total_pay" "" \
	"$(awk -v t="$total_ch" 'BEGIN { printf (t > 0 ? "%.1f" : "-"), t }')"
echo "(charged: the kernel's accounting of the whole preallocated map, bpftool's"
echo " memlock; it is paid at load, whatever the number of connections)"

# ---- userspace ----
echo
echo "-- userspace: connections open in their handshake (ClientHello, no answer)"
for n in "$N1" "$N2"; do
	f=$DIR/stalled-$n.pcap
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
		"$GEN" -n "$n" -r 1000000 -m 0,0,0,0,0,0,1000 -o "$f" 2> /dev/null
	fi
done
# peak BIN FILE: median over RUNS of the peak RSS in KiB
peak() {
	for ((r = 1; r <= RUNS; r++)); do
		"$TIME" -f '%M' -o "$DIR/flowmem.t" "$1" --read "$2" --json \
			-p 443 > /dev/null 2>&1 || true
		tail -1 "$DIR/flowmem.t"
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
printf '%-10s %14s %14s %16s\n' binary "peak@$N1 MiB" "peak@$N2 MiB" "bytes/connection"
bins=("tlswatch:$DIR/tlswatch-flowmem")
[ -n "$BASELINE" ] && bins=("baseline:$BASELINE" "${bins[@]}")
for b in "${bins[@]}"; do
	name=${b%%:*} bin=${b#*:}
	[ -x "$bin" ] || die "$bin is not executable"
	a=$(peak "$bin" "$DIR/stalled-$N1.pcap")
	z=$(peak "$bin" "$DIR/stalled-$N2.pcap")
	printf '%-10s %14.1f %14.1f %16.0f\n' "$name" \
		"$(awk -v k="$a" 'BEGIN { print k / 1024 }')" \
		"$(awk -v k="$z" 'BEGIN { print k / 1024 }')" \
		"$(awk -v a="$a" -v z="$z" -v d=$((N2 - N1)) 'BEGIN { print (z - a) * 1024 / d }')"
done
echo "(peak RSS, median of $RUNS runs; bytes/connection = the growth from $N1 to"
echo " $N2 open connections divided by $((N2 - N1)))"
