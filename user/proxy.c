// SPDX-License-Identifier: BSD-3-Clause
/* PROXY protocol v1 and v2 headers, written from haproxy's
 * proxy-protocol.txt.
 *
 * The parser takes one byte at a time, so that a header split anywhere
 * across TCP segments gives the same answer as a whole one, and so that the
 * byte completing the header is known exactly: what follows it is the
 * client's own stream. Headers are at most 64 KiB and arrive once per
 * connection, so a byte loop costs nothing worth avoiding. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

enum {
	ST_START = 0,
	ST_V1,
	ST_V2,
	ST_DONE,
	ST_INVALID,
};

static const uint8_t v1_prefix[] = "PROXY ";
#define V1_PREFIX_LEN 6
static const uint8_t v2_sig[PROXY_V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
	0x55, 0x49, 0x54, 0x0a,
};

#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1

/* fam byte: address family in the high nibble, transport in the low. */
#define V2_FAM_UNSPEC 0x00
#define V2_FAM_TCP4 0x11
#define V2_FAM_UDP4 0x12
#define V2_FAM_TCP6 0x21
#define V2_FAM_UDP6 0x22
#define V2_FAM_UNIX_STREAM 0x31
#define V2_FAM_UNIX_DGRAM 0x32

#define V2_ADDR_LEN_INET 12	/* 2 x 4 address + 2 x 2 port */
#define V2_ADDR_LEN_INET6 36	/* 2 x 16 address + 2 x 2 port */
#define V2_ADDR_LEN_UNIX 216	/* 2 x 108 path */

#define SSL_FIXED_LEN 5		/* client(1) verify(4), then sub-TLVs */

/* Internal result of one byte; the public enum plus "keep going". */
#define STEP_MORE PROXY_NEED_MORE

static int fail(struct proxy_parser *p, const char *why)
{
	p->state = ST_INVALID;
	p->err = why;
	return PROXY_INVALID;
}

void proxy_init(struct proxy_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = ST_START;
}

const char *proxy_error(const struct proxy_parser *p)
{
	return p->state == ST_INVALID ? p->err : NULL;
}

int proxy_sniff(const uint8_t *p, size_t len)
{
	size_t n;

	if (len == 0)
		return 0;
	if (p[0] == v1_prefix[0]) {
		n = len < V1_PREFIX_LEN ? len : V1_PREFIX_LEN;
		if (memcmp(p, v1_prefix, n))
			return -1;
		return n == V1_PREFIX_LEN ? 1 : 0;
	}
	n = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;
	if (memcmp(p, v2_sig, n))
		return -1;
	return n == PROXY_V2_SIG_LEN ? 1 : 0;
}

/* --- v1: "PROXY TCP4 1.2.3.4 5.6.7.8 1234 443\r\n" --- */

/* The next field of [*s, end), up to a space or the end. Empty fields (two
 * spaces, a trailing space) are refused: the spec wants single spaces. */
static bool v1_field(const uint8_t **s, const uint8_t *end,
		     const uint8_t **f, size_t *flen)
{
	const uint8_t *q = *s;

	while (q < end && *q != ' ')
		q++;
	if (q == *s)
		return false;
	*f = *s;
	*flen = (size_t)(q - *s);
	/* Step over the separator, if any; the caller checks what is left. */
	*s = q < end ? q + 1 : q;
	return true;
}

static bool v1_addr(const uint8_t *f, size_t flen, int af, uint8_t *addr)
{
	char tmp[INET6_ADDRSTRLEN];

	/* A NUL would end the copy early and let trailing junk pass. */
	if (flen >= sizeof(tmp) || memchr(f, '\0', flen))
		return false;
	memcpy(tmp, f, flen);
	tmp[flen] = '\0';
	return inet_pton(af, tmp, addr) == 1;
}

/* Decimal digits only, 0..65535; leading zeros pass as the spec does not
 * forbid them, but at most five digits so that no overflow is possible. */
static bool v1_port(const uint8_t *f, size_t flen, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (flen == 0 || flen > 5)
		return false;
	for (i = 0; i < flen; i++) {
		if (f[i] < '0' || f[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(f[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* buf[0..n) is a whole line: "PROXY " checked, n >= 7, buf[n-1] == '\n'. */
static int v1_parse(struct proxy_parser *p, size_t n)
{
	struct proxy_header *h = &p->hdr;
	const uint8_t *s, *end, *f;
	size_t flen;
	int af;

	if (p->buf[n - 2] != '\r')
		return fail(p, "v1 line not ended by CRLF");
	s = p->buf + V1_PREFIX_LEN;
	end = p->buf + n - 2;
	h->version = 1;

	if (!v1_field(&s, end, &f, &flen))
		return fail(p, "v1 protocol missing");
	if (flen == 7 && !memcmp(f, "UNKNOWN", 7)) {
		/* Whatever follows UNKNOWN is to be ignored. */
		h->local = true;
		return PROXY_DONE;
	}
	if (flen == 4 && !memcmp(f, "TCP4", 4))
		af = AF_INET;
	else if (flen == 4 && !memcmp(f, "TCP6", 4))
		af = AF_INET6;
	else
		return fail(p, "v1 protocol not TCP4, TCP6 or UNKNOWN");
	if (s == end)
		return fail(p, "v1 addresses missing");

	h->src.family = h->dst.family = (uint8_t)af;
	if (!v1_field(&s, end, &f, &flen) ||
	    !v1_addr(f, flen, af, h->src.addr))
		return fail(p, "v1 bad source address");
	if (!v1_field(&s, end, &f, &flen) ||
	    !v1_addr(f, flen, af, h->dst.addr))
		return fail(p, "v1 bad destination address");
	if (!v1_field(&s, end, &f, &flen) || !v1_port(f, flen, &h->src.port))
		return fail(p, "v1 bad source port");
	/* The last field must end the line, not a space before CRLF. */
	if (!v1_field(&s, end, &f, &flen) || f + flen != end ||
	    !v1_port(f, flen, &h->dst.port))
		return fail(p, "v1 bad destination port");
	h->has_addr = true;
	return PROXY_DONE;
}

static int v1_byte(struct proxy_parser *p, uint8_t b)
{
	/* pos < PROXY_V1_MAX_LEN here: the check below stops the line. */
	p->buf[p->pos++] = b;
	if (p->pos <= V1_PREFIX_LEN) {
		if (b != v1_prefix[p->pos - 1])
			return fail(p, "not a PROXY header");
		return STEP_MORE;
	}
	if (b == '\n')
		return v1_parse(p, p->pos);
	if (p->pos >= PROXY_V1_MAX_LEN)
		return fail(p, "v1 line longer than 107 bytes");
	return STEP_MORE;
}

/* --- v2: 16 fixed bytes, the address block, then TLVs --- */

enum {
	WALK_HDR,		/* a header byte, header not complete */
	WALK_START,		/* the last header byte: type and vlen set */
	WALK_VALUE,		/* a value byte at w->vpos */
	WALK_OVERRUN,		/* vlen runs past the enclosing block */
};

/* left: bytes of the enclosing block after this one. */
static int walk_byte(struct proxy_tlv_walk *w, uint8_t b, uint32_t left)
{
	if (w->nhdr < sizeof(w->hdr)) {
		w->hdr[w->nhdr++] = b;
		if (w->nhdr < sizeof(w->hdr))
			return WALK_HDR;
		w->type = w->hdr[0];
		w->vlen = (uint16_t)(w->hdr[1] << 8 | w->hdr[2]);
		w->vpos = 0;
		if (w->vlen > left)
			return WALK_OVERRUN;
		return WALK_START;
	}
	return WALK_VALUE;
}

/* Call after WALK_START or after consuming a value byte: true (and ready
 * for the next header) when the value is complete. */
static bool walk_end(struct proxy_tlv_walk *w)
{
	if (w->vpos < w->vlen)
		return false;
	w->nhdr = 0;
	return true;
}

/* One byte of a PP2_TYPE_SSL value at tlv.vpos. */
static int ssl_byte(struct proxy_parser *p, uint8_t b)
{
	struct proxy_header *h = &p->hdr;
	struct proxy_tlv_walk *t = &p->tlv;
	int r;

	if (t->vpos == 0) {
		h->ssl_client = b;
		h->ssl_client_tls = b & PP2_CLIENT_SSL;
		return STEP_MORE;
	}
	if (t->vpos < SSL_FIXED_LEN) {
		h->ssl_verify = h->ssl_verify << 8 | b;
		return STEP_MORE;
	}
	/* Sub-TLVs are checked against the SSL TLV, not just the header:
	 * one spilling out of it would be read as a top-level TLV. */
	r = walk_byte(&p->sub, b, (uint32_t)(t->vlen - t->vpos - 1));
	if (r == WALK_OVERRUN)
		return fail(p, "v2 SSL sub-TLV runs past the SSL TLV");
	if (r == WALK_VALUE)
		p->sub.vpos++;
	if (r != WALK_HDR)
		walk_end(&p->sub);
	return STEP_MORE;
}

static int tlv_done(struct proxy_parser *p)
{
	if (p->tlv.type == PP2_TYPE_SSL && p->sub.nhdr)
		return fail(p, "v2 SSL sub-TLV cut by the SSL TLV's end");
	return STEP_MORE;
}

static int tlv_byte(struct proxy_parser *p, uint8_t b)
{
	struct proxy_header *h = &p->hdr;
	struct proxy_tlv_walk *t = &p->tlv;
	int r;

	r = walk_byte(t, b, p->total - p->pos);
	switch (r) {
	case WALK_HDR:
		return STEP_MORE;
	case WALK_OVERRUN:
		return fail(p, "v2 TLV runs past the header");
	case WALK_START:
		if (h->ntlvs < UINT16_MAX)
			h->ntlvs++;
		if (t->type == PP2_TYPE_SSL) {
			if (t->vlen < SSL_FIXED_LEN)
				return fail(p, "v2 SSL TLV shorter than 5");
			h->has_ssl = true;
			h->ssl_verify = 0;
			memset(&p->sub, 0, sizeof(p->sub));
		} else if (t->type == PP2_TYPE_AUTHORITY) {
			/* A repeated one replaces the first. */
			h->authority_len = 0;
			h->authority_truncated = false;
		}
		break;
	case WALK_VALUE:
		if (t->type == PP2_TYPE_SSL) {
			if (ssl_byte(p, b) != STEP_MORE)
				return PROXY_INVALID;
		} else if (t->type == PP2_TYPE_AUTHORITY) {
			if (t->vpos < PROXY_MAX_AUTHORITY) {
				h->authority[t->vpos] = (char)b;
				h->authority_len = (uint8_t)(t->vpos + 1);
			} else {
				h->authority_truncated = true;
			}
		}
		t->vpos++;
		break;
	}
	if (walk_end(t))
		return tlv_done(p);
	return STEP_MORE;
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The address block is in buf after the fixed 16 bytes. */
static void v2_addrs(struct proxy_parser *p)
{
	struct proxy_header *h = &p->hdr;
	const uint8_t *a = p->buf + PROXY_V2_HDR_LEN;
	size_t alen = h->fam == V2_FAM_TCP4 ? 4 : 16;

	h->src.family = h->dst.family =
		h->fam == V2_FAM_TCP4 ? AF_INET : AF_INET6;
	memcpy(h->src.addr, a, alen);
	memcpy(h->dst.addr, a + alen, alen);
	h->src.port = be16(a + 2 * alen);
	h->dst.port = be16(a + 2 * alen + 2);
	h->has_addr = true;
}

static uint16_t v2_addr_len(uint8_t fam)
{
	switch (fam) {
	case V2_FAM_TCP4:
	case V2_FAM_UDP4:
		return V2_ADDR_LEN_INET;
	case V2_FAM_TCP6:
	case V2_FAM_UDP6:
		return V2_ADDR_LEN_INET6;
	case V2_FAM_UNIX_STREAM:
	case V2_FAM_UNIX_DGRAM:
		return V2_ADDR_LEN_UNIX;
	default:
		return 0;
	}
}

static bool v2_fam_known(uint8_t fam)
{
	return fam == V2_FAM_UNSPEC || v2_addr_len(fam) != 0;
}

/* The fixed part is complete: what follows, and how long it is. */
static int v2_fixed(struct proxy_parser *p)
{
	struct proxy_header *h = &p->hdr;
	uint16_t len = be16(p->buf + 14);

	p->total = PROXY_V2_HDR_LEN + (uint32_t)len;
	if (v2_fam_known(h->fam)) {
		p->addr_len = v2_addr_len(h->fam);
		p->walk_tlvs = true;
	}
	if (len < p->addr_len) {
		/* LOCAL discards the block, so a short one does no harm. */
		if (!h->local)
			return fail(p, "v2 length shorter than its addresses");
		p->addr_len = 0;
		p->walk_tlvs = false;
	}
	return p->total == PROXY_V2_HDR_LEN ? PROXY_DONE : STEP_MORE;
}

static int v2_byte(struct proxy_parser *p, uint8_t b)
{
	struct proxy_header *h = &p->hdr;
	uint32_t off;

	if (p->pos < PROXY_V2_HDR_LEN) {
		p->buf[p->pos++] = b;
		if (p->pos <= PROXY_V2_SIG_LEN) {
			if (b != v2_sig[p->pos - 1])
				return fail(p, "not a PROXY header");
			return STEP_MORE;
		}
		if (p->pos == 13) {
			if (b >> 4 != 2)
				return fail(p, "v2 version not 2");
			if ((b & 0xf) > V2_CMD_PROXY)
				return fail(p, "v2 command not LOCAL or PROXY");
			h->version = 2;
			h->local = (b & 0xf) == V2_CMD_LOCAL;
		} else if (p->pos == 14) {
			/* LOCAL ignores the family, so only PROXY needs a
			 * known one. */
			h->fam = b;
			if (!h->local && !v2_fam_known(b))
				return fail(p, "v2 unknown family/transport");
		} else if (p->pos == PROXY_V2_HDR_LEN) {
			return v2_fixed(p);
		}
		return STEP_MORE;
	}

	off = p->pos - PROXY_V2_HDR_LEN;
	p->pos++;
	if (off < p->addr_len) {
		/* Only IPv4 and IPv6 blocks are kept; unix paths are
		 * skipped. */
		if (p->addr_len <= V2_ADDR_LEN_INET6)
			p->buf[PROXY_V2_HDR_LEN + off] = b;
		if (off + 1 == p->addr_len && !h->local &&
		    (h->fam == V2_FAM_TCP4 || h->fam == V2_FAM_TCP6))
			v2_addrs(p);
	} else if (p->walk_tlvs) {
		if (tlv_byte(p, b) != STEP_MORE)
			return PROXY_INVALID;
	}
	if (p->pos < p->total)
		return STEP_MORE;
	if (p->walk_tlvs && p->tlv.nhdr)
		return fail(p, "v2 TLV cut by the header's end");
	return PROXY_DONE;
}

static int step(struct proxy_parser *p, uint8_t b)
{
	switch (p->state) {
	case ST_START:
		if (b == v1_prefix[0]) {
			p->state = ST_V1;
			return v1_byte(p, b);
		}
		if (b == v2_sig[0]) {
			p->state = ST_V2;
			return v2_byte(p, b);
		}
		return fail(p, "not a PROXY header");
	case ST_V1:
		return v1_byte(p, b);
	case ST_V2:
		return v2_byte(p, b);
	default:
		return fail(p, "parser misused");
	}
}

int proxy_feed(struct proxy_parser *p, const uint8_t *data, size_t len,
	       size_t *used, struct proxy_header *out)
{
	size_t i;
	int r;

	if (used)
		*used = 0;
	if (p->state == ST_DONE) {
		if (out)
			*out = p->hdr;
		return PROXY_DONE;
	}
	if (p->state == ST_INVALID)
		return PROXY_INVALID;

	for (i = 0; i < len; i++) {
		r = step(p, data[i]);
		if (r == STEP_MORE)
			continue;
		if (used)
			*used = i + 1;
		if (r == PROXY_DONE) {
			p->state = ST_DONE;
			p->hdr.len = p->pos;
			if (out)
				*out = p->hdr;
		}
		return r;
	}
	if (used)
		*used = len;
	return PROXY_NEED_MORE;
}
