// SPDX-License-Identifier: BSD-3-Clause
/* The record layer of one direction: the same events whatever the
 * chunking of the stream, handshake messages rebuilt across records,
 * several messages per record, gaps inside and across record bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "records.h"

/* Every callback appends a short token to a log, so that whole event
 * sequences can be compared as strings. */
static char log_[4096];

static void add(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(log_);

	va_start(ap, fmt);
	vsnprintf(log_ + n, sizeof(log_) - n, fmt, ap);
	va_end(ap);
}

static void on_not_tls(void *ctx, enum tls_sniff what)
{
	(void)ctx;
	add("not_tls:%s ", tls_sniff_name(what));
}

static void on_record(void *ctx, const struct tls_record_header *h)
{
	(void)ctx;
	add("rec:%u/%u ", h->type, h->length);
}

static void on_handshake(void *ctx, uint8_t type, const uint8_t *body,
			 uint32_t len)
{
	(void)ctx;
	add("hs:%u/%u%s", type, len, body ? "" : "(nobody)");
	if (body && len)
		add("[%02x..%02x]", body[0], body[len - 1]);
	add(" ");
}

static void on_alert(void *ctx, uint8_t level, uint8_t desc)
{
	(void)ctx;
	add("alert:%u/%u ", level, desc);
}

static void on_sslv2(void *ctx, const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	add("v2:%u/%u ", tls_sslv2_msg_type(rec, len), len);
}

static void on_lost(void *ctx, const char *why)
{
	(void)ctx;
	add("lost:%s ", why);
}

static const struct records_ops ops = {
	.not_tls = on_not_tls,
	.record = on_record,
	.handshake = on_handshake,
	.alert = on_alert,
	.sslv2 = on_sslv2,
	.lost = on_lost,
};

static struct records r;

static void start(void)
{
	log_[0] = '\0';
	records_init(&r, &ops, NULL);
}

/* A server flight: ServerHello (6-byte body) and Certificate (3 bytes)
 * in one record, ServerHelloDone in the next, a CCS, and an alert. */
static const uint8_t flight[] = {
	22, 3, 3, 0, 17,
	2, 0, 0, 6, 0xa1, 2, 3, 4, 5, 0xa6,	/* ServerHello */
	11, 0, 0, 3, 0xb1, 2, 0xb3,		/* Certificate */
	22, 3, 3, 0, 4,
	14, 0, 0, 0,				/* ServerHelloDone */
	20, 3, 3, 0, 1, 1,			/* ChangeCipherSpec */
	21, 3, 3, 0, 2, 2, 40,			/* fatal handshake_failure */
};
static const char flight_log[] =
	"rec:22/17 hs:2/6[a1..a6] hs:11/3[b1..b3] rec:22/4 hs:14/0 "
	"rec:20/1 rec:21/2 alert:2/40 ";

/* Any chunking of the stream gives the same events. */
static void chunking(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= sizeof(flight); chunk++) {
		start();
		for (size_t off = 0; off < sizeof(flight); off += chunk) {
			size_t n = sizeof(flight) - off < chunk ?
				   sizeof(flight) - off : chunk;

			records_data(&r, flight + off, n);
		}
		assert_string_equal(log_, flight_log);
		records_free(&r);
	}
}

/* A message split across two records is rebuilt. */
static void message_across_records(void **state)
{
	static const uint8_t b[] = {
		22, 3, 3, 0, 5, 2, 0, 0, 6, 0xa1,
		22, 3, 3, 0, 5, 2, 3, 4, 5, 0xa6,
	};

	(void)state;
	start();
	records_data(&r, b, sizeof(b));
	assert_string_equal(log_, "rec:22/5 rec:22/5 hs:2/6[a1..a6] ");
	records_free(&r);
}

/* After ChangeCipherSpec (TLS 1.2) handshake records are not parsed. */
static void encrypted_not_parsed(void **state)
{
	static const uint8_t b[] = { 22, 3, 3, 0, 4, 20, 0, 0, 12 };

	(void)state;
	start();
	r.encrypted = true;
	records_data(&r, b, sizeof(b));
	assert_string_equal(log_, "rec:22/4 ");
	records_free(&r);
}

/* A message larger than the buffer is followed and reported bodiless. */
static void oversized_message(void **state)
{
	uint32_t body = 70000;

	(void)state;
	start();
	/* Records of at most 16384 bytes carry the 70004-byte message. */
	{
		static uint8_t stream[4 + 70000 + 5 * 5];
		static uint8_t msg[4 + 70000];

		msg[0] = 11;
		msg[1] = body >> 16;
		msg[2] = body >> 8;
		msg[3] = body;
		size_t off = 0, n = 0;

		while (off < sizeof(msg)) {
			size_t len = sizeof(msg) - off < 16384 ? sizeof(msg) - off :
				     16384;

			stream[n++] = 22;
			stream[n++] = 3;
			stream[n++] = 3;
			stream[n++] = len >> 8;
			stream[n++] = len;
			memcpy(stream + n, msg + off, len);
			n += len;
			off += len;
		}
		records_data(&r, stream, n);
	}
	assert_non_null(strstr(log_, "hs:11/70000(nobody) "));
	records_free(&r);
}

/* Missing bytes inside a body keep the walk in step; the message they
 * cut comes without its body, and the handshake parser picks up at the
 * next record. */
static void gap_inside_body(void **state)
{
	static const uint8_t head[] = { 22, 3, 3, 0, 10, 11, 0, 0, 6, 1 };
	static const uint8_t next[] = { 22, 3, 3, 0, 4, 14, 0, 0, 0 };

	(void)state;
	start();
	records_data(&r, head, sizeof(head));
	records_gap(&r, 5, STREAM_GAP_TRUNCATED);
	records_data(&r, next, sizeof(next));
	assert_string_equal(log_, "rec:22/10 hs:11/6(nobody) rec:22/4 hs:14/0 ");
	assert_int_equal(r.damaged, STREAM_GAP_TRUNCATED);
	records_free(&r);
}

/* Missing bytes where a header is due: the direction is lost. */
static void gap_over_header(void **state)
{
	static const uint8_t head[] = { 22, 3, 3, 0, 2, 1, 2 };

	(void)state;
	start();
	records_data(&r, head, sizeof(head));
	records_gap(&r, 3, STREAM_GAP_MISSING);
	records_data(&r, flight, sizeof(flight));
	assert_string_equal(log_, "rec:22/2 lost:gap ");
	records_free(&r);
}

static void gap_body_overrun(void **state)
{
	static const uint8_t head[] = { 23, 3, 3, 0, 10 };

	(void)state;
	start();
	records_data(&r, head, sizeof(head));
	records_gap(&r, 11, STREAM_GAP_TRUNCATED);
	assert_string_equal(log_, "rec:23/10 lost:truncated ");
	records_free(&r);
}

static void bad_header(void **state)
{
	static const uint8_t b[] = { 22, 3, 3, 0, 1, 1, 99, 3, 3, 0, 1 };

	(void)state;
	start();
	records_data(&r, b, sizeof(b));
	assert_string_equal(log_, "rec:22/1 lost:framing ");
	records_free(&r);
}

/* An SSLv2-format hello, then TLS records (the server answered in TLS). */
static void sslv2_then_tls(void **state)
{
	static const uint8_t b[] = {
		0x80, 0x1c, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
		0x10, 0x00, 0x00, 0x2f,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		20, 3, 1, 0, 1, 1,
	};

	(void)state;
	for (size_t split = 1; split < sizeof(b); split++) {
		start();
		records_data(&r, b, split);
		records_data(&r, b + split, sizeof(b) - split);
		assert_string_equal(log_, "v2:1/30 rec:20/1 ");
		records_free(&r);
	}
}

/* The shared memory limit: a message that does not fit comes bodiless,
 * marked as refused, and memory is given back on free. */
static void memory_limit(void **state)
{
	static const uint8_t hdr[] = { 22, 3, 3, 0x07, 0xd4, 1, 0, 0x07, 0xd0 };
	static uint8_t body[2000];

	(void)state;
	records_set_mem_limit(1024);
	start();
	records_data(&r, hdr, sizeof(hdr));
	records_data(&r, body, sizeof(body));
	assert_string_equal(log_, "rec:22/2004 hs:1/2000(nobody) ");
	assert_true(r.mem_refused);
	records_free(&r);
	/* The same message whole in one chunk, which needs no buffer, is
	 * refused just the same. */
	{
		static uint8_t whole[sizeof(hdr) + sizeof(body)];

		memcpy(whole, hdr, sizeof(hdr));
		start();
		records_data(&r, whole, sizeof(whole));
		assert_string_equal(log_, "rec:22/2004 hs:1/2000(nobody) ");
		assert_true(r.mem_refused);
		records_free(&r);
	}
	/* Freed memory is available again. */
	start();
	records_data(&r, hdr, 5);
	records_data(&r, (const uint8_t *)"\x01\x00\x00\x10", 4);
	records_data(&r, body, 16);
	assert_string_equal(log_, "rec:22/2004 hs:1/16[00..00] ");
	records_free(&r);
	records_set_mem_limit(64ULL << 20);
}

/* Thousands of tiny SSLv2 records in one chunk: walked in a loop, not
 * by recursion (a stack overflow once). */
static void many_sslv2_records(void **state)
{
	static uint8_t b[3 * 100000];

	(void)state;
	for (size_t i = 0; i < sizeof(b); i += 3)
		memcpy(b + i, "\x80\x01\x04", 3);
	start();
	records_data(&r, b, sizeof(b));
	assert_memory_equal(log_, "v2:4/3 v2:4/3 v2:4/3 ", 21);
	assert_int_equal(r.pos, sizeof(b));
	records_free(&r);
}

static void not_tls(void **state)
{
	(void)state;
	start();
	records_data(&r, (const uint8_t *)"SSH-2.0-OpenSSH_9.2\r\n", 21);
	records_data(&r, flight, sizeof(flight));
	assert_string_equal(log_, "not_tls:ssh ");
	records_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chunking),
		cmocka_unit_test(message_across_records),
		cmocka_unit_test(encrypted_not_parsed),
		cmocka_unit_test(oversized_message),
		cmocka_unit_test(gap_inside_body),
		cmocka_unit_test(gap_over_header),
		cmocka_unit_test(gap_body_overrun),
		cmocka_unit_test(bad_header),
		cmocka_unit_test(sslv2_then_tls),
		cmocka_unit_test(memory_limit),
		cmocka_unit_test(many_sslv2_records),
		cmocka_unit_test(not_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
