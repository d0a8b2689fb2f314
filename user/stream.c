/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP reassembly of one direction.
 *
 * Held (pending) ranges never overlap: a new segment only fills the holes
 * between what is already held, so the first copy wins and a held byte
 * exists once. Positions are signed 32-bit differences from next, which
 * survive sequence wraparound while everything lies within 2 GiB of next:
 * segments starting more than STREAM_AHEAD_MAX ahead, or longer than
 * that, are refused. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define STREAM_AHEAD_MAX (1u << 20)

/* Captured bytes, or a truncated range whose bytes were never captured. */
struct stream_pending {
	struct stream_pending *next;
	uint32_t seq;
	uint32_t len;
	bool truncated;
	uint8_t data[];
};

static uint32_t limit_stream = 64 * 1024;
static uint64_t limit_total = 64 * 1024 * 1024;
static uint64_t total_held;

void stream_set_limits(uint32_t per_stream, uint64_t total)
{
	limit_stream = per_stream;
	limit_total = total;
}

uint64_t stream_total_pending(void)
{
	return total_held;
}

/* Nodes are charged as well as bytes, or a flood of one-byte segments
 * would hold many times the limit in node headers. */
static uint64_t node_cost(uint32_t bytes)
{
	return sizeof(struct stream_pending) + bytes;
}

static uint64_t held(const struct stream *s)
{
	return s->pending_count * node_cost(0) + s->pending_bytes;
}

void stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
}

void stream_start(struct stream *s, uint32_t next_seq)
{
	if (s->started)
		return;
	s->started = true;
	s->next = next_seq;
}

void stream_restart(struct stream *s, uint32_t next_seq)
{
	if (s->delivered || s->pending_count)
		return;
	s->started = true;
	s->next = next_seq;
}

static int32_t rel(const struct stream *s, uint32_t seq)
{
	return (int32_t)(seq - s->next);
}

/* Room in history for want bytes (at most STREAM_HISTORY): false when
 * there is no memory, and then history stops where it is. */
static bool history_room(struct stream *s, uint32_t want)
{
	uint32_t cap = s->history_cap ? s->history_cap : STREAM_HISTORY_MIN;
	uint8_t *h;

	if (want <= s->history_cap)
		return true;
	while (cap < want)
		cap *= 2;
	if (cap > STREAM_HISTORY)
		cap = STREAM_HISTORY;
	h = realloc(s->history, cap);
	if (!h)
		return false;
	s->history = h;
	s->history_cap = cap;
	return true;
}

static void deliver_data(struct stream *s, const uint8_t *p, uint32_t len,
			 const struct stream_sink *sink, void *ctx)
{
	/* History grows only while it is the whole stream so far, so that
	 * an index into it is a stream position. */
	if (s->history_len == s->delivered && s->delivered < STREAM_HISTORY) {
		uint32_t n = STREAM_HISTORY - s->history_len;

		if (n > len)
			n = len;
		if (history_room(s, s->history_len + n)) {
			memcpy(s->history + s->history_len, p, n);
			s->history_len += n;
		}
	}
	if (sink->data)
		sink->data(ctx, p, len);
	s->next += len;
	s->delivered += len;
}

static void deliver_gap(struct stream *s, uint32_t len, enum stream_gap why,
			const struct stream_sink *sink, void *ctx)
{
	if (!len)
		return;
	if (why == STREAM_GAP_MISSING)
		s->st.gap_bytes += len;
	else
		s->st.truncated_bytes += len;
	if (sink->gap)
		sink->gap(ctx, len, why);
	s->next += len;
	s->delivered += len;
}

static void drop_head(struct stream *s)
{
	struct stream_pending *n = s->pending;
	uint32_t bytes = n->truncated ? 0 : n->len;

	s->pending = n->next;
	s->pending_count--;
	s->pending_bytes -= bytes;
	total_held -= node_cost(bytes);
	free(n);
}

static void deliver_head(struct stream *s, const struct stream_sink *sink,
			 void *ctx)
{
	struct stream_pending *n = s->pending;

	if (n->truncated)
		deliver_gap(s, n->len, STREAM_GAP_TRUNCATED, sink, ctx);
	else
		deliver_data(s, n->data, n->len, sink, ctx);
	drop_head(s);
}

static void drain(struct stream *s, const struct stream_sink *sink, void *ctx)
{
	while (s->pending && s->pending->seq == s->next)
		deliver_head(s, sink, ctx);
}

static void count_conflicts(struct stream *s, const uint8_t *a,
			    const uint8_t *b, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (a[i] != b[i])
			s->st.conflicts++;
}

/* Bytes [from, to) of a segment captured up to cap were already accepted
 * in n, which begins at segment offset start. */
static void overlap(struct stream *s, const uint8_t *data, uint32_t cap,
		    int64_t from, int64_t to, const struct stream_pending *n,
		    int64_t start)
{
	s->st.retransmitted += to - from;
	if (!n->truncated && from < cap)
		count_conflicts(s, data + from, n->data + (from - start),
				(to < cap ? to : cap) - from);
}

/* The first len bytes of a segment lie before next: delivered already,
 * compared where history still holds them. */
static void behind(struct stream *s, int32_t off, const uint8_t *data,
		   uint32_t cap, uint32_t len)
{
	int64_t pos = (int64_t)s->delivered + off;
	int64_t lo = pos < 0 ? -pos : 0;
	int64_t hi = (int64_t)s->history_len - pos;

	s->st.retransmitted += len;
	if (hi > len)
		hi = len;
	if (hi > cap)
		hi = cap;
	if (lo < hi)
		count_conflicts(s, data + lo, s->history + pos + lo, hi - lo);
}

/* A segment starting at next: its own bytes where nothing is held, the
 * held copies where something is. */
static void in_order(struct stream *s, const uint8_t *data, uint32_t cap,
		     uint32_t len, const struct stream_sink *sink, void *ctx)
{
	uint32_t pos = 0;

	while (pos < len) {
		struct stream_pending *n = s->pending;
		uint32_t upto = len, ncap;

		if (n && n->seq == s->next) {
			if (n->len < len - pos)
				upto = pos + n->len;
			overlap(s, data, cap, pos, upto, n, pos);
			pos += n->len;
			deliver_head(s, sink, ctx);
			continue;
		}
		if (n && (uint32_t)rel(s, n->seq) < len - pos)
			upto = pos + (uint32_t)rel(s, n->seq);
		ncap = cap > pos ? (cap < upto ? cap : upto) - pos : 0;
		if (ncap)
			deliver_data(s, data + pos, ncap, sink, ctx);
		deliver_gap(s, upto - pos - ncap, STREAM_GAP_TRUNCATED, sink,
			    ctx);
		pos = upto;
	}
	drain(s, sink, ctx);
}

/* Hold [seq, seq + len) at *link, as bytes or, without data, as a
 * truncated range, and move *link past it. Without commit, only return
 * what that would cost. */
static uint64_t hold(struct stream *s, struct stream_pending ***link,
		     uint32_t seq, const uint8_t *data, uint32_t len,
		     bool commit)
{
	struct stream_pending *n;

	if (!len)
		return 0;
	if (!commit)
		return node_cost(data ? len : 0);
	/* Without memory the range stays a hole, to come out as a gap. */
	n = malloc(sizeof(*n) + (data ? len : 0));
	if (!n)
		return 0;
	n->seq = seq;
	n->len = len;
	n->truncated = !data;
	if (data)
		memcpy(n->data, data, len);
	n->next = **link;
	**link = n;
	*link = &n->next;
	s->pending_count++;
	s->pending_bytes += data ? len : 0;
	total_held += node_cost(data ? len : 0);
	return 0;
}

/* Walk the holes between held ranges that a segment ahead of next covers.
 * Without commit, return what holding its bytes there would cost; with
 * commit, hold them and count the bytes that were held already. */
static uint64_t fill(struct stream *s, uint32_t seq, const uint8_t *data,
		     uint32_t cap, uint32_t len, bool commit)
{
	struct stream_pending **link = &s->pending;
	uint64_t cost = 0;
	int64_t pos = 0;

	while (pos < len) {
		struct stream_pending *n = *link;
		int64_t start = n ? (int64_t)(int32_t)(n->seq - seq) : len;
		int64_t end = n ? start + n->len : len;

		if (end <= pos) {
			link = &n->next;
			continue;
		}
		if (start > pos) {
			int64_t to = start < len ? start : len;
			/* The captured part of [pos, to) ends at mid. */
			int64_t mid = cap < pos ? pos : cap > to ? to : cap;

			if (mid > pos)
				cost += hold(s, &link, seq + (uint32_t)pos,
					     data + pos, (uint32_t)(mid - pos),
					     commit);
			cost += hold(s, &link, seq + (uint32_t)mid, NULL,
				     (uint32_t)(to - mid), commit);
			pos = to;
			continue;
		}
		if (end > len)
			end = len;
		if (commit)
			overlap(s, data, cap, pos, end, n, start);
		pos = end;
		link = &n->next;
	}
	return cost;
}

static bool fits(const struct stream *s, uint64_t cost)
{
	return held(s) + cost <= limit_stream &&
	       total_held + cost <= limit_total;
}

/* Memory is short: give up on the first hole, which ends at the first held
 * range or at the new segment, whichever comes first. */
static void give_up(struct stream *s, uint32_t seq,
		    const struct stream_sink *sink, void *ctx)
{
	uint32_t hole = (uint32_t)rel(s, seq);

	if (s->pending && (uint32_t)rel(s, s->pending->seq) < hole)
		hole = (uint32_t)rel(s, s->pending->seq);
	s->st.forced_gaps++;
	deliver_gap(s, hole, STREAM_GAP_MISSING, sink, ctx);
	drain(s, sink, ctx);
}

void stream_add(struct stream *s, uint32_t seq, const uint8_t *data,
		uint32_t caplen, uint32_t len, const struct stream_sink *sink,
		void *ctx)
{
	uint32_t old;
	int32_t off;

	if (!len)
		return;
	s->st.segments++;
	if (caplen > len)
		caplen = len;
	if (len > STREAM_AHEAD_MAX) {
		s->st.ignored++;
		return;
	}
	if (!s->started)
		stream_start(s, seq);
	off = rel(s, seq);
	if (off > (int32_t)STREAM_AHEAD_MAX) {
		s->st.ignored++;
		return;
	}
	if (off > 0) {
		s->st.out_of_order++;
		while (off > 0 &&
		       !fits(s, fill(s, seq, data, caplen, len, false))) {
			give_up(s, seq, sink, ctx);
			off = rel(s, seq);
		}
		if (off > 0) {
			fill(s, seq, data, caplen, len, true);
			return;
		}
	}
	old = (uint32_t)-(int64_t)off < len ? (uint32_t)-(int64_t)off : len;
	behind(s, off, data, caplen, old);
	if (old == len)
		return;
	in_order(s, caplen > old ? data + old : NULL,
		 caplen > old ? caplen - old : 0, len - old, sink, ctx);
}

void stream_flush(struct stream *s, const struct stream_sink *sink, void *ctx)
{
	while (s->pending) {
		deliver_gap(s, (uint32_t)rel(s, s->pending->seq),
			    STREAM_GAP_MISSING, sink, ctx);
		deliver_head(s, sink, ctx);
	}
}

void stream_free(struct stream *s)
{
	while (s->pending)
		drop_head(s);
	free(s->history);
	s->history = NULL;
	s->history_len = 0;
	s->history_cap = 0;
}
