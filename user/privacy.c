// SPDX-License-Identifier: BSD-3-Clause
/* Address masking and name hashing for --anonymize-ip and --hash-sni. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "privacy.h"

#define HASH_PREFIX "hash:"
#define HASH_HEX 16

int privacy_random_key(struct privacy *p, char *err, size_t errlen)
{
	size_t got = 0;

	while (got < sizeof(p->key)) {
		ssize_t n = getrandom(p->key + got, sizeof(p->key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "--hash-sni: no random key: %s",
				 strerror(errno));
			return -1;
		}
		got += n;
	}
	return 0;
}

int privacy_key_file(struct privacy *p, const char *path, char *err,
		     size_t errlen)
{
	uint8_t buf[4096];
	unsigned int len = sizeof(p->key);
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "--hash-sni-key %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "--hash-sni-key %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	if (got < 16) {
		snprintf(err, errlen, "--hash-sni-key %s: a key needs at least 16 bytes (e.g. head -c 32 /dev/urandom > %s)",
			 path, path);
		return -1;
	}
	/* Whatever its length, the file's bytes become a 32-byte key. */
	if (!EVP_Digest(buf, got, p->key, &len, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "--hash-sni-key: SHA-256 unavailable");
		return -1;
	}
	return 0;
}

void privacy_mask(struct endpoint *e)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (e->family == 2 /* AF_INET */)
		e->addr[3] = 0;
	else if (!memcmp(e->addr, v4mapped, sizeof(v4mapped)))
		e->addr[15] = 0;
	else
		memset(e->addr + 6, 0, 10);
}

/* "hash:" and 16 hex digits of HMAC-SHA256(key, the name in lower case),
 * NUL-terminated. */
static void hash_name(const struct privacy *p, const uint8_t *in, size_t len,
		      char out[PRIVACY_HASH_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t name[256], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n = sizeof(HASH_PREFIX) - 1;

	if (len > sizeof(name))
		len = sizeof(name);
	/* Names are case-blind: so is their hash. */
	for (size_t i = 0; i < len; i++)
		name[i] = in[i] >= 'A' && in[i] <= 'Z' ? in[i] | 0x20 : in[i];
	if (!HMAC(EVP_sha256(), p->key, sizeof(p->key), name, len, md,
		  &mdlen) || mdlen < HASH_HEX / 2)
		memset(md, 0, sizeof(md));	/* never the name itself */
	memcpy(out, HASH_PREFIX, n);
	for (int i = 0; i < HASH_HEX / 2; i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	out[n] = '\0';
}

void privacy_hash_sni(const struct privacy *p, struct tls_client_hello *ch)
{
	char h[PRIVACY_HASH_SIZE];

	if (!ch->has_sni)
		return;
	hash_name(p, ch->sni, ch->sni_len, h);
	ch->sni_len = strlen(h);
	memcpy(ch->sni, h, ch->sni_len);
	ch->sni_truncated = false;
}

void privacy_hash_cert(const struct privacy *p, struct x509_info *xi)
{
	char h[PRIVACY_HASH_SIZE];

	if (xi->subject_cn[0]) {
		hash_name(p, (const uint8_t *)xi->subject_cn,
			  strlen(xi->subject_cn), h);
		snprintf(xi->subject_cn, sizeof(xi->subject_cn), "%s", h);
		snprintf(xi->subject, sizeof(xi->subject), "CN=%s", h);
	} else if (xi->subject[0]) {
		snprintf(xi->subject, sizeof(xi->subject), "(hidden)");
	}
	/* Self-signed: the issuer is the subject, and says what it did. */
	if (xi->self_signed)
		snprintf(xi->issuer, sizeof(xi->issuer), "%s", xi->subject);
	if (xi->san_first[0]) {
		hash_name(p, (const uint8_t *)xi->san_first,
			  strlen(xi->san_first), h);
		snprintf(xi->san_first, sizeof(xi->san_first), "%s", h);
	}
}
