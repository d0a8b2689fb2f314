#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Command-line behaviour on real captures: default and --json output,
# filters, timeouts, the summary, and bad input (one-line errors, exit
# status, nothing already decoded lost). Run from the repository root.
set -u
bin=./tlswatch
cap=tests/golden/captures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

check() {
	local name=$1
	shift
	if "$@"; then
		echo "PASS cli $name"
		pass=$((pass + 1))
	else
		echo "FAIL cli $name"
		echo "  stdout: $(head -c 600 "$tmp/out")"
		echo "  stderr: $(head -c 600 "$tmp/err")"
		fail=$((fail + 1))
	fi
}

run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	echo $? >"$tmp/rc"
}
rc() { [ "$(cat "$tmp/rc")" = "$1" ]; }
out_has() { grep -qE -- "$1" "$tmp/out"; }
err_has() { grep -qE -- "$1" "$tmp/err"; }
out_lines() { [ "$(grep -c . "$tmp/out")" = "$1" ]; }
err_lines() { [ "$(grep -c . "$tmp/err")" = "$1" ]; }

# The default line names client, port, reason, alert, version, fallback.
run -r $cap/fallback-probe-retry.pcap
check "default line for a fallback probe" eval \
	'rc 0 && out_lines 1 && out_has "^[0-9:.]+ 127\.0\.0\.11:[0-9]+ > :18443 server_alert server:inappropriate_fallback\(86\) TLS 1\.1 fallback_scsv$"'
check "summary on stderr" eval \
	'err_has "^tlswatch: 2 connections, 1 established, 1 failed" && err_has "server_alert +1 +\(inappropriate_fallback 1\)" && err_has "^  127\.0\.0\.11 +1 +server_alert 1"'

run -r $cap/fallback-probe-retry.pcap -a
check "--all adds the established retry" eval 'rc 0 && out_lines 2 && out_has " established TLS 1\.3$"'

run -r $cap/fallback-probe-retry.pcap --json -a
check "--json is one valid JSON object per line" eval \
	'rc 0 && out_lines 2 && jq -e -s "length == 2 and all(.event == \"connection\")" "$tmp/out" >/dev/null'

# stdin gives the same as the file.
"$bin" -r - --json -a <$cap/mixed-lo.pcap >"$tmp/stdin" 2>/dev/null
run -r $cap/mixed-lo.pcap --json -a
check "-r - reads stdin" cmp -s "$tmp/stdin" "$tmp/out"

# Without --port, only connections that open with a ClientHello count;
# with it, plain HTTP and silent connects on the port are reported too.
run -r $cap/mixed-lo.pcap -a --json
check "no --port: no plain HTTP, no silent connect" eval \
	'! out_has "\"not_tls\"" && ! out_has "\"no_data\""'
run -r $cap/mixed-lo.pcap -a --json -p 18443
check "--port: plain HTTP and silent connect reported" eval \
	'out_has "\"reason\":\"not_tls\",\"detail\":\"http\"" && out_has "\"outcome\":\"no_data\"" && ! out_has "\"port\":18444"'
run -r $cap/mixed-lo.pcap -p 9
check "--port with nothing on it" eval 'rc 0 && out_lines 0 && err_has "^tlswatch: 0 connections"'

run -r $cap/mixed-lo.pcap --json --exclude 127.0.0.11/32,10.0.0.0/8
check "--exclude drops a client" eval 'rc 0 && ! out_has "127\.0\.0\.11" && out_has "127\.0\.0\.12"'

# The stalled client gives up after about 4 s: a close by default, a
# timeout when the handshake timeout is shorter.
run -r $cap/stalled-handshake.pcap --json
check "stalled handshake closed by the client" eval 'out_has "\"reason\":\"client_closed\""'
run -r $cap/stalled-handshake.pcap --json --handshake-timeout 2
check "--handshake-timeout on capture time" eval \
	'out_has "\"reason\":\"timeout\"" && out_has "\"duration_ms\":2000\.000"'

# --duration counts capture time: only the first connection fits.
run -r $cap/fallback-probe-retry.pcap -a --json -d 0.05
check "--duration on capture time" eval 'rc 0 && out_lines 1'

# Bad usage: exit 2 and one line.
for args in "--bogus" "-p 0" "-p 70000" "-p 10-5" "--exclude 300.1.1.1" \
	"--handshake-timeout -1" "-r"; do
	# shellcheck disable=SC2086
	run $args
	check "usage error: $args" eval 'rc 2 && err_lines 1 && err_has "^tlswatch: "'
done

run -r "$tmp/missing.pcap"
check "missing file: exit 1, one line" eval \
	'rc 1 && err_lines 1 && err_has "^tlswatch: cannot open .*missing\.pcap"'
echo "not a capture" >"$tmp/text.pcap"
run -r "$tmp/text.pcap"
check "not a capture: exit 1, one line" eval 'rc 1 && err_lines 1'

# A capture cut mid-packet: what came before is still reported, then the
# error, exit 1.
size=$(stat -c %s $cap/mixed-lo.pcap)
head -c $((size - 100)) $cap/mixed-lo.pcap >"$tmp/cut.pcap"
run -r "$tmp/cut.pcap" -a
check "cut capture keeps what it decoded" eval \
	'rc 1 && [ "$(grep -c . "$tmp/out")" -ge 15 ] && tail -n 1 "$tmp/err" | grep -q "^tlswatch: .*cut.pcap"'

run -V
check "--version" eval 'rc 0 && out_has "^tlswatch [0-9]"'
run -h
check "--help" eval 'rc 0 && out_has "--handshake-timeout"'

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
