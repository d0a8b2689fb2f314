/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS record, ClientHello, ServerHello and SSLv2 CLIENT-HELLO decoding.
 *
 * Written after sniproxy's tls.c and Wireshark's packet-tls-utils.c: a
 * cursor over the input, a bounds check before every read, and every
 * length-prefixed vector checked against the one that encloses it. The
 * bytes come from anyone who can open a TCP connection, so every function
 * is total: any input gives TLS_OK, TLS_NEED_MORE or TLS_MALFORMED. */
#include <string.h>

#include "tls.h"

#define TLS_RANDOM_LEN 32
#define TLS_V_DRAFT_MIN 0x7f00
#define TLS_V_DRAFT_22 0x7f16
#define TLS_MAX_SESSION_ID 32

#define EXT_SERVER_NAME 0
#define EXT_SUPPORTED_GROUPS 10
#define EXT_EC_POINT_FORMATS 11
#define EXT_SIGNATURE_ALGORITHMS 13
#define EXT_ALPN 16
#define EXT_PRE_SHARED_KEY 41
#define EXT_EARLY_DATA 42
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_KEY_SHARE 51

#define SNI_HOST_NAME 0

#define SSL2_HEADER_LEN 2
#define SSL2_MT_CLIENT_HELLO 1
#define SSL2_MT_SERVER_HELLO 4
#define SSL2_SPEC_LEN 3
#define SSL2_SESSION_ID_LEN 16
#define SSL2_MIN_CHALLENGE 16
#define SSL2_MAX_CHALLENGE 32

/* SHA-256("HelloRetryRequest"), RFC 8446 section 4.1.3: a ServerHello
 * with this random is a HelloRetryRequest. */
static const uint8_t hrr_random[TLS_RANDOM_LEN] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool take_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

static bool take_u8(struct cursor *c, uint8_t *v)
{
	if (c->left < 1)
		return false;
	*v = c->p[0];
	return take_skip(c, 1);
}

static bool take_u16(struct cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return false;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	return take_skip(c, 2);
}

static bool take_u24(struct cursor *c, uint32_t *v)
{
	if (c->left < 3)
		return false;
	*v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	return take_skip(c, 3);
}

/* The next n bytes become *sub and are consumed from c. */
static bool take_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	sub->p = c->p;
	sub->left = n;
	return take_skip(c, n);
}

static bool take_vec8(struct cursor *c, struct cursor *sub)
{
	uint8_t n;

	return take_u8(c, &n) && take_sub(c, n, sub);
}

static bool take_vec16(struct cursor *c, struct cursor *sub)
{
	uint16_t n;

	return take_u16(c, &n) && take_sub(c, n, sub);
}

/* Extension bodies that are a single vector must be exactly that vector:
 * bytes after it would be ignored by one implementation and rejected by
 * another, so they make the message malformed. */
static bool take_whole_vec8(struct cursor *ext, struct cursor *v)
{
	return take_vec8(ext, v) && ext->left == 0;
}

static bool take_whole_vec16(struct cursor *ext, struct cursor *v)
{
	return take_vec16(ext, v) && ext->left == 0;
}

/* A non-empty list of 16-bit values; the first max are kept, all are
 * counted (a vector of 2^16 bytes holds under 2^15 of them). */
static bool take_u16_list(struct cursor *v, uint16_t *out, uint8_t *n,
			  uint16_t *total, size_t max)
{
	uint16_t x;

	if (v->left < 2 || v->left % 2)
		return false;
	while (take_u16(v, &x)) {
		if (*n < max)
			out[(*n)++] = x;
		(*total)++;
	}
	return true;
}

bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Each byte is checked as soon as it is there, so that garbage is called
 * MALFORMED at its first byte instead of waiting for five. */
int tls_parse_record_header(const uint8_t *p, size_t len,
			    struct tls_record_header *h)
{
	uint16_t length;

	if (len >= 1 && (p[0] < TLS_CT_CHANGE_CIPHER_SPEC ||
			 p[0] > TLS_CT_HEARTBEAT))
		return TLS_MALFORMED;
	if (len >= 2 && p[1] != 3)
		return TLS_MALFORMED;
	/* SSL 3.0 to TLS 1.3; TLS 1.3 itself writes 0x0301 or 0x0303. */
	if (len >= 3 && p[2] > 4)
		return TLS_MALFORMED;
	if (len >= 4 && (size_t)p[3] << 8 > TLS_MAX_RECORD_LEN)
		return TLS_MALFORMED;
	if (len < TLS_RECORD_HEADER_LEN)
		return TLS_NEED_MORE;
	length = (uint16_t)(p[3] << 8 | p[4]);
	if (length > TLS_MAX_RECORD_LEN)
		return TLS_MALFORMED;
	/* RFC 5246 6.2.1 forbids empty handshake, alert and ChangeCipherSpec
	 * fragments; only application data may be empty (a TLS 1.0 CBC
	 * countermeasure sends such records). */
	if (length == 0 && p[0] != TLS_CT_APPLICATION_DATA)
		return TLS_MALFORMED;
	h->type = p[0];
	h->version = (uint16_t)(p[1] << 8 | p[2]);
	h->length = length;
	return TLS_OK;
}

int tls_parse_handshake_header(const uint8_t *p, size_t len, uint8_t *type,
			       uint32_t *body_len)
{
	struct cursor c = { p, len };

	if (len < TLS_HS_HEADER_LEN)
		return TLS_NEED_MORE;
	take_u8(&c, type);
	take_u24(&c, body_len);
	return TLS_OK;
}

static void add_cipher(struct tls_client_hello *ch, uint32_t suite)
{
	if (ch->n_ciphers < TLS_MAX_CIPHERS)
		ch->ciphers[ch->n_ciphers++] = suite;
	ch->total_ciphers++;
	if (suite == TLS_CIPHER_FALLBACK_SCSV)
		ch->fallback_scsv = true;
}

/* Names are kept cut to TLS_MAX_ALPN_LEN; RFC 7301 forbids empty ones. */
static bool take_alpn(struct cursor *ext, struct tls_alpn_list *a)
{
	struct cursor list, name;

	if (!take_whole_vec16(ext, &list) || list.left == 0)
		return false;
	while (list.left) {
		if (!take_vec8(&list, &name) || name.left == 0)
			return false;
		if (a->n < TLS_MAX_ALPN) {
			a->len[a->n] = name.left < TLS_MAX_ALPN_LEN ?
				(uint8_t)name.left : TLS_MAX_ALPN_LEN;
			a->last[a->n] = name.p[name.left - 1];
			memcpy(a->name[a->n], name.p, a->len[a->n]);
			a->n++;
		}
		if (a->total < UINT8_MAX)
			a->total++;
	}
	return true;
}

/* RFC 6066 3: the first host_name is the one servers use. Other name
 * types have never been defined; they are framed like host_name by every
 * implementation, so they are skipped that way. */
static bool ch_server_name(struct tls_client_hello *ch, struct cursor *ext)
{
	struct cursor list, name;
	uint8_t type;

	if (!take_whole_vec16(ext, &list) || list.left == 0)
		return false;
	while (list.left) {
		if (!take_u8(&list, &type) || !take_vec16(&list, &name))
			return false;
		if (type != SNI_HOST_NAME)
			continue;
		if (name.left == 0)
			return false;
		if (ch->has_sni)
			continue;
		ch->has_sni = true;
		ch->sni_truncated = name.left > TLS_MAX_SNI;
		ch->sni_len = ch->sni_truncated ? TLS_MAX_SNI :
			(uint8_t)name.left;
		memcpy(ch->sni, name.p, ch->sni_len);
	}
	return true;
}

/* Sets version to the highest non-GREASE entry, over every entry and not
 * only the ones kept. */
static bool ch_supported_versions(struct tls_client_hello *ch,
				  struct cursor *ext)
{
	struct cursor list;
	uint16_t v;

	if (!take_whole_vec8(ext, &list) || list.left < 2 || list.left % 2)
		return false;
	ch->has_supported_versions = true;
	while (take_u16(&list, &v)) {
		if (ch->n_versions < TLS_MAX_VERSIONS)
			ch->versions[ch->n_versions++] = v;
		if (!tls_is_grease(v) && v > ch->version)
			ch->version = v;
	}
	return true;
}

static bool ch_point_formats(struct tls_client_hello *ch, struct cursor *ext)
{
	struct cursor list;
	uint8_t f;

	if (!take_whole_vec8(ext, &list) || list.left == 0)
		return false;
	/* A vec8 holds at most 255, so the total cannot wrap. */
	while (take_u8(&list, &f)) {
		if (ch->n_point_formats < TLS_MAX_POINT_FORMATS)
			ch->point_formats[ch->n_point_formats++] = f;
		ch->total_point_formats++;
	}
	return true;
}

/* KeyShareClientHello: a possibly empty list of (group, key) entries. */
static bool ch_key_share(struct cursor *ext)
{
	struct cursor list, key;
	uint16_t group;

	if (!take_whole_vec16(ext, &list))
		return false;
	while (list.left)
		if (!take_u16(&list, &group) || !take_vec16(&list, &key) ||
		    key.left == 0)
			return false;
	return true;
}

/* OfferedPsks: identities (opaque<1..> plus a 32-bit age) and binders
 * (opaque<32..255>), both non-empty, filling the extension. */
static bool ch_pre_shared_key(struct cursor *ext)
{
	struct cursor ids, binders, v;

	if (!take_vec16(ext, &ids) || ids.left == 0 ||
	    !take_whole_vec16(ext, &binders) || binders.left == 0)
		return false;
	while (ids.left)
		if (!take_vec16(&ids, &v) || v.left == 0 || !take_skip(&ids, 4))
			return false;
	while (binders.left)
		if (!take_vec8(&binders, &v) || v.left < 32)
			return false;
	return true;
}

static bool ch_extension(void *msg, uint16_t type, struct cursor *ext)
{
	struct tls_client_hello *ch = msg;
	struct cursor list;

	switch (type) {
	case EXT_SERVER_NAME:
		return ch_server_name(ch, ext);
	case EXT_ALPN:
		ch->has_alpn = true;
		return take_alpn(ext, &ch->alpn);
	case EXT_SUPPORTED_VERSIONS:
		return ch_supported_versions(ch, ext);
	case EXT_SUPPORTED_GROUPS:
		return take_whole_vec16(ext, &list) &&
			take_u16_list(&list, ch->groups, &ch->n_groups,
				      &ch->total_groups, TLS_MAX_GROUPS);
	case EXT_SIGNATURE_ALGORITHMS:
		return take_whole_vec16(ext, &list) &&
			take_u16_list(&list, ch->sigalgs, &ch->n_sigalgs,
				      &ch->total_sigalgs, TLS_MAX_SIGALGS);
	case EXT_EC_POINT_FORMATS:
		return ch_point_formats(ch, ext);
	case EXT_EARLY_DATA:
		/* Empty in a ClientHello (RFC 8446 4.2.10). */
		ch->has_early_data = true;
		return ext->left == 0;
	case EXT_KEY_SHARE:
		ch->has_key_share = true;
		return ch_key_share(ext);
	case EXT_PRE_SHARED_KEY:
		ch->has_psk = true;
		return ch_pre_shared_key(ext);
	}
	return true;
}

/* RFC 8446 4.2.8: a ServerHello holds one KeyShareEntry (a non-empty key
 * follows the group); a HelloRetryRequest only the group it wants. */
static bool sh_key_share(struct tls_server_hello *sh, struct cursor *ext)
{
	struct cursor key;

	if (!take_u16(ext, &sh->group))
		return false;
	if (sh->hrr)
		return ext->left == 0;
	return take_whole_vec16(ext, &key) && key.left > 0;
}

static bool sh_extension(void *msg, uint16_t type, struct cursor *ext)
{
	struct tls_server_hello *sh = msg;

	switch (type) {
	case EXT_KEY_SHARE:
		return sh_key_share(sh, ext);
	case EXT_SUPPORTED_VERSIONS:
		return take_u16(ext, &sh->selected_version) && ext->left == 0;
	case EXT_ALPN:
		/* RFC 7301 3.1: the server names exactly one protocol. */
		sh->has_alpn = true;
		return take_alpn(ext, &sh->alpn) && sh->alpn.total == 1;
	}
	return true;
}

/* The extensions block, which must end the message exactly. Types are
 * kept in wire order, and a repeated type is malformed (RFC 8446 4.2;
 * servers reject it, so a passive decoder must not guess which copy
 * counts). The bitmap covers all 2^16 types because counts are not
 * bounded by what is kept; its 8 KiB are not cleared for every hello,
 * only each 64-bit word as it is first used (a hello touches a few). */
static bool walk_extensions(struct cursor *c, uint16_t *types, uint16_t *n,
			    uint16_t *total,
			    bool (*fn)(void *, uint16_t, struct cursor *),
			    void *msg)
{
	uint64_t seen[65536 / 64];
	uint64_t used[65536 / 64 / 64] = { 0 };	/* words of seen in use */
	struct cursor block, ext;
	uint16_t type;

	if (!take_whole_vec16(c, &block))
		return false;
	while (block.left) {
		uint16_t w;
		uint64_t bit;

		if (!take_u16(&block, &type) || !take_vec16(&block, &ext))
			return false;
		w = type / 64;
		bit = UINT64_C(1) << (type % 64);
		if (!(used[w / 64] & (UINT64_C(1) << (w % 64)))) {
			used[w / 64] |= UINT64_C(1) << (w % 64);
			seen[w] = 0;
		}
		if (seen[w] & bit)
			return false;
		seen[w] |= bit;
		if (*n < TLS_MAX_EXTENSIONS)
			types[(*n)++] = type;
		(*total)++;
		if (!fn(msg, type, &ext))
			return false;
	}
	return true;
}

int tls_parse_client_hello(const uint8_t *body, size_t body_len,
			   struct tls_client_hello *ch)
{
	struct cursor c = { body, body_len }, v;
	uint16_t suite;

	memset(ch, 0, sizeof(*ch));
	ch->cipher_width = 2;
	if (!take_u16(&c, &ch->legacy_version) ||
	    !take_skip(&c, TLS_RANDOM_LEN))
		return TLS_MALFORMED;
	if (!take_vec8(&c, &v) || v.left > TLS_MAX_SESSION_ID)
		return TLS_MALFORMED;
	if (!take_vec16(&c, &v) || v.left < 2 || v.left % 2)
		return TLS_MALFORMED;
	while (take_u16(&v, &suite))
		add_cipher(ch, suite);
	if (!take_vec8(&c, &v) || v.left == 0)
		return TLS_MALFORMED;
	ch->n_compression = (uint8_t)v.left;
	/* Without extensions the message ends right here (SSL 3.0 style). */
	if (c.left) {
		ch->has_extensions = true;
		if (!walk_extensions(&c, ch->extensions, &ch->n_extensions,
				     &ch->total_extensions, ch_extension, ch))
			return TLS_MALFORMED;
	}
	/* ch_supported_versions left 0 when it found no real version. */
	if (!ch->version)
		ch->version = ch->legacy_version;
	return TLS_OK;
}

int tls_parse_server_hello(const uint8_t *body, size_t body_len,
			   struct tls_server_hello *sh)
{
	struct cursor c = { body, body_len }, v;
	bool draft;

	memset(sh, 0, sizeof(*sh));
	if (!take_u16(&c, &sh->legacy_version) ||
	    !take_sub(&c, TLS_RANDOM_LEN, &v))
		return TLS_MALFORMED;
	sh->hrr = !memcmp(v.p, hrr_random, TLS_RANDOM_LEN);
	/* TLS 1.3 drafts before -22 sent their own version here, with no
	 * session_id and no compression; early Chrome and Firefox captures
	 * still hold them. */
	draft = sh->legacy_version >= TLS_V_DRAFT_MIN &&
		sh->legacy_version < TLS_V_DRAFT_22;
	if (!draft && (!take_vec8(&c, &v) || v.left > TLS_MAX_SESSION_ID))
		return TLS_MALFORMED;
	if (!take_u16(&c, &sh->cipher))
		return TLS_MALFORMED;
	if (!draft && !take_u8(&c, &sh->compression))
		return TLS_MALFORMED;
	if (c.left && !walk_extensions(&c, sh->extensions, &sh->n_extensions,
				       &sh->total_extensions, sh_extension,
				       sh))
		return TLS_MALFORMED;
	sh->version = sh->selected_version ? sh->selected_version :
		sh->legacy_version;
	return TLS_OK;
}

int tls_sslv2_record_len(const uint8_t *p, size_t len, uint32_t *rec_len)
{
	uint32_t n;

	/* A clear top bit is the 3-byte header with padding, which only
	 * follows key exchange: never a hello. */
	if (len >= 1 && !(p[0] & 0x80))
		return TLS_MALFORMED;
	if (len < SSL2_HEADER_LEN)
		return TLS_NEED_MORE;
	n = (uint32_t)(p[0] & 0x7f) << 8 | p[1];
	if (n == 0)
		return TLS_MALFORMED;
	*rec_len = n + SSL2_HEADER_LEN;
	return TLS_OK;
}

/* The fixed part is checked as far as it is there, so that a partial
 * record is NEED_MORE only while it can still become a valid hello. */
int tls_parse_sslv2_client_hello(const uint8_t *p, size_t len,
				 struct tls_client_hello *ch)
{
	struct cursor c, specs;
	uint32_t rec_len, spec;
	uint16_t spec_len, sid_len, chal_len;
	uint8_t type;
	int ret;

	ret = tls_sslv2_record_len(p, len, &rec_len);
	if (ret != TLS_OK)
		return ret;
	memset(ch, 0, sizeof(*ch));
	c.p = p + SSL2_HEADER_LEN;
	c.left = (len < rec_len ? len : rec_len) - SSL2_HEADER_LEN;
	ret = len < rec_len ? TLS_NEED_MORE : TLS_MALFORMED;

	if (!take_u8(&c, &type))
		return ret;
	if (type != SSL2_MT_CLIENT_HELLO)
		return TLS_MALFORMED;
	if (!take_u16(&c, &ch->legacy_version))
		return ret;
	if (!take_u16(&c, &spec_len))
		return ret;
	if (spec_len == 0 || spec_len % SSL2_SPEC_LEN)
		return TLS_MALFORMED;
	if (!take_u16(&c, &sid_len))
		return ret;
	if (sid_len != 0 && sid_len != SSL2_SESSION_ID_LEN)
		return TLS_MALFORMED;
	if (!take_u16(&c, &chal_len))
		return ret;
	if (chal_len < SSL2_MIN_CHALLENGE || chal_len > SSL2_MAX_CHALLENGE)
		return TLS_MALFORMED;
	/* 9 bytes of fixed fields, then exactly the three vectors. */
	if (rec_len - SSL2_HEADER_LEN - 9 !=
	    (uint32_t)spec_len + sid_len + chal_len)
		return TLS_MALFORMED;
	if (len < rec_len)
		return TLS_NEED_MORE;

	ch->sslv2_format = true;
	ch->version = ch->legacy_version;
	ch->cipher_width = SSL2_SPEC_LEN;
	take_sub(&c, spec_len, &specs);
	while (take_u24(&specs, &spec))
		add_cipher(ch, spec);
	return TLS_OK;
}

int tls_sslv2_msg_type(const uint8_t *p, size_t len)
{
	uint32_t rec_len;

	if (tls_sslv2_record_len(p, len, &rec_len) != TLS_OK ||
	    len <= SSL2_HEADER_LEN)
		return -1;
	return p[SSL2_HEADER_LEN];
}

static enum tls_sniff sniff_tls(const uint8_t *p, size_t len)
{
	if (len >= 2 && p[1] != 3)
		return SNIFF_UNKNOWN;
	if (len < 3)
		return SNIFF_NEED_MORE;
	return p[2] <= 4 ? SNIFF_TLS : SNIFF_UNKNOWN;
}

/* A CLIENT-HELLO is told by its type and a version a client of that era
 * would send; a SERVER-HELLO by its type alone, as a server answers what
 * it was sent. */
static enum tls_sniff sniff_sslv2(const uint8_t *p, size_t len)
{
	uint16_t v;

	if (len < 2)
		return SNIFF_NEED_MORE;
	if ((p[0] & 0x7f) == 0 && p[1] == 0)
		return SNIFF_UNKNOWN;
	if (len < 3)
		return SNIFF_NEED_MORE;
	if (p[2] == SSL2_MT_SERVER_HELLO)
		return SNIFF_SSLV2;
	if (p[2] != SSL2_MT_CLIENT_HELLO)
		return SNIFF_UNKNOWN;
	if (len >= 4 && p[3] != 0 && p[3] != 3)
		return SNIFF_UNKNOWN;
	if (len < 5)
		return SNIFF_NEED_MORE;
	v = (uint16_t)(p[3] << 8 | p[4]);
	return v == TLS_V_SSL2 || (v >= TLS_V_SSL3 && v <= TLS_V_TLS13) ?
		SNIFF_SSLV2 : SNIFF_UNKNOWN;
}

#define PREFIX(s, kind) { s, sizeof(s) - 1, kind }

static const struct {
	const char *s;
	size_t len;
	enum tls_sniff kind;
} text_prefixes[] = {
	PREFIX("GET ", SNIFF_HTTP),
	PREFIX("POST", SNIFF_HTTP),
	PREFIX("HEAD", SNIFF_HTTP),
	PREFIX("PUT ", SNIFF_HTTP),
	PREFIX("OPTIONS", SNIFF_HTTP),
	PREFIX("CONNECT", SNIFF_HTTP),
	PREFIX("DELETE", SNIFF_HTTP),
	PREFIX("PATCH", SNIFF_HTTP),
	PREFIX("PRI * HTTP/2.0", SNIFF_HTTP),
	PREFIX("HTTP/1.", SNIFF_HTTP),
	PREFIX("SSH-", SNIFF_SSH),
	PREFIX("PROXY ", SNIFF_PROXY),
	PREFIX("\r\n\r\n\0\r\nQUIT\n", SNIFF_PROXY),
};

static enum tls_sniff sniff_text(const uint8_t *p, size_t len)
{
	bool prefix = false;
	size_t i;

	for (i = 0; i < sizeof(text_prefixes) / sizeof(text_prefixes[0]);
	     i++) {
		size_t n = text_prefixes[i].len;

		if (len >= n && !memcmp(p, text_prefixes[i].s, n))
			return text_prefixes[i].kind;
		if (len < n && !memcmp(p, text_prefixes[i].s, len))
			prefix = true;
	}
	return prefix ? SNIFF_NEED_MORE : SNIFF_UNKNOWN;
}

/* The first byte already splits the kinds: TLS content types, the SSLv2
 * length bit, and ASCII for the rest. */
enum tls_sniff tls_sniff(const uint8_t *p, size_t len)
{
	if (len == 0)
		return SNIFF_NEED_MORE;
	if (p[0] >= TLS_CT_CHANGE_CIPHER_SPEC && p[0] <= TLS_CT_HEARTBEAT)
		return sniff_tls(p, len);
	if (p[0] & 0x80)
		return sniff_sslv2(p, len);
	return sniff_text(p, len);
}
