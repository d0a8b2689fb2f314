// SPDX-License-Identifier: BSD-3-Clause
/* Connection table: a hash of flows by address pair, an LRU list for
 * eviction, and a min-heap of deadlines so that timeouts fire in time
 * order, on capture time, whatever the number of connections. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "flows.h"
#include "spare.h"

struct flow {
	struct flow *hnext;		/* hash chain */
	uint32_t hash;			/* pair_hash(), before the mask: a
					 * chain is walked on this line */
	struct flow *prev, *next;	/* LRU list, oldest first */
	uint32_t heap_idx;		/* UINT32_MAX when not in the heap */
	uint64_t deadline;
	struct endpoint client, server;
	uint64_t last_ts;
	bool done;		/* reported: kept only to recognise the rest
				 * of the connection */
	bool fin[2], rst;
	bool gone;		/* the server's socket is closed */
	bool final;		/* nothing more of it will be captured */
	struct stream st[2];
	struct session *sess;	/* NULL once done */
	struct pktlog *log;	/* kept segments (-w), or NULL */
	struct flow_start start;
};

/* Kept segments, back to back: a struct flow_packet (its data pointer
 * unset) followed by its bytes. */
struct pktlog {
	uint32_t len, cap, n;
	bool partial;		/* some were not kept */
	uint8_t buf[];
};

/* Segments that reached a listening socket before the connection's
 * start was told (data with the third ACK, possibly out of order): held
 * briefly, then played into the flow that flows_open() creates. */
#define ORPHANS 64
#define ORPHAN_MAX_LEN 4096
#define ORPHAN_TTL_US 1000000

struct orphan {
	uint64_t order;		/* arrival order; 0 when the slot is free */
	struct segment seg;
	uint8_t data[ORPHAN_MAX_LEN];
};

struct flows {
	struct flows_config cfg;
	struct orphan *orphans;	/* ORPHANS slots */
	uint32_t norphans;	/* slots in use */
	uint64_t orphan_order;
	struct flows_stats st;
	struct flow **buckets;
	uint32_t nbuckets;	/* power of two, grown with count */
	uint32_t max_buckets;	/* twice max_flows, a power of two */
	uint64_t seed;
	uint32_t count;
	uint32_t undecided;	/* of them, not reported yet */
	struct flow *oldest, *newest;
	struct flow **heap;
	uint32_t heap_len;
	uint64_t now;
	struct flow *reporting;	/* during the report callback */
	uint64_t kept;		/* bytes held by packet logs */
	bool lossy;		/* flows_maybe_lost() on */
	/* Of retired connections, for new ones. */
	struct spare spare_sessions, spare_flows;
};

#define NO_HEAP UINT32_MAX
/* How far eviction looks from the oldest flow for a cheap victim. */
#define EVICT_SCAN 16

static bool port_watched(const struct flows *f, uint16_t port)
{
	return !f->cfg.ports || (f->cfg.ports[port >> 3] & (1u << (port & 7)));
}

static bool ep_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, 16) == 0;
}

/* Same hash for both directions: combine the two endpoints' hashes with
 * an order-independent operation. Seeded so that crafted addresses
 * cannot pile connections into one chain. Every segment looks its
 * connection up, so the address goes in eight bytes at a time (a
 * multiply and a fold for each word) rather than byte by byte. */
static uint64_t fold(uint64_t x, uint64_t k)
{
	x *= k;
	return x ^ (x >> 29);
}

static uint32_t ep_hash(const struct endpoint *e, uint64_t seed)
{
	uint64_t lo, hi, h;

	memcpy(&lo, e->addr, 8);
	memcpy(&hi, e->addr + 8, 8);
	h = fold(seed ^ lo, 0x9e3779b97f4a7c15ull);
	h = fold(h ^ hi, 0xbf58476d1ce4e5b9ull);
	h = fold(h ^ ((uint64_t)e->port << 8 | e->family), 0x94d049bb133111ebull);
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static uint32_t pair_hash(const struct flows *f, const struct endpoint *a,
			  const struct endpoint *b)
{
	return ep_hash(a, f->seed) + ep_hash(b, f->seed);
}

struct flows *flows_new(const struct flows_config *cfg)
{
	struct flows *f = calloc(1, sizeof(*f));
	uint32_t n = 1024;

	if (!f)
		return NULL;
	f->cfg = *cfg;
	if (f->cfg.max_flows == 0)
		f->cfg.max_flows = 65536;
	/* Up to twice the flows: the table can be full of finished markers,
	 * and every packet looks it up. It starts small and grows with
	 * them: a host with a few connections at a time keeps its buckets
	 * in cache, rather than missing on each lookup in a megabyte. */
	f->max_buckets = n;
	while (f->max_buckets < 2 * (uint64_t)f->cfg.max_flows &&
	       f->max_buckets < (1u << 24))
		f->max_buckets <<= 1;
	f->nbuckets = n;
	f->buckets = calloc(n, sizeof(*f->buckets));
	f->heap = calloc(f->cfg.max_flows, sizeof(*f->heap));
	f->orphans = calloc(ORPHANS, sizeof(*f->orphans));
	if (!f->buckets || !f->heap || !f->orphans) {
		flows_free(f);
		return NULL;
	}
	if (getrandom(&f->seed, sizeof(f->seed), GRND_NONBLOCK) != sizeof(f->seed))
		f->seed = 0x9e3779b9;
	return f;
}

/* ---- deadline heap ---- */

static void heap_swap(struct flows *f, uint32_t i, uint32_t j)
{
	struct flow *t = f->heap[i];

	f->heap[i] = f->heap[j];
	f->heap[j] = t;
	f->heap[i]->heap_idx = i;
	f->heap[j]->heap_idx = j;
}

static void heap_sift(struct flows *f, uint32_t i)
{
	while (i > 0 && f->heap[(i - 1) / 2]->deadline > f->heap[i]->deadline) {
		heap_swap(f, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < f->heap_len && f->heap[l]->deadline < f->heap[m]->deadline)
			m = l;
		if (r < f->heap_len && f->heap[r]->deadline < f->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(f, i, m);
		i = m;
	}
}

static void heap_remove(struct flows *f, struct flow *fl)
{
	uint32_t i = fl->heap_idx;

	if (i == NO_HEAP)
		return;
	fl->heap_idx = NO_HEAP;
	if (i != --f->heap_len) {
		f->heap[i] = f->heap[f->heap_len];
		f->heap[i]->heap_idx = i;
		heap_sift(f, i);
	}
}

/* Put the flow where its session's next deadline says. */
static void heap_update(struct flows *f, struct flow *fl)
{
	uint64_t d = fl->sess ? session_deadline(fl->sess) : 0;

	if (d == 0) {
		heap_remove(f, fl);
		return;
	}
	fl->deadline = d;
	if (fl->heap_idx == NO_HEAP) {
		fl->heap_idx = f->heap_len;
		f->heap[f->heap_len++] = fl;
	}
	heap_sift(f, fl->heap_idx);
}

/* ---- table ---- */

static void lru_unlink(struct flows *f, struct flow *fl)
{
	if (fl->prev)
		fl->prev->next = fl->next;
	else
		f->oldest = fl->next;
	if (fl->next)
		fl->next->prev = fl->prev;
	else
		f->newest = fl->prev;
	fl->prev = fl->next = NULL;
}

static void lru_append(struct flows *f, struct flow *fl)
{
	fl->prev = f->newest;
	fl->next = NULL;
	if (f->newest)
		f->newest->next = fl;
	else
		f->oldest = fl;
	f->newest = fl;
}

/* *hash: the pair's hash, for create() when nothing was found. */
static struct flow *lookup(struct flows *f, const struct endpoint *a,
			   const struct endpoint *b, uint32_t *hash)
{
	uint32_t h = pair_hash(f, a, b);
	struct flow *fl = f->buckets[h & (f->nbuckets - 1)];

	*hash = h;

	for (; fl; fl = fl->hnext)
		if (fl->hash == h &&
		    ((ep_eq(&fl->client, a) && ep_eq(&fl->server, b)) ||
		     (ep_eq(&fl->client, b) && ep_eq(&fl->server, a))))
			return fl;
	return NULL;
}

static void add_stream_stats(struct stream_stats *sum,
			     const struct stream_stats *s)
{
	sum->segments += s->segments;
	sum->retransmitted += s->retransmitted;
	sum->conflicts += s->conflicts;
	sum->out_of_order += s->out_of_order;
	sum->gap_bytes += s->gap_bytes;
	sum->truncated_bytes += s->truncated_bytes;
	sum->forced_gaps += s->forced_gaps;
	sum->ignored += s->ignored;
}

/* Keep the flow only as a marker: its outcome is out. */
static void retire(struct flows *f, struct flow *fl)
{
	if (!fl->done)
		f->undecided--;
	for (int i = 0; i < 2; i++) {
		add_stream_stats(&f->st.stream, &fl->st[i].st);
		stream_free(&fl->st[i]);
		stream_init(&fl->st[i]);
	}
	if (fl->sess) {
		session_free(fl->sess);
		spare_give(&f->spare_sessions, fl->sess);
		fl->sess = NULL;
	}
	if (fl->log)
		f->kept -= fl->log->cap;
	free(fl->log);
	fl->log = NULL;
	fl->done = true;
	heap_remove(f, fl);
}

static void report(struct flows *f, struct flow *fl)
{
	struct session *s = fl->sess;

	if (!f->cfg.ports && !session_client_hello_seen(s))
		f->st.not_hello++;
	else {
		f->reporting = fl;
		f->cfg.report(f->cfg.ctx, s);
		f->reporting = NULL;
	}
	s->reported = true;
	retire(f, fl);
}

static void destroy(struct flows *f, struct flow *fl)
{
	struct flow **pp = &f->buckets[fl->hash & (f->nbuckets - 1)];

	retire(f, fl);
	while (*pp != fl)
		pp = &(*pp)->hnext;
	*pp = fl->hnext;
	lru_unlink(f, fl);
	f->count--;
	spare_give(&f->spare_flows, fl);
}

/* Twice the buckets, once the flows are half as many as the buckets:
 * each flow moves to its bucket in the new table (the age list holds
 * them all). Without memory the table stays as it is, only slower. */
static void grow(struct flows *f)
{
	uint32_t n = f->nbuckets * 2;
	struct flow **b;

	if (f->count * 2 < f->nbuckets || f->nbuckets >= f->max_buckets ||
	    !(b = calloc(n, sizeof(*b))))
		return;
	for (struct flow *fl = f->oldest; fl; fl = fl->next) {
		fl->hnext = b[fl->hash & (n - 1)];
		b[fl->hash & (n - 1)] = fl;
	}
	free(f->buckets);
	f->buckets = b;
	f->nbuckets = n;
}

/* Make room: among the oldest few, drop a finished marker first, then a
 * connection whose client has sent nothing (a SYN flood must not push
 * real handshakes out), else the oldest, which is reported as unknown. */
static void evict(struct flows *f)
{
	struct flow *victim = f->oldest, *fl = f->oldest;

	for (int i = 0; fl && i < EVICT_SCAN; i++, fl = fl->next) {
		if (fl->done) {
			victim = fl;
			break;
		}
		if (!victim->done && victim->sess->side[SIDE_CLIENT].bytes &&
		    !fl->sess->side[SIDE_CLIENT].bytes)
			victim = fl;
	}
	if (!victim)
		return;
	if (!victim->done) {
		f->st.evicted++;
		session_lost(victim->sess, f->now);
		report(f, victim);
	}
	destroy(f, victim);
}

/* h: pair_hash() of the two, which lookup() gave. */
static struct flow *create(struct flows *f, const struct endpoint *client,
			   const struct endpoint *server, uint32_t h,
			   uint64_t ts)
{
	struct flow *fl;

	if (f->count >= f->cfg.max_flows)
		evict(f);
	fl = spare_take(&f->spare_flows, sizeof(*fl));
	if (!fl)
		return NULL;
	memset(fl, 0, sizeof(*fl));
	fl->sess = spare_take(&f->spare_sessions, sizeof(struct session));
	if (!fl->sess) {
		spare_give(&f->spare_flows, fl);
		return NULL;
	}
	fl->client = *client;
	fl->server = *server;
	fl->heap_idx = NO_HEAP;
	stream_init(&fl->st[0]);
	stream_init(&fl->st[1]);
	session_init(fl->sess, client, server, ts, f->cfg.timeout_us);
	if (f->lossy)
		session_maybe_lost(fl->sess);
	if (f->cfg.proxy) {
		int m = f->cfg.proxy(f->cfg.ctx, client, server);

		/* Without memory for the parser the header would be read as
		 * not TLS; the connection is then reported as that. */
		if (m)
			session_expect_proxy(fl->sess, m == 1);
	}
	fl->hash = h;
	fl->hnext = f->buckets[h & (f->nbuckets - 1)];
	f->buckets[h & (f->nbuckets - 1)] = fl;
	lru_append(f, fl);
	f->count++;
	f->undecided++;
	f->st.flows++;
	grow(f);
	return fl;
}

/* Without its SYN, a connection is followed only from a ClientHello:
 * anything else is the middle of a connection opened before the capture. */
static bool opens_with_hello(const struct segment *seg)
{
	const uint8_t *p = seg->data;

	if (seg->caplen >= 6 && p[0] == TLS_CT_HANDSHAKE && p[1] == 3 &&
	    p[5] == TLS_HS_CLIENT_HELLO)
		return true;
	return seg->caplen >= 3 && (p[0] & 0x80) && p[2] == 1;
}

/* Which end is the client, for a segment of a connection not yet known;
 * false when the connection is not to be followed. */
static bool pick_client(const struct flows *f, const struct segment *seg,
			bool *src_is_client)
{
	bool syn = seg->flags & TCPF_SYN, ack = seg->flags & TCPF_ACK;

	if (seg->dir != SEG_DIR_UNKNOWN)
		*src_is_client = seg->dir == SEG_DIR_FROM_CLIENT;
	else if (syn)
		*src_is_client = !ack;
	else if (f->cfg.ports && port_watched(f, seg->dst.port))
		*src_is_client = true;
	else if (f->cfg.ports && port_watched(f, seg->src.port))
		*src_is_client = false;
	else
		*src_is_client = true;
	if (!syn && !(*src_is_client && seg->len && opens_with_hello(seg)))
		return false;
	return port_watched(f, *src_is_client ? seg->dst.port : seg->src.port);
}

static void keep(struct flows *f, struct flow *fl, const struct segment *seg,
		 bool from_client)
{
	struct flow_packet p = {
		.ts_us = seg->ts_us,
		.from_client = from_client,
		.flags = seg->flags,
		.seq = seg->seq,
		.ack = seg->ack,
		.caplen = seg->caplen,
		.len = seg->len,
	};
	const uint32_t most = sizeof(p) * FLOWS_KEEP_PACKETS + FLOWS_KEEP_BYTES;
	uint32_t need = sizeof(p) + seg->caplen;
	struct pktlog *log = fl->log;
	uint32_t used = log ? log->len : 0;

	if (log && log->partial)
		return;
	if ((log && log->n >= FLOWS_KEEP_PACKETS) || used + need > most)
		goto partial;
	if (!log || used + need > log->cap) {
		uint32_t cap = log ? log->cap : 2048, old = log ? log->cap : 0;
		struct pktlog *n;

		while (cap < used + need)
			cap *= 2;
		if (cap > most)
			cap = most;
		if (f->kept - old + cap > FLOWS_KEEP_TOTAL)
			goto partial;
		n = realloc(log, sizeof(*log) + cap);
		if (!n)
			goto partial;
		if (!log)
			memset(n, 0, sizeof(*n));
		f->kept += cap - old;
		n->cap = cap;
		fl->log = log = n;
	}
	memcpy(log->buf + log->len, &p, sizeof(p));
	if (seg->caplen)	/* a bare FIN or RST has no data pointer */
		memcpy(log->buf + log->len + sizeof(p), seg->data, seg->caplen);
	log->len += need;
	log->n++;
	return;
partial:
	/* A log that cannot be kept whole is not kept at all past this
	 * point; flows_packets() says so. */
	if (!log) {
		log = calloc(1, sizeof(*log));
		if (!log)
			return;	/* nothing kept: flows_packets() sees no log */
		fl->log = log;
	}
	log->partial = true;
}

bool flows_packets(struct flows *f, flow_packet_fn fn, void *ctx,
		   struct flow_start *opened)
{
	struct flow *fl = f->reporting;
	struct pktlog *log;

	memset(opened, 0, sizeof(*opened));
	if (!fl)
		return false;
	*opened = fl->start;
	log = fn ? fl->log : NULL;
	for (uint32_t off = 0; log && off < log->len;) {
		struct flow_packet p;

		memcpy(&p, log->buf + off, sizeof(p));
		p.data = log->buf + off + sizeof(p);
		fn(ctx, &p);
		off += sizeof(p) + p.caplen;
	}
	return !log || !log->partial;
}

static void maybe_report(struct flows *f, struct flow *fl)
{
	if (fl->sess && session_ready(fl->sess))
		report(f, fl);
	else
		heap_update(f, fl);
}

/* Hold a segment; with every slot taken, the oldest goes (counted). */
static void orphan_add(struct flows *f, const struct segment *seg)
{
	struct orphan *slot = NULL;

	if (seg->caplen > ORPHAN_MAX_LEN) {
		f->st.orphans_dropped++;
		return;
	}
	for (int i = 0; i < ORPHANS; i++) {
		struct orphan *o = &f->orphans[i];

		if (!o->order) {
			slot = o;
			break;
		}
		if (!slot || o->order < slot->order)
			slot = o;
	}
	if (slot->order)
		f->st.orphans_dropped++;
	else
		f->norphans++;
	slot->seg = *seg;
	slot->seg.opening = false;
	memcpy(slot->data, seg->data, seg->caplen);
	slot->seg.data = slot->data;
	slot->order = ++f->orphan_order;
}

/* Play the held segments of a connection just opened, oldest first.
 * Every live connection opens here, and none usually waits: the slots
 * are looked through only when some are taken. */
static void orphans_play(struct flows *f, const struct endpoint *client,
			 const struct endpoint *server)
{
	while (f->norphans) {
		struct orphan *next = NULL;

		for (int i = 0; i < ORPHANS; i++) {
			struct orphan *o = &f->orphans[i];

			if (o->order && (!next || o->order < next->order) &&
			    ((ep_eq(&o->seg.src, client) && ep_eq(&o->seg.dst, server)) ||
			     (ep_eq(&o->seg.src, server) && ep_eq(&o->seg.dst, client))))
				next = o;
		}
		if (!next)
			return;
		next->order = 0;
		f->norphans--;
		flows_segment(f, &next->seg);
	}
}

static void orphans_expire(struct flows *f)
{
	for (int i = 0; f->norphans && i < ORPHANS; i++) {
		struct orphan *o = &f->orphans[i];

		if (o->order && o->seg.ts_us + ORPHAN_TTL_US < f->now) {
			o->order = 0;
			f->norphans--;
			f->st.orphans_dropped++;
		}
	}
}

void flows_advance(struct flows *f, uint64_t now)
{
	if (now > f->now)
		f->now = now;
	orphans_expire(f);
	while (f->heap_len && f->heap[0]->deadline <= f->now) {
		struct flow *fl = f->heap[0];

		session_tick(fl->sess, fl->deadline);
		maybe_report(f, fl);
		if (fl->done && (fl->gone || fl->final))
			destroy(f, fl);
	}
}

int flows_segment(void *fp, const struct segment *seg)
{
	struct flows *f = fp;
	struct flow *fl;
	enum side_id side;
	uint32_t seq = seg->seq, h;

	f->st.segments++;
	flows_advance(f, seg->ts_us);
	fl = lookup(f, &seg->src, &seg->dst, &h);
	if (fl && fl->done && (seg->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
		destroy(f, fl);	/* the 4-tuple is reused */
		fl = NULL;
	}
	if (!fl) {
		bool src_is_client;

		if (!pick_client(f, seg, &src_is_client)) {
			if (seg->opening)
				orphan_add(f, seg);
			else if (seg->len)
				f->st.midstream++;
			return 0;
		}
		if (f->cfg.ignore &&
		    f->cfg.ignore(f->cfg.ctx, src_is_client ? &seg->src : &seg->dst))
			return 0;
		fl = src_is_client ?
		     create(f, &seg->src, &seg->dst, h, seg->ts_us) :
		     create(f, &seg->dst, &seg->src, h, seg->ts_us);
		if (!fl)
			return 0;
	}
	side = ep_eq(&seg->src, &fl->client) ? SIDE_CLIENT : SIDE_SERVER;
	fl->last_ts = seg->ts_us;
	lru_unlink(f, fl);
	lru_append(f, fl);
	if (seg->flags & TCPF_RST)
		fl->rst = true;
	if (seg->flags & TCPF_FIN)
		fl->fin[side] = true;
	/* No close will come to remove the marker of a final segment's
	 * connection: it goes once reported. */
	if (seg->final)
		fl->final = true;
	if (fl->done) {
		if (fl->rst || fl->final || (fl->fin[0] && fl->fin[1]))
			destroy(f, fl);
		return 0;
	}
	if (seg->final)
		fl->sess->final = true;
	session_tick(fl->sess, seg->ts_us);
	if (f->cfg.keep_packets)
		keep(f, fl, seg, side == SIDE_CLIENT);
	/* What the peer acknowledges is where the other side's bytes start:
	 * it beats a SYN-ACK with another initial sequence number (a
	 * middlebox or a restarted server answering the same SYN). */
	if ((seg->flags & (TCPF_ACK | TCPF_RST)) == TCPF_ACK)
		stream_restart(&fl->st[!side], seg->ack);
	if (seg->flags & TCPF_SYN) {
		seq++;
		stream_start(&fl->st[side], seq);
	}
	if (seg->len)
		stream_add(&fl->st[side], seq, seg->data, seg->caplen, seg->len,
			   &session_sink, &fl->sess->side[side]);
	if (seg->flags & (TCPF_FIN | TCPF_RST)) {
		/* Nothing more will fill this side's holes. */
		stream_flush(&fl->st[side], &session_sink,
			     &fl->sess->side[side]);
		session_close(fl->sess, side,
			      seg->flags & TCPF_RST ? CLOSE_RST : CLOSE_FIN,
			      seg->ts_us);
	}
	maybe_report(f, fl);
	if (seg->final && !fl->done) {
		/* The kernel saw the handshake end, and what was missing
		 * here will not come: unknown, truncated, and counted. */
		f->st.final_undecided++;
		session_truncated(fl->sess, SIDE_SERVER, seg->ts_us);
		maybe_report(f, fl);
	}
	if (fl->done && (fl->rst || fl->gone || fl->final ||
			 (fl->fin[0] && fl->fin[1])))
		destroy(f, fl);
	return 0;
}

void flows_open(struct flows *f, const struct endpoint *client,
		const struct endpoint *server, uint32_t client_next,
		uint32_t server_next, uint64_t owner, uint64_t ts)
{
	struct flow *fl;
	uint32_t h;

	flows_advance(f, ts);
	fl = lookup(f, client, server, &h);
	if (fl && !fl->done)
		return;		/* its first bytes came first */
	if (fl)
		destroy(f, fl);	/* an earlier connection's marker */
	if (!port_watched(f, server->port) ||
	    (f->cfg.ignore && f->cfg.ignore(f->cfg.ctx, client)))
		return;
	fl = create(f, client, server, h, ts);
	if (!fl)
		return;
	/* Known starts: segments that come out of order wait for the ones
	 * before them instead of starting the stream. */
	stream_start(&fl->st[SIDE_CLIENT], client_next);
	stream_start(&fl->st[SIDE_SERVER], server_next);
	fl->sess->owner = owner;
	fl->start.known = true;
	fl->start.ts_us = ts;
	fl->start.client_isn = client_next - 1;
	fl->start.server_isn = server_next - 1;
	heap_update(f, fl);
	orphans_play(f, client, server);
}

void flows_event(struct flows *f, const struct endpoint *client,
		 const struct endpoint *server, enum flow_event ev,
		 uint64_t ts)
{
	struct flow *fl;
	uint32_t h;

	flows_advance(f, ts);
	fl = lookup(f, client, server, &h);
	if (!fl)
		return;
	if (fl->done) {
		if (ev == FLOW_GONE)
			destroy(f, fl);
		return;
	}
	fl->last_ts = ts;
	switch (ev) {
	case FLOW_GONE:
		for (int i = 0; i < 2; i++)
			stream_flush(&fl->st[i], &session_sink,
				     &fl->sess->side[i]);
		session_gone(fl->sess, ts);
		fl->gone = true;
		break;
	case FLOW_DROPPED:
		session_dropped(fl->sess, ts);
		break;
	case FLOW_CLIENT_TRUNCATED:
		session_truncated(fl->sess, SIDE_CLIENT, ts);
		break;
	case FLOW_SERVER_TRUNCATED:
		session_truncated(fl->sess, SIDE_SERVER, ts);
		break;
	default:
		break;
	}
	maybe_report(f, fl);
	if (fl->done && fl->gone)
		destroy(f, fl);
}

static int by_start(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a;
	const struct flow *y = *(struct flow *const *)b;

	if (x->sess->first_ts != y->sess->first_ts)
		return x->sess->first_ts < y->sess->first_ts ? -1 : 1;
	return 0;
}

void flows_finish(struct flows *f)
{
	struct flow **open;
	uint32_t n = 0;

	flows_advance(f, f->now);
	open = calloc(f->count ? f->count : 1, sizeof(*open));
	for (struct flow *fl = f->oldest; fl; fl = fl->next) {
		if (fl->done)
			continue;
		for (int i = 0; i < 2; i++)
			stream_flush(&fl->st[i], &session_sink,
				     &fl->sess->side[i]);
		session_end(fl->sess, f->now);
		if (open)
			open[n++] = fl;
		else
			report(f, fl);
	}
	if (open) {
		qsort(open, n, sizeof(*open), by_start);
		for (uint32_t i = 0; i < n; i++)
			report(f, open[i]);
		free(open);
	}
}

const struct flows_stats *flows_stats(struct flows *f)
{
	return &f->st;
}

uint32_t flows_active(const struct flows *f)
{
	return f->count;
}

uint32_t flows_undecided(const struct flows *f)
{
	return f->undecided;
}

void flows_maybe_lost(struct flows *f, bool on)
{
	/* While on, create() marks the new ones: one walk per episode. */
	for (struct flow *fl = f->oldest; on && !f->lossy && fl; fl = fl->next)
		if (!fl->done)
			session_maybe_lost(fl->sess);
	f->lossy = on;
}

void flows_free(struct flows *f)
{
	if (!f)
		return;
	while (f->oldest)
		destroy(f, f->oldest);
	spare_free(&f->spare_sessions);
	spare_free(&f->spare_flows);
	free(f->buckets);
	free(f->heap);
	free(f->orphans);
	free(f);
}
