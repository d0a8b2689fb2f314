// SPDX-License-Identifier: BSD-3-Clause
/* Diagnosis rules: each test teaches a port's profile with established
 * handshakes (or not), then diagnoses one failed handshake and checks
 * the code, whether it is harmless, and the words that matter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "diagnose.h"

struct hello {
	uint16_t legacy;
	const uint16_t *versions;	/* supported_versions, 0-ended */
	const uint16_t *ciphers;	/* 0-ended */
	const uint16_t *groups;		/* 0-ended */
	const char *sni;
	const char *alpn;
	bool fallback;
};

static struct session *mk(uint16_t port, const struct hello *h)
{
	struct session *s = calloc(1, sizeof(*s));
	struct tls_client_hello *ch = calloc(1, sizeof(*ch));

	s->client.family = s->server.family = AF_INET;
	s->client.addr[0] = 198;
	s->server.port = port;
	s->first_ts = 1700000000000000ULL;
	ch->legacy_version = ch->version = h->legacy;
	ch->cipher_width = 2;
	for (int i = 0; h->versions && h->versions[i]; i++) {
		ch->has_supported_versions = true;
		ch->versions[ch->n_versions++] = h->versions[i];
		if (h->versions[i] > ch->version && !tls_is_grease(h->versions[i]))
			ch->version = h->versions[i];
	}
	for (int i = 0; h->ciphers && h->ciphers[i]; i++)
		ch->ciphers[ch->n_ciphers++] = h->ciphers[i];
	ch->total_ciphers = ch->n_ciphers;
	for (int i = 0; h->groups && h->groups[i]; i++)
		ch->groups[ch->n_groups++] = h->groups[i];
	if (h->sni) {
		ch->has_sni = true;
		ch->sni_len = strlen(h->sni);
		memcpy(ch->sni, h->sni, ch->sni_len);
	}
	if (h->alpn) {
		ch->has_alpn = true;
		ch->alpn.n = ch->alpn.total = 1;
		ch->alpn.len[0] = strlen(h->alpn);
		memcpy(ch->alpn.name[0], h->alpn, ch->alpn.len[0]);
	}
	ch->fallback_scsv = h->fallback;
	s->ch = ch;
	return s;
}

static void done(struct session *s)
{
	free(s->ch);
	free(s);
}

/* An established handshake on port: the server chose version, cipher,
 * group and ALPN (NULL: none). */
static void learn(struct profiles *p, uint16_t port, const struct hello *h,
		  uint16_t version, uint16_t cipher, uint16_t group,
		  const char *alpn)
{
	struct session *s = mk(port, h);

	s->outcome = OUTCOME_ESTABLISHED;
	s->has_sh = true;
	s->sh.version = version;
	s->sh.cipher = cipher;
	s->sh.group = group;
	if (alpn) {
		s->sh.has_alpn = true;
		s->sh.alpn.n = 1;
		s->sh.alpn.len[0] = strlen(alpn);
		memcpy(s->sh.alpn.name[0], alpn, s->sh.alpn.len[0]);
	}
	profiles_learn(p, s);
	done(s);
}

/* What the ServerHello and the server's flight showed, for failed(). */
static bool with_tls13, with_cert_request;

/* A failure: the server (or client) sent this fatal alert before any
 * ServerHello (or at stage). */
static void failed(struct profiles *p, uint16_t port, const struct hello *h,
		   enum reason r, enum side_id from, uint8_t alert,
		   enum stage st, struct diagnosis *d)
{
	struct session *s = mk(port, h);

	s->outcome = OUTCOME_FAILED;
	s->reason = r;
	s->stage = st;
	if (r == REASON_SERVER_ALERT || r == REASON_CLIENT_ALERT ||
	    r == REASON_ENCRYPTED_ALERT) {
		s->alert.valid = true;
		s->alert.from = from;
		s->alert.level = 2;
		s->alert.code = alert;
		s->alert.encrypted = r == REASON_ENCRYPTED_ALERT;
	}
	s->has_sh = st >= STAGE_SERVER_HELLO;
	s->tls13 = with_tls13;
	s->cert_requested = with_cert_request;
	diagnose(p, s, d);
	done(s);
}

static const uint16_t v13_12[] = { 0x0304, 0x0303, 0 };
static const uint16_t v13[] = { 0x0304, 0 };
static const uint16_t modern[] = { 0x1301, 0x1302, 0xc02f, 0 };
static const uint16_t old_only[] = { 0x000a, 0x0005, 0 };
static const uint16_t null_rc4[] = { 0x0002, 0x0005, 0x00ff, 0 };
static const uint16_t x25519[] = { 0x001d, 0 };
static const uint16_t ffdhe[] = { 0x0100, 0 };

static const struct hello tls12 = {
	.legacy = 0x0303, .ciphers = modern, .sni = "app.test",
};

static void test_fallback_probe(void **state)
{
	struct profiles *p = profiles_new();
	struct hello h = { .legacy = 0x0302, .ciphers = modern,
			   .fallback = true };
	struct diagnosis d;

	(void)state;
	failed(p, 443, &h, REASON_SERVER_ALERT, SIDE_SERVER, 86,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "fallback_probe");
	assert_int_equal(d.harmless, HARM_UNKNOWN);
	assert_non_null(strstr(d.text, "TLS 1.1"));
	profiles_free(p);
}

static void test_versions_against_profile(void **state)
{
	struct profiles *p = profiles_new();
	struct hello tls10 = { .legacy = 0x0301, .ciphers = modern };
	struct hello only13 = { .legacy = 0x0303, .versions = v13,
				.ciphers = modern };
	struct diagnosis d;

	(void)state;
	/* Without a profile, protocol_version still says it. */
	failed(p, 443, &tls10, REASON_SERVER_ALERT, SIDE_SERVER, 70,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "version_too_low");
	assert_non_null(strstr(d.text, "no handshake on port 443"));
	/* The port accepts TLS 1.1 to 1.2. */
	learn(p, 443, &tls12, 0x0303, 0xc02f, 0, NULL);
	learn(p, 443, &tls12, 0x0302, 0xc013, 0, NULL);
	failed(p, 443, &tls10, REASON_SERVER_CLOSED, SIDE_SERVER, 0,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "version_too_low");
	assert_non_null(strstr(d.text, "TLS 1.1 to TLS 1.2"));
	failed(p, 443, &only13, REASON_SERVER_ALERT, SIDE_SERVER, 70,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "version_too_high");
	assert_int_equal(d.harmless, HARM_NO);
	/* Another port has learnt nothing. */
	failed(p, 8443, &only13, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "no_shared_cipher");
	assert_non_null(strstr(d.text, "no handshake on port 8443"));
	profiles_free(p);
}

static void test_ciphers_and_groups(void **state)
{
	struct profiles *p = profiles_new();
	struct hello old = { .legacy = 0x0303, .ciphers = old_only };
	struct hello dh = { .legacy = 0x0303, .versions = v13_12,
			    .ciphers = modern, .groups = ffdhe };
	struct hello ok13 = { .legacy = 0x0303, .versions = v13_12,
			      .ciphers = modern, .groups = x25519 };
	struct diagnosis d;

	(void)state;
	learn(p, 443, &ok13, 0x0304, 0x1301, 0x001d, NULL);
	learn(p, 443, &tls12, 0x0303, 0xc02f, 0, NULL);
	failed(p, 443, &old, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "no_shared_cipher");
	assert_non_null(strstr(d.text, "0x1301"));
	assert_null(strstr(d.text, "only weak"));
	old.ciphers = null_rc4;
	failed(p, 443, &old, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "no_shared_cipher");
	assert_non_null(strstr(d.text, "only weak ones"));
	failed(p, 443, &dh, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "no_shared_group");
	/* Shared cipher and group: the alert is not explained. */
	failed(p, 443, &ok13, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "handshake_refused");
	profiles_free(p);
}

static void test_sni_and_alpn(void **state)
{
	struct profiles *p = profiles_new();
	struct hello other = { .legacy = 0x0303, .ciphers = modern,
			       .sni = "nope.test" };
	struct hello same = { .legacy = 0x0303, .ciphers = modern,
			      .sni = "APP.test" };
	struct hello h3 = { .legacy = 0x0303, .ciphers = modern,
			    .sni = "app.test", .alpn = "h3" };
	struct diagnosis d;

	(void)state;
	learn(p, 443, &tls12, 0x0303, 0xc02f, 0, "h2");
	failed(p, 443, &other, REASON_SERVER_CLOSED, SIDE_SERVER, 0,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "sni_unknown");
	assert_non_null(strstr(d.text, "nope.test"));
	assert_non_null(strstr(d.text, "app.test"));
	/* A served name (any case) is not unknown. */
	failed(p, 443, &same, REASON_SERVER_CLOSED, SIDE_SERVER, 0,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "server_closed");
	failed(p, 443, &other, REASON_SERVER_ALERT, SIDE_SERVER, 112,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "sni_unknown");
	failed(p, 443, &h3, REASON_SERVER_ALERT, SIDE_SERVER, 120,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "alpn_mismatch");
	assert_non_null(strstr(d.text, "h3"));
	failed(p, 443, &h3, REASON_SERVER_CLOSED, SIDE_SERVER, 0,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "alpn_mismatch");
	profiles_free(p);
}

static void test_certificates_and_probes(void **state)
{
	struct profiles *p = profiles_new();
	struct diagnosis d;

	(void)state;
	failed(p, 443, &tls12, REASON_CLIENT_ALERT, SIDE_CLIENT, 48,
	       STAGE_SERVER_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code), "certificate_rejected");
	assert_non_null(strstr(d.text, "unknown_ca"));
	failed(p, 443, &tls12, REASON_ENCRYPTED_ALERT, SIDE_CLIENT, 0,
	       STAGE_SERVER_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code), "certificate_rejected");
	/* TLS 1.2: an alert after the client's flight is about its
	 * certificate only if one was asked for. */
	failed(p, 443, &tls12, REASON_SERVER_ALERT, SIDE_SERVER, 20,
	       STAGE_CLIENT_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code), "handshake_refused");
	assert_non_null(strstr(d.text, "bad_record_mac"));
	with_cert_request = true;
	failed(p, 443, &tls12, REASON_SERVER_ALERT, SIDE_SERVER, 40,
	       STAGE_CLIENT_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code),
			    "client_certificate_rejected");
	with_cert_request = false;
	/* TLS 1.3 hides the request: rule 2's encrypted alert is the sign. */
	with_tls13 = true;
	failed(p, 443, &tls12, REASON_ENCRYPTED_ALERT, SIDE_SERVER, 0,
	       STAGE_CLIENT_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code),
			    "client_certificate_rejected");
	with_tls13 = false;
	failed(p, 443, &tls12, REASON_SERVER_ALERT, SIDE_SERVER, 116,
	       STAGE_CLIENT_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code),
			    "client_certificate_rejected");
	failed(p, 443, &tls12, REASON_CLIENT_CLOSED, SIDE_CLIENT, 0,
	       STAGE_SERVER_FLIGHT, &d);
	assert_string_equal(diag_code_name(d.code), "scanner_probe");
	assert_int_equal(d.harmless, HARM_YES);
	failed(p, 443, &tls12, REASON_CLIENT_CLOSED, SIDE_CLIENT, 0,
	       STAGE_CLIENT_HELLO, &d);
	assert_string_equal(diag_code_name(d.code), "server_silent");
	profiles_free(p);
}

static void test_without_hello(void **state)
{
	struct profiles *p = profiles_new();
	struct session *s = mk(443, &tls12);
	struct diagnosis d;

	(void)state;
	free(s->ch);
	s->ch = NULL;		/* the client stopped inside its hello */
	s->outcome = OUTCOME_FAILED;
	s->reason = REASON_TIMEOUT;
	diagnose(p, s, &d);
	assert_string_equal(diag_code_name(d.code), "timeout");
	s->reason = REASON_CLIENT_CLOSED;
	diagnose(p, s, &d);
	assert_string_equal(diag_code_name(d.code), "server_silent");
	done(s);
	profiles_free(p);
}

static void test_not_failed_has_none(void **state)
{
	struct profiles *p = profiles_new();
	struct session *s = mk(443, &tls12);
	struct diagnosis d;

	(void)state;
	s->outcome = OUTCOME_ESTABLISHED;
	diagnose(p, s, &d);
	assert_int_equal(d.code, DIAG_NONE);
	s->outcome = OUTCOME_FAILED;
	s->reason = REASON_NOT_TLS;
	s->detail = "http";
	diagnose(p, s, &d);
	assert_string_equal(diag_code_name(d.code), "not_tls");
	assert_non_null(strstr(d.text, "http"));
	done(s);
	profiles_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback_probe),
		cmocka_unit_test(test_versions_against_profile),
		cmocka_unit_test(test_ciphers_and_groups),
		cmocka_unit_test(test_sni_and_alpn),
		cmocka_unit_test(test_certificates_and_probes),
		cmocka_unit_test(test_without_hello),
		cmocka_unit_test(test_not_failed_has_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
