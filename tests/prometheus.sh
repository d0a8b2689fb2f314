#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The metrics endpoint and the deploy/ files, against real tools:
#  - promtool checks the scrape configuration and the rules, and runs the
#    rules' unit tests; systemd-analyze verifies the unit; the DaemonSet
#    and the dashboard parse;
#  - every metric the dashboard and the rules use is a family tlswatch
#    serves, and promtool check metrics accepts what it serves;
#  - a real Prometheus (Debian's) scrapes tlswatch every second while
#    nginx refuses real clients: what Prometheus reports per reason, alert,
#    outcome, version, diagnosis and recovery equals what tlswatch's JSON
#    records say about the same traffic;
#  - the endpoint serves /metrics only, and a bare port binds 127.0.0.1;
#  - scrapers that connect and stall do not hold up capture.
# Prints "PASS prometheus NAME" or "FAIL prometheus NAME: why". Needs root.
# Ports: 18490-18499 servers, 19090 Prometheus, 19935 tlswatch's metrics.
set -u
cd "$(dirname "$0")/.."
bin=./tlswatch
deploy=deploy

if [ "$(id -u)" != 0 ]; then
	echo "SKIP prometheus: !!! NOT RUN: live BPF tests need root (sudo make test) !!!"
	exit 0
fi

P_TLS=18490          # nginx, TLS 1.2 and 1.3 only, self-signed
PROM=127.0.0.1:19090
MPORT=19935
METRICS=http://127.0.0.1:$MPORT/metrics

tmp=$(mktemp -d /tmp/tlswatch-prometheus.XXXXXX)
pids=()              # nginx, Prometheus, stalled scrapers
tw=                  # tlswatch
suite=prometheus
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
finish() {
	echo "prometheus: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
oneline() { tr '\n' ' ' | sed 's/  */ /g' | cut -c 1-600; }

for t in promtool prometheus nginx openssl curl jq ss python3; do
	if ! command -v $t >/dev/null; then
		ko setup "$t is not installed (tests/install-deps.sh test)"
		finish
	fi
done

# ---- a. The deploy files, statically.
cfg=$deploy/prometheus/prometheus.yml
if out=$(promtool check config "$cfg" 2>&1); then
	ok "promtool check config $cfg"
elif grep -q "field kubernetes_sd_configs not found" <<<"$out"; then
	# Debian builds Prometheus without Kubernetes service discovery: check
	# the rest of the file, and say so.
	awk '/^  - job_name:/ { skip = ($3 == "tlswatch") } !skip' "$cfg" \
		>"$tmp/prometheus-nok8s.yml"
	sed -i "s|^  - tlswatch-rules.yml|  - $PWD/$deploy/prometheus/tlswatch-rules.yml|" \
		"$tmp/prometheus-nok8s.yml"
	if out=$(promtool check config "$tmp/prometheus-nok8s.yml" 2>&1); then
		ok "promtool check config $cfg (kubernetes_sd job left out: this promtool is built without Kubernetes discovery)"
	else
		ko "promtool check config" "$(oneline <<<"$out")"
	fi
else
	ko "promtool check config" "$(oneline <<<"$out")"
fi
if out=$(promtool check rules $deploy/prometheus/tlswatch-rules.yml 2>&1); then
	ok "promtool check rules: $(grep -o 'SUCCESS: .*' <<<"$out")"
else
	ko "promtool check rules" "$(oneline <<<"$out")"
fi
if out=$(promtool test rules $deploy/prometheus/tlswatch-rules.test.yml 2>&1); then
	ok "promtool test rules: the alerts fire and stay quiet as the tests say"
else
	ko "promtool test rules" "$(oneline <<<"$out")"
fi
if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart's binary to exist: point it at this build.
	sed "s|/usr/local/bin/tlswatch|$PWD/tlswatch|" $deploy/tlswatch.service \
		>"$tmp/tlswatch.service"
	if out=$(systemd-analyze verify --man=no "$tmp/tlswatch.service" 2>&1) &&
		[ -z "$out" ]; then
		ok "systemd-analyze verify deploy/tlswatch.service"
	else
		ko "systemd-analyze verify" "$(oneline <<<"$out")"
	fi
fi
if python3 -c 'import yaml' 2>/dev/null; then
	if out=$(python3 - $deploy/kubernetes/daemonset.yaml 2>&1 <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
caps = c["securityContext"]["capabilities"]
assert caps["drop"] == ["ALL"], caps
assert sorted(caps["add"]) == ["BPF", "NET_ADMIN", "PERFMON"], caps
assert c["securityContext"]["readOnlyRootFilesystem"] is True
assert c["securityContext"].get("privileged") is not True
assert not spec.get("hostPID") and not spec.get("hostNetwork")
assert "--cgroup=/host/sys/fs/cgroup" in c["args"], c["args"]
assert "--metrics=0.0.0.0:9935" in c["args"], c["args"]
m = [v for v in c["volumeMounts"] if v["mountPath"] == "/host/sys/fs/cgroup"][0]
assert m["readOnly"] is True
ann = ds["spec"]["template"]["metadata"]["annotations"]
assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == "9935"
print(", ".join(d["kind"] for d in docs))
PY
	); then
		ok "daemonset.yaml parses ($out): caps BPF PERFMON NET_ADMIN only, read-only root and cgroup"
	else
		ko "daemonset.yaml" "$(oneline <<<"$out")"
	fi
else
	echo "SKIP prometheus daemonset.yaml: python3 yaml module missing (apt-get install python3-yaml)"
fi
dash=$deploy/grafana/tlswatch-dashboard.json
if jq -e '.schemaVersion >= 36 and (.panels | length) > 0 and
	([.templating.list[].name] | index("port") != null)' "$dash" >/dev/null 2>&1; then
	ok "dashboard JSON parses: $(jq '[.panels[] | select(.type != "row")] | length' "$dash") panels"
else
	ko "dashboard JSON" "does not parse, or has no panels or no port variable"
fi

# ---- Servers and tlswatch.
for p in $(seq 18490 18499) 19090 $MPORT; do
	if [ -n "$(ss -Hltn "( sport = :$p )")" ]; then
		ko setup "port $p already in use"
		finish
	fi
done
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=prometheus.test \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx-error.log info;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  default_type text/plain;
  ssl_session_tickets off;
  ssl_session_cache off;
  server {
    listen 127.0.0.1:$P_TLS ssl;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
  }
}
NGX
nginx -e "$tmp/nginx-error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
	-g 'daemon off; master_process on;' </dev/null >"$tmp/nginx.out" 2>&1 &
pids+=($!)

# A short recovery window, so that failures settle within the test.
"$bin" -p $P_TLS --json -a --metrics $MPORT --recovery-window 3 \
	>"$tmp/tw.jsonl" 2>"$tmp/tw.err" &
tw=$!
for _ in $(seq 100); do
	grep -q "^tlswatch: watching" "$tmp/tw.err" && break
	kill -0 $tw 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "^tlswatch: watching" "$tmp/tw.err"; then
	ko setup "tlswatch did not attach: $(head -c 400 "$tmp/tw.err")"
	finish
fi

cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/$deploy/prometheus/tlswatch-rules.yml
scrape_configs:
  - job_name: tlswatch-host
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address=$PROM >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
	[ -n "$(ss -Hltn "( sport = :$P_TLS )")" ] && break
	sleep 0.1
done
if [ -z "$(ss -Hltn "( sport = :$P_TLS )")" ]; then
	ko setup "nginx does not listen on $P_TLS: $(tail -n 5 "$tmp/nginx-error.log" "$tmp/nginx.out" 2>/dev/null | oneline)"
	finish
fi

# ---- e. Nothing but /metrics; a bare port is loopback only.
listen=$(ss -Hltn "( sport = :$MPORT )" | awk '{ print $4 }' | sort | paste -sd' ' -)
if [ "$listen" = "127.0.0.1:$MPORT" ]; then
	ok "--metrics $MPORT listens on 127.0.0.1:$MPORT only"
else
	ko "bare --metrics port" "listening on: ${listen:-nothing}"
fi
codes=
for path in / /metrics/ /metricsx /index.html /debug/pprof/ "/metrics?x=1"; do
	codes+="$path=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT$path") "
done
type=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{content_type}' $METRICS)
want="/=404 /metrics/=404 /metricsx=404 /index.html=404 /debug/pprof/=404 /metrics?x=1=200 "
if [ "$codes" = "$want" ] && [[ "$type" == "200 text/plain; version=0.0.4"* ]]; then
	ok "only /metrics is served (text/plain; version=0.0.4), 404 elsewhere"
else
	ko "paths" "got $codes/metrics=$type"
fi

# ---- d. Real traffic; Prometheus against the JSON records.
# 3 TLS 1.0 clients, refused with protocol_version; 2 plain HTTP clients;
# 4 successes, one of them (127.0.0.71) a failed client coming back.
for i in 71 72 73; do
	timeout 5 openssl s_client -connect 127.0.0.1:$P_TLS -bind 127.0.0.$i \
		-tls1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1
done
for i in 74 75; do
	timeout 5 curl -s --interface 127.0.0.$i http://127.0.0.1:$P_TLS/ >/dev/null
done
for i in 71 81 82 83; do
	timeout 5 curl -sk --interface 127.0.0.$i https://127.0.0.1:$P_TLS/ >/dev/null
done

# query EXPR LABELS: Prometheus's answer, one "labels value" line per
# series, sorted; LABELS are comma-separated label names.
query() {
	curl -s -m 5 -G --data-urlencode "query=$1" "http://$PROM/api/v1/query" |
		jq -r --arg keys "$2" '.data.result[]? | . as $r |
			[($keys | if . == "" then ["-"] else split(",") end)[] as $k |
			 $r.metric[$k] // "-" | gsub(" "; "_")] +
			[$r.value[1]] |
			join(" ")' | sort
}
# records FILTER KEY: the same from the JSON records of port P_TLS.
records() {
	jq -r "select(.event == \"connection\" and .server.port == $P_TLS) |
		select($1) | $2" "$tmp/tw.jsonl" | sort | uniq -c |
		sed -E 's/^ *([0-9]+) (.*)$/\2 \1/' |
		sed 's/^null /- /' | sort
}
# Wait until Prometheus has every connection and every failure settled.
n_conn=0
for _ in $(seq 100); do
	n_conn=$(jq -s "[.[] | select(.event == \"connection\" and .server.port == $P_TLS)] | length" "$tmp/tw.jsonl")
	n_failed=$(jq -s "[.[] | select(.event == \"connection\" and .server.port == $P_TLS and .outcome == \"failed\")] | length" "$tmp/tw.jsonl")
	got=$(query "sum(tlswatch_handshakes_total{port=\"$P_TLS\"})" "")
	settled=$(query "sum(tlswatch_failures_recovered_total{port=\"$P_TLS\"}) + sum(tlswatch_failures_unrecovered_total{port=\"$P_TLS\"})" "")
	[ "$n_conn" = 9 ] && [ "$got" = "- $n_conn" ] && [ "$settled" = "- $n_failed" ] && break
	sleep 0.25
done
if [ "$n_conn" = 9 ] && [ "$n_failed" = 5 ]; then
	ok "traffic: 9 connections, 5 failed, in the JSON records"
else
	ko "traffic" "$n_conn connections, $n_failed failed in the JSON records: $(jq -c '[.client.ip, .outcome, .reason]' "$tmp/tw.jsonl" | oneline)"
fi
# Two more scrapes after the last change.
sleep 2.5

compare() {
	local name=$1 expr=$2 labels=$3 filter=$4 key=$5 want got
	want=$(records "$filter" "$key")
	got=$(query "$expr" "$labels")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ok "Prometheus = JSON: $name: $(paste -sd, - <<<"$got")"
	else
		ko "Prometheus = JSON: $name" "Prometheus says [$(paste -sd, - <<<"$got")], the JSON records [$(paste -sd, - <<<"$want")]"
	fi
}
sel="port=\"$P_TLS\""
compare "handshakes by outcome" \
	"sum by (outcome) (tlswatch_handshakes_total{$sel})" outcome \
	true '.outcome'
compare "failures by reason" \
	"sum by (reason) (tlswatch_handshake_failures_total{$sel})" reason \
	'.outcome == "failed"' '.reason'
compare "failures by reason and alert" \
	"sum by (reason, alert) (tlswatch_handshake_failures_total{$sel})" reason,alert \
	'.outcome == "failed"' \
	'.reason + " " + (if .alert == null then "none" elif .alert.encrypted then "encrypted" else .alert.name end)'
compare "diagnoses" \
	"sum by (code) (tlswatch_handshake_diagnoses_total{$sel})" code \
	'.outcome == "failed" and .diagnosis != null' '.diagnosis.code'
compare "offered versions of failing clients" \
	"sum by (version) (tlswatch_failed_client_versions_total{$sel})" version \
	'.outcome == "failed" and .client_hello.version != null' '.client_hello.version | gsub(" "; "_")'
compare "established versions" \
	"sum by (version) (tlswatch_established_versions_total{$sel})" version \
	'.outcome == "established"' '.server_hello.version | gsub(" "; "_")'
compare "established handshakes timed" \
	"sum(tlswatch_handshake_duration_seconds_count{$sel})" "" \
	'.outcome == "established"' '"-"'
n_rec=$(jq -s '[.[] | select(.event == "recovered")] | length' "$tmp/tw.jsonl")
got_rec=$(query "sum(tlswatch_failures_recovered_total{$sel})" "")
got_unrec=$(query "sum(tlswatch_failures_unrecovered_total{$sel})" "")
if [ "$n_rec" -ge 1 ] && [ "$got_rec" = "- $n_rec" ] &&
	[ "$got_unrec" = "- $((n_failed - n_rec))" ]; then
	ok "Prometheus = JSON: $n_rec recovered, $((n_failed - n_rec)) unrecovered once the window passed"
else
	ko "recovered/unrecovered" "JSON: $n_rec recovered events of $n_failed failures; Prometheus: recovered [$got_rec] unrecovered [$got_unrec]"
fi
# The versions were compared with spaces as underscores (query's output
# is space-separated); check the label itself has the JSON's spelling.
lab=$(curl -s -m 5 -G --data-urlencode "query=tlswatch_failed_client_versions_total{$sel}" \
	"http://$PROM/api/v1/query" | jq -r '[.data.result[].metric.version] | unique | join(",")')
if [ "$lab" = "TLS 1.0" ]; then
	ok "version label spelt as in the records: \"$lab\""
else
	ko "version label" "got \"$lab\", want \"TLS 1.0\""
fi
up=$(query 'up{job="tlswatch-host"}' instance)
if [ "$up" = "127.0.0.1:$MPORT 1" ]; then
	ok "Prometheus scrapes tlswatch: up = 1"
else
	ko "up" "up{job=\"tlswatch-host\"}: [$up]; $(grep -i 'err' "$tmp/prometheus.log" | tail -n 2 | oneline)"
fi

# ---- b. Every family the dashboard and the rules use is served.
curl -s -m 5 $METRICS >"$tmp/metrics.txt"
awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$tmp/metrics.txt" | sort -u >"$tmp/families"
used() {
	grep -oE '(^|[^:a-z_])tlswatch_[a-z_]+' | sed -E 's/^[^t]//' | sort -u |
		while read -r m; do
			if grep -qx "$m" "$tmp/families"; then
				echo "$m"
			else
				sed -E 's/_(bucket|sum|count)$//' <<<"$m"
			fi
		done | sort -u
}
check_used() {
	local name=$1 names missing
	names=$(used)
	missing=$(comm -23 <(echo "$names") "$tmp/families" | paste -sd' ' -)
	if [ -n "$names" ] && [ -z "$missing" ]; then
		ok "$name uses only served families ($(wc -l <<<"$names") of them)"
	else
		ko "$name" "uses families tlswatch does not serve: ${missing:-none found}"
	fi
}
jq -r '[.. | objects | (.expr?, .definition?, .query?) | strings] | .[]' "$dash" |
	check_used "dashboard"
grep -vE '^\s*#' $deploy/prometheus/tlswatch-rules.yml | check_used "rules"
helps=$(awk '$1 == "#" && $2 == "HELP" { print $3 }' "$tmp/metrics.txt" | sort -u)
contract="tlswatch_build_info tlswatch_handshakes_total tlswatch_handshake_failures_total
tlswatch_handshake_diagnoses_total tlswatch_failures_recovered_total
tlswatch_failures_unrecovered_total tlswatch_failed_client_versions_total
tlswatch_established_versions_total tlswatch_handshake_duration_seconds
tlswatch_events_lost_total tlswatch_connections_in_flight
tlswatch_bpf_run_seconds_total tlswatch_bpf_runs_total tlswatch_top_client_failures"
absent=$(for f in $contract; do grep -qx "$f" "$tmp/families" || echo "$f"; done | paste -sd' ' -)
if [ "$helps" = "$(cat "$tmp/families")" ] && [ -z "$absent" ]; then
	ok "every family of the contract is served, each with HELP and TYPE ($(wc -l <"$tmp/families") families)"
else
	ko "families" "missing: ${absent:-none}; HELP and TYPE differ: $(diff <(echo "$helps") "$tmp/families" | grep '^[<>]' | oneline)"
fi

# ---- c. promtool accepts what tlswatch serves, after traffic.
if out=$(promtool check metrics <"$tmp/metrics.txt" 2>&1); then
	ok "promtool check metrics: $(grep -vc '^#' "$tmp/metrics.txt") series accepted"
else
	ko "promtool check metrics" "$(oneline <<<"$out")"
fi

# ---- f. Stalled scrapers do not stall capture.
# Three connections to the metrics port that never finish: one sends
# nothing, one half a request, one a whole request and never reads.
python3 - $MPORT >"$tmp/stall.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for data in (b"", b"GET /metrics HTTP/1.1\r\nHost: x\r\n",
             b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect(("127.0.0.1", port))
    if data:
        s.sendall(data)
    socks.append(s)
print("stalled", flush=True)
time.sleep(30)
PY
pids+=($!)
for _ in $(seq 50); do
	grep -q stalled "$tmp/stall.out" && break
	sleep 0.1
done
before=$(jq -s '[.[] | select(.event == "connection" and .reason == "not_tls")] | length' "$tmp/tw.jsonl")
before_m=$(query "sum(tlswatch_handshake_failures_total{$sel,reason=\"not_tls\"})" "")
t0=$(date +%s%N)
# 200 clients that speak HTTP to the TLS port: not_tls failures.
timeout 60 python3 - $P_TLS <<'PY'
import socket, sys
port = int(sys.argv[1])
for i in range(200):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (90 + i % 8), 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
PY
t1=$(date +%s%N)
scrape=$(curl -s -m 2 -o /dev/null -w '%{http_code}' $METRICS)
n=0
for _ in $(seq 50); do
	n=$(jq -s '[.[] | select(.event == "connection" and .reason == "not_tls")] | length' "$tmp/tw.jsonl")
	[ $((n - before)) -ge 200 ] && break
	sleep 0.1
done
t2=$(date +%s%N)
late=$(((t2 - t1) / 1000000))
if [ $((n - before)) -eq 200 ] && [ $late -le 3000 ]; then
	ok "3 stalled scrapers: 200 failures in $(((t1 - t0) / 1000000)) ms all reported, the last $late ms after the traffic"
else
	ko "stalled scrapers" "$((n - before)) of 200 failures reported, $late ms after the traffic"
fi
if [ "$scrape" = 200 ]; then
	ok "/metrics answers another scraper while three stall"
else
	ko "stalled scrapers" "a fresh scrape got HTTP ${scrape:-nothing}"
fi
want_m=$(( ${before_m#- } + 200 ))
got_m=
for _ in $(seq 20); do
	got_m=$(query "sum(tlswatch_handshake_failures_total{$sel,reason=\"not_tls\"})" "")
	[ "$got_m" = "- $want_m" ] && break
	sleep 0.25
done
if [ "$got_m" = "- $want_m" ]; then
	ok "Prometheus counts the 200 not_tls failures too: $want_m"
else
	ko "not_tls after the stall" "Prometheus says [$got_m], want $want_m"
fi
# The recording rules work on the real label sets (after the 200 more).
for _ in $(seq 20); do
	rr=$(query "instance_port:tlswatch_handshakes_attempted:increase10m{$sel}" port)
	[[ "$rr" =~ ^$P_TLS\ [0-9.e+]+$ ]] && [ "${rr#* }" != 0 ] && break
	sleep 0.25
done
if [[ "$rr" =~ ^$P_TLS\ [0-9.e+]+$ ]] && [ "${rr#* }" != 0 ]; then
	ok "recording rules evaluate on real series: attempted handshakes $rr"
else
	ko "recording rules" "instance_port:tlswatch_handshakes_attempted:increase10m: [$rr]"
fi
if kill -0 $tw 2>/dev/null; then
	kill -INT $tw
	wait $tw
	rc=$?
	tw=
	if [ $rc -eq 0 ]; then
		ok "tlswatch exits 0 on SIGINT with scrapers still stalled"
	else
		ko "exit" "tlswatch exited $rc on SIGINT: $(tail -n 3 "$tmp/tw.err" | oneline)"
	fi
else
	ko "exit" "tlswatch died: $(tail -n 3 "$tmp/tw.err" | oneline)"
fi

finish
