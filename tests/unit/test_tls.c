/* SPDX-License-Identifier: BSD-3-Clause */
/* Decoder vectors for user/tls.c.
 *
 * Good vectors are whole records with a comment per field. Each is also
 * cut at every byte and has each length field it holds moved one up and
 * one down: a decoder that trusts a length where it should check it fails
 * there. Bad vectors each break one rule. Every row of every table runs as
 * its own named test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls.h"
#include "table.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A list given in place, and its length, for the case tables. */
#define LIST(field, type, ...)						\
	.field = (const type[]){ __VA_ARGS__ },				\
	.n_##field = sizeof((const type[]){ __VA_ARGS__ }) / sizeof(type)

/* A good vector and the length fields it holds. */
#define VECTOR(v)							\
	.rec = v, .rec_len = sizeof(v),					\
	.lens = v##_lens, .n_lens = ARRAY_SIZE(v##_lens)

/* A length field in a good vector: its offset (in the handshake body for
 * TLS, in the record for SSLv2), width, and the value it holds, which the
 * test checks so that a wrong offset cannot pass silently. */
struct len_field {
	uint16_t off;
	uint8_t width;
	uint16_t value;
};

#define RANDOM32							\
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,			\
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,			\
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,			\
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f

/* An exact-size heap copy, so that AddressSanitizer and valgrind see a
 * read one byte past the end. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	memcpy(b, p, n);
	return b;
}

static unsigned get_len(const uint8_t *b, const struct len_field *f)
{
	if (f->width == 1)
		return b[f->off];
	return (unsigned)(b[f->off] << 8 | b[f->off + 1]);
}

static void set_len(uint8_t *b, const struct len_field *f, unsigned v)
{
	if (f->width == 1) {
		b[f->off] = (uint8_t)v;
	} else {
		b[f->off] = (uint8_t)(v >> 8);
		b[f->off + 1] = (uint8_t)v;
	}
}

/* Each length field one too long and one too short must be refused. */
static void check_len_fields(const uint8_t *p, size_t len,
			     const struct len_field *f, size_t n,
			     int (*parse)(const uint8_t *, size_t))
{
	size_t i;
	int d;

	for (i = 0; i < n; i++) {
		uint8_t *b = dup_bytes(p, len);

		assert_int_equal(get_len(b, &f[i]), f[i].value);
		for (d = -1; d <= 1; d += 2) {
			set_len(b, &f[i], f[i].value + (unsigned)d);
			if (parse(b, len) != TLS_MALFORMED)
				fail_msg("length at %u (%u) %+d was accepted",
					 f[i].off, f[i].value, d);
		}
		free(b);
	}
}

/* Cut anywhere, a hello is malformed: the caller hands over the whole
 * message. The exception is a cut just before the extensions block
 * (ext_off, 0 for none), which leaves a valid hello without extensions. */
static void check_body_prefixes(const uint8_t *body, size_t len,
				size_t ext_off,
				int (*parse)(const uint8_t *, size_t))
{
	size_t n;

	for (n = 0; n < len; n++) {
		uint8_t *b = dup_bytes(body, n);
		int want = ext_off && n == ext_off ? TLS_OK : TLS_MALFORMED;

		if (parse(b, n) != want)
			fail_msg("body cut at %zu: want %d", n, want);
		free(b);
	}
}

/* Every cut of a good record: the record layer waits for more, and the
 * sniffer has decided by the third byte. */
static void check_record_prefixes(const uint8_t *rec, size_t len)
{
	struct tls_record_header h;
	size_t n;

	for (n = 0; n < len; n++) {
		uint8_t *b = dup_bytes(rec, n);
		int ret = tls_parse_record_header(b, n, &h);

		if (n < TLS_RECORD_HEADER_LEN) {
			assert_int_equal(ret, TLS_NEED_MORE);
		} else {
			assert_int_equal(ret, TLS_OK);
			assert_true(n < TLS_RECORD_HEADER_LEN +
				    (size_t)h.length);
		}
		assert_int_equal(tls_sniff(b, n),
				 n < 3 ? SNIFF_NEED_MORE : SNIFF_TLS);
		free(b);
	}
}

/* The record and handshake headers of a good vector; returns the body. */
static const uint8_t *hello_body(const uint8_t *rec, size_t len,
				 uint8_t want_type, uint16_t *rec_version,
				 size_t *body_len)
{
	struct tls_record_header h;
	uint32_t n;
	uint8_t type;

	assert_int_equal(tls_sniff(rec, len), SNIFF_TLS);
	assert_int_equal(tls_parse_record_header(rec, len, &h), TLS_OK);
	assert_int_equal(h.type, TLS_CT_HANDSHAKE);
	assert_int_equal(h.length, len - TLS_RECORD_HEADER_LEN);
	assert_int_equal(tls_parse_handshake_header(rec + TLS_RECORD_HEADER_LEN,
						    h.length, &type, &n),
			 TLS_OK);
	assert_int_equal(type, want_type);
	assert_int_equal(n, h.length - TLS_HS_HEADER_LEN);
	*rec_version = h.version;
	*body_len = n;
	return rec + TLS_RECORD_HEADER_LEN + TLS_HS_HEADER_LEN;
}

#define expect_list(got, n_got, want, n_want) do {			\
	size_t i_;							\
									\
	assert_int_equal(n_got, n_want);				\
	for (i_ = 0; i_ < (size_t)(n_want); i_++)			\
		assert_int_equal((got)[i_], (want)[i_]);		\
} while (0)

static void expect_alpn(const struct tls_alpn_list *a,
			const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_true(i < a->n);
		assert_int_equal(a->len[i], strlen(want[i]));
		assert_memory_equal(a->name[i], want[i], a->len[i]);
	}
	assert_int_equal(a->n, i);
	assert_int_equal(a->total, i);
}

/* ---- ClientHello: good vectors ---- */

static const uint8_t ch_tls10_no_ext[] = {
	/* record: handshake, TLS 1.0, length 47 */
	0x16, 0x03, 0x01, 0x00, 0x2f,
	0x01, 0x00, 0x00, 0x2b,		/* ClientHello, length 43 */
	0x03, 0x01,			/* legacy_version TLS 1.0 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x00,				/* session_id length 0 */
	0x00, 0x04,			/* cipher_suites length 4 */
	0x00, 0x2f, 0x00, 0xff,		/* 0x002f, 0x00ff */
	0x01, 0x00,			/* compression_methods length 1: null */
};
static const struct len_field ch_tls10_no_ext_lens[] = {
	{ 34, 1, 0 },	/* session_id */
	{ 35, 2, 4 },	/* cipher_suites */
	{ 41, 1, 1 },	/* compression_methods */
};

static const uint8_t ch_tls12_sni_alpn[] = {
	/* record: handshake, TLS 1.0, length 154 */
	0x16, 0x03, 0x01, 0x00, 0x9a,
	0x01, 0x00, 0x00, 0x96,		/* ClientHello, length 150 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20,				/* session_id length 32 */
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,	/* session_id */
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	0x00, 0x06,			/* cipher_suites length 6 */
	0xc0, 0x2f, 0xc0, 0x30, 0x00, 0x9c,	/* 0xc02f, 0xc030, 0x009c */
	0x01, 0x00,			/* compression_methods length 1: null */
	0x00, 0x47,			/* extensions length 71 */
	0x00, 0x00, 0x00, 0x10,		/* server_name, length 16 */
	  0x00, 0x0e,			/* server_name_list length 14 */
	  0x00, 0x00, 0x0b,		/* name_type 0, length 11 */
	  /* "example.com" */
	  0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e,
	  0x63, 0x6f, 0x6d,
	0x00, 0x0b, 0x00, 0x02,		/* ec_point_formats, length 2 */
	  0x01, 0x00,			/* length 1, formats */
	0x00, 0x0a, 0x00, 0x06,		/* supported_groups, length 6 */
	  0x00, 0x04,			/* list length 4 */
	  0x00, 0x1d, 0x00, 0x17,	/* 0x001d, 0x0017 */
	0x00, 0x0d, 0x00, 0x08,		/* signature_algorithms, length 8 */
	  0x00, 0x06,			/* list length 6 */
	  0x04, 0x03, 0x08, 0x04, 0x04, 0x01,	/* 0x0403, 0x0804, 0x0401 */
	0x00, 0x10, 0x00, 0x0e,		/* ALPN, length 14 */
	  0x00, 0x0c,			/* protocol_name_list length 12 */
	  0x02, 0x68, 0x32,		/* 2 "h2" */
	  /* 8 "http/1.1" */
	  0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31,
	0xff, 0x01, 0x00, 0x01,		/* renegotiation_info, length 1 */
	  0x00,				/* renegotiated_connection length 0 */
};
static const struct len_field ch_tls12_sni_alpn_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 67, 2, 6 },	/* cipher_suites */
	{ 75, 1, 1 },	/* compression_methods */
	{ 77, 2, 71 },	/* extensions */
	{ 81, 2, 16 },	/* server_name */
	{ 83, 2, 14 },	/* server_name_list */
	{ 86, 2, 11 },	/* host_name */
	{ 101, 2, 2 },	/* ec_point_formats */
	{ 103, 1, 1 },	/* ec_point_formats */
	{ 107, 2, 6 },	/* supported_groups */
	{ 109, 2, 4 },	/* supported_groups */
	{ 117, 2, 8 },	/* signature_algorithms */
	{ 119, 2, 6 },	/* signature_algorithms */
	{ 129, 2, 14 },	/* ALPN */
	{ 131, 2, 12 },	/* protocol_name_list */
	{ 133, 1, 2 },	/* protocol name */
	{ 136, 1, 8 },	/* protocol name */
	{ 147, 2, 1 },	/* renegotiation_info */
};

/* GREASE in ciphers, extensions, versions and groups (RFC 8701), and the
 * TLS 1.3 extensions that only count by presence. */
static const uint8_t ch_tls13_grease[] = {
	/* record: handshake, TLS 1.0, length 236 */
	0x16, 0x03, 0x01, 0x00, 0xec,
	0x01, 0x00, 0x00, 0xe8,		/* ClientHello, length 232 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20,				/* session_id length 32 */
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,	/* session_id */
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	0x00, 0x08,			/* cipher_suites length 8 */
	/* GREASE, 0x1301, 0x1302, 0x1303 */
	0x7a, 0x7a, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
	0x01, 0x00,			/* compression_methods length 1: null */
	0x00, 0x97,			/* extensions length 151 */
	0x2a, 0x2a, 0x00, 0x00,		/* GREASE, length 0 */
	0x00, 0x00, 0x00, 0x0e,		/* server_name, length 14 */
	  0x00, 0x0c,			/* server_name_list length 12 */
	  0x00, 0x00, 0x09,		/* name_type 0, length 9 */
	  /* "localhost" */
	  0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73,
	  0x74,
	0x00, 0x2b, 0x00, 0x07,		/* supported_versions, length 7 */
	  0x06,				/* versions length 6 */
	  0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03,	/* GREASE, TLS 1.3, TLS 1.2 */
	0x00, 0x0a, 0x00, 0x06,		/* supported_groups, length 6 */
	  0x00, 0x04,			/* list length 4 */
	  0x8a, 0x8a, 0x00, 0x1d,	/* GREASE, 0x001d */
	0x00, 0x33, 0x00, 0x2b,		/* key_share, length 43 */
	  0x00, 0x29,			/* client_shares length 41 */
	  0x8a, 0x8a, 0x00, 0x01,	/* group GREASE, key length 1 */
	  0x00,				/* key_exchange */
	  0x00, 0x1d, 0x00, 0x20,	/* group 0x001d, key length 32 */
	  /* key_exchange */
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x00, 0x2a, 0x00, 0x00,		/* early_data, length 0 */
	0x00, 0x2d, 0x00, 0x02,		/* psk_key_exchange_modes, length 2 */
	  0x01, 0x01,			/* length 1, psk_dhe_ke */
	0x00, 0x29, 0x00, 0x2f,		/* pre_shared_key, length 47 */
	  0x00, 0x0a,			/* identities length 10 */
	  0x00, 0x04, 0x61, 0x62, 0x63, 0x64,	/* identity length 4 */
	  0x00, 0x00, 0x00, 0x2a,	/* obfuscated_ticket_age */
	  0x00, 0x21,			/* binders length 33 */
	  0x20,				/* binder length 32 */
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,	/* binder */
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
};
static const struct len_field ch_tls13_grease_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 67, 2, 8 },	/* cipher_suites */
	{ 77, 1, 1 },	/* compression_methods */
	{ 79, 2, 151 },	/* extensions */
	{ 83, 2, 0 },	/* GREASE */
	{ 87, 2, 14 },	/* server_name */
	{ 89, 2, 12 },	/* server_name_list */
	{ 92, 2, 9 },	/* host_name */
	{ 105, 2, 7 },	/* supported_versions */
	{ 107, 1, 6 },	/* versions */
	{ 116, 2, 6 },	/* supported_groups */
	{ 118, 2, 4 },	/* supported_groups */
	{ 126, 2, 43 },	/* key_share */
	{ 128, 2, 41 },	/* client_shares */
	{ 132, 2, 1 },	/* key_exchange */
	{ 137, 2, 32 },	/* key_exchange */
	{ 173, 2, 0 },	/* early_data */
	{ 177, 2, 2 },	/* psk_key_exchange_modes */
	{ 183, 2, 47 },	/* pre_shared_key */
	{ 185, 2, 10 },	/* identities */
	{ 187, 2, 4 },	/* identity */
	{ 197, 2, 33 },	/* binders */
	{ 199, 1, 32 },	/* binder */
};

/* A fallback probe (RFC 7507) with an empty extensions block. */
static const uint8_t ch_tls11_fallback[] = {
	/* record: handshake, TLS 1.0, length 51 */
	0x16, 0x03, 0x01, 0x00, 0x33,
	0x01, 0x00, 0x00, 0x2f,		/* ClientHello, length 47 */
	0x03, 0x02,			/* legacy_version TLS 1.1 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x00,				/* session_id length 0 */
	0x00, 0x06,			/* cipher_suites length 6 */
	0xc0, 0x14, 0x00, 0x35, 0x56, 0x00,	/* 0xc014, 0x0035, 0x5600 */
	0x01, 0x00,			/* compression_methods length 1: null */
	0x00, 0x00,			/* extensions length 0 */
};
static const struct len_field ch_tls11_fallback_lens[] = {
	{ 34, 1, 0 },	/* session_id */
	{ 35, 2, 6 },	/* cipher_suites */
	{ 43, 1, 1 },	/* compression_methods */
	{ 45, 2, 0 },	/* extensions */
};

/* A name type other than host_name first, then two host_names: the first
 * host_name counts. supported_versions holds nothing but GREASE, so the
 * version is legacy_version. */
static const uint8_t ch_sni_odd[] = {
	/* record: handshake, TLS 1.0, length 89 */
	0x16, 0x03, 0x01, 0x00, 0x59,
	0x01, 0x00, 0x00, 0x55,		/* ClientHello, length 85 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x00,				/* session_id length 0 */
	0x00, 0x02,			/* cipher_suites length 2 */
	0x13, 0x01,			/* 0x1301 */
	0x01, 0x00,			/* compression_methods length 1: null */
	0x00, 0x2a,			/* extensions length 42 */
	0x00, 0x00, 0x00, 0x1f,		/* server_name, length 31 */
	  0x00, 0x1d,			/* server_name_list length 29 */
	  0x01, 0x00, 0x02,		/* name_type 1, length 2 */
	  0x78, 0x78,			/* "xx" */
	  0x00, 0x00, 0x09,		/* name_type 0, length 9 */
	  /* "a.example" */
	  0x61, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	  0x65,
	  0x00, 0x00, 0x09,		/* name_type 0, length 9 */
	  /* "b.example" */
	  0x62, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
	  0x65,
	0x00, 0x2b, 0x00, 0x03,		/* supported_versions, length 3 */
	  0x02,				/* versions length 2 */
	  0xda, 0xda,			/* GREASE */
};
static const struct len_field ch_sni_odd_lens[] = {
	{ 34, 1, 0 },	/* session_id */
	{ 35, 2, 2 },	/* cipher_suites */
	{ 39, 1, 1 },	/* compression_methods */
	{ 41, 2, 42 },	/* extensions */
	{ 45, 2, 31 },	/* server_name */
	{ 47, 2, 29 },	/* server_name_list */
	{ 50, 2, 2 },	/* host_name */
	{ 55, 2, 9 },	/* host_name */
	{ 67, 2, 9 },	/* host_name */
	{ 80, 2, 3 },	/* supported_versions */
	{ 82, 1, 2 },	/* versions */
};

/* uTLS imitating Chrome 70, from Go crypto/tls test data as kept by
 * refraction-networking/utls: testdata/Client-TLSv13-UTLS-
 * TLS_AES_128_GCM_SHA256-Chrome-70, commit ab3777592f75, BSD-3-Clause,
 * Copyright (c) 2009 The Go Authors. tshark 4.0.17 on these bytes:
 * version 0x0303; 17 suites 0x0a0a,0x1301,...,0x000a; extensions
 * 2570,65281,0,23,35,13,5,18,16,30032,11,51,45,43,10,27,6682,21;
 * server_name foobar.com; ALPN h2,http/1.1; supported_versions
 * 0x0a0a,0x0304,0x0303,0x0302,0x0301; groups 0x0a0a,0x001d,0x0017,0x0018;
 * 9 signature algorithms 0x0403..0x0201; point format 0. */
static const uint8_t ch_chrome70[] = {
	/* record: handshake, TLS 1.0, length 512 */
	0x16, 0x03, 0x01, 0x02, 0x00,
	0x01, 0x00, 0x01, 0xfc,		/* ClientHello, length 508 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* random */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x20,				/* session_id length 32 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* session_id */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x22,			/* cipher_suites length 34 */
	/* GREASE, 0x1301, 0x1302, 0x1303 */
	0x0a, 0x0a, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03,
	/* 0xc02b, 0xc02f, 0xc02c, 0xc030 */
	0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30,
	/* 0xcca9, 0xcca8, 0xc013, 0xc014 */
	0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14,
	/* 0x009c, 0x009d, 0x002f, 0x0035 */
	0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35,
	0x00, 0x0a,			/* 0x000a */
	0x01, 0x00,			/* compression_methods length 1: null */
	0x01, 0x91,			/* extensions length 401 */
	0x0a, 0x0a, 0x00, 0x00,		/* GREASE, length 0 */
	0xff, 0x01, 0x00, 0x01,		/* renegotiation_info, length 1 */
	  0x00,				/* renegotiated_connection length 0 */
	0x00, 0x00, 0x00, 0x0f,		/* server_name, length 15 */
	  0x00, 0x0d,			/* server_name_list length 13 */
	  0x00, 0x00, 0x0a,		/* name_type 0, length 10 */
	  /* "foobar.com" */
	  0x66, 0x6f, 0x6f, 0x62, 0x61, 0x72, 0x2e, 0x63,
	  0x6f, 0x6d,
	0x00, 0x17, 0x00, 0x00,		/* extended_master_secret, length 0 */
	0x00, 0x23, 0x00, 0x00,		/* session_ticket, length 0 */
	0x00, 0x0d, 0x00, 0x14,		/* signature_algorithms, length 20 */
	  0x00, 0x12,			/* list length 18 */
	  /* 0x0403, 0x0804, 0x0401, 0x0503 */
	  0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
	  /* 0x0805, 0x0501, 0x0806, 0x0601 */
	  0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01,
	  0x02, 0x01,			/* 0x0201 */
	0x00, 0x05, 0x00, 0x05,		/* status_request, length 5 */
	  0x01, 0x00, 0x00, 0x00, 0x00,	/* extension data */
	/* signed_certificate_timestamp, length 0 */
	0x00, 0x12, 0x00, 0x00,
	0x00, 0x10, 0x00, 0x0e,		/* ALPN, length 14 */
	  0x00, 0x0c,			/* protocol_name_list length 12 */
	  0x02, 0x68, 0x32,		/* 2 "h2" */
	  /* 8 "http/1.1" */
	  0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31,
	0x75, 0x50, 0x00, 0x00,		/* channel_id, length 0 */
	0x00, 0x0b, 0x00, 0x02,		/* ec_point_formats, length 2 */
	  0x01, 0x00,			/* length 1, formats */
	0x00, 0x33, 0x00, 0x2b,		/* key_share, length 43 */
	  0x00, 0x29,			/* client_shares length 41 */
	  0x0a, 0x0a, 0x00, 0x01,	/* group GREASE, key length 1 */
	  0x00,				/* key_exchange */
	  0x00, 0x1d, 0x00, 0x20,	/* group 0x001d, key length 32 */
	  /* key_exchange */
	  0x2f, 0xe5, 0x7d, 0xa3, 0x47, 0xcd, 0x62, 0x43,
	  0x15, 0x28, 0xda, 0xac, 0x5f, 0xbb, 0x29, 0x07,
	  0x30, 0xff, 0xf6, 0x84, 0xaf, 0xc4, 0xcf, 0xc2,
	  0xed, 0x90, 0x99, 0x5f, 0x58, 0xcb, 0x3b, 0x74,
	0x00, 0x2d, 0x00, 0x02,		/* psk_key_exchange_modes, length 2 */
	  0x01, 0x01,			/* length 1, psk_dhe_ke */
	0x00, 0x2b, 0x00, 0x0b,		/* supported_versions, length 11 */
	  0x0a,				/* versions length 10 */
	  /* GREASE, TLS 1.3, TLS 1.2, TLS 1.1, TLS 1.0 */
	  0x0a, 0x0a, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02, 0x03, 0x01,
	0x00, 0x0a, 0x00, 0x0a,		/* supported_groups, length 10 */
	  0x00, 0x08,			/* list length 8 */
	  /* GREASE, 0x001d, 0x0017, 0x0018 */
	  0x0a, 0x0a, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
	0x00, 0x1b, 0x00, 0x03,		/* compress_certificate, length 3 */
	  0x02, 0x00, 0x02,		/* extension data */
	0x1a, 0x1a, 0x00, 0x01,		/* GREASE, length 1 */
	  0x00,				/* extension data */
	0x00, 0x15, 0x00, 0xca,		/* padding, length 202 */
	  /* 202 zero bytes */
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x00,
};
static const struct len_field ch_chrome70_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 67, 2, 34 },	/* cipher_suites */
	{ 103, 1, 1 },	/* compression_methods */
	{ 105, 2, 401 },	/* extensions */
	{ 109, 2, 0 },	/* GREASE */
	{ 113, 2, 1 },	/* renegotiation_info */
	{ 118, 2, 15 },	/* server_name */
	{ 120, 2, 13 },	/* server_name_list */
	{ 123, 2, 10 },	/* host_name */
	{ 137, 2, 0 },	/* extended_master_secret */
	{ 141, 2, 0 },	/* session_ticket */
	{ 145, 2, 20 },	/* signature_algorithms */
	{ 147, 2, 18 },	/* signature_algorithms */
	{ 169, 2, 5 },	/* status_request */
	{ 178, 2, 0 },	/* signed_certificate_timestamp */
	{ 182, 2, 14 },	/* ALPN */
	{ 184, 2, 12 },	/* protocol_name_list */
	{ 186, 1, 2 },	/* protocol name */
	{ 189, 1, 8 },	/* protocol name */
	{ 200, 2, 0 },	/* channel_id */
	{ 204, 2, 2 },	/* ec_point_formats */
	{ 206, 1, 1 },	/* ec_point_formats */
	{ 210, 2, 43 },	/* key_share */
	{ 212, 2, 41 },	/* client_shares */
	{ 216, 2, 1 },	/* key_exchange */
	{ 221, 2, 32 },	/* key_exchange */
	{ 257, 2, 2 },	/* psk_key_exchange_modes */
	{ 263, 2, 11 },	/* supported_versions */
	{ 265, 1, 10 },	/* versions */
	{ 278, 2, 10 },	/* supported_groups */
	{ 280, 2, 8 },	/* supported_groups */
	{ 292, 2, 3 },	/* compress_certificate */
	{ 299, 2, 1 },	/* GREASE */
	{ 304, 2, 202 },	/* padding */
};

/* A TLS 1.1 fallback probe, from Go crypto/tls test data as kept by
 * refraction-networking/utls: testdata/Server-TLSv11-FallbackSCSV, commit
 * ab3777592f75, BSD-3-Clause, Copyright (c) 2009 The Go Authors. tshark
 * 4.0.17: version 0x0302; suites 0xc00a,0xc014,0x0039,0xc009,0xc013,
 * 0x0033,0x0035,0x002f,0x00ff,0x5600; extensions 0,11,10,35,22,23. */
static const uint8_t ch_go_fallback[] = {
	/* record: handshake, TLS 1.0, length 119 */
	0x16, 0x03, 0x01, 0x00, 0x77,
	0x01, 0x00, 0x00, 0x73,		/* ClientHello, length 115 */
	0x03, 0x02,			/* legacy_version TLS 1.1 */
	0x0a, 0x6b, 0xc9, 0x55, 0x9d, 0xbf, 0x4e, 0x61,	/* random */
	0xb2, 0x0a, 0xc7, 0xc6, 0x96, 0x9f, 0xeb, 0x90,
	0x91, 0x87, 0xca, 0xd3, 0xd3, 0x62, 0xdc, 0xb6,
	0xb4, 0xdb, 0xea, 0x41, 0xfe, 0x43, 0x3e, 0xa3,
	0x00,				/* session_id length 0 */
	0x00, 0x14,			/* cipher_suites length 20 */
	/* 0xc00a, 0xc014, 0x0039, 0xc009 */
	0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09,
	/* 0xc013, 0x0033, 0x0035, 0x002f */
	0xc0, 0x13, 0x00, 0x33, 0x00, 0x35, 0x00, 0x2f,
	0x00, 0xff, 0x56, 0x00,		/* 0x00ff, 0x5600 */
	0x01, 0x00,			/* compression_methods length 1: null */
	0x00, 0x36,			/* extensions length 54 */
	0x00, 0x00, 0x00, 0x0e,		/* server_name, length 14 */
	  0x00, 0x0c,			/* server_name_list length 12 */
	  0x00, 0x00, 0x09,		/* name_type 0, length 9 */
	  /* "127.0.0.1" */
	  0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e,
	  0x31,
	0x00, 0x0b, 0x00, 0x04,		/* ec_point_formats, length 4 */
	  0x03, 0x00, 0x01, 0x02,	/* length 3, formats */
	0x00, 0x0a, 0x00, 0x0c,		/* supported_groups, length 12 */
	  0x00, 0x0a,			/* list length 10 */
	  /* 0x001d, 0x0017, 0x001e, 0x0019 */
	  0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19,
	  0x00, 0x18,			/* 0x0018 */
	0x00, 0x23, 0x00, 0x00,		/* session_ticket, length 0 */
	0x00, 0x16, 0x00, 0x00,		/* type 22, length 0 */
	0x00, 0x17, 0x00, 0x00,		/* extended_master_secret, length 0 */
};
static const struct len_field ch_go_fallback_lens[] = {
	{ 34, 1, 0 },	/* session_id */
	{ 35, 2, 20 },	/* cipher_suites */
	{ 57, 1, 1 },	/* compression_methods */
	{ 59, 2, 54 },	/* extensions */
	{ 63, 2, 14 },	/* server_name */
	{ 65, 2, 12 },	/* server_name_list */
	{ 68, 2, 9 },	/* host_name */
	{ 81, 2, 4 },	/* ec_point_formats */
	{ 83, 1, 3 },	/* ec_point_formats */
	{ 89, 2, 12 },	/* supported_groups */
	{ 91, 2, 10 },	/* supported_groups */
	{ 105, 2, 0 },	/* session_ticket */
	{ 109, 2, 0 },	/* type 22 */
	{ 113, 2, 0 },	/* extended_master_secret */
};

struct ch_case {
	const char *name;
	const uint8_t *rec;
	size_t rec_len;
	const struct len_field *lens;
	size_t n_lens;
	size_t ext_off;		/* body offset of the extensions block */
	uint16_t record_version;
	uint16_t legacy_version;
	uint16_t version;
	const uint32_t *ciphers;
	size_t n_ciphers;
	bool fallback_scsv;
	uint8_t n_compression;
	bool has_extensions;
	const uint16_t *extensions;
	size_t n_extensions;
	bool has_supported_versions;
	const uint16_t *versions;
	size_t n_versions;
	const char *sni;
	const char *const *alpn;	/* NULL-terminated */
	const uint16_t *groups;
	size_t n_groups;
	const uint16_t *sigalgs;
	size_t n_sigalgs;
	const uint8_t *point_formats;
	size_t n_point_formats;
	bool has_early_data;
	bool has_key_share;
	bool has_psk;
};

static const struct ch_case ch_good[] = {
	{
		.name = "ClientHello: TLS 1.0 without extensions",
		VECTOR(ch_tls10_no_ext),
		.record_version = 0x0301,
		.legacy_version = 0x0301,
		.version = 0x0301,
		LIST(ciphers, uint32_t, 0x002f, 0x00ff),
		.n_compression = 1,
	},
	{
		.name = "ClientHello: TLS 1.2 with SNI and ALPN",
		VECTOR(ch_tls12_sni_alpn),
		.ext_off = 77,
		.record_version = 0x0301,
		.legacy_version = 0x0303,
		.version = 0x0303,
		LIST(ciphers, uint32_t, 0xc02f, 0xc030, 0x009c),
		.n_compression = 1,
		.has_extensions = true,
		LIST(extensions, uint16_t, 0, 11, 10, 13, 16, 0xff01),
		.sni = "example.com",
		.alpn = (const char *const[]){ "h2", "http/1.1", NULL },
		LIST(groups, uint16_t, 0x001d, 0x0017),
		LIST(sigalgs, uint16_t, 0x0403, 0x0804, 0x0401),
		LIST(point_formats, uint8_t, 0),
	},
	{
		.name = "ClientHello: TLS 1.3 with GREASE",
		VECTOR(ch_tls13_grease),
		.ext_off = 79,
		.record_version = 0x0301,
		.legacy_version = 0x0303,
		.version = 0x0304,
		LIST(ciphers, uint32_t, 0x7a7a, 0x1301, 0x1302, 0x1303),
		.n_compression = 1,
		.has_extensions = true,
		LIST(extensions, uint16_t, 0x2a2a, 0, 43, 10, 51, 42, 45, 41),
		.has_supported_versions = true,
		LIST(versions, uint16_t, 0x3a3a, 0x0304, 0x0303),
		.sni = "localhost",
		LIST(groups, uint16_t, 0x8a8a, 0x001d),
		.has_early_data = true,
		.has_key_share = true,
		.has_psk = true,
	},
	{
		.name = "ClientHello: TLS 1.1 fallback, empty extensions",
		VECTOR(ch_tls11_fallback),
		.ext_off = 45,
		.record_version = 0x0301,
		.legacy_version = 0x0302,
		.version = 0x0302,
		LIST(ciphers, uint32_t, 0xc014, 0x0035, 0x5600),
		.fallback_scsv = true,
		.n_compression = 1,
		.has_extensions = true,
	},
	{
		.name = "ClientHello: first host_name, GREASE-only versions",
		VECTOR(ch_sni_odd),
		.ext_off = 41,
		.record_version = 0x0301,
		.legacy_version = 0x0303,
		.version = 0x0303,
		LIST(ciphers, uint32_t, 0x1301),
		.n_compression = 1,
		.has_extensions = true,
		LIST(extensions, uint16_t, 0, 43),
		.has_supported_versions = true,
		LIST(versions, uint16_t, 0xdada),
		.sni = "a.example",
	},
	{
		.name = "ClientHello: uTLS Chrome 70 (Go testdata)",
		VECTOR(ch_chrome70),
		.ext_off = 105,
		.record_version = 0x0301,
		.legacy_version = 0x0303,
		.version = 0x0304,
		LIST(ciphers, uint32_t, 0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b,
		     0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
		     0x009c, 0x009d, 0x002f, 0x0035, 0x000a),
		.n_compression = 1,
		.has_extensions = true,
		LIST(extensions, uint16_t, 2570, 65281, 0, 23, 35, 13, 5, 18,
		     16, 30032, 11, 51, 45, 43, 10, 27, 6682, 21),
		.has_supported_versions = true,
		LIST(versions, uint16_t, 0x0a0a, 0x0304, 0x0303, 0x0302,
		     0x0301),
		.sni = "foobar.com",
		.alpn = (const char *const[]){ "h2", "http/1.1", NULL },
		LIST(groups, uint16_t, 0x0a0a, 0x001d, 0x0017, 0x0018),
		LIST(sigalgs, uint16_t, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805,
		     0x0501, 0x0806, 0x0601, 0x0201),
		LIST(point_formats, uint8_t, 0),
		.has_key_share = true,
	},
	{
		.name = "ClientHello: TLS 1.1 fallback probe (Go testdata)",
		VECTOR(ch_go_fallback),
		.ext_off = 59,
		.record_version = 0x0301,
		.legacy_version = 0x0302,
		.version = 0x0302,
		LIST(ciphers, uint32_t, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013,
		     0x0033, 0x0035, 0x002f, 0x00ff, 0x5600),
		.fallback_scsv = true,
		.n_compression = 1,
		.has_extensions = true,
		LIST(extensions, uint16_t, 0, 11, 10, 35, 22, 23),
		.sni = "127.0.0.1",
		LIST(groups, uint16_t, 0x001d, 0x0017, 0x001e, 0x0019, 0x0018),
		LIST(point_formats, uint8_t, 0, 1, 2),
	},
};

static int parse_ch(const uint8_t *body, size_t len)
{
	struct tls_client_hello ch;

	return tls_parse_client_hello(body, len, &ch);
}

static void test_ch_good(void **state)
{
	const struct ch_case *t = *state;
	struct tls_client_hello ch;
	const uint8_t *body;
	size_t body_len;
	uint16_t rec_version;

	body = hello_body(t->rec, t->rec_len, TLS_HS_CLIENT_HELLO,
			  &rec_version, &body_len);
	assert_int_equal(rec_version, t->record_version);
	assert_int_equal(tls_parse_client_hello(body, body_len, &ch), TLS_OK);

	assert_false(ch.sslv2_format);
	assert_int_equal(ch.record_version, 0);	/* the caller's to fill */
	assert_int_equal(ch.legacy_version, t->legacy_version);
	assert_int_equal(ch.version, t->version);
	assert_int_equal(ch.cipher_width, 2);
	expect_list(ch.ciphers, ch.n_ciphers, t->ciphers, t->n_ciphers);
	assert_int_equal(ch.total_ciphers, t->n_ciphers);
	assert_int_equal(ch.fallback_scsv, t->fallback_scsv);
	assert_int_equal(ch.n_compression, t->n_compression);
	assert_int_equal(ch.has_extensions, t->has_extensions);
	expect_list(ch.extensions, ch.n_extensions, t->extensions,
		    t->n_extensions);
	assert_int_equal(ch.total_extensions, t->n_extensions);
	assert_int_equal(ch.has_supported_versions,
			 t->has_supported_versions);
	expect_list(ch.versions, ch.n_versions, t->versions, t->n_versions);
	if (t->sni) {
		assert_true(ch.has_sni);
		assert_false(ch.sni_truncated);
		assert_int_equal(ch.sni_len, strlen(t->sni));
		assert_memory_equal(ch.sni, t->sni, ch.sni_len);
	} else {
		assert_false(ch.has_sni);
		assert_int_equal(ch.sni_len, 0);
	}
	assert_int_equal(ch.has_alpn, t->alpn != NULL);
	if (t->alpn)
		expect_alpn(&ch.alpn, t->alpn);
	else
		assert_int_equal(ch.alpn.total, 0);
	expect_list(ch.groups, ch.n_groups, t->groups, t->n_groups);
	expect_list(ch.sigalgs, ch.n_sigalgs, t->sigalgs, t->n_sigalgs);
	expect_list(ch.point_formats, ch.n_point_formats, t->point_formats,
		    t->n_point_formats);
	assert_int_equal(ch.has_early_data, t->has_early_data);
	assert_int_equal(ch.has_key_share, t->has_key_share);
	assert_int_equal(ch.has_psk, t->has_psk);

	check_record_prefixes(t->rec, t->rec_len);
	check_body_prefixes(body, body_len, t->ext_off, parse_ch);
	check_len_fields(body, body_len, t->lens, t->n_lens, parse_ch);
}

/* ---- ServerHello: good vectors ---- */

static const uint8_t sh_tls12_alpn[] = {
	/* record: handshake, TLS 1.2, length 96 */
	0x16, 0x03, 0x03, 0x00, 0x60,
	0x02, 0x00, 0x00, 0x5c,		/* ServerHello, length 92 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20,				/* session_id length 32 */
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,	/* session_id */
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	0xc0, 0x2f, 0x00,		/* cipher_suite 0xc02f, compression 0 */
	0x00, 0x14,			/* extensions length 20 */
	0xff, 0x01, 0x00, 0x01,		/* renegotiation_info, length 1 */
	  0x00,				/* renegotiated_connection length 0 */
	0x00, 0x0b, 0x00, 0x02,		/* ec_point_formats, length 2 */
	  0x01, 0x00,			/* length 1, formats */
	0x00, 0x10, 0x00, 0x05,		/* ALPN, length 5 */
	  0x00, 0x03,			/* protocol_name_list length 3 */
	  0x02, 0x68, 0x32,		/* 2 "h2" */
};
static const struct len_field sh_tls12_alpn_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 70, 2, 20 },	/* extensions */
	{ 74, 2, 1 },	/* renegotiation_info */
	{ 79, 2, 2 },	/* ec_point_formats */
	{ 85, 2, 5 },	/* ALPN */
	{ 87, 2, 3 },	/* protocol_name_list */
	{ 89, 1, 2 },	/* protocol name */
};

static const uint8_t sh_tls13[] = {
	/* record: handshake, TLS 1.2, length 122 */
	0x16, 0x03, 0x03, 0x00, 0x7a,
	0x02, 0x00, 0x00, 0x76,		/* ServerHello, length 118 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20,				/* session_id length 32 */
	0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,	/* session_id */
	0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	0x13, 0x01, 0x00,		/* cipher_suite 0x1301, compression 0 */
	0x00, 0x2e,			/* extensions length 46 */
	0x00, 0x2b, 0x00, 0x02,		/* supported_versions, length 2 */
	  0x03, 0x04,			/* selected_version TLS 1.3 */
	0x00, 0x33, 0x00, 0x24,		/* key_share, length 36 */
	  0x00, 0x1d, 0x00, 0x20,	/* group 0x001d, key length 32 */
	  /* key_exchange */
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};
static const struct len_field sh_tls13_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 70, 2, 46 },	/* extensions */
	{ 74, 2, 2 },	/* supported_versions */
	{ 80, 2, 36 },	/* key_share */
};

static const uint8_t sh_ssl30[] = {
	/* record: handshake, SSL 3.0, length 42 */
	0x16, 0x03, 0x00, 0x00, 0x2a,
	0x02, 0x00, 0x00, 0x26,		/* ServerHello, length 38 */
	0x03, 0x00,			/* legacy_version SSL 3.0 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x00,				/* session_id length 0 */
	0x00, 0x0a, 0x00,		/* cipher_suite 0x000a, compression 0 */
};
static const struct len_field sh_ssl30_lens[] = {
	{ 34, 1, 0 },	/* session_id */
};

/* TLS 1.3 draft 18 (0x7f12): no session_id and no compression before
 * draft 22; key_share was extension 40 then. */
static const uint8_t sh_draft18[] = {
	/* record: handshake, TLS 1.0, length 82 */
	0x16, 0x03, 0x01, 0x00, 0x52,
	0x02, 0x00, 0x00, 0x4e,		/* ServerHello, length 78 */
	0x7f, 0x12,			/* legacy_version 0x7f12 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	/* random */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x13, 0x01,			/* cipher_suite 0x1301 */
	0x00, 0x28,			/* extensions length 40 */
	0x00, 0x28, 0x00, 0x24,		/* key_share (draft), length 36 */
	  0x00, 0x1d, 0x00, 0x20,	/* group 0x001d, key length 32 */
	  /* key_exchange */
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
};
static const struct len_field sh_draft18_lens[] = {
	{ 36, 2, 40 },	/* extensions */
	{ 40, 2, 36 },	/* key_share (draft) */
};

/* A HelloRetryRequest, from Go crypto/tls test data as kept by
 * refraction-networking/utls: testdata/Server-TLSv13-HelloRetryRequest,
 * commit ab3777592f75, BSD-3-Clause, Copyright (c) 2009 The Go Authors.
 * tshark 4.0.17: version 0x0303, suite 0x1303, extensions 43,51,
 * supported_version 0x0304. */
static const uint8_t sh_hrr[] = {
	/* record: handshake, TLS 1.2, length 88 */
	0x16, 0x03, 0x03, 0x00, 0x58,
	0x02, 0x00, 0x00, 0x54,		/* ServerHello, length 84 */
	0x03, 0x03,			/* legacy_version TLS 1.2 */
	/* random (HelloRetryRequest) */
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	0x20,				/* session_id length 32 */
	0x90, 0xfc, 0x6b, 0xbe, 0x26, 0x4f, 0x94, 0xc1,	/* session_id */
	0xf7, 0x06, 0xe6, 0xae, 0xe6, 0x0f, 0x67, 0x2f,
	0xc7, 0xde, 0xb0, 0x6b, 0x4a, 0xf8, 0x9c, 0xa2,
	0x43, 0xb6, 0x64, 0x62, 0x08, 0x27, 0x0b, 0x45,
	0x13, 0x03, 0x00,		/* cipher_suite 0x1303, compression 0 */
	0x00, 0x0c,			/* extensions length 12 */
	0x00, 0x2b, 0x00, 0x02,		/* supported_versions, length 2 */
	  0x03, 0x04,			/* selected_version TLS 1.3 */
	0x00, 0x33, 0x00, 0x02,		/* key_share, length 2 */
	  0x00, 0x17,			/* selected_group 0x0017 */
};
static const struct len_field sh_hrr_lens[] = {
	{ 34, 1, 32 },	/* session_id */
	{ 70, 2, 12 },	/* extensions */
	{ 74, 2, 2 },	/* supported_versions */
	{ 80, 2, 2 },	/* key_share */
};

struct sh_case {
	const char *name;
	const uint8_t *rec;
	size_t rec_len;
	const struct len_field *lens;
	size_t n_lens;
	size_t ext_off;
	uint16_t record_version;
	uint16_t legacy_version;
	uint16_t selected_version;
	uint16_t version;
	bool hrr;
	uint16_t cipher;
	uint8_t compression;
	const uint16_t *extensions;
	size_t n_extensions;
	const char *alpn;
	uint16_t group;		/* key_share */
};

static const struct sh_case sh_good[] = {
	{
		.name = "ServerHello: TLS 1.2 with ALPN",
		VECTOR(sh_tls12_alpn),
		.ext_off = 70,
		.record_version = 0x0303,
		.legacy_version = 0x0303,
		.version = 0x0303,
		.cipher = 0xc02f,
		LIST(extensions, uint16_t, 0xff01, 11, 16),
		.alpn = "h2",
	},
	{
		.name = "ServerHello: TLS 1.3",
		VECTOR(sh_tls13),
		.ext_off = 70,
		.record_version = 0x0303,
		.legacy_version = 0x0303,
		.selected_version = 0x0304,
		.version = 0x0304,
		.cipher = 0x1301,
		LIST(extensions, uint16_t, 43, 51),
		.group = 0x001d,
	},
	{
		.name = "ServerHello: SSL 3.0 without extensions",
		VECTOR(sh_ssl30),
		.record_version = 0x0300,
		.legacy_version = 0x0300,
		.version = 0x0300,
		.cipher = 0x000a,
	},
	{
		.name = "ServerHello: TLS 1.3 draft 18",
		VECTOR(sh_draft18),
		.ext_off = 36,
		.record_version = 0x0301,
		.legacy_version = 0x7f12,
		.version = 0x7f12,
		.cipher = 0x1301,
		LIST(extensions, uint16_t, 40),
	},
	{
		.name = "ServerHello: HelloRetryRequest (Go testdata)",
		VECTOR(sh_hrr),
		.ext_off = 70,
		.record_version = 0x0303,
		.legacy_version = 0x0303,
		.selected_version = 0x0304,
		.version = 0x0304,
		.hrr = true,
		.cipher = 0x1303,
		LIST(extensions, uint16_t, 43, 51),
		.group = 0x0017,	/* the HRR's selected_group */
	},
};

static int parse_sh(const uint8_t *body, size_t len)
{
	struct tls_server_hello sh;

	return tls_parse_server_hello(body, len, &sh);
}

static void test_sh_good(void **state)
{
	const struct sh_case *t = *state;
	struct tls_server_hello sh;
	const uint8_t *body;
	size_t body_len;
	uint16_t rec_version;

	body = hello_body(t->rec, t->rec_len, TLS_HS_SERVER_HELLO,
			  &rec_version, &body_len);
	assert_int_equal(rec_version, t->record_version);
	assert_int_equal(tls_parse_server_hello(body, body_len, &sh), TLS_OK);

	assert_int_equal(sh.legacy_version, t->legacy_version);
	assert_int_equal(sh.selected_version, t->selected_version);
	assert_int_equal(sh.version, t->version);
	assert_int_equal(sh.hrr, t->hrr);
	assert_int_equal(sh.cipher, t->cipher);
	assert_int_equal(sh.compression, t->compression);
	assert_int_equal(sh.group, t->group);
	expect_list(sh.extensions, sh.n_extensions, t->extensions,
		    t->n_extensions);
	assert_int_equal(sh.total_extensions, t->n_extensions);
	assert_int_equal(sh.has_alpn, t->alpn != NULL);
	if (t->alpn)
		expect_alpn(&sh.alpn,
			    (const char *const[]){ t->alpn, NULL });

	check_record_prefixes(t->rec, t->rec_len);
	check_body_prefixes(body, body_len, t->ext_off, parse_sh);
	check_len_fields(body, body_len, t->lens, t->n_lens, parse_sh);
}

/* ---- SSLv2-format CLIENT-HELLO: good vectors ---- */

/* Pure SSL 2.0, from CESNET/FlowTest pcap/ssl-v2.pcap frame 4, commit
 * 1d68adb54bd4, BSD-3-Clause. tshark 4.0.17: SSLv2 Client Hello, version
 * 0x0002, 8 cipher specs 0x0700c0 ... 0x020080, challenge length 16. */
static const uint8_t v2_cesnet[] = {
	0x80, 0x31,			/* SSLv2 header: length 49 */
	0x01,				/* CLIENT-HELLO */
	0x00, 0x02,			/* version SSL 2.0 */
	0x00, 0x18,			/* cipher_specs length 24 */
	0x00, 0x00,			/* session_id length 0 */
	0x00, 0x10,			/* challenge length 16 */
	/* 0x0700c0, 0x050080, 0x030080 */
	0x07, 0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80,
	/* 0x010080, 0x080080, 0x060040 */
	0x01, 0x00, 0x80, 0x08, 0x00, 0x80, 0x06, 0x00, 0x40,
	0x04, 0x00, 0x80, 0x02, 0x00, 0x80,	/* 0x040080, 0x020080 */
	0x76, 0x64, 0x75, 0x2d, 0xa7, 0x98, 0xfe, 0xc9,	/* challenge */
	0x12, 0x92, 0xc1, 0x2f, 0x34, 0x84, 0x20, 0xc5,
};
static const struct len_field v2_cesnet_lens[] = {
	{ 0, 2, 0x8031 },	/* record length, top bit set */
	{ 5, 2, 24 },	/* cipher_specs */
	{ 7, 2, 0 },	/* session_id */
	{ 9, 2, 16 },	/* challenge */
};

/* A TLS 1.0 client in SSLv2 format, from zeek
 * testing/btest/Traces/tls/ssl.v3.pcap frame 4, commit a13de64fbbdb,
 * BSD-3-Clause. tshark 4.0.17: SSLv2 Client Hello, version 0x0301, cipher
 * spec length 60, challenge length 16. */
static const uint8_t v2_zeek_v3[] = {
	0x80, 0x55,			/* SSLv2 header: length 85 */
	0x01,				/* CLIENT-HELLO */
	0x03, 0x01,			/* version TLS 1.0 */
	0x00, 0x3c,			/* cipher_specs length 60 */
	0x00, 0x00,			/* session_id length 0 */
	0x00, 0x10,			/* challenge length 16 */
	/* 0x000039, 0x000038, 0x000035 */
	0x00, 0x00, 0x39, 0x00, 0x00, 0x38, 0x00, 0x00, 0x35,
	/* 0x000033, 0x000032, 0x000004 */
	0x00, 0x00, 0x33, 0x00, 0x00, 0x32, 0x00, 0x00, 0x04,
	/* 0x000005, 0x00002f, 0x000016 */
	0x00, 0x00, 0x05, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x16,
	/* 0x000013, 0x00feff, 0x00000a */
	0x00, 0x00, 0x13, 0x00, 0xfe, 0xff, 0x00, 0x00, 0x0a,
	/* 0x000015, 0x000012, 0x00fefe */
	0x00, 0x00, 0x15, 0x00, 0x00, 0x12, 0x00, 0xfe, 0xfe,
	/* 0x000009, 0x000064, 0x000062 */
	0x00, 0x00, 0x09, 0x00, 0x00, 0x64, 0x00, 0x00, 0x62,
	0x00, 0x00, 0x03, 0x00, 0x00, 0x06,	/* 0x000003, 0x000006 */
	0xe6, 0xb8, 0xef, 0xdf, 0x91, 0xcf, 0x44, 0xf7,	/* challenge */
	0xea, 0xe4, 0x3c, 0x83, 0x39, 0x8f, 0xdc, 0xb2,
};
static const struct len_field v2_zeek_v3_lens[] = {
	{ 0, 2, 0x8055 },	/* record length, top bit set */
	{ 5, 2, 60 },	/* cipher_specs */
	{ 7, 2, 0 },	/* session_id */
	{ 9, 2, 16 },	/* challenge */
};

/* A fallback probe in SSLv2 format, with a session id. */
static const uint8_t v2_fallback[] = {
	0x80, 0x42,			/* SSLv2 header: length 66 */
	0x01,				/* CLIENT-HELLO */
	0x03, 0x02,			/* version TLS 1.1 */
	0x00, 0x09,			/* cipher_specs length 9 */
	0x00, 0x10,			/* session_id length 16 */
	0x00, 0x20,			/* challenge length 32 */
	/* 0x000035, 0x005600, 0x0000ff */
	0x00, 0x00, 0x35, 0x00, 0x56, 0x00, 0x00, 0x00, 0xff,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,	/* session_id */
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,	/* challenge */
	0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
};
static const struct len_field v2_fallback_lens[] = {
	{ 0, 2, 0x8042 },	/* record length, top bit set */
	{ 5, 2, 9 },	/* cipher_specs */
	{ 7, 2, 16 },	/* session_id */
	{ 9, 2, 32 },	/* challenge */
};

struct v2_case {
	const char *name;
	const uint8_t *rec;
	size_t rec_len;
	const struct len_field *lens;
	size_t n_lens;
	uint16_t version;
	const uint32_t *ciphers;
	size_t n_ciphers;
	bool fallback_scsv;
};

static const struct v2_case v2_good[] = {
	{
		.name = "SSLv2: SSL 2.0 CLIENT-HELLO (FlowTest)",
		VECTOR(v2_cesnet),
		.version = 0x0002,
		LIST(ciphers, uint32_t, 0x0700c0, 0x050080, 0x030080, 0x010080,
		     0x080080, 0x060040, 0x040080, 0x020080),
	},
	{
		.name = "SSLv2: TLS 1.0 hello in SSLv2 format (zeek)",
		VECTOR(v2_zeek_v3),
		.version = 0x0301,
		LIST(ciphers, uint32_t, 0x000039, 0x000038, 0x000035, 0x000033,
		     0x000032, 0x000004, 0x000005, 0x00002f, 0x000016,
		     0x000013, 0x00feff, 0x00000a, 0x000015, 0x000012,
		     0x00fefe, 0x000009, 0x000064, 0x000062, 0x000003,
		     0x000006),
	},
	{
		.name = "SSLv2: TLS 1.1 fallback probe with session id",
		VECTOR(v2_fallback),
		.version = 0x0302,
		LIST(ciphers, uint32_t, 0x000035, 0x005600, 0x0000ff),
		.fallback_scsv = true,
	},
};

static int parse_v2(const uint8_t *rec, size_t len)
{
	struct tls_client_hello ch;

	return tls_parse_sslv2_client_hello(rec, len, &ch);
}

static void test_v2_good(void **state)
{
	const struct v2_case *t = *state;
	struct tls_client_hello ch;
	uint32_t rec_len;
	size_t n;

	assert_int_equal(tls_sniff(t->rec, t->rec_len), SNIFF_SSLV2);
	assert_int_equal(tls_sslv2_record_len(t->rec, t->rec_len, &rec_len),
			 TLS_OK);
	assert_int_equal(rec_len, t->rec_len);
	assert_int_equal(tls_sslv2_msg_type(t->rec, t->rec_len), 1);
	assert_int_equal(tls_parse_sslv2_client_hello(t->rec, t->rec_len, &ch),
			 TLS_OK);

	assert_true(ch.sslv2_format);
	assert_int_equal(ch.record_version, 0);
	assert_int_equal(ch.legacy_version, t->version);
	assert_int_equal(ch.version, t->version);
	assert_int_equal(ch.cipher_width, 3);
	expect_list(ch.ciphers, ch.n_ciphers, t->ciphers, t->n_ciphers);
	assert_int_equal(ch.total_ciphers, t->n_ciphers);
	assert_int_equal(ch.fallback_scsv, t->fallback_scsv);
	assert_int_equal(ch.n_compression, 0);
	assert_false(ch.has_extensions);
	assert_int_equal(ch.n_extensions, 0);
	assert_false(ch.has_supported_versions);
	assert_false(ch.has_sni);
	assert_false(ch.has_alpn);

	/* Unlike a TLS body, an SSLv2 record comes with its own length, so
	 * a cut one is a valid prefix. A TLS record parser refuses it at
	 * once. */
	for (n = 0; n < t->rec_len; n++) {
		uint8_t *b = dup_bytes(t->rec, n);
		struct tls_record_header h;

		if (parse_v2(b, n) != TLS_NEED_MORE)
			fail_msg("record cut at %zu not NEED_MORE", n);
		assert_int_equal(tls_sniff(b, n),
				 n < 5 ? SNIFF_NEED_MORE : SNIFF_SSLV2);
		assert_int_equal(tls_parse_record_header(b, n, &h),
				 n ? TLS_MALFORMED : TLS_NEED_MORE);
		free(b);
	}
	check_len_fields(t->rec, t->rec_len, t->lens, t->n_lens, parse_v2);
}

/* ---- Bad vectors ---- */

struct bad_case {
	const char *name;
	const uint8_t *b;
	size_t len;
	int want;
};

#define BAD(n, w, ...)							\
	{ .name = n, .want = w, .b = (const uint8_t[]){ __VA_ARGS__ },	\
	  .len = sizeof((const uint8_t[]){ __VA_ARGS__ }) }

/* The start of the bad ClientHello bodies: everything up to the
 * extensions block. */
#define CH_HEAD								\
	0x03, 0x03,		/* legacy_version TLS 1.2 */		\
	RANDOM32,		/* random */				\
	0x00,			/* session_id length 0 */		\
	0x00, 0x02,		/* cipher_suites length 2 */		\
	0x13, 0x01,		/* TLS_AES_128_GCM_SHA256 */		\
	0x01, 0x00		/* compression_methods: null */

/* ClientHello bodies, each malformed. */
static const struct bad_case ch_bad[] = {
	BAD("ClientHello: legacy_version cut", TLS_MALFORMED,
	    0x03),
	BAD("ClientHello: random cut", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    0x00, 0x01, 0x02, 0x03),	/* 4 of 32 random bytes */
	BAD("ClientHello: session_id of 33 bytes", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x21,			/* session_id length 33 */
	    RANDOM32, 0x20,		/* session_id */
	    0x00, 0x02, 0x13, 0x01,	/* cipher_suites */
	    0x01, 0x00),		/* compression_methods */
	BAD("ClientHello: session_id past the end", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x20,			/* session_id length 32 */
	    0x00, 0x02, 0x13, 0x01),	/* 4 bytes */
	BAD("ClientHello: odd cipher_suites length", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x00, 0x03,			/* cipher_suites length 3 */
	    0x13, 0x01, 0x00,		/* a suite and a half */
	    0x01, 0x00),		/* compression_methods */
	BAD("ClientHello: no cipher suites", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x00, 0x00,			/* cipher_suites length 0 */
	    0x01, 0x00),		/* compression_methods */
	BAD("ClientHello: cipher_suites past the end", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x00, 0x04,			/* cipher_suites length 4 */
	    0x13, 0x01),		/* 2 bytes */
	BAD("ClientHello: no compression methods", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x00, 0x02, 0x13, 0x01,	/* cipher_suites */
	    0x00),			/* compression_methods length 0 */
	BAD("ClientHello: compression methods missing", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x00, 0x02, 0x13, 0x01),	/* cipher_suites, then nothing */
	BAD("ClientHello: a stray byte after compression", TLS_MALFORMED,
	    CH_HEAD,
	    0x00),			/* half an extensions length */
	BAD("ClientHello: extensions length one too long", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x05,			/* extensions length 5 */
	    0x00, 0x17, 0x00, 0x00),	/* extended_master_secret */
	BAD("ClientHello: extensions length one too short", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x03,			/* extensions length 3 */
	    0x00, 0x17, 0x00, 0x00),	/* extended_master_secret */
	BAD("ClientHello: a byte after the extensions block", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x00,			/* extensions length 0 */
	    0x00),			/* trailing byte */
	BAD("ClientHello: extension header cut", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x03,			/* extensions length 3 */
	    0x00, 0x17, 0x00),		/* type, half a length */
	BAD("ClientHello: extension past the block", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x04,			/* extensions length 4 */
	    0x00, 0x17, 0x00, 0x01),	/* type 23, length 1, no data */
	BAD("ClientHello: duplicate extension", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x00, 0x17, 0x00, 0x00,	/* extended_master_secret */
	    0x00, 0x17, 0x00, 0x00),	/* extended_master_secret again */
	BAD("ClientHello: duplicate GREASE extension", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x0a, 0x0a, 0x00, 0x00,	/* GREASE */
	    0x0a, 0x0a, 0x00, 0x00),	/* the same GREASE */
	BAD("ClientHello: duplicate extension, apart", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x0c,			/* extensions length 12 */
	    0xff, 0xff, 0x00, 0x00,	/* type 65535 */
	    0x00, 0x23, 0x00, 0x00,	/* session_ticket */
	    0xff, 0xff, 0x00, 0x00),	/* type 65535 again */
	BAD("ClientHello: empty server_name", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x04,			/* extensions length 4 */
	    0x00, 0x00, 0x00, 0x00),	/* server_name, length 0 */
	BAD("ClientHello: empty server_name_list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x06,			/* extensions length 6 */
	    0x00, 0x00, 0x00, 0x02,	/* server_name, length 2 */
	    0x00, 0x00),		/* server_name_list length 0 */
	BAD("ClientHello: server_name_list shorter than extension",
	    TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x0b,			/* extensions length 11 */
	    0x00, 0x00, 0x00, 0x07,	/* server_name, length 7 */
	    0x00, 0x04,			/* server_name_list length 4 */
	    0x00, 0x00, 0x01, 0x61,	/* host_name "a" */
	    0x00),			/* trailing byte */
	BAD("ClientHello: empty host_name", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x09,			/* extensions length 9 */
	    0x00, 0x00, 0x00, 0x05,	/* server_name, length 5 */
	    0x00, 0x03,			/* server_name_list length 3 */
	    0x00, 0x00, 0x00),		/* host_name, length 0 */
	BAD("ClientHello: host_name past the list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x0a,			/* extensions length 10 */
	    0x00, 0x00, 0x00, 0x06,	/* server_name, length 6 */
	    0x00, 0x04,			/* server_name_list length 4 */
	    0x00, 0x00, 0x05, 0x61),	/* host_name length 5, 1 byte */
	BAD("ClientHello: empty ALPN list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x06,			/* extensions length 6 */
	    0x00, 0x10, 0x00, 0x02,	/* ALPN, length 2 */
	    0x00, 0x00),		/* protocol_name_list length 0 */
	BAD("ClientHello: empty ALPN protocol name", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x07,			/* extensions length 7 */
	    0x00, 0x10, 0x00, 0x03,	/* ALPN, length 3 */
	    0x00, 0x01,			/* protocol_name_list length 1 */
	    0x00),			/* name length 0 */
	BAD("ClientHello: ALPN name past the list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x00, 0x10, 0x00, 0x04,	/* ALPN, length 4 */
	    0x00, 0x02,			/* protocol_name_list length 2 */
	    0x05, 0x68),		/* name length 5, 1 byte */
	BAD("ClientHello: ALPN list shorter than extension", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x09,			/* extensions length 9 */
	    0x00, 0x10, 0x00, 0x05,	/* ALPN, length 5 */
	    0x00, 0x02,			/* protocol_name_list length 2 */
	    0x01, 0x68,			/* "h" */
	    0x00),			/* trailing byte */
	BAD("ClientHello: odd supported_versions list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x00, 0x2b, 0x00, 0x04,	/* supported_versions, length 4 */
	    0x03,			/* versions length 3 */
	    0x03, 0x04, 0x03),		/* TLS 1.3 and a half */
	BAD("ClientHello: empty supported_versions list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x05,			/* extensions length 5 */
	    0x00, 0x2b, 0x00, 0x01,	/* supported_versions, length 1 */
	    0x00),			/* versions length 0 */
	BAD("ClientHello: empty supported_versions", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x04,			/* extensions length 4 */
	    0x00, 0x2b, 0x00, 0x00),	/* supported_versions, length 0 */
	BAD("ClientHello: supported_versions shorter than extension",
	    TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x09,			/* extensions length 9 */
	    0x00, 0x2b, 0x00, 0x05,	/* supported_versions, length 5 */
	    0x02,			/* versions length 2 */
	    0x03, 0x04,			/* TLS 1.3 */
	    0x03, 0x03),		/* outside the list */
	BAD("ClientHello: odd supported_groups list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x09,			/* extensions length 9 */
	    0x00, 0x0a, 0x00, 0x05,	/* supported_groups, length 5 */
	    0x00, 0x03,			/* list length 3 */
	    0x00, 0x1d, 0x00),		/* x25519 and a half */
	BAD("ClientHello: empty signature_algorithms list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x06,			/* extensions length 6 */
	    0x00, 0x0d, 0x00, 0x02,	/* signature_algorithms, length 2 */
	    0x00, 0x00),		/* list length 0 */
	BAD("ClientHello: empty ec_point_formats list", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x05,			/* extensions length 5 */
	    0x00, 0x0b, 0x00, 0x01,	/* ec_point_formats, length 1 */
	    0x00),			/* list length 0 */
	BAD("ClientHello: early_data with a body", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x00, 0x2a, 0x00, 0x04,	/* early_data, length 4 */
	    0x00, 0x00, 0x40, 0x00),	/* max_early_data_size */
	BAD("ClientHello: key_share with an empty key", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x0a,			/* extensions length 10 */
	    0x00, 0x33, 0x00, 0x06,	/* key_share, length 6 */
	    0x00, 0x04,			/* client_shares length 4 */
	    0x00, 0x1d, 0x00, 0x00),	/* x25519, key length 0 */
	BAD("ClientHello: key_share entry cut", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x09,			/* extensions length 9 */
	    0x00, 0x33, 0x00, 0x05,	/* key_share, length 5 */
	    0x00, 0x03,			/* client_shares length 3 */
	    0x00, 0x1d, 0x00),		/* x25519, half a length */
	BAD("ClientHello: pre_shared_key binder too short", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x11,			/* extensions length 17 */
	    0x00, 0x29, 0x00, 0x0d,	/* pre_shared_key, length 13 */
	    0x00, 0x07,			/* identities length 7 */
	    0x00, 0x01, 0x61,		/* identity "a" */
	    0x00, 0x00, 0x00, 0x00,	/* obfuscated_ticket_age */
	    0x00, 0x02,			/* binders length 2 */
	    0x01, 0x00),		/* a 1-byte binder */
	BAD("ClientHello: pre_shared_key without binders", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x0d,			/* extensions length 13 */
	    0x00, 0x29, 0x00, 0x09,	/* pre_shared_key, length 9 */
	    0x00, 0x07,			/* identities length 7 */
	    0x00, 0x01, 0x61,		/* identity "a" */
	    0x00, 0x00, 0x00, 0x00),	/* obfuscated_ticket_age */
	BAD("ClientHello: pre_shared_key empty identity", TLS_MALFORMED,
	    CH_HEAD,
	    0x00, 0x2f,			/* extensions length 47 */
	    0x00, 0x29, 0x00, 0x2b,	/* pre_shared_key, length 43 */
	    0x00, 0x06,			/* identities length 6 */
	    0x00, 0x00,			/* identity length 0 */
	    0x00, 0x00, 0x00, 0x00,	/* obfuscated_ticket_age */
	    0x00, 0x21,			/* binders length 33 */
	    0x20, RANDOM32),		/* a 32-byte binder */
};

static void test_ch_bad(void **state)
{
	const struct bad_case *t = *state;
	uint8_t *b = dup_bytes(t->b, t->len);

	assert_int_equal(parse_ch(b, t->len), t->want);
	free(b);
}

/* The start of the bad ServerHello bodies. */
#define SH_HEAD								\
	0x03, 0x03,		/* legacy_version TLS 1.2 */		\
	RANDOM32,		/* random */				\
	0x00,			/* session_id length 0 */		\
	0x13, 0x01,		/* cipher_suite */			\
	0x00			/* compression_method null */

static const struct bad_case sh_bad[] = {
	BAD("ServerHello: random cut", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    0xcf, 0x21, 0xad, 0x74),	/* 4 of 32 random bytes */
	BAD("ServerHello: session_id of 33 bytes", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x21,			/* session_id length 33 */
	    RANDOM32, 0x20,		/* session_id */
	    0x13, 0x01, 0x00),		/* cipher_suite, compression */
	BAD("ServerHello: no compression method", TLS_MALFORMED,
	    0x03, 0x03,			/* legacy_version */
	    RANDOM32,			/* random */
	    0x00,			/* session_id length 0 */
	    0x13, 0x01),		/* cipher_suite, then nothing */
	BAD("ServerHello: a stray byte after compression", TLS_MALFORMED,
	    SH_HEAD,
	    0x00),			/* half an extensions length */
	BAD("ServerHello: supported_versions of 3 bytes", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x07,			/* extensions length 7 */
	    0x00, 0x2b, 0x00, 0x03,	/* supported_versions, length 3 */
	    0x03, 0x04, 0x00),		/* TLS 1.3 and a byte */
	BAD("ServerHello: supported_versions of 1 byte", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x05,			/* extensions length 5 */
	    0x00, 0x2b, 0x00, 0x01,	/* supported_versions, length 1 */
	    0x03),			/* half a version */
	BAD("ServerHello: ALPN with two protocols", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x0c,			/* extensions length 12 */
	    0x00, 0x10, 0x00, 0x08,	/* ALPN, length 8 */
	    0x00, 0x06,			/* protocol_name_list length 6 */
	    0x02, 0x68, 0x32,		/* "h2" */
	    0x02, 0x68, 0x33),		/* "h3" */
	BAD("ServerHello: key_share with a group and no key", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x06,			/* extensions length 6 */
	    0x00, 0x33, 0x00, 0x02,	/* key_share, length 2 */
	    0x00, 0x1d),		/* group only: HelloRetryRequest form */
	BAD("ServerHello: key_share with an empty key", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x08,			/* extensions length 8 */
	    0x00, 0x33, 0x00, 0x04,	/* key_share, length 4 */
	    0x00, 0x1d, 0x00, 0x00),	/* group, key length 0 */
	BAD("ServerHello: key_share with a byte after the key", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x0a,			/* extensions length 10 */
	    0x00, 0x33, 0x00, 0x06,	/* key_share, length 6 */
	    0x00, 0x1d, 0x00, 0x01,	/* group, key length 1 */
	    0x11, 0x00),		/* key, stray byte */
	BAD("ServerHello: empty ALPN list", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x06,			/* extensions length 6 */
	    0x00, 0x10, 0x00, 0x02,	/* ALPN, length 2 */
	    0x00, 0x00),		/* protocol_name_list length 0 */
	BAD("ServerHello: duplicate extension", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x0c,			/* extensions length 12 */
	    0x00, 0x2b, 0x00, 0x02,	/* supported_versions, length 2 */
	    0x03, 0x04,			/* TLS 1.3 */
	    0x00, 0x2b, 0x00, 0x02,	/* supported_versions, length 2 */
	    0x03, 0x04),		/* TLS 1.3 again */
	BAD("ServerHello: extensions length one too long", TLS_MALFORMED,
	    SH_HEAD,
	    0x00, 0x05,			/* extensions length 5 */
	    0xff, 0x01, 0x00, 0x00),	/* renegotiation_info, length 0 */
	BAD("ServerHello: draft 18 cut in its cipher_suite", TLS_MALFORMED,
	    0x7f, 0x12,			/* legacy_version draft 18 */
	    RANDOM32,			/* random */
	    0x13),			/* half a cipher_suite */
};

static void test_sh_bad(void **state)
{
	const struct bad_case *t = *state;
	uint8_t *b = dup_bytes(t->b, t->len);

	assert_int_equal(parse_sh(b, t->len), t->want);
	free(b);
}

/* SSLv2 records; a cut one is NEED_MORE only while it can still become a
 * valid CLIENT-HELLO, so these are short where a field already fails. */
static const struct bad_case v2_bad[] = {
	BAD("SSLv2: top bit clear", TLS_MALFORMED,
	    0x00, 0x31),		/* 3-byte header form */
	BAD("SSLv2: record length 0", TLS_MALFORMED,
	    0x80, 0x00),		/* header: length 0 */
	BAD("SSLv2: SERVER-HELLO", TLS_MALFORMED,
	    0x83, 0xb4,			/* header: length 948 */
	    0x04),			/* SERVER-HELLO */
	BAD("SSLv2: cipher_specs length 0", TLS_MALFORMED,
	    0x80, 0x19,			/* header: length 25 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x00),		/* cipher_specs length 0 */
	BAD("SSLv2: cipher_specs length 4", TLS_MALFORMED,
	    0x80, 0x1d,			/* header: length 29 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x04),		/* cipher_specs length 4 */
	BAD("SSLv2: session_id length 5", TLS_MALFORMED,
	    0x80, 0x21,			/* header: length 33 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x03,			/* cipher_specs length 3 */
	    0x00, 0x05),		/* session_id length 5 */
	BAD("SSLv2: challenge length 15", TLS_MALFORMED,
	    0x80, 0x1b,			/* header: length 27 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x03,			/* cipher_specs length 3 */
	    0x00, 0x00,			/* session_id length 0 */
	    0x00, 0x0f),		/* challenge length 15 */
	BAD("SSLv2: challenge length 33", TLS_MALFORMED,
	    0x80, 0x2d,			/* header: length 45 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x03,			/* cipher_specs length 3 */
	    0x00, 0x00,			/* session_id length 0 */
	    0x00, 0x21),		/* challenge length 33 */
	BAD("SSLv2: fields longer than the record", TLS_MALFORMED,
	    0x80, 0x1b,			/* header: length 27 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x03,			/* cipher_specs length 3 */
	    0x00, 0x00,			/* session_id length 0 */
	    0x00, 0x10),		/* challenge length 16: 28 needed */
	BAD("SSLv2: cut in the challenge", TLS_NEED_MORE,
	    0x80, 0x1c,			/* header: length 28 */
	    0x01,			/* CLIENT-HELLO */
	    0x00, 0x02,			/* version SSL 2.0 */
	    0x00, 0x03,			/* cipher_specs length 3 */
	    0x00, 0x00,			/* session_id length 0 */
	    0x00, 0x10,			/* challenge length 16 */
	    0x01, 0x00, 0x80,		/* SSL_CK_RC4_128_WITH_MD5 */
	    0x00, 0x00),		/* 2 of 16 challenge bytes */
};

static void test_v2_bad(void **state)
{
	const struct bad_case *t = *state;
	uint8_t *b = dup_bytes(t->b, t->len);

	assert_int_equal(parse_v2(b, t->len), t->want);
	free(b);
}

/* ---- Record headers ---- */

struct record_case {
	const char *name;
	const uint8_t *b;
	size_t len;
	int want;
	uint8_t type;
	uint16_t version;
	uint16_t length;
};

#define REC(n, w, t, v, l, ...)						\
	{ .name = n, .want = w, .type = t, .version = v, .length = l,	\
	  .b = (const uint8_t[]){ __VA_ARGS__ },			\
	  .len = sizeof((const uint8_t[]){ __VA_ARGS__ }) }
#define REC_BAD(n, w, ...) REC(n, w, 0, 0, 0, __VA_ARGS__)

static const struct record_case records[] = {
	REC("record: handshake, TLS 1.0, 512", TLS_OK, 22, 0x0301, 512,
	    0x16, 0x03, 0x01, 0x02, 0x00),
	REC("record: alert, TLS 1.2, 2", TLS_OK, 21, 0x0303, 2,
	    0x15, 0x03, 0x03, 0x00, 0x02),
	REC("record: ChangeCipherSpec, 1", TLS_OK, 20, 0x0303, 1,
	    0x14, 0x03, 0x03, 0x00, 0x01),
	REC("record: empty application data", TLS_OK, 23, 0x0301, 0,
	    0x17, 0x03, 0x01, 0x00, 0x00),
	REC("record: heartbeat, TLS 1.1", TLS_OK, 24, 0x0302, 19,
	    0x18, 0x03, 0x02, 0x00, 0x13),
	REC("record: SSL 3.0", TLS_OK, 22, 0x0300, 42,
	    0x16, 0x03, 0x00, 0x00, 0x2a),
	REC("record: version 0x0304", TLS_OK, 23, 0x0304, 19,
	    0x17, 0x03, 0x04, 0x00, 0x13),
	REC("record: largest length", TLS_OK, 23, 0x0303, 18432,
	    0x17, 0x03, 0x03, 0x48, 0x00),
	REC("record: more bytes after the header", TLS_OK, 21, 0x0303, 2,
	    0x15, 0x03, 0x03, 0x00, 0x02,	/* header */
	    0x02, 0x28),			/* fatal handshake_failure */
	REC_BAD("record: type only", TLS_NEED_MORE,
		0x16),
	REC_BAD("record: type and major", TLS_NEED_MORE,
		0x16, 0x03),
	REC_BAD("record: no length", TLS_NEED_MORE,
		0x16, 0x03, 0x01),
	REC_BAD("record: half a length", TLS_NEED_MORE,
		0x16, 0x03, 0x01, 0x02),
	REC_BAD("record: 'G' is no content type", TLS_MALFORMED,
		0x47),
	REC_BAD("record: type 19", TLS_MALFORMED,
		0x13),
	REC_BAD("record: type 25", TLS_MALFORMED,
		0x19),
	REC_BAD("record: SSLv2 header", TLS_MALFORMED,
		0x80),
	REC_BAD("record: major version 2", TLS_MALFORMED,
		0x16, 0x02),
	REC_BAD("record: major version 4", TLS_MALFORMED,
		0x16, 0x04),
	REC_BAD("record: minor version 5", TLS_MALFORMED,
		0x16, 0x03, 0x05),
	REC_BAD("record: DTLS version", TLS_MALFORMED,
		0x16, 0xfe, 0xfd),
	REC_BAD("record: length high byte too big", TLS_MALFORMED,
		0x17, 0x03, 0x03, 0x49),
	REC_BAD("record: length one past the limit", TLS_MALFORMED,
		0x17, 0x03, 0x03, 0x48, 0x01),
	REC_BAD("record: empty handshake", TLS_MALFORMED,
		0x16, 0x03, 0x01, 0x00, 0x00),
	REC_BAD("record: empty alert", TLS_MALFORMED,
		0x15, 0x03, 0x03, 0x00, 0x00),
	REC_BAD("record: empty ChangeCipherSpec", TLS_MALFORMED,
		0x14, 0x03, 0x03, 0x00, 0x00),
};

static void test_record(void **state)
{
	const struct record_case *t = *state;
	struct tls_record_header h = { 0 };
	uint8_t *b = dup_bytes(t->b, t->len);

	assert_int_equal(tls_parse_record_header(b, t->len, &h), t->want);
	if (t->want == TLS_OK) {
		assert_int_equal(h.type, t->type);
		assert_int_equal(h.version, t->version);
		assert_int_equal(h.length, t->length);
	}
	free(b);
}

/* ---- Sniffing ---- */

struct sniff_case {
	const char *name;
	const char *b;
	size_t len;
	enum tls_sniff want;
};

#define SNIFF(n, s, w) { .name = n, .b = s, .len = sizeof(s) - 1, .want = w }

static const struct sniff_case sniffs[] = {
	SNIFF("sniff: nothing yet", "", SNIFF_NEED_MORE),
	SNIFF("sniff: handshake type byte", "\x16", SNIFF_NEED_MORE),
	SNIFF("sniff: handshake, major 3", "\x16\x03", SNIFF_NEED_MORE),
	SNIFF("sniff: TLS 1.0 handshake", "\x16\x03\x01", SNIFF_TLS),
	SNIFF("sniff: SSL 3.0 alert", "\x15\x03\x00", SNIFF_TLS),
	SNIFF("sniff: TLS 1.3 record version", "\x17\x03\x04", SNIFF_TLS),
	SNIFF("sniff: minor 5", "\x16\x03\x05", SNIFF_UNKNOWN),
	SNIFF("sniff: major 2", "\x16\x02", SNIFF_UNKNOWN),
	SNIFF("sniff: type 25", "\x19", SNIFF_UNKNOWN),
	SNIFF("sniff: SSLv2 header byte", "\x80", SNIFF_NEED_MORE),
	SNIFF("sniff: SSLv2 header", "\x80\x31", SNIFF_NEED_MORE),
	SNIFF("sniff: SSLv2 zero length", "\x80\x00", SNIFF_UNKNOWN),
	SNIFF("sniff: SSLv2 CLIENT-HELLO type", "\x80\x31\x01",
	      SNIFF_NEED_MORE),
	SNIFF("sniff: SSLv2 CLIENT-HELLO, half a version", "\x80\x31\x01\x00",
	      SNIFF_NEED_MORE),
	SNIFF("sniff: SSLv2 CLIENT-HELLO 2.0", "\x80\x31\x01\x00\x02",
	      SNIFF_SSLV2),
	SNIFF("sniff: SSLv2 CLIENT-HELLO TLS 1.0", "\x80\x55\x01\x03\x01",
	      SNIFF_SSLV2),
	SNIFF("sniff: SSLv2 CLIENT-HELLO TLS 1.3", "\x80\x55\x01\x03\x04",
	      SNIFF_SSLV2),
	SNIFF("sniff: SSLv2 CLIENT-HELLO version 0x0305",
	      "\x80\x55\x01\x03\x05", SNIFF_UNKNOWN),
	SNIFF("sniff: SSLv2 CLIENT-HELLO version 0x0003",
	      "\x80\x55\x01\x00\x03", SNIFF_UNKNOWN),
	SNIFF("sniff: SSLv2 CLIENT-HELLO version 0x01..", "\x80\x55\x01\x01",
	      SNIFF_UNKNOWN),
	SNIFF("sniff: SSLv2 SERVER-HELLO", "\x83\xb4\x04", SNIFF_SSLV2),
	SNIFF("sniff: SSLv2 CLIENT-MASTER-KEY", "\x80\x92\x02",
	      SNIFF_UNKNOWN),
	SNIFF("sniff: G", "G", SNIFF_NEED_MORE),
	SNIFF("sniff: GE", "GE", SNIFF_NEED_MORE),
	SNIFF("sniff: GET", "GET", SNIFF_NEED_MORE),
	SNIFF("sniff: GET space", "GET ", SNIFF_HTTP),
	SNIFF("sniff: GET /", "GET / HTTP/1.1\r\n", SNIFF_HTTP),
	SNIFF("sniff: GEX", "GEX", SNIFF_UNKNOWN),
	SNIFF("sniff: lower-case get", "get ", SNIFF_UNKNOWN),
	SNIFF("sniff: P", "P", SNIFF_NEED_MORE),
	SNIFF("sniff: POST", "POST", SNIFF_HTTP),
	SNIFF("sniff: PUT", "PUT", SNIFF_NEED_MORE),
	SNIFF("sniff: PUT space", "PUT ", SNIFF_HTTP),
	SNIFF("sniff: PATCH", "PATCH", SNIFF_HTTP),
	SNIFF("sniff: PR", "PR", SNIFF_NEED_MORE),
	SNIFF("sniff: PRO", "PRO", SNIFF_NEED_MORE),
	SNIFF("sniff: PROXY", "PROXY", SNIFF_NEED_MORE),
	SNIFF("sniff: PROXY v1", "PROXY TCP4 10.0.0.1 10.0.0.2 1 443\r\n",
	      SNIFF_PROXY),
	SNIFF("sniff: PRI", "PRI", SNIFF_NEED_MORE),
	SNIFF("sniff: HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	      SNIFF_HTTP),
	SNIFF("sniff: PRI not HTTP/2", "PRI * HTTP/1.1", SNIFF_UNKNOWN),
	SNIFF("sniff: PX", "PX", SNIFF_UNKNOWN),
	SNIFF("sniff: HE", "HE", SNIFF_NEED_MORE),
	SNIFF("sniff: HEAD", "HEAD", SNIFF_HTTP),
	SNIFF("sniff: HT", "HT", SNIFF_NEED_MORE),
	SNIFF("sniff: HTTP response", "HTTP/1.1 400 Bad Request", SNIFF_HTTP),
	SNIFF("sniff: HTTP/2 response line", "HTTP/2", SNIFF_UNKNOWN),
	SNIFF("sniff: OPTIONS", "OPTIONS * HTTP/1.1", SNIFF_HTTP),
	SNIFF("sniff: CONNECT", "CONNECT example.com:443", SNIFF_HTTP),
	SNIFF("sniff: DELETE", "DELETE", SNIFF_HTTP),
	SNIFF("sniff: S", "S", SNIFF_NEED_MORE),
	SNIFF("sniff: SSH", "SSH-2.0-OpenSSH_9.2", SNIFF_SSH),
	SNIFF("sniff: SM", "SM", SNIFF_UNKNOWN),
	SNIFF("sniff: SMTP EHLO", "EHLO", SNIFF_UNKNOWN),
	SNIFF("sniff: PROXY v2 start", "\r\n\r\n", SNIFF_NEED_MORE),
	SNIFF("sniff: PROXY v2 signature",
	      "\r\n\r\n\0\r\nQUIT\n", SNIFF_PROXY),
	SNIFF("sniff: PROXY v2 header", "\r\n\r\n\0\r\nQUIT\n\x21\x11",
	      SNIFF_PROXY),
	SNIFF("sniff: CRLF CRLF then text", "\r\n\r\nX", SNIFF_UNKNOWN),
	SNIFF("sniff: NUL", "\0", SNIFF_UNKNOWN),
};

static void test_sniff(void **state)
{
	const struct sniff_case *t = *state;
	uint8_t *b = dup_bytes((const uint8_t *)t->b, t->len);
	uint8_t padded[TLS_SNIFF_MAX_LEN];

	assert_int_equal(tls_sniff(b, t->len), t->want);
	free(b);

	/* Whatever follows, TLS_SNIFF_MAX_LEN bytes are enough to decide. */
	memset(padded, 'X', sizeof(padded));
	memcpy(padded, t->b, t->len < sizeof(padded) ? t->len : sizeof(padded));
	assert_int_not_equal(tls_sniff(padded, sizeof(padded)),
			     SNIFF_NEED_MORE);
}

/* ---- Counts beyond what is kept ---- */

/* legacy_version TLS 1.2, a zero random and no session_id. */
static void ch_start(struct builder *w)
{
	int i;

	put16(w, 0x0303);
	for (i = 0; i < 32; i++)
		put8(w, 0);
	put8(w, 0);
}

/* One suite, null compression, and opens the extensions block. */
static size_t ch_rest(struct builder *w)
{
	put16(w, 2);
	put16(w, 0x1301);
	put8(w, 1);
	put8(w, 0);
	return open_vec(w, 2);
}

static void test_many_ciphers(void **state)
{
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	size_t at;
	unsigned i;

	(void)state;
	ch_start(&w);
	at = open_vec(&w, 2);
	for (i = 1; i < 300; i++)
		put16(&w, i);
	put16(&w, TLS_CIPHER_FALLBACK_SCSV);	/* the 300th, not kept */
	close_vec(&w, at, 2);
	put8(&w, 1);
	put8(&w, 0);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_int_equal(ch.n_ciphers, TLS_MAX_CIPHERS);
	assert_int_equal(ch.total_ciphers, 300);
	assert_int_equal(ch.ciphers[0], 1);
	assert_int_equal(ch.ciphers[TLS_MAX_CIPHERS - 1], TLS_MAX_CIPHERS);
	assert_true(ch.fallback_scsv);
	assert_false(ch.has_extensions);
}

static void test_many_extensions(void **state)
{
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	size_t block;
	unsigned i;

	(void)state;
	ch_start(&w);
	block = ch_rest(&w);
	for (i = 0; i < TLS_MAX_EXTENSIONS + 6; i++) {
		put16(&w, 1000 + i);
		put16(&w, 0);
	}
	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_int_equal(ch.n_extensions, TLS_MAX_EXTENSIONS);
	assert_int_equal(ch.total_extensions, TLS_MAX_EXTENSIONS + 6);
	assert_int_equal(ch.extensions[TLS_MAX_EXTENSIONS - 1],
			 1000 + TLS_MAX_EXTENSIONS - 1);
}

/* Types at the edges of the duplicate bitmap's words are told apart, and
 * a repeat is caught wherever it is. */
static void test_extension_types(void **state)
{
	static const uint16_t types[] = { 0x003f, 0x0040, 0x1000, 0xfffe,
					  0xffff, 0x0041 };
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	size_t block, i;

	(void)state;
	ch_start(&w);
	block = ch_rest(&w);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		put16(&w, types[i]);
		put16(&w, 0);
	}
	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	expect_list(ch.extensions, ch.n_extensions, types, ARRAY_SIZE(types));

	put16(&w, 0xffff);
	put16(&w, 0);
	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch),
			 TLS_MALFORMED);
}

static void test_many_alpn(void **state)
{
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	size_t block, ext, list;
	unsigned i;

	(void)state;
	ch_start(&w);
	block = ch_rest(&w);
	put16(&w, 16);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 2);
	put8(&w, 40);
	for (i = 0; i < 40; i++)
		put8(&w, 'a' + i % 26);
	for (i = 1; i < 300; i++) {
		put8(&w, 1);
		put8(&w, 'b');
	}
	close_vec(&w, list, 2);
	close_vec(&w, ext, 2);
	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_true(ch.has_alpn);
	assert_int_equal(ch.alpn.n, TLS_MAX_ALPN);
	assert_int_equal(ch.alpn.total, 255);	/* 300, saturated */
	assert_int_equal(ch.alpn.len[0], TLS_MAX_ALPN_LEN);
	assert_memory_equal(ch.alpn.name[0], "abcdefghijklmnopqrstuvwxyzabcdef",
			    TLS_MAX_ALPN_LEN);
	assert_int_equal(ch.alpn.last[0], 'a' + 39 % 26);	/* cut, kept */
	assert_int_equal(ch.alpn.last[TLS_MAX_ALPN - 1], 'b');
	assert_int_equal(ch.alpn.len[TLS_MAX_ALPN - 1], 1);
	assert_int_equal(ch.alpn.name[TLS_MAX_ALPN - 1][0], 'b');
}

static void sni_of_length(size_t n, struct tls_client_hello *ch)
{
	struct builder w = { .len = 0 };
	size_t block, ext, list, i;

	ch_start(&w);
	block = ch_rest(&w);
	put16(&w, 0);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 2);
	put8(&w, 0);
	put16(&w, n);
	for (i = 0; i < n; i++)
		put8(&w, 'a' + i % 26);
	close_vec(&w, list, 2);
	close_vec(&w, ext, 2);
	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, ch), TLS_OK);
	assert_true(ch->has_sni);
	for (i = 0; i < ch->sni_len; i++)
		assert_int_equal(ch->sni[i], 'a' + i % 26);
}

static void test_long_sni(void **state)
{
	struct tls_client_hello ch;

	(void)state;
	sni_of_length(TLS_MAX_SNI, &ch);
	assert_int_equal(ch.sni_len, TLS_MAX_SNI);
	assert_false(ch.sni_truncated);
	sni_of_length(300, &ch);
	assert_int_equal(ch.sni_len, TLS_MAX_SNI);
	assert_true(ch.sni_truncated);
}

/* supported_versions, groups, signature algorithms and point formats
 * beyond their limits; the version comes from all entries, not the kept
 * ones, and GREASE 0xfafa, though numerically largest, is not it. */
static void test_many_list_entries(void **state)
{
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	size_t block, ext, list;
	unsigned i;

	(void)state;
	ch_start(&w);
	block = ch_rest(&w);

	put16(&w, 43);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 1);
	put16(&w, 0x0a0a);
	for (i = 1; i < 18; i++)
		put16(&w, 0x0301);
	put16(&w, 0xfafa);
	put16(&w, 0x0304);
	close_vec(&w, list, 1);
	close_vec(&w, ext, 2);

	put16(&w, 10);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 2);
	for (i = 0; i < TLS_MAX_GROUPS + 8; i++)
		put16(&w, 0x0100 + i);
	close_vec(&w, list, 2);
	close_vec(&w, ext, 2);

	put16(&w, 13);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 2);
	for (i = 0; i < TLS_MAX_SIGALGS + 8; i++)
		put16(&w, 0x0800 + i);
	close_vec(&w, list, 2);
	close_vec(&w, ext, 2);

	put16(&w, 11);
	ext = open_vec(&w, 2);
	list = open_vec(&w, 1);
	for (i = 0; i < 10; i++)
		put8(&w, i);
	close_vec(&w, list, 1);
	close_vec(&w, ext, 2);

	close_vec(&w, block, 2);
	assert_int_equal(tls_parse_client_hello(w.b, w.len, &ch), TLS_OK);
	assert_int_equal(ch.n_versions, TLS_MAX_VERSIONS);
	assert_int_equal(ch.versions[0], 0x0a0a);
	assert_int_equal(ch.versions[TLS_MAX_VERSIONS - 1], 0x0301);
	assert_int_equal(ch.version, 0x0304);
	assert_int_equal(ch.n_groups, TLS_MAX_GROUPS);
	assert_int_equal(ch.total_groups, TLS_MAX_GROUPS + 8);
	assert_int_equal(ch.groups[TLS_MAX_GROUPS - 1],
			 0x0100 + TLS_MAX_GROUPS - 1);
	assert_int_equal(ch.n_sigalgs, TLS_MAX_SIGALGS);
	assert_int_equal(ch.total_sigalgs, TLS_MAX_SIGALGS + 8);
	assert_int_equal(ch.sigalgs[TLS_MAX_SIGALGS - 1],
			 0x0800 + TLS_MAX_SIGALGS - 1);
	assert_int_equal(ch.n_point_formats, TLS_MAX_POINT_FORMATS);
	assert_int_equal(ch.total_point_formats, 10);
	assert_int_equal(ch.point_formats[TLS_MAX_POINT_FORMATS - 1], 7);
}

static void test_sslv2_many_specs(void **state)
{
	struct builder w = { .len = 0 };
	struct tls_client_hello ch;
	unsigned i, body = 9 + 300 * 3 + 16;

	(void)state;
	put8(&w, 0x80 | body >> 8);
	put8(&w, body);
	put8(&w, 1);			/* CLIENT-HELLO */
	put16(&w, 0x0301);		/* version */
	put16(&w, 300 * 3);		/* cipher_specs length */
	put16(&w, 0);			/* session_id length */
	put16(&w, 16);			/* challenge length */
	for (i = 1; i < 300; i++) {
		put8(&w, 0);
		put16(&w, i);
	}
	put8(&w, 0);
	put16(&w, TLS_CIPHER_FALLBACK_SCSV);
	for (i = 0; i < 16; i++)
		put8(&w, i);
	assert_int_equal(tls_parse_sslv2_client_hello(w.b, w.len, &ch),
			 TLS_OK);
	assert_int_equal(ch.n_ciphers, TLS_MAX_CIPHERS);
	assert_int_equal(ch.total_ciphers, 300);
	assert_int_equal(ch.ciphers[TLS_MAX_CIPHERS - 1], TLS_MAX_CIPHERS);
	assert_true(ch.fallback_scsv);
}

/* ---- Smaller pieces ---- */

static void test_handshake_header(void **state)
{
	static const uint8_t hs[] = {
		0x01,			/* ClientHello */
		0x00, 0x01, 0xfc,	/* length 508 */
	};
	static const uint8_t big[] = {
		0x0b,			/* Certificate */
		0xff, 0xff, 0xff,	/* length 2^24 - 1 */
	};
	uint32_t len;
	uint8_t type;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(hs); n++)
		assert_int_equal(tls_parse_handshake_header(hs, n, &type, &len),
				 TLS_NEED_MORE);
	assert_int_equal(tls_parse_handshake_header(hs, sizeof(hs), &type,
						    &len), TLS_OK);
	assert_int_equal(type, TLS_HS_CLIENT_HELLO);
	assert_int_equal(len, 508);
	assert_int_equal(tls_parse_handshake_header(big, sizeof(big), &type,
						    &len), TLS_OK);
	assert_int_equal(type, TLS_HS_CERTIFICATE);
	assert_int_equal(len, 0xffffff);
}

static void test_sslv2_record_len(void **state)
{
	static const uint8_t largest[] = { 0xff, 0xff };
	static const uint8_t hello[] = { 0x80, 0x31, 0x01 };
	static const uint8_t tls[] = { 0x16, 0x03 };
	uint32_t len = 0;

	(void)state;
	assert_int_equal(tls_sslv2_record_len(hello, 0, &len), TLS_NEED_MORE);
	assert_int_equal(tls_sslv2_record_len(hello, 1, &len), TLS_NEED_MORE);
	assert_int_equal(tls_sslv2_record_len(hello, 2, &len), TLS_OK);
	assert_int_equal(len, 51);
	assert_int_equal(tls_sslv2_record_len(largest, 2, &len), TLS_OK);
	assert_int_equal(len, 0x7fff + 2);
	assert_int_equal(tls_sslv2_record_len(tls, 1, &len), TLS_MALFORMED);

	assert_int_equal(tls_sslv2_msg_type(hello, 3), 1);
	assert_int_equal(tls_sslv2_msg_type(hello, 2), -1);
	assert_int_equal(tls_sslv2_msg_type(tls, 2), -1);
	assert_int_equal(tls_sslv2_msg_type((const uint8_t[]){ 0x83, 0xb4, 4 },
					    3), 4);
	assert_int_equal(tls_sslv2_msg_type((const uint8_t[]){ 0x80, 0x00, 1 },
					    3), -1);
}

/* No bytes at all: whatever may still come, nothing is decided. */
static void test_empty_input(void **state)
{
	static const uint8_t none[1];
	struct tls_client_hello ch;
	struct tls_server_hello sh;
	struct tls_record_header h;
	uint32_t u;
	uint8_t type;

	(void)state;
	assert_int_equal(tls_parse_record_header(none, 0, &h), TLS_NEED_MORE);
	assert_int_equal(tls_parse_handshake_header(none, 0, &type, &u),
			 TLS_NEED_MORE);
	assert_int_equal(tls_parse_client_hello(none, 0, &ch), TLS_MALFORMED);
	assert_int_equal(tls_parse_server_hello(none, 0, &sh), TLS_MALFORMED);
	assert_int_equal(tls_sslv2_record_len(none, 0, &u), TLS_NEED_MORE);
	assert_int_equal(tls_parse_sslv2_client_hello(none, 0, &ch),
			 TLS_NEED_MORE);
	assert_int_equal(tls_sslv2_msg_type(none, 0), -1);
	assert_int_equal(tls_sniff(none, 0), SNIFF_NEED_MORE);
}

static void test_grease(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < 16; i++)
		assert_true(tls_is_grease((uint16_t)(i << 12 | 0x0a00 |
						     i << 4 | 0x0a)));
	assert_false(tls_is_grease(0x0a1a));
	assert_false(tls_is_grease(0x1a0a));
	assert_false(tls_is_grease(0x0a0b));
	assert_false(tls_is_grease(0x0b0b));
	assert_false(tls_is_grease(0x0000));
	assert_false(tls_is_grease(TLS_V_TLS13));
}

static void test_version_str(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(tls_version_str(0x0002, buf), "SSL 2.0");
	assert_string_equal(tls_version_str(0x0300, buf), "SSL 3.0");
	assert_string_equal(tls_version_str(0x0301, buf), "TLS 1.0");
	assert_string_equal(tls_version_str(0x0302, buf), "TLS 1.1");
	assert_string_equal(tls_version_str(0x0303, buf), "TLS 1.2");
	assert_string_equal(tls_version_str(0x0304, buf), "TLS 1.3");
	assert_string_equal(tls_version_str(0x7f1c, buf), "0x7f1c");
	assert_string_equal(tls_version_str(0xfefd, buf), "0xfefd");
	assert_string_equal(tls_version_str(0x0000, buf), "0x0000");
	assert_string_equal(tls_version_str(0x0a0a, buf), "0x0a0a");
}

/* The IANA TLS Alerts registry, deprecated codes included. */
static void test_alert_names(void **state)
{
	static const struct {
		uint8_t code;
		const char *name;
	} alerts[] = {
		{ 0, "close_notify" }, { 10, "unexpected_message" },
		{ 20, "bad_record_mac" }, { 21, "decryption_failed" },
		{ 22, "record_overflow" }, { 30, "decompression_failure" },
		{ 40, "handshake_failure" }, { 41, "no_certificate" },
		{ 42, "bad_certificate" }, { 43, "unsupported_certificate" },
		{ 44, "certificate_revoked" }, { 45, "certificate_expired" },
		{ 46, "certificate_unknown" }, { 47, "illegal_parameter" },
		{ 48, "unknown_ca" }, { 49, "access_denied" },
		{ 50, "decode_error" }, { 51, "decrypt_error" },
		{ 52, "too_many_cids_requested" },
		{ 60, "export_restriction" }, { 70, "protocol_version" },
		{ 71, "insufficient_security" }, { 80, "internal_error" },
		{ 86, "inappropriate_fallback" }, { 90, "user_canceled" },
		{ 100, "no_renegotiation" }, { 109, "missing_extension" },
		{ 110, "unsupported_extension" },
		{ 111, "certificate_unobtainable" },
		{ 112, "unrecognized_name" },
		{ 113, "bad_certificate_status_response" },
		{ 114, "bad_certificate_hash_value" },
		{ 115, "unknown_psk_identity" },
		{ 116, "certificate_required" }, { 117, "general_error" },
		{ 120, "no_application_protocol" }, { 121, "ech_required" },
	};
	size_t i, named = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(alerts); i++) {
		assert_non_null(tls_alert_name(alerts[i].code));
		assert_string_equal(tls_alert_name(alerts[i].code),
				    alerts[i].name);
	}
	for (i = 0; i < 256; i++)
		named += tls_alert_name((uint8_t)i) != NULL;
	assert_int_equal(named, ARRAY_SIZE(alerts));
	assert_null(tls_alert_name(1));
	assert_null(tls_alert_name(255));
}

static void test_handshake_names(void **state)
{
	(void)state;
	assert_string_equal(tls_handshake_name(0), "HelloRequest");
	assert_string_equal(tls_handshake_name(1), "ClientHello");
	assert_string_equal(tls_handshake_name(2), "ServerHello");
	assert_string_equal(tls_handshake_name(4), "NewSessionTicket");
	assert_string_equal(tls_handshake_name(8), "EncryptedExtensions");
	assert_string_equal(tls_handshake_name(11), "Certificate");
	assert_string_equal(tls_handshake_name(12), "ServerKeyExchange");
	assert_string_equal(tls_handshake_name(13), "CertificateRequest");
	assert_string_equal(tls_handshake_name(14), "ServerHelloDone");
	assert_string_equal(tls_handshake_name(15), "CertificateVerify");
	assert_string_equal(tls_handshake_name(16), "ClientKeyExchange");
	assert_string_equal(tls_handshake_name(20), "Finished");
	assert_string_equal(tls_handshake_name(22), "CertificateStatus");
	assert_string_equal(tls_handshake_name(24), "KeyUpdate");
	assert_string_equal(tls_handshake_name(254), "MessageHash");
	assert_null(tls_handshake_name(6));
	assert_null(tls_handshake_name(255));
}

static void test_sniff_names(void **state)
{
	(void)state;
	assert_string_equal(tls_sniff_name(SNIFF_TLS), "tls");
	assert_string_equal(tls_sniff_name(SNIFF_SSLV2), "sslv2");
	assert_string_equal(tls_sniff_name(SNIFF_HTTP), "http");
	assert_string_equal(tls_sniff_name(SNIFF_SSH), "ssh");
	assert_string_equal(tls_sniff_name(SNIFF_PROXY), "proxy");
	assert_string_equal(tls_sniff_name(SNIFF_UNKNOWN), "unknown");
	assert_string_equal(tls_sniff_name(SNIFF_NEED_MORE), "need_more");
}

/* Every decoder on damaged copies of the good vectors: under the
 * sanitizers or valgrind this shows that no input reads out of bounds.
 * The generator is fixed so that a failure repeats. */
static void test_damaged_inputs(void **state)
{
	static const struct {
		const uint8_t *p;
		size_t len;
	} seeds[] = {
		{ ch_tls12_sni_alpn, sizeof(ch_tls12_sni_alpn) },
		{ ch_tls13_grease, sizeof(ch_tls13_grease) },
		{ ch_chrome70, sizeof(ch_chrome70) },
		{ sh_tls12_alpn, sizeof(sh_tls12_alpn) },
		{ sh_draft18, sizeof(sh_draft18) },
		{ sh_hrr, sizeof(sh_hrr) },
		{ v2_zeek_v3, sizeof(v2_zeek_v3) },
		{ v2_fallback, sizeof(v2_fallback) },
	};
	uint32_t x = 2463534242u;
	unsigned i, k;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t s = i % ARRAY_SIZE(seeds), len = seeds[s].len, n;
		struct tls_client_hello ch;
		struct tls_server_hello sh;
		struct tls_record_header h;
		uint8_t *b, type;
		uint32_t u;
		int r;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len -= x % 8 == 0 ? x / 8 % len : 0;
		b = dup_bytes(seeds[s].p, len);
		for (k = 0; k < 1 + x % 4 && len; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			b[x % len] ^= (uint8_t)(1u << (x >> 8) % 8);
		}
		n = len > 9 ? len - 9 : 0;
		r = tls_parse_client_hello(b + (len > 9 ? 9 : len), n, &ch);
		assert_true(r == TLS_OK || r == TLS_MALFORMED);
		r = tls_parse_server_hello(b + (len > 9 ? 9 : len), n, &sh);
		assert_true(r == TLS_OK || r == TLS_MALFORMED);
		r = tls_parse_sslv2_client_hello(b, len, &ch);
		assert_true(r >= TLS_MALFORMED && r <= TLS_NEED_MORE);
		r = tls_parse_record_header(b, len, &h);
		assert_true(r >= TLS_MALFORMED && r <= TLS_NEED_MORE);
		r = tls_sslv2_record_len(b, len, &u);
		assert_true(r >= TLS_MALFORMED && r <= TLS_NEED_MORE);
		r = tls_parse_handshake_header(b, len, &type, &u);
		assert_true(r == TLS_OK || r == TLS_NEED_MORE);
		r = tls_sslv2_msg_type(b, len);
		assert_true(r >= -1 && r <= 255);
		assert_in_range(tls_sniff(b, len), SNIFF_NEED_MORE,
				SNIFF_UNKNOWN);
		free(b);
	}
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_many_ciphers),
	cmocka_unit_test(test_many_extensions),
	cmocka_unit_test(test_extension_types),
	cmocka_unit_test(test_many_alpn),
	cmocka_unit_test(test_long_sni),
	cmocka_unit_test(test_many_list_entries),
	cmocka_unit_test(test_sslv2_many_specs),
	cmocka_unit_test(test_empty_input),
	cmocka_unit_test(test_handshake_header),
	cmocka_unit_test(test_sslv2_record_len),
	cmocka_unit_test(test_grease),
	cmocka_unit_test(test_version_str),
	cmocka_unit_test(test_alert_names),
	cmocka_unit_test(test_handshake_names),
	cmocka_unit_test(test_sniff_names),
	cmocka_unit_test(test_damaged_inputs),
};

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(ch_good) +
				       ARRAY_SIZE(sh_good) +
				       ARRAY_SIZE(v2_good) +
				       ARRAY_SIZE(ch_bad) +
				       ARRAY_SIZE(sh_bad) +
				       ARRAY_SIZE(v2_bad) +
				       ARRAY_SIZE(records) +
				       ARRAY_SIZE(sniffs) +
				       ARRAY_SIZE(fixed_tests)];
	size_t n = 0;

	ADD_ROWS(tests, &n, records, test_record);
	ADD_ROWS(tests, &n, sniffs, test_sniff);
	ADD_ROWS(tests, &n, ch_good, test_ch_good);
	ADD_ROWS(tests, &n, ch_bad, test_ch_bad);
	ADD_ROWS(tests, &n, sh_good, test_sh_good);
	ADD_ROWS(tests, &n, sh_bad, test_sh_bad);
	ADD_ROWS(tests, &n, v2_good, test_v2_good);
	ADD_ROWS(tests, &n, v2_bad, test_v2_bad);
	memcpy(tests + n, fixed_tests, sizeof(fixed_tests));
	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
