/* SPDX-License-Identifier: BSD-3-Clause */
/* A few freed blocks of one size, kept for the next allocation of that
 * size: every connection takes and gives back some (a session, a
 * ClientHello), and at one or two KiB they miss malloc's per-thread
 * cache. */
#ifndef TLSWATCH_SPARE_H
#define TLSWATCH_SPARE_H

#include <stdlib.h>

#define SPARE_MAX 16

struct spare {
	void *v[SPARE_MAX];
	unsigned n;
};

/* A kept block, or a new one of size bytes; not zeroed either way. */
static inline void *spare_take(struct spare *s, size_t size)
{
	return s->n ? s->v[--s->n] : malloc(size);
}

static inline void spare_give(struct spare *s, void *p)
{
	if (p && s->n < SPARE_MAX)
		s->v[s->n++] = p;
	else
		free(p);
}

static inline void spare_free(struct spare *s)
{
	while (s->n)
		free(s->v[--s->n]);
}

#endif
