#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Fuzz smoke for the test run: each target (build/fuzz/fuzz_*, or those
# given) replays every committed regression input under
# tests/fuzz/regressions/NAME/, then fuzzes for FUZZ_SMOKE_TIME seconds
# (default 5) from seeds made from a few golden captures. One PASS/FAIL
# line per step. FUZZ_SMOKE=0 leaves it out (the sanitizer run of the
# suite, whose build has no fuzz targets).
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz
if [ "${FUZZ_SMOKE:-1}" = 0 ]; then
	echo "fuzz smoke: left out (FUZZ_SMOKE=0)"
	exit 0
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=($out/fuzz_*)
if [ ! -x "${bins[0]}" ]; then
	echo "FAIL fuzz smoke: no targets built (make fuzz-build)"
	exit 1
fi
seeds=$out/smoke-seeds
if [ ! -d $seeds ]; then
	tests/fuzz/seeds.py $seeds.tmp tests/golden/captures/success-tls12.pcap \
		tests/golden/captures/cert-rejected-tls12-openssl.pcap \
		tests/golden/captures/sslv2-hello.pcap \
		tests/golden/captures/split-client-hello.pcap &&
		mv $seeds.tmp $seeds || { echo "FAIL fuzz smoke seeds"; exit 1; }
fi
mkdir -p $out/logs
fail=0
for bin in "${bins[@]}"; do
	name=${bin##*/fuzz_}
	log=$out/logs/smoke-$name.log
	regs=(tests/fuzz/regressions/$name/*)
	if [ -e "${regs[0]}" ]; then
		if "$bin" "${regs[@]}" >"$log" 2>&1; then
			echo "PASS fuzz $name regressions (${#regs[@]} inputs)"
		else
			echo "FAIL fuzz $name regressions: see $log"
			grep -E 'ERROR|SUMMARY|runtime error|Running:' "$log" | tail -5
			fail=1
		fi
	fi
	tmp=$(mktemp -d)
	if "$bin" -max_total_time="${FUZZ_SMOKE_TIME:-5}" -max_len=65536 \
		-timeout=10 -artifact_prefix="$tmp/" "$tmp" "$seeds/$name" \
		>"$log" 2>&1; then
		echo "PASS fuzz $name smoke"
	else
		echo "FAIL fuzz $name smoke: see $log"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
		mkdir -p $out/artifacts/$name && cp "$tmp"/crash-* "$tmp"/leak-* \
			"$tmp"/timeout-* "$tmp"/oom-* $out/artifacts/$name/ 2>/dev/null
		fail=1
	fi
	rm -rf "$tmp"
done
exit $fail
