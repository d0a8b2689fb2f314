// SPDX-License-Identifier: BSD-3-Clause
/* Recovery: failures settled as recovered by an established handshake of
 * the same client IP and SNI within the window, or as not recovered when
 * the window passes, the table overflows or the run ends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "recovery.h"

#define SEC 1000000ULL
#define T0 1700000000000000ULL

struct settled {
	int recovered, unrecovered;
	uint64_t last_ts, last_failed;
	enum diag_code last_code;
	uint8_t last_sni_len;
	char last_sni[TLS_MAX_SNI + 1];
};

static void on_settled(void *ctx, const struct pending_failure *f,
		       bool recovered, uint64_t ts)
{
	struct settled *st = ctx;

	if (recovered)
		st->recovered++;
	else
		st->unrecovered++;
	st->last_ts = ts;
	st->last_failed = f->failed_ts;
	st->last_code = f->code;
	st->last_sni_len = f->has_sni ? f->sni_len : 0;
	memcpy(st->last_sni, f->sni, st->last_sni_len);
	st->last_sni[st->last_sni_len] = '\0';
}

/* A decided session with a client address, an SNI or none, an outcome. */
static struct session *mk(uint8_t last_octet, const char *sni,
			  enum outcome o, uint64_t ts)
{
	struct session *s = calloc(1, sizeof(*s));

	s->client.family = AF_INET;
	s->client.addr[0] = 192;
	s->client.addr[1] = 0;
	s->client.addr[2] = 2;
	s->client.addr[3] = last_octet;
	s->client.port = 40000 + last_octet;
	s->server.family = AF_INET;
	s->server.port = 443;
	s->outcome = o;
	s->reason = o == OUTCOME_FAILED ? REASON_SERVER_ALERT : REASON_NONE;
	s->decided_ts = ts;
	s->ch = calloc(1, sizeof(*s->ch));
	if (sni) {
		s->ch->has_sni = true;
		s->ch->sni_len = strlen(sni);
		memcpy(s->ch->sni, sni, s->ch->sni_len);
	}
	return s;
}

static void done(struct session *s)
{
	free(s->ch);
	free(s);
}

static const struct diagnosis probe = {
	.code = DIAG_FALLBACK_PROBE,
	.harmless = HARM_UNKNOWN,
};

static void fail_at(struct recovery *r, uint8_t ip, const char *sni,
		    uint64_t ts)
{
	struct session *s = mk(ip, sni, OUTCOME_FAILED, ts);

	recovery_failed(r, s, &probe);
	done(s);
}

static void ok_at(struct recovery *r, uint8_t ip, const char *sni,
		  uint64_t ts)
{
	struct session *s = mk(ip, sni, OUTCOME_ESTABLISHED, ts);

	recovery_established(r, s);
	done(s);
}

static void test_recovered_within_window(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(30 * SEC, on_settled, &st);

	(void)state;
	fail_at(r, 7, "app.test", T0);
	ok_at(r, 7, "APP.test", T0 + 2 * SEC);	/* names are case-blind */
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.last_failed, T0);
	assert_int_equal(st.last_ts, T0 + 2 * SEC);
	assert_int_equal(st.last_code, DIAG_FALLBACK_PROBE);
	/* Settled once: a second success recovers nothing more. */
	ok_at(r, 7, "app.test", T0 + 3 * SEC);
	assert_int_equal(st.recovered, 1);
	recovery_finish(r, T0 + 100 * SEC);
	assert_int_equal(st.unrecovered, 0);
	recovery_free(r);
}

static void test_other_ip_or_sni_does_not_recover(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(30 * SEC, on_settled, &st);

	(void)state;
	fail_at(r, 7, "app.test", T0);
	fail_at(r, 8, NULL, T0);
	ok_at(r, 8, "app.test", T0 + SEC);	/* same SNI, other IP... */
	ok_at(r, 7, "other.test", T0 + SEC);	/* same IP, other SNI */
	ok_at(r, 7, NULL, T0 + SEC);		/* same IP, no SNI */
	assert_int_equal(st.recovered, 0);
	ok_at(r, 8, NULL, T0 + 2 * SEC);	/* ...no SNI matches no SNI */
	assert_int_equal(st.recovered, 1);
	recovery_finish(r, T0 + 3 * SEC);
	assert_int_equal(st.unrecovered, 1);
	recovery_free(r);
}

static void test_window_passes(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(30 * SEC, on_settled, &st);

	(void)state;
	fail_at(r, 7, "app.test", T0);
	recovery_expire(r, T0 + 29 * SEC);
	assert_int_equal(st.unrecovered, 0);
	recovery_expire(r, T0 + 30 * SEC);
	assert_int_equal(st.unrecovered, 1);
	assert_int_equal(st.last_ts, T0 + 30 * SEC);
	/* Too late: the failure was settled as it stood. */
	ok_at(r, 7, "app.test", T0 + 31 * SEC);
	assert_int_equal(st.recovered, 0);
	recovery_free(r);
}

static void test_every_pending_failure_recovers(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(30 * SEC, on_settled, &st);

	(void)state;
	/* A client that probed three times, then succeeded. */
	fail_at(r, 9, "app.test", T0);
	fail_at(r, 9, "app.test", T0 + SEC);
	fail_at(r, 9, "app.test", T0 + 2 * SEC);
	ok_at(r, 9, "app.test", T0 + 3 * SEC);
	assert_int_equal(st.recovered, 3);
	recovery_free(r);
}

static void test_table_full_settles_oldest(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(3600 * SEC, on_settled, &st);

	(void)state;
	for (int i = 0; i < RECOVERY_MAX + 10; i++)
		fail_at(r, i % 200, "flood.test", T0 + i);
	assert_int_equal(st.unrecovered, 10);
	assert_int_equal(recovery_overflow(r), 10);
	/* The rest are still there: client 199's last failures recover. */
	ok_at(r, 199, "flood.test", T0 + 2 * SEC);
	assert_true(st.recovered > 0);
	recovery_finish(r, T0 + 3 * SEC);
	assert_int_equal(st.recovered + st.unrecovered, RECOVERY_MAX + 10);
	recovery_free(r);
}

/* Names longer than an entry holds in place, kept whole, also across the
 * table's growth (which moves entries). */
static void test_long_names(void **state)
{
	struct settled st = { 0 };
	struct recovery *r = recovery_new(3600 * SEC, on_settled, &st);
	char a[TLS_MAX_SNI + 1], b[TLS_MAX_SNI + 1];

	(void)state;
	memset(a, 'a', TLS_MAX_SNI);
	a[TLS_MAX_SNI] = '\0';
	memcpy(b, a, sizeof(b));
	b[TLS_MAX_SNI - 1] = 'b';	/* differs in the last byte only */
	fail_at(r, 1, a, T0);
	fail_at(r, 2, b, T0);
	for (int i = 0; i < RECOVERY_START * 2; i++)
		fail_at(r, 3 + i % 200, i % 2 ? a : "short.test", T0 + 1 + i);
	a[0] = 'A';			/* case-blind */
	ok_at(r, 1, a, T0 + SEC);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(st.last_sni_len, TLS_MAX_SNI);
	a[0] = 'a';
	assert_string_equal(st.last_sni, a);
	ok_at(r, 2, a, T0 + SEC);	/* not b */
	assert_int_equal(st.recovered, 1);
	ok_at(r, 2, b, T0 + SEC);
	assert_int_equal(st.recovered, 2);
	assert_string_equal(st.last_sni, b);
	recovery_finish(r, T0 + 2 * SEC);
	assert_int_equal(st.recovered + st.unrecovered,
			 2 + RECOVERY_START * 2);
	recovery_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovered_within_window),
		cmocka_unit_test(test_other_ip_or_sni_does_not_recover),
		cmocka_unit_test(test_window_passes),
		cmocka_unit_test(test_every_pending_failure_recovers),
		cmocka_unit_test(test_table_full_settles_oldest),
		cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
