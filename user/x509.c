/* SPDX-License-Identifier: BSD-3-Clause */
/* X.509 subject, issuer, validity and subjectAltName from DER, and the TLS
 * Certificate message around it.
 *
 * Written from RFC 5280 (section 4.1 for the TBSCertificate layout, 4.1.2.5
 * for the times, 4.2.1.6 for subjectAltName), X.690 (DER tags and lengths)
 * and RFC 4514 (the Name as a string). The bytes come from whoever answered
 * a TCP connection: every read is bounds-checked, every element must fit in
 * the one enclosing it, and the nesting is walked by fixed code, never by
 * recursion, so hostile depth costs nothing. */
#include <stdio.h>
#include <string.h>

#include "x509.h"

/* Universal tags (X.690 8.1.2), class and constructed bits included. */
#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_UTF8 0x0c
#define TAG_NUMERIC 0x12
#define TAG_PRINTABLE 0x13
#define TAG_T61 0x14
#define TAG_IA5 0x16
#define TAG_UTC_TIME 0x17
#define TAG_GENERALIZED_TIME 0x18
#define TAG_VISIBLE 0x1a
#define TAG_UNIVERSAL 0x1c
#define TAG_BMP 0x1e
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
/* Context-specific tags of the TBSCertificate and GeneralName. */
#define TAG_VERSION 0xa0		/* [0] EXPLICIT Version */
#define TAG_ISSUER_UID 0x81		/* [1] IMPLICIT UniqueIdentifier */
#define TAG_SUBJECT_UID 0x82		/* [2] IMPLICIT UniqueIdentifier */
#define TAG_EXTENSIONS 0xa3		/* [3] EXPLICIT Extensions */
#define TAG_DNS_NAME 0x82		/* GeneralName [2] IMPLICIT IA5String */

#define DER_MAX_LEN_BYTES 4
#define TLS13_CONTEXT_MAX 255
/* RDNs remembered for printing last-first; a Name with more cannot fit in
 * X509_NAME_SIZE anyway (each takes at least "C=x,"), so it is cut. */
#define NAME_MAX_RDNS 64

/* 2.5.4.x attribute types, 2.5.29.17 subjectAltName, and the two RFC 4514
 * names under 0.9.2342.19200300.100.1 (RFC 4519). */
static const uint8_t oid_at_prefix[] = { 0x55, 0x04 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_pilot_prefix[] = {
	0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01,
};
#define AT_CN 3
#define AT_C 6
#define AT_L 7
#define AT_ST 8
#define AT_STREET 9
#define AT_O 10
#define AT_OU 11
#define PILOT_UID 1
#define PILOT_DC 25

struct der {
	const uint8_t *p;
	size_t left;
};

/* One element: tag, value, and the whole encoding (for byte comparison and
 * RFC 4514's #hex form). */
struct tlv {
	uint8_t tag;
	const uint8_t *v;
	size_t len;
	const uint8_t *raw;
	size_t raw_len;
};

/* Reads one element. With cut non-NULL a length past the buffer is taken
 * as a cut capture: the value is shortened to what is there and *cut set,
 * so the fields that are whole can still be read. */
static bool der_next(struct der *c, struct tlv *t, bool *cut)
{
	const uint8_t *start = c->p;
	size_t left = c->left, len, n, i;
	uint8_t b;

	if (left < 2)
		return false;
	t->tag = start[0];
	/* High-tag-number form: X.509 never needs it. */
	if ((t->tag & 0x1f) == 0x1f)
		return false;
	b = start[1];
	left -= 2;
	if (b < 0x80) {
		len = b;
		n = 0;
	} else {
		n = b & 0x7f;
		/* 0x80 is BER's indefinite length, which DER forbids. */
		if (n == 0 || n > DER_MAX_LEN_BYTES || left < n)
			return false;
		len = 0;
		for (i = 0; i < n; i++)
			len = len << 8 | start[2 + i];
		left -= n;
	}
	if (len > left) {
		if (!cut)
			return false;
		*cut = true;
		len = left;
	}
	t->v = start + 2 + n;
	t->len = len;
	t->raw = start;
	t->raw_len = 2 + n + len;
	c->p += t->raw_len;
	c->left -= t->raw_len;
	return true;
}

static bool der_expect(struct der *c, uint8_t tag, struct tlv *t, bool *cut)
{
	return der_next(c, t, cut) && t->tag == tag;
}

static struct der der_in(const struct tlv *t)
{
	return (struct der){ .p = t->v, .left = t->len };
}

/* Peeks at the next tag without consuming it; 0 at the end. */
static uint8_t der_peek(const struct der *c)
{
	return c->left ? c->p[0] : 0;
}

/* An OID's content: at least one arc, each arc ends with a byte whose top
 * bit is clear. */
static bool oid_valid(const struct tlv *t)
{
	return t->tag == TAG_OID && t->len > 0 && !(t->v[t->len - 1] & 0x80);
}

static bool oid_eq(const struct tlv *t, const uint8_t *oid, size_t n)
{
	return t->len == n && memcmp(t->v, oid, n) == 0;
}

/* Output buffer that never splits a character or an escape: every append
 * is a whole unit, and when one does not fit the text goes back to the
 * last unit boundary that leaves room for "...". */
struct sink {
	char *buf;
	size_t cap;
	size_t len;
	size_t mark;
	bool cut;
};

static void sink_init(struct sink *s, char *buf, size_t cap)
{
	*s = (struct sink){ .buf = buf, .cap = cap };
	buf[0] = '\0';
}

static void sink_cut(struct sink *s)
{
	if (s->cut)
		return;
	s->cut = true;
	s->len = s->mark;
	memcpy(s->buf + s->len, "...", 4);
	s->len += 3;
}

static void sink_unit(struct sink *s, const char *u, size_t n)
{
	if (s->cut)
		return;
	if (n > s->cap - 1 - s->len) {
		sink_cut(s);
		return;
	}
	memcpy(s->buf + s->len, u, n);
	s->len += n;
	s->buf[s->len] = '\0';
	if (s->len + 4 <= s->cap)
		s->mark = s->len;
}

static void sink_str(struct sink *s, const char *str)
{
	sink_unit(s, str, strlen(str));
}

static void sink_hex(struct sink *s, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char u[2];
	size_t i;

	for (i = 0; i < n && !s->cut; i++) {
		u[0] = hex[p[i] >> 4];
		u[1] = hex[p[i] & 0xf];
		sink_unit(s, u, 2);
	}
}

/* Code points that must not reach a terminal or a log as they are:
 * controls, surrogates, out of range, and the ones that reorder or break
 * lines of text around them. */
static bool cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
	       cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) ||
	       (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff;
}

#define CP_BAD 0xfffffffful

/* One UTF-8 sequence, strictly (RFC 3629: no overlong forms, no
 * surrogates); CP_BAD and one byte consumed otherwise. */
static uint32_t utf8_next(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	uint32_t cp, min;
	size_t n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		*pp = p + 1;
		return CP_BAD;
	}
	*pp = p + 1;
	if ((size_t)(end - p) < n)
		return CP_BAD;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return CP_BAD;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min)
		return CP_BAD;
	*pp = p + n;
	return cp;
}

/* The next character of a string of the given type, as a code point. */
static uint32_t str_next(uint8_t tag, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	size_t left = (size_t)(end - p);

	switch (tag) {
	case TAG_UTF8:
		return utf8_next(pp, end);
	case TAG_T61:
		/* T.61 proper has its own accents; in practice these hold
		 * Latin-1, which is how OpenSSL reads them too. */
		*pp = p + 1;
		return p[0];
	case TAG_BMP:
		/* UCS-2: an odd last byte or a surrogate is not a char. */
		if (left < 2) {
			*pp = end;
			return CP_BAD;
		}
		*pp = p + 2;
		return (uint32_t)p[0] << 8 | p[1];
	case TAG_UNIVERSAL:
		if (left < 4) {
			*pp = end;
			return CP_BAD;
		}
		*pp = p + 4;
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	default:
		/* Printable, IA5, Visible, Numeric: ASCII only. */
		*pp = p + 1;
		return p[0] < 0x80 ? p[0] : CP_BAD;
	}
}

static bool is_string_tag(uint8_t tag)
{
	switch (tag) {
	case TAG_UTF8:
	case TAG_NUMERIC:
	case TAG_PRINTABLE:
	case TAG_T61:
	case TAG_IA5:
	case TAG_VISIBLE:
	case TAG_UNIVERSAL:
	case TAG_BMP:
		return true;
	}
	return false;
}

static void sink_cp(struct sink *s, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp_unsafe(cp))
		cp = '?';
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sink_unit(s, u, n);
}

/* A directory string's value. With rfc4514, escaped as an attribute value
 * (section 2.4); a value that is not a string is written as "#" and the hex
 * of its whole encoding, as that section says. */
static void sink_value(struct sink *s, const struct tlv *t, bool rfc4514)
{
	const uint8_t *p = t->v, *end = t->v + t->len;
	bool first = true;
	uint32_t cp;
	char u[2];

	if (!is_string_tag(t->tag)) {
		sink_str(s, "#");
		sink_hex(s, t->raw, t->raw_len);
		return;
	}
	while (p < end && !s->cut) {
		cp = str_next(t->tag, &p, end);
		if (rfc4514 && ((cp && cp < 0x80 && strchr(",+\"\\<>;", (int)cp)) ||
				(first && (cp == ' ' || cp == '#')) ||
				(p == end && cp == ' '))) {
			u[0] = '\\';
			u[1] = (char)cp;
			sink_unit(s, u, 2);
		} else {
			sink_cp(s, cp);
		}
		first = false;
	}
}

/* A dotted OID, e.g. "1.2.840.113549.1.9.1"; arcs over 64 bits are
 * written as "?". */
static void sink_oid(struct sink *s, const struct tlv *t)
{
	char num[24];
	uint64_t arc = 0;
	bool first = true, big = false;
	size_t i;
	int n;

	for (i = 0; i < t->len && !s->cut; i++) {
		if (arc >> 57)
			big = true;
		arc = arc << 7 | (t->v[i] & 0x7f);
		if (t->v[i] & 0x80)
			continue;
		if (big) {
			sink_str(s, first ? "?" : ".?");
		} else if (first) {
			/* The first byte holds two arcs: 40 * a + b, a <= 2. */
			unsigned a = arc < 40 ? 0 : arc < 80 ? 1 : 2;

			n = snprintf(num, sizeof(num), "%u.%llu", a,
				     (unsigned long long)(arc - 40 * a));
			sink_unit(s, num, (size_t)n);
		} else {
			n = snprintf(num, sizeof(num), ".%llu",
				     (unsigned long long)arc);
			sink_unit(s, num, (size_t)n);
		}
		first = false;
		big = false;
		arc = 0;
	}
}

static const char *attr_name(const struct tlv *oid)
{
	if (oid->len == 3 && !memcmp(oid->v, oid_at_prefix, 2)) {
		switch (oid->v[2]) {
		case AT_CN: return "CN";
		case AT_C: return "C";
		case AT_L: return "L";
		case AT_ST: return "ST";
		case AT_STREET: return "STREET";
		case AT_O: return "O";
		case AT_OU: return "OU";
		}
	}
	if (oid->len == sizeof(oid_pilot_prefix) + 1 &&
	    !memcmp(oid->v, oid_pilot_prefix, sizeof(oid_pilot_prefix))) {
		switch (oid->v[sizeof(oid_pilot_prefix)]) {
		case PILOT_UID: return "UID";
		case PILOT_DC: return "DC";
		}
	}
	return NULL;
}

static bool is_cn(const struct tlv *oid)
{
	return oid->len == 3 && !memcmp(oid->v, oid_at_prefix, 2) &&
	       oid->v[2] == AT_CN;
}

/* One AttributeTypeAndValue: SEQUENCE { type OID, value ANY }. */
static bool der_atv(struct der *rdn, struct tlv *oid, struct tlv *val)
{
	struct tlv atv;
	struct der a;

	if (!der_expect(rdn, TAG_SEQUENCE, &atv, NULL))
		return false;
	a = der_in(&atv);
	return der_next(&a, oid, NULL) && oid_valid(oid) &&
	       der_next(&a, val, NULL) && a.left == 0;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName, RDN ::= SET SIZE (1..MAX)
 * OF AttributeTypeAndValue. Checked whole before anything is written, so
 * that the two strings are either right or left as they were. */
static bool name_decode(const struct tlv *name, char *str, size_t str_size,
			char *cn, size_t cn_size)
{
	const uint8_t *rdn_v[NAME_MAX_RDNS];
	size_t rdn_len[NAME_MAX_RDNS];
	struct tlv rdn, oid, val, last_cn = { 0 };
	struct der c = der_in(name), r;
	size_t n_rdn = 0, i, k, stop;
	bool have_cn = false;
	struct sink s;
	const char *at;

	while (c.left) {
		if (!der_expect(&c, TAG_SET, &rdn, NULL) || rdn.len == 0)
			return false;
		r = der_in(&rdn);
		while (r.left) {
			if (!der_atv(&r, &oid, &val))
				return false;
			if (is_cn(&oid)) {
				last_cn = val;
				have_cn = true;
			}
		}
		/* A ring of the last NAME_MAX_RDNS: those are printed first. */
		rdn_v[n_rdn % NAME_MAX_RDNS] = rdn.v;
		rdn_len[n_rdn % NAME_MAX_RDNS] = rdn.len;
		n_rdn++;
	}

	sink_init(&s, cn, cn_size);
	if (have_cn)
		sink_value(&s, &last_cn, false);

	sink_init(&s, str, str_size);
	stop = n_rdn > NAME_MAX_RDNS ? n_rdn - NAME_MAX_RDNS : 0;
	for (i = n_rdn; i > stop && !s.cut; i--) {
		k = (i - 1) % NAME_MAX_RDNS;
		r = (struct der){ .p = rdn_v[k], .left = rdn_len[k] };
		if (i != n_rdn)
			sink_str(&s, ",");
		for (bool first = true; r.left && der_atv(&r, &oid, &val);
		     first = false) {
			if (!first)
				sink_str(&s, "+");
			at = attr_name(&oid);
			if (at) {
				sink_str(&s, at);
			} else {
				sink_oid(&s, &oid);
				/* Unknown types print their DER value, as
				 * RFC 4514 section 2.4 asks. */
				sink_str(&s, "=");
				sink_str(&s, "#");
				sink_hex(&s, val.raw, val.raw_len);
				continue;
			}
			sink_str(&s, "=");
			sink_value(&s, &val, true);
		}
	}
	if (stop)
		sink_cut(&s);
	return true;
}

int64_t x509_days_from_civil(int y, int m, int d)
{
	static const uint16_t before_month[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
	};
	/* Leap years in [0, y): year 0 is one (divisible by 400). */
	int64_t leaps = y > 0 ? (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400
			      : 0;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	/* 1970-01-01 is day 719528 counted from 0000-01-01. */
	int64_t days = 365 * (int64_t)y + leaps + before_month[m - 1] +
		       (leap && m > 2) + d - 1;

	return days - 719528;
}

static bool digits(const uint8_t *p, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

/* Time ::= CHOICE { UTCTime, GeneralizedTime }. RFC 5280 4.1.2.5 fixes
 * both forms: YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ, seconds present, UTC,
 * no fractions. */
static bool der_time(struct der *c, int64_t *t)
{
	static const uint8_t mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	int y, mo, d, h, mi, s;
	struct tlv tv;
	const uint8_t *p;
	size_t yn;

	if (!der_next(c, &tv, NULL))
		return false;
	if (tv.tag == TAG_UTC_TIME && tv.len == 13)
		yn = 2;
	else if (tv.tag == TAG_GENERALIZED_TIME && tv.len == 15)
		yn = 4;
	else
		return false;
	p = tv.v;
	if (p[tv.len - 1] != 'Z' || !digits(p, yn, &y) ||
	    !digits(p + yn, 2, &mo) || !digits(p + yn + 2, 2, &d) ||
	    !digits(p + yn + 4, 2, &h) || !digits(p + yn + 6, 2, &mi) ||
	    !digits(p + yn + 8, 2, &s))
		return false;
	/* UTCTime's 50-year window: 50..99 are 19xx, 00..49 are 20xx. */
	if (yn == 2)
		y += y >= 50 ? 1900 : 2000;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || s > 59)
		return false;
	if (mo == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	*t = x509_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return true;
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; only
 * subjectAltName is read. RFC 5280 4.2 allows one instance of an
 * extension: a second subjectAltName is refused rather than guessed at. */
static bool der_extensions(const struct tlv *ext3,
			   char first[X509_CN_SIZE], uint16_t *n_san)
{
	struct tlv seq, ext, oid, t, gn;
	struct der c = der_in(ext3), e, g;
	bool have_san = false;
	uint16_t n = 0;
	struct sink s;

	if (!der_expect(&c, TAG_SEQUENCE, &seq, NULL) || c.left || !seq.len)
		return false;
	c = der_in(&seq);
	while (c.left) {
		if (!der_expect(&c, TAG_SEQUENCE, &ext, NULL))
			return false;
		e = der_in(&ext);
		if (!der_next(&e, &oid, NULL) || !oid_valid(&oid))
			return false;
		if (der_peek(&e) == TAG_BOOLEAN &&
		    (!der_next(&e, &t, NULL) || t.len != 1))
			return false;
		if (!der_expect(&e, TAG_OCTET_STRING, &t, NULL) || e.left)
			return false;
		if (!oid_eq(&oid, oid_san, sizeof(oid_san)))
			continue;
		if (have_san)
			return false;
		have_san = true;
		/* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
		g = der_in(&t);
		if (!der_expect(&g, TAG_SEQUENCE, &seq, NULL) || g.left)
			return false;
		g = der_in(&seq);
		while (g.left) {
			if (!der_next(&g, &gn, NULL))
				return false;
			if (gn.tag != TAG_DNS_NAME)
				continue;
			if (n == 0) {
				/* Read as the IA5String it is. */
				gn.tag = TAG_IA5;
				sink_init(&s, first, X509_CN_SIZE);
				sink_value(&s, &gn, false);
			}
			if (n < UINT16_MAX)
				n++;
		}
	}
	*n_san = n;
	return true;
}

/* Fills out in certificate order and sets each X509_HAVE_* bit once its
 * part is whole; out must be zeroed by the caller. */
static int parse_cert(const uint8_t *der, size_t len, struct x509_info *out)
{
	struct der c = { .p = der, .left = len }, tbs, v;
	struct tlv cert, t, issuer, subject;
	char san_first[X509_CN_SIZE] = "";
	uint16_t n_san = 0;
	int64_t nb, na;
	bool cut = false, tbs_cut;

	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue }: the two outer lengths may run past a cut
	 * capture; nothing inside them may. */
	if (!der_expect(&c, TAG_SEQUENCE, &cert, &cut) || c.left)
		return -1;
	c = der_in(&cert);
	if (!der_expect(&c, TAG_SEQUENCE, &t, &cut))
		return -1;
	tbs = der_in(&t);
	/* A cut at the end of subjectPublicKeyInfo would look like a
	 * certificate without extensions. */
	tbs_cut = cut;

	if (der_peek(&tbs) == TAG_VERSION) {
		if (!der_next(&tbs, &t, NULL))
			return -1;
		v = der_in(&t);
		/* v1 (0), v2 (1), v3 (2) */
		if (!der_expect(&v, TAG_INTEGER, &t, NULL) || v.left ||
		    t.len != 1 || t.v[0] > 2)
			return -1;
	}
	/* serialNumber; RFC 5280 caps it at 20 octets, but real CAs have
	 * issued longer ones and it names nothing here. */
	if (!der_expect(&tbs, TAG_INTEGER, &t, NULL) || !t.len)
		return -1;
	if (!der_expect(&tbs, TAG_SEQUENCE, &t, NULL))	/* signature */
		return -1;

	if (!der_expect(&tbs, TAG_SEQUENCE, &issuer, NULL) ||
	    !name_decode(&issuer, out->issuer, sizeof(out->issuer),
			 out->issuer_cn, sizeof(out->issuer_cn)))
		return -1;
	out->have |= X509_HAVE_ISSUER;

	if (!der_expect(&tbs, TAG_SEQUENCE, &t, NULL))
		return -1;
	v = der_in(&t);
	if (!der_time(&v, &nb) || !der_time(&v, &na) || v.left)
		return -1;
	out->not_before = nb;
	out->not_after = na;
	out->have |= X509_HAVE_VALIDITY;

	if (!der_expect(&tbs, TAG_SEQUENCE, &subject, NULL) ||
	    !name_decode(&subject, out->subject, sizeof(out->subject),
			 out->subject_cn, sizeof(out->subject_cn)))
		return -1;
	out->self_signed = issuer.raw_len == subject.raw_len &&
			   !memcmp(issuer.raw, subject.raw, issuer.raw_len);
	out->have |= X509_HAVE_SUBJECT;

	if (!der_expect(&tbs, TAG_SEQUENCE, &t, NULL))	/* subjectPublicKeyInfo */
		return -1;
	if (der_peek(&tbs) == TAG_ISSUER_UID && !der_next(&tbs, &t, NULL))
		return -1;
	if (der_peek(&tbs) == TAG_SUBJECT_UID && !der_next(&tbs, &t, NULL))
		return -1;
	if (der_peek(&tbs) == TAG_EXTENSIONS) {
		if (!der_next(&tbs, &t, NULL) ||
		    !der_extensions(&t, san_first, &n_san))
			return -1;
	}
	if (tbs.left || tbs_cut)
		return -1;
	memcpy(out->san_first, san_first, sizeof(san_first));
	out->n_san = n_san;
	out->have |= X509_HAVE_EXTENSIONS;

	if (!der_expect(&c, TAG_SEQUENCE, &t, NULL) ||	/* signatureAlgorithm */
	    !der_expect(&c, TAG_BIT_STRING, &t, NULL) || c.left)
		return -1;
	return cut ? -1 : 0;
}

int x509_parse(const uint8_t *der, size_t len, struct x509_info *out)
{
	memset(out, 0, sizeof(*out));
	return parse_cert(der, len, out);
}

static bool get_u24(struct der *c, size_t *v)
{
	if (c->left < 3)
		return false;
	*v = (size_t)c->p[0] << 16 | (size_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	c->left -= 3;
	return true;
}

int x509_from_certificate_msg(const uint8_t *body, size_t len, bool tls13,
			      struct x509_info *out)
{
	struct der c = { .p = body, .left = len }, list;
	size_t n, ctx;
	bool cut = false;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (tls13) {
		/* certificate_request_context<0..2^8-1> */
		if (c.left < 1)
			return -1;
		ctx = c.p[0];
		if (c.left - 1 < ctx)
			return -1;
		c.p += 1 + ctx;
		c.left -= 1 + ctx;
	}
	/* certificate_list<0..2^24-1>: the handshake length already bounds
	 * the body, so bytes after the list are an error, and a list longer
	 * than the body is a cut capture. */
	if (!get_u24(&c, &n))
		return -1;
	if (n < c.left)
		return -1;
	if (n > c.left)
		cut = true;
	list = c;
	while (list.left) {
		if (!get_u24(&list, &n) || n == 0)
			return -1;
		if (n > list.left) {
			/* Only the leaf is worth reading from a cut entry. */
			if (out->chain_len == 0)
				parse_cert(list.p, list.left, out);
			return -1;
		}
		if (out->chain_len == 0 && parse_cert(list.p, n, out))
			ret = -1;
		list.p += n;
		list.left -= n;
		if (tls13) {
			/* extensions<0..2^16-1> per entry */
			if (list.left < 2)
				return -1;
			n = (size_t)list.p[0] << 8 | list.p[1];
			if (list.left - 2 < n)
				return -1;
			list.p += 2 + n;
			list.left -= 2 + n;
		}
		if (out->chain_len < UINT16_MAX)
			out->chain_len++;
	}
	return cut ? -1 : ret;
}
