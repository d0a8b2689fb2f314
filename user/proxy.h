/* SPDX-License-Identifier: BSD-3-Clause */
/* PROXY protocol v1 and v2 headers (haproxy's proxy-protocol.txt), parsed
 * incrementally: the stream's first bytes are fed in pieces of any size and
 * the parser says when the header is complete and how many bytes it took.
 *
 * Nothing here allocates. A v1 line is at most 107 bytes and is buffered;
 * a v2 header can be 16 + 65535 bytes, so only its fixed part and address
 * block are buffered and its TLVs are walked as they stream by. */
#ifndef TLSWATCH_PROXY_H
#define TLSWATCH_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

enum proxy_result {
	PROXY_NEED_MORE = 0,
	PROXY_DONE = 1,
	PROXY_INVALID = -1,
};

#define PROXY_V1_MAX_LEN 107	/* the spec's worst case, CRLF included */
#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_HDR_LEN 16	/* signature, ver_cmd, fam, len */
#define PROXY_V2_MAX_LEN (PROXY_V2_HDR_LEN + 65535)

/* v2 TLV types and the SSL TLV's client bits. */
#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_NOOP 0x04
#define PP2_TYPE_UNIQUE_ID 0x05
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_SUBTYPE_SSL_SIG_ALG 0x24
#define PP2_SUBTYPE_SSL_KEY_ALG 0x25
#define PP2_TYPE_NETNS 0x30
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

#define PROXY_MAX_AUTHORITY 255	/* longer values are cut */

struct proxy_header {
	uint8_t version;	/* 1 or 2 */
	bool local;		/* v2 LOCAL or v1 UNKNOWN: no addresses, the
				 * connection is the proxy's own (health
				 * check) or its origin was not said */
	bool has_addr;		/* src and dst hold TCP over IPv4/IPv6 */
	struct endpoint src, dst;
	/* v2 only, meaningless for v1: */
	uint8_t fam;		/* the raw family/transport byte */
	uint8_t authority_len;	/* bytes stored in authority */
	bool authority_truncated;
	/* Raw, not NUL-terminated: the name the client asked the proxy for
	 * (its SNI). */
	char authority[PROXY_MAX_AUTHORITY];
	bool has_ssl;		/* PP2_TYPE_SSL present */
	bool ssl_client_tls;	/* ...with PP2_CLIENT_SSL: the client spoke
				 * TLS to the proxy */
	uint8_t ssl_client;	/* PP2_CLIENT_* bits as sent */
	uint32_t ssl_verify;	/* 0 when a client certificate verified */
	uint16_t ntlvs;		/* top-level TLVs walked (sub-TLVs of SSL not
				 * counted) */
	uint32_t len;		/* the whole header's length, once DONE */
};

/* Where a TLV walk is: its 3-byte header, then value bytes. */
struct proxy_tlv_walk {
	uint8_t hdr[3];
	uint8_t nhdr;		/* header bytes seen, 0..3 */
	uint8_t type;
	uint16_t vlen;
	uint16_t vpos;		/* value bytes seen */
};

/* Opaque: fill with proxy_init() and hand to proxy_feed() only. */
struct proxy_parser {
	int state;
	const char *err;
	uint32_t pos;		/* bytes of the header taken so far */
	uint32_t total;		/* v2: 16 + len, once the fixed part is in */
	uint16_t addr_len;	/* v2: address block length for the family */
	bool walk_tlvs;		/* v2: a known family, so TLVs follow it */
	/* The v1 line, or the v2 fixed part and IPv4/IPv6 addresses. */
	uint8_t buf[PROXY_V1_MAX_LEN];
	struct proxy_tlv_walk tlv, sub;	/* top-level, and inside SSL */
	struct proxy_header hdr;
};

void proxy_init(struct proxy_parser *p);

/* Feeds the next len bytes of the stream.
 * PROXY_NEED_MORE: all of them belong to a header not yet complete.
 * PROXY_DONE: *used of them completed the header (the rest, from data +
 *   *used, are what came after it, such as a TLS ClientHello) and *out, when
 *   out is not NULL, holds what it said. Feeding again returns PROXY_DONE
 *   with *used 0.
 * PROXY_INVALID: no further bytes can make a header; *used is the number
 *   of bytes taken up to and including the one that decided it, and
 *   proxy_error() says why. Feeding again returns PROXY_INVALID.
 * used may be NULL. */
int proxy_feed(struct proxy_parser *p, const uint8_t *data, size_t len,
	       size_t *used, struct proxy_header *out);

/* A short static reason after PROXY_INVALID, else NULL. */
const char *proxy_error(const struct proxy_parser *p);

/* Whether the first bytes of a stream start a PROXY header: "PROXY " or
 * the v2 signature. 1 yes, 0 a prefix of one (need more), -1 no. */
int proxy_sniff(const uint8_t *p, size_t len);

#endif
