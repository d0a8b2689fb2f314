#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Golden tests: decode each capture and compare the JSON events with the
# expected ones, line for line. expected/NAME.jsonl belongs to the capture
# captures/NAME.pcap or corpora/NAME.pcap; expected/NAME.args, if present,
# holds extra options. With UPDATE=1 the expected files are rewritten
# (review the diff before committing).
set -u
cd "$(dirname "$0")"
bin=../../tlswatch
pass=0
fail=0
for exp in expected/*.jsonl; do
	name=$(basename "$exp" .jsonl)
	pcap=captures/$name.pcap
	[ -f "$pcap" ] || pcap=corpora/$name.pcap
	args=()
	[ -f "expected/$name.args" ] && read -r -a args <"expected/$name.args"
	out=$("$bin" -r "$pcap" --json -a "${args[@]}" 2>/tmp/tlswatch-golden.err)
	rc=$?
	if [ "${UPDATE:-}" = 1 ]; then
		printf '%s\n' "$out" | sed '/^$/d' >"$exp"
	fi
	if [ $rc -ne 0 ]; then
		echo "FAIL golden $name: exit $rc: $(cat /tmp/tlswatch-golden.err)"
		fail=$((fail + 1))
	elif ! diff -u "$exp" <(printf '%s\n' "$out" | sed '/^$/d') >/tmp/tlswatch-golden.diff; then
		echo "FAIL golden $name"
		cat /tmp/tlswatch-golden.diff
		fail=$((fail + 1))
	else
		echo "PASS golden $name"
		pass=$((pass + 1))
	fi
done
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
