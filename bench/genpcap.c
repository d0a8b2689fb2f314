// SPDX-License-Identifier: BSD-3-Clause
/* genpcap: a classic pcap (LINKTYPE_RAW, IPv4) of N TCP connections to
 * port 443 for benchmarks: three-way handshake, a real ClientHello made
 * distinct per client (SNI, one cipher suite, random), then a mix of
 * outcomes: server alerts, TLS 1.2 successes, plain HTTP, silent
 * connects, client resets and stalls past the handshake timeout.
 * Connections arrive as a Poisson process and overlap; packets are
 * written in time order with consistent sequence numbers. TCP checksums
 * are left zero.
 *
 * With -i, an index is written beside it: "connections bytes" lines, the
 * file offset just after every 1000th SYN, so that a reader's position in
 * the file tells how many connections it has seen. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "captured.h"

#define LINKTYPE_RAW 101
#define START_SEC 1767225600u	/* 2026-01-01T00:00:00Z */
#define MAX_STEPS 16
#define INDEX_EVERY 1000
#define MAX_PAYLOAD 2048

enum { C2S, S2C };

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

enum payload {
	P_NONE,
	P_HELLO,		/* built per connection */
	P_ALERT,		/* built per connection */
	P_SERVER_FLIGHT,
	P_CLIENT_FINISH,
	P_SERVER_FINISH,
	P_CLIENT_DATA,
	P_SERVER_DATA,
	P_CLIENT_CLOSE,
	P_HTTP_REQUEST,
	P_HTTP_RESPONSE,
};

enum kind {
	K_VERSION,		/* TLS 1.0 hello, protocol_version alert */
	K_HANDSHAKE,		/* handshake_failure alert */
	K_SUCCESS,		/* a whole TLS 1.2 handshake and some data */
	K_HTTP,			/* plain HTTP on port 443 */
	K_SILENT,		/* connects, says nothing, closes */
	K_RESET,		/* ClientHello, then the client resets */
	K_STALL,		/* ClientHello, no answer, past the timeout */
	K__COUNT,
};

static const char *const kind_names[K__COUNT] = {
	"protocol_version alert", "handshake_failure alert", "tls1.2 success",
	"plain http", "silent connect", "client reset", "stalled (timeout)",
};

/* Per mille of connections (-m). */
static unsigned kind_weights[K__COUNT] = {
	300, 250, 250, 70, 80, 40, 10,
};

struct step {
	uint32_t at_us;		/* after the SYN */
	uint8_t dir, flags, payload;
};

struct conn {
	uint64_t start_us;
	uint32_t client_ip, server_ip;
	uint16_t client_port;
	uint32_t next_seq[2];
	uint32_t fp;		/* fingerprint variant */
	uint32_t sni;
	uint8_t kind, alert;
	uint8_t nsteps, cur;
	struct step steps[MAX_STEPS];
};

struct opts {
	uint64_t conns;
	double rate;
	uint32_t clients;
	uint32_t fingerprints;
	uint32_t snis;
	uint64_t seed;
	const char *out, *index;
};

/* ---- randomness ---- */

static uint64_t rng_state;

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
	rng_state = splitmix(rng_state);
	return rng_state;
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % (hi - lo + 1));
}

/* ---- output ---- */

struct out {
	FILE *f;
	uint8_t *buf;
	size_t len, cap;
	uint64_t offset;	/* bytes written so far, buffered included */
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len) {
		perror("genpcap: write");
		exit(1);
	}
	o->len = 0;
}

static void out_put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap)
		out_flush(o);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->offset += n;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static void write_packet(struct out *o, uint64_t ts_us, uint32_t src,
			 uint16_t sport, uint32_t dst, uint16_t dport,
			 uint32_t seq, uint32_t ack, uint8_t flags,
			 const uint8_t *data, uint32_t len)
{
	static uint16_t ip_id;
	uint32_t rec[4];
	uint8_t h[40] = { 0 };

	rec[0] = ts_us / 1000000;
	rec[1] = ts_us % 1000000;
	rec[2] = rec[3] = sizeof(h) + len;
	out_put(o, rec, sizeof(rec));

	h[0] = 0x45;
	put16(h + 2, sizeof(h) + len);
	put16(h + 4, ip_id++);
	put16(h + 6, 0x4000);	/* DF */
	h[8] = 64;
	h[9] = 6;
	put32(h + 12, src);
	put32(h + 16, dst);
	put16(h + 10, ip_checksum(h, 20));

	put16(h + 20, sport);
	put16(h + 22, dport);
	put32(h + 24, seq);
	put32(h + 28, ack);
	h[32] = 5 << 4;
	h[33] = flags;
	put16(h + 34, 502);	/* window; checksum and urgent stay zero */
	out_put(o, h, sizeof(h));
	if (len)
		out_put(o, data, len);
}

/* ---- payloads ---- */

/* A template ClientHello with a fresh random, its last real cipher
 * suite replaced by one of a pool (so that clients have distinct JA3/JA4
 * fingerprints), and a server_name extension put first. */
static uint32_t build_hello(const struct conn *c, uint8_t *out)
{
	const uint8_t *t = c->kind == K_VERSION ? hello10 : hello12;
	uint32_t tlen = c->kind == K_VERSION ? sizeof(hello10) : sizeof(hello12);
	char name[64];
	uint32_t p, n, nlen, cs, ncs, ext_at, exts_len, sni_len, hs_len;
	uint64_t r;

	nlen = snprintf(name, sizeof(name), "s%u.bench.example", c->sni);
	/* record header 5, handshake header 4, version 2, random 32 */
	p = 5 + 4 + 2;
	memcpy(out, t, p);
	for (int i = 0; i < 32; i += 8) {
		r = rnd();
		memcpy(out + p + i, &r, 8);
	}
	p += 32;
	n = 1 + t[p];			/* session id */
	memcpy(out + p, t + p, n);
	p += n;
	cs = p + 2;
	ncs = (t[p] << 8 | t[p + 1]) / 2;
	n = 2 + 2 * ncs + 1 + t[p + 2 + 2 * ncs];	/* ciphers, compression */
	memcpy(out + p, t + p, n);
	for (uint32_t i = ncs; i-- > 0;) {
		if (out[cs + 2 * i] == 0x00 && out[cs + 2 * i + 1] == 0xff)
			continue;	/* the renegotiation SCSV */
		put16(out + cs + 2 * i, 0x5a00 + c->fp);
		break;
	}
	p += n;
	exts_len = t[p] << 8 | t[p + 1];
	ext_at = p;
	/* server_name: type, length, list length, name type, name length */
	sni_len = 2 + 2 + 2 + 1 + 2 + nlen;
	put16(out + ext_at, exts_len + sni_len);
	p = ext_at + 2;
	put16(out + p, 0);
	put16(out + p + 2, 2 + 1 + 2 + nlen);
	put16(out + p + 4, 1 + 2 + nlen);
	out[p + 6] = 0;
	put16(out + p + 7, nlen);
	memcpy(out + p + 9, name, nlen);
	p += sni_len;
	memcpy(out + p, t + ext_at + 2, tlen - ext_at - 2);
	p += tlen - ext_at - 2;
	hs_len = p - 9;
	put16(out + 3, p - 5);
	out[6] = hs_len >> 16;
	put16(out + 7, hs_len);
	return p;
}

static uint32_t payload(const struct conn *c, uint8_t id, uint8_t *buf,
			const uint8_t **data)
{
	static const struct {
		const uint8_t *p;
		uint32_t len;
	} fixed[] = {
		[P_SERVER_FLIGHT] = { server_flight12, sizeof(server_flight12) },
		[P_CLIENT_FINISH] = { client_finish12, sizeof(client_finish12) },
		[P_SERVER_FINISH] = { server_finish12, sizeof(server_finish12) },
		[P_CLIENT_DATA] = { client_data12, sizeof(client_data12) },
		[P_SERVER_DATA] = { server_data12, sizeof(server_data12) },
		[P_CLIENT_CLOSE] = { client_close12, sizeof(client_close12) },
		[P_HTTP_REQUEST] = { http_request, sizeof(http_request) },
		[P_HTTP_RESPONSE] = { http_response, sizeof(http_response) },
	};

	*data = buf;
	switch (id) {
	case P_NONE:
		return 0;
	case P_HELLO:
		return build_hello(c, buf);
	case P_ALERT:
		/* a fatal alert in a record of the version the hello asked */
		buf[0] = 21;
		buf[1] = 3;
		buf[2] = c->kind == K_VERSION ? 1 : 3;
		put16(buf + 3, 2);
		buf[5] = 2;
		buf[6] = c->alert;
		return 7;
	default:
		*data = fixed[id].p;
		return fixed[id].len;
	}
}

/* ---- connection scripts ---- */

static void add(struct conn *c, uint32_t at_us, int dir, uint8_t flags,
		uint8_t payload)
{
	struct step *s = &c->steps[c->nsteps++];

	s->at_us = at_us;
	s->dir = dir;
	s->flags = flags;
	s->payload = payload;
}

static enum kind pick_kind(void)
{
	uint32_t r = rnd() % 1000, sum = 0;

	for (int k = 0; k < K__COUNT; k++) {
		sum += kind_weights[k];
		if (r < sum)
			return k;
	}
	return K_VERSION;
}

static void script(struct conn *c, const struct opts *o, uint64_t id)
{
	/* Round trip 2-40 ms; a client is one program, so its fingerprint
	 * and the name it asks for stay the same across its connections. */
	uint32_t rtt = rnd_range(2000, 40000), half = rtt / 2, t;
	uint32_t ip = rnd() % o->clients;
	uint64_t h = splitmix(ip ^ o->seed);
	enum kind k = pick_kind();

	c->kind = k;
	c->client_ip = 0x0a000000u + 1 + ip;	/* 10.0.0.1 onwards */
	c->server_ip = 0xc0000201u + (uint32_t)(id % 4);	/* 192.0.2.1-4 */
	c->client_port = rnd_range(1024, 65535);
	c->next_seq[C2S] = rnd();
	c->next_seq[S2C] = rnd();
	c->fp = (h & 0xffffffff) % o->fingerprints;
	c->sni = (h >> 32) % o->snis;
	c->alert = k == K_VERSION ? 70 : 40;
	c->nsteps = c->cur = 0;

	add(c, 0, C2S, TH_SYN, P_NONE);
	add(c, half, S2C, TH_SYN | TH_ACK, P_NONE);
	add(c, rtt, C2S, TH_ACK, P_NONE);
	t = rtt + rnd_range(50, 1000);	/* the client prepares its hello */
	switch (k) {
	case K_VERSION:
	case K_HANDSHAKE:
		add(c, t, C2S, TH_PSH | TH_ACK, P_HELLO);
		t += half + rnd_range(100, 800);
		add(c, t, S2C, TH_PSH | TH_ACK, P_ALERT);
		add(c, t + 20, S2C, TH_FIN | TH_ACK, P_NONE);
		t += half;
		if (rnd() % 10 == 0) {
			add(c, t, C2S, TH_RST, P_NONE);
			break;
		}
		add(c, t, C2S, TH_FIN | TH_ACK, P_NONE);
		add(c, t + half, S2C, TH_ACK, P_NONE);
		break;
	case K_SUCCESS:
		add(c, t, C2S, TH_PSH | TH_ACK, P_HELLO);
		t += half;
		add(c, t + 10, S2C, TH_ACK, P_NONE);
		t += rnd_range(300, 1500);	/* the server signs */
		add(c, t, S2C, TH_PSH | TH_ACK, P_SERVER_FLIGHT);
		t += half + rnd_range(200, 1500);
		add(c, t, C2S, TH_PSH | TH_ACK, P_CLIENT_FINISH);
		t += half + rnd_range(50, 300);
		add(c, t, S2C, TH_PSH | TH_ACK, P_SERVER_FINISH);
		t += half + rnd_range(50, 300);
		add(c, t, C2S, TH_PSH | TH_ACK, P_CLIENT_DATA);
		t += half + rnd_range(200, 5000);
		add(c, t, S2C, TH_PSH | TH_ACK, P_SERVER_DATA);
		t += half + rnd_range(100, 3000);
		add(c, t, C2S, TH_PSH | TH_ACK, P_CLIENT_CLOSE);
		t += half;
		add(c, t, S2C, TH_FIN | TH_ACK, P_NONE);
		t += half;
		add(c, t, C2S, TH_FIN | TH_ACK, P_NONE);
		add(c, t + half, S2C, TH_ACK, P_NONE);
		break;
	case K_HTTP:
		add(c, t, C2S, TH_PSH | TH_ACK, P_HTTP_REQUEST);
		t += half + rnd_range(100, 500);
		add(c, t, S2C, TH_PSH | TH_ACK, P_HTTP_RESPONSE);
		add(c, t + 20, S2C, TH_FIN | TH_ACK, P_NONE);
		t += half;
		add(c, t, C2S, TH_FIN | TH_ACK, P_NONE);
		add(c, t + half, S2C, TH_ACK, P_NONE);
		break;
	case K_SILENT:
		t += rnd_range(50000, 500000);
		add(c, t, C2S, TH_FIN | TH_ACK, P_NONE);
		t += half;
		add(c, t, S2C, TH_FIN | TH_ACK, P_NONE);
		add(c, t + half, C2S, TH_ACK, P_NONE);
		break;
	case K_RESET:
		add(c, t, C2S, TH_PSH | TH_ACK, P_HELLO);
		add(c, t + rnd_range(100, 2000), C2S, TH_RST | TH_ACK, P_NONE);
		break;
	case K_STALL:
		add(c, t, C2S, TH_PSH | TH_ACK, P_HELLO);
		add(c, t + half, S2C, TH_ACK, P_NONE);
		t += rnd_range(11000000, 15000000);
		add(c, t, C2S, TH_FIN | TH_ACK, P_NONE);
		t += half;
		add(c, t, S2C, TH_FIN | TH_ACK, P_NONE);
		add(c, t + half, C2S, TH_ACK, P_NONE);
		break;
	default:
		break;
	}
}

/* Write the connection's current step and move to the next. */
static void emit(struct out *o, struct conn *c)
{
	const struct step *s = &c->steps[c->cur++];
	uint8_t buf[MAX_PAYLOAD];
	const uint8_t *data;
	uint32_t len = payload(c, s->payload, buf, &data);
	uint32_t seq = c->next_seq[s->dir];
	uint32_t ack = s->flags & TH_ACK ? c->next_seq[!s->dir] : 0;
	uint64_t ts = c->start_us + s->at_us;

	if (s->dir == C2S)
		write_packet(o, ts, c->client_ip, c->client_port, c->server_ip,
			     443, seq, ack, s->flags, data, len);
	else
		write_packet(o, ts, c->server_ip, 443, c->client_ip,
			     c->client_port, seq, ack, s->flags, data, len);
	c->next_seq[s->dir] += len + !!(s->flags & TH_SYN) +
			       !!(s->flags & TH_FIN);
}

/* ---- open connections: a min-heap on the time of their next step ---- */

struct heap {
	struct conn **v;
	uint32_t len, cap;
};

static uint64_t due(const struct conn *c)
{
	return c->start_us + c->steps[c->cur].at_us;
}

static void heap_down(struct heap *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		struct conn *t;

		if (l < h->len && due(h->v[l]) < due(h->v[m]))
			m = l;
		if (r < h->len && due(h->v[r]) < due(h->v[m]))
			m = r;
		if (m == i)
			return;
		t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

static void heap_push(struct heap *h, struct conn *c)
{
	uint32_t i;

	if (h->len == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		if (!h->v) {
			perror("genpcap");
			exit(1);
		}
	}
	i = h->len++;
	h->v[i] = c;
	while (i > 0 && due(h->v[(i - 1) / 2]) > due(h->v[i])) {
		struct conn *t = h->v[i];

		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: genpcap [-n CONNS] [-r RATE] [-c CLIENTS] [-f FPS] [-S SNIS]\n"
"               [-m MIX] [-s SEED] [-i INDEX] -o FILE\n"
"  -n CONNS   connections (default 1000000)\n"
"  -r RATE    new connections per second of capture time (default 20000)\n"
"  -c CLIENTS distinct client addresses, from 10.0.0.1 (default 262144)\n"
"  -f FPS     ClientHello fingerprint variants (default 8192)\n"
"  -S SNIS    server names (default 256)\n"
"  -m MIX     per mille of each outcome, summing to 1000 (default\n"
"             300,250,250,70,80,40,10): protocol_version alert,\n"
"             handshake_failure alert, TLS 1.2 success, plain HTTP,\n"
"             silent connect, client reset, stalled past 10 s\n"
"  -s SEED    random seed (default 1)\n"
"  -i INDEX   write \"connections bytes\" lines: the offset after every\n"
"             %dth SYN\n"
"  -o FILE    the pcap, - for stdout\n", INDEX_EVERY);
}

static uint64_t number(const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "genpcap: bad number %s (%llu to %llu)\n", s,
			(unsigned long long)min, (unsigned long long)max);
		exit(2);
	}
	return v;
}

static void parse_mix(const char *s)
{
	unsigned sum = 0;
	int k = 0;

	for (const char *p = s; k < K__COUNT; k++) {
		char *end;

		kind_weights[k] = strtoul(p, &end, 10);
		sum += kind_weights[k];
		if (end == p || (k < K__COUNT - 1 && *end != ',') ||
		    (k == K__COUNT - 1 && *end))
			break;
		p = end + 1;
	}
	if (k != K__COUNT || sum != 1000) {
		fprintf(stderr, "genpcap: -m needs %d numbers summing to 1000\n",
			K__COUNT);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {
		.conns = 1000000, .rate = 20000, .clients = 262144,
		.fingerprints = 8192, .snis = 256, .seed = 1,
	};
	uint64_t counts[K__COUNT] = { 0 }, packets = 0, started = 0, syns = 0;
	uint64_t next_arrival = (uint64_t)START_SEC * 1000000, last_ts = 0;
	struct conn **free_list = NULL;
	uint32_t nfree = 0, max_open = 0;
	struct heap h = { 0 };
	struct out out = { 0 };
	FILE *idx = NULL;
	struct timespec t0, t1;
	uint32_t ghdr[6];
	int ch;

	while ((ch = getopt(argc, argv, "n:r:c:f:S:m:s:i:o:h")) != -1) {
		switch (ch) {
		case 'n': o.conns = number(optarg, 1, 1ull << 40); break;
		case 'r': o.rate = number(optarg, 1, 10000000); break;
		case 'c': o.clients = number(optarg, 1, 1u << 24); break;
		case 'f': o.fingerprints = number(optarg, 1, 8192); break;
		case 'S': o.snis = number(optarg, 1, 1u << 30); break;
		case 'm': parse_mix(optarg); break;
		case 's': o.seed = number(optarg, 0, UINT64_MAX); break;
		case 'i': o.index = optarg; break;
		case 'o': o.out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.out || optind != argc) {
		usage(stderr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng_state = o.seed;
	out.f = strcmp(o.out, "-") ? fopen(o.out, "wb") : stdout;
	if (!out.f) {
		fprintf(stderr, "genpcap: %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	if (o.index && !(idx = fopen(o.index, "w"))) {
		fprintf(stderr, "genpcap: %s: %s\n", o.index, strerror(errno));
		return 1;
	}
	out.cap = 1 << 20;
	out.buf = malloc(out.cap);
	if (!out.buf) {
		perror("genpcap");
		return 1;
	}
	ghdr[0] = 0xa1b2c3d4;		/* microseconds, host order */
	ghdr[1] = 2 | 4 << 16;		/* version 2.4 */
	ghdr[2] = ghdr[3] = 0;
	ghdr[4] = 65535;
	ghdr[5] = LINKTYPE_RAW;
	out_put(&out, ghdr, sizeof(ghdr));
	if (idx)
		fprintf(idx, "0 %llu\n", (unsigned long long)out.offset);

	while (started < o.conns || h.len) {
		struct conn *c;

		if (started < o.conns &&
		    (!h.len || next_arrival <= due(h.v[0]))) {
			c = nfree ? free_list[--nfree] : malloc(sizeof(*c));
			if (!c) {
				perror("genpcap");
				return 1;
			}
			c->start_us = next_arrival;
			script(c, &o, started);
			counts[c->kind]++;
			started++;
			/* exponential gaps: a Poisson process at the rate */
			next_arrival += (uint64_t)(-log(1.0 - (rnd() >> 11) *
					0x1.0p-53) / o.rate * 1e6);
			heap_push(&h, c);
			if (h.len > max_open)
				max_open = h.len;
			continue;
		}
		c = h.v[0];
		last_ts = due(c);
		emit(&out, c);
		packets++;
		if (c->steps[c->cur - 1].flags == TH_SYN && idx &&
		    ++syns % INDEX_EVERY == 0)
			fprintf(idx, "%llu %llu\n", (unsigned long long)syns,
				(unsigned long long)out.offset);
		if (c->cur < c->nsteps) {
			heap_down(&h, 0);
			continue;
		}
		h.v[0] = h.v[--h.len];
		heap_down(&h, 0);
		if (nfree % 1024 == 0) {
			free_list = realloc(free_list,
					    (nfree + 1024) * sizeof(*free_list));
			if (!free_list) {
				perror("genpcap");
				return 1;
			}
		}
		free_list[nfree++] = c;
	}
	if (idx && syns % INDEX_EVERY)
		fprintf(idx, "%llu %llu\n", (unsigned long long)syns,
			(unsigned long long)out.offset);
	out_flush(&out);
	if ((out.f != stdout && fclose(out.f)) || fflush(stdout) ||
	    (idx && fclose(idx))) {
		perror("genpcap: close");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	fprintf(stderr,
		"genpcap: %llu connections, %llu packets, %llu bytes, %.1f s of "
		"capture, at most %u open, written in %.2f s\n",
		(unsigned long long)o.conns, (unsigned long long)packets,
		(unsigned long long)out.offset,
		(last_ts - (uint64_t)START_SEC * 1000000) / 1e6, max_open,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (int k = 0; k < K__COUNT; k++)
		fprintf(stderr, "  %-24s %10llu\n", kind_names[k],
			(unsigned long long)counts[k]);
	for (uint32_t i = 0; i < nfree; i++)
		free(free_list[i]);
	free(free_list);
	free(h.v);
	free(out.buf);
	return 0;
}
