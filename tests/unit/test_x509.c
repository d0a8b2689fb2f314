/* SPDX-License-Identifier: BSD-3-Clause */
/* user/x509.c against real certificates.
 *
 * tests/unit/data/x509/make.sh made them with the openssl command line at
 * fixed dates; the expected fields below are what `openssl x509 -noout
 * -subject -issuer -dates -ext subjectAltName -nameopt RFC2253` says of
 * each, written as RFC 4514 strings (raw UTF-8 where openssl writes \C3\A9,
 * a multi-valued RDN in encoded order). nginx.der and nginx-msg.bin come
 * from a golden capture. Each certificate is also cut at every byte and
 * mutated at random under a fixed seed: the decoder must stay in bounds
 * and what it says of a cut certificate must agree with the whole one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certcache.h"
#include "x509.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DATA "tests/unit/data/x509/"
#define MUTATIONS 100000

struct expect {
	const char *file;
	const char *subject, *subject_cn, *issuer, *issuer_cn;
	const char *san_first;
	uint16_t n_san;
	int64_t not_before, not_after;
	bool self_signed;
};

static const struct expect certs[] = {
	{ "rsa-self.der",
	  "CN=rsa.example.com,OU=Web,O=Example\\, Inc.,L=San Francisco,"
	  "ST=California,C=US", "rsa.example.com",
	  "CN=rsa.example.com,OU=Web,O=Example\\, Inc.,L=San Francisco,"
	  "ST=California,C=US", "rsa.example.com",
	  "", 0, 1704067200, 2019686400, true },
	/* 2024-02-29: a leap day */
	{ "ec-self.der", "CN=ec.example.com,O=EC Test", "ec.example.com",
	  "CN=ec.example.com,O=EC Test", "ec.example.com",
	  "", 0, 1709208000, 1772323200, true },
	{ "ca.der", "CN=Test CA,O=tlswatch tests,C=GB", "Test CA",
	  "CN=Test CA,O=tlswatch tests,C=GB", "Test CA",
	  "", 0, 1577836800, 2208988800, true },
	/* SAN: DNS www.example.com, IP, DNS example.com, email,
	 * DNS *.example.net */
	{ "leaf-san.der", "CN=www.example.com,O=tlswatch tests,C=GB",
	  "www.example.com", "CN=Test CA,O=tlswatch tests,C=GB", "Test CA",
	  "www.example.com", 3, 1749976200, 1781512200, false },
	{ "utf8.der",
	  "CN=\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88"
	  ".example,O=Caf\xc3\xa9 \xc3\x89t\xc3\xa9,C=FR",
	  "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88"
	  ".example",
	  "CN=\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88"
	  ".example,O=Caf\xc3\xa9 \xc3\x89t\xc3\xa9,C=FR",
	  "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe4\xbe\x8b\xe3\x81\x88"
	  ".example",
	  "", 0, 1704067200, 2019686400, true },
	/* BMPString values */
	{ "bmp.der", "CN=\xe4\xbe\x8b\xe3\x81\x88.example,O=Caf\xc3\xa9",
	  "\xe4\xbe\x8b\xe3\x81\x88.example",
	  "CN=\xe4\xbe\x8b\xe3\x81\x88.example,O=Caf\xc3\xa9",
	  "\xe4\xbe\x8b\xe3\x81\x88.example",
	  "", 0, 1704067200, 2019686400, true },
	/* emailAddress is not an RFC 4514 name: OID=#DER */
	{ "nocn.der",
	  "1.2.840.113549.1.9.1=#1616686f73746d6173746572406578616d706c652e"
	  "6f7267,OU=a+OU=b,O=No CN GmbH,C=DE", "",
	  "1.2.840.113549.1.9.1=#1616686f73746d6173746572406578616d706c652e"
	  "6f7267,OU=a+OU=b,O=No CN GmbH,C=DE", "",
	  "nocn.example.org", 1, 1704067200, 2019686400, true },
	/* UTCTime 500101000000Z and 991231235959Z */
	{ "expired.der", "CN=expired.example", "expired.example",
	  "CN=expired.example", "expired.example",
	  "", 0, -631152000, 946684799, true },
	/* GeneralizedTime 20500101000000Z and 99991231235959Z */
	{ "future.der", "CN=future.example", "future.example",
	  "CN=future.example", "future.example",
	  "", 0, 2524608000, 253402300799, true },
	{ "nginx.der", "CN=tlswatch-golden.invalid", "tlswatch-golden.invalid",
	  "CN=tlswatch-golden.invalid", "tlswatch-golden.invalid",
	  "", 0, 1795416363, 1795589163, true },
};

static uint8_t *load(const char *name, size_t *len)
{
	char path[256];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* An exact-size heap copy, so that AddressSanitizer sees a read one byte
 * past the end. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	memcpy(b, p, n);
	return b;
}

static void check_expect(const struct x509_info *x, const struct expect *e)
{
	assert_int_equal(x->have, X509_HAVE_ALL);
	assert_string_equal(x->subject, e->subject);
	assert_string_equal(x->subject_cn, e->subject_cn);
	assert_string_equal(x->issuer, e->issuer);
	assert_string_equal(x->issuer_cn, e->issuer_cn);
	assert_string_equal(x->san_first, e->san_first);
	assert_int_equal(x->n_san, e->n_san);
	assert_int_equal(x->not_before, e->not_before);
	assert_int_equal(x->not_after, e->not_after);
	assert_int_equal(x->self_signed, e->self_signed);
}

/* Every string is terminated inside its field. */
static void check_terminated(const struct x509_info *x)
{
	assert_non_null(memchr(x->subject, 0, sizeof(x->subject)));
	assert_non_null(memchr(x->subject_cn, 0, sizeof(x->subject_cn)));
	assert_non_null(memchr(x->issuer, 0, sizeof(x->issuer)));
	assert_non_null(memchr(x->issuer_cn, 0, sizeof(x->issuer_cn)));
	assert_non_null(memchr(x->san_first, 0, sizeof(x->san_first)));
}

/* A partial result agrees with the whole one on every part it claims, and
 * leaves the others empty. */
static void check_partial(const struct x509_info *p, const struct x509_info *w)
{
	check_terminated(p);
	if (p->have & X509_HAVE_ISSUER) {
		assert_string_equal(p->issuer, w->issuer);
		assert_string_equal(p->issuer_cn, w->issuer_cn);
	} else {
		assert_string_equal(p->issuer, "");
		assert_string_equal(p->issuer_cn, "");
	}
	if (p->have & X509_HAVE_VALIDITY) {
		assert_int_equal(p->not_before, w->not_before);
		assert_int_equal(p->not_after, w->not_after);
	} else {
		assert_int_equal(p->not_before, 0);
		assert_int_equal(p->not_after, 0);
	}
	if (p->have & X509_HAVE_SUBJECT) {
		assert_string_equal(p->subject, w->subject);
		assert_string_equal(p->subject_cn, w->subject_cn);
		assert_int_equal(p->self_signed, w->self_signed);
	} else {
		assert_string_equal(p->subject, "");
		assert_false(p->self_signed);
	}
	if (p->have & X509_HAVE_EXTENSIONS) {
		assert_string_equal(p->san_first, w->san_first);
		assert_int_equal(p->n_san, w->n_san);
	} else {
		assert_string_equal(p->san_first, "");
		assert_int_equal(p->n_san, 0);
	}
}

static void test_fields(void **state)
{
	const struct expect *e = *state;
	struct x509_info x;
	uint8_t *der, *b;
	size_t len;

	der = load(e->file, &len);
	b = dup_bytes(der, len);
	assert_int_equal(x509_parse(b, len, &x), 0);
	check_expect(&x, e);
	assert_int_equal(x.chain_len, 0);
	free(b);
	free(der);
}

/* Every prefix: -1, and what it does say is right. The two outer
 * SEQUENCEs may run past the cut, so a long enough prefix names the
 * certificate. */
static void test_truncations(void **state)
{
	const struct expect *e = *state;
	struct x509_info whole, x;
	uint8_t *der, *b;
	size_t len, n;
	unsigned named = 0;

	der = load(e->file, &len);
	assert_int_equal(x509_parse(der, len, &whole), 0);
	for (n = 0; n < len; n++) {
		b = dup_bytes(der, n);
		assert_int_equal(x509_parse(b, n, &x), -1);
		check_partial(&x, &whole);
		named += !!(x.have & X509_HAVE_SUBJECT);
		free(b);
	}
	/* The key and signature follow the subject: well over 64 bytes. */
	assert_true(named > 64);
	/* One byte more than the certificate: trailing data. */
	b = malloc(len + 1);
	assert_non_null(b);
	memcpy(b, der, len);
	b[len] = 0;
	assert_int_equal(x509_parse(b, len + 1, &x), -1);
	free(b);
	free(der);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes set, bits flipped, and the length cut: nothing may crash
 * or read out of bounds, and the strings stay terminated. */
static void test_mutations(void **state)
{
	const struct expect *e = *state;
	struct x509_info x;
	uint8_t *der, *b;
	size_t len, n, k;
	unsigned i, accepted = 0;

	der = load(e->file, &len);
	rng_state = 0x9e3779b97f4a7c15ull ^ len;
	b = malloc(len);
	assert_non_null(b);
	for (i = 0; i < MUTATIONS; i++) {
		uint8_t *cut;

		memcpy(b, der, len);
		for (k = 1 + rng() % 4; k; k--) {
			n = rng() % len;
			if (rng() & 1)
				b[n] = (uint8_t)rng();
			else
				b[n] ^= (uint8_t)(1u << (rng() % 8));
		}
		n = (rng() & 7) ? len : rng() % len;
		cut = dup_bytes(b, n);
		if (x509_parse(cut, n, &x) == 0)
			accepted++;
		check_terminated(&x);
		free(cut);
	}
	/* Most mutations land in the key or signature, which are skipped. */
	assert_true(accepted > 0);
	free(b);
	free(der);
}

/* body: certificate_list of the given DER certificates, TLS 1.2 or 1.3
 * form. Returns the length. */
static size_t build_msg(uint8_t *body, size_t cap, bool tls13,
			uint8_t *const ders[], const size_t lens[], size_t n)
{
	size_t off = 0, list, i;

	if (tls13)
		body[off++] = 0;	/* empty request context */
	list = off;
	off += 3;
	for (i = 0; i < n; i++) {
		assert_true(off + 3 + lens[i] + 2 <= cap);
		body[off++] = (uint8_t)(lens[i] >> 16);
		body[off++] = (uint8_t)(lens[i] >> 8);
		body[off++] = (uint8_t)lens[i];
		memcpy(body + off, ders[i], lens[i]);
		off += lens[i];
		if (tls13) {
			/* one empty extension, type 5 (status_request) */
			body[off++] = 0;
			body[off++] = 4;
			assert_true(off + 4 <= cap);
			memcpy(body + off, "\x00\x05\x00\x00", 4);
			off += 4;
		}
	}
	body[list] = (uint8_t)((off - list - 3) >> 16);
	body[list + 1] = (uint8_t)((off - list - 3) >> 8);
	body[list + 2] = (uint8_t)(off - list - 3);
	return off;
}

static void test_message(bool tls13)
{
	uint8_t *ders[2], body[4096], *b;
	size_t lens[2], len, n;
	struct x509_info x, whole;

	ders[0] = load("leaf-san.der", &lens[0]);
	ders[1] = load("ca.der", &lens[1]);
	len = build_msg(body, sizeof(body), tls13, ders, lens, 2);

	b = dup_bytes(body, len);
	assert_int_equal(x509_from_certificate_msg(b, len, tls13, &x), 0);
	check_expect(&x, &certs[3]);
	assert_int_equal(x.chain_len, 2);
	free(b);
	whole = x;

	/* The other form does not parse as this one. */
	b = dup_bytes(body, len);
	assert_int_equal(x509_from_certificate_msg(b, len, !tls13, &x), -1);
	free(b);

	/* Cut at every byte, as a capture budget would: -1, and the leaf
	 * named once its subject is in. */
	for (n = 0; n < len; n++) {
		b = dup_bytes(body, n);
		assert_int_equal(x509_from_certificate_msg(b, n, tls13, &x),
				 -1);
		check_partial(&x, &whole);
		assert_true(x.chain_len <= 1);
		if (n >= (tls13 ? 1u : 0u) + 6 + lens[0] + (tls13 ? 6u : 0u))
			assert_int_equal(x.have, X509_HAVE_ALL);
		free(b);
	}
	free(ders[0]);
	free(ders[1]);
}

static void test_message_tls12(void **state)
{
	(void)state;
	test_message(false);
}

static void test_message_tls13(void **state)
{
	(void)state;
	test_message(true);
}

static void test_message_empty(void **state)
{
	static const uint8_t empty12[] = { 0, 0, 0 };
	static const uint8_t empty13[] = { 0, 0, 0, 0 };
	static const uint8_t zero_entry[] = { 0, 0, 3, 0, 0, 0 };
	static const uint8_t trailing[] = { 0, 0, 0, 0 };
	struct x509_info x;

	(void)state;
	assert_int_equal(x509_from_certificate_msg(empty12, 3, false, &x), 0);
	assert_int_equal(x.chain_len, 0);
	assert_int_equal(x.have, 0);
	assert_int_equal(x509_from_certificate_msg(empty13, 4, true, &x), 0);
	assert_int_equal(x509_from_certificate_msg(zero_entry, 6, false, &x),
			 -1);
	assert_int_equal(x509_from_certificate_msg(trailing, 4, false, &x),
			 -1);
	assert_int_equal(x509_from_certificate_msg(NULL, 0, false, &x), -1);
}

/* The Certificate message nginx sent in a golden capture; Wireshark reads
 * CN=tlswatch-golden.invalid and 2026-11-23/25 06:46:03 UTC from it. */
static void test_message_capture(void **state)
{
	struct x509_info x;
	uint8_t *body;
	size_t len;

	(void)state;
	body = load("nginx-msg.bin", &len);
	assert_int_equal(x509_from_certificate_msg(body, len, false, &x), 0);
	check_expect(&x, &certs[9]);
	assert_int_equal(x.chain_len, 1);
	free(body);
}

static void test_message_mutations(void **state)
{
	uint8_t *ders[2], body[4096], *b;
	size_t lens[2], len, n, k;
	struct x509_info x;
	unsigned i;

	(void)state;
	ders[0] = load("leaf-san.der", &lens[0]);
	ders[1] = load("ca.der", &lens[1]);
	rng_state = 0x243f6a8885a308d3ull;
	for (i = 0; i < MUTATIONS; i++) {
		bool tls13 = i & 1;

		len = build_msg(body, sizeof(body), tls13, ders, lens, 2);
		/* Mostly the framing: the first 12 bytes and the entry
		 * boundaries are where the message's own lengths are. */
		for (k = 1 + rng() % 3; k; k--) {
			n = (rng() & 1) ? rng() % 12 : rng() % len;
			body[n] = (uint8_t)rng();
		}
		n = (rng() & 3) ? len : rng() % len;
		b = dup_bytes(body, n);
		x509_from_certificate_msg(b, n, tls13, &x);
		check_terminated(&x);
		free(b);
	}
	free(ders[0]);
	free(ders[1]);
}

/* Replaces the first occurrence of old (same length as new) in a copy. */
static uint8_t *patched(const char *file, size_t *len, const void *old,
			const void *new, size_t n)
{
	uint8_t *der = load(file, len), *at;

	at = memmem(der, *len, old, n);
	assert_non_null(at);
	memcpy(at, new, n);
	return der;
}

/* UTCTime's 50-year rule at its edge, and dates that do not exist. */
static void test_times(void **state)
{
	static const struct {
		const char *old, *new;
		int rc;
		int64_t t;
	} cases[] = {
		{ "500101000000Z", "491231235959Z", 0, 2524607999 },
		{ "500101000000Z", "700101000000Z", 0, 0 },
		{ "500101000000Z", "000229000000Z", 0, 951782400 },
		{ "500101000000Z", "010229000000Z", -1, 0 },
		{ "500101000000Z", "501301000000Z", -1, 0 },
		{ "500101000000Z", "500100000000Z", -1, 0 },
		{ "500101000000Z", "500131240000Z", -1, 0 },
		{ "500101000000Z", "500101000060Z", -1, 0 },
		{ "500101000000Z", "500101000000+", -1, 0 },
		{ "500101000000Z", "5001010000 0Z", -1, 0 },
	};
	struct x509_info x;
	uint8_t *der;
	size_t len, i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		der = patched("expired.der", &len, cases[i].old, cases[i].new,
			      13);
		assert_int_equal(x509_parse(der, len, &x), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(x.not_before, cases[i].t);
		else
			assert_int_equal(x.have & X509_HAVE_VALIDITY, 0);
		free(der);
	}
	/* GeneralizedTime: 2100 is not a leap year, 2400 is. */
	der = patched("future.der", &len, "20500101000000Z", "24000229000000Z",
		      15);
	assert_int_equal(x509_parse(der, len, &x), 0);
	assert_int_equal(x.not_before, 13574563200);
	free(der);
	der = patched("future.der", &len, "20500101000000Z", "21000229000000Z",
		      15);
	assert_int_equal(x509_parse(der, len, &x), -1);
	free(der);
}

static void test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(x509_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(x509_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(x509_days_from_civil(1950, 1, 1), -7305);
	assert_int_equal(x509_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(x509_days_from_civil(2049, 12, 31), 29219);
	assert_int_equal(x509_days_from_civil(9999, 12, 31), 2932896);
	assert_int_equal(x509_days_from_civil(1, 1, 1), -719162);
	assert_int_equal(x509_days_from_civil(0, 1, 1), -719528);
}

/* String types and escapes, by editing a real certificate's Name (the
 * signature no longer matches; nothing here checks it). */
static void test_strings(void **state)
{
	struct x509_info x;
	uint8_t *der;
	size_t len;

	(void)state;
	/* UTF8String "EC Test" as T61String holding Latin-1 "EC T\xe9st" */
	der = patched("ec-self.der", &len, "\x0c\x07" "EC Test",
		      "\x14\x07" "EC T\xe9st", 9);
	assert_int_equal(x509_parse(der, len, &x), 0);
	assert_string_equal(x.issuer, "CN=ec.example.com,O=EC T\xc3\xa9st");
	free(der);

	/* Controls and invalid UTF-8 become '?'; RFC 4514 specials and a
	 * leading '#' and trailing ' ' are escaped in the Name only. */
	der = patched("ec-self.der", &len, "\x0c\x07" "EC Test",
		      "\x0c\x07" "#\x07<\xff;a ", 9);
	assert_int_equal(x509_parse(der, len, &x), 0);
	assert_string_equal(x.issuer, "CN=ec.example.com,O=\\#?\\<?\\;a\\ ");
	free(der);

	der = patched("ec-self.der", &len, "ec.example.com",
		      "ec.\xe2\x80\xae" "mple.com", 14);
	assert_int_equal(x509_parse(der, len, &x), 0);
	assert_string_equal(x.issuer_cn, "ec.?mple.com");
	free(der);

	/* A CN whose type is not a string: "#" and its DER, hex */
	der = patched("expired.der", &len, "\x0c\x0f" "expired.example",
		      "\x04\x0f" "expired.example", 17);
	assert_int_equal(x509_parse(der, len, &x), 0);
	assert_string_equal(x.issuer_cn,
			    "#040f657870697265642e6578616d706c65");
	assert_string_equal(x.issuer,
			    "CN=#040f657870697265642e6578616d706c65");
	free(der);
}

/* Long Names are cut at a character boundary with "...". */
static void test_long_name(void **state)
{
	static const uint8_t old_subject[] =
		"\x30\x1a\x31\x18\x30\x16\x06\x03\x55\x04\x03";
	/* Name: 40 RDNs of CN=UTF8String "\xc3\xa9x" */
	uint8_t name[4 + 40 * 14], *p = name;
	uint8_t *der, *cert, *at, *tbs_v, *tbs_end, *o;
	struct x509_info x;
	size_t len, i, tbs_len;

	(void)state;
	*p++ = 0x30;
	*p++ = 0x82;
	*p++ = (40 * 14) >> 8;
	*p++ = (40 * 14) & 0xff;
	for (i = 0; i < 40; i++) {
		memcpy(p, "\x31\x0c\x30\x0a\x06\x03\x55\x04\x03\x0c\x03"
		       "\xc3\xa9x", 14);
		p += 14;
	}
	/* expired.der: 30 82 xx xx, then the TBS 30 81 xx; its issuer and
	 * subject are both the 28-byte Name CN=expired.example. */
	der = load("expired.der", &len);
	assert_int_equal(der[1], 0x82);
	assert_int_equal(der[4], 0x30);
	assert_int_equal(der[5], 0x81);
	tbs_v = der + 7;
	tbs_end = tbs_v + der[6];
	at = memmem(tbs_v, (size_t)(tbs_end - tbs_v), old_subject, 11);
	assert_non_null(at);
	at = memmem(at + 1, (size_t)(tbs_end - at - 1), old_subject, 11);
	assert_non_null(at);

	tbs_len = der[6] - 28 + sizeof(name);
	cert = malloc(len + sizeof(name) + 1);
	assert_non_null(cert);
	o = cert + 8;
	memcpy(o, tbs_v, (size_t)(at - tbs_v));
	o += at - tbs_v;
	memcpy(o, name, sizeof(name));
	o += sizeof(name);
	memcpy(o, at + 28, (size_t)(der + len - at - 28));
	o += der + len - at - 28;
	cert[0] = 0x30;
	cert[1] = 0x82;
	cert[2] = (uint8_t)((o - cert - 4) >> 8);
	cert[3] = (uint8_t)(o - cert - 4);
	cert[4] = 0x30;
	cert[5] = 0x82;
	cert[6] = (uint8_t)(tbs_len >> 8);
	cert[7] = (uint8_t)tbs_len;

	assert_int_equal(x509_parse(cert, (size_t)(o - cert), &x), 0);
	assert_string_equal(x.subject_cn, "\xc3\xa9x");
	assert_string_equal(x.issuer, "CN=expired.example");
	/* "CN=\xc3\xa9x," is 7 bytes; 36 of them leave 252 and room for
	 * "..." in 255. */
	assert_int_equal(strlen(x.subject), 255);
	assert_memory_equal(x.subject, "CN=\xc3\xa9x,CN=", 10);
	assert_string_equal(x.subject + 252, "...");
	assert_false(x.self_signed);
	free(cert);
	free(der);
}

/* DER lengths: indefinite and over 4 bytes are refused. */
static void test_lengths(void **state)
{
	struct x509_info x;
	uint8_t *der;
	size_t len;

	(void)state;
	der = load("expired.der", &len);
	assert_int_equal(der[1], 0x82);
	der[1] = 0x80;
	assert_int_equal(x509_parse(der, len, &x), -1);
	der[1] = 0x85;
	assert_int_equal(x509_parse(der, len, &x), -1);
	free(der);
}

static void same_info(const struct x509_info *a, const struct x509_info *b)
{
	assert_string_equal(a->subject_cn, b->subject_cn);
	assert_string_equal(a->subject, b->subject);
	assert_string_equal(a->issuer_cn, b->issuer_cn);
	assert_string_equal(a->issuer, b->issuer);
	assert_string_equal(a->san_first, b->san_first);
	assert_int_equal(a->n_san, b->n_san);
	assert_int_equal(a->not_before, b->not_before);
	assert_int_equal(a->not_after, b->not_after);
	assert_int_equal(a->self_signed, b->self_signed);
	assert_int_equal(a->chain_len, b->chain_len);
	assert_int_equal(a->have, b->have);
}

/* The cache gives what parsing gives: for the same message again, for
 * each cut of it, in both forms, and for a message of the same length
 * and last bytes that differs inside (a changed subject). */
static void test_message_cached(void **state)
{
	uint8_t *ders[2], body[4096];
	size_t lens[2], len, n;
	struct x509_info want, got;
	int r;

	(void)state;
	ders[0] = load("leaf-san.der", &lens[0]);
	ders[1] = load("ca.der", &lens[1]);
	for (int round = 0; round < 2; round++) {
		for (int tls13 = 0; tls13 < 2; tls13++) {
			len = build_msg(body, sizeof(body), tls13, ders, lens,
					2);
			for (n = 0; n <= len; n += n < 64 ? 1 : 61) {
				r = x509_from_certificate_msg(body, n, tls13,
							      &want);
				assert_int_equal(certcache_parse(body, n,
								 tls13, &got),
						 r);
				same_info(&got, &want);
				/* Again: from the cache now. */
				assert_int_equal(certcache_parse(body, n,
								 tls13, &got),
						 r);
				same_info(&got, &want);
			}
		}
	}
	len = build_msg(body, sizeof(body), false, ders, lens, 2);
	assert_int_equal(certcache_parse(body, len, false, &got), 0);
	/* A byte of the leaf's subject or issuer changed: a different
	 * certificate, which must not be served from the cache. */
	for (n = 20; n < lens[0]; n++) {
		body[6 + n] ^= 0x01;
		r = x509_from_certificate_msg(body, len, false, &want);
		assert_int_equal(certcache_parse(body, len, false, &got), r);
		same_info(&got, &want);
		body[6 + n] ^= 0x01;
	}
	certcache_clear();
	free(ders[0]);
	free(ders[1]);
}

int main(void)
{
	struct CMUnitTest tests[3 * ARRAY_SIZE(certs) + 12];
	static char names[3 * ARRAY_SIZE(certs)][64];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(certs); i++) {
		static const struct {
			const char *what;
			CMUnitTestFunction fn;
		} kinds[] = {
			{ "fields", test_fields },
			{ "truncations", test_truncations },
			{ "mutations", test_mutations },
		};
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s %s",
				 kinds[k].what, certs[i].file);
			tests[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = kinds[k].fn,
				.initial_state = (void *)&certs[i],
			};
		}
	}
#define ADD(f) tests[n++] = (struct CMUnitTest)cmocka_unit_test(f)
	ADD(test_message_tls12);
	ADD(test_message_tls13);
	ADD(test_message_empty);
	ADD(test_message_capture);
	ADD(test_message_cached);
	ADD(test_message_mutations);
	ADD(test_times);
	ADD(test_days_from_civil);
	ADD(test_strings);
	ADD(test_long_name);
	ADD(test_lengths);
#undef ADD
	return _cmocka_run_group_tests("x509", tests, n, NULL, NULL);
}
