/* SPDX-License-Identifier: BSD-3-Clause */
/* JA3 and JA4 client fingerprints.
 *
 * Written from the method descriptions: Salesforce's JA3 README and
 * FoxIO's technical_details/JA4.md. Where FoxIO's prose and its tools
 * differ (a non-alphanumeric ALPN byte), the prose is followed; see
 * alpn_chars(). Every string is built in a fixed buffer sized from the
 * decoder's limits, so nothing here allocates (but for one digest
 * context, made once). The digests are fetched from libcrypto once: an implicit
 * fetch on every call cost more than the hashing. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fingerprint.h"

/* The algorithm, fetched on first use and kept for the process: the
 * fingerprints are computed on one thread. NULL if the fetch fails,
 * and then the next call tries again. */
static const EVP_MD *digest(const EVP_MD **cache, const char *name)
{
	if (!*cache)
		*cache = EVP_MD_fetch(NULL, name, NULL);
	return *cache;
}

static const EVP_MD *md5_md, *sha256_md;

/* One digest context for the process, reset for each use: EVP_Digest
 * makes and frees one per call, which cost as much as the hashing. */
static bool hash_once(const EVP_MD *md, const void *p, size_t len,
		      unsigned char *out, unsigned int *out_len)
{
	static EVP_MD_CTX *ctx;

	if (!ctx && !(ctx = EVP_MD_CTX_new()))
		return false;
	return EVP_DigestInit_ex2(ctx, md, NULL) &&
	       EVP_DigestUpdate(ctx, p, len) &&
	       EVP_DigestFinal_ex(ctx, out, out_len);
}

#define EXT_SERVER_NAME 0x0000
#define EXT_ALPN 0x0010

#define JA4_HASH_CHARS 12
#define SHA256_LEN 32

/* A bounded string builder: on overflow it stops writing and remembers,
 * so callers check once at the end. */
struct sbuf {
	char *p;
	size_t len;
	size_t cap;		/* bytes at p, the NUL included */
	bool overflow;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
	p[0] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		b->overflow = true;
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sb_dec(struct sbuf *b, unsigned v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		sb_putc(b, tmp[--n]);
}

static const char hexdig[] = "0123456789abcdef";

static void sb_hex16(struct sbuf *b, uint16_t v)
{
	sb_putc(b, hexdig[v >> 12]);
	sb_putc(b, hexdig[(v >> 8) & 0xf]);
	sb_putc(b, hexdig[(v >> 4) & 0xf]);
	sb_putc(b, hexdig[v & 0xf]);
}

static void hex_bytes(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* A JA3 list: decimal, '-' between, GREASE left out. */
static void ja3_list16(struct sbuf *b, const uint16_t *v, size_t n)
{
	bool first = true;
	size_t i;

	for (i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_dec(b, v[i]);
		first = false;
	}
}

bool ja3(const struct tls_client_hello *ch, char str[JA3_STR_LEN],
	 char hash[JA3_HASH_LEN])
{
	char local[JA3_STR_LEN];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	struct sbuf b;
	bool first = true;
	size_t i;

	/* A stored list shorter than the message's would hash to some
	 * other client's fingerprint. */
	if (ch->sslv2_format || ch->n_ciphers != ch->total_ciphers ||
	    ch->n_extensions != ch->total_extensions ||
	    ch->n_groups != ch->total_groups ||
	    ch->n_point_formats != ch->total_point_formats)
		return false;

	sb_init(&b, str ? str : local, JA3_STR_LEN);
	sb_dec(&b, ch->legacy_version);
	sb_putc(&b, ',');
	for (i = 0; i < ch->n_ciphers; i++) {
		if (tls_is_grease((uint16_t)ch->ciphers[i]))
			continue;
		if (!first)
			sb_putc(&b, '-');
		sb_dec(&b, ch->ciphers[i]);
		first = false;
	}
	sb_putc(&b, ',');
	ja3_list16(&b, ch->extensions, ch->n_extensions);
	sb_putc(&b, ',');
	ja3_list16(&b, ch->groups, ch->n_groups);
	sb_putc(&b, ',');
	for (i = 0; i < ch->n_point_formats; i++) {
		if (i)
			sb_putc(&b, '-');
		sb_dec(&b, ch->point_formats[i]);
	}
	if (b.overflow)
		return false;

	if (!digest(&md5_md, "MD5") ||
	    !hash_once(md5_md, b.p, b.len, md, &md_len) ||
	    md_len != (JA3_HASH_LEN - 1) / 2)
		return false;
	hex_bytes(md, md_len, hash);
	return true;
}

/* JA4's version field: supported_versions' highest, else the legacy
 * version (ch->version already is that). DTLS has no place over TCP. */
static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case TLS_V_TLS13:
		return "13";
	case TLS_V_TLS12:
		return "12";
	case TLS_V_TLS11:
		return "11";
	case TLS_V_TLS10:
		return "10";
	case TLS_V_SSL3:
		return "s3";
	case TLS_V_SSL2:
		return "s2";
	}
	return "00";
}

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* First and last byte of the first ALPN value; a one-byte value is both.
 * JA4.md: when either is not alphanumeric, the first and last characters
 * of the value's hex form are used instead (0xba 0xad gives "bd"). FoxIO's
 * Python and Rust tools print "99" for non-ASCII bytes instead; the prose
 * is followed because it always yields [0-9a-z] and is what it defines. */
static void alpn_chars(const struct tls_client_hello *ch, char out[2])
{
	uint8_t first, last;

	if (!ch->has_alpn || ch->alpn.n == 0 || ch->alpn.len[0] == 0) {
		out[0] = '0';
		out[1] = '0';
		return;
	}
	first = ch->alpn.name[0][0];
	last = ch->alpn.last[0];
	if (is_alnum(first) && is_alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = hexdig[first >> 4];
		out[1] = hexdig[last & 0xf];
	}
}

/* Insertion sort: the lists are short (at most TLS_MAX_CIPHERS), and
 * qsort's indirect calls cost more than the sorting. */
static void sort_u16(uint16_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint16_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* The first 12 hex digits of SHA-256, or twelve '0' for an empty input:
 * JA4.md marks an empty list that way instead of hashing nothing. */
static bool ja4_hash12(const char *s, size_t len, char out[JA4_HASH_CHARS])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[2 * SHA256_LEN + 1];

	if (len == 0) {
		memset(out, '0', JA4_HASH_CHARS);
		return true;
	}
	if (!digest(&sha256_md, "SHA256") ||
	    !hash_once(sha256_md, s, len, md, &md_len) ||
	    md_len != SHA256_LEN)
		return false;
	hex_bytes(md, md_len, hex);
	memcpy(out, hex, JA4_HASH_CHARS);
	return true;
}

static size_t clamp99(size_t n)
{
	return n > 99 ? 99 : n;
}

bool ja4(const struct tls_client_hello *ch, char out[JA4_LEN])
{
	uint16_t ciphers[TLS_MAX_CIPHERS], exts[TLS_MAX_EXTENSIONS];
	/* "xxxx," per value; the extension part also carries '_' and the
	 * signature algorithms. */
	char cbuf[5 * TLS_MAX_CIPHERS + 1];
	char ebuf[5 * TLS_MAX_EXTENSIONS + 5 * TLS_MAX_SIGALGS + 2];
	size_t nc = 0, ne = 0, n_ext_all = 0, i;
	bool sni = false, first;
	struct sbuf b;
	char alpn[2];

	/* Two-byte suites only: SSLv2 specs are 24-bit and JA4 has no
	 * rule for them. */
	if (ch->sslv2_format || ch->cipher_width != 2 ||
	    ch->n_ciphers != ch->total_ciphers ||
	    ch->n_extensions != ch->total_extensions ||
	    ch->n_sigalgs != ch->total_sigalgs)
		return false;

	for (i = 0; i < ch->n_ciphers; i++)
		if (!tls_is_grease((uint16_t)ch->ciphers[i]))
			ciphers[nc++] = (uint16_t)ch->ciphers[i];
	/* The count includes SNI and ALPN; the hashed list leaves them
	 * out, as part a already says what they are. */
	for (i = 0; i < ch->n_extensions; i++) {
		uint16_t t = ch->extensions[i];

		if (tls_is_grease(t))
			continue;
		n_ext_all++;
		if (t == EXT_SERVER_NAME)
			sni = true;
		if (t != EXT_SERVER_NAME && t != EXT_ALPN)
			exts[ne++] = t;
	}
	sort_u16(ciphers, nc);
	sort_u16(exts, ne);

	sb_init(&b, out, JA4_LEN);
	sb_putc(&b, 't');
	sb_putc(&b, ja4_version(ch->version)[0]);
	sb_putc(&b, ja4_version(ch->version)[1]);
	sb_putc(&b, sni ? 'd' : 'i');
	sb_putc(&b, (char)('0' + clamp99(nc) / 10));
	sb_putc(&b, (char)('0' + clamp99(nc) % 10));
	sb_putc(&b, (char)('0' + clamp99(n_ext_all) / 10));
	sb_putc(&b, (char)('0' + clamp99(n_ext_all) % 10));
	alpn_chars(ch, alpn);
	sb_putc(&b, alpn[0]);
	sb_putc(&b, alpn[1]);
	sb_putc(&b, '_');

	{
		struct sbuf c;

		sb_init(&c, cbuf, sizeof(cbuf));
		for (i = 0; i < nc; i++) {
			if (i)
				sb_putc(&c, ',');
			sb_hex16(&c, ciphers[i]);
		}
		if (c.overflow || b.len + JA4_HASH_CHARS + 1 >= b.cap ||
		    !ja4_hash12(c.p, c.len, b.p + b.len))
			return false;
		b.len += JA4_HASH_CHARS;
		b.p[b.len] = '\0';
	}
	sb_putc(&b, '_');

	{
		struct sbuf e;

		sb_init(&e, ebuf, sizeof(ebuf));
		for (i = 0; i < ne; i++) {
			if (i)
				sb_putc(&e, ',');
			sb_hex16(&e, exts[i]);
		}
		/* Signature algorithms in wire order after a '_'; with none
		 * the string ends without it (JA4.md). GREASE is ignored
		 * here too, as everywhere in JA4. */
		first = true;
		for (i = 0; i < ch->n_sigalgs; i++) {
			if (tls_is_grease(ch->sigalgs[i]))
				continue;
			sb_putc(&e, first ? '_' : ',');
			sb_hex16(&e, ch->sigalgs[i]);
			first = false;
		}
		if (e.overflow || b.len + JA4_HASH_CHARS >= b.cap ||
		    !ja4_hash12(e.p, e.len, b.p + b.len))
			return false;
		b.len += JA4_HASH_CHARS;
		b.p[b.len] = '\0';
	}
	return !b.overflow && b.len == JA4_LEN - 1;
}
