/* SPDX-License-Identifier: BSD-3-Clause */
/* Vectors for user/proxy.c, the incremental PROXY protocol parser.
 *
 * Every good header is fed whole, followed by the start of a TLS record
 * (the parser must stop exactly at the header's end), one byte at a time,
 * and cut into two and three pieces at every possible point: each way must
 * give the same header and the same byte accounting. Every bad header is
 * refused the same way whole and byte by byte. Every row of every table
 * runs as its own named test.
 *
 * Vectors marked "haproxy" were captured from HAProxy 2.6.12 (Debian 12)
 * sending to a Python listener on 127.0.0.1: `send-proxy` (v1),
 * `send-proxy-v2`, `send-proxy-v2 proxy-v2-options ssl,authority,unique-id`
 * behind `bind ... ssl` with `unique-id-format abcdef0123456789` and
 * `openssl s_client -servername example.test`, and a `check` health check
 * (LOCAL). Clients connected over 127.0.0.1 and ::1. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "proxy.h"
#include "table.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A header given as bytes, or as text without its NUL. */
#define BYTES(...)							\
	.hdr = (const uint8_t[]){ __VA_ARGS__ },			\
	.len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define TEXT(s) .hdr = (const uint8_t *)(s), .len = sizeof(s) - 1

#define V2_SIG								\
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,			\
	0x55, 0x49, 0x54, 0x0a

/* What follows the header on the wire: a TLS ClientHello's first bytes. */
static const uint8_t tls_tail[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01 };

struct good {
	const char *name;
	const uint8_t *hdr;
	size_t len;		/* the header alone */
	uint8_t version;
	bool local;
	int af;			/* 0: no addresses */
	const char *src, *dst;
	uint16_t sport, dport;
	const char *authority;	/* NULL: none */
	bool has_ssl, ssl_tls;
	uint32_t ssl_verify;
	uint16_t ntlvs;
};

static const struct good goods[] = {
	{
		.name = "v1 TCP4 haproxy",
		TEXT("PROXY TCP4 127.0.0.1 127.0.0.1 38924 19001\r\n"),
		.version = 1, .af = AF_INET,
		.src = "127.0.0.1", .dst = "127.0.0.1",
		.sport = 38924, .dport = 19001,
	},
	{
		.name = "v1 TCP6 haproxy",
		TEXT("PROXY TCP6 ::1 ::1 40118 19011\r\n"),
		.version = 1, .af = AF_INET6, .src = "::1", .dst = "::1",
		.sport = 40118, .dport = 19011,
	},
	{
		.name = "v1 TCP6 longest addresses",
		TEXT("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535 65535\r\n"),
		.version = 1, .af = AF_INET6,
		.src = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		.dst = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
		.sport = 65535, .dport = 65535,
	},
	{
		.name = "v1 TCP6 IPv4-mapped",
		TEXT("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1 443\r\n"),
		.version = 1, .af = AF_INET6,
		.src = "::ffff:192.0.2.1", .dst = "2001:db8::2",
		.sport = 1, .dport = 443,
	},
	{
		.name = "v1 TCP4 edge values",
		TEXT("PROXY TCP4 255.255.255.255 0.0.0.0 0 65535\r\n"),
		.version = 1, .af = AF_INET,
		.src = "255.255.255.255", .dst = "0.0.0.0",
		.sport = 0, .dport = 65535,
	},
	{
		.name = "v1 UNKNOWN",
		TEXT("PROXY UNKNOWN\r\n"),
		.version = 1, .local = true,
	},
	{
		/* The spec's worst case: exactly 107 bytes, junk ignored. */
		.name = "v1 UNKNOWN 107 bytes",
		TEXT("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff "
		     "65535 65535 and more text that must be ignored, "
		     "up to 107 b\r\n"),
		.version = 1, .local = true,
	},
	{
		.name = "v2 TCP4 haproxy",
		BYTES(V2_SIG,
		      0x21,		/* version 2, PROXY */
		      0x11,		/* TCP over IPv4 */
		      0x00, 0x0c,	/* length 12 */
		      0x7f, 0x00, 0x00, 0x01,	/* src */
		      0x7f, 0x00, 0x00, 0x01,	/* dst */
		      0x8d, 0x50,	/* sport 36176 */
		      0x4a, 0x3a),	/* dport 19002 */
		.version = 2, .af = AF_INET,
		.src = "127.0.0.1", .dst = "127.0.0.1",
		.sport = 36176, .dport = 19002,
	},
	{
		.name = "v2 TCP6 haproxy",
		BYTES(V2_SIG,
		      0x21, 0x21,	/* PROXY, TCP over IPv6 */
		      0x00, 0x24,	/* length 36 */
		      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		      0xc6, 0xac,	/* sport 50860 */
		      0x4a, 0x44),	/* dport 19012 */
		.version = 2, .af = AF_INET6, .src = "::1", .dst = "::1",
		.sport = 50860, .dport = 19012,
	},
	{
		.name = "v2 TCP4 ssl,authority,unique-id haproxy",
		BYTES(V2_SIG,
		      0x21, 0x11,
		      0x00, 0x40,	/* length 64 */
		      0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01,
		      0xe3, 0xda, 0x4a, 0x3b,	/* 58330 -> 19003 */
		      0x02, 0x00, 0x0c,	/* AUTHORITY, 12 */
		      'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 't', 'e', 's',
		      't',
		      0x05, 0x00, 0x10,	/* UNIQUE_ID, 16 */
		      'a', 'b', 'c', 'd', 'e', 'f', '0', '1', '2', '3', '4',
		      '5', '6', '7', '8', '9',
		      0x20, 0x00, 0x0f,	/* SSL, 15 */
		      0x01,		/* client: PP2_CLIENT_SSL */
		      0x00, 0x00, 0x00, 0x00,	/* verify: ok */
		      0x21, 0x00, 0x07,	/* SSL_VERSION, 7 */
		      'T', 'L', 'S', 'v', '1', '.', '3'),
		.version = 2, .af = AF_INET,
		.src = "127.0.0.1", .dst = "127.0.0.1",
		.sport = 58330, .dport = 19003,
		.authority = "example.test", .has_ssl = true, .ssl_tls = true,
		.ntlvs = 3,
	},
	{
		.name = "v2 LOCAL haproxy health check",
		BYTES(V2_SIG, 0x20, 0x00, 0x00, 0x00),
		.version = 2, .local = true,
	},
	{
		.name = "v2 TCP6 many TLVs",
		BYTES(V2_SIG,
		      0x21, 0x21,
		      0x00, 0x7e,	/* length 126: 36 + 90 of TLVs */
		      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		      0, 0, 0, 0, 0, 0, 0, 0x01,	/* 2001:db8::1 */
		      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		      0, 0, 0, 0, 0, 0, 0, 0x02,	/* 2001:db8::2 */
		      0xc8, 0x22, 0x01, 0xbb,	/* 51234 -> 443 */
		      0x04, 0x00, 0x00,	/* NOOP, empty */
		      0x02, 0x00, 0x0f,	/* AUTHORITY, 15 */
		      'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		      '.', 'c', 'o', 'm',
		      0x20, 0x00, 0x36,	/* SSL, 54 */
		      0x07,		/* SSL | CERT_CONN | CERT_SESS */
		      0x00, 0x00, 0x00, 0x0a,	/* verify: 10 */
		      0x21, 0x00, 0x07,	/* SSL_VERSION, 7 */
		      'T', 'L', 'S', 'v', '1', '.', '2',
		      0x22, 0x00, 0x06,	/* SSL_CN, 6 */
		      'c', 'l', 'i', 'e', 'n', 't',
		      0x23, 0x00, 0x1b,	/* SSL_CIPHER, 27 */
		      'E', 'C', 'D', 'H', 'E', '-', 'R', 'S', 'A', '-', 'A',
		      'E', 'S', '1', '2', '8', '-', 'G', 'C', 'M', '-', 'S',
		      'H', 'A', '2', '5', '6',
		      0x05, 0x00, 0x04,	/* UNIQUE_ID, 4 */
		      0xde, 0xad, 0xbe, 0xef,
		      0xe0, 0x00, 0x02,	/* a custom type, 2 */
		      0x01, 0x02),
		.version = 2, .af = AF_INET6,
		.src = "2001:db8::1", .dst = "2001:db8::2",
		.sport = 51234, .dport = 443,
		.authority = "www.example.com", .has_ssl = true,
		.ssl_tls = true, .ssl_verify = 10, .ntlvs = 5,
	},
	{
		/* The SSL TLV's presence alone does not mean TLS. */
		.name = "v2 SSL TLV without the client bit",
		BYTES(V2_SIG, 0x21, 0x11, 0x00, 0x14,
		      192, 0, 2, 1, 192, 0, 2, 2, 0x30, 0x39, 0x00, 0x50,
		      0x20, 0x00, 0x05,	/* SSL, 5: no sub-TLVs */
		      0x00, 0x00, 0x00, 0x00, 0x00),
		.version = 2, .af = AF_INET, .src = "192.0.2.1",
		.dst = "192.0.2.2", .sport = 12345, .dport = 80,
		.has_ssl = true, .ntlvs = 1,
	},
	{
		.name = "v2 UNSPEC",
		BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x00),
		.version = 2,
	},
	{
		.name = "v2 UNSPEC with a TLV",
		BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x06,
		      0x02, 0x00, 0x03, 'a', '.', 'b'),
		.version = 2, .authority = "a.b", .ntlvs = 1,
	},
	{
		.name = "v2 UDP4",
		BYTES(V2_SIG, 0x21, 0x12, 0x00, 0x0c,
		      192, 0, 2, 1, 192, 0, 2, 2, 0x00, 0x35, 0x00, 0x35),
		.version = 2,
	},
	{
		.name = "v2 UDP6 with a TLV",
		BYTES(V2_SIG, 0x21, 0x22, 0x00, 0x2a,
		      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		      0x01, 0xbb, 0x01, 0xbb,
		      0x02, 0x00, 0x03, 'x', '.', 'y'),
		.version = 2, .authority = "x.y", .ntlvs = 1,
	},
	{
		/* Addresses ignored, but the TLVs after them are read. */
		.name = "v2 LOCAL with TCP4 addresses and a TLV",
		BYTES(V2_SIG, 0x20, 0x11, 0x00, 0x12,
		      10, 0, 0, 1, 10, 0, 0, 2, 0x00, 0x01, 0x00, 0x02,
		      0x02, 0x00, 0x03, 'h', '.', 'c'),
		.version = 2, .local = true, .authority = "h.c", .ntlvs = 1,
	},
	{
		/* LOCAL discards the block, family included. */
		.name = "v2 LOCAL with an unknown family",
		BYTES(V2_SIG, 0x20, 0xff, 0x00, 0x03, 0x01, 0x00, 0x09),
		.version = 2, .local = true,
	},
	{
		.name = "v2 LOCAL with a short address block",
		BYTES(V2_SIG, 0x20, 0x21, 0x00, 0x04, 1, 2, 3, 4),
		.version = 2, .local = true,
	},
};

struct bad {
	const char *name;
	const uint8_t *hdr;
	size_t len;
	const char *why;	/* a substring of proxy_error() */
};

static const struct bad bads[] = {
	{ "v1 lowercase proxy", TEXT("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	  "not a PROXY" },
	{ "v1 lowercase tcp4", TEXT("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"),
	  "protocol" },
	{ "v1 TCP5", TEXT("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), "protocol" },
	{ "v1 UNKNOWNX", TEXT("PROXY UNKNOWNX\r\n"), "protocol" },
	{ "v1 no protocol", TEXT("PROXY \r\n"), "protocol missing" },
	{ "v1 TCP4 alone", TEXT("PROXY TCP4\r\n"), "addresses missing" },
	{ "v1 TCP4 and a space", TEXT("PROXY TCP4 \r\n"),
	  "addresses missing" },
	{ "v1 double space after PROXY",
	  TEXT("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), "protocol missing" },
	{ "v1 double space between addresses",
	  TEXT("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), "destination address" },
	{ "v1 double space before a port",
	  TEXT("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n"), "source port" },
	{ "v1 trailing space", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	  "destination port" },
	{ "v1 extra field", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	  "destination port" },
	{ "v1 missing port", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
	  "destination port" },
	{ "v1 octet 256", TEXT("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
	  "source address" },
	{ "v1 three octets", TEXT("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	  "source address" },
	{ "v1 IPv6 under TCP4", TEXT("PROXY TCP4 ::1 ::1 1 2\r\n"),
	  "source address" },
	{ "v1 IPv4 under TCP6", TEXT("PROXY TCP6 ::1 1.2.3.4 1 2\r\n"),
	  "destination address" },
	{ "v1 bad IPv6", TEXT("PROXY TCP6 ::1::2 ::1 1 2\r\n"),
	  "source address" },
	{ "v1 address with a NUL",
	  BYTES('P', 'R', 'O', 'X', 'Y', ' ', 'T', 'C', 'P', '4', ' ',
		'1', '.', '2', '.', '3', '.', '4', 0, 'x', ' ',
		'5', '.', '6', '.', '7', '.', '8', ' ', '1', ' ', '2',
		'\r', '\n'),
	  "source address" },
	{ "v1 port 65536", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	  "source port" },
	{ "v1 port 99999", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
	  "destination port" },
	{ "v1 port six digits",
	  TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n"), "source port" },
	{ "v1 port with a sign", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
	  "source port" },
	{ "v1 negative port", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n"),
	  "destination port" },
	{ "v1 port with junk", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n"),
	  "destination port" },
	{ "v1 port in hex", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n"),
	  "source port" },
	{ "v1 LF without CR", TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
	  "CRLF" },
	{ "v1 UNKNOWN LF without CR", TEXT("PROXY UNKNOWN\n"), "CRLF" },
	{ "v1 108 bytes",
	  TEXT("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff "
	       "65535 65535 and more text that must be ignored, "
	       "up to 107 by\r\n"),
	  "longer than 107" },
	{ "v1 no CRLF in 107 bytes",
	  TEXT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 "
	       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	       "xxxxxxxxxxxxxxxx"),
	  "longer than 107" },
	{ "TLS record", BYTES(0x16, 0x03, 0x01, 0x00, 0x05), "not a PROXY" },
	{ "v2 bad signature",
	  BYTES(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0d),
	  "not a PROXY" },
	{ "v2 version 1", BYTES(V2_SIG, 0x11, 0x11, 0x00, 0x0c), "version" },
	{ "v2 version 3", BYTES(V2_SIG, 0x31, 0x11, 0x00, 0x0c), "version" },
	{ "v2 command 2", BYTES(V2_SIG, 0x22, 0x11, 0x00, 0x0c), "command" },
	{ "v2 command 15", BYTES(V2_SIG, 0x2f, 0x11, 0x00, 0x0c), "command" },
	{ "v2 family 4", BYTES(V2_SIG, 0x21, 0x41, 0x00, 0x0c), "family" },
	{ "v2 transport 3", BYTES(V2_SIG, 0x21, 0x13, 0x00, 0x0c), "family" },
	{ "v2 UNSPEC stream", BYTES(V2_SIG, 0x21, 0x01, 0x00, 0x00),
	  "family" },
	{ "v2 TCP4 length 11", BYTES(V2_SIG, 0x21, 0x11, 0x00, 0x0b),
	  "shorter than its addresses" },
	{ "v2 TCP6 length 12", BYTES(V2_SIG, 0x21, 0x21, 0x00, 0x0c),
	  "shorter than its addresses" },
	{ "v2 unix length 36", BYTES(V2_SIG, 0x21, 0x31, 0x00, 0x24),
	  "shorter than its addresses" },
	{ "v2 TLV overrunning the header",
	  BYTES(V2_SIG, 0x21, 0x11, 0x00, 0x12,
		1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2,
		0x02, 0x00, 0x04, 'a', '.', 'b'),
	  "runs past the header" },
	{ "v2 huge TLV in a short header",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x03, 0x04, 0xff, 0xff),
	  "runs past the header" },
	{ "v2 TLV header cut after 1 byte",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x04, 0x04, 0x00, 0x00, 0x04),
	  "cut by the header" },
	{ "v2 TLV header cut after 2 bytes",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x05,
		0x04, 0x00, 0x00, 0x04, 0x00),
	  "cut by the header" },
	{ "v2 SSL TLV shorter than 5",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x07,
		0x20, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00),
	  "shorter than 5" },
	{ "v2 SSL sub-TLV overrunning the SSL TLV",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x0e,
		0x20, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x21, 0x00, 0x02, 'T',
		0x04, 0x00, 0x00),	/* would fit the header */
	  "runs past the SSL TLV" },
	{ "v2 SSL sub-TLV header cut",
	  BYTES(V2_SIG, 0x21, 0x00, 0x00, 0x0a,
		0x20, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x21, 0x00),
	  "cut by the SSL TLV" },
};

/* An exact-size heap copy, so that AddressSanitizer sees a read one byte
 * past the end. */
static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	memcpy(b, p, n);
	return b;
}

/* The header followed by the TLS bytes. */
static uint8_t *with_tail(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n + sizeof(tls_tail));

	assert_non_null(b);
	memcpy(b, p, n);
	memcpy(b + n, tls_tail, sizeof(tls_tail));
	return b;
}

static void check_ep(const struct endpoint *e, int af, const char *addr,
		     uint16_t port)
{
	uint8_t want[16] = { 0 };

	assert_int_equal(inet_pton(af, addr, want), 1);
	assert_int_equal(e->family, af);
	assert_memory_equal(e->addr, want, sizeof(want));
	assert_int_equal(e->port, port);
}

static void check_header(const struct good *g, const struct proxy_header *h)
{
	assert_int_equal(h->version, g->version);
	assert_int_equal(h->local, g->local);
	assert_int_equal(h->len, g->len);
	assert_int_equal(h->has_addr, g->af != 0);
	if (g->af) {
		check_ep(&h->src, g->af, g->src, g->sport);
		check_ep(&h->dst, g->af, g->dst, g->dport);
	}
	if (g->authority) {
		assert_int_equal(h->authority_len, strlen(g->authority));
		assert_memory_equal(h->authority, g->authority,
				    h->authority_len);
	} else {
		assert_int_equal(h->authority_len, 0);
	}
	assert_false(h->authority_truncated);
	assert_int_equal(h->has_ssl, g->has_ssl);
	assert_int_equal(h->ssl_client_tls, g->ssl_tls);
	assert_int_equal(h->ssl_verify, g->ssl_verify);
	assert_int_equal(h->ntlvs, g->ntlvs);
}

/* Feeds b[0..n) in the pieces that cuts[] (ascending, within n) make,
 * expecting DONE exactly at hlen bytes; checks each piece's accounting. */
static void feed_pieces(const struct good *g, const uint8_t *b, size_t n,
			const size_t *cuts, size_t ncuts)
{
	struct proxy_parser p;
	struct proxy_header h;
	size_t start = 0, i, used;
	bool done = false;
	int r;

	proxy_init(&p);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		uint8_t *piece = dup_bytes(b + start, end - start);

		memset(&h, 0xa5, sizeof(h));
		r = proxy_feed(&p, piece, end - start, &used, &h);
		free(piece);
		if (done) {
			assert_int_equal(r, PROXY_DONE);
			assert_int_equal(used, 0);
		} else if (end < g->len) {
			assert_int_equal(r, PROXY_NEED_MORE);
			assert_int_equal(used, end - start);
		} else {
			assert_int_equal(r, PROXY_DONE);
			assert_int_equal(used, g->len - start);
			check_header(g, &h);
			done = true;
		}
		start = end;
	}
	assert_true(done);
}

static void test_good(void **state)
{
	const struct good *g = *state;
	size_t n = g->len + sizeof(tls_tail), i, j, cuts[2];
	uint8_t *b = with_tail(g->hdr, g->len);
	struct proxy_parser p;
	size_t used;

	assert_int_equal(proxy_sniff(b, n), 1);

	/* Whole, with the TLS bytes after it. */
	feed_pieces(g, b, n, NULL, 0);

	/* Cut short anywhere: still waiting, having taken everything. */
	for (i = 0; i < g->len; i++) {
		uint8_t *c = dup_bytes(b, i);

		proxy_init(&p);
		assert_int_equal(proxy_feed(&p, c, i, &used, NULL),
				 PROXY_NEED_MORE);
		assert_int_equal(used, i);
		assert_null(proxy_error(&p));
		free(c);
	}

	/* One byte at a time. */
	{
		size_t all[PROXY_V1_MAX_LEN + 512];

		assert_true(n - 1 <= ARRAY_SIZE(all));
		for (i = 0; i + 1 < n; i++)
			all[i] = i + 1;
		feed_pieces(g, b, n, all, n - 1);
	}

	/* Two and three pieces, at every point. */
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		feed_pieces(g, b, n, cuts, 1);
		for (j = i; j <= n; j++) {
			cuts[1] = j;
			feed_pieces(g, b, n, cuts, 2);
		}
	}
	free(b);
}

/* Returns the result and, in *used_total, how many bytes were taken. */
static int feed_bytewise(struct proxy_parser *p, const uint8_t *b, size_t n,
			 size_t *used_total)
{
	size_t i, used;
	int r = PROXY_NEED_MORE;

	*used_total = 0;
	for (i = 0; i < n; i++) {
		uint8_t *c = dup_bytes(b + i, 1);

		r = proxy_feed(p, c, 1, &used, NULL);
		free(c);
		*used_total += used;
		if (r != PROXY_NEED_MORE)
			break;
	}
	return r;
}

static void test_bad(void **state)
{
	const struct bad *t = *state;
	uint8_t *b = with_tail(t->hdr, t->len);
	struct proxy_parser p;
	const char *why;
	size_t used, used1;

	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, b, t->len + sizeof(tls_tail), &used,
				    NULL), PROXY_INVALID);
	why = proxy_error(&p);
	assert_non_null(why);
	if (!strstr(why, t->why))
		fail_msg("error \"%s\", want \"%s\"", why, t->why);
	/* Refused within the header, not by the bytes after it. */
	assert_in_range(used, 1, t->len);
	/* And it stays refused. */
	assert_int_equal(proxy_feed(&p, b, 1, &used1, NULL), PROXY_INVALID);
	assert_int_equal(used1, 0);

	proxy_init(&p);
	assert_int_equal(feed_bytewise(&p, b, t->len + sizeof(tls_tail),
				       &used1), PROXY_INVALID);
	assert_int_equal(used1, used);
	assert_string_equal(proxy_error(&p), why);
	free(b);
}

/* A v2 header of 16 + len bytes: TCP4 addresses, an AUTHORITY, then NOOP
 * TLVs of at most 65535 bytes each filling the rest, then the SSL TLV. */
static size_t build_big(uint8_t *b, uint16_t len)
{
	static const uint8_t fixed[] = {
		V2_SIG, 0x21, 0x11, 0x00, 0x00,
		203, 0, 113, 7, 198, 51, 100, 1, 0xc8, 0x22, 0x01, 0xbb,
		0x02, 0x00, 0x05, 'b', '.', 'i', 'g', '!',
	};
	static const uint8_t ssl[] = {
		0x20, 0x00, 0x0f, 0x01, 0, 0, 0, 0,
		0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3',
	};
	size_t n = sizeof(fixed), end = PROXY_V2_HDR_LEN + (size_t)len;

	memcpy(b, fixed, n);
	b[14] = (uint8_t)(len >> 8);
	b[15] = (uint8_t)len;
	while (end - n - sizeof(ssl) >= 3) {
		size_t v = end - n - sizeof(ssl) - 3;

		if (v > 65535)
			v = 65535;
		b[n] = PP2_TYPE_NOOP;
		b[n + 1] = (uint8_t)(v >> 8);
		b[n + 2] = (uint8_t)v;
		memset(b + n + 3, 0x5a, v);
		n += 3 + v;
	}
	assert_int_equal(end - n, sizeof(ssl));	/* len chosen so */
	memcpy(b + n, ssl, sizeof(ssl));
	return end;
}

static void check_big(const uint8_t *b, size_t hlen, size_t chunk)
{
	size_t n = hlen + sizeof(tls_tail), off = 0, used, taken = 0;
	struct proxy_parser p;
	struct proxy_header h;
	char want[INET_ADDRSTRLEN];
	int r = PROXY_NEED_MORE;

	proxy_init(&p);
	while (off < n && r == PROXY_NEED_MORE) {
		size_t k = n - off < chunk ? n - off : chunk;

		r = proxy_feed(&p, b + off, k, &used, &h);
		taken += used;
		off += k;
	}
	assert_int_equal(r, PROXY_DONE);
	assert_int_equal(taken, hlen);
	assert_int_equal(h.len, hlen);
	assert_true(h.has_addr);
	assert_non_null(inet_ntop(AF_INET, h.src.addr, want, sizeof(want)));
	assert_string_equal(want, "203.0.113.7");
	assert_int_equal(h.dst.port, 443);
	assert_int_equal(h.authority_len, 5);
	assert_memory_equal(h.authority, "b.ig!", 5);
	assert_true(h.has_ssl && h.ssl_client_tls);
	assert_true(h.ntlvs >= 3);
	/* The bytes after it are left to the caller. */
	assert_memory_equal(b + hlen, tls_tail, sizeof(tls_tail));
}

static void test_big_tlv_block(void **state)
{
	static const size_t chunks[] = { 1, 3, 7, 1448, 65536, 200000 };
	/* 60000 bytes of TLVs after the 12 address bytes. */
	uint16_t len = 12 + 60000;
	size_t hlen, i;
	uint8_t *b;

	(void)state;
	b = malloc(PROXY_V2_MAX_LEN + sizeof(tls_tail));
	assert_non_null(b);
	hlen = build_big(b, len);
	assert_int_equal(hlen, 16 + 12 + 60000);
	memcpy(b + hlen, tls_tail, sizeof(tls_tail));
	for (i = 0; i < ARRAY_SIZE(chunks); i++)
		check_big(b, hlen, chunks[i]);

	/* The largest header there is. */
	hlen = build_big(b, 65535);
	assert_int_equal(hlen, PROXY_V2_MAX_LEN);
	memcpy(b + hlen, tls_tail, sizeof(tls_tail));
	for (i = 0; i < ARRAY_SIZE(chunks); i++)
		check_big(b, hlen, chunks[i]);

	/* One byte short of its length field: waits, never overruns. */
	{
		struct proxy_parser p;
		size_t used;

		proxy_init(&p);
		assert_int_equal(proxy_feed(&p, b, hlen - 1, &used, NULL),
				 PROXY_NEED_MORE);
		assert_int_equal(used, hlen - 1);
	}
	free(b);
}

static void test_long_authority(void **state)
{
	uint8_t b[16 + 3 + 300];
	struct proxy_parser p;
	struct proxy_header h;
	size_t used;

	(void)state;
	memcpy(b, (const uint8_t[]){ V2_SIG, 0x21, 0x00, 0x01, 0x2f,
				     0x02, 0x01, 0x2c }, 19);
	memset(b + 19, 'n', 300);
	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, b, sizeof(b), &used, &h), PROXY_DONE);
	assert_int_equal(used, sizeof(b));
	assert_int_equal(h.authority_len, PROXY_MAX_AUTHORITY);
	assert_true(h.authority_truncated);
	assert_int_equal(h.authority[PROXY_MAX_AUTHORITY - 1], 'n');
}

/* A unix address block is skipped, not stored, and TLVs after it count. */
static void test_unix(void **state)
{
	uint8_t b[16 + 216 + 6];
	struct proxy_parser p;
	struct proxy_header h;
	size_t used;

	(void)state;
	memcpy(b, (const uint8_t[]){ V2_SIG, 0x21, 0x31, 0x00, 216 + 6 }, 16);
	memset(b + 16, '/', 216);
	memcpy(b + 16 + 216, (const uint8_t[]){ 0x02, 0x00, 0x03,
						'u', '.', 'x' }, 6);
	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, b, sizeof(b), &used, &h), PROXY_DONE);
	assert_int_equal(used, sizeof(b));
	assert_false(h.has_addr);
	assert_false(h.local);
	assert_int_equal(h.len, sizeof(b));
	assert_int_equal(h.ntlvs, 1);
	assert_memory_equal(h.authority, "u.x", 3);
}

static void test_sticky_and_nulls(void **state)
{
	static const uint8_t v1[] = "PROXY UNKNOWN\r\nrest";
	struct proxy_parser p;
	struct proxy_header h;
	size_t used;

	(void)state;
	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, v1, 0, &used, &h), PROXY_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(proxy_feed(&p, v1, sizeof(v1) - 1, NULL, NULL),
			 PROXY_DONE);
	assert_null(proxy_error(&p));
	assert_int_equal(proxy_feed(&p, v1, 4, &used, &h), PROXY_DONE);
	assert_int_equal(used, 0);
	assert_int_equal(h.len, 15);
	assert_true(h.local);
}

struct sniff {
	const char *name;
	const uint8_t *hdr;
	size_t len;
	int want;
};

static const struct sniff sniffs[] = {
	{ "sniff empty", (const uint8_t *)"", 0, 0 },
	{ "sniff P", TEXT("P"), 0 },
	{ "sniff PROXY", TEXT("PROXY"), 0 },
	{ "sniff PROXY space", TEXT("PROXY "), 1 },
	{ "sniff PROXYX", TEXT("PROXYX"), -1 },
	{ "sniff proxy", TEXT("proxy "), -1 },
	{ "sniff GET", TEXT("GET / HTTP/1.1\r\n"), -1 },
	{ "sniff TLS", BYTES(0x16, 0x03, 0x01), -1 },
	{ "sniff v2 CR", BYTES(0x0d), 0 },
	{ "sniff v2 11 bytes",
	  BYTES(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54), 0 },
	{ "sniff v2 signature", BYTES(V2_SIG), 1 },
	{ "sniff v2 and more", BYTES(V2_SIG, 0x21, 0x11), 1 },
	{ "sniff v2 wrong last byte",
	  BYTES(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0b), -1 },
	{ "sniff CRLF CRLF text", TEXT("\r\n\r\nX"), -1 },
};

static void test_sniff(void **state)
{
	const struct sniff *s = *state;
	uint8_t *b = dup_bytes(s->hdr, s->len);

	assert_int_equal(proxy_sniff(b, s->len), s->want);
	free(b);
}

/* Damaged good headers: any answer is fine, but never a read out of
 * bounds, and whole and bytewise feeding agree. */
static void test_damaged(void **state)
{
	uint32_t x = 0x12345678;
	size_t i, k;

	(void)state;
	for (i = 0; i < 20000; i++) {
		const struct good *g = &goods[i % ARRAY_SIZE(goods)];
		size_t n = g->len + sizeof(tls_tail), used, used1;
		uint8_t *b = with_tail(g->hdr, g->len);
		struct proxy_parser p;
		int r, r1;

		for (k = 0; k < 1 + i % 3; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			b[x % n] ^= (uint8_t)(1u << (x >> 8) % 8);
		}
		proxy_init(&p);
		r = proxy_feed(&p, b, n, &used, NULL);
		assert_in_range(used, r == PROXY_NEED_MORE ? n : 1, n);
		proxy_init(&p);
		r1 = feed_bytewise(&p, b, n, &used1);
		assert_int_equal(r1, r);
		assert_int_equal(used1, used);
		assert_true((r == PROXY_INVALID) == (proxy_error(&p) != NULL));
		free(b);
	}
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_big_tlv_block),
	cmocka_unit_test(test_long_authority),
	cmocka_unit_test(test_unix),
	cmocka_unit_test(test_sticky_and_nulls),
	cmocka_unit_test(test_damaged),
};

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(goods) + ARRAY_SIZE(bads) +
				       ARRAY_SIZE(sniffs) +
				       ARRAY_SIZE(fixed_tests)];
	size_t n = 0;

	ADD_ROWS(tests, &n, goods, test_good);
	ADD_ROWS(tests, &n, bads, test_bad);
	ADD_ROWS(tests, &n, sniffs, test_sniff);
	memcpy(tests + n, fixed_tests, sizeof(fixed_tests));
	return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
