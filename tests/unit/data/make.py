#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the capture files test_pcap_src.c reads.

Run from the repository root: python3 tests/unit/data/make.py
(Debian: apt-get install python3-scapy). Scapy builds the packets; the
file formats are written here by hand so that byte order, timestamp
precision, snaplen and cut records are exactly what the tests expect.
The outputs are committed: the tests do not need scapy.
"""
import os
import struct

from scapy.all import (ARP, IP, UDP, Dot1AD, Dot1Q, Ether, IPOption_RR,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, Padding, Raw, TCP)

OUT = os.path.dirname(os.path.abspath(__file__))

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

TS = 1700000000  # 2023-11-14T22:13:20Z
MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"
V4_C, V4_S = "192.0.2.1", "198.51.100.7"
V6_C, V6_S = "2001:db8::1", "2001:db8::2"


def tcp4(payload=b"", sport=51000, dport=443, seq=1000, ack=2000,
         flags="PA", **ip):
    return (IP(src=V4_C, dst=V4_S, **ip) /
            TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags) /
            Raw(payload))


def tcp6(payload=b"", sport=443, dport=51001, seq=7, ack=8, flags="FA",
         ext=None):
    pkt = IPv6(src=V6_S, dst=V6_C)
    if ext is not None:
        pkt = pkt / ext
    return pkt / TCP(sport=sport, dport=dport, seq=seq, ack=ack,
                     flags=flags) / Raw(payload)


def eth(l3, **kw):
    return Ether(src=MAC_C, dst=MAC_S, **kw) / l3


def sll(l3, proto):
    # packet type, ARPHRD_ETHER, address length, address (8), protocol
    return struct.pack(">HHH8sH", 0, 1, 6, bytes.fromhex("020000000001"),
                       proto) + bytes(l3)


def sll2(l3, proto):
    # protocol, reserved, ifindex, ARPHRD_ETHER, packet type,
    # address length, address (8)
    return struct.pack(">HHIHBB8s", proto, 0, 2, 1, 0, 6,
                       bytes.fromhex("020000000001")) + bytes(l3)


def pcap(name, linktype, records, endian="<", nsec=False, snaplen=65535):
    """records: (ts_sec, ts_frac, data[, wire_len]) with data possibly
    shorter than wire_len, as snaplen would leave it."""
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen,
                            linktype))
        for rec in records:
            sec, frac, data = rec[:3]
            data = bytes(data)
            wire = rec[3] if len(rec) > 3 else len(data)
            f.write(struct.pack(endian + "IIII", sec, frac, len(data), wire))
            f.write(data)


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(name, linktype, records, tsresol):
    """records: (ts in units of 10^-tsresol seconds, data)."""
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    # if_tsresol (option 9), then opt_endofopt
    opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    idb = block(1, struct.pack("<HHI", linktype, 0, 65535) + opts)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(shb + idb)
        for ts, data in records:
            data = bytes(data)
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32,
                                         ts & 0xFFFFFFFF, len(data),
                                         len(data)) + data))


def main():
    # Ethernet: padding after a short segment, IPv4 options with TCP
    # options, IPv6 with two extension headers, an atomic fragment, flags
    # beyond the five we keep, and non-TCP records that are skipped.
    pcap("eth.pcap", LINKTYPE_ETHERNET, [
        (TS, 123456, eth(tcp4(b"hello")) / Padding(b"\xee" * 7)),
        (TS, 123457, eth(IP(src=V4_C, dst=V4_S) / UDP(sport=53, dport=53) /
                         Raw(b"dns"))),
        (TS + 1, 0, eth(IP(src=V4_C, dst=V4_S,
                           options=[IPOption_RR(routers=["10.0.0.1"])]) /
                        TCP(sport=51000, dport=443, seq=0xFFFFFFF0, ack=0,
                            flags="S", options=[("MSS", 1460)]))),
        (TS + 2, 5, eth(tcp6(b"bye", ext=IPv6ExtHdrHopByHop() /
                             IPv6ExtHdrDestOpt()))),
        (TS + 3, 0, eth(tcp6(b"atomic", seq=100, ack=0, flags="A",
                             ext=IPv6ExtHdrFragment(offset=0, m=0,
                                                    id=9)))),
        (TS + 4, 0, eth(ARP(psrc=V4_C, pdst=V4_S))),
        (TS + 5, 0, eth(tcp4(b"x", seq=5, ack=6, flags="UAPRSFEC"))),
    ])

    # Fragments are skipped, first ones included.
    pcap("frag.pcap", LINKTYPE_ETHERNET, [
        (TS, 0, eth(IP(src=V4_C, dst=V4_S, flags="MF", frag=0,
                       proto=6) / Raw(bytes(TCP(sport=1, dport=2))))),
        (TS, 1, eth(IP(src=V4_C, dst=V4_S, flags=0, frag=3, proto=6) /
                    Raw(b"B" * 16))),
        (TS, 2, eth(tcp6(b"frag", ext=IPv6ExtHdrFragment(offset=0, m=1,
                                                         id=1)))),
        (TS, 3, eth(IPv6(src=V6_S, dst=V6_C, nh=44) /
                    IPv6ExtHdrFragment(nh=6, offset=2, m=0, id=1) /
                    Raw(b"C" * 16))),
        (TS, 4, eth(tcp4(b"whole"))),
    ])

    # VLAN: one 802.1Q tag; 802.1ad over 802.1Q; old 0x9100 over 802.1Q.
    pcap("vlan.pcap", LINKTYPE_ETHERNET, [
        (TS, 1, eth(Dot1Q(vlan=100) / tcp4(b"vlan1"))),
        (TS, 2, Ether(src=MAC_C, dst=MAC_S, type=0x88A8) /
         Dot1AD(vlan=200) / Dot1Q(vlan=300) / tcp6(b"vlan2")),
        (TS, 3, Ether(src=MAC_C, dst=MAC_S, type=0x9100) /
         Dot1Q(vlan=5) / Dot1Q(vlan=6) / tcp4(b"vlan3", seq=3)),
    ])

    pcap("sll.pcap", LINKTYPE_LINUX_SLL, [
        (TS, 10, sll(tcp4(b"sll4"), 0x0800)),
        (TS, 11, sll(tcp6(b"sll6"), 0x86DD)),
        (TS, 12, sll(Dot1Q(vlan=7) / tcp4(b"sllv", seq=9), 0x8100)),
        (TS, 13, sll(b"\0" * 20, 0x0806)),
    ])
    pcap("sll2.pcap", LINKTYPE_LINUX_SLL2, [
        (TS, 20, sll2(tcp4(b"sll2-4"), 0x0800)),
        (TS, 21, sll2(tcp6(b"sll2-6"), 0x86DD)),
    ])

    # Raw IP: the version nibble decides; anything else is malformed.
    # Zero IP lengths, as in Linux BIG TCP packets: the frame's length.
    gso4 = bytearray(bytes(tcp4(b"gso4")))
    gso4[2:4] = b"\0\0"
    gso6 = bytearray(bytes(tcp6(b"gso6")))
    gso6[4:6] = b"\0\0"
    pcap("raw.pcap", LINKTYPE_RAW, [
        (TS, 30, tcp4(b"raw4")),
        (TS, 31, tcp6(b"raw6")),
        (TS, 32, b"\x50" + bytes(39)),
        (TS, 33, gso4),
        (TS, 34, gso6),
    ])
    pcap("ipv4.pcap", LINKTYPE_IPV4, [(TS, 40, tcp4(b"ipv4"))])
    pcap("ipv6.pcap", LINKTYPE_IPV6, [(TS, 41, tcp6(b"ipv6"))])

    # DLT_NULL: the family in the writer's byte order, little-endian here
    # except for one from a big-endian host; 7 is neither IP.
    pcap("null.pcap", LINKTYPE_NULL, [
        (TS, 50, struct.pack("<I", 2) + bytes(tcp4(b"null4"))),
        (TS, 51, struct.pack("<I", 30) + bytes(tcp6(b"null6"))),
        (TS, 52, struct.pack(">I", 24) + bytes(tcp6(b"null6be"))),
        (TS, 53, struct.pack("<I", 7) + bytes(tcp4(b"other"))),
    ])
    # DLT_LOOP: network order, in a big-endian file.
    pcap("loop.pcap", LINKTYPE_LOOP, [
        (TS, 60, struct.pack(">I", 2) + bytes(tcp4(b"loop4"))),
        (TS, 61, struct.pack(">I", 28) + bytes(tcp6(b"loop6"))),
    ], endian=">")

    # snaplen 64: the payload is cut; then headers cut; then only the
    # Ethernet padding cut, which leaves the payload whole.
    big = bytes(eth(tcp4(bytes(range(100)), seq=4242)))
    small = bytes(eth(tcp4(b"hey", seq=7)) / Padding(b"\0" * 9))
    pcap("snaplen.pcap", LINKTYPE_ETHERNET, [
        (TS, 70, big[:64], len(big)),
        (TS, 71, big[:40], len(big)),
        (TS, 72, small[:57], len(small)),
    ], snaplen=64)

    # Headers that do not parse: IHL 4, TCP data offset 4, IPv4 total
    # length beyond the frame, IPv6 payload length beyond the frame, a
    # hop-by-hop header running past the packet, a runt Ethernet frame.
    ok = bytes(tcp4(b"malformed"))
    ihl4 = b"\x44" + ok[1:]
    doff4 = bytearray(ok)
    doff4[20 + 12] = 0x40
    long4 = bytearray(ok)
    long4[2:4] = struct.pack(">H", len(ok) + 10)
    long6 = bytearray(bytes(tcp6(b"x")))
    long6[4:6] = struct.pack(">H", 200)
    hbh = bytearray(bytes(tcp6(b"y", ext=IPv6ExtHdrHopByHop())))
    hbh[40 + 1] = 20
    pcap("malformed.pcap", LINKTYPE_ETHERNET, [
        (TS, 80, eth(Raw(ihl4), type=0x0800)),
        (TS, 81, eth(Raw(bytes(doff4)), type=0x0800)),
        (TS, 82, eth(Raw(bytes(long4)), type=0x0800)),
        (TS, 83, eth(Raw(bytes(long6)), type=0x86DD)),
        (TS, 84, eth(Raw(bytes(hbh)), type=0x86DD)),
        (TS, 85, bytes(eth(tcp4()))[:10]),
        (TS, 86, eth(tcp4(b"fine"))),
    ])

    # Nanosecond timestamps, read as microseconds.
    pcap("nsec.pcap", LINKTYPE_ETHERNET, [
        (TS, 123456789, eth(tcp4(b"nsec"))),
    ], nsec=True)
    pcapng("ng.pcapng", LINKTYPE_ETHERNET, [
        (TS * 10**9 + 987654321, eth(tcp4(b"ng1", seq=11))),
        (TS * 10**9 + 987655321, eth(tcp6(b"ng2", seq=12))),
    ], tsresol=9)

    # A file cut in the middle of its third record.
    pcap("cut.pcap", LINKTYPE_ETHERNET, [
        (TS, 90, eth(tcp4(b"one", seq=1))),
        (TS, 91, eth(tcp4(b"two", seq=4))),
        (TS, 92, eth(tcp4(b"three", seq=7))),
    ])
    with open(os.path.join(OUT, "cut.pcap"), "r+b") as f:
        f.truncate(os.path.getsize(f.name) - 30)

    pcap("wifi.pcap", LINKTYPE_IEEE802_11, [(TS, 0, b"\0" * 24)])
    with open(os.path.join(OUT, "garbage.pcap"), "wb") as f:
        f.write(b"this is not a capture file\n")


if __name__ == "__main__":
    main()
