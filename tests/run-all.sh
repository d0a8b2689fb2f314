#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Every test, in one run: unit tests, golden captures, live capture with
# real peers (and fresh captures of them), command-line checks, a short
# run of each fuzz target, and a live capture under Debian 12's own kernel
# (6.1) in qemu (tests/vm).
# Prints a PASS/FAIL line per test and a closing "N passed, N failed".
# Arguments: the unit-test binaries (make test passes them).
set -u
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

{
	tests/run-unit.sh "$@"
	tests/golden/run.sh
	tests/live.sh
	tests/live-hostile.sh
	tests/live-diagnose.sh
	tests/live-pcap.sh
	tests/live-security.sh
	tests/cli.sh
	tests/prometheus.sh
	tests/fuzz/smoke.sh
	# The kernel under test, not the build: the sanitizer rerun
	# (tests/asan.sh) leaves it out.
	if [ "${VM:-1}" = 0 ]; then
		echo "SKIP vm: !!! NOT RUN in this pass (VM=0) !!!"
	else
		tests/vm/run.sh
	fi
} 2>&1 | tee "$log"

pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
echo
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
