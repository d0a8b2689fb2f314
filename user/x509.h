/* SPDX-License-Identifier: BSD-3-Clause */
/* Who a certificate names and when it is valid, from the plaintext
 * Certificate handshake message (TLS 1.2 and earlier), so that a rejected
 * certificate can be reported by name.
 *
 * A flat DER reader over (p, len): a bounds check before every read, every
 * element checked against the one that encloses it, no allocation, no
 * recursion. Only what is needed to name the certificate is decoded; the
 * key and the signature are skipped, and nothing is verified.
 *
 * Strings are copied as valid UTF-8 with C0/C1 controls, DEL, invalid
 * UTF-8 and bidirectional overrides replaced by '?', so that they are safe
 * to print. Strings too long for their field are cut at a character
 * boundary and end in "...". */
#ifndef TLSWATCH_X509_H
#define TLSWATCH_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which parts of struct x509_info were decoded in full. */
enum {
	X509_HAVE_ISSUER = 1 << 0,	/* issuer, issuer_cn */
	X509_HAVE_VALIDITY = 1 << 1,	/* not_before, not_after */
	X509_HAVE_SUBJECT = 1 << 2,	/* subject, subject_cn, self_signed */
	X509_HAVE_EXTENSIONS = 1 << 3,	/* san_first, n_san (also when the
					 * certificate has no extensions) */
	X509_HAVE_ALL = 0xf,
};

#define X509_CN_SIZE 65
#define X509_NAME_SIZE 256

struct x509_info {
	/* commonName; the last one in the Name, which is the most specific
	 * and the first in the RFC 4514 string. "" if none. */
	char subject_cn[X509_CN_SIZE];
	/* The whole Name as RFC 4514 writes it: last RDN first, "," between
	 * RDNs, "+" inside a multi-valued RDN (in encoded order), special
	 * characters escaped with '\'. CN, L, ST, O, OU, C, STREET, DC and
	 * UID by name, any other type as its dotted OID "=#" and the hex of
	 * its DER value. */
	char subject[X509_NAME_SIZE];
	char issuer_cn[X509_CN_SIZE];
	char issuer[X509_NAME_SIZE];
	char san_first[X509_CN_SIZE];	/* first dNSName of subjectAltName */
	uint16_t n_san;		/* dNSNames in subjectAltName */
	int64_t not_before, not_after;	/* seconds since the epoch, UTC */
	bool self_signed;	/* issuer and subject Names byte-equal */
	uint16_t chain_len;	/* certificates in the message, 0 from
				 * x509_parse() */
	uint8_t have;		/* X509_HAVE_* */
};

/* body/len: the Certificate handshake body, after its 4-byte header.
 * tls13: the TLS 1.3 form (request context, then per-entry extensions).
 * 0: the message is well formed and out describes its first certificate
 * (out->have == X509_HAVE_ALL), or the list is empty (chain_len 0, have 0:
 * a client with no certificate).
 * -1: malformed or cut short. out is still zeroed and then filled as far as
 * the bytes allowed: each field whose X509_HAVE_* bit is set is right, so a
 * leaf cut off by the capture budget can still be named. chain_len counts
 * the entries that were whole. */
int x509_from_certificate_msg(const uint8_t *body, size_t len, bool tls13,
			      struct x509_info *out);

/* One DER certificate, len its exact length. 0 or -1 as above. */
int x509_parse(const uint8_t *der, size_t len, struct x509_info *out);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, for
 * y 0..9999; exposed for the tests. */
int64_t x509_days_from_civil(int y, int m, int d);

#endif
