/* SPDX-License-Identifier: BSD-3-Clause */
/* One direction of a TCP connection put back into sequence order.
 *
 * Segments go in in any order, with retransmissions and overlaps; bytes come
 * out exactly once, in order, through a sink. Where the first copy of a byte
 * range has been accepted, it wins: later copies that differ are counted as
 * conflicts, never delivered. Holes that will never be filled come out as
 * gaps, so the consumer knows its position in the stream at all times.
 * Memory is bounded per stream and in total, whatever the input. */
#ifndef TLSWATCH_STREAM_H
#define TLSWATCH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream_gap {
	STREAM_GAP_MISSING = 1,	  /* bytes never captured: lost segments,
				   * or given up on to bound memory */
	STREAM_GAP_TRUNCATED = 2, /* bytes whose length is known but whose
				   * content was not captured (segment len >
				   * caplen: snaplen or capture budget) */
};

struct stream_sink {
	void (*data)(void *ctx, const uint8_t *p, uint32_t len);
	void (*gap)(void *ctx, uint32_t len, enum stream_gap why);
};

struct stream_stats {
	uint64_t segments;	/* segments with payload given to stream_add */
	uint64_t retransmitted;	/* payload bytes seen again */
	uint64_t conflicts;	/* bytes seen again with different content */
	uint64_t out_of_order;	/* segments that arrived ahead of a hole */
	uint64_t gap_bytes;	/* bytes delivered as STREAM_GAP_MISSING */
	uint64_t truncated_bytes; /* bytes delivered as STREAM_GAP_TRUNCATED */
	uint64_t forced_gaps;	/* holes given up on because of memory limits */
	uint64_t ignored;	/* segments too far ahead to be plausible */
};

struct stream_pending;

/* Bytes of the start of the stream kept to compare retransmissions. The
 * buffer grows with the stream, from STREAM_HISTORY_MIN, doubling: most
 * streams stop at a ClientHello or an alert. */
#define STREAM_HISTORY 4096
#define STREAM_HISTORY_MIN 256

struct stream {
	bool started;		/* next is valid */
	uint32_t next;		/* sequence number of the next byte to deliver */
	uint64_t delivered;	/* bytes delivered so far (data and gaps) */
	struct stream_pending *pending;	/* out-of-order segments, sorted */
	uint32_t pending_bytes;
	uint32_t pending_count;
	uint8_t *history;	/* first STREAM_HISTORY delivered bytes */
	uint32_t history_len;	/* how many of them are valid */
	uint32_t history_cap;	/* bytes allocated at history */
	struct stream_stats st;
};

/* Limits shared by all streams: bytes held out of order per stream and in
 * total. Defaults: 64 KiB per stream, 64 MiB in total. Each held range is
 * also charged its node header, so that tiny segments cannot multiply the
 * memory; stream_total_pending() includes that charge, pending_bytes not. */
void stream_set_limits(uint32_t per_stream, uint64_t total);
uint64_t stream_total_pending(void);

void stream_init(struct stream *s);
/* The next expected sequence number, known from the SYN (its seq + 1).
 * Without it, the first segment added starts the stream. */
void stream_start(struct stream *s, uint32_t next_seq);
/* While nothing has been delivered or held yet: start at next_seq even
 * if the stream has started (the peer acknowledged a different initial
 * sequence number than a SYN seen earlier said). */
void stream_restart(struct stream *s, uint32_t next_seq);
/* A segment: data holds caplen captured bytes of a payload of len bytes
 * starting at seq. Delivers whatever became contiguous. */
void stream_add(struct stream *s, uint32_t seq, const uint8_t *data,
		uint32_t caplen, uint32_t len, const struct stream_sink *sink,
		void *ctx);
/* The connection is over (or the caller gives up waiting): deliver every
 * pending segment, turning holes into STREAM_GAP_MISSING. */
void stream_flush(struct stream *s, const struct stream_sink *sink, void *ctx);
/* Free everything held; the struct may be re-initialised afterwards. */
void stream_free(struct stream *s);

#endif
