#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpora for the fuzz targets, made at fuzz time from the project's
# real captures (tests/golden/captures and the permissively licensed
# tests/golden/corpora, see its ORIGIN.tsv): tshark lists each TCP
# segment, and this script writes each target's input form.
#   seeds.py OUTDIR PCAP...   -> OUTDIR/{tls,stream,proxy,pcap}/
import hashlib
import os
import struct
import subprocess
import sys

MAX_PCAP = 65536  # larger captures slow every execution down


def segments(pcap):
    """{stream: [(src, dst, seq, flags, payload)]} in capture order."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-o", "tcp.desegment_tcp_streams:FALSE",
         "-T", "fields", "-E", "separator=/t", "-e", "tcp.stream",
         "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq_raw",
         "-e", "tcp.flags", "-e", "tcp.payload"],
        capture_output=True, text=True, check=False).stdout
    streams = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 6 or not f[0] or not f[3]:
            continue
        payload = bytes.fromhex(f[5].replace(":", "")) if f[5] else b""
        streams.setdefault(int(f[0]), []).append(
            (int(f[1]), int(f[2]), int(f[3]), int(f[4], 16), payload))
    return streams


def sides(segs):
    """The client's port (sender of the SYN, else of the first segment)
    and each side's initial sequence number (first byte's seq)."""
    client = segs[0][0]
    for s in segs:
        if s[3] & 0x02 and not s[3] & 0x10:
            client = s[0]
            break
    isn = {}
    for src, _, seq, flags, payload in segs:
        side = 0 if src == client else 1
        if side not in isn:
            isn[side] = seq + 1 if flags & 0x02 else seq
    return client, isn


def reassemble(segs, client, isn, side):
    data = {}
    for src, _, seq, _, payload in segs:
        if payload and (src == client) == (side == 0):
            data.setdefault((seq - isn[side]) & 0xffffffff, payload)
    out = b""
    for off in sorted(data):
        if off <= len(out) < off + len(data[off]):
            out += data[off][len(out) - off:]
    return out


def messages(stream):
    """Plaintext handshake messages of one direction's TLS records, until
    the first ChangeCipherSpec or something that is not a record."""
    hs, i = b"", 0
    while i + 5 <= len(stream):
        ct, ln = stream[i], struct.unpack(">H", stream[i + 3:i + 5])[0]
        if stream[i + 1] != 3 or ct not in (20, 21, 22, 23):
            break
        if ct == 20:
            break
        if ct == 22:
            hs += stream[i + 5:i + 5 + ln]
        i += 5 + ln
    msgs, j = [], 0
    while j + 4 <= len(hs):
        ln = int.from_bytes(hs[j + 1:j + 4], "big")
        if j + 4 + ln > len(hs):
            break
        msgs.append((hs[j], hs[j + 4:j + 4 + ln]))
        j += 4 + ln
    return msgs


def write(d, data):
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tls_seeds(out, segs, client, isn):
    chunks = bytearray([0])  # mode 0: a session
    for src, _, _, flags, payload in segs:
        side = 0 if src == client else 1
        for k in range(0, len(payload), 255):
            piece = payload[k:k + 255]
            chunks += bytes([side, len(piece)]) + piece
        if flags & 0x05:
            chunks += bytes([side | 0x04 | (0x10 if flags & 0x04 else 0), 0])
    write(out, bytes(chunks))
    for side in (0, 1):
        if side not in isn:
            continue
        st = reassemble(segs, client, isn, side)
        if st[:1] and st[0] & 0x80:  # SSLv2 record
            write(out, b"\x03" + st[:2 + (((st[0] & 0x7f) << 8) | st[1])])
        for typ, body in messages(st):
            if typ == 1:
                write(out, b"\x01" + body)
            elif typ == 2:
                write(out, b"\x02" + body)
            elif typ == 11:
                write(out, b"\x04" + body)
                if len(body) > 6:
                    n = int.from_bytes(body[3:6], "big")
                    write(out, b"\x06" + body[6:6 + n])


def stream_seeds(out, segs, client, isn):
    ops = bytearray([0x01])  # start from a SYN at 0x10000000
    for src, _, seq, _, payload in segs:
        side = 0 if src == client else 1
        if not payload:
            continue
        off = (seq - isn[side]) & 0xffffffff
        if off > 0xffff or len(payload) > 0xffff:
            continue
        ops += bytes([0x20 * side]) + struct.pack(">HH", off, len(payload))
        ops += payload
    ops += b"\x01\x21"
    write(out, bytes(ops))


def proxy_seeds(out):
    tail = b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    v1 = [b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
          b"PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n",
          b"PROXY UNKNOWN\r\n",
          b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"]
    ssl = bytes([0x20]) + struct.pack(">H", 5 + 3 + 7) + b"\x05" + \
        b"\x00\x00\x00\x00" + b"\x21\x00\x07TLSv1.3"
    auth = b"\x02\x00\x0cexample.test"
    v2 = []
    addr4 = bytes([192, 0, 2, 1, 198, 51, 100, 2]) + struct.pack(">HH", 56324, 443)
    addr6 = bytes(15) + b"\x01" + bytes(15) + b"\x02" + struct.pack(">HH", 1, 443)
    for cmd, fam, addr, tlvs in ((0x21, 0x11, addr4, b""),
                                 (0x21, 0x11, addr4, ssl + auth),
                                 (0x21, 0x21, addr6, auth + b"\x04\x00\x00"),
                                 (0x20, 0x00, b"", b""),
                                 (0x21, 0x31, bytes(216), b"")):
        body = addr + tlvs
        v2.append(sig + bytes([cmd, fam]) + struct.pack(">H", len(body)) + body)
    for h in v1 + v2:
        for chunk in (0, 1, 7, 200):
            write(out, bytes([chunk]) + h + tail)


def main():
    outdir, pcaps = sys.argv[1], sys.argv[2:]
    proxy_seeds(os.path.join(outdir, "proxy"))
    for pcap in pcaps:
        size = os.path.getsize(pcap)
        if size <= MAX_PCAP:
            with open(pcap, "rb") as f:
                raw = f.read()
            write(os.path.join(outdir, "pcap"), raw)
            # The same capture with some of the target's options on.
            if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
                for opt in (0x01, 0x12, 0x2c, 0x40, 0x80):
                    write(os.path.join(outdir, "pcap"),
                          raw[:12] + bytes([opt]) + raw[13:])
        for segs in segments(pcap).values():
            client, isn = sides(segs)
            tls_seeds(os.path.join(outdir, "tls"), segs, client, isn)
            stream_seeds(os.path.join(outdir, "stream"), segs, client, isn)


if __name__ == "__main__":
    main()
