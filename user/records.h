/* SPDX-License-Identifier: BSD-3-Clause */
/* One direction's TLS record layer, fed with stream bytes in order.
 *
 * It sniffs the first bytes (TLS, SSLv2 or something else), then walks
 * record headers, rebuilds plaintext handshake messages across records and
 * reports what it sees through callbacks. Record bodies are never kept
 * except while a handshake message or an alert is being rebuilt, so a
 * direction costs a few hundred bytes however much flows through it. */
#ifndef TLSWATCH_RECORDS_H
#define TLSWATCH_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "stream.h"
#include "tls.h"

/* Handshake messages longer than this are reported without their body. */
#define RECORDS_MAX_HS 65536

struct records_ops {
	/* The stream's first bytes are not TLS: what they look like. */
	void (*not_tls)(void *ctx, enum tls_sniff what);
	/* A record header: called as soon as its 5 bytes are in. */
	void (*record)(void *ctx, const struct tls_record_header *h);
	/* A whole plaintext handshake message; body is NULL when it was
	 * longer than RECORDS_MAX_HS, did not fit in memory (mem_refused)
	 * or lost bytes (damaged; len is then what its header announced, or
	 * 0 if the header itself was cut). */
	void (*handshake)(void *ctx, uint8_t type, const uint8_t *body,
			  uint32_t len);
	/* A 2-byte plaintext alert. */
	void (*alert)(void *ctx, uint8_t level, uint8_t desc);
	/* A whole SSLv2-format record, header included. */
	void (*sslv2)(void *ctx, const uint8_t *rec, uint32_t len);
	/* Framing broke or bytes went missing where a header was due: no more
	 * callbacks for this direction. why: "framing", "gap", "truncated". */
	void (*lost)(void *ctx, const char *why);
};

enum records_state {
	REC_SNIFF,		/* first bytes, still deciding */
	REC_TLS,		/* walking TLS records */
	REC_SSLV2,		/* walking SSLv2 records */
	REC_DONE,		/* not TLS or lost: ignore the rest */
};

struct records {
	enum records_state state;
	uint64_t pos;		/* stream bytes walked (data and gaps) */
	bool encrypted;		/* handshake records are encrypted (after this
				 * side's ChangeCipherSpec, TLS 1.2 and older) */
	/* Bytes of the current record header (or sniff/SSLv2 prefix). */
	uint8_t hdr[TLS_SNIFF_MAX_LEN];
	uint8_t hdr_len;
	struct tls_record_header cur;	/* current record, when in_body */
	bool in_body;
	uint32_t body_left;	/* bytes of the current record still to come */
	/* Plaintext handshake message being rebuilt across records: its
	 * header, and its body in hs (an SSLv2 record, whole, in hs too). */
	uint8_t hs_hdr[TLS_HS_HEADER_LEN];
	uint8_t *hs;
	uint32_t hs_len, hs_cap;	/* bytes of the message so far */
	bool hs_lost;		/* the body is not kept: follow it bodiless */
	bool hs_skip;		/* bytes went missing: skip to the next record */
	bool mem_refused;	/* a message was not kept: memory limit */
	enum stream_gap damaged;	/* handshake bytes went missing (how),
					 * or 0 */
	/* Plaintext alert body (2 bytes) being rebuilt. */
	uint8_t alert[2];
	uint8_t alert_len;
	/* SSLv2 record being rebuilt in hs: its whole length once known. */
	uint32_t v2_need;
	bool seen_v2;		/* an SSLv2 record went by */
	const struct records_ops *ops;
	void *ctx;
};

/* Bytes all directions together may hold for messages being rebuilt
 * (default 64 MiB); a message that does not fit comes without a body. */
void records_set_mem_limit(uint64_t total);

void records_init(struct records *r, const struct records_ops *ops, void *ctx);
void records_free(struct records *r);
/* Feed in-order stream bytes and gaps; these have the stream_sink shape. */
void records_data(void *r, const uint8_t *p, uint32_t len);
void records_gap(void *r, uint32_t len, enum stream_gap why);
extern const struct stream_sink records_sink;

#endif
