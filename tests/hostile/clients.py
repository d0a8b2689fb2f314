# SPDX-License-Identifier: BSD-3-Clause
"""Hostile and genuine clients for tests/live-hostile.sh, each from a
source address of its own on loopback so that tlswatch's records can be
matched to them by client IP.

  hold N B PORT STALL    open N idle connections from 127.B.x.y (every
                         STALL-th sends 2 bytes of a record header and
                         stalls); print "held K" once done; close all
                         when stdin closes
  fail KIND SRC PORT     one genuine failure: http (plain HTTP to a TLS
                         port) or tls10 (a TLS 1.0-only client)
  slow KIND SRC PORT S   send a ClientHello (hello) or an SSH banner
                         (ssh) one byte per second for S seconds at most
  bad PORT PREFIX        every malformed case at once, case i from
                         PREFIX.i; prints "NAME IP" per case
  burst N B PORT SIZE    N connections from 127.B.x.y, each sending SIZE
                         bytes of garbage, then closing
  retrans SRC PORT       a ClientHello whose first bytes are sent again
                         (raw socket) with different content
"""
import os
import random
import resource
import select
import socket
import ssl
import struct
import sys
import threading
import time


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def record(ctype, body, version=0x0301, length=None):
    n = len(body) if length is None else length
    return u8(ctype) + u16(version) + u16(n) + body


def ext(etype, data):
    return u16(etype) + u16(len(data)) + data


def sni(name):
    entry = u8(0) + u16(len(name)) + name
    return ext(0, u16(len(entry)) + entry)


def hello_body(exts, ciphers=(0xc02f, 0xc030, 0x009c, 0x1301), version=0x0303,
               cipher_len=None, ext_len=None):
    cs = b"".join(u16(c) for c in ciphers)
    e = b"".join(exts)
    return (u16(version) + bytes(32) + u8(32) + bytes(range(32)) +
            u16(len(cs) if cipher_len is None else cipher_len) + cs +
            u8(1) + u8(0) +
            u16(len(e) if ext_len is None else ext_len) + e)


def handshake(body, htype=1, length=None):
    return u8(htype) + u24(len(body) if length is None else length) + body


GROUPS = ext(10, u16(4) + u16(0x0017) + u16(0x001d))
SIGALGS = ext(13, u16(4) + u16(0x0401) + u16(0x0804))
POINTS = ext(11, u8(1) + u8(0))


def good_hello(name=b"app.test"):
    return handshake(hello_body([sni(name), GROUPS, SIGALGS, POINTS]))


def many_ext_hello(size):
    """A ClientHello of about SIZE bytes: unknown extensions, each type
    once, with empty bodies."""
    exts = [sni(b"many.test"), GROUPS, SIGALGS, POINTS]
    t = 0x2000
    while len(hello_body(exts)) + 4 + 4 <= size:
        exts.append(ext(t, b""))
        t += 1
    return handshake(hello_body(exts)), len(exts)


def split_records(msg, chunk):
    return b"".join(record(22, msg[i:i + chunk])
                    for i in range(0, len(msg), chunk))


def bad_cases():
    rnd = random.Random(7)
    junk = bytes(rnd.randrange(256) for _ in range(2000))
    big, _ = many_ext_hello(16384 - 4)
    alpn_list = b"".join(u8(255) + b"p" * 255 for _ in range(60))
    small, nsmall = many_ext_hello(3500)
    alpn_some = b"".join(u8(255) + bytes([0x61 + i]) * 255 for i in range(12))
    u = "unknown:-"     # a hello past the kernel's 4 KiB capture budget
    # name, bytes, outcomes accepted (outcome:reason), SNI expected
    return [
        ("rec_ffff", record(22, junk[:1500], length=0xFFFF),
         "failed:malformed", "-"),
        # The server's fatal alert comes before the message could end.
        ("hs_huge", record(22, handshake(junk[:200], length=0xFFFFFF)),
         "failed:malformed failed:server_alert", "-"),
        ("hs_over_record",
         record(22, handshake(hello_body([sni(b"x.test")]), length=4096)) +
         record(23, junk[:40]), "failed:malformed failed:server_alert", "-"),
        ("cipher_len", record(22, handshake(
            hello_body([sni(b"x.test")], cipher_len=0xFFFE))),
         "failed:malformed", "-"),
        ("ext_len", record(22, handshake(
            hello_body([sni(b"x.test")], ext_len=0x7FFF))),
         "failed:malformed", "-"),
        ("sni_len", record(22, handshake(hello_body(
            [ext(0, u16(0xFFFF) + u8(0) + u16(0xFFFF) + b"a.test"), GROUPS]))),
         "failed:malformed", "-"),
        ("sni_255", record(22, handshake(hello_body(
            [sni(b"s" * 251 + b".tst"), GROUPS, SIGALGS, POINTS]))),
         "failed:client_closed failed:server_alert", "s" * 251 + ".tst"),
        ("sni_16k", record(22, handshake(hello_body(
            [sni(b"a" * 16000), GROUPS]))), u, "-"),
        ("alpn_len", record(22, handshake(hello_body(
            [sni(b"x.test"), ext(16, u16(200) + u8(255) + b"h2")]))),
         "failed:malformed", "-"),
        ("alpn_255x12", record(22, handshake(hello_body(
            [sni(b"alpn.test"), GROUPS, SIGALGS, POINTS,
             ext(16, u16(len(alpn_some)) + alpn_some)]))),
         "failed:server_alert failed:client_closed", "alpn.test"),
        ("alpn_15k", record(22, handshake(hello_body(
            [sni(b"x.test"), GROUPS, ext(16, u16(len(alpn_list)) + alpn_list)]))),
         u, "-"),
        ("ext_%d_split" % nsmall, split_records(small, 300),
         "failed:client_closed failed:server_alert", "many.test"),
        ("ext_4000", record(22, big), u, "-"),
        ("ext_4000_split", split_records(big, 4000), u, "-"),
        ("zero_records", record(22, b"") * 50, "failed:malformed", "-"),
        ("tls_junk", record(22, junk[:64]),
         "failed:malformed failed:server_alert", "-"),
        ("random", b"\x42" + junk[1:], "failed:not_tls", "-"),
        ("zeros", bytes(2000), "failed:not_tls", "-"),
        ("ones", b"\xff" * 2000, "failed:not_tls", "-"),
        ("http", b"GET / HTTP/1.1\r\nHost: bad.test\r\n\r\n",
         "failed:not_tls", "-"),
        ("ssh", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "failed:not_tls", "-"),
    ]


def connect(src, port, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def drain(s, secs):
    """Read what the server says until it closes or SECS pass."""
    end = time.time() + secs
    try:
        while time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            if not s.recv(65536):
                break
    except OSError:
        pass


def cmd_hold(n, b, port, stall):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    failed = 0
    for i in range(n):
        src = "127.%d.%d.%d" % (b, (i // 250) % 250, i % 250 + 1)
        try:
            s = connect(src, port, 3)
            if stall and i % stall == 0:
                s.send(b"\x16\x03")
            socks.append(s)
        except OSError:
            failed += 1
    print("held %d failed %d" % (len(socks), failed), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


def cmd_fail(kind, src, port):
    if kind == "http":
        s = connect(src, port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
        drain(s, 3)
        s.close()
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1
    s = connect(src, port)
    try:
        ctx.wrap_socket(s, server_hostname="app.test").close()
        print("tls10 handshake succeeded?", file=sys.stderr)
        sys.exit(1)
    except ssl.SSLError:
        pass
    s.close()


def cmd_slow(kind, src, port, secs):
    data = record(22, good_hello()) if kind == "hello" else b"SSH-2.0-x\r\n"
    s = connect(src, port)
    end = time.time() + secs
    for i in range(len(data)):
        if time.time() >= end:
            break
        try:
            s.send(data[i:i + 1])
        except OSError:
            break
        time.sleep(1)
    drain(s, 0.5)
    s.close()


def cmd_bad(port, prefix):
    def one(i, data):
        try:
            s = connect("%s.%d" % (prefix, i + 1), port)
            s.sendall(data)
            drain(s, 2)
            s.close()
        except OSError as e:
            print("case %d: %s" % (i, e), file=sys.stderr)

    threads = []
    for i, (name, data, outcomes, name_sent) in enumerate(bad_cases()):
        print("%s %s.%d %s %s" % (name, prefix, i + 1,
                                  outcomes.replace(" ", ","), name_sent))
        t = threading.Thread(target=one, args=(i, data))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def cmd_burst(n, b, port, size):
    data = b"Q" * size
    done = 0
    for i in range(n):
        try:
            s = connect("127.%d.%d.%d" % (b, (i // 250) % 250, i % 250 + 1),
                        port, 3)
            s.sendall(data)
            s.close()
            done += 1
        except OSError:
            pass
    print(done)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def inject(src, sport, dst, dport, seq, ack, payload):
    """One TCP segment with payload, as if from the client's socket."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, 0x18,
                      65535, 0, 0) + payload
    ph = (socket.inet_aton(src) + socket.inet_aton(dst) +
          struct.pack("!BBH", 0, 6, len(tcp)))
    tcp = tcp[:16] + struct.pack("!H", checksum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    r.sendto(ip + tcp, (dst, 0))
    r.close()


def queue_seq(s, queue):
    """The socket's next sequence number in a queue (1 receive, 2 send),
    read through TCP_REPAIR (CAP_NET_ADMIN)."""
    s.setsockopt(socket.IPPROTO_TCP, 19, 1)      # TCP_REPAIR on
    s.setsockopt(socket.IPPROTO_TCP, 20, queue)  # TCP_REPAIR_QUEUE
    v = struct.unpack("I", s.getsockopt(socket.IPPROTO_TCP, 21, 4))[0]
    s.setsockopt(socket.IPPROTO_TCP, 19, 0)      # off again
    return v


def cmd_retrans(src, port):
    """The first 120 bytes (SNI included) of a ClientHello go out through the socket,
    then again through a raw socket with SNI bytes changed (the server's
    kernel keeps the first copy, so does tlswatch); the rest follows."""
    data = record(22, good_hello(b"first-copy.test"))
    other = record(22, good_hello(b"other-copy.test"))
    assert len(data) == len(other)
    s = connect(src, port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    seq = queue_seq(s, 2)
    ack = queue_seq(s, 1)
    sport = s.getsockname()[1]
    s.send(data[:120])
    time.sleep(0.2)
    inject(src, sport, "127.0.0.1", port, seq, ack, other[:120])
    time.sleep(0.2)
    s.send(data[120:])
    drain(s, 1)
    s.close()


def main():
    a = sys.argv[1:]
    if a[0] == "hold":
        cmd_hold(int(a[1]), int(a[2]), int(a[3]), int(a[4]))
    elif a[0] == "fail":
        cmd_fail(a[1], a[2], int(a[3]))
    elif a[0] == "slow":
        cmd_slow(a[1], a[2], int(a[3]), float(a[4]))
    elif a[0] == "bad":
        cmd_bad(int(a[1]), a[2])
    elif a[0] == "burst":
        cmd_burst(int(a[1]), int(a[2]), int(a[3]), int(a[4]))
    elif a[0] == "retrans":
        cmd_retrans(a[1], int(a[2]))
    else:
        sys.exit("unknown command " + a[0])


if __name__ == "__main__":
    main()
