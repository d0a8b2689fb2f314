#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole suite again, with tlswatch and the unit tests built by clang
# under AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer.
# It builds in a copy of the tree under /tmp, so the normal build is left
# alone, and runs tests/run-all.sh there: every sanitizer report aborts
# the process, which fails its test.
# SAN_TESTS="unit golden cli" runs only those parts (unit: the unit
# tests, golden: tests/golden/run.sh, NAME: tests/NAME.sh) instead of
# tests/run-all.sh.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/tlswatch-asan.XXXXXX)
trap 'rm -rf "$dir"' EXIT

tar -C "$src" --exclude=./build --exclude=./tlswatch --exclude=./.git \
	-cf - . | tar -C "$dir" -xf - || exit 1
cd "$dir" || exit 1

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
units=$(ls tests/unit/test_*.c | sed 's,tests/unit/\(.*\)\.c,build/tests/\1,')
# shellcheck disable=SC2086
make --no-print-directory CC=clang \
	CFLAGS="-g -O1 -fno-omit-frame-pointer $san" tlswatch $units || {
	echo "FAIL asan build"
	exit 1
}
echo "PASS asan build"

# A report stops the process with a non-zero status; leaks are reported
# at exit (LeakSanitizer works as root here).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# The fuzz smoke builds its own sanitized targets; not again here.
export FUZZ_SMOKE=0
# The 6.1 guest tests the kernel, which the first pass has done.
export VM=0
if [ -z "${SAN_TESTS:-}" ]; then
	# shellcheck disable=SC2086
	exec tests/run-all.sh $units
fi
log=$(mktemp)
for t in $SAN_TESTS; do
	case $t in
	unit) tests/run-unit.sh $units ;;
	golden) tests/golden/run.sh ;;
	*) "tests/$t.sh" ;;
	esac
done 2>&1 | tee "$log"
pass=$(grep -c '^PASS ' "$log")
fail=$(grep -c '^FAIL ' "$log")
rm -f "$log"
echo "asan: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
