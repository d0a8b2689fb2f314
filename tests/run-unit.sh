#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run each unit-test binary given; print one line per binary and exit
# non-zero if any failed. Run from the repository root.
failed=0
for t in "$@"; do
	if "$t" >"$t.log" 2>&1; then
		echo "PASS unit $(basename "$t")"
	else
		echo "FAIL unit $(basename "$t") (log: $t.log)"
		cat "$t.log"
		failed=$((failed + 1))
	fi
done
exit $failed
