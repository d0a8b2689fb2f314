/* SPDX-License-Identifier: BSD-3-Clause */
/* A TCP segment as every capture source hands it to the flow table.
 * The pcap source fills it today; the BPF ring buffer fills it next. */
#ifndef TLSWATCH_SEGMENT_H
#define TLSWATCH_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

/* Direction, when the source knows it (live capture does, pcap does not). */
enum seg_dir {
	SEG_DIR_UNKNOWN = 0,
	SEG_DIR_FROM_CLIENT = 1,
	SEG_DIR_FROM_SERVER = 2,
};

struct endpoint {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes, rest zero */
	uint16_t port;		/* host byte order */
};

struct segment {
	uint64_t ts_us;		/* capture time, microseconds since the epoch */
	struct endpoint src, dst;
	uint8_t flags;		/* TCPF_* */
	uint8_t dir;		/* enum seg_dir */
	bool opening;		/* live capture: it reached the listening
				 * socket, so the connection is being born
				 * and its start will be told right after */
	uint32_t seq;		/* sequence number of the first payload byte
				 * (of the SYN itself when TCPF_SYN is set) */
	uint32_t ack;
	const uint8_t *data;	/* captured payload bytes, valid during the call */
	uint32_t caplen;	/* bytes at data */
	uint32_t len;		/* payload length on the wire, >= caplen: bytes
				 * [caplen, len) exist but were not captured */
	bool final;		/* live capture: the kernel saw the handshake
				 * end with this segment, and sends nothing
				 * more of the connection, its close included */
};

/* Sources push segments into a sink; a non-zero return stops the source. */
typedef int (*segment_fn)(void *ctx, const struct segment *seg);

#endif
