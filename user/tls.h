/* SPDX-License-Identifier: BSD-3-Clause */
/* TLS and SSLv2 message decoding: pure functions over byte ranges.
 *
 * Every parser is a cursor over (p, len) with a bounds check before each
 * read. TLS_NEED_MORE means the bytes so far are a valid prefix and more
 * would be needed; TLS_MALFORMED means no amount of further bytes helps.
 * Nothing here allocates or keeps pointers into the input. */
#ifndef TLSWATCH_TLS_H
#define TLSWATCH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_result {
	TLS_OK = 0,
	TLS_NEED_MORE = 1,
	TLS_MALFORMED = -1,
};

/* Record content types. */
enum {
	TLS_CT_CHANGE_CIPHER_SPEC = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPLICATION_DATA = 23,
	TLS_CT_HEARTBEAT = 24,
};

/* Handshake message types. */
enum {
	TLS_HS_HELLO_REQUEST = 0,
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_END_OF_EARLY_DATA = 5,
	TLS_HS_ENCRYPTED_EXTENSIONS = 8,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_KEY_EXCHANGE = 12,
	TLS_HS_CERTIFICATE_REQUEST = 13,
	TLS_HS_SERVER_HELLO_DONE = 14,
	TLS_HS_CERTIFICATE_VERIFY = 15,
	TLS_HS_CLIENT_KEY_EXCHANGE = 16,
	TLS_HS_FINISHED = 20,
	TLS_HS_CERTIFICATE_STATUS = 22,
	TLS_HS_KEY_UPDATE = 24,
};

#define TLS_RECORD_HEADER_LEN 5
/* Largest record body accepted: 2^14 plus the TLS 1.2 expansion allowance. */
#define TLS_MAX_RECORD_LEN (16384 + 2048)
#define TLS_HS_HEADER_LEN 4

#define TLS_V_SSL2 0x0002
#define TLS_V_SSL3 0x0300
#define TLS_V_TLS10 0x0301
#define TLS_V_TLS11 0x0302
#define TLS_V_TLS12 0x0303
#define TLS_V_TLS13 0x0304

#define TLS_CIPHER_FALLBACK_SCSV 0x5600
#define TLS_CIPHER_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff

struct tls_record_header {
	uint8_t type;
	uint16_t version;
	uint16_t length;
};

/* A record header: type 20..24, major version 3, length at most
 * TLS_MAX_RECORD_LEN. TLS_NEED_MORE below 5 bytes. */
int tls_parse_record_header(const uint8_t *p, size_t len,
			    struct tls_record_header *h);

/* A handshake message header: type and 24-bit body length. */
int tls_parse_handshake_header(const uint8_t *p, size_t len, uint8_t *type,
			       uint32_t *body_len);

/* Limits on what a hello keeps; more is counted, not stored. A list cut
 * short here makes its JA3/JA4 fingerprint unknown, so they sit above what
 * real clients send (OpenSSL 1.0.1 offers 25 groups, Java about 30
 * signature algorithms, browsers under 25 extensions). */
#define TLS_MAX_CIPHERS 256
#define TLS_MAX_EXTENSIONS 128
#define TLS_MAX_VERSIONS 16
#define TLS_MAX_GROUPS 64
#define TLS_MAX_SIGALGS 64
#define TLS_MAX_POINT_FORMATS 8
#define TLS_MAX_ALPN 8
#define TLS_MAX_ALPN_LEN 32	/* longer protocol names are cut */
#define TLS_MAX_SNI 255		/* longer names are cut */

struct tls_alpn_list {
	uint8_t n;		/* entries stored */
	uint8_t total;		/* entries in the message, up to 255 */
	uint8_t len[TLS_MAX_ALPN];	/* stored length of each */
	uint8_t last[TLS_MAX_ALPN];	/* last byte of each, even when cut
					 * (JA4 takes it) */
	uint8_t name[TLS_MAX_ALPN][TLS_MAX_ALPN_LEN];	/* raw bytes */
};

struct tls_client_hello {
	bool sslv2_format;	/* SSLv2-format CLIENT-HELLO */
	uint16_t record_version;	/* 0 for the SSLv2 format */
	uint16_t legacy_version;	/* client_version / SSLv2 version */
	uint16_t version;	/* highest offered: max non-GREASE of
				 * supported_versions, else legacy_version */

	/* Cipher suites in wire order, GREASE kept. SSLv2-format hellos have
	 * 3-byte cipher specs: cipher_width is 3 and values are 24-bit. */
	uint8_t cipher_width;	/* 2 or 3 */
	uint16_t n_ciphers;	/* stored */
	uint16_t total_ciphers;	/* in the message */
	uint32_t ciphers[TLS_MAX_CIPHERS];
	bool fallback_scsv;	/* TLS_FALLBACK_SCSV (0x5600) offered */

	uint8_t n_compression;

	bool has_extensions;	/* the extensions block is present */
	uint16_t n_extensions;	/* stored */
	uint16_t total_extensions;
	uint16_t extensions[TLS_MAX_EXTENSIONS];	/* types, wire order */

	bool has_supported_versions;
	uint8_t n_versions;
	uint16_t versions[TLS_MAX_VERSIONS];	/* wire order, GREASE kept */

	bool has_sni;		/* server_name with a host_name entry */
	uint8_t sni_len;	/* bytes stored in sni */
	bool sni_truncated;
	uint8_t sni[TLS_MAX_SNI];	/* raw bytes, not NUL-terminated */

	bool has_alpn;
	struct tls_alpn_list alpn;

	/* Wire order, GREASE kept; n_ stored, total_ in the message. */
	uint8_t n_groups;
	uint16_t total_groups;
	uint16_t groups[TLS_MAX_GROUPS];	/* supported_groups */
	uint8_t n_point_formats;
	uint8_t total_point_formats;
	uint8_t point_formats[TLS_MAX_POINT_FORMATS];
	uint8_t n_sigalgs;
	uint16_t total_sigalgs;
	uint16_t sigalgs[TLS_MAX_SIGALGS];	/* signature_algorithms */

	bool has_early_data;
	bool has_key_share;
	bool has_psk;
};

struct tls_server_hello {
	uint16_t legacy_version;	/* server_version */
	uint16_t selected_version;	/* supported_versions ext, or 0 */
	uint16_t version;	/* negotiated: selected_version or legacy */
	bool hrr;		/* HelloRetryRequest (the special random) */
	uint16_t cipher;
	uint8_t compression;
	uint16_t n_extensions;
	uint16_t total_extensions;
	uint16_t extensions[TLS_MAX_EXTENSIONS];
	bool has_alpn;
	struct tls_alpn_list alpn;	/* the one selected, TLS 1.2 and earlier */
	uint16_t group;		/* key_share: the server's share, or a
				 * HelloRetryRequest's selected_group; 0 when
				 * absent */
};

/* body: the handshake body after its 4-byte header, body_len its length
 * from that header. TLS_NEED_MORE never comes back from these two: the
 * caller hands over the whole message. */
int tls_parse_client_hello(const uint8_t *body, size_t body_len,
			   struct tls_client_hello *ch);
int tls_parse_server_hello(const uint8_t *body, size_t body_len,
			   struct tls_server_hello *sh);

/* SSLv2-format records (2-byte header with the top bit set): TLS_OK with
 * *rec_len the whole record's length, header included; TLS_NEED_MORE below
 * 2 bytes; TLS_MALFORMED when the top bit is clear or the length is 0. */
int tls_sslv2_record_len(const uint8_t *p, size_t len, uint32_t *rec_len);
/* A whole SSLv2 CLIENT-HELLO record, header included. */
int tls_parse_sslv2_client_hello(const uint8_t *p, size_t len,
				 struct tls_client_hello *ch);
/* SSLv2 message type of a whole record (1 CLIENT-HELLO, 4 SERVER-HELLO,
 * 0 ERROR...), or -1. */
int tls_sslv2_msg_type(const uint8_t *p, size_t len);

/* What the first bytes of a stream look like. */
enum tls_sniff {
	SNIFF_NEED_MORE = 0,
	SNIFF_TLS,		/* a TLS record header */
	SNIFF_SSLV2,		/* an SSLv2-format record */
	SNIFF_HTTP,		/* an HTTP request or response line */
	SNIFF_SSH,		/* "SSH-" */
	SNIFF_PROXY,		/* PROXY protocol v1 or v2 signature */
	SNIFF_UNKNOWN,
};
/* Decides with as few bytes as possible; SNIFF_NEED_MORE only while the
 * bytes so far could still be the start of more than one kind. */
enum tls_sniff tls_sniff(const uint8_t *p, size_t len);
/* tls_sniff() has decided by this many bytes: the longest prefix it looks
 * for is the HTTP/2 preface "PRI * HTTP/2.0". */
#define TLS_SNIFF_MAX_LEN 14
/* "http", "ssh", "proxy", "unknown", "tls", "sslv2". */
const char *tls_sniff_name(enum tls_sniff s);

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a ... 0xfafa. */
bool tls_is_grease(uint16_t v);
/* "SSL 2.0", "SSL 3.0", "TLS 1.0" .. "TLS 1.3", else "0x7f1c". buf >= 8. */
const char *tls_version_str(uint16_t v, char buf[8]);
/* "inappropriate_fallback" for 86, NULL when unassigned. */
const char *tls_alert_name(uint8_t code);
/* A cipher suite no server should enable: NULL encryption, export
 * strength, anonymous key exchange, RC4 or single DES. */
bool tls_cipher_weak(uint16_t cipher);
/* "ClientHello" style names for handshake types, NULL when unknown. */
const char *tls_handshake_name(uint8_t type);

#endif
