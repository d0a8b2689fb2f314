// SPDX-License-Identifier: BSD-3-Clause
/* Entries live in a ring indexed by a sequence number; hash chains link
 * entries by sequence number too, so that an entry overwritten by the
 * ring is recognised (its slot holds another number) without unlinking. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "recovery.h"

#define BUCKETS 32768		/* power of two */
/* SNI bytes kept in the entry itself; a longer name gets an allocation
 * of its own. Most names fit, and a small entry keeps the pages the ring
 * touches few: in a VM, first touching a page can cost 20 us. */
#define SNI_INLINE 64

/* A pending_failure, packed: 128 bytes rather than 328. */
struct entry {
	uint64_t seq;		/* 0: slot never used */
	uint64_t older;		/* next older entry in the hash chain, or 0 */
	uint64_t failed_ts;
	struct endpoint client;
	uint16_t server_port;
	uint8_t reason, code;
	int8_t harmless;
	bool settled;
	bool has_sni;
	uint8_t sni_len;
	uint8_t *sni_long;	/* sni_len > SNI_INLINE; freed when settled */
	uint8_t sni[SNI_INLINE];
};

_Static_assert(REASON__COUNT <= 256 && DIAG__COUNT <= 256,
	       "reason and code fit a byte");
_Static_assert(sizeof(struct entry) == 128, "an entry is 128 bytes");

struct recovery {
	uint64_t window_us;
	recovery_fn fn;
	void *ctx;
	uint32_t seed;
	struct entry *ring;	/* RECOVERY_MAX slots, cap of them in use */
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
	/* Room for the bound at once, so that growing moves entries within
	 * it; the pages beyond the slots in use are not touched. */
	r->ring = calloc(RECOVERY_MAX, sizeof(*r->ring));
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

static struct entry *slot(struct recovery *r, uint64_t seq);

void recovery_free(struct recovery *r)
{
	if (!r)
		return;
	for (uint64_t seq = r->head; seq < r->tail; seq++)
		free(slot(r, seq)->sni_long);
	free(r->ring);
	free(r);
}

static struct entry *slot(struct recovery *r, uint64_t seq)
{
	return &r->ring[seq & (r->cap - 1)];
}

/* Twice the slots, each live entry moved to its new one (chains link by
 * sequence number, so they hold); false when at the bound. An entry
 * either keeps its slot or moves cap slots up, into the new half. */
static bool grow(struct recovery *r)
{
	uint64_t cap = r->cap * 2;

	if (cap > RECOVERY_MAX)
		return false;
	for (uint64_t seq = r->head; seq < r->tail; seq++) {
		struct entry *e = slot(r, seq);

		if (seq & r->cap) {
			r->ring[seq & (cap - 1)] = *e;
			e->seq = 0;
			e->sni_long = NULL;
		}
	}
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

static const uint8_t *entry_sni(const struct entry *e)
{
	return e->sni_long ? e->sni_long : e->sni;
}

static bool same_sni(const struct entry *e, const struct session *s)
{
	const struct tls_client_hello *ch = s->ch;
	bool has = ch && ch->has_sni;
	const uint8_t *sni = entry_sni(e);

	if (e->has_sni != has)
		return false;
	if (!has)
		return true;
	if (e->sni_len != ch->sni_len)
		return false;
	for (int i = 0; i < e->sni_len; i++)
		if ((sni[i] | 0x20) != (ch->sni[i] | 0x20))
			return false;
	return true;
}

static void unpack(const struct entry *e, struct pending_failure *f)
{
	memset(f, 0, sizeof(*f));
	f->client = e->client;
	f->server_port = e->server_port;
	f->failed_ts = e->failed_ts;
	f->reason = e->reason;
	f->code = e->code;
	f->harmless = e->harmless;
	f->has_sni = e->has_sni;
	f->sni_len = e->sni_len;
	memcpy(f->sni, entry_sni(e), e->sni_len);
}

static void settle(struct recovery *r, struct entry *e, bool recovered,
		   uint64_t ts)
{
	struct pending_failure f;

	if (e->settled)
		return;
	e->settled = true;
	unpack(e, &f);
	free(e->sni_long);
	e->sni_long = NULL;
	r->fn(r->ctx, &f, recovered, ts);
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
	memset(e, 0, offsetof(struct entry, sni));
	e->client = s->client;
	e->server_port = s->server.port;
	e->failed_ts = s->decided_ts;
	e->reason = s->reason;
	e->code = d->code;
	e->harmless = d->harmless;
	if (ch && ch->has_sni) {
		e->has_sni = true;
		e->sni_len = ch->sni_len;
		if (ch->sni_len > SNI_INLINE &&
		    !(e->sni_long = malloc(ch->sni_len))) {
			/* No memory to hold it: settled at once, as if
			 * the table were full, with the name cut to what
			 * the entry holds. */
			e->sni_len = SNI_INLINE;
			memcpy(e->sni, ch->sni, SNI_INLINE);
			r->overflow++;
			settle(r, e, false, s->decided_ts);
			return;
		}
		memcpy(e->sni_long ? e->sni_long : e->sni, ch->sni,
		       ch->sni_len);
	}
	e->seq = r->tail++;
	b = key_hash(r, &e->client, e->has_sni, ch ? ch->sni : NULL,
		     e->sni_len);
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
		if (!e->settled && same_ip(&e->client, &s->client) &&
		    same_sni(e, s) && e->failed_ts <= now &&
		    now - e->failed_ts <= r->window_us)
			settle(r, e, true, now);
		seq = e->older;
	}
	trim(r);
}

void recovery_expire(struct recovery *r, uint64_t now)
{
	while (r->head < r->tail) {
		struct entry *e = slot(r, r->head);

		if (!e->settled && e->failed_ts + r->window_us > now)
			break;
		settle(r, e, false, e->failed_ts + r->window_us);
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
