/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture output (-w): segments written back as a classic pcap file that
 * Wireshark and tshark dissect. Live capture keeps segments, not packets,
 * so the IPv4/IPv6 and TCP headers are made up from the segment: linktype
 * RAW (101), microsecond timestamps, 20-byte TCP headers without options,
 * window 65535, TTL/hop limit 64, checksums correct. */
#ifndef TLSWATCH_PCAP_OUT_H
#define TLSWATCH_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "flows.h"
#include "segment.h"

struct pcap_out;

/* Create or truncate path and write the file header. NULL with a one-line
 * reason in err (no trailing newline) on failure, e.g. "cannot create
 * x.pcap: Permission denied". */
struct pcap_out *pcap_out_open(const char *path, char *err, size_t errlen);

/* Write one segment as one packet: its addresses, ports, seq, ack and
 * TCPF_* flags, then its seg->caplen captured payload bytes. Bytes not
 * captured (caplen < len) are not invented: the packet carries caplen
 * bytes and its IP length says so. A payload that does not fit in an IP
 * length field (over 65495 bytes) is cut to fit. Returns 0, -EINVAL for a
 * segment that cannot be written (families not both AF_INET or both
 * AF_INET6), or -errno of the first write error, which sticks: once a
 * write failed, nothing more is written. */
int pcap_out_segment(struct pcap_out *o, const struct segment *seg);

/* For a connection whose handshake was not captured: a synthetic SYN
 * (seq client_isn), SYN-ACK (seq server_isn) and ACK, all at ts_us, so
 * that Wireshark's TCP analysis sees a whole connection. Call it before
 * the connection's first segment, which then starts at client_isn + 1
 * from the client and server_isn + 1 from the server. Returns as
 * pcap_out_segment. */
int pcap_out_handshake(struct pcap_out *o, uint64_t ts_us,
		       const struct endpoint *client,
		       const struct endpoint *server,
		       uint32_t client_isn, uint32_t server_isn);

/* From the flow table's report callback: the kept packets of the
 * connection being reported (client and server as the session says),
 * after a synthetic three-way handshake when live capture told its
 * start, then flushed. False when some packets were not kept (the flow
 * table's limits). */
bool pcap_out_reported(struct pcap_out *o, struct flows *f,
		       const struct endpoint *client,
		       const struct endpoint *server);

/* Push buffered packets to the file: 0 or the first write error. */
int pcap_out_flush(struct pcap_out *o);

/* Flush, close and free (o may be NULL). Returns 0 or -errno of the first
 * write error seen since the file was opened, so that the caller can say
 * "writing x.pcap: No space left on device". */
int pcap_out_close(struct pcap_out *o);

/* Packets written so far (counted when handed to the stdio buffer). */
uint64_t pcap_out_packets(const struct pcap_out *o);

#endif
