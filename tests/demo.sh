#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# `sudo make demo`: watch tlswatch report real clients failing their TLS
# handshakes against a throwaway nginx on loopback, in a few seconds.
# Everything lives in a temporary directory; the EXIT trap stops nginx and
# tlswatch and removes it, whatever happens (failure, Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

LEGACY=28443	# TLS 1.0 to 1.3, weak ciphers allowed
MODERN=28444	# TLS 1.2 and 1.3 only
tmp=""
nginx_pid=""
tw_pid=""
tee_pid=""

die() { echo "demo: $*" >&2; exit 1; }

cleanup() {
	local rc=$?
	set +e
	for pid in $tw_pid $nginx_pid; do
		kill -TERM "$pid" 2>/dev/null
		# Both exit within a second on SIGTERM; SIGKILL if one hangs.
		for _ in {1..20}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[[ -n $tee_pid ]] && wait "$tee_pid" 2>/dev/null
	[[ -n $tmp ]] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
# Without these, a Ctrl-C could end the script before the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# Attaching BPF programs and binding as another 127.0.0.x need root.
((EUID == 0)) || die "make demo needs root (sudo make demo)"
for t in nginx openssl curl ss; do
	command -v "$t" >/dev/null || die "needs $t (apt-get install nginx-light openssl curl iproute2)"
done
for p in $LEGACY $MODERN; do
	[[ -z $(ss -Hltn "( sport = :$p )") ]] || die "port $p is already in use"
done

tmp=$(mktemp -d /tmp/tlswatch-demo.XXXXXX)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=tlswatch-demo.invalid \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

# One nginx process (master_process off): nothing left behind if it is
# killed. Every path points into $tmp so nothing on the host is touched;
# nginx's own errors go to $tmp/nginx.log (-e), even before it reads this.
cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log $tmp/nginx.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $tmp/body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	ssl_certificate $tmp/cert.pem;
	ssl_certificate_key $tmp/key.pem;
	server {
		listen 127.0.0.1:$LEGACY ssl;
		ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
		ssl_ciphers DEFAULT:@SECLEVEL=0;	# OpenSSL 3 refuses TLS < 1.2 otherwise
		location / { return 200 "hello\n"; }
	}
	server {
		listen 127.0.0.1:$MODERN ssl;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / { return 200 "hello\n"; }
	}
}
EOF

# Poll for up to 10 s until "$@" succeeds; give up early if process $1 dies.
await() { local pid=$1 end=$((SECONDS + 10)); shift
	until "$@"; do
		kill -0 "$pid" 2>/dev/null && ((SECONDS < end)) || return 1
		sleep 0.1
	done
}
listening() { (($(ss -Hltn "( sport = :$LEGACY or sport = :$MODERN )" | wc -l) == 2)); }
watching() { grep -qs '^tlswatch: watching' "$tmp/tlswatch.err"; }

nginx -e "$tmp/nginx.log" -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off; master_process off;' \
	</dev/null &>/dev/null &
nginx_pid=$!
await $nginx_pid listening || die "nginx did not start: $(tail -n 3 "$tmp/nginx.log")"

# tlswatch's stdout goes straight to the terminal; its stderr too, through
# tee, so that we can wait for the "watching" line. tee ignores Ctrl-C so
# that the summary tlswatch prints on Ctrl-C still gets through.
exec {tw_err}> >(trap '' INT TERM; exec tee "$tmp/tlswatch.err" >&2)
tee_pid=$!
./tlswatch -p $LEGACY,$MODERN 2>&$tw_err &
tw_pid=$!
exec {tw_err}>&-
await $tw_pid watching || die "tlswatch is not watching (see its message above, if any)"

# Each scenario comes from its own 127.0.0.x, so its lines are easy to tell
# apart. Clients are expected to fail: their output and exit status are
# ignored, and `timeout` bounds each one.
client() { timeout -k 1 5 "$@" </dev/null >/dev/null 2>&1 || true; }
s_client() { local src=$1 port=$2; shift 2
	client openssl s_client -connect 127.0.0.1:"$port" -bind "$src" "$@"; }
# tlswatch reports a connection once it is over; the pause keeps its line
# under the right caption.
caption() { sleep 0.3; echo "-- $*"; }

caption "a TLS 1.1 fallback probe (TLS_FALLBACK_SCSV), then its retry (succeeds: it settles the probe as recovered)"
s_client 127.0.0.11 $LEGACY -tls1_1 -fallback_scsv -cipher DEFAULT:@SECLEVEL=0
s_client 127.0.0.11 $LEGACY

caption "an old client: TLS 1.0 only, against the TLS 1.2+ server"
s_client 127.0.0.12 $MODERN -tls1 -cipher DEFAULT:@SECLEVEL=0

caption "a client that rejects the self-signed certificate"
s_client 127.0.0.13 $MODERN -verify 1 -verify_return_error

caption "plain HTTP sent to the TLS port"
client curl -sS --interface 127.0.0.14 -o /dev/null http://127.0.0.1:$LEGACY/

caption "curl -k (succeeds: no line, counted in the summary)"
client curl -sSk --interface 127.0.0.15 -o /dev/null https://127.0.0.1:$LEGACY/

caption "stopping tlswatch with SIGINT, as Ctrl-C would: its summary"
kill -INT $tw_pid
wait $tw_pid || die "tlswatch exited with status $?"
tw_pid=""
