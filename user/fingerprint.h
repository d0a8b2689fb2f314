/* SPDX-License-Identifier: BSD-3-Clause */
/* JA3 (Salesforce) and JA4 (FoxIO, the BSD-3-Clause TLS client method
 * only) fingerprints of a decoded ClientHello.
 *
 * Both are computed from struct tls_client_hello alone, into the caller's
 * buffers, without allocating. Both return false when no fingerprint can
 * be given: an SSLv2-format hello (neither method defines one), a list
 * the decoder cut at its TLS_MAX_* limit (the value would be wrong, not
 * just partial), or a digest that libcrypto refused. The caller then
 * writes null. */
#ifndef TLSWATCH_FINGERPRINT_H
#define TLSWATCH_FINGERPRINT_H

#include <stdbool.h>

#include "tls.h"

/* Longest JA3 string, NUL included: up to five digits and a '-' per
 * value, the version, four commas. */
#define JA3_STR_LEN (5 + 6 * TLS_MAX_CIPHERS + 6 * TLS_MAX_EXTENSIONS + \
		     6 * TLS_MAX_GROUPS + 4 * TLS_MAX_POINT_FORMATS + 4 + 1)
/* MD5 as 32 lowercase hex digits, NUL included. */
#define JA3_HASH_LEN 33
/* "t13d1516h2_8daaf6152771_e5627efa2ab1", NUL included. */
#define JA4_LEN 37

/* JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,ECPointFormats",
 * decimal values joined by '-', GREASE left out of every list, version
 * the legacy client_version; hash is its MD5. str may be NULL when only
 * the hash is wanted. */
bool ja3(const struct tls_client_hello *ch, char str[JA3_STR_LEN],
	 char hash[JA3_HASH_LEN]);

/* JA4 over TCP, as technical_details/JA4.md in FoxIO-LLC/ja4 defines it
 * (sorted form, hashed). */
bool ja4(const struct tls_client_hello *ch, char out[JA4_LEN]);

#endif
