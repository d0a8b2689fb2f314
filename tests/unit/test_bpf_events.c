// SPDX-License-Identifier: BSD-3-Clause
/* Ring-buffer events to segments, without the kernel: events built by
 * hand as the BPF programs build them (a budget's bytes whole, then
 * record headers as pieces, lifecycle from the sockops program) must
 * give the same outcomes as the bytes themselves would. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"

#define T0 1000000000ULL	/* CLOCK_MONOTONIC of the first event, ns */
#define OFFSET 0		/* realtime = monotonic, for the test */

static struct session last;
static int reports;

static void on_report(void *ctx, const struct session *s)
{
	(void)ctx;
	last = *s;
	last.ch = NULL;		/* freed with the flow */
	reports++;
}

static struct flows *f;
static struct tw_key key;
static struct bpf_events_stats st;
static uint64_t now;

static int setup(void **state)
{
	static uint8_t ports[8192];
	struct flows_config cfg = {
		.ports = ports,
		.timeout_us = 10000000,
		.report = on_report,
	};

	(void)state;
	ports[443 >> 3] |= 1 << (443 & 7);
	f = flows_new(&cfg);
	memset(&key, 0, sizeof(key));
	key.family = AF_INET;
	key.cport = htons(40000);
	key.sport = htons(443);
	memcpy(key.caddr, "\x7f\x00\x00\x05", 4);
	memcpy(key.saddr, "\x7f\x00\x00\x01", 4);
	reports = 0;
	now = T0;
	memset(&st, 0, sizeof(st));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	flows_free(f);
	return 0;
}

static void state_ev(int newstate)
{
	struct tw_state_event ev = {
		.type = TW_EV_STATE,
		.ts_ns = now,
		.key = key,
		.newstate = newstate,
		/* Where the client's hello and the server's bytes start. */
		.client_next = 100,
		.server_next = 5000,
	};

	bpf_events_handle(f, &ev, sizeof(ev), OFFSET, &st);
}

/* Past the grace a close gets to tell how it happened. */
static void settle(void)
{
	flows_advance(f, (now + 300000000ULL) / 1000);
}

/* A minimal TLS 1.2 ClientHello record. */
static const uint8_t hello[] = {
	22, 3, 1, 0, 45,
	1, 0, 0, 41, 3, 3,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0, 0, 2, 0xc0, 0x2f, 1, 0,
};

/* A segment event: len payload bytes at seq; pieces given as (off, len)
 * pairs taken from payload. */
static void seg_ev(bool from_client, uint32_t seq, const uint8_t *payload,
		   uint32_t len, uint8_t tcp_flags, uint32_t flags,
		   int npieces, const struct tw_piece *pieces)
{
	static struct tw_segment_event ev;
	uint32_t d = 0;

	memset(&ev, 0, sizeof(ev));
	ev.type = TW_EV_SEGMENT;
	ev.flags = flags | (from_client ? TW_SEG_FROM_CLIENT : 0);
	ev.ts_ns = now;
	ev.key = key;
	ev.seq = seq;
	/* What each side acknowledges: the client's hello starts at 100,
	 * the server's bytes at 5000. */
	ev.ack = from_client ? 5000 : 100 + sizeof(hello);
	ev.len = len;
	ev.tcp_flags = tcp_flags | 0x10;
	ev.npieces = npieces;
	for (int i = 0; i < npieces; i++) {
		memcpy(ev.data + d, payload + pieces[i].off, pieces[i].len);
		d += pieces[i].len;
	}
	/* The data, then the pieces. */
	ev.dlen = d;
	if (npieces)
		memcpy(ev.data + d, pieces, npieces * sizeof(*pieces));
	bpf_events_handle(f, &ev, offsetof(struct tw_segment_event, data) + d +
			  npieces * sizeof(*pieces), OFFSET, &st);
	now += 1000000;
}

/* ServerHello, then a big Certificate record the kernel sent only the
 * header of, then ServerHelloDone, then a fatal alert. */
static uint8_t server[5 + 42 + 5 + 3000 + 5 + 4 + 7];
static uint32_t sh_len, cert_at, shd_at, alert_at;

static void build_server(void)
{
	static const uint8_t sh[] = {
		22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3,
		9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
		9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
		0, 0xc0, 0x2f, 0,
	};
	uint32_t n = 0;

	memset(server, 0, sizeof(server));
	memcpy(server, sh, sizeof(sh));
	n = sh_len = sizeof(sh);
	cert_at = n;
	memcpy(server + n, "\x16\x03\x03\x0b\xb8", 5);	/* 3000 bytes */
	server[n + 5] = 11;
	n += 5 + 3000;
	shd_at = n;
	memcpy(server + n, "\x16\x03\x03\x00\x04\x0e\x00\x00\x00", 9);
	n += 9;
	alert_at = n;
	memcpy(server + n, "\x15\x03\x03\x00\x02\x02\x28", 7);
}

/* The server's bytes as the kernel sends them after the client's hello:
 * the ServerHello and the Certificate's header whole (inside the budget
 * in reality; here the pieces show the header-only form), the rest of
 * the Certificate not at all, then the headers and the alert's body. */
static void server_flight(uint32_t flags_last)
{
	const struct tw_piece first[] = { { 0, sh_len }, { cert_at - 0, 5 } };
	const struct tw_piece rest[] = {
		{ shd_at - cert_at - 2000, 5 },
		{ alert_at - cert_at - 2000, 5 },
		{ alert_at - cert_at - 2000 + 5, 2 },
	};

	seg_ev(false, 5000, server, cert_at + 2000, 0, 0, 2, first);
	seg_ev(false, 5000 + cert_at + 2000, server + cert_at + 2000,
	       sizeof(server) - cert_at - 2000, 0x01, flags_last, 3, rest);
}

static void header_pieces_decide(void **state)
{
	(void)state;
	build_server();
	state_ev(1);		/* ESTABLISHED */
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	server_flight(0);
	flows_finish(f);
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_FAILED);
	assert_int_equal(last.reason, REASON_SERVER_ALERT);
	assert_int_equal(last.alert.code, 40);
	assert_int_equal(last.stage, STAGE_SERVER_FLIGHT);
	/* Nothing the classifier needed was missing. */
	assert_int_equal(last.capture, CAPTURE_COMPLETE);
	assert_int_equal(last.side[SIDE_SERVER].bytes, sizeof(server));
	assert_int_equal(last.first_close, SIDE_SERVER);
	assert_int_equal(st.malformed, 0);
}

/* The kernel lost its walk of the server's records: unknown, truncated. */
static void nosync_is_unknown(void **state)
{
	const struct tw_piece sh[] = { { 0, 47 } };

	(void)state;
	build_server();
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	seg_ev(false, 5000, server, 60, 0, TW_SEG_NOSYNC, 1, sh);
	flows_finish(f);
	assert_int_equal(last.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(last.capture, CAPTURE_TRUNCATED);
}

/* The kernel ended the capture (TW_SEG_DECIDED) with a segment that
 * does not end the handshake here (it never should): unknown, truncated,
 * counted; and the connection is forgotten once reported, since no close
 * will come. */
static void final_before_outcome(void **state)
{
	(void)state;
	build_server();
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	seg_ev(false, 5000, server, sh_len, 0, TW_SEG_DECIDED, 1,
	       (struct tw_piece[]){ { 0, sh_len } });
	/* After the grace an undecided failure waits for its alert. */
	flows_advance(f, now / 1000 + SESSION_ALERT_GRACE_US);
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(last.capture, CAPTURE_TRUNCATED);
	assert_true(last.final);
	assert_int_equal(flows_stats(f)->final_undecided, 1);
	assert_int_equal(flows_active(f), 0);
}

/* The segment that ends the handshake is the last: the connection is
 * reported established and forgotten, with no close to wait for. */
static void final_established(void **state)
{
	static const uint8_t ccs_fin[] = {
		20, 3, 3, 0, 1, 1,
		22, 3, 3, 0, 40, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	};
	uint32_t cseq = 100 + sizeof(hello), sseq = 5000 + shd_at + 9;

	(void)state;
	build_server();
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	/* ServerHello ... ServerHelloDone, whole. */
	seg_ev(false, 5000, server, shd_at + 9, 0, 0, 1,
	       (struct tw_piece[]){ { 0, shd_at + 9 } });
	seg_ev(true, cseq, ccs_fin, sizeof(ccs_fin), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(ccs_fin) } });
	assert_int_equal(reports, 0);
	seg_ev(false, sseq, ccs_fin, sizeof(ccs_fin), 0, TW_SEG_DECIDED, 1,
	       (struct tw_piece[]){ { 0, sizeof(ccs_fin) } });
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_ESTABLISHED);
	assert_true(last.final);
	assert_int_equal(flows_stats(f)->final_undecided, 0);
	assert_int_equal(flows_active(f), 0);
}

/* Events of the connection were dropped: unknown, gap. */
static void dropped_is_unknown(void **state)
{
	(void)state;
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, TW_SEG_LOST, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	flows_finish(f);
	assert_int_equal(last.outcome, OUTCOME_UNKNOWN);
	assert_int_equal(last.capture, CAPTURE_GAP);
}

/* Lifecycle only: opened, the client closed, gone: no data. */
static void lifecycle_no_data(void **state)
{
	(void)state;
	state_ev(1);		/* ESTABLISHED */
	state_ev(8);		/* CLOSE_WAIT: the client closed */
	state_ev(7);		/* CLOSE */
	settle();
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_NO_DATA);
	assert_int_equal(last.first_close, SIDE_CLIENT);
}

/* Many connections open at once: the flow table grows under them, and
 * each close still finds its own connection. */
static void many_open_at_once(void **state)
{
	enum { N = 5000 };
	int no_data = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		key.cport = htons(10000 + i);
		state_ev(1);	/* ESTABLISHED */
	}
	for (int i = 0; i < N; i++) {
		key.cport = htons(10000 + i);
		state_ev(8);	/* CLOSE_WAIT: the client closed */
		state_ev(7);	/* CLOSE */
		settle();
		no_data += reports == i + 1 &&
			   last.outcome == OUTCOME_NO_DATA &&
			   last.first_close == SIDE_CLIENT &&
			   last.client.port == 10000 + i;
	}
	assert_int_equal(reports, N);
	assert_int_equal(no_data, N);
}

/* The socket went away without a close seen on the wire: the close is
 * the server's, how unknown. */
static void gone_without_close(void **state)
{
	(void)state;
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	state_ev(7);
	assert_int_equal(reports, 0);	/* a reset may still come */
	settle();
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_FAILED);
	assert_int_equal(last.reason, REASON_SERVER_CLOSED);
	assert_int_equal(last.side[SIDE_SERVER].close, CLOSE_GONE);
}

/* A server that aborts: the socket closes, then its reset goes out and
 * is read after the close event. The close says rst. */
static void reset_after_gone(void **state)
{
	(void)state;
	state_ev(1);
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) } });
	state_ev(7);
	seg_ev(false, 5000, NULL, 0, 0x04, 0, 0, NULL);	/* RST */
	settle();
	assert_int_equal(reports, 1);
	assert_int_equal(last.reason, REASON_SERVER_CLOSED);
	assert_int_equal(last.side[SIDE_SERVER].close, CLOSE_RST);
}

/* Pieces out of order or beyond the payload are a bug: counted, not
 * fed. */
/* A hello split in two whose second half arrives first: with the
 * starts known from the established socket, it waits for the first. */
static void reordered_hello(void **state)
{
	(void)state;
	state_ev(1);
	seg_ev(true, 120, hello + 20, sizeof(hello) - 20, 0, 0, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) - 20 } });
	seg_ev(true, 100, hello, 20, 0, 0, 1,
	       (struct tw_piece[]){ { 0, 20 } });
	state_ev(8);		/* the client closed */
	state_ev(7);
	settle();
	assert_int_equal(reports, 1);
	assert_int_equal(last.outcome, OUTCOME_FAILED);
	assert_int_equal(last.reason, REASON_CLIENT_CLOSED);
	assert_int_equal(last.stage, STAGE_CLIENT_HELLO);
	assert_int_equal(last.capture, CAPTURE_COMPLETE);
}

/* The same, when the second half came with the third ACK, before the
 * connection was established: held, then played once its start is told. */
static void hello_half_before_established(void **state)
{
	(void)state;
	seg_ev(true, 120, hello + 20, sizeof(hello) - 20, 0, TW_SEG_FRESH, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) - 20 } });
	state_ev(1);
	seg_ev(true, 100, hello, 20, 0, 0, 1,
	       (struct tw_piece[]){ { 0, 20 } });
	state_ev(8);
	state_ev(7);
	settle();
	assert_int_equal(reports, 1);
	assert_int_equal(last.reason, REASON_CLIENT_CLOSED);
	assert_int_equal(last.stage, STAGE_CLIENT_HELLO);
	assert_int_equal(last.capture, CAPTURE_COMPLETE);
	assert_int_equal(flows_stats(f)->orphans_dropped, 0);
}

/* Held segments whose start is never told go after a second, counted. */
static void orphan_expires(void **state)
{
	(void)state;
	seg_ev(true, 120, hello + 20, sizeof(hello) - 20, 0, TW_SEG_FRESH, 1,
	       (struct tw_piece[]){ { 0, sizeof(hello) - 20 } });
	flows_advance(f, (now + 2000000000ULL) / 1000);
	assert_int_equal(flows_stats(f)->orphans_dropped, 1);
	assert_int_equal(reports, 0);
}

static void malformed_events(void **state)
{
	const struct tw_piece bad[] = { { 10, 5 }, { 2, 5 } };
	const struct tw_piece beyond[] = { { 40, 10 } };
	uint32_t junk = 77;

	(void)state;
	seg_ev(true, 100, hello, sizeof(hello), 0, 0, 2, bad);
	seg_ev(true, 100, hello, 45, 0, 0, 1, beyond);
	bpf_events_handle(f, &junk, sizeof(junk), OFFSET, &st);
	bpf_events_handle(f, &junk, 2, OFFSET, &st);
	assert_int_equal(st.malformed, 4);
	assert_int_equal(st.events, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(header_pieces_decide),
		T(nosync_is_unknown),
		T(dropped_is_unknown),
		T(final_before_outcome),
		T(final_established),
		T(lifecycle_no_data),
		T(many_open_at_once),
		T(gone_without_close),
		T(reordered_hello),
		T(hello_half_before_established),
		T(orphan_expires),
		T(reset_after_gone),
		T(malformed_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
