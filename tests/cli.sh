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
# Connection events only (--json), one per line.
conns() { jq -c 'select(.event == "connection")' "$tmp/out"; }
conn_lines() { [ "$(conns | grep -c .)" = "$1" ]; }
conn_has() { conns | grep -qE -- "$1"; }
# The first event of a kind satisfies a jq condition: ev KIND EXPR.
ev() { jq -e -s "map(select(.event == \"$1\"))[0] | $2" "$tmp/out" >/dev/null; }
err_lines() { [ "$(grep -c . "$tmp/err")" = "$1" ]; }

# The default line names client, port, reason, alert, version, fallback.
run -r $cap/fallback-probe-retry.pcap
check "default line for a fallback probe" eval \
	'rc 0 && out_lines 3 && out_has "^[0-9:.]+ 127\.0\.0\.11:[0-9]+ > :18443 server_alert server:inappropriate_fallback\(86\) TLS 1\.1 fallback_scsv$"'
check "diagnosis under the line, then the recovery" eval \
	'out_has "^    fallback_probe \(harmless if retried\): A TLS_FALLBACK_SCSV probe at TLS 1\.1" && out_has "^[0-9:.]+ 127\.0\.0\.11 recovered \(no SNI\) after 281 ms: fallback_retry, harmless$"'
check "summary on stderr" eval \
	'err_has "^tlswatch: 2 connections, 1 established, 1 failed" && err_has "server_alert +1 +\(inappropriate_fallback 1\)" && err_has "^  127\.0\.0\.11 +1 +1 +server_alert 1" && err_has "^  fallback_probe +1 +1$"'
check "verdict: the probe is harmless" eval \
	'err_has "^verdict: 1 of 1 failures \(100%\) are harmless: 1 fallback probe retried successfully\. No client is locked out\.$"'

run -r $cap/fallback-probe-retry.pcap -a
check "--all adds the established retry" eval 'rc 0 && out_lines 4 && out_has " established TLS 1\.3$"'

run -r $cap/fallback-probe-retry.pcap --json -a
check "--json is one valid JSON object per line" eval \
	'rc 0 && out_lines 4 && jq -e -s "map(.event) == [\"connection\", \"connection\", \"recovered\", \"summary\"]" "$tmp/out" >/dev/null'
check "recovered event settles the probe" eval \
	'ev recovered ".diagnosis.code == \"fallback_retry\" and .diagnosis.harmless == true and .delay_ms == 281.241 and .reason == \"server_alert\""'

# A recovery window shorter than the retry's delay: no recovery, and the
# verdict calls the client locked out.
run -r $cap/fallback-probe-retry.pcap --json --recovery-window 0.2
check "--recovery-window 0.2: not recovered" eval \
	'! out_has "\"event\":\"recovered\"" && ev summary ".recovered == 0 and .unrecovered == 1 and (.verdict | test(\"Locked out: 1 client\"))"'

# stdin gives the same as the file.
"$bin" -r - --json -a <$cap/mixed-lo.pcap >"$tmp/stdin" 2>/dev/null
run -r $cap/mixed-lo.pcap --json -a
check "-r - reads stdin" cmp -s "$tmp/stdin" "$tmp/out"

# Without --port, only connections that open with a ClientHello count;
# with it, plain HTTP and silent connects on the port are reported too.
run -r $cap/mixed-lo.pcap -a --json
check "no --port: no plain HTTP, no silent connect" eval \
	'! conn_has "\"not_tls\"" && ! conn_has "\"no_data\""'
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
check "--duration on capture time" eval 'rc 0 && conn_lines 1'

# Filters: --client keeps one network, --sni matches shell patterns
# without regard to case; the summary counts what is reported.
run -r $cap/mixed-lo.pcap --json --client 127.0.0.12/32,127.0.0.13
check "--client keeps only those clients" eval \
	'rc 0 && conn_lines 2 && conn_has "127\.0\.0\.12" && conn_has "127\.0\.0\.13" && ev summary ".failed == 2"'
run -r tests/golden/corpora/tlsmate-recorder_downgrade_ok.pcap --json -a --sni 'nothing.*,LOCAL*'
check "--sni matches a pattern, any case" eval 'rc 0 && conn_lines 1 && conn_has "\"sni\":\"localhost\""'
run -r tests/golden/corpora/tlsmate-recorder_downgrade_ok.pcap --json -a --sni 'other.example'
check "--sni leaves out the rest" eval 'rc 0 && conn_lines 0 && ev summary ".connections == 0"'

# --interval on capture time: summaries along the way, then the final one.
run -r $cap/mixed-lo.pcap --json --interval 1
check "--interval writes summaries as it goes" eval \
	'rc 0 && [ "$(jq -c "select(.event == \"summary\" and .final == false)" "$tmp/out" | grep -c .)" -ge 3 ] && ev summary ".final == false" && [ "$(tail -n 1 "$tmp/out" | jq .final)" = true ]'

# JA3 agrees with tshark's for every hello of the capture.
run -r $cap/mixed-lo.pcap --json -a
conns | jq -r '.client_hello.ja3 // empty' | sort >"$tmp/ja3.ours"
tshark -r $cap/mixed-lo.pcap -d tcp.port==18443-18448,tls -Y "tls.handshake.type == 1" \
	-T fields -e tls.handshake.ja3 2>/dev/null | grep . | sort >"$tmp/ja3.tshark"
check "JA3 equals tshark's" eval \
	'[ -s "$tmp/ja3.ours" ] && cmp -s "$tmp/ja3.ours" "$tmp/ja3.tshark"'
check "JA4 on every TLS hello" eval \
	'[ "$(conns | jq -r ".client_hello.ja4 // empty" | grep -cE "^t1[0-3][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")" = "$(wc -l <"$tmp/ja3.ours")" ]'
check "latency of an established handshake" eval \
	'conns | jq -e -s "map(select(.outcome == \"established\")) | length == 4 and all(.latency_ms.server_flight > 0 and .latency_ms.client_finished > 0)" >/dev/null'

# -w: the failed connections' packets, which tshark dissects and which
# give the same failures when read back (diagnoses aside: the file holds
# no successful handshake to learn the ports from).
run -r $cap/mixed-lo.pcap --json -p 18443-18448 -w "$tmp/failed.pcap"
conns | jq -c 'select(.outcome == "failed") | del(.diagnosis)' >"$tmp/failed.orig"
check "-w writes a pcap tshark reads" eval \
	'rc 0 && tshark -r "$tmp/failed.pcap" -d tcp.port==18443-18448,tls -Y "tls.alert_message.desc" 2>/dev/null | grep -q "Inappropriate Fallback"'
check "-w holds only failed connections" eval \
	'[ "$(tshark -r "$tmp/failed.pcap" -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l)" = "$(wc -l <"$tmp/failed.orig")" ]'
"$bin" -r "$tmp/failed.pcap" --json -p 18443-18448 2>/dev/null |
	jq -c 'select(.event == "connection" and .outcome == "failed") | del(.diagnosis)' >"$tmp/failed.again"
check "-w output reads back as the same failures" \
	cmp -s "$tmp/failed.orig" "$tmp/failed.again"
run -r $cap/mixed-lo.pcap -w /nonexistent-dir/x.pcap
check "-w to an unwritable place: exit 1, one line" eval \
	'rc 1 && err_lines 1 && err_has "^tlswatch: cannot create /nonexistent-dir/x\.pcap"'

# Bad usage: exit 2 and one line.
for args in "--bogus" "-p 0" "-p 70000" "-p 10-5" "--exclude 300.1.1.1" \
	"--handshake-timeout -1" "-r" "--proxy-protocol 443" \
	"--proxy-trust 10.0.0.0/8" "--recovery-window 0" "--sni" "--client x"; do
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

# --anonymize-ip and --hash-sni on every golden capture: the same
# connections and outcomes, and no client address or server name (SNI,
# the server certificate's CN and first SAN) of the plain run anywhere in
# the output (records, summary, stderr).
: >"$tmp/priv.fail"
for f in $cap/*.pcap tests/golden/corpora/*.pcap; do
	"$bin" -r "$f" -a --json >"$tmp/plain.json" 2>"$tmp/plain.err"
	"$bin" -r "$f" -a --json --anonymize-ip --hash-sni >"$tmp/priv.json" 2>"$tmp/priv.err"
	"$bin" -r "$f" -a --anonymize-ip --hash-sni >"$tmp/priv.txt" 2>&1
	python3 - "$tmp" "$f" >>"$tmp/priv.fail" <<'PY'
import ipaddress, json, re, sys
tmp, f = sys.argv[1], sys.argv[2]
def conns(path):
    return [e for e in map(json.loads, open(path)) if e["event"] == "connection"]
plain, priv = conns(tmp + "/plain.json"), conns(tmp + "/priv.json")
out = open(tmp + "/priv.json").read() + open(tmp + "/priv.err").read() + open(tmp + "/priv.txt").read()
bad = []
if [c["outcome"] for c in plain] != [c["outcome"] for c in priv]:
    bad.append("outcomes differ")
for a, b in zip(plain, priv):
    net = ipaddress.ip_network(a["client"]["ip"] + ("/24" if "." in a["client"]["ip"] and ":" not in a["client"]["ip"] else "/48"), strict=False)
    if ipaddress.ip_address(b["client"]["ip"]) != net.network_address:
        bad.append("client %s shown as %s" % (a["client"]["ip"], b["client"]["ip"]))
    sni = (a.get("client_hello") or {}).get("sni")
    hsni = (b.get("client_hello") or {}).get("sni")
    if sni is not None and not re.fullmatch(r"hash:[0-9a-f]{16}", hsni or ""):
        bad.append("sni %r shown as %r" % (sni, hsni))
    servers = {c["server"]["ip"] for c in plain}
    if a["client"]["ip"] != b["client"]["ip"] and a["client"]["ip"] not in servers and re.search(r"(?<![0-9a-f.:])" + re.escape(a["client"]["ip"]) + r"(?![0-9a-f.:])", out):
        bad.append("address %s printed" % a["client"]["ip"])
    cert = a.get("server_certificate") or {}
    names = [sni, cert.get("san")] + re.findall(r"CN=([^,]+)", cert.get("subject", ""))
    for n in names:
        if n and len(n) > 3 and n not in servers and n in out:
            bad.append("name %s printed" % n)
for x in bad[:3]:
    print(f, x)
PY
done
check "--anonymize-ip --hash-sni hide every address and name, keep every outcome" \
	eval '[ ! -s "$tmp/priv.fail" ] || { sed "s/^/  /" "$tmp/priv.fail" | head -5; false; }'

# One key file: the same name hashes the same in two runs; without it,
# each run has its own key.
head -c 32 /dev/urandom >"$tmp/sni.key"
f=tests/golden/corpora/zeek-chrome-1250-tls-x25519-kyber.pcap
sni_of() { "$bin" -r "$f" -a --json "$@" | jq -r 'select(.event == "connection") | .client_hello.sni' | head -1; }
h1=$(sni_of --hash-sni-key "$tmp/sni.key")
h2=$(sni_of --hash-sni-key "$tmp/sni.key")
h3=$(sni_of --hash-sni)
h4=$(sni_of --hash-sni)
check "--hash-sni-key gives the same hash in every run, --hash-sni a new one" \
	eval '[[ $h1 =~ ^hash:[0-9a-f]{16}$ ]] && [ "$h1" = "$h2" ] && [ "$h3" != "$h4" ] && [ "$h1" != "$h3" ]'
head -c 8 /dev/urandom >"$tmp/short.key"
run -r "$f" --hash-sni-key "$tmp/short.key"
check "--hash-sni-key refuses a key under 16 bytes" \
	eval 'rc 1 && [ "$(grep -c . "$tmp/err")" = 1 ] && err_has "at least 16 bytes" && [ ! -s "$tmp/out" ]'
run -r "$f" -w "$tmp/x.pcap" --anonymize-ip
check "-w cannot go with --anonymize-ip" eval 'rc 2 && err_has "cannot go with" && [ ! -e "$tmp/x.pcap" ]'
run -r "$f" --user nobody
check "--user is for live capture" eval 'rc 2 && err_has "--user is for live"'

run -V
check "--version" eval 'rc 0 && out_has "^tlswatch [0-9]"'
run -h
check "--help" eval 'rc 0 && out_has "--handshake-timeout"'

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
