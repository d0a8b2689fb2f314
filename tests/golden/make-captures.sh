#!/usr/bin/env bash
# make-captures.sh - record golden pcaps of real TLS peers failing (and
# succeeding) on loopback, one pcap per scenario plus one mixed capture.
#
# Run as root on Debian 12 (nginx-light, openssl, gnutls-bin, curl, tcpdump,
# tshark, python3).  Only 127.0.0.0/8 is used.  Idempotent: every run
# regenerates throwaway certificates and overwrites captures/*.pcap.
# Every process started here is stopped by the EXIT trap, even on failure.
# Exits non-zero if a capture does not show the expected wire behaviour
# (checked with tshark by the embedded verifier).
#
# Usage: sudo tests/golden/make-captures.sh [OUTDIR]   (default: captures/ next to this script)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/captures}
SRV=127.0.0.1

# Server ports (all in 18443-18460).
P_LEGACY=18443   # nginx TLSv1..TLSv1.3, ssl_ciphers DEFAULT:@SECLEVEL=0
P_MODERN=18444   # nginx TLSv1.2 TLSv1.3
P_STRICT=18445   # nginx TLSv1.2 only, one cipher (ECDHE-RSA-AES256-GCM-SHA384)
P_MTLS12=18446   # openssl s_server -Verify 1 -tls1_2
P_MTLS13=18447   # openssl s_server -Verify 1 -tls1_3
P_STALL=18448    # python: accepts, reads, never answers

# Client source address per scenario (gnutls-cli cannot bind: 127.0.0.1).
declare -A SRC=(
  [fallback-probe-retry]=127.0.0.11
  [no-shared-cipher]=127.0.0.12
  [version-refused]=127.0.0.13
  [cert-rejected-tls12-openssl]=127.0.0.14
  [cert-rejected-tls12-gnutls]=127.0.0.1
  [cert-rejected-tls13-openssl]=127.0.0.16
  [cert-rejected-tls13-gnutls]=127.0.0.1
  [mtls-refused-tls12]=127.0.0.18
  [mtls-refused-tls13]=127.0.0.19
  [plain-http]=127.0.0.20
  [connect-close]=127.0.0.21
  [split-client-hello]=127.0.0.22
  [sslv2-hello]=127.0.0.23
  [success-tls12]=127.0.0.24
  [success-tls13]=127.0.0.25
  [stalled-handshake]=127.0.0.26
)
declare -A PORT=(
  [fallback-probe-retry]=$P_LEGACY
  [no-shared-cipher]=$P_STRICT
  [version-refused]=$P_MODERN
  [cert-rejected-tls12-openssl]=$P_MODERN
  [cert-rejected-tls12-gnutls]=$P_MODERN
  [cert-rejected-tls13-openssl]=$P_LEGACY
  [cert-rejected-tls13-gnutls]=$P_LEGACY
  [mtls-refused-tls12]=$P_MTLS12
  [mtls-refused-tls13]=$P_MTLS13
  [plain-http]=$P_LEGACY
  [connect-close]=$P_LEGACY
  [split-client-hello]=$P_LEGACY
  [sslv2-hello]=$P_LEGACY
  [success-tls12]=$P_MODERN
  [success-tls13]=$P_MODERN
  [stalled-handshake]=$P_STALL
)
SCENARIOS=(
  fallback-probe-retry no-shared-cipher version-refused
  cert-rejected-tls12-openssl cert-rejected-tls12-gnutls
  cert-rejected-tls13-openssl cert-rejected-tls13-gnutls
  mtls-refused-tls12 mtls-refused-tls13
  plain-http connect-close split-client-hello sslv2-hello
  success-tls12 success-tls13 stalled-handshake
)

[[ $(id -u) -eq 0 ]] || { echo "must run as root (tcpdump)" >&2; exit 2; }
for t in nginx openssl gnutls-cli curl tcpdump tshark python3 timeout ss; do
  command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 2; }
done

T0=$(date +%s.%N)
TMP=$(mktemp -d /tmp/tlswatch-golden.XXXXXX)
PIDS=()          # long-running servers we started
TCPDUMP_PID=""

log() { printf '[make-captures] %s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  set +e
  if [[ -n $TCPDUMP_PID ]]; then
    kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null
  fi
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  if [[ $rc -ne 0 && -d $TMP ]]; then
    log "failed (rc=$rc); server logs:"
    tail -n 20 "$TMP"/*.log 2>/dev/null >&2
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Refuse to run if something else already holds our ports.
for p in $P_LEGACY $P_MODERN $P_STRICT $P_MTLS12 $P_MTLS13 $P_STALL; do
  if [[ -n $(ss -Hltn "( sport = :$p )") ]]; then log "port $p already in use"; exit 3; fi
done

# --------------------------------------------------------------------------
# Python helper: stalled listener and hand-driven clients.
cat >"$TMP/peer.py" <<'PY'
import os, select, socket, ssl, sys, time

def connect(src, host, port, nodelay=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((host, port))
    return s

def stall_server(host, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(16)
    conns = []
    while True:                       # read and discard, never write, never close
        r, _, _ = select.select([ls] + conns, [], [])
        for x in r:
            if x is ls:
                conns.append(ls.accept()[0])
            elif not x.recv(65536):
                conns.remove(x)       # keep half-closed socket object alive
                conns_dead.append(x)

conns_dead = []

def connect_close(src, host, port):
    s = connect(src, host, port)
    time.sleep(0.2)
    s.close()

def split_hello(src, host, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_side=False)
    s = connect(src, host, port, nodelay=True)
    first = True
    def flush():
        nonlocal first
        data = out.read()
        if not data:
            return
        if first:
            first = False
            s.sendall(data[:100]); time.sleep(0.05); s.sendall(data[100:])
        else:
            s.sendall(data)
    def feed():
        d = s.recv(65536)
        if not d:
            raise SystemExit("server closed during handshake")
        inc.write(d)
    while True:
        try:
            tls.do_handshake(); break
        except ssl.SSLWantReadError:
            flush(); feed()
    flush()
    print("split-hello: established", tls.version(), tls.cipher()[0], flush=True)
    tls.write(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"); flush()
    resp = b""
    while True:
        try:
            chunk = tls.read(65536)
            if not chunk:             # close_notify received
                break
            resp += chunk
        except ssl.SSLWantReadError:
            try:
                feed()
            except SystemExit:
                break
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    try:
        tls.unwrap()
    except ssl.SSLError:
        pass
    flush()
    s.close()
    if not resp.startswith(b"HTTP/1.1 200"):
        raise SystemExit("split-hello: unexpected response %r" % resp[:40])

def sslv2_hello(src, host, port):
    specs = bytes.fromhex("010080" "0700c0" "030080" "060040" "040080" "020080")
    challenge = bytes(range(0x10, 0x20))
    body = (b"\x01" + b"\x00\x02" + len(specs).to_bytes(2, "big") + b"\x00\x00"
            + len(challenge).to_bytes(2, "big") + specs + challenge)
    s = connect(src, host, port)
    s.sendall((0x8000 | len(body)).to_bytes(2, "big") + body)
    s.settimeout(3)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    print("sslv2-hello: server replied %d bytes: %s" % (len(got), got[:16].hex()), flush=True)
    s.close()

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "stall-server":
        stall_server(args[0], int(args[1]))
    else:
        {"connect-close": connect_close, "split-hello": split_hello,
         "sslv2-hello": sslv2_hello}[cmd](args[0], args[1], int(args[2]))
PY

# --------------------------------------------------------------------------
# Verifier: reads a pcap with tshark, groups TCP streams, checks scenarios.
cat >"$TMP/verify.py" <<'PY'
import concurrent.futures, os, subprocess, sys

FIELDS = ["frame.number", "frame.time_relative", "tcp.stream", "ip.src", "tcp.srcport",
          "ip.dst", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
          "tcp.flags.reset", "tcp.len", "tcp.reassembled_in", "tcp.segment.count",
          "tls.record.version", "tls.record.content_type", "tls.record.opaque_type",
          "tls.record.length", "tls.alert_message.level", "tls.alert_message.desc",
          "tls.handshake.type", "tls.handshake.version", "tls.handshake.ciphersuite",
          "tls.handshake.extensions.supported_version", "tls.handshake.challenge_length",
          "tcp.payload"]

def frames(pcap):
    cmd = ["tshark", "-n", "-2", "-r", pcap, "-d", "tcp.port==18443-18460,tls",
           "-o", "tls.desegment_ssl_records:TRUE", "-o", "tcp.desegment_tcp_streams:TRUE",
           "-Y", "tcp", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
           "-E", "aggregator=;"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        L = lambda k: [x for x in v.get(k, "").split(";") if x]
        res.append(dict(
            no=int(v["frame.number"]), t=float(v["frame.time_relative"]),
            stream=int(v["tcp.stream"]), src=v["ip.src"], sport=int(v["tcp.srcport"]),
            dst=v["ip.dst"], dport=int(v["tcp.dstport"]),
            syn=v["tcp.flags.syn"] in ("1", "True"), ack=v["tcp.flags.ack"] in ("1", "True"),
            fin=v["tcp.flags.fin"] in ("1", "True"), rst=v["tcp.flags.reset"] in ("1", "True"),
            len=int(v["tcp.len"] or 0), reasm_in=v["tcp.reassembled_in"],
            segcount=int(L("tcp.segment.count")[0]) if L("tcp.segment.count") else 0,
            rver=L("tls.record.version"), ctype=L("tls.record.content_type"),
            otype=L("tls.record.opaque_type"), rlen=[int(x) for x in L("tls.record.length")],
            alvl=L("tls.alert_message.level"), alert=[int(x) for x in L("tls.alert_message.desc")],
            hs=[int(x) for x in L("tls.handshake.type")], hver=L("tls.handshake.version"),
            sv=L("tls.handshake.extensions.supported_version"),
            v2chal=L("tls.handshake.challenge_length"), suites=L("tls.handshake.ciphersuite"),
            payload=bytes.fromhex(v.get("tcp.payload", "").replace(":", "").split(";")[0] or "")))
    return res

class Conn:
    def __init__(self, fr):
        syn = [f for f in fr if f["syn"] and not f["ack"]]
        f0 = syn[0] if syn else fr[0]
        self.client, self.cport, self.server, self.port = f0["src"], f0["sport"], f0["dst"], f0["dport"]
        self.fr = fr
        for f in fr:
            f["dir"] = "C" if (f["src"], f["sport"]) == (self.client, self.cport) else "S"
    def side(self, d):
        return [f for f in self.fr if f["dir"] == d]
    def records(self, d=None):
        """(frame, dir, content_type, length) per TLS record, in order."""
        out = []
        for f in self.fr:
            if d and f["dir"] != d:
                continue
            types = f["ctype"] + f["otype"]  # tshark lists opaque (TLS1.3 encrypted) separately
            # keep order when both present: content_type entries precede opaque ones within a frame
            for i, ct in enumerate(types):
                out.append((f, f["dir"], int(ct), f["rlen"][i] if i < len(f["rlen"]) else None))
        return out
    def alerts(self, d):
        return [(f, a) for f in self.fr if f["dir"] == d for a in f["alert"]]
    def hs(self, d):
        return [(f, h) for f in self.fr if f["dir"] == d for h in f["hs"]]
    def first(self, pred):
        for f in self.fr:
            if pred(f):
                return f
        return None
    def closer(self):
        """Who sends the first FIN or RST: 'C', 'S' or None."""
        f = self.first(lambda f: f["fin"] or f["rst"])
        return f["dir"] if f else None
    def closes(self, d):
        return any(f["fin"] or f["rst"] for f in self.side(d))
    def server_sv(self):
        return [s for f in self.fr if f["dir"] == "S" and 2 in f["hs"] for s in f["sv"]]
    def data(self, d):
        return sum(f["len"] for f in self.side(d))

def conns_of(frs, client=None, port=None):
    by = {}
    for f in frs:
        by.setdefault(f["stream"], []).append(f)
    cs = [Conn(v) for _, v in sorted(by.items())]
    return [c for c in cs if (client is None or c.client == client) and (port is None or c.port == port)]

class Fail(Exception):
    pass

def need(cond, msg):
    if not cond:
        raise Fail(msg)

def describe(c):
    parts = []
    for f in c.fr:
        ev = []
        if f["syn"]:
            ev.append("SYN" + ("-ACK" if f["ack"] else ""))
        if f["hs"]:
            ev.append("hs" + ",".join(map(str, f["hs"])))
        if f["alert"]:
            ev.append("alert" + ",".join("%s/%d" % (l, a) for l, a in zip(f["alvl"] or ["?"] * len(f["alert"]), f["alert"])))
        rec = [x for x in (f["ctype"] + f["otype"])]
        if rec and not f["hs"] and not f["alert"]:
            ev.append("rec" + ",".join("%s:%s" % (t, l) for t, l in zip(rec, f["rlen"])))
        if f["len"] and not rec:
            ev.append("%dB%s" % (f["len"], "(seg)" if f["reasm_in"] else ""))
        if f["fin"]:
            ev.append("FIN")
        if f["rst"]:
            ev.append("RST")
        if ev:
            parts.append(f["dir"] + ":" + "+".join(ev))
    return "%s:%d->%s:%d  %s" % (c.client, c.cport, c.server, c.port, " ".join(parts))

# ---- scenario checks: each takes the list of Conns for its (client, port) --
def one(cs, n=1):
    need(len(cs) == n, "expected %d connection(s), got %d" % (n, len(cs)))
    return cs

def refused(c, alert, rec_version=None):
    need([h for _, h in c.hs("C")][:1] == [1], "client did not send a ClientHello")
    need(not any(h == 2 for _, h in c.hs("S")), "server sent a ServerHello")
    al = c.alerts("S")
    need([a for _, a in al] == [alert], "server alerts %s, expected [%d]" % ([a for _, a in al], alert))
    f = al[0][0]
    need(f["alvl"] == ["2"], "alert not fatal")
    if rec_version:
        need(f["rver"][0] == rec_version, "alert record version %s != %s" % (f["rver"], rec_version))
    need(not c.alerts("C"), "client sent an alert")
    need(c.closes("S"), "server did not close")

def established(c, version):
    need(any(h == 2 for _, h in c.hs("S")), "no ServerHello")
    if version == "0x0304":
        need(c.server_sv() == ["0x0304"], "ServerHello supported_version %s" % c.server_sv())
    else:
        need(c.server_sv() == [] and any(f["hver"][-1:] == [version] for f in c.side("S") if 2 in f["hs"]),
             "ServerHello not %s" % version)
    need(not c.alerts("C") and not c.alerts("S"), "plaintext alert seen")
    need(any(ct == 23 for _, _, ct, _ in c.records("C")), "no client application data")
    need(any(ct == 23 for _, _, ct, _ in c.records("S")), "no server application data")
    # TLS 1.2: server's CCS + Finished prove the handshake; TLS 1.3: server app data after client's records
    if version != "0x0304":
        need(any(ct == 20 for _, _, ct, _ in c.records("S")), "no server ChangeCipherSpec")

def chk_fallback(cs):
    one(cs, 2)
    a, b = cs
    need(a.client == b.client, "retry from another address")
    refused(a, 86, rec_version="0x0302")
    ch = [f for f in a.side("C") if 1 in f["hs"]][0]
    need(ch["hver"][0] == "0x0302", "probe ClientHello version %s" % ch["hver"])
    need("0x5600" in ch["suites"], "probe ClientHello lacks TLS_FALLBACK_SCSV")
    established(b, "0x0304")

def chk_noshared(cs):
    c, = one(cs)
    refused(c, 40)
    ch = [f for f in c.side("C") if 1 in f["hs"]][0]
    need(ch["suites"] and "0xc030" not in ch["suites"], "client offered the server's only suite")

def chk_version(cs):
    c, = one(cs)
    refused(c, 70)
    ch = [f for f in c.side("C") if 1 in f["hs"]][0]
    need(ch["hver"][0] == "0x0301", "ClientHello version %s" % ch["hver"])

def client_reject(c, alert, tls13):
    shs = [f for f, h in c.hs("S") if h == 2]
    need(shs, "no ServerHello")
    if tls13:
        need(c.server_sv() == ["0x0304"], "not TLS 1.3")
    else:
        need(c.server_sv() == [] and 11 in [h for _, h in c.hs("S")], "not a TLS 1.2 server flight")
    if alert is None:   # encrypted alert: CCS + one 19-byte opaque record, then close
        crec = [(ct, l) for _, _, ct, l in c.records("C")]
        need(crec[1:] == [(20, 1), (23, 19)], "client records after hello %s" % crec[1:])
        need(not c.alerts("C"), "plaintext client alert")
    else:
        al = c.alerts("C")
        need([a for _, a in al] == [alert], "client alerts %s, expected [%d]" % ([a for _, a in al], alert))
        need(al[0][0]["no"] > shs[0]["no"] and al[0][0]["alvl"] == ["2"], "alert not fatal after ServerHello")
        need(not any(ct in (20, 23) for _, _, ct, _ in c.records("C")), "client sent CCS/encrypted data")
        need(16 not in [h for _, h in c.hs("C")], "client sent ClientKeyExchange")
    need(not c.alerts("S"), "server sent a plaintext alert")
    need(c.closes("C"), "client did not close")

def chk_mtls12(cs):
    c, = one(cs)
    need(13 in [h for _, h in c.hs("S")], "no CertificateRequest")
    chs = [h for _, h in c.hs("C")]
    need(11 in chs and 16 in chs, "client second flight missing: %s" % chs)
    need(any(ct == 20 for _, _, ct, _ in c.records("C")), "client CCS missing")
    al = c.alerts("S")
    need([a for _, a in al] == [40], "server alerts %s" % [a for _, a in al])
    lastc = max(f["no"] for f in c.side("C") if f["len"] and f["no"] < al[0][0]["no"])
    need(al[0][0]["no"] > lastc, "alert not after client flight")
    need(not any(ct == 20 for _, _, ct, _ in c.records("S")), "server sent CCS")
    need(c.closes("S"), "server did not close")

def chk_mtls13(cs):
    c, = one(cs)
    need(c.server_sv() == ["0x0304"], "not TLS 1.3")
    srec = [(f, ct, l) for f, _, ct, l in c.records("S")]
    crec = [(f, ct, l) for f, _, ct, l in c.records("C")]
    c23 = [f for f, ct, _ in crec if ct == 23]
    need(c23, "client sent no encrypted records (Finished)")
    after = [(ct, l) for f, ct, l in srec if f["no"] > c23[0]["no"]]
    need(after == [(23, 19)], "server records after client Finished: %s" % after)
    need(not c.alerts("S") and not c.alerts("C"), "plaintext alert")
    fin = c.first(lambda f: f["dir"] == "S" and (f["fin"] or f["rst"]))
    need(fin is not None, "server did not close")

def chk_plainhttp(cs):
    c, = one(cs)
    cp = b"".join(f["payload"] for f in c.side("C"))
    sp = b"".join(f["payload"] for f in c.side("S"))
    need(cp.startswith(b"GET / HTTP/1.1"), "client did not send HTTP")
    need(sp.startswith(b"HTTP/1.1 400"), "server reply %r" % sp[:20])
    need(b"plain HTTP request was sent to HTTPS port" in sp, "not nginx's plain-HTTP page")

def chk_connclose(cs):
    c, = one(cs)
    need(c.data("C") == 0 and c.data("S") == 0, "payload seen")
    need(c.closer() == "C", "client did not close first")
    need(any(f["fin"] for f in c.side("S")), "server did not FIN")

def chk_split(cs):
    c, = one(cs)
    cseg = [f for f in c.side("C") if f["len"]]
    need(cseg[0]["len"] == 100 and cseg[0]["reasm_in"], "first client segment %d bytes, reassembled_in=%s" % (cseg[0]["len"], cseg[0]["reasm_in"]))
    ch = [f for f in c.side("C") if 1 in f["hs"]]
    need(ch and ch[0]["segcount"] == 2 and ch[0]["no"] == int(cseg[0]["reasm_in"]), "ClientHello not reassembled from 2 segments")
    established(c, "0x0304")

def chk_sslv2(cs):
    c, = one(cs)
    f = c.first(lambda f: f["dir"] == "C" and f["len"])
    need(f["payload"][0] & 0x80 and f["payload"][2:5] == b"\x01\x00\x02", "not an SSLv2 CLIENT-HELLO")
    need(not any(h == 2 for _, h in c.hs("S")), "server answered with a ServerHello")
    # observed with nginx 1.22 / OpenSSL 3.0: TLS alert protocol_version, then close
    need([a for _, a in c.alerts("S")] == [70], "server alerts %s, expected [70]" % [a for _, a in c.alerts("S")])
    need(c.closes("S"), "server did not close")

def chk_success12(cs):
    c, = one(cs)
    established(c, "0x0303")

def chk_success13(cs):
    c, = one(cs)
    established(c, "0x0304")

def chk_stalled(cs):
    c, = one(cs)
    need([h for _, h in c.hs("C")] == [1], "no ClientHello")
    need(c.data("S") == 0, "server sent data")
    ch = [f for f in c.side("C") if 1 in f["hs"]][0]
    fin = c.first(lambda f: f["dir"] == "C" and (f["fin"] or f["rst"]))
    need(fin is not None and 3.0 <= fin["t"] - ch["t"] <= 6.0, "client did not give up after ~4 s")
    need(not any(f["fin"] or f["rst"] for f in c.side("S")), "server closed")

CHECKS = {
    "fallback-probe-retry": chk_fallback,
    "no-shared-cipher": chk_noshared,
    "version-refused": chk_version,
    "cert-rejected-tls12-openssl": lambda cs: client_reject(one(cs)[0], 48, False),
    "cert-rejected-tls12-gnutls": lambda cs: client_reject(one(cs)[0], 42, False),
    "cert-rejected-tls13-openssl": lambda cs: client_reject(one(cs)[0], 48, True),
    "cert-rejected-tls13-gnutls": lambda cs: client_reject(one(cs)[0], None, True),
    "mtls-refused-tls12": chk_mtls12,
    "mtls-refused-tls13": chk_mtls13,
    "plain-http": chk_plainhttp,
    "connect-close": chk_connclose,
    "split-client-hello": chk_split,
    "sslv2-hello": chk_sslv2,
    "success-tls12": chk_success12,
    "success-tls13": chk_success13,
    "stalled-handshake": chk_stalled,
}

def check_pcap(pcap, specs, frs):
    """specs: ['name' or 'name=client:port']; returns (ok, text)."""
    lines, bad = [os.path.basename(pcap)], 0
    total, used = len(conns_of(frs)), 0
    for spec in specs:
        name, _, sel = spec.partition("=")
        client, port = (sel.split(":") if sel else (None, None))
        cs = conns_of(frs, client, int(port) if port else None)
        used += len(cs)
        try:
            CHECKS[name](cs)
            lines.append("  ok   %-28s" % name)
        except Fail as e:
            bad += 1
            lines.append("  FAIL %-28s %s" % (name, e))
        for c in cs:
            lines.append("       " + describe(c))
    if used != total:
        bad += 1
        lines.append("  FAIL %d connection(s) not accounted for" % (total - used))
    return bad == 0, "\n".join(lines)

def main():
    # argv: jobs "PCAP|spec,spec,..." ; tshark runs in parallel, results print in order
    jobs = [(a.split("|")[0], a.split("|")[1].split(",")) for a in sys.argv[1:]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        parsed = list(ex.map(lambda j: frames(j[0]), jobs))
    failed = []
    for (pcap, specs), frs in zip(jobs, parsed):
        ok, text = check_pcap(pcap, specs, frs)
        print(text)
        if not ok:
            failed.append(os.path.basename(pcap))
    if failed:
        print("FAILED: " + " ".join(failed))
    sys.exit(1 if failed else 0)

main()
PY

# --------------------------------------------------------------------------
log "certificates and server configuration in $TMP"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=tlswatch-golden.invalid" \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx-error.log info;
events { worker_connections 128; }
http {
  access_log $TMP/nginx-access.log;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  default_type text/plain;
  ssl_certificate $TMP/cert.pem;
  ssl_certificate_key $TMP/key.pem;
  ssl_session_tickets off;
  ssl_session_cache off;
  server {   # legacy: TLS 1.0 to 1.3
    listen $SRV:$P_LEGACY ssl;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    location / { return 200 "legacy ok\n"; }
  }
  server {   # modern: TLS 1.2 and 1.3
    listen $SRV:$P_MODERN ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "modern ok\n"; }
  }
  server {   # strict: TLS 1.2, a single ECDHE-RSA AES-256-GCM suite
    listen $SRV:$P_STRICT ssl;
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384;
    location / { return 200 "strict ok\n"; }
  }
}
EOF

wait_listen() {  # port [pid]
  for _ in $(seq 100); do
    [[ -n $(ss -Hltn "( sport = :$1 )") ]] && return 0
    if [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null; then log "server for port $1 died"; return 1; fi
    sleep 0.1
  done
  log "nothing listening on port $1"; return 1
}

nginx -e "$TMP/nginx-error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off; master_process on;' \
  </dev/null >>"$TMP/nginx-stdout.log" 2>&1 &
PIDS+=($!)
openssl s_server -accept "$SRV:$P_MTLS12" -cert "$TMP/cert.pem" -key "$TMP/key.pem" -Verify 1 -tls1_2 -www -quiet \
  </dev/null >>"$TMP/s_server12.log" 2>&1 &
PIDS+=($!)
openssl s_server -accept "$SRV:$P_MTLS13" -cert "$TMP/cert.pem" -key "$TMP/key.pem" -Verify 1 -tls1_3 -www -quiet \
  </dev/null >>"$TMP/s_server13.log" 2>&1 &
PIDS+=($!)
python3 "$TMP/peer.py" stall-server "$SRV" "$P_STALL" </dev/null >>"$TMP/stall.log" 2>&1 &
PIDS+=($!)
wait_listen $P_LEGACY "${PIDS[0]}"; wait_listen $P_MODERN "${PIDS[0]}"; wait_listen $P_STRICT "${PIDS[0]}"
wait_listen $P_MTLS12 "${PIDS[1]}"; wait_listen $P_MTLS13 "${PIDS[2]}"; wait_listen $P_STALL "${PIDS[3]}"

# --------------------------------------------------------------------------
# Capture control.
cap_start() {  # file filter
  rm -f "$1"
  : >"$TMP/tcpdump.err"
  tcpdump -i lo -s 0 -U --immediate-mode -Z root -w "$1" "$2" 2>"$TMP/tcpdump.err" &
  TCPDUMP_PID=$!
  for _ in $(seq 100); do
    grep -q 'listening on' "$TMP/tcpdump.err" && { sleep 0.2; return 0; }
    kill -0 "$TCPDUMP_PID" 2>/dev/null || break
    sleep 0.05
  done
  log "tcpdump did not start: $(cat "$TMP/tcpdump.err")"; return 1
}
cap_stop() {
  sleep 0.5                                   # trailing FIN/ACKs
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" || true                 # tcpdump flushes and exits on SIGINT
  TCPDUMP_PID=""
}

# Run a client command bounded in time; failures of the client are expected.
run() { timeout -k 2 "$@" || true; }
osc() {  # openssl s_client wrapper: src port [args...]  (stdin closed)
  local src=$1 port=$2; shift 2
  run 10 openssl s_client -connect "$SRV:$port" -bind "$src" "$@" </dev/null >>"$TMP/clients.log" 2>&1
}
REQ=$'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'

client() {  # scenario
  local n=$1 s=${SRC[$1]} p=${PORT[$1]}
  echo "=== $n" >>"$TMP/clients.log"
  case $n in
    fallback-probe-retry)
      osc "$s" "$p" -tls1_1 -fallback_scsv -cipher 'DEFAULT:@SECLEVEL=0'
      sleep 0.2
      printf '%s' "$REQ" | run 10 openssl s_client -connect "$SRV:$p" -bind "$s" -quiet >>"$TMP/clients.log" 2>&1 ;;
    no-shared-cipher)
      osc "$s" "$p" -tls1_2 -cipher 'AES128-SHA:AES256-SHA' ;;
    version-refused)
      osc "$s" "$p" -tls1 -cipher 'DEFAULT:@SECLEVEL=0' ;;
    cert-rejected-tls12-openssl)
      osc "$s" "$p" -tls1_2 -verify 1 -verify_return_error ;;
    cert-rejected-tls13-openssl)
      osc "$s" "$p" -tls1_3 -verify 1 -verify_return_error ;;
    cert-rejected-tls12-gnutls)
      run 10 gnutls-cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 -p "$p" "$SRV" </dev/null >>"$TMP/clients.log" 2>&1 ;;
    cert-rejected-tls13-gnutls)
      run 10 gnutls-cli --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 -p "$p" "$SRV" </dev/null >>"$TMP/clients.log" 2>&1 ;;
    mtls-refused-tls12)
      osc "$s" "$p" -tls1_2 ;;
    mtls-refused-tls13)
      run 10 curl -sS -k --tlsv1.3 --interface "$s" -o /dev/null "https://$SRV:$p/" >>"$TMP/clients.log" 2>&1 ;;
    plain-http)
      run 10 curl -sS --interface "$s" -o /dev/null "http://$SRV:$p/" >>"$TMP/clients.log" 2>&1 ;;
    connect-close)
      run 10 python3 "$TMP/peer.py" connect-close "$s" "$SRV" "$p" >>"$TMP/clients.log" 2>&1 ;;
    split-client-hello)
      run 10 python3 "$TMP/peer.py" split-hello "$s" "$SRV" "$p" >>"$TMP/clients.log" 2>&1 ;;
    sslv2-hello)
      run 10 python3 "$TMP/peer.py" sslv2-hello "$s" "$SRV" "$p" >>"$TMP/clients.log" 2>&1 ;;
    success-tls12)
      run 10 curl -sS -k --tlsv1.2 --tls-max 1.2 --interface "$s" -o /dev/null "https://$SRV:$p/" >>"$TMP/clients.log" 2>&1 ;;
    success-tls13)
      run 10 curl -sS -k --tlsv1.3 --interface "$s" -o /dev/null "https://$SRV:$p/" >>"$TMP/clients.log" 2>&1 ;;
    stalled-handshake)
      timeout 4 openssl s_client -connect "$SRV:$p" -bind "$s" </dev/null >>"$TMP/clients.log" 2>&1 || true ;;
    *) log "unknown scenario $n"; return 1 ;;
  esac
}

# --------------------------------------------------------------------------
mkdir -p "$OUT"
for n in "${SCENARIOS[@]}" mixed-lo; do rm -f "$OUT/$n.pcap"; done
JOBS=()
for n in "${SCENARIOS[@]}"; do
  f="$OUT/$n.pcap"
  log "capture $n (client ${SRC[$n]}, server port ${PORT[$n]})"
  cap_start "$f" "tcp port ${PORT[$n]}"
  client "$n"
  cap_stop
  JOBS+=("$f|$n")
done

f="$OUT/mixed-lo.pcap"
log "capture mixed-lo (all scenarios, one tcpdump)"
cap_start "$f" "tcp portrange 18443-18460"
specs=()
for n in "${SCENARIOS[@]}"; do
  client "$n"
  specs+=("$n=${SRC[$n]}:${PORT[$n]}")
done
cap_stop
JOBS+=("$f|$(IFS=,; echo "${specs[*]}")")

log "verifying with tshark"
VERIFY_RC=0
timeout -k 5 300 python3 "$TMP/verify.py" "${JOBS[@]}" || VERIFY_RC=$?

T1=$(date +%s.%N)
log "captures in $OUT ($(du -ch "${JOBS[@]%%|*}" | tail -1 | cut -f1)); took $(python3 -c "print('%.1f' % ($T1 - $T0))") s"
if ((VERIFY_RC)); then
  log "UNEXPECTED wire behaviour (see FAIL lines above)"
  exit 1
fi
log "all scenarios verified"
