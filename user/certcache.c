/* SPDX-License-Identifier: BSD-3-Clause */
/* A few Certificate messages and what parsing them gave, chosen by their
 * length and last bytes (a signature's, which differ between any two
 * certificates). A hit is a whole-message compare and a copy; anything
 * else parses as before and takes the slot. The tool has one thread of
 * decoding, so the cache is this file's own. */
#include <stdlib.h>
#include <string.h>

#include "certcache.h"
#include "hash.h"

#define SLOTS 8			/* power of two */
#define MAX_BODY (64 << 10)	/* larger messages are parsed every time */

struct slot {
	uint8_t *body;		/* a copy of the message, len bytes */
	size_t len;
	bool tls13;
	int ret;
	struct x509_info info;
};

static struct slot slots[SLOTS];

static struct slot *slot_of(const uint8_t *body, size_t len)
{
	size_t tail = len < 16 ? len : 16;

	return &slots[seeded_hash((uint32_t)len, body + len - tail, tail) &
		      (SLOTS - 1)];
}

int certcache_parse(const uint8_t *body, size_t len, bool tls13,
		    struct x509_info *out)
{
	struct slot *s;
	uint8_t *copy;

	if (!body || len == 0 || len > MAX_BODY)
		return x509_from_certificate_msg(body, len, tls13, out);
	s = slot_of(body, len);
	if (s->body && s->len == len && s->tls13 == tls13 &&
	    !memcmp(s->body, body, len)) {
		*out = s->info;
		return s->ret;
	}
	s->ret = x509_from_certificate_msg(body, len, tls13, &s->info);
	*out = s->info;
	/* Kept only if a copy can be had; the result stands either way. */
	copy = realloc(s->body, len);
	if (!copy) {
		free(s->body);
		s->body = NULL;
		return s->ret;
	}
	memcpy(copy, body, len);
	s->body = copy;
	s->len = len;
	s->tls13 = tls13;
	return s->ret;
}

void certcache_clear(void)
{
	for (int i = 0; i < SLOTS; i++) {
		free(slots[i].body);
		slots[i].body = NULL;
	}
}
