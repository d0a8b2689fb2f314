#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A long offline read under valgrind's memcheck: a generated capture of
# VALGRIND_CONNS connections (default 200000; bench/genpcap), read as JSON
# and as text with -w, --textfile and --interval, then every golden
# capture. Each run must show no memory error and no definitely or
# indirectly lost block. Not in the default suite: about 20 minutes on a
# busy 2-core machine (VALGRIND_CONNS=20000 for a few).
set -u
cd "$(dirname "$0")/.."
conns=${VALGRIND_CONNS:-200000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

[ -x tlswatch ] || make --no-print-directory tlswatch || exit 1
make --no-print-directory -C bench genpcap >/dev/null || exit 1
build/bench/genpcap -n "$conns" -o "$tmp/gen.pcap" || exit 1

vg() {
	local name=$1
	shift
	if valgrind -q --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect \
		--log-file="$tmp/vg.log" ./tlswatch "$@" >/dev/null 2>"$tmp/err"; then
		echo "PASS valgrind $name"
		pass=$((pass + 1))
	else
		echo "FAIL valgrind $name (exit $?)"
		head -40 "$tmp/vg.log" "$tmp/err"
		fail=$((fail + 1))
	fi
}

vg "generated $conns connections, json" -r "$tmp/gen.pcap" --json -a
vg "generated $conns connections, text -w --textfile --interval" \
	-r "$tmp/gen.pcap" -a -w "$tmp/w.pcap" --textfile "$tmp/metrics.prom" \
	--interval 1 --sni '*.example*'
for p in tests/golden/captures/*.pcap tests/golden/corpora/*.pcap; do
	vg "golden $(basename "$p" .pcap)" -r "$p" --json -a
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
