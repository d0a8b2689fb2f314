/* SPDX-License-Identifier: BSD-3-Clause */
/* The server's Certificate message, parsed once: a server sends the same
 * chain to every client, and parsing it again for each handshake was a
 * tenth of what userspace spent on one. */
#ifndef TLSWATCH_CERTCACHE_H
#define TLSWATCH_CERTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x509.h"

/* x509_from_certificate_msg(), with the same result and out, from the
 * last messages parsed when this one is among them (compared whole). */
int certcache_parse(const uint8_t *body, size_t len, bool tls13,
		    struct x509_info *out);

/* Free what the cache holds (at exit, for leak checkers). */
void certcache_clear(void);

#endif
