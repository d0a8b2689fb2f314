#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The real peers of today against the committed expectations: record every
# scenario afresh with make-captures.sh (real nginx, openssl, gnutls-cli,
# curl on loopback), decode the new captures and compare what matters
# (outcome, reason, detail, alert, stage, versions) with the expected
# events of the committed captures. Addresses, ports, timings and who
# closed first vary from run to run and are left out. Needs root.
set -u
cd "$(dirname "$0")"
bin=../../tlswatch

if [ "$(id -u)" != 0 ]; then
	echo "!!! SKIPPED fresh captures of real peers: needs root (run sudo make test) !!!"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

view='[.outcome, .reason, .detail, .alert.from, .alert.code,
       .alert.encrypted, .stage, .client_hello.version,
       .client_hello.fallback_scsv, .server_hello.version] | tostring'

if ! ./make-captures.sh "$tmp" >"$tmp/make.log" 2>&1; then
	echo "FAIL fresh make-captures.sh: real peers did not behave as expected"
	tail -n 20 "$tmp/make.log"
	exit 1
fi
pass=0
fail=0
for pcap in "$tmp"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	args=()
	[ -f "expected/$name.args" ] && read -r -a args <"expected/$name.args"
	# Sorted: when a report falls due depends on closes, whose order varies.
	want=$(jq -r "$view" "expected/$name.jsonl" | sort)
	got=$("$bin" -r "$pcap" --json -a "${args[@]}" 2>/dev/null | jq -r "$view" | sort)
	if [ "$want" = "$got" ]; then
		echo "PASS fresh $name"
		pass=$((pass + 1))
	else
		echo "FAIL fresh $name"
		diff <(echo "$want") <(echo "$got") | sed 's/^/  /'
		fail=$((fail + 1))
	fi
done
echo "fresh: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
