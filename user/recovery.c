// SPDX-License-Identifier: BSD-3-Clause
/* Entries live in a ring indexed by a sequence number; hash chains link
 * entries by sequence number too, so that an entry overwritten by the
 * ring is recognised (its slot holds another number) without unlinking. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "recovery.h"

#define BUCKETS 32768		/* power of two */

struct entry {
	uint64_t seq;		/* 0: slot never used */
	uint64_t older;		/* next older entry in the hash chain, or 0 */
	bool settled;
	struct pending_failure f;
};

struct recovery {
	uint64_t window_us;
	recovery_fn fn;
	void *ctx;
	uint32_t seed;
	struct entry *ring;	/* cap slots */
	uint64_t cap;		/* a power of two, up to RECOVERY_MAX */
	uint64_t head, tail;	/* sequence numbers: [head, tail) are live */
	uint64_t bucket[BUCKETS];	/* newest entry's sequence, or 0 */
	uint64_t overflow;
};

struct recovery *recovery_new(uint64_t window_us, recovery_fn fn, void *ctx)
{
	struct recovery *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cap = RECOVERY_START;
	r->ring = calloc(r->cap, sizeof(*r->ring));
	if (!r->ring) {
		free(r);
		return NULL;
	}
	r->window_us = window_us;
	r->fn = fn;
	r->ctx = ctx;
	r->head = r->tail = 1;
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != sizeof(r->seed))
		r->seed = 0x85ebca6b;
	return r;
}

void recovery_free(struct recovery *r)
{
	if (!r)
		return;
	free(r->ring);
	free(r);
}

static struct entry *slot(struct recovery *r, uint64_t seq)
{
	return &r->ring[seq & (r->cap - 1)];
}

/* Twice the slots, each live entry moved to its new one (chains link by
 * sequence number, so they hold); false when at the bound or out of
 * memory. */
static bool grow(struct recovery *r)
{
	uint64_t cap = r->cap * 2;
	struct entry *ring;

	if (cap > RECOVERY_MAX || !(ring = calloc(cap, sizeof(*ring))))
		return false;
	for (uint64_t seq = r->head; seq < r->tail; seq++)
		ring[seq & (cap - 1)] = *slot(r, seq);
	free(r->ring);
	r->ring = ring;
	r->cap = cap;
	return true;
}

/* The live entry with this sequence number, or NULL. */
static struct entry *live(struct recovery *r, uint64_t seq)
{
	struct entry *e;

	if (seq < r->head || seq >= r->tail)
		return NULL;
	e = slot(r, seq);
	return e->seq == seq ? e : NULL;
}

static uint32_t key_hash(const struct recovery *r, const struct endpoint *ip,
			 bool has_sni, const uint8_t *sni, uint8_t sni_len)
{
	uint32_t h = r->seed ^ 2166136261u;

	h = (h ^ ip->family) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ ip->addr[i]) * 16777619u;
	h = (h ^ has_sni) * 16777619u;
	for (int i = 0; has_sni && i < sni_len; i++)
		h = (h ^ (sni[i] | 0x20)) * 16777619u;	/* case-blind */
	return h & (BUCKETS - 1);
}

static bool same_sni(const struct pending_failure *f, const struct session *s)
{
	const struct tls_client_hello *ch = s->ch;
	bool has = ch && ch->has_sni;

	if (f->has_sni != has)
		return false;
	if (!has)
		return true;
	if (f->sni_len != ch->sni_len)
		return false;
	for (int i = 0; i < f->sni_len; i++)
		if ((f->sni[i] | 0x20) != (ch->sni[i] | 0x20))
			return false;
	return true;
}

static void settle(struct recovery *r, struct entry *e, bool recovered,
		   uint64_t ts)
{
	if (e->settled)
		return;
	e->settled = true;
	r->fn(r->ctx, &e->f, recovered, ts);
}

/* Drop settled entries from the head. */
static void trim(struct recovery *r)
{
	while (r->head < r->tail && slot(r, r->head)->settled)
		r->head++;
}

void recovery_failed(struct recovery *r, const struct session *s,
		     const struct diagnosis *d)
{
	const struct tls_client_hello *ch = s->ch;
	struct entry *e;
	uint32_t b;

	if (r->tail - r->head >= r->cap && !grow(r)) {
		/* Full: the oldest is settled now, unrecovered. */
		e = slot(r, r->head);
		if (!e->settled)
			r->overflow++;
		settle(r, e, false, s->decided_ts);
		r->head++;
		trim(r);
	}
	e = slot(r, r->tail);
	memset(e, 0, sizeof(*e));
	e->seq = r->tail++;
	e->f.client = s->client;
	e->f.server_port = s->server.port;
	e->f.failed_ts = s->decided_ts;
	e->f.reason = s->reason;
	e->f.code = d->code;
	e->f.harmless = d->harmless;
	if (ch && ch->has_sni) {
		e->f.has_sni = true;
		e->f.sni_len = ch->sni_len;
		memcpy(e->f.sni, ch->sni, ch->sni_len);
	}
	b = key_hash(r, &e->f.client, e->f.has_sni, e->f.sni, e->f.sni_len);
	e->older = r->bucket[b];
	r->bucket[b] = e->seq;
}

static bool same_ip(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

void recovery_established(struct recovery *r, const struct session *s)
{
	const struct tls_client_hello *ch = s->ch;
	uint64_t now = s->decided_ts;
	uint32_t b;
	uint64_t seq;

	recovery_expire(r, now);
	b = key_hash(r, &s->client, ch && ch->has_sni, ch ? ch->sni : NULL,
		     ch ? ch->sni_len : 0);
	/* Oldest first would read better, but the chain runs newest
	 * first; events carry their failure's time either way. */
	for (seq = r->bucket[b]; seq;) {
		struct entry *e = live(r, seq);

		if (!e)
			break;	/* older ones are gone too */
		/* Outcomes are reported up to a second out of order, so the
		 * ring's head is not always the oldest: check the window. */
		if (!e->settled && same_ip(&e->f.client, &s->client) &&
		    same_sni(&e->f, s) && e->f.failed_ts <= now &&
		    now - e->f.failed_ts <= r->window_us)
			settle(r, e, true, now);
		seq = e->older;
	}
	trim(r);
}

void recovery_expire(struct recovery *r, uint64_t now)
{
	while (r->head < r->tail) {
		struct entry *e = slot(r, r->head);

		if (!e->settled && e->f.failed_ts + r->window_us > now)
			break;
		settle(r, e, false, e->f.failed_ts + r->window_us);
		r->head++;
	}
}

void recovery_finish(struct recovery *r, uint64_t now)
{
	while (r->head < r->tail) {
		settle(r, slot(r, r->head), false, now);
		r->head++;
	}
}

uint64_t recovery_overflow(const struct recovery *r)
{
	return r->overflow;
}
