// SPDX-License-Identifier: BSD-3-Clause
/* The classifier, rule by rule: each test plays one handshake's records
 * and TCP events through a session and checks outcome, reason, stage,
 * alert and close, as ../shared/spec/record.md defines them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "session.h"

#define C SIDE_CLIENT
#define S SIDE_SERVER
#define MS 1000ULL
#define T0 1700000000000000ULL

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct buf *b, uint8_t v) { b->b[b->n++] = v; }
static void put16(struct buf *b, uint16_t v) { put8(b, v >> 8); put8(b, v); }
static void put24(struct buf *b, uint32_t v) { put8(b, v >> 16); put16(b, v); }
static void putn(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* A ClientHello handshake message: legacy version, one cipher list,
 * supported_versions when tls13, and an SNI. */
static void client_hello_msg(struct buf *m, uint16_t legacy, bool tls13,
			     bool fallback)
{
	struct buf ext = { .n = 0 };
	uint8_t random[32] = { 1 };
	size_t len_at;

	/* server_name: "example.com" */
	put16(&ext, 0);
	put16(&ext, 16);
	put16(&ext, 14);
	put8(&ext, 0);
	put16(&ext, 11);
	putn(&ext, "example.com", 11);
	if (tls13) {
		put16(&ext, 43);	/* supported_versions */
		put16(&ext, 5);
		put8(&ext, 4);
		put16(&ext, 0x0304);
		put16(&ext, 0x0303);
	}
	put8(m, 1);
	len_at = m->n;
	put24(m, 0);
	put16(m, legacy);
	putn(m, random, 32);
	put8(m, 0);		/* session id */
	put16(m, fallback ? 6 : 4);
	put16(m, 0x1301);
	put16(m, 0xc02f);
	if (fallback)
		put16(m, 0x5600);
	put8(m, 1);
	put8(m, 0);		/* null compression */
	put16(m, ext.n);
	putn(m, ext.b, ext.n);
	m->b[len_at] = (m->n - len_at - 3) >> 16;
	m->b[len_at + 1] = (m->n - len_at - 3) >> 8;
	m->b[len_at + 2] = m->n - len_at - 3;
}

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void server_hello_msg(struct buf *m, bool tls13, bool hrr)
{
	uint8_t random[32] = { 2 };

	put8(m, 2);
	put24(m, 2 + 32 + 1 + 2 + 1 + (tls13 ? 2 + 6 : 0));
	put16(m, 0x0303);
	putn(m, hrr ? hrr_random : random, 32);
	put8(m, 0);
	put16(m, tls13 ? 0x1301 : 0xc02f);
	put8(m, 0);
	if (tls13) {
		put16(m, 6);
		put16(m, 43);
		put16(m, 2);
		put16(m, 0x0304);
	}
}

static struct session s;
static uint64_t now;

static void feed(enum side_id side, const void *p, size_t n)
{
	session_tick(&s, now);
	session_sink.data(&s.side[side], p, n);
}

/* A record of the given type wrapping body (or n filler bytes). */
static void record(enum side_id side, uint8_t type, const void *body, size_t n)
{
	struct buf r = { .n = 0 };

	put8(&r, type);
	put16(&r, 0x0303);
	put16(&r, n);
	if (body)
		putn(&r, body, n);
	else
		r.n += n;	/* zeros: an encrypted body */
	feed(side, r.b, r.n);
}

static void hello(bool tls13, bool fallback)
{
	struct buf m = { .n = 0 };

	client_hello_msg(&m, tls13 ? 0x0303 : 0x0302, tls13, fallback);
	record(C, 22, m.b, m.n);
}

static void server_hello(bool tls13)
{
	struct buf m = { .n = 0 };

	server_hello_msg(&m, tls13, false);
	record(S, 22, m.b, m.n);
}

static void alert(enum side_id side, uint8_t level, uint8_t code)
{
	uint8_t a[2] = { level, code };

	record(side, 21, a, 2);
}

static void ccs(enum side_id side)
{
	uint8_t one = 1;

	record(side, 20, &one, 1);
}

/* TLS 1.2 server flight: Certificate (tiny) and ServerHelloDone. */
static void server_flight12(void)
{
	uint8_t msgs[] = { 11, 0, 0, 3, 0, 0, 0, 14, 0, 0, 0 };

	record(S, 22, msgs, sizeof(msgs));
}

static void client_flight12(void)
{
	uint8_t cke[] = { 16, 0, 0, 2, 0, 0 };

	record(C, 22, cke, sizeof(cke));
	ccs(C);
	record(C, 22, NULL, 40);	/* encrypted Finished */
}

static void close_(enum side_id side, enum close_how how)
{
	session_close(&s, side, how, now);
}

static int setup(void **state)
{
	struct endpoint cl = { .family = AF_INET, .addr = { 127, 0, 0, 5 },
			       .port = 40000 };
	struct endpoint sv = { .family = AF_INET, .addr = { 127, 0, 0, 1 },
			       .port = 443 };

	(void)state;
	now = T0;
	session_init(&s, &cl, &sv, now, 10000 * MS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	session_free(&s);
	return 0;
}

static void assert_failed(enum reason r, enum stage st)
{
	assert_int_equal(s.outcome, OUTCOME_FAILED);
	assert_string_equal(reason_name(s.reason), reason_name(r));
	assert_string_equal(stage_name(s.stage), stage_name(st));
}

static void assert_alert(enum side_id from, bool enc, uint8_t level,
			 uint8_t code)
{
	assert_true(s.alert.valid);
	assert_int_equal(s.alert.from, from);
	assert_int_equal(s.alert.encrypted, enc);
	if (!enc) {
		assert_int_equal(s.alert.level, level);
		assert_int_equal(s.alert.code, code);
	}
}

static void tls12_success(void **state)
{
	(void)state;
	hello(false, false);
	server_hello(false);
	server_flight12();
	assert_int_equal(s.stage, STAGE_SERVER_FLIGHT);
	client_flight12();
	assert_int_equal(s.stage, STAGE_CLIENT_FLIGHT);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	ccs(S);
	record(S, 22, NULL, 40);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
	assert_int_equal(s.stage, STAGE_FINISHED);
	assert_true(session_ready(&s));
	assert_int_equal(s.capture, CAPTURE_COMPLETE);
}

/* Fallback probe: the server's fatal alert decides; the report waits for
 * the close, which it then names. */
static void server_fatal_alert(void **state)
{
	(void)state;
	hello(false, true);
	assert_true(s.ch->fallback_scsv);
	now += MS;
	alert(S, 2, 86);
	assert_failed(REASON_SERVER_ALERT, STAGE_CLIENT_HELLO);
	assert_alert(S, false, 2, 86);
	assert_false(session_ready(&s));
	now += MS;
	close_(S, CLOSE_FIN);
	assert_true(session_ready(&s));
	assert_int_equal(s.first_close, S);
	assert_int_equal(s.decided_ts, T0 + MS);
}

/* Without a close, the report goes out after the alert grace. */
static void alert_report_without_close(void **state)
{
	(void)state;
	hello(false, false);
	alert(S, 2, 40);
	session_tick(&s, now + SESSION_ALERT_GRACE_US - 1);
	assert_false(session_ready(&s));
	session_tick(&s, now + SESSION_ALERT_GRACE_US);
	assert_true(session_ready(&s));
	assert_false(s.closing);
}

static void client_alert_tls12(void **state)
{
	(void)state;
	hello(false, false);
	server_hello(false);
	server_flight12();
	alert(C, 2, 48);
	assert_failed(REASON_CLIENT_ALERT, STAGE_SERVER_FLIGHT);
	assert_alert(C, false, 2, 48);
}

/* A warning the handshake survives is no failure. */
static void warning_survived(void **state)
{
	(void)state;
	hello(false, false);
	alert(S, 1, 112);
	server_hello(false);
	server_flight12();
	client_flight12();
	ccs(S);
	record(S, 22, NULL, 40);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
}

/* A warning followed by a close is the failure's alert. */
static void warning_then_close(void **state)
{
	(void)state;
	hello(false, false);
	alert(S, 1, 0);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	close_(S, CLOSE_FIN);
	close_(C, CLOSE_FIN);
	assert_failed(REASON_SERVER_ALERT, STAGE_CLIENT_HELLO);
	assert_alert(S, false, 1, 0);
}

/* TLS 1.2: an alert record after ChangeCipherSpec is encrypted. */
static void tls12_encrypted_alert(void **state)
{
	(void)state;
	hello(false, false);
	server_hello(false);
	server_flight12();
	client_flight12();
	ccs(S);
	record(S, 21, NULL, 26);
	assert_failed(REASON_ENCRYPTED_ALERT, STAGE_CLIENT_FLIGHT);
	assert_alert(S, true, 0, 0);
}

static void tls13_server_part(void)
{
	hello(true, false);
	server_hello(true);
	ccs(S);
	record(S, 23, NULL, 27);	/* EncryptedExtensions */
	record(S, 23, NULL, 900);	/* Certificate */
	record(S, 23, NULL, 286);	/* CertificateVerify */
	record(S, 23, NULL, 53);	/* Finished */
}

/* Rule 1: the client's first encrypted record is alert-sized, then it
 * closes (gnutls-cli rejecting the certificate). */
static void tls13_rule1_client_encrypted_alert(void **state)
{
	(void)state;
	tls13_server_part();
	assert_int_equal(s.stage, STAGE_SERVER_FLIGHT);
	ccs(C);
	record(C, 23, NULL, 19);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	close_(C, CLOSE_FIN);
	close_(C, CLOSE_RST);
	session_tick(&s, now + SESSION_CLOSE_GRACE_US);
	assert_failed(REASON_ENCRYPTED_ALERT, STAGE_SERVER_FLIGHT);
	assert_alert(C, true, 0, 0);
	assert_int_equal(s.first_close, C);
}

/* Rule 2: after the client's flight the server sends one alert-sized
 * record and closes; the client's request after its Finished does not
 * matter (curl against a server refusing a client certificate). */
static void tls13_rule2_server_encrypted_alert(void **state)
{
	(void)state;
	tls13_server_part();
	ccs(C);
	record(C, 23, NULL, 25);	/* empty Certificate */
	record(C, 23, NULL, 53);	/* Finished */
	assert_int_equal(s.stage, STAGE_CLIENT_FLIGHT);
	record(C, 23, NULL, 100);	/* the request */
	record(S, 23, NULL, 19);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	close_(S, CLOSE_FIN);
	close_(C, CLOSE_RST);
	assert_failed(REASON_ENCRYPTED_ALERT, STAGE_CLIENT_FLIGHT);
	assert_alert(S, true, 0, 0);
}

/* Rule 3: any server record that is not alert-sized after the client's
 * flight (a NewSessionTicket). */
static void tls13_rule3_established(void **state)
{
	(void)state;
	tls13_server_part();
	ccs(C);
	record(C, 23, NULL, 53);
	record(S, 23, NULL, 250);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
	assert_int_equal(s.stage, STAGE_FINISHED);
}

/* Rule 3: about a second with neither side closing. */
static void tls13_rule3_quiet(void **state)
{
	(void)state;
	tls13_server_part();
	record(C, 23, NULL, 53);
	session_tick(&s, now + SESSION_TLS13_QUIET_US - 1);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	session_tick(&s, now + SESSION_TLS13_QUIET_US);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
	assert_int_equal(s.decided_ts, now + SESSION_TLS13_QUIET_US);
}

/* An alert-sized server record without a close is not rule 2. */
static void tls13_alert_sized_no_close(void **state)
{
	(void)state;
	tls13_server_part();
	record(C, 23, NULL, 53);
	record(S, 23, NULL, 19);
	session_tick(&s, now + SESSION_TLS13_QUIET_US);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
}

/* OpenSSL's client sends its alert in plaintext after ServerHello. */
static void tls13_plaintext_alert(void **state)
{
	(void)state;
	tls13_server_part();
	alert(C, 2, 48);
	assert_failed(REASON_CLIENT_ALERT, STAGE_SERVER_FLIGHT);
}

static void tls13_hrr(void **state)
{
	struct buf m = { .n = 0 };

	(void)state;
	hello(true, false);
	server_hello_msg(&m, true, true);
	record(S, 22, m.b, m.n);
	assert_true(s.hrr);
	assert_false(s.has_sh);
	ccs(S);
	ccs(C);
	hello(true, false);	/* second ClientHello, after the CCS */
	server_hello(true);
	assert_true(s.has_sh);
	record(S, 23, NULL, 53);
	record(C, 23, NULL, 53);
	record(S, 23, NULL, 250);
	assert_int_equal(s.outcome, OUTCOME_ESTABLISHED);
}

static void client_closed(void **state)
{
	(void)state;
	hello(false, false);
	close_(C, CLOSE_FIN);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	now += SESSION_CLOSE_GRACE_US;
	session_tick(&s, now);
	assert_failed(REASON_CLIENT_CLOSED, STAGE_CLIENT_HELLO);
	assert_true(session_ready(&s));
}

static void server_closed(void **state)
{
	(void)state;
	hello(false, false);
	close_(S, CLOSE_RST);
	assert_failed(REASON_SERVER_CLOSED, STAGE_CLIENT_HELLO);
}

/* A nmap-style probe: closes after the server's flight, no alert. */
static void closed_after_server_flight(void **state)
{
	(void)state;
	hello(false, false);
	server_hello(false);
	server_flight12();
	close_(C, CLOSE_FIN);
	close_(S, CLOSE_FIN);
	assert_failed(REASON_CLIENT_CLOSED, STAGE_SERVER_FLIGHT);
}

static void no_data(void **state)
{
	(void)state;
	close_(C, CLOSE_FIN);
	close_(S, CLOSE_FIN);
	assert_int_equal(s.outcome, OUTCOME_NO_DATA);
	assert_null(reason_name(s.reason));
}

/* A health check connects and leaves; the server alerts into the void
 * (Python's ssl module sends decode_error): still no data. */
static void no_data_server_alert(void **state)
{
	(void)state;
	close_(C, CLOSE_FIN);
	alert(S, 2, 50);
	close_(S, CLOSE_FIN);
	assert_int_equal(s.outcome, OUTCOME_NO_DATA);
	assert_false(s.alert.valid);
}

/* A server that speaks first to a client that says nothing. */
static void no_data_server_banner(void **state)
{
	(void)state;
	feed(S, "220 mail.example ESMTP\r\n", 24);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	close_(C, CLOSE_FIN);
	close_(S, CLOSE_FIN);
	assert_int_equal(s.outcome, OUTCOME_NO_DATA);
}

static void no_data_timeout(void **state)
{
	(void)state;
	session_tick(&s, T0 + 10000 * MS);
	assert_int_equal(s.outcome, OUTCOME_NO_DATA);
}

static void timeout(void **state)
{
	(void)state;
	hello(false, false);
	session_tick(&s, T0 + 10000 * MS - 1);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	session_tick(&s, T0 + 10000 * MS);
	assert_failed(REASON_TIMEOUT, STAGE_CLIENT_HELLO);
	assert_int_equal(s.decided_ts, T0 + 10000 * MS);
}

static void not_tls_http(void **state)
{
	(void)state;
	feed(C, "GET / HTTP/1.1\r\n", 16);
	assert_failed(REASON_NOT_TLS, STAGE_NONE);
	assert_string_equal(s.detail, "http");
}

/* Two bytes and a close: too few to be TLS. */
static void not_tls_short(void **state)
{
	(void)state;
	feed(C, "\r\n", 2);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	close_(C, CLOSE_RST);
	assert_failed(REASON_NOT_TLS, STAGE_NONE);
	assert_string_equal(s.detail, "unknown");
}

/* Three bytes of a record header and a close: a TLS client that left. */
static void partial_header_closed(void **state)
{
	(void)state;
	feed(C, "\x16\x03\x01", 3);
	close_(C, CLOSE_FIN);
	close_(S, CLOSE_FIN);
	assert_failed(REASON_CLIENT_CLOSED, STAGE_NONE);
}

/* A close inside the quiet second after the client's flight ends rule 3:
 * the server's lone alert-sized record and close are rule 2. */
static void tls13_close_within_quiet(void **state)
{
	(void)state;
	tls13_server_part();
	record(C, 23, NULL, 53);
	now += SESSION_TLS13_QUIET_US - 100000;
	record(S, 23, NULL, 19);
	close_(S, CLOSE_FIN);
	session_tick(&s, now + SESSION_CLOSE_GRACE_US);
	assert_failed(REASON_ENCRYPTED_ALERT, STAGE_CLIENT_FLIGHT);
	assert_alert(S, true, 0, 0);
}

/* The HTTP/2 preface needs 14 bytes to be told from HTTP/1. */
static void not_tls_h2_preface(void **state)
{
	(void)state;
	feed(C, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	assert_failed(REASON_NOT_TLS, STAGE_NONE);
	assert_string_equal(s.detail, "http");
}

static void server_answers_http(void **state)
{
	(void)state;
	hello(false, false);
	feed(S, "HTTP/1.1 400 Bad Request\r\n", 26);
	assert_failed(REASON_MALFORMED, STAGE_CLIENT_HELLO);
	assert_string_equal(s.detail, "server_http");
}

static void sslv2_unanswered(void **state)
{
	/* SSLv2 CLIENT-HELLO: 3 cipher specs, 16-byte challenge. */
	static const uint8_t v2[] = {
		0x80, 0x22,		/* header: 34 bytes follow */
		0x01,			/* CLIENT-HELLO */
		0x00, 0x02,		/* version SSL 2.0 */
		0x00, 0x09,		/* cipher specs length */
		0x00, 0x00,		/* session id length */
		0x00, 0x10,		/* challenge length */
		0x07, 0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	};

	(void)state;
	feed(C, v2, sizeof(v2));
	assert_int_equal(s.stage, STAGE_CLIENT_HELLO);
	assert_true(s.ch->sslv2_format);
	close_(S, CLOSE_RST);
	assert_failed(REASON_SSLV2, STAGE_CLIENT_HELLO);
}

static void malformed_hello(void **state)
{
	/* A handshake record whose ClientHello claims a 3-byte body. */
	static const uint8_t bad[] = { 22, 3, 1, 0, 7, 1, 0, 0, 3, 3, 3, 0 };

	(void)state;
	feed(C, bad, sizeof(bad));
	assert_failed(REASON_MALFORMED, STAGE_NONE);
	assert_string_equal(s.detail, "client_hello");
}

static void malformed_framing(void **state)
{
	static const uint8_t bad[] = { 22, 3, 1, 0xff, 0xff };

	(void)state;
	feed(C, bad, sizeof(bad));
	assert_failed(REASON_MALFORMED, STAGE_NONE);
	assert_string_equal(s.detail, "client_framing");
}

/* Bytes missing where a record header was due: the outcome cannot be
 * told, and the record says why. */
static void gap_is_unknown(void **state)
{
	(void)state;
	hello(false, false);
	session_sink.gap(&s.side[S], 100, STREAM_GAP_MISSING);
	assert_int_equal(s.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(s.capture, CAPTURE_GAP);
}

/* Missing bytes inside a record body keep the walk in step. */
static void truncated_body_keeps_going(void **state)
{
	uint8_t hdr[] = { 22, 3, 3, 0x03, 0xe8 };	/* 1000-byte record */

	(void)state;
	hello(false, false);
	server_hello(false);
	feed(S, hdr, sizeof(hdr));
	session_sink.gap(&s.side[S], 1000, STREAM_GAP_TRUNCATED);
	alert(S, 2, 40);
	/* The record header alone shows the server's flight began. */
	assert_failed(REASON_SERVER_ALERT, STAGE_SERVER_FLIGHT);
	/* Nothing the classifier needed was missing. */
	assert_int_equal(s.capture, CAPTURE_COMPLETE);
}

/* A ClientHello cut by the capture: nothing can be said, and the record
 * says why. */
static void truncated_client_hello(void **state)
{
	struct buf m = { .n = 0 };
	uint8_t hdr[5] = { 22, 3, 1 };

	(void)state;
	client_hello_msg(&m, 0x0303, false, false);
	hdr[3] = m.n >> 8;
	hdr[4] = m.n;
	feed(C, hdr, sizeof(hdr));
	feed(C, m.b, 20);
	session_sink.gap(&s.side[C], m.n - 20, STREAM_GAP_TRUNCATED);
	assert_int_equal(s.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(s.capture, CAPTURE_TRUNCATED);
	assert_null(s.ch);
}

static void incomplete_at_end(void **state)
{
	(void)state;
	hello(false, false);
	session_end(&s, now + MS);
	assert_int_equal(s.outcome, OUTCOME_INCOMPLETE);
	assert_true(session_ready(&s));
}

/* The ring buffer dropped events while the connection was open: silence
 * proves nothing (its bytes or its close may be what was lost), so the
 * timeout and the end give unknown with a gap, not no_data, timeout or
 * incomplete. What was seen still decides. */
static void maybe_lost_timeout(void **state)
{
	(void)state;
	session_maybe_lost(&s);
	session_tick(&s, T0 + 10000 * MS);
	assert_int_equal(s.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(s.capture, CAPTURE_GAP);
}

static void maybe_lost_hello_timeout(void **state)
{
	(void)state;
	hello(false, false);
	session_maybe_lost(&s);
	session_tick(&s, T0 + 10000 * MS);
	assert_int_equal(s.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(s.capture, CAPTURE_GAP);
}

static void maybe_lost_at_end(void **state)
{
	(void)state;
	hello(false, false);
	session_maybe_lost(&s);
	session_end(&s, now + MS);
	assert_int_equal(s.outcome, OUTCOME_UNKNOWN);
	assert_true(session_ready(&s));
}

static void maybe_lost_closed(void **state)
{
	(void)state;
	session_maybe_lost(&s);
	feed(C, "GET / HTTP/1.1\r\n", 16);
	assert_failed(REASON_NOT_TLS, STAGE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(tls12_success),
		T(server_fatal_alert),
		T(alert_report_without_close),
		T(client_alert_tls12),
		T(warning_survived),
		T(warning_then_close),
		T(tls12_encrypted_alert),
		T(tls13_rule1_client_encrypted_alert),
		T(tls13_rule2_server_encrypted_alert),
		T(tls13_rule3_established),
		T(tls13_rule3_quiet),
		T(tls13_alert_sized_no_close),
		T(tls13_plaintext_alert),
		T(tls13_hrr),
		T(client_closed),
		T(server_closed),
		T(closed_after_server_flight),
		T(no_data),
		T(no_data_server_alert),
		T(no_data_server_banner),
		T(no_data_timeout),
		T(timeout),
		T(not_tls_http),
		T(not_tls_short),
		T(not_tls_h2_preface),
		T(partial_header_closed),
		T(tls13_close_within_quiet),
		T(server_answers_http),
		T(sslv2_unanswered),
		T(malformed_hello),
		T(malformed_framing),
		T(gap_is_unknown),
		T(truncated_body_keeps_going),
		T(truncated_client_hello),
		T(incomplete_at_end),
		T(maybe_lost_timeout),
		T(maybe_lost_hello_timeout),
		T(maybe_lost_at_end),
		T(maybe_lost_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
