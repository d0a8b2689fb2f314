/* SPDX-License-Identifier: BSD-3-Clause */
/* A seeded hash for tables whose keys come from the network (addresses,
 * fingerprints, label sets): FNV-1a from a random start, then mixed, so
 * that chosen keys cannot pile into one run of a table. */
#ifndef TLSWATCH_HASH_H
#define TLSWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t seeded_hash(uint32_t seed, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#endif
