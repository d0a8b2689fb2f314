/* SPDX-License-Identifier: BSD-3-Clause */
/* For deployments that must not keep client addresses or server names:
 * --anonymize-ip cuts client addresses to their /24 (IPv4) or /48 (IPv6)
 * network, --hash-sni replaces names by a keyed hash. Applied once to
 * what a connection reports, after the filters and before anything
 * learns, counts or prints it. */
#ifndef TLSWATCH_PRIVACY_H
#define TLSWATCH_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"
#include "tls.h"
#include "x509.h"

#define PRIVACY_KEY_LEN 32

struct privacy {
	bool anonymize_ip;
	bool hash_sni;
	uint8_t key[PRIVACY_KEY_LEN];	/* for the SNI hash */
};

/* A random key for this run: hashes match within it, not across runs. */
int privacy_random_key(struct privacy *p, char *err, size_t errlen);
/* The key from a file (at least 16 bytes; the first 4096 count), so that
 * hosts and restarts sharing it give the same hash for the same name. */
int privacy_key_file(struct privacy *p, const char *path, char *err,
		     size_t errlen);
/* The address's network: IPv4 /24, IPv6 /48 (an IPv4-mapped IPv6
 * address as IPv4). */
void privacy_mask(struct endpoint *e);
#define PRIVACY_HASH_SIZE 22	/* "hash:", 16 hex digits, NUL */

/* Replaces the SNI with "hash:" and 16 hex digits of HMAC-SHA256(key,
 * the name in lower case). */
void privacy_hash_sni(const struct privacy *p, struct tls_client_hello *ch);
/* The server certificate's names likewise (the same name, the same hash
 * as its SNI): the subject becomes "CN=" and the hash of its CN, the first
 * subjectAltName its hash. The issuer, a CA, stays, unless the
 * certificate is self-signed. */
void privacy_hash_cert(const struct privacy *p, struct x509_info *xi);

#endif
