/* SPDX-License-Identifier: BSD-3-Clause */
/* Reassembly: every arrival order, retransmissions, overlaps, wraparound,
 * truncation, flushing, and memory bounds under hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stream.h"

/* What came out of a stream, one entry per byte ('d' data, 'm' missing,
 * 't' truncated), plus the calls in order. */
struct out {
	uint8_t *bytes;
	char *kind;
	size_t len, cap;
	size_t checked;		/* bytes assert_consistent has seen */
	struct {
		char kind;
		uint32_t len;
	} ev[64];
	unsigned nev;
};

static void push(struct out *o, char kind, const uint8_t *p, uint32_t len)
{
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->bytes = realloc(o->bytes, o->cap);
		o->kind = realloc(o->kind, o->cap);
		assert_non_null(o->bytes);
		assert_non_null(o->kind);
	}
	for (uint32_t i = 0; i < len; i++) {
		o->bytes[o->len + i] = p ? p[i] : 0;
		o->kind[o->len + i] = kind;
	}
	o->len += len;
	if (o->nev < 64) {
		o->ev[o->nev].kind = kind;
		o->ev[o->nev].len = len;
	}
	o->nev++;
}

static void on_data(void *ctx, const uint8_t *p, uint32_t len)
{
	assert_true(len > 0);
	push(ctx, 'd', p, len);
}

static void on_gap(void *ctx, uint32_t len, enum stream_gap why)
{
	assert_true(len > 0);
	assert_true(why == STREAM_GAP_MISSING || why == STREAM_GAP_TRUNCATED);
	push(ctx, why == STREAM_GAP_MISSING ? 'm' : 't', NULL, len);
}

static const struct stream_sink sink = { on_data, on_gap };

static void out_free(struct out *o)
{
	free(o->bytes);
	free(o->kind);
	memset(o, 0, sizeof(*o));
}

static void add(struct stream *s, struct out *o, uint32_t seq, const char *str)
{
	uint32_t n = (uint32_t)strlen(str);

	stream_add(s, seq, (const uint8_t *)str, n, n, &sink, o);
}

static void add_trunc(struct stream *s, struct out *o, uint32_t seq,
		      const char *str, uint32_t len)
{
	stream_add(s, seq, (const uint8_t *)str, (uint32_t)strlen(str), len,
		   &sink, o);
}

static void assert_out(const struct out *o, const char *str, const char *kind)
{
	assert_int_equal(o->len, strlen(kind));
	assert_memory_equal(o->kind, kind, o->len);
	for (size_t i = 0; i < o->len; i++)
		if (kind[i] == 'd')
			assert_int_equal(o->bytes[i], (uint8_t)str[i]);
}

static int teardown(void **state)
{
	(void)state;
	stream_set_limits(64 * 1024, 64 * 1024 * 1024);
	assert_int_equal(stream_total_pending(), 0);
	return 0;
}

static void test_in_order(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 1000);
	add(&s, &o, 1000, "hello");
	add(&s, &o, 1005, " world");
	assert_out(&o, "hello world", "ddddddddddd");
	assert_int_equal(o.nev, 2);
	assert_int_equal(s.next, 1011);
	assert_int_equal(s.delivered, 11);
	assert_int_equal(s.st.segments, 2);
	assert_int_equal(s.st.retransmitted, 0);
	assert_int_equal(s.st.out_of_order, 0);
	assert_int_equal(s.history_len, 11);
	assert_memory_equal(s.history, "hello world", 11);
	stream_free(&s);
	out_free(&o);
}

static void test_first_segment_starts(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	add(&s, &o, 5000, "abc");
	/* Earlier bytes: before the stream, counted, never delivered. */
	add(&s, &o, 4990, "0123456789ab");
	add(&s, &o, 5003, "def");
	stream_start(&s, 1);	/* too late: ignored */
	add(&s, &o, 5006, "g");
	assert_out(&o, "abcdefg", "ddddddd");
	assert_int_equal(s.st.retransmitted, 12);
	assert_int_equal(s.st.conflicts, 0);
	assert_int_equal(s.st.segments, 4);
	stream_free(&s);
	out_free(&o);
}

/* The peer's acknowledgement moves the start while nothing has come out
 * or is held; after that it changes nothing. */
static void test_restart(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 1000);		/* a stray SYN-ACK's ISN */
	stream_restart(&s, 77000);	/* what the client acknowledged */
	add(&s, &o, 77000, "abc");
	stream_restart(&s, 5);		/* too late: ignored */
	add(&s, &o, 77003, "de");
	assert_out(&o, "abcde", "ddddd");
	stream_free(&s);
	out_free(&o);

	stream_init(&s);
	stream_start(&s, 1000);
	add(&s, &o, 1010, "held");
	stream_restart(&s, 1);		/* something is held: ignored */
	assert_int_equal(s.next, 1000);
	stream_free(&s);
	out_free(&o);
}

static void test_zero_length(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_add(&s, 100, NULL, 0, 0, &sink, &o);
	assert_false(s.started);
	assert_int_equal(s.st.segments, 0);
	add(&s, &o, 200, "abc");
	stream_add(&s, 150, NULL, 0, 0, &sink, &o);
	assert_out(&o, "abc", "ddd");
	assert_int_equal(s.next, 203);
	assert_int_equal(s.st.segments, 1);
	stream_free(&s);
	out_free(&o);
}

static bool next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	t = a[i], a[i] = a[j], a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

struct piece {
	uint32_t off, len;
};

/* Every order of the pieces gives the message back, whatever the base
 * sequence number; out_of_order and retransmitted are what a model of
 * "first arrival wins" predicts. */
static void every_order(const struct piece *pc, int n, uint32_t msglen)
{
	static const uint32_t bases[] = { 1, 0xffffffff - 40, 0xfffffff0,
					  0x7fffffe0 };
	uint8_t msg[256];
	uint64_t copies = 0;
	int perm[8], orders = 0;

	for (uint32_t i = 0; i < msglen; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < n; i++)
		copies += pc[i].len;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		for (int i = 0; i < n; i++)
			perm[i] = i;
		do {
			struct stream s;
			struct out o = { 0 };
			bool got[256] = { 0 };
			uint32_t contiguous = 0;
			uint64_t ooo = 0;

			stream_init(&s);
			stream_start(&s, bases[b]);
			for (int k = 0; k < n; k++) {
				const struct piece *p = &pc[perm[k]];

				if (p->off > contiguous)
					ooo++;
				for (uint32_t i = 0; i < p->len; i++)
					got[p->off + i] = true;
				while (contiguous < msglen && got[contiguous])
					contiguous++;
				stream_add(&s, bases[b] + p->off,
					   msg + p->off, p->len, p->len,
					   &sink, &o);
				assert_int_equal(o.len, contiguous);
			}
			assert_int_equal(o.len, msglen);
			assert_memory_equal(o.bytes, msg, msglen);
			assert_null(memchr(o.kind, 'm', o.len));
			assert_null(memchr(o.kind, 't', o.len));
			assert_int_equal(s.next, bases[b] + msglen);
			assert_int_equal(s.st.out_of_order, ooo);
			assert_int_equal(s.st.retransmitted, copies - msglen);
			assert_int_equal(s.st.conflicts, 0);
			assert_null(s.pending);
			assert_int_equal(s.pending_bytes, 0);
			assert_int_equal(stream_total_pending(), 0);
			stream_free(&s);
			out_free(&o);
			orders++;
		} while (next_perm(perm, n));
	}
	assert_int_equal(orders, 4 * (n == 5 ? 120 : 720));
}

static void test_every_order_split(void **state)
{
	static const struct piece pc[] = {
		{ 0, 7 }, { 7, 1 }, { 8, 30 }, { 38, 12 }, { 50, 50 },
	};

	(void)state;
	every_order(pc, 5, 100);
}

static void test_every_order_overlapping(void **state)
{
	/* Partial overlaps, one piece inside another, one covering several
	 * and a duplicate. */
	static const struct piece pc[] = {
		{ 0, 10 }, { 5, 20 }, { 12, 3 }, { 30, 20 }, { 20, 40 },
		{ 30, 20 },
	};

	(void)state;
	every_order(pc, 6, 60);
}

static void test_retransmit_delivered(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 10);
	add(&s, &o, 10, "abcdef");
	add(&s, &o, 12, "cde");
	assert_int_equal(s.st.retransmitted, 3);
	assert_int_equal(s.st.conflicts, 0);
	add(&s, &o, 12, "cXe");
	assert_int_equal(s.st.retransmitted, 6);
	assert_int_equal(s.st.conflicts, 1);
	/* Half old, half new: the old half is compared, the new delivered. */
	add(&s, &o, 14, "EFgh");
	assert_out(&o, "abcdefgh", "dddddddd");
	assert_int_equal(s.st.retransmitted, 8);
	assert_int_equal(s.st.conflicts, 3);
	assert_int_equal(s.st.segments, 4);
	stream_free(&s);
	out_free(&o);
}

static void test_retransmit_pending(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 10, "KLMNO");
	add(&s, &o, 10, "KLMNO");
	add(&s, &o, 10, "KxMyO");
	assert_int_equal(o.len, 0);
	assert_int_equal(s.pending_bytes, 5);
	assert_int_equal(s.pending_count, 1);
	assert_int_equal(s.st.retransmitted, 10);
	assert_int_equal(s.st.conflicts, 2);
	assert_int_equal(s.st.out_of_order, 3);
	add(&s, &o, 0, "0123456789");
	assert_out(&o, "0123456789KLMNO", "ddddddddddddddd");
	stream_free(&s);
	out_free(&o);
}

static void test_overlap_partial(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 10, "KLMNO");
	add(&s, &o, 12, "mnOPQRST");	/* "mn" differ from "MN" */
	add(&s, &o, 7, "789K");
	assert_int_equal(s.pending_bytes, 13);
	assert_int_equal(s.st.retransmitted, 4);
	assert_int_equal(s.st.conflicts, 2);
	add(&s, &o, 0, "0123456");
	assert_out(&o, "0123456789KLMNOPQRST", "dddddddddddddddddddd");
	assert_int_equal(s.pending_count, 0);
	stream_free(&s);
	out_free(&o);
}

static void test_overlap_covering(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 4, "45");
	add(&s, &o, 10, "AB");
	add(&s, &o, 2, "23xx6789abcd");	/* covers both, conflicts on 4-5 */
	assert_int_equal(s.pending_bytes, 12);
	assert_int_equal(s.st.retransmitted, 4);
	assert_int_equal(s.st.conflicts, 4);
	add(&s, &o, 0, "01");
	assert_out(&o, "0123456789ABcd", "dddddddddddddd");
	stream_free(&s);
	out_free(&o);
}

static void test_overlap_contained(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 2, "23456789abcd");
	add(&s, &o, 5, "5z7");
	assert_int_equal(s.pending_count, 1);
	assert_int_equal(s.pending_bytes, 12);
	assert_int_equal(s.st.retransmitted, 3);
	assert_int_equal(s.st.conflicts, 1);
	add(&s, &o, 0, "01");
	assert_out(&o, "0123456789abcd", "dddddddddddddd");
	stream_free(&s);
	out_free(&o);
}

static void test_in_order_over_held(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 4, "xy");
	add(&s, &o, 12, "CD");
	/* Arrives in order but later: the held copy was first. */
	add(&s, &o, 0, "0123456789");
	assert_out(&o, "0123xy6789", "dddddddddd");
	assert_int_equal(s.st.retransmitted, 2);
	assert_int_equal(s.st.conflicts, 2);
	assert_int_equal(o.nev, 3);
	add(&s, &o, 10, "AB");
	assert_out(&o, "0123xy6789ABCD", "dddddddddddddd");
	stream_free(&s);
	out_free(&o);
}

static void test_wraparound(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0xfffffffe);
	add(&s, &o, 0x00000003, "fgh");
	assert_int_equal(s.st.out_of_order, 1);
	add(&s, &o, 0xfffffffe, "abcde");
	assert_out(&o, "abcdefgh", "dddddddd");
	assert_int_equal(s.next, 6);
	add(&s, &o, 0xffffffff, "bcd");
	add(&s, &o, 0xfffffffd, "?a");
	assert_int_equal(s.st.retransmitted, 5);
	assert_int_equal(s.st.conflicts, 0);
	/* Beyond the plausible window even though numerically small. */
	add(&s, &o, 6 + (1u << 20) + 1, "z");
	assert_int_equal(s.st.ignored, 1);
	add(&s, &o, 6, "ij");
	assert_out(&o, "abcdefghij", "dddddddddd");
	stream_free(&s);
	out_free(&o);
}

static void test_truncated_in_order(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 100);
	add_trunc(&s, &o, 100, "abc", 10);
	assert_out(&o, "abc", "dddttttttt");
	assert_int_equal(o.nev, 2);
	assert_int_equal(o.ev[1].kind, 't');
	assert_int_equal(o.ev[1].len, 7);
	assert_int_equal(s.st.truncated_bytes, 7);
	assert_int_equal(s.next, 110);
	assert_int_equal(s.history_len, 3);
	/* The full copy comes too late to replace the gap. */
	add(&s, &o, 100, "aBcdefghij");
	assert_int_equal(s.st.retransmitted, 10);
	assert_int_equal(s.st.conflicts, 1);
	add(&s, &o, 110, "KL");
	assert_out(&o, "abc       KL", "dddtttttttdd");
	stream_free(&s);
	out_free(&o);
}

static void test_truncated_out_of_order(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add_trunc(&s, &o, 5, "fg", 5);
	assert_int_equal(s.pending_count, 2);
	assert_int_equal(s.pending_bytes, 2);
	/* A full copy while the truncated one is held: first copy wins. */
	add(&s, &o, 5, "fghij");
	assert_int_equal(s.st.retransmitted, 5);
	assert_int_equal(s.st.conflicts, 0);
	add(&s, &o, 0, "abcde");
	assert_out(&o, "abcdefg", "dddddddttt");
	assert_int_equal(o.nev, 3);
	assert_int_equal(o.ev[2].kind, 't');
	assert_int_equal(o.ev[2].len, 3);
	assert_int_equal(s.st.truncated_bytes, 3);
	/* Truncated segment with nothing captured at all. */
	add_trunc(&s, &o, 12, "", 3);
	add_trunc(&s, &o, 10, "kl", 2);
	assert_out(&o, "abcdefg   kl", "dddddddtttddttt");
	stream_free(&s);
	out_free(&o);
}

static void test_flush(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 5, "56789");
	add_trunc(&s, &o, 15, "f", 5);
	stream_flush(&s, &sink, &o);
	assert_out(&o, "     56789     f", "mmmmmdddddmmmmmdtttt");
	assert_int_equal(o.nev, 5);
	assert_int_equal(s.st.gap_bytes, 10);
	assert_int_equal(s.st.truncated_bytes, 4);
	assert_int_equal(s.st.forced_gaps, 0);
	assert_null(s.pending);
	assert_int_equal(s.pending_count, 0);
	assert_int_equal(s.pending_bytes, 0);
	assert_int_equal(stream_total_pending(), 0);
	assert_int_equal(s.next, 20);
	assert_int_equal(s.delivered, 20);
	/* History stops at the first gap. */
	assert_int_equal(s.history_len, 0);
	/* Nothing held: a no-op. */
	stream_flush(&s, &sink, &o);
	assert_int_equal(o.nev, 5);
	stream_free(&s);
	out_free(&o);
}

static void test_implausible(void **state)
{
	static uint8_t big[(1 << 20) + 1];
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, (1u << 20) + 1, "x");
	assert_int_equal(s.st.ignored, 1);
	assert_int_equal(s.pending_count, 0);
	add(&s, &o, 1u << 20, "y");
	assert_int_equal(s.st.ignored, 1);
	assert_int_equal(s.pending_count, 1);
	stream_add(&s, 0, big, sizeof(big), sizeof(big), &sink, &o);
	assert_int_equal(s.st.ignored, 2);
	assert_int_equal(o.len, 0);
	assert_int_equal(s.st.segments, 3);
	stream_free(&s);
	out_free(&o);
}

static void test_history_bound(void **state)
{
	static uint8_t a[5000], b[5000];
	struct stream s;
	struct out o = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] = (uint8_t)i;
		b[i] = (uint8_t)~i;
	}
	stream_init(&s);
	stream_start(&s, 0);
	stream_add(&s, 0, a, sizeof(a), sizeof(a), &sink, &o);
	assert_int_equal(s.history_len, STREAM_HISTORY);
	/* Only the bytes history still holds can conflict. */
	stream_add(&s, 4090, b + 4090, 10, 10, &sink, &o);
	assert_int_equal(s.st.retransmitted, 10);
	assert_int_equal(s.st.conflicts, STREAM_HISTORY - 4090);
	stream_free(&s);
	assert_null(s.history);
	out_free(&o);
}

static uint8_t at(uint32_t pos)
{
	return (uint8_t)(pos * 31 + (pos >> 8));
}

/* Every delivered data byte is the one at its position: nothing lost,
 * shifted or delivered twice. */
static void assert_consistent(const struct stream *s, struct out *o,
			      uint32_t base)
{
	assert_int_equal(o->len, s->delivered);
	assert_int_equal((uint32_t)(s->next - base), s->delivered);
	for (; o->checked < o->len; o->checked++)
		if (o->kind[o->checked] == 'd')
			assert_int_equal(o->bytes[o->checked],
					 at((uint32_t)o->checked));
}

static void test_limit_tiny_segments(void **state)
{
	static uint8_t src[20000];
	struct stream s;
	struct out o = { 0 };

	(void)state;
	for (uint32_t i = 0; i < sizeof(src); i++)
		src[i] = at(i);
	stream_set_limits(4096, 1 << 20);
	stream_init(&s);
	stream_start(&s, 7);
	/* Thousands of one-byte segments, each ahead of a one-byte hole. */
	for (uint32_t i = 1; i < 10000; i += 2) {
		stream_add(&s, 7 + i, src + i, 1, 1, &sink, &o);
		assert_true(stream_total_pending() <= 4096);
		assert_true(s.pending_bytes <= 4096);
	}
	assert_true(s.st.forced_gaps > 0);
	assert_int_equal(s.st.gap_bytes, s.st.forced_gaps);
	assert_true(s.pending_count > 50);
	assert_consistent(&s, &o, 7);
	stream_flush(&s, &sink, &o);
	assert_int_equal(s.delivered, 10000);
	assert_int_equal(s.st.gap_bytes, 5000);
	assert_consistent(&s, &o, 7);
	assert_int_equal(stream_total_pending(), 0);
	stream_free(&s);
	out_free(&o);
}

static void test_limit_one_big_segment(void **state)
{
	static uint8_t src[3000];
	struct stream s;
	struct out o = { 0 };

	(void)state;
	for (uint32_t i = 0; i < sizeof(src); i++)
		src[i] = at(i);
	stream_set_limits(1024, 1 << 20);
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 0, "");
	stream_add(&s, 100, src + 100, 200, 200, &sink, &o);
	/* Alone larger than the limit: the hole before it is given up. */
	stream_add(&s, 1000, src + 1000, 2000, 2000, &sink, &o);
	assert_int_equal(s.st.forced_gaps, 2);
	assert_int_equal(o.nev, 4);
	assert_int_equal(o.ev[0].kind, 'm');
	assert_int_equal(o.ev[0].len, 100);
	assert_int_equal(o.ev[2].kind, 'm');
	assert_int_equal(o.ev[2].len, 700);
	assert_int_equal(s.delivered, 3000);
	assert_int_equal(stream_total_pending(), 0);
	assert_consistent(&s, &o, 0);
	stream_free(&s);
	out_free(&o);
}

static void test_limit_total(void **state)
{
	static uint8_t src[4000];
	struct stream a, b;
	struct out oa = { 0 }, ob = { 0 };

	(void)state;
	for (uint32_t i = 0; i < sizeof(src); i++)
		src[i] = at(i);
	stream_set_limits(1 << 20, 2048);
	stream_init(&a);
	stream_init(&b);
	stream_start(&a, 0);
	stream_start(&b, 0);
	stream_add(&a, 10, src + 10, 1500, 1500, &sink, &oa);
	assert_int_equal(a.pending_bytes, 1500);
	/* b does not fit beside a: b gives up its own hole, a keeps its
	 * bytes. */
	stream_add(&b, 10, src + 10, 1000, 1000, &sink, &ob);
	assert_int_equal(b.st.forced_gaps, 1);
	assert_int_equal(b.delivered, 1010);
	assert_int_equal(a.pending_bytes, 1500);
	assert_true(stream_total_pending() <= 2048);
	stream_add(&a, 0, src, 10, 10, &sink, &oa);
	assert_int_equal(a.delivered, 1510);
	assert_int_equal(a.st.forced_gaps, 0);
	assert_consistent(&a, &oa, 0);
	assert_consistent(&b, &ob, 0);
	stream_free(&a);
	stream_free(&b);
	out_free(&oa);
	out_free(&ob);
}

/* Random segments around the delivery point, some truncated, in random
 * order, against small limits: the invariants hold after every call. */
static void test_limit_random(void **state)
{
	static uint8_t src[1 << 18];
	uint32_t rnd = 12345;

	(void)state;
	for (uint32_t i = 0; i < sizeof(src); i++)
		src[i] = at(i);
	for (int round = 0; round < 20; round++) {
		uint32_t base = round & 1 ? 0xffff0000u + (uint32_t)round :
					    (uint32_t)round * 977;
		uint32_t limit = 1024u << (round % 5);
		struct stream s;
		struct out o = { 0 };

		stream_set_limits(limit, 1 << 20);
		stream_init(&s);
		stream_start(&s, base);
		for (int k = 0; k < 3000; k++) {
			uint32_t off, len, cap;

			rnd = rnd * 1103515245 + 12345;
			off = (uint32_t)s.delivered + (rnd >> 8) % 3000;
			off = off > 1000 ? off - 1000 : 0;
			rnd = rnd * 1103515245 + 12345;
			len = 1 + (rnd >> 8) % (k % 7 ? 40 : 1500);
			rnd = rnd * 1103515245 + 12345;
			cap = (rnd >> 8) % 4 ? len : (rnd >> 12) % (len + 1);
			if (off + len > sizeof(src))
				break;
			stream_add(&s, base + off, src + off, cap, len, &sink,
				   &o);
			assert_true(stream_total_pending() <= limit);
			assert_true(s.pending_bytes <= limit);
			assert_int_equal(s.st.conflicts, 0);
			assert_consistent(&s, &o, base);
		}
		assert_true(s.st.out_of_order > 1000);
		if (limit <= 2048)
			assert_true(s.st.forced_gaps > 100);
		stream_flush(&s, &sink, &o);
		assert_consistent(&s, &o, base);
		assert_int_equal(stream_total_pending(), 0);
		stream_free(&s);
		out_free(&o);
	}
}

static void test_free_and_reuse(void **state)
{
	struct stream s;
	struct out o = { 0 };

	(void)state;
	stream_init(&s);
	stream_start(&s, 0);
	add(&s, &o, 0, "ab");
	add(&s, &o, 5, "fgh");
	add(&s, &o, 10, "k");
	assert_true(stream_total_pending() > 4);
	stream_free(&s);
	assert_int_equal(stream_total_pending(), 0);
	assert_null(s.pending);
	stream_init(&s);
	add(&s, &o, 42, "x");
	assert_out(&o, "abx", "ddd");
	stream_free(&s);
	out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_in_order, teardown),
		cmocka_unit_test_teardown(test_first_segment_starts, teardown),
		cmocka_unit_test_teardown(test_restart, teardown),
		cmocka_unit_test_teardown(test_zero_length, teardown),
		cmocka_unit_test_teardown(test_every_order_split, teardown),
		cmocka_unit_test_teardown(test_every_order_overlapping,
					  teardown),
		cmocka_unit_test_teardown(test_retransmit_delivered, teardown),
		cmocka_unit_test_teardown(test_retransmit_pending, teardown),
		cmocka_unit_test_teardown(test_overlap_partial, teardown),
		cmocka_unit_test_teardown(test_overlap_covering, teardown),
		cmocka_unit_test_teardown(test_overlap_contained, teardown),
		cmocka_unit_test_teardown(test_in_order_over_held, teardown),
		cmocka_unit_test_teardown(test_wraparound, teardown),
		cmocka_unit_test_teardown(test_truncated_in_order, teardown),
		cmocka_unit_test_teardown(test_truncated_out_of_order,
					  teardown),
		cmocka_unit_test_teardown(test_flush, teardown),
		cmocka_unit_test_teardown(test_implausible, teardown),
		cmocka_unit_test_teardown(test_history_bound, teardown),
		cmocka_unit_test_teardown(test_limit_tiny_segments, teardown),
		cmocka_unit_test_teardown(test_limit_one_big_segment, teardown),
		cmocka_unit_test_teardown(test_limit_total, teardown),
		cmocka_unit_test_teardown(test_limit_random, teardown),
		cmocka_unit_test_teardown(test_free_and_reuse, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
