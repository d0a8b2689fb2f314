/* SPDX-License-Identifier: BSD-3-Clause */
/* Why a handshake failed, in words: what each watched port accepts is
 * learnt from its established handshakes, and a failure is compared with
 * it to give a stable code, whether it matters, and one sentence. */
#ifndef TLSWATCH_DIAGNOSE_H
#define TLSWATCH_DIAGNOSE_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

enum diag_code {
	DIAG_NONE = 0,
	DIAG_FALLBACK_PROBE,
	DIAG_FALLBACK_RETRY,	/* only in a recovered event */
	DIAG_VERSION_TOO_LOW,
	DIAG_VERSION_TOO_HIGH,
	DIAG_NO_SHARED_CIPHER,
	DIAG_NO_SHARED_GROUP,
	DIAG_CERTIFICATE_REJECTED,
	DIAG_CLIENT_CERTIFICATE_REJECTED,
	DIAG_SNI_UNKNOWN,
	DIAG_ALPN_MISMATCH,
	DIAG_SCANNER_PROBE,
	DIAG_NOT_TLS,
	DIAG_SSLV2_HELLO,
	DIAG_HANDSHAKE_REFUSED,	/* a server alert nothing above explains */
	DIAG_CLIENT_REFUSED,	/* a client alert nothing above explains */
	DIAG_SERVER_SILENT,	/* the client gave up on a server that said
				 * nothing */
	DIAG_SERVER_CLOSED,
	DIAG_CLIENT_CLOSED,
	DIAG_TIMEOUT,
	DIAG_MALFORMED,
	DIAG__COUNT,
};

/* -1: not known yet (depends on what the client does next). */
enum harm { HARM_UNKNOWN = -1, HARM_NO = 0, HARM_YES = 1 };

#define DIAG_TEXT_LEN 512

struct diagnosis {
	enum diag_code code;
	enum harm harmless;
	char text[DIAG_TEXT_LEN];
};

struct profiles;

struct profiles *profiles_new(void);
void profiles_free(struct profiles *p);
/* Learn from an established handshake what its server port accepts. */
void profiles_learn(struct profiles *p, const struct session *s);

/* The diagnosis of a failed connection (code DIAG_NONE otherwise). */
void diagnose(const struct profiles *p, const struct session *s,
	      struct diagnosis *d);

/* "fallback_probe" ... */
const char *diag_code_name(enum diag_code c);

/* What the port accepts, in words, for the verdict: "TLS 1.2 to TLS 1.3",
 * or "" if nothing was learnt. */
void profiles_versions(const struct profiles *p, uint16_t port, char *buf,
		       size_t len);
/* The negotiated versions' range learnt for a port; false if none. */
bool profiles_version_range(const struct profiles *p, uint16_t port,
			    uint16_t *lo, uint16_t *hi);

/* Highest and lowest version a ClientHello offers (GREASE left out). */
uint16_t hello_max_version(const struct tls_client_hello *ch);
uint16_t hello_min_version(const struct tls_client_hello *ch);

#endif
