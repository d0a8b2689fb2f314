#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Hand-driven peers for tests/live-diagnose.sh.
#   peer.py proxy-split v1|v2 CLIENTIP HOST PORT   PROXY header in two sends,
#           then a real TLS handshake (ssl.MemoryBIO over our own socket)
#   peer.py pp-server HOST PORT CERT KEY N   accept N connections: a PROXY
#           header however it is segmented, then TLS (nginx 1.22 and
#           haproxy 2.6 both drop a header split over two reads)
#   peer.py sslv3 SRC HOST PORT      an SSL 3.0-only ClientHello
#   peer.py storm SRC HOST PORT N    N plain-HTTP requests to a TLS port
import os, socket, ssl, struct, sys, time


def connect(src, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((host, port))
    return s


def tls_over(s, sni):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)

    def pump():
        data = out.read()
        if data:
            s.sendall(data)

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            d = s.recv(65536)
            if not d:
                raise SystemExit("server closed during the handshake")
            inc.write(d)
    pump()
    obj.write(b"GET / HTTP/1.0\r\nHost: " + sni.encode() + b"\r\n\r\n")
    pump()
    got = b""
    while True:
        try:
            got += obj.read(65536)
        except ssl.SSLWantReadError:
            d = s.recv(65536)
            if not d:
                break
            inc.write(d)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    return got


def proxy_split(kind, cip, host, port):
    s = connect("127.0.0.1", host, port)
    sport = s.getsockname()[1]
    if kind == "v1":
        hdr = ("PROXY TCP4 %s %s %d %d\r\n" % (cip, host, 40000 + sport % 1000, port)).encode()
        cut = 9
    else:
        hdr = (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12)
               + socket.inet_aton(cip) + socket.inet_aton(host)
               + struct.pack("!HH", 40000 + sport % 1000, port))
        cut = 8   # inside the 16 fixed bytes
    s.sendall(hdr[:cut])
    time.sleep(0.05)
    s.sendall(hdr[cut:])
    got = tls_over(s, "split.test")
    s.close()
    if b"HTTP/1." not in got:
        raise SystemExit("no HTTP answer through the split header")


def sslv3(src, host, port):
    rnd = os.urandom(32)
    ciphers = [0x002f, 0x0035, 0x000a, 0x0005, 0x0004]
    body = (b"\x03\x00" + rnd + b"\x00" + struct.pack("!H", 2 * len(ciphers))
            + b"".join(struct.pack("!H", c) for c in ciphers) + b"\x01\x00")
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    rec = b"\x16\x03\x00" + struct.pack("!H", len(hs)) + hs
    s = connect(src, host, port)
    s.sendall(rec)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()


def storm(src, host, port, n):
    for _ in range(n):
        s = connect(src, host, port)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise OSError("closed in the PROXY header")
        b += d
    return b


def pp_server(host, port, cert, key, n):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(8)
    for _ in range(n):
        c, _ = ls.accept()
        c.settimeout(5)
        try:
            first = recv_exact(c, 5)
            if first == b"PROXY":
                while not first.endswith(b"\r\n"):
                    first += recv_exact(c, 1)
            else:
                first += recv_exact(c, 11)
                first += recv_exact(c, struct.unpack("!H", first[14:16])[0])
            t = ctx.wrap_socket(c, server_side=True)
            t.recv(4096)
            t.sendall(b"HTTP/1.0 200 OK\r\n\r\nsplit ok\n")
            t.close()
        except (OSError, ssl.SSLError) as e:
            print("pp-server:", e, file=sys.stderr)
            c.close()


cmd = sys.argv[1]
if cmd == "proxy-split":
    proxy_split(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
elif cmd == "pp-server":
    pp_server(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
elif cmd == "sslv3":
    sslv3(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif cmd == "storm":
    storm(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
else:
    raise SystemExit("unknown command " + cmd)
