#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Live diagnosis (issue #4) against real peers on loopback: tlswatch
# attached live (--json) while nginx, haproxy 2.6, openssl s_server and
# openssl/curl/python clients from distinct 127.0.0.x addresses fail and
# succeed. Checks diagnoses, recovered events, summaries and verdicts,
# PROXY protocol (haproxy v1/v2/TLVs, untrusted, split headers), client
# certificates, -w, --client/--sni filters, --interval, the text rate
# limit, latency and JA3. Prints "PASS live-diagnose NAME" or
# "FAIL live-diagnose NAME: why". Needs root. Ports 18460-18479 only.
set -u
cd "$(dirname "$0")/.."
bin=./tlswatch
here=tests/live-diagnose

if [ "$(id -u)" != 0 ]; then
	echo "SKIP live-diagnose: !!! NOT RUN: live BPF tests need root (sudo make test) !!!"
	exit 0
fi

P_LEGACY=18460   # nginx TLS 1.0-1.2, DEFAULT:@SECLEVEL=0 (scenario 1)
P_PP=18461       # nginx TLS 1.2/1.3 behind "listen ... proxy_protocol"
P_HA1=18462      # haproxy -> P_PP send-proxy (v1)
P_HA2=18463      # haproxy -> P_PP send-proxy-v2
P_HA3=18464      # haproxy -> P_PP send-proxy-v2 with TLVs
P_HAMTLS=18465   # haproxy terminating TLS, verify required
P_SMTLS=18466    # openssl s_server -Verify 1 -tls1_2
P_MODERN=18467   # nginx TLS 1.2/1.3
P_PLAIN=18468    # nginx plain HTTP (haproxy mTLS backend)
P_PYPP=18470    # python ssl server reading a PROXY header first (split headers)
P_SNI=18471     # nginx serving app.test only (ssl_reject_handshake elsewhere)
P_ALPN=18472    # openssl s_server -alpn h2

tmp=$(mktemp -d /tmp/tlswatch-live-diagnose.XXXXXX)
pids=()          # servers
tw=              # running tlswatch
T0=$(date +%s%N)
suite=live-diagnose
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for p in $(seq 18460 18474); do
	if [ -n "$(ss -Hltn "( sport = :$p )")" ]; then
		ko setup "port $p already in use"
		exit 1
	fi
done

# ---- certificates: a CA, a server certificate it signs, a client one.
(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=live-diagnose-ca \
		-keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=app.test -keyout srv.key -out srv.csr
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-out srv.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=client.test -keyout cli.key -out cli.csr
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-out cli.pem
	cat srv.pem srv.key >srv-combined.pem
) >/dev/null 2>&1 || { ko setup "openssl could not make certificates"; exit 1; }

# ---- nginx
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 512; }
http {
  access_log $tmp/nginx-access.log;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  default_type text/plain;
  ssl_certificate $tmp/srv.pem;
  ssl_certificate_key $tmp/srv.key;
  ssl_session_tickets off;
  ssl_session_cache off;
  server {
    listen 127.0.0.1:$P_LEGACY ssl;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    location / { return 200 "legacy ok\n"; }
  }
  server {
    listen 127.0.0.1:$P_PP ssl proxy_protocol;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "pp ok \$proxy_protocol_addr\n"; }
  }
  server {
    listen 127.0.0.1:$P_MODERN ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "modern ok\n"; }
  }
  server {
    listen 127.0.0.1:$P_PLAIN;
    location / { return 200 "plain ok\n"; }
  }
  server {
    listen 127.0.0.1:$P_SNI ssl default_server;
    ssl_reject_handshake on;
  }
  server {
    listen 127.0.0.1:$P_SNI ssl;
    server_name app.test;
    location / { return 200 "sni ok\n"; }
  }
}
NGX
nginx -e "$tmp/nginx-error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
	-g 'daemon off; master_process on;' </dev/null >"$tmp/nginx.out" 2>&1 &
pids+=($!)

# ---- haproxy 2.6
cat >"$tmp/haproxy.cfg" <<HAP
global
  maxconn 256
defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend v1
  bind 127.0.0.1:$P_HA1
  default_backend v1
backend v1
  server s 127.0.0.1:$P_PP send-proxy check inter 400ms
frontend v2
  bind 127.0.0.1:$P_HA2
  default_backend v2
backend v2
  server s 127.0.0.1:$P_PP send-proxy-v2 check inter 400ms
frontend v2tlv
  bind 127.0.0.1:$P_HA3
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt
  default_backend v2tlv
backend v2tlv
  server s 127.0.0.1:$P_PP send-proxy-v2 proxy-v2-options authority,crc32c,unique-id check inter 400ms
frontend mtls
  bind 127.0.0.1:$P_HAMTLS ssl crt $tmp/srv-combined.pem verify required ca-file $tmp/ca.pem
  default_backend plain
backend plain
  server s 127.0.0.1:$P_PLAIN
HAP
haproxy -db -f "$tmp/haproxy.cfg" </dev/null >"$tmp/haproxy.out" 2>&1 &
pids+=($!)

# ---- openssl s_server requiring a client certificate, TLS 1.2
openssl s_server -accept 127.0.0.1:$P_SMTLS -cert "$tmp/srv.pem" -key "$tmp/srv.key" \
	-Verify 1 -tls1_2 -www -quiet </dev/null >"$tmp/s_server.out" 2>&1 &
pids+=($!)

# ---- openssl s_server speaking h2 only (ALPN): alert 120 to the rest
openssl s_server -accept 127.0.0.1:$P_ALPN -cert "$tmp/srv.pem" -key "$tmp/srv.key" \
	-alpn h2 -www -quiet </dev/null >"$tmp/s_server_alpn.out" 2>&1 &
pids+=($!)

for p in $P_LEGACY $P_PP $P_MODERN $P_PLAIN $P_HA1 $P_HA2 $P_HA3 $P_HAMTLS $P_SMTLS \
	$P_SNI $P_ALPN; do
	for _ in $(seq 100); do
		[ -n "$(ss -Hltn "( sport = :$p )")" ] && break
		sleep 0.1
	done
	if [ -z "$(ss -Hltn "( sport = :$p )")" ]; then
		ko setup "nothing listens on $p: $(tail -n 5 "$tmp"/nginx-error.log "$tmp"/*.out 2>/dev/null)"
		exit 1
	fi
done

# ---- tlswatch in the background: start NAME ARGS..., stop.
start() {
	local name=$1
	shift
	"$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	tw=$!
	for _ in $(seq 100); do
		grep -q "^tlswatch: watching" "$tmp/$name.err" && return 0
		kill -0 $tw 2>/dev/null || break
		sleep 0.1
	done
	ko "$name" "tlswatch did not attach: $(head -c 400 "$tmp/$name.err")"
	kill -9 $tw 2>/dev/null
	wait $tw 2>/dev/null
	tw=
	return 1
}
stop() {	# outcomes fall due up to a second after the last packet
	sleep "${1:-1.5}"
	kill -INT $tw
	wait $tw
	local rc=$?
	tw=
	return $rc
}
# jq over a run's stdout: q NAME FILTER
q() { jq -c -s "$2" "$tmp/$1.out" 2>&1; }

sc() {	# s_client wrapper: sc SRC PORT ARGS...
	local src=$1 port=$2
	shift 2
	timeout 5 openssl s_client -bind "$src" -connect 127.0.0.1:"$port" "$@" \
		</dev/null >/dev/null 2>&1
}
sc_hold() {	# the same, keeping the connection open for a second
	local src=$1 port=$2
	shift 2
	sleep 1 | timeout 5 openssl s_client -bind "$src" -connect 127.0.0.1:"$port" "$@" \
		>/dev/null 2>&1
}
curl_ok() {	# curl_ok SRC URL [ARGS]
	local src=$1 url=$2
	shift 2
	timeout 5 curl -sk --interface "$src" "$@" "$url" >/dev/null 2>&1
}

# ====================================================================
# 1. The motivating case: fallback probes that retry, clients locked out.
name=fallback-verdict
if start $name -p $P_LEGACY --json; then
	# Old clients that the server lets in, at TLS 1.0 and 1.1: what the
	# port accepts is learnt from them too.
	sc 127.0.0.38 $P_LEGACY -tls1 -cipher DEFAULT:@SECLEVEL=0 -servername app.test
	sc 127.0.0.39 $P_LEGACY -tls1_1 -cipher DEFAULT:@SECLEVEL=0 -servername app.test
	for i in 31 32 33; do
		sc 127.0.0.$i $P_LEGACY -tls1_1 -fallback_scsv -cipher DEFAULT:@SECLEVEL=0 \
			-servername app.test
		curl_ok 127.0.0.$i https://app.test:$P_LEGACY/ \
			--resolve app.test:$P_LEGACY:127.0.0.1 --tlsv1.2
	done
	sc 127.0.0.35 $P_LEGACY -tls1_3 -servername app.test
	sc 127.0.0.36 $P_LEGACY -tls1_2 -cipher NULL-SHA:@SECLEVEL=0 -servername app.test
	python3 $here/peer.py sslv3 127.0.0.37 127.0.0.1 $P_LEGACY
	stop
	echo "--- stderr summary of the fallback/lockout run:"
	cp "$tmp/$name.err" "$tmp/fallback-summary.txt"
	cat "$tmp/fallback-summary.txt"
	echo "---"
	why=
	probes=$(q $name '[.[] | select(.event=="connection" and .diagnosis.code=="fallback_probe"
		and .diagnosis.harmless==null and .client_hello.fallback_scsv)] | length')
	[ "$probes" = 3 ] || why+=" fallback_probe records (harmless null): $probes, want 3;"
	rec=$(q $name '[.[] | select(.event=="recovered" and .diagnosis.code=="fallback_retry"
		and .diagnosis.harmless==true and .sni=="app.test") | .client.ip] | sort')
	[ "$rec" = '["127.0.0.31","127.0.0.32","127.0.0.33"]' ] ||
		why+=" recovered fallback_retry events from $rec;"
	d35=$(q $name '[.[] | select(.event=="connection" and .client.ip=="127.0.0.35") | .diagnosis.code]')
	[ "$d35" = '["version_too_high"]' ] || why+=" TLS 1.3-only client: $d35, want version_too_high;"
	d36=$(q $name '[.[] | select(.event=="connection" and .client.ip=="127.0.0.36") | .diagnosis.code]')
	[ "$d36" = '["no_shared_cipher"]' ] || why+=" NULL-SHA client: $d36, want no_shared_cipher;"
	d37=$(q $name '[.[] | select(.event=="connection" and .client.ip=="127.0.0.37") | .diagnosis.code]')
	[ "$d37" = '["version_too_low"]' ] || why+=" SSL 3.0 client: $d37, want version_too_low;"
	s=$(q $name '[.[] | select(.event=="summary" and .final==true)] | last')
	[ "$(jq -r .recovered <<<"$s")" = 3 ] || why+=" summary recovered $(jq -c .recovered <<<"$s"), want 3;"
	[ "$(jq -r .failed <<<"$s")" = 6 ] || why+=" summary failed $(jq -c .failed <<<"$s"), want 6;"
	verdict=$(jq -r .verdict <<<"$s")
	grep -qi "fallback probe" <<<"$verdict" || why+=" verdict does not mention fallback probes;"
	for ip in 127.0.0.35 127.0.0.36 127.0.0.37; do
		grep -qF "$ip" <<<"$verdict" || why+=" verdict does not name $ip;"
	done
	grep -q "^verdict:" "$tmp/$name.err" || why+=" no verdict: paragraph on stderr;"
	grep -q "port has accepted TLS 1.0 to TLS 1.2" <<<"$verdict" ||
		why+=" verdict does not give the port's range TLS 1.0 to TLS 1.2;"
	if [ -z "$why" ]; then ok "$name: 3 probes retried, locked out: 127.0.0.35-37"
	else ko "$name" "$why verdict: $verdict"; fi
	# The NULL-SHA client offers only 0x0002 (TLS_RSA_WITH_NULL_SHA, no
	# encryption): like SSL 3.0, nothing safe lets it in, and the verdict
	# must not advise enabling a NULL, anonymous or export suite.
	if grep -qiE 'such as 0x0002|enable a cipher they offer, such as (0x0001|0x0002|0x003b)' <<<"$verdict"; then
		ko verdict-safe-advice "the verdict advises enabling a NULL (unencrypted) cipher for 127.0.0.36, which offers only NULL-SHA: $(grep -oE 'enable a cipher[^;.]*' <<<"$verdict")"
	else
		ok "verdict-safe-advice: no NULL cipher advised for the NULL-SHA-only client"
	fi
fi

# ====================================================================
# 2./3. PROXY protocol from haproxy 2.6 (v1, v2, v2 with TLVs).
pp_traffic() {
	for p in $P_HA1 $P_HA2 $P_HA3; do
		curl_ok 127.0.0.41 https://127.0.0.1:$p/
		sc 127.0.0.41 $p -tls1_2 -verify_return_error -servername app.test
	done
	sleep 1	# a few more health checks
}
pp_view='[.[] | select(.event=="connection" and .outcome!="no_data")
	| [.client.ip, .peer.ip, .proxy.version, .proxy.trusted, .outcome, .diagnosis.code]]
	| sort | map(tostring) | join(" ")'
name=proxy-trusted
if start $name -p $P_PP --proxy-protocol $P_PP --proxy-trust 127.0.0.1/32 --json -a; then
	pp_traffic
	stop
	got=$(q $name "$pp_view")
	want='"[\"127.0.0.41\",\"127.0.0.1\",1,true,\"established\",null] [\"127.0.0.41\",\"127.0.0.1\",1,true,\"failed\",\"certificate_rejected\"] [\"127.0.0.41\",\"127.0.0.1\",2,true,\"established\",null] [\"127.0.0.41\",\"127.0.0.1\",2,true,\"established\",null] [\"127.0.0.41\",\"127.0.0.1\",2,true,\"failed\",\"certificate_rejected\"] [\"127.0.0.41\",\"127.0.0.1\",2,true,\"failed\",\"certificate_rejected\"]"'
	checks=$(q $name '[.[] | select(.event=="connection" and .outcome=="no_data")] | length')
	local_v2=$(q $name '[.[] | select(.event=="connection" and .proxy.local==true)] | length')
	hc_fail=$(q $name '[.[] | select(.event=="connection" and .outcome=="failed"
		and .client.ip!="127.0.0.41")] | length')
	sumcli=$(q $name '[.[] | select(.event=="summary" and .final)] | last | [.failed, [.clients[].ip]]')
	if [ "$got" = "$want" ] && [ "$hc_fail" = 0 ] && [ "$sumcli" = '[3,["127.0.0.41"]]' ]; then
		ok "$name: haproxy v1/v2/v2+TLV clients shown as 127.0.0.41 via 127.0.0.1 ($checks health checks no_data, $local_v2 LOCAL)"
	else
		ko "$name" "got $got; want $want; summary [failed, clients] $sumcli, want [3,[\"127.0.0.41\"]]; health checks failed: $hc_fail; $(q $name '[.[] | select(.event=="connection" and .outcome=="failed" and .client.ip!="127.0.0.41")] | first')"
	fi
fi

name=proxy-untrusted
if start $name -p $P_PP --proxy-protocol $P_PP --proxy-trust 10.0.0.0/8 --json -a; then
	pp_traffic
	stop
	got=$(q $name '[.[] | select(.event=="connection" and .outcome!="no_data")
		| [.client.ip, has("peer"), .proxy.version, .proxy.trusted, .outcome, .diagnosis.code]]
		| sort | map(tostring) | join(" ")')
	want='"[\"127.0.0.1\",false,1,false,\"established\",null] [\"127.0.0.1\",false,1,false,\"failed\",\"certificate_rejected\"] [\"127.0.0.1\",false,2,false,\"established\",null] [\"127.0.0.1\",false,2,false,\"established\",null] [\"127.0.0.1\",false,2,false,\"failed\",\"certificate_rejected\"] [\"127.0.0.1\",false,2,false,\"failed\",\"certificate_rejected\"]"'
	if [ "$got" = "$want" ]; then
		ok "$name: client is the TCP peer, no peer, trusted false, handshakes still decoded"
	else
		ko "$name" "got $got; want $want"
	fi
fi

# ====================================================================
# 4. PROXY headers split over two segments, then a real handshake.
# nginx 1.22 and haproxy 2.6 (accept-proxy) both want the whole header
# in their first read and reset the connection on a split one ("broken
# header"), so the server is Python's ssl (OpenSSL) behind a reader that
# waits for the rest of the header.
name=proxy-split
timeout 20 python3 $here/peer.py pp-server 127.0.0.1 $P_PYPP "$tmp/srv.pem" "$tmp/srv.key" 2 \
	</dev/null >"$tmp/pp-server.out" 2>&1 &
pps=$!
pids+=($pps)
for _ in $(seq 50); do
	[ -n "$(ss -Hltn "( sport = :$P_PYPP )")" ] && break
	sleep 0.1
done
if start $name -p $P_PYPP --proxy-protocol $P_PYPP --proxy-trust 127.0.0.1/32 --json -a; then
	e1=$(timeout 10 python3 $here/peer.py proxy-split v1 203.0.113.7 127.0.0.1 $P_PYPP 2>&1)
	e2=$(timeout 10 python3 $here/peer.py proxy-split v2 203.0.113.8 127.0.0.1 $P_PYPP 2>&1)
	stop
	got=$(q $name '[.[] | select(.event=="connection")
		| [.client.ip, .peer.ip, .proxy.version, .proxy.trusted, .outcome, .client_hello.sni]]
		| sort | map(tostring) | join(" ")')
	want='"[\"203.0.113.7\",\"127.0.0.1\",1,true,\"established\",\"split.test\"] [\"203.0.113.8\",\"127.0.0.1\",2,true,\"established\",\"split.test\"]"'
	if [ "$got" = "$want" ]; then
		ok "$name: v1 and v2 headers in two segments, clients 203.0.113.7/.8 established"
	else
		ko "$name" "got $got; want $want; clients said: $e1 $e2; server: $(cat "$tmp/pp-server.out")"
	fi
fi

# ====================================================================
# 5. Client certificates required: haproxy verify required, s_server -Verify 1.
name=client-cert
if start $name -p $P_HAMTLS,$P_SMTLS --json -a; then
	sc_hold 127.0.0.45 $P_HAMTLS -tls1_2 &
	c1=$!
	sc_hold 127.0.0.46 $P_HAMTLS -tls1_3 &
	c2=$!
	sc_hold 127.0.0.47 $P_HAMTLS -cert "$tmp/cli.pem" -key "$tmp/cli.key" &
	c3=$!
	sc_hold 127.0.0.48 $P_SMTLS -tls1_2 &
	c4=$!
	wait $c1 $c2 $c3 $c4
	stop
	got=$(q $name '[.[] | select(.event=="connection")
		| [.client.ip, .server.port, .outcome, .diagnosis.code]]
		| sort | map(tostring) | join(" ")')
	want="\"[\\\"127.0.0.45\\\",$P_HAMTLS,\\\"failed\\\",\\\"client_certificate_rejected\\\"] [\\\"127.0.0.46\\\",$P_HAMTLS,\\\"failed\\\",\\\"client_certificate_rejected\\\"] [\\\"127.0.0.47\\\",$P_HAMTLS,\\\"established\\\",null] [\\\"127.0.0.48\\\",$P_SMTLS,\\\"failed\\\",\\\"client_certificate_rejected\\\"]\""
	if [ "$got" = "$want" ]; then
		ok "$name: haproxy verify required (TLS 1.2, 1.3) and s_server -Verify 1"
	else
		ko "$name" "got $got; want $want"
	fi
fi

# ====================================================================
# 5b. A name the server does not serve (nginx ssl_reject_handshake: alert
# 112), and no ALPN overlap (s_server -alpn h2: alert 120), each after a
# success that teaches the port what it serves.
name=sni-alpn
if start $name -p $P_SNI,$P_ALPN --json; then
	sc 127.0.0.56 $P_SNI -servername app.test
	sc 127.0.0.57 $P_SNI -servername other.test
	sc 127.0.0.58 $P_ALPN -alpn h2
	sc 127.0.0.59 $P_ALPN -alpn foo,bar
	stop
	got=$(q $name '[.[] | select(.event=="connection")
		| [.client.ip, .diagnosis.code, .alert.code]] | sort | map(tostring) | join(" ")')
	want='"[\"127.0.0.57\",\"sni_unknown\",112] [\"127.0.0.59\",\"alpn_mismatch\",120]"'
	text=$(q $name '[.[] | select(.event=="connection") | .diagnosis.text] | join(" | ")')
	if [ "$got" = "$want" ] && grep -q "other.test" <<<"$text" && grep -q "foo,bar" <<<"$text"; then
		ok "$name: unserved name and ALPN without overlap diagnosed"
	else
		ko "$name" "got $got ($text); want $want"
	fi
fi

# ====================================================================
# 5c. A scanner: nmap ssl-enum-ciphers makes dozens of connections, most
# closing after the server's flight or refused for the old versions and
# ciphers it tries. Harmless, all of it: no client is locked out.
name=scanner
if start $name -p $P_MODERN --json; then
	timeout 60 nmap -Pn -n -S 127.0.0.61 -e lo --script ssl-enum-ciphers \
		-p $P_MODERN 127.0.0.1 >"$tmp/nmap.out" 2>&1
	stop
	s=$(q $name '[.[] | select(.event=="summary" and .final==true)] | last')
	probes=$(q $name '[.[] | select(.event=="connection" and .diagnosis.code=="scanner_probe"
		and .diagnosis.harmless==true)] | length')
	failed=$(jq -r .failed <<<"$s")
	verdict=$(jq -r .verdict <<<"$s")
	if [ "$probes" -ge 3 ] && [ "$failed" -ge "$probes" ] &&
		grep -q "^$failed of $failed failures (100%) are harmless" <<<"$verdict" &&
		grep -q "scanner-like" <<<"$verdict" && grep -q "No client is locked out" <<<"$verdict"; then
		ok "$name: nmap's $failed failures ($probes closed after the server's flight) all harmless"
	else
		ko "$name" "probes $probes, failed $failed, verdict: $verdict ($(tail -n 3 "$tmp/nmap.out"))"
	fi
fi

# ====================================================================
# 5d. Owner: a server in a cgroup of its own is named by it, in records and
# in the metrics' owner label.
name=owner
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
cg="$cgroot/tlswatch-owner-test.service"
P_OWNER=18473
if [ -z "$cgroot" ] || ! mkdir -p "$cg"; then
	ko "$name" "no cgroup v2 directory to make a test cgroup in"
elif start $name -p $P_OWNER --json --metrics 127.0.0.1:18474; then
	sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
		openssl s_server -accept 127.0.0.1:$P_OWNER -cert "$tmp/srv.pem" \
		-key "$tmp/srv.key" -tls1_2 -www -quiet </dev/null >/dev/null 2>&1 &
	opid=$!
	pids+=($opid)
	for _ in $(seq 50); do
		[ -n "$(ss -Hltn "( sport = :$P_OWNER )")" ] && break
		sleep 0.1
	done
	sc 127.0.0.62 $P_OWNER -tls1 -cipher DEFAULT:@SECLEVEL=0
	sleep 2.5	# a metrics render
	m=$(curl -s 127.0.0.1:18474/metrics | grep "^tlswatch_handshakes_total{port=\"$P_OWNER\"")
	stop
	kill "$opid" 2>/dev/null
	wait "$opid" 2>/dev/null
	got=$(q $name '[.[] | select(.event=="connection") | .owner] | first')
	if [ "$got" = '{"name":"tlswatch-owner-test.service","cgroup":"/tlswatch-owner-test.service"}' ] &&
		grep -q 'owner="tlswatch-owner-test.service",outcome="failed"} 1' <<<"$m"; then
		ok "$name: the server's cgroup names it in the record and the metric"
	else
		ko "$name" "record owner $got; metric: $m"
	fi
fi
rmdir "$cg" 2>/dev/null

# ====================================================================
# 6. -w: the packets of failed connections, readable by tshark.
name=write-pcap
if start $name -p $P_MODERN --json -a -w "$tmp/failed.pcap"; then
	sc 127.0.0.52 $P_MODERN -tls1_2 -verify_return_error -servername w1.test
	sc 127.0.0.53 $P_MODERN -tls1_2 -cipher NULL-SHA:@SECLEVEL=0 -servername w2.test
	curl_ok 127.0.0.54 https://w3.test:$P_MODERN/ --resolve w3.test:$P_MODERN:127.0.0.1
	stop
	why=
	estport=$(q $name '[.[] | select(.event=="connection" and .outcome=="established") | .client.port] | first')
	nfail=$(q $name '[.[] | select(.event=="connection" and .outcome=="failed")] | length')
	[ "$nfail" = 2 ] || why+=" $nfail failed records, want 2;"
	[ "$estport" != null ] || why+=" no established record;"
	if ! tshark -r "$tmp/failed.pcap" -d tcp.port==$P_MODERN,tls >"$tmp/tshark.all" 2>"$tmp/tshark.err" ||
		grep -qv 'Running as user "root"' "$tmp/tshark.err"; then
		why+=" tshark: $(head -c 300 "$tmp/tshark.err");"
	fi
	alerts=$(tshark -r "$tmp/failed.pcap" -d tcp.port==$P_MODERN,tls -Y tls.alert_message \
		-T fields -e ip.src -e tls.alert_message.desc 2>/dev/null | sort | tr '\t\n' ': ')
	[ "$alerts" = "127.0.0.1:40 127.0.0.52:48 " ] ||
		why+=" alerts (src:desc) '$alerts', want '127.0.0.1:40 127.0.0.52:48 ';"
	snis=$(tshark -r "$tmp/failed.pcap" -d tcp.port==$P_MODERN,tls -Y 'tls.handshake.type==1' \
		-T fields -e tls.handshake.extensions_server_name 2>/dev/null | sort | paste -sd' ')
	[ "$snis" = "w1.test w2.test" ] || why+=" ClientHello SNIs '$snis', want 'w1.test w2.test';"
	est=$(tshark -r "$tmp/failed.pcap" -Y "tcp.port==$estport || ip.addr==127.0.0.54" 2>/dev/null | wc -l)
	[ "$est" = 0 ] || why+=" $est packets of the established connection (port $estport);"
	n=$(wc -l <"$tmp/tshark.all")
	if [ -z "$why" ]; then ok "$name: $n packets, alerts 40 and 48, SNIs w1/w2.test, none of the established one"
	else ko "$name" "$why tlswatch said: $(tail -c 1500 "$tmp/$name.err")"; fi
fi

# ====================================================================
# 7. Filters: --client and --sni; the summary counts what is reported.
refuse() {	# a refused hello: refuse SRC SNI
	sc "$1" $P_MODERN -tls1_2 -cipher NULL-SHA:@SECLEVEL=0 -servername "$2"
}
name=filter-client
if start $name -p $P_MODERN --json --client 127.0.0.51/32; then
	refuse 127.0.0.51 a.test
	refuse 127.0.0.55 a.test
	refuse 127.0.0.51 b.test
	refuse 127.0.0.55 b.test
	stop
	got=$(q $name '[.[] | select(.event=="connection") | .client.ip] | unique')
	n=$(q $name '[.[] | select(.event=="connection")] | length')
	s=$(q $name '[.[] | select(.event=="summary" and .final)] | last | [.connections, .failed, [.clients[].ip]]')
	if [ "$got" = '["127.0.0.51"]' ] && [ "$n" = 2 ] && [ "$s" = '[2,2,["127.0.0.51"]]' ]; then
		ok "$name: only 127.0.0.51 reported and counted"
	else
		ko "$name" "clients $got, $n records, summary [connections, failed, clients] $s, want [2,2,[\"127.0.0.51\"]]"
	fi
fi
name=filter-sni
if start $name -p $P_MODERN --json --sni 'A.*,zz.test'; then
	refuse 127.0.0.56 a.test
	refuse 127.0.0.56 b.test
	refuse 127.0.0.57 a.TEST
	sc 127.0.0.57 $P_MODERN -tls1_2 -cipher NULL-SHA:@SECLEVEL=0 -noservername
	stop
	got=$(q $name '[.[] | select(.event=="connection") | .client_hello.sni] | sort')
	s=$(q $name '[.[] | select(.event=="summary" and .final)] | last | [.connections, .failed]')
	if [ "$got" = '["a.TEST","a.test"]' ] && [ "$s" = '[2,2]' ]; then
		ok "$name: only SNI a.test (any case) reported and counted"
	else
		ko "$name" "SNIs reported $got, want [\"a.TEST\",\"a.test\"]; summary [connections, failed] $s, want [2,2]"
	fi
fi

# ====================================================================
# 8. --interval 1: periodic summaries, counts non-decreasing.
name=interval
if start $name -p $P_MODERN --json --interval 1; then
	for _ in $(seq 7); do
		refuse 127.0.0.58 i.test
		sleep 0.5
	done
	stop 1.2
	sums=$(q $name '[.[] | select(.event=="summary") | [.final, .connections, .failed]]')
	nper=$(jq '[.[] | select(.[0]==false)] | length' <<<"$sums")
	good=$(jq '(.[-1][0]==true) and ([.[:-1][] | .[0]==false] | all)
		and ([range(1; length) as $i | .[$i][1] >= .[$i-1][1] and .[$i][2] >= .[$i-1][2]] | all)
		and .[-1][2] == 7' <<<"$sums")
	if [ "$nper" -ge 2 ] && [ "$good" = true ]; then
		ok "$name: $nper interim summaries then the final one, counts non-decreasing"
	else
		ko "$name" "summaries [final, connections, failed]: $sums"
	fi
fi

# ====================================================================
# 9. Text storm: 300 quick failures, human output limited to ~50 lines/s.
name=text-storm
if start $name -p $P_MODERN; then
	t1=$(date +%s%N)
	timeout 60 python3 $here/peer.py storm 127.0.0.60 127.0.0.1 $P_MODERN 300
	t2=$(date +%s%N)
	stop
	secs=$(( (t2 - t1 + 1500000000) / 1000000000 + 1 ))
	lines=$(grep -c '127\.0\.0\.60' "$tmp/$name.out")
	held=$(grep -ci 'held back' "$tmp/$name.out")
	why=
	[ "$lines" -le $((55 * secs)) ] || why+=" $lines connection lines in about $secs s;"
	[ "$held" -ge 1 ] || why+=" no 'held back' line;"
	grep -qE '^tlswatch: 300 connections, .*300 failed' "$tmp/$name.err" ||
		why+=" stderr summary: $(head -n 1 "$tmp/$name.err" | tail -n 1) / $(grep '^tlswatch: [0-9]' "$tmp/$name.err");"
	if [ -z "$why" ]; then
		ok "$name: $lines lines in ${secs}s for 300 failures, $(grep -i 'held back' "$tmp/$name.out" | head -n 1)"
	else
		ko "$name" "$why"
		tail -n 3 "$tmp/$name.out"
	fi
fi

# ====================================================================
# 10. Latency of established handshakes, and JA3 as tshark computes it.
name=latency-ja3
tcpdump -i lo -s 0 -U -w "$tmp/ja3.pcap" "tcp port $P_MODERN" 2>/dev/null &
dump=$!
pids+=($dump)
if start $name -p $P_MODERN --json -a; then
	curl_ok 127.0.0.61 https://l.test:$P_MODERN/ --resolve l.test:$P_MODERN:127.0.0.1 \
		--tlsv1.2 --tls-max 1.2
	curl_ok 127.0.0.62 https://l.test:$P_MODERN/ --resolve l.test:$P_MODERN:127.0.0.1 --tlsv1.3
	stop
	sleep 0.3
	kill -INT $dump 2>/dev/null
	wait $dump 2>/dev/null
	why=
	for v in 61:"TLS 1.2" 62:"TLS 1.3"; do
		ip=127.0.0.${v%%:*}
		r=$(q $name "[.[] | select(.event==\"connection\" and .client.ip==\"$ip\")] | first")
		jq -e ".outcome==\"established\" and .server_hello.version==\"${v#*:}\"
			and .latency_ms.server_flight > 0 and .latency_ms.client_finished >= 0" <<<"$r" >/dev/null ||
			why+=" $ip: $(jq -c '[.outcome, .server_hello.version, .latency_ms]' <<<"$r" 2>&1);"
		mine=$(jq -r .client_hello.ja3 <<<"$r" 2>/dev/null)
		theirs=$(tshark -r "$tmp/ja3.pcap" -d tcp.port==$P_MODERN,tls \
			-Y "tls.handshake.type==1 && ip.src==$ip" -T fields -e tls.handshake.ja3 2>/dev/null)
		[ -n "$theirs" ] && [ "$mine" = "$theirs" ] || why+=" $ip JA3 $mine, tshark $theirs;"
	done
	if [ -z "$why" ]; then ok "$name: TLS 1.2/1.3 latencies set, JA3 equals tshark's"
	else ko "$name" "$why tlswatch said: $(tail -c 1500 "$tmp/$name.err")"; fi
fi

ms=$((($(date +%s%N) - T0) / 1000000))
echo "live-diagnose: $pass passed, $fail failed in $((ms / 1000)).$((ms % 1000 / 100)) s"
[ $fail -eq 0 ]
