// SPDX-License-Identifier: BSD-3-Clause
/* libFuzzer target: the PROXY protocol parser (user/proxy.c). The input
 * after its first byte is a stream's first bytes; it is fed whole, then
 * again in pieces whose sizes the first byte seeds. Both ways must agree
 * on the result, the bytes taken and the header, and the bytes taken
 * never exceed what was fed. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void trap_if(bool bad)
{
	if (bad)
		__builtin_trap();
}

static bool same_header(const struct proxy_header *a,
			const struct proxy_header *b)
{
	return a->version == b->version && a->local == b->local &&
	       a->has_addr == b->has_addr && a->len == b->len &&
	       !memcmp(&a->src, &b->src, sizeof(a->src)) &&
	       !memcmp(&a->dst, &b->dst, sizeof(a->dst)) &&
	       a->authority_len == b->authority_len &&
	       !memcmp(a->authority, b->authority, a->authority_len) &&
	       a->has_ssl == b->has_ssl && a->ssl_client == b->ssl_client &&
	       a->ssl_verify == b->ssl_verify && a->ntlvs == b->ntlvs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_parser whole, piece;
	struct proxy_header h1, h2;
	size_t used1 = 0, used2 = 0, pos = 0, used;
	uint32_t rnd;
	int r1, r2 = PROXY_NEED_MORE;

	if (size < 1)
		return 0;
	rnd = data[0] * 2654435761u + 1;
	data++;
	size--;

	memset(&h1, 0, sizeof(h1));
	memset(&h2, 0, sizeof(h2));
	proxy_init(&whole);
	proxy_sniff(data, size);
	r1 = proxy_feed(&whole, data, size, &used1, &h1);
	trap_if(used1 > size);
	trap_if((r1 == PROXY_INVALID) != (proxy_error(&whole) != NULL));
	if (r1 == PROXY_DONE) {
		trap_if(h1.len != used1);
		trap_if(h1.version != 1 && h1.version != 2);
		trap_if(h1.authority_len > PROXY_MAX_AUTHORITY);
	}

	proxy_init(&piece);
	while (pos < size && r2 == PROXY_NEED_MORE) {
		size_t n;

		rnd = rnd * 1103515245u + 12345u;
		n = 1 + (rnd >> 16) % (rnd & 0x100 ? 3 : 200);
		if (n > size - pos)
			n = size - pos;
		r2 = proxy_feed(&piece, data + pos, n, &used, &h2);
		trap_if(used > n);
		trap_if(r2 == PROXY_NEED_MORE && used != n);
		used2 += used;
		pos += n;
	}
	/* Feeding again after the end changes nothing. */
	if (r2 != PROXY_NEED_MORE) {
		trap_if(proxy_feed(&piece, data, size, &used, NULL) != r2);
		trap_if(used != 0 && r2 == PROXY_DONE);
	}
	trap_if(r1 != r2);
	trap_if(used1 != used2);
	if (r1 == PROXY_DONE)
		trap_if(!same_header(&h1, &h2));
	return 0;
}
