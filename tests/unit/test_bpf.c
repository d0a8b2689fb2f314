// SPDX-License-Identifier: BSD-3-Clause
/* The kernel side's packet logic, run on crafted frames through
 * BPF_PROG_TEST_RUN. Nothing is attached, so no traffic of this host gets
 * in and no network is needed; but loading needs root. Each case uses a
 * 4-tuple of its own, because flow state outlives a test run. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/tlswatch.h"
#include "tlswatch.skel.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define ETH_LEN 14
/* With the timestamp option, as Linux sends: the payload offset must
 * come from the data offset field, not from a fixed 20 bytes. */
#define TCP_LEN 32
#define TLS_PORT 443
/* Watched too, and behind a load balancer: its clients' bytes start with
 * a PROXY protocol header. */
#define PROXY_PORT 8443

enum { CLIENT, SERVER };

/* The programs the cases run on: main_ with the default budget, small_
 * with a smaller one for segments longer than it, tiny_ with one that a
 * PROXY header alone passes. */
static struct tlswatch_bpf *skel, *main_skel, *small_skel, *tiny_skel;
static struct ring_buffer *rb, *main_rb, *small_rb, *tiny_rb;

/* The events of the last run, copied out of the ring buffer. */
#define MAX_EVENTS 32
static struct tw_segment_event evs[MAX_EVENTS];
static size_t ev_size[MAX_EVENTS];
static int nevs;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	/* Counted even when not kept, so that a flood fails the count. */
	if (nevs < MAX_EVENTS && size <= sizeof(evs[0])) {
		memset(&evs[nevs], 0, sizeof(evs[0]));
		memcpy(&evs[nevs], data, size);
		ev_size[nevs] = size;
	}
	nevs++;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

struct conn {
	int family;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;	/* host order */
	uint32_t seq[2];	/* next sequence number, [CLIENT], [SERVER] */
};

static uint16_t next_port = 40000;

/* A 4-tuple no earlier case has used. The client's data wraps the
 * sequence space 1 KiB in, so the walk's arithmetic is tried across it. */
static struct conn conn_new(int family, uint16_t sport)
{
	struct conn c = {
		.family = family,
		.cport = next_port++,
		.sport = sport,
		.seq = { 0xfffffc00, 0x20000000 },
	};

	if (family == AF_INET) {
		inet_pton(AF_INET, "192.0.2.1", c.caddr);
		inet_pton(AF_INET, "198.51.100.2", c.saddr);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", c.caddr);
		inet_pton(AF_INET6, "2001:db8:1::2", c.saddr);
	}
	return c;
}

/* The flow key as the program builds it: client first, network order,
 * an IPv4 address in the first 4 bytes and zeros after. */
static struct tw_key key_of(const struct conn *c)
{
	struct tw_key k;

	memset(&k, 0, sizeof(k));
	k.family = c->family;
	k.cport = htons(c->cport);
	k.sport = htons(c->sport);
	memcpy(k.caddr, c->caddr, c->family == AF_INET ? 4 : 16);
	memcpy(k.saddr, c->saddr, c->family == AF_INET ? 4 : 16);
	return k;
}

static uint8_t frame[4096];

/* An Ethernet frame carrying one TCP segment of c from one side. */
static size_t build(const struct conn *c, int from, uint32_t seq,
		    uint8_t flags, const void *data, size_t len)
{
	const uint8_t *src = from == CLIENT ? c->caddr : c->saddr;
	const uint8_t *dst = from == CLIENT ? c->saddr : c->caddr;
	uint8_t *p = frame;

	assert_true(len <= sizeof(frame) - ETH_LEN - 40 - TCP_LEN);
	/* Ethernet: test_run takes skb->protocol from the ethertype and
	 * hands the program the skb from the IP header on. */
	memcpy(p, "\x02\0\0\0\0\x02", 6);		/* destination */
	memcpy(p + 6, "\x02\0\0\0\0\x01", 6);		/* source */
	put16(p + 12, c->family == AF_INET ? 0x0800 : 0x86dd);
	p += ETH_LEN;
	if (c->family == AF_INET) {
		p[0] = 0x45;				/* v4, 20-byte header */
		p[1] = 0;				/* DSCP, ECN */
		put16(p + 2, 20 + TCP_LEN + len);	/* total length */
		put16(p + 4, 0x1234);			/* identification */
		put16(p + 6, 0x4000);			/* DF, not a fragment */
		p[8] = 64;				/* TTL */
		p[9] = IPPROTO_TCP;
		put16(p + 10, 0);			/* checksum: unused */
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		p += 20;
	} else {
		put32(p, 0x60000000);		/* v6, class 0, label 0 */
		put16(p + 4, TCP_LEN + len);	/* payload length */
		p[6] = IPPROTO_TCP;		/* no extension headers */
		p[7] = 64;			/* hop limit */
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		p += 40;
	}
	/* Source and destination ports. */
	put16(p, from == CLIENT ? c->cport : c->sport);
	put16(p + 2, from == CLIENT ? c->sport : c->cport);
	put32(p + 4, seq);
	put32(p + 8, flags & TCP_ACK ? c->seq[!from] : 0);	/* ack */
	p[12] = (TCP_LEN / 4) << 4;		/* data offset, in words */
	p[13] = flags;
	put16(p + 14, 65535);			/* window */
	put16(p + 16, 0);			/* checksum */
	put16(p + 18, 0);			/* urgent pointer */
	p[20] = 1;				/* NOP */
	p[21] = 1;				/* NOP */
	p[22] = 8;				/* timestamps, */
	p[23] = 10;				/* 10 bytes */
	put32(p + 24, 1000);			/* TSval */
	put32(p + 28, 2000);			/* TSecr */
	p += TCP_LEN;
	if (len)
		memcpy(p, data, len);
	return p + len - frame;
}

/* Runs one segment through a hook and collects its events. */
static int xmit(const struct conn *c, int from, bool ingress, uint32_t seq,
		uint8_t flags, const void *data, size_t len)
{
	struct bpf_program *prog = ingress ? skel->progs.handle_ingress :
				   skel->progs.handle_egress;
	size_t n = build(c, from, seq, flags, data, len);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = n);

	nevs = 0;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	/* Capture never drops a packet. */
	assert_int_equal(o.retval, 1);
	assert_true(ring_buffer__consume(rb) >= 0);
	return nevs;
}

/* One segment on the hook a server sees it on: the client's arrive
 * (ingress), the server's leave (egress). Advances the sender's seq. */
static int send_seg(struct conn *c, int from, uint8_t flags,
		    const void *data, size_t len)
{
	uint32_t seq = c->seq[from];

	c->seq[from] += len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
	return xmit(c, from, from == CLIENT, seq, flags, data, len);
}

static uint64_t stat(enum tw_stat which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;
	__u32 k = which;

	assert_true(ncpu > 0);
	v = calloc(ncpu, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats),
					     &k, v), 0);
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	free(v);
	return sum;
}

/* What the sockops program does when the connection is established:
 * the flow starts seeded with each side's first sequence number. */
static void seed(const struct conn *c)
{
	struct tw_key k = key_of(c);
	struct tw_flow f = {
		.walking = { 1, 1 },
		.next_hdr = { c->seq[CLIENT], c->seq[SERVER] },
		.first_seq = { c->seq[CLIENT], c->seq[SERVER] },
		.seeded = 1,
	};

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.flows), &k,
					     &f, BPF_NOEXIST), 0);
}

static int flow_get(const struct conn *c, struct tw_flow *f)
{
	struct tw_key k = key_of(c);

	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.flows), &k, f);
}

/* The fixed fields of event i, as the program must fill them in. */
static void check_head(int i, const struct conn *c, int from, uint32_t seq,
		       uint32_t ack, uint32_t len, uint8_t tcp_flags,
		       uint32_t flags)
{
	const struct tw_segment_event *ev = &evs[i];
	struct tw_key k = key_of(c);

	assert_true(i < nevs && i < MAX_EVENTS);
	assert_true(ev_size[i] >= offsetof(struct tw_segment_event, data));
	assert_int_equal(ev->type, TW_EV_SEGMENT);
	assert_int_equal(ev->flags,
			 flags | (from == CLIENT ? TW_SEG_FROM_CLIENT : 0));
	assert_memory_equal(&ev->key, &k, sizeof(k));
	assert_int_equal(ev->seq, seq);
	assert_int_equal(ev->ack, ack);
	assert_int_equal(ev->len, len);
	assert_int_equal(ev->tcp_flags, tcp_flags);
	assert_true(ev->ts_ns != 0);
}

struct piece {
	uint32_t off, len;
};

#define PIECES(...) (const struct piece[]){ __VA_ARGS__ },		\
	(int)(sizeof((const struct piece[]){ __VA_ARGS__ }) /		\
	      sizeof(struct piece))
#define NO_PIECES NULL, 0

/* Event i carries exactly these pieces of payload, their bytes one after
 * another, and nothing else. A TW_ALERT_HDR piece may also come as the
 * 5-byte header and the 2 alert bytes in two adjacent pieces: the same
 * bytes reach userspace, which joins adjacent pieces. */
static void check_pieces(int i, const uint8_t *payload,
			 const struct piece *exp, int n)
{
	const struct tw_segment_event *ev = &evs[i];
	const uint8_t *d = ev->data;
	struct tw_piece pieces[TW_MAX_PIECES];
	int j = 0;

	/* The pieces follow the data. */
	assert_true(ev->npieces <= TW_MAX_PIECES);
	memcpy(pieces, ev->data + ev->dlen, ev->npieces * sizeof(pieces[0]));

	for (int e = 0; e < n; e++) {
		assert_true(j < ev->npieces);
		assert_int_equal(pieces[j].off, exp[e].off);
		if (exp[e].len == TW_ALERT_HDR &&
		    pieces[j].len == TW_HDR) {
			assert_true(j + 1 < ev->npieces);
			assert_int_equal(pieces[j + 1].off,
					 exp[e].off + TW_HDR);
			assert_int_equal(pieces[j + 1].len, 2);
			j += 2;
		} else {
			assert_int_equal(pieces[j].len, exp[e].len);
			j++;
		}
		assert_memory_equal(d, payload + exp[e].off, exp[e].len);
		d += exp[e].len;
	}
	assert_int_equal(ev->npieces, j);
	/* Sent with its exact length: only the pieces' bytes, and the
	 * pieces. */
	assert_int_equal(ev->dlen, d - ev->data);
	assert_int_equal(ev_size[i], offsetof(struct tw_segment_event, data) +
				     (d - ev->data) + j * sizeof(pieces[0]));
}

/* One data segment that must give exactly one event with these pieces. */
static void seg_expect(struct conn *c, int from, const uint8_t *payload,
		       size_t len, uint32_t flags, const struct piece *exp,
		       int n)
{
	uint32_t seq = c->seq[from], ack = c->seq[!from];

	assert_int_equal(send_seg(c, from, TCP_ACK | TCP_PSH, payload, len), 1);
	check_head(0, c, from, seq, ack, len, TCP_ACK | TCP_PSH, flags);
	check_pieces(0, payload, exp, n);
}

/* One direction's byte stream, built record by record and sent in
 * segments from where the last one ended. */
struct stream {
	uint8_t b[TW_BUDGET + 4096];
	size_t len, sent;
};

/* A record of type and body length, version 3.3. Body bytes have the top
 * bit set, so a walk that wrongly lands in a body fails loudly. */
static size_t rec(struct stream *s, uint8_t type, uint16_t len)
{
	size_t at = s->len;
	uint8_t *p = s->b + at;

	assert_true(at + TW_HDR + len <= sizeof(s->b));
	p[0] = type;			/* content type */
	p[1] = 3;			/* version major */
	p[2] = 3;			/* version minor */
	put16(p + 3, len);		/* body length */
	for (size_t i = 0; i < len; i++)
		p[TW_HDR + i] = 0x80 | (at + i);
	s->len += TW_HDR + len;
	return at;
}

/* A plaintext alert: header and its 2 bytes, level and description. */
static size_t alert(struct stream *s, uint8_t level, uint8_t desc)
{
	size_t at = rec(s, 21, 2);

	s->b[at + TW_HDR] = level;
	s->b[at + TW_HDR + 1] = desc;
	return at;
}

static void raw(struct stream *s, const void *b, size_t len)
{
	assert_true(s->len + len <= sizeof(s->b));
	memcpy(s->b + s->len, b, len);
	s->len += len;
}

/* The next len bytes of s as one segment, with one event of these pieces
 * (offsets from the segment's start). */
static void next_seg(struct conn *c, int from, struct stream *s, size_t len,
		     uint32_t flags, const struct piece *exp, int n)
{
	assert_true(s->sent + len <= s->len);
	seg_expect(c, from, s->b + s->sent, len, flags, exp, n);
	s->sent += len;
}

/* Segments of at most MSS bytes up to byte end of s, all within the
 * budget, so each must come whole. test_run takes frames of less than a
 * page, so the budget is spent in several. */
#define MSS 1000
static void send_whole(struct conn *c, int from, struct stream *s,
		       size_t end)
{
	while (s->sent < end) {
		size_t n = end - s->sent < MSS ? end - s->sent : MSS;

		next_seg(c, from, s, n, 0, PIECES({ 0, n }));
	}
}

/* The first TW_BUDGET bytes as one handshake record, sent whole; the
 * walk then waits for a header at byte TW_BUDGET. */
static void spend_budget(struct conn *c, int from, struct stream *s)
{
	assert_int_equal(s->len, 0);
	rec(s, 22, TW_BUDGET - TW_HDR);
	send_whole(c, from, s, TW_BUDGET);
}

/* A handshake record holding an empty ClientHello. */
static const uint8_t hello[] = {
	22, 3, 1, 0, 4,		/* handshake, TLS 1.0 record, 4 bytes */
	1, 0, 0, 0,		/* ClientHello, empty body */
};

/* (1) Ingress keeps segments to a watched port, egress those from one:
 * each connection is seen once, and local clients are not servers. */
static void port_filter(void **state)
{
	static const uint16_t others[] = { 80, 442, 444 };
	struct conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		c = conn_new(AF_INET, others[i]);
		assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, hello,
					  sizeof(hello)), 0);
		assert_int_equal(send_seg(&c, SERVER, TCP_ACK, hello,
					  sizeof(hello)), 0);
	}
	c = conn_new(AF_INET, TLS_PORT);
	seg_expect(&c, CLIENT, hello, sizeof(hello), 0,
		   PIECES({ 0, sizeof(hello) }));
	/* This host as the client of a remote port 443: its segments
	 * leave with destination 443, the replies arrive from 443. */
	c = conn_new(AF_INET, TLS_PORT);
	assert_int_equal(xmit(&c, CLIENT, false, c.seq[CLIENT], TCP_ACK,
			      hello, sizeof(hello)), 0);
	assert_int_equal(xmit(&c, SERVER, true, c.seq[SERVER], TCP_ACK,
			      hello, sizeof(hello)), 0);
}

/* IPv4 options move the TCP header: the ports and the payload are
 * found after ihl words, not 20 bytes. */
static void ip_options(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	size_t n = build(&c, CLIENT, c.seq[CLIENT], TCP_ACK | TCP_PSH, hello,
			 sizeof(hello));
	uint8_t *ip = frame + ETH_LEN;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = n + 4);

	(void)state;
	assert_true(n + 4 <= sizeof(frame));
	memmove(ip + 24, ip + 20, n - ETH_LEN - 20);
	memset(ip + 20, 1, 4);			/* four NOP options */
	ip[0] = 0x46;				/* 24-byte header */
	put16(ip + 2, 24 + TCP_LEN + sizeof(hello));
	nevs = 0;
	assert_int_equal(bpf_prog_test_run_opts(
		bpf_program__fd(skel->progs.handle_ingress), &o), 0);
	assert_int_equal(o.retval, 1);
	assert_true(ring_buffer__consume(rb) >= 0);
	assert_int_equal(nevs, 1);
	check_head(0, &c, CLIENT, c.seq[CLIENT], c.seq[SERVER],
		   sizeof(hello), TCP_ACK | TCP_PSH, 0);
	check_pieces(0, hello, PIECES({ 0, sizeof(hello) }));
}

/* (2) A handshake's segments say nothing; FIN and RST say who ended it,
 * so they come even without payload, and without pieces. */
static void control_segments(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct tw_flow f;
	uint32_t seq, ack;

	(void)state;
	assert_int_equal(send_seg(&c, CLIENT, TCP_SYN, NULL, 0), 0);
	/* A SYN flood must not push real flows out. */
	assert_int_equal(flow_get(&c, &f), -ENOENT);
	assert_int_equal(send_seg(&c, SERVER, TCP_SYN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, NULL, 0), 0);
	assert_int_equal(send_seg(&c, SERVER, TCP_ACK, NULL, 0), 0);

	seq = c.seq[CLIENT];
	ack = c.seq[SERVER];
	assert_int_equal(send_seg(&c, CLIENT, TCP_FIN | TCP_ACK, NULL, 0), 1);
	check_head(0, &c, CLIENT, seq, ack, 0, TCP_FIN | TCP_ACK, 0);
	check_pieces(0, NULL, NO_PIECES);

	seq = c.seq[SERVER];
	ack = c.seq[CLIENT];
	assert_int_equal(send_seg(&c, SERVER, TCP_RST | TCP_ACK, NULL, 0), 1);
	check_head(0, &c, SERVER, seq, ack, 0, TCP_RST | TCP_ACK, 0);
	check_pieces(0, NULL, NO_PIECES);

	seq = c.seq[SERVER];
	assert_int_equal(send_seg(&c, SERVER, TCP_RST, NULL, 0), 1);
	check_head(0, &c, SERVER, seq, 0, 0, TCP_RST, 0);
	check_pieces(0, NULL, NO_PIECES);
}

/* (3) The first TW_BUDGET bytes whole, then record headers only, and an
 * event for every segment so userspace knows what it did not get. */
static void budget(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	/* Offsets in the comments from B = TW_BUDGET - 48. */
	rec(&s, 22, TW_BUDGET - 48 - TW_HDR);
	rec(&s, 20, 1);			/* [B, B + 6) in the budget */
	/* A handshake record: an application_data one would end the
	 * bytes in full by itself (encrypted_cut). */
	rec(&s, 22, 600);		/* [B + 6, B + 611) header in it */
	rec(&s, 23, 300);		/* [B + 611, B + 916) */
	alert(&s, 1, 0);		/* [B + 916, B + 923) close_notify */
	rec(&s, 23, 2000);		/* [B + 923, B + 2928) */
	rec(&s, 23, 100);		/* [B + 2928, B + 3033) */

	send_whole(&c, CLIENT, &s, TW_BUDGET - 48);
	/* 48 bytes left of the budget: the headers in them come with
	 * them, those after as pieces. */
	next_seg(&c, CLIENT, &s, 1000, 0,
		 PIECES({ 0, 48 }, { 611, TW_HDR }, { 916, TW_ALERT_HDR },
			{ 923, TW_HDR }));
	/* Inside a record body: no piece, but the event still comes. */
	next_seg(&c, CLIENT, &s, 1000, 0, NO_PIECES);
	next_seg(&c, CLIENT, &s, 1033, 0, PIECES({ 928, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);

	/* The server's direction has a budget of its own. */
	s = (struct stream){ .len = 0 };
	rec(&s, 22, 995);
	next_seg(&c, SERVER, &s, 1000, 0, PIECES({ 0, 1000 }));
}

/* Once a direction has an application_data record after its first, it
 * is encrypted: the bytes in full end where that record begins, though
 * the budget is far from spent, and only record headers come after.
 * What comes before it in the clear comes whole: a ServerHello, the
 * ChangeCipherSpec of TLS 1.3's compatibility mode. */
static void encrypted_cut(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	rec(&s, 22, 95);		/* [0, 100) ServerHello */
	rec(&s, 20, 1);			/* [100, 106) ChangeCipherSpec */
	rec(&s, 23, 300);		/* [106, 411) encrypted */
	rec(&s, 23, 589);		/* [411, 1005) */
	rec(&s, 23, 45);		/* [1005, 1055) */
	rec(&s, 23, 2000);		/* [1055, 3060) */
	next_seg(&c, SERVER, &s, 1000, 0,
		 PIECES({ 0, 106 }, { 106, TW_HDR }, { 411, TW_HDR }));
	/* Encrypted from its first byte: headers only. */
	next_seg(&c, SERVER, &s, 1000, 0, PIECES({ 5, TW_HDR }, { 55, TW_HDR }));

	/* Its header split over segments: the segment that ends the
	 * header still comes whole, the later ones are cut. */
	s = (struct stream){ .len = 0 };
	rec(&s, 22, 95);		/* [0, 100) ClientHello */
	rec(&s, 23, 50);		/* [100, 155) */
	rec(&s, 23, 45);		/* [155, 205) */
	rec(&s, 23, 45);		/* [205, 255) */
	next_seg(&c, CLIENT, &s, 102, 0, PIECES({ 0, 102 }));
	next_seg(&c, CLIENT, &s, 48, 0, PIECES({ 0, 48 }));
	next_seg(&c, CLIENT, &s, 105, 0,
		 PIECES({ 5, TW_HDR }, { 55, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);

	/* More encrypted records in one segment than pieces: that segment
	 * comes whole, as it would without the cut, the walk goes on
	 * (no loss), and the next segment is cut. */
	c = conn_new(AF_INET, TLS_PORT);
	s = (struct stream){ .len = 0 };
	rec(&s, 22, 95);		/* [0, 100) ServerHello */
	for (int i = 0; i < TW_MAX_PIECES + 4; i++)
		rec(&s, 23, 10);	/* [100, 400) */
	rec(&s, 23, 95);		/* [400, 500) */
	rec(&s, 23, 95);		/* [500, 600) */
	next_seg(&c, SERVER, &s, 400, 0, PIECES({ 0, 400 }));
	next_seg(&c, SERVER, &s, 200, 0, PIECES({ 0, TW_HDR }, { 100, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);

	/* A direction whose first record is application_data is not cut:
	 * userspace judges what it is from its bytes. */
	c = conn_new(AF_INET, TLS_PORT);
	s = (struct stream){ .len = 0 };
	rec(&s, 23, 95);		/* [0, 100) */
	rec(&s, 23, 95);		/* [100, 200) */
	next_seg(&c, CLIENT, &s, 200, 0, PIECES({ 0, 100 }, { 100, TW_HDR }));
}

/* (4) A header split over two segments: its first bytes end one, the
 * rest start the next, and the walk goes on from the whole header. */
static void split_header(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };

	(void)state;
	spend_budget(&c, CLIENT, &s);
	rec(&s, 23, 93);		/* [0, 98) of the next segment */
	rec(&s, 23, 200);		/* [98, 303): 2 + 3 header bytes */
	alert(&s, 2, 40);		/* [303, 310) */
	rec(&s, 23, 50);		/* [310, 365) */
	rec(&s, 23, 10);		/* [365, 380) */
	next_seg(&c, CLIENT, &s, 100, 0,
		 PIECES({ 0, TW_HDR }, { 98, 2 }));
	next_seg(&c, CLIENT, &s, 265, 0,
		 PIECES({ 0, 3 }, { 203, TW_ALERT_HDR }, { 210, TW_HDR }));
	next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));

	/* Split 4 + 1, on the server's side. */
	s = (struct stream){ .len = 0 };
	spend_budget(&c, SERVER, &s);
	rec(&s, 22, 95);		/* [0, 100) */
	rec(&s, 22, 30);		/* [100, 135) */
	rec(&s, 23, 10);		/* [135, 150) */
	next_seg(&c, SERVER, &s, 104, 0, PIECES({ 0, TW_HDR }, { 100, 4 }));
	next_seg(&c, SERVER, &s, 46, 0, PIECES({ 0, 1 }, { 31, TW_HDR }));
}

/* (5) Many small records in one segment: all their headers. */
static void many_records(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	struct piece exp[TW_MAX_PIECES];

	(void)state;
	spend_budget(&c, CLIENT, &s);
	for (int i = 0; i < TW_MAX_PIECES; i++) {
		exp[i].off = rec(&s, 23, 10) - TW_BUDGET;
		exp[i].len = TW_HDR;
	}
	rec(&s, 23, 10);
	next_seg(&c, CLIENT, &s, TW_MAX_PIECES * 15, 0, exp, TW_MAX_PIECES);
	/* And the walk goes on in the next segment. */
	next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));

	/* Fewer, of mixed kinds, ending the segment exactly. */
	s = (struct stream){ .len = 0 };
	spend_budget(&c, SERVER, &s);
	rec(&s, 22, 0);			/* [0, 5): empty record */
	rec(&s, 20, 1);			/* [5, 11) */
	alert(&s, 2, 40);		/* [11, 18) */
	rec(&s, 23, 17);		/* [18, 40) */
	next_seg(&c, SERVER, &s, 40, 0,
		 PIECES({ 0, TW_HDR }, { 5, TW_HDR }, { 11, TW_ALERT_HDR },
			{ 18, TW_HDR }));
}

/* (6a) A direction whose true start is no record is not TLS: userspace
 * has its first bytes and says so; that is no loss, and no NOSYNC. */
static void not_tls(void **state)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	static const char resp[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	struct conn c = conn_new(AF_INET, TLS_PORT);
	uint64_t nosync = stat(TW_STAT_NOSYNC);
	uint32_t seq, ack;

	(void)state;
	seed(&c);
	seg_expect(&c, CLIENT, (const uint8_t *)get, sizeof(get) - 1,
		   0, PIECES({ 0, sizeof(get) - 1 }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, get, sizeof(get) - 1),
			 0);
	/* The other direction is followed on its own. */
	seg_expect(&c, SERVER, (const uint8_t *)resp, sizeof(resp) - 1,
		   0, PIECES({ 0, sizeof(resp) - 1 }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
	/* The end of the connection is still told. */
	seq = c.seq[CLIENT];
	ack = c.seq[SERVER];
	assert_int_equal(send_seg(&c, CLIENT, TCP_FIN | TCP_ACK, NULL, 0), 1);
	check_head(0, &c, CLIENT, seq, ack, 0, TCP_FIN | TCP_ACK, 0);
}

/* (6a') Without the established state's seed, the first bytes seen may
 * be the middle of a connection (one older than the capture, or one whose
 * state the LRU map pushed out): no record there is a lost walk. */
static void unseeded_not_a_record(void **state)
{
	static const char mid[] = "middle of something";
	struct conn c = conn_new(AF_INET, TLS_PORT);
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	seg_expect(&c, CLIENT, (const uint8_t *)mid, sizeof(mid) - 1,
		   TW_SEG_NOSYNC, PIECES({ 0, sizeof(mid) - 1 }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync + 1);
}

/* (6c) Seeded, the walk starts at the true start even when the second
 * half of a ClientHello arrives first. */
static void seeded_reordered_hello(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	uint32_t start = c.seq[CLIENT];
	struct stream s = { .len = 0 };
	struct tw_flow f;

	(void)state;
	seed(&c);
	rec(&s, 22, 295);		/* a 300-byte hello record */
	/* Second half first: ahead of the start, sent whole, no walk. */
	c.seq[CLIENT] = start + 100;
	seg_expect(&c, CLIENT, s.b + 100, 200, 0, PIECES({ 0, 200 }));
	c.seq[CLIENT] = start;
	seg_expect(&c, CLIENT, s.b, 100, 0, PIECES({ 0, 100 }));
	assert_int_equal(flow_get(&c, &f), 0);
	/* The walk went over the hello's header to its end. */
	assert_int_equal(f.next_hdr[CLIENT], start + 300);
	assert_int_equal(f.walking[CLIENT], 2);
	assert_int_equal(f.nosync[CLIENT], 0);
}

/* (6b) A bad header after good records: the walk is lost, counted, and
 * that direction sends nothing more. */
static void lost_walk(void **state)
{
	static const uint8_t junk[20] = { 0x00, 0x01, 0x02, 0x03, 0x04 };
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	spend_budget(&c, CLIENT, &s);
	rec(&s, 23, 10);		/* [0, 15) */
	raw(&s, junk, sizeof(junk));	/* [15, 35): no record header */
	rec(&s, 23, 10);
	/* The bad header's bytes come too: userspace sees what came. */
	next_seg(&c, CLIENT, &s, 35, TW_SEG_NOSYNC,
		 PIECES({ 0, TW_HDR }, { 15, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync + 1);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, s.b + s.sent, 15), 0);
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync + 1);
	/* The server's direction is not affected. */
	seg_expect(&c, SERVER, hello, sizeof(hello), 0,
		   PIECES({ 0, sizeof(hello) }));
}

/* (7) An SSLv2-format ClientHello (2-byte header, top bit set) may open
 * a direction; TLS records follow it. Later, that form is no record. */
static void sslv2_first(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint8_t v2[48];
	uint64_t nosync;

	(void)state;
	v2[0] = 0x80;			/* 2-byte header, length 46 */
	v2[1] = 46;
	v2[2] = 1;			/* CLIENT-HELLO */
	v2[3] = 3;			/* version 3.1 */
	v2[4] = 1;
	for (size_t i = 5; i < sizeof(v2); i++)
		v2[i] = 0x80 | i;	/* lengths, ciphers, challenge */
	raw(&s, v2, sizeof(v2));	/* [0, 48) */
	rec(&s, 22, TW_BUDGET - 48 - TW_HDR);	/* [48, TW_BUDGET) */
	rec(&s, 23, 10);
	rec(&s, 23, 10);
	send_whole(&c, CLIENT, &s, TW_BUDGET);
	next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));

	nosync = stat(TW_STAT_NOSYNC);
	s.len = s.sent;
	raw(&s, v2, sizeof(v2));
	next_seg(&c, CLIENT, &s, sizeof(v2), TW_SEG_NOSYNC,
		 PIECES({ 0, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync + 1);
}

/* (8) Once userspace has the outcome, the flow costs nothing more. */
static void decided(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct tw_key k = key_of(&c);
	struct tw_flow f;

	(void)state;
	uint8_t one = 1;

	seg_expect(&c, CLIENT, hello, sizeof(hello), 0,
		   PIECES({ 0, sizeof(hello) }));
	assert_int_equal(flow_get(&c, &f), 0);
	assert_int_equal(f.captured[0], sizeof(hello));
	/* Into the done map, as userspace does; it also proves the key is
	 * built as the program builds it. */
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.done),
					     &k, &one, BPF_ANY), 0);
	/* The program looks at the map only once marks_gen moves from the
	 * value at which the flow last found nothing there. */
	assert_int_equal(flow_get(&c, &f), 0);
	assert_int_equal(f.marks_seen, skel->bss->marks_gen);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, hello, sizeof(hello)),
			 1);
	skel->bss->marks_gen++;
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, hello, sizeof(hello)),
			 0);
	assert_int_equal(send_seg(&c, SERVER, TCP_ACK, hello, sizeof(hello)),
			 0);
	assert_int_equal(send_seg(&c, CLIENT, TCP_FIN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(send_seg(&c, SERVER, TCP_RST, NULL, 0), 0);
	/* The program copied the mark into the flow: one lookup from now. */
	assert_int_equal(flow_get(&c, &f), 0);
	assert_int_equal(f.decided, TW_DECIDED_MARK);
}

/* (9) IPv6: addresses whole in the key, the payload after 40 bytes. */
static void ipv6(void **state)
{
	struct conn c = conn_new(AF_INET6, TLS_PORT);
	struct stream s = { .len = 0 };

	(void)state;
	/* Offsets in the comments from B = TW_BUDGET - 48. */
	rec(&s, 22, TW_BUDGET - 48 - TW_HDR);
	rec(&s, 22, 600);		/* [B, B + 605) */
	alert(&s, 2, 40);		/* [B + 605, B + 612) */
	rec(&s, 23, 383);		/* [B + 612, B + 1000) */
	rec(&s, 23, 10);		/* [B + 1000, B + 1015) */
	send_whole(&c, CLIENT, &s, TW_BUDGET - 48);
	next_seg(&c, CLIENT, &s, 1000, 0,
		 PIECES({ 0, 48 }, { 605, TW_ALERT_HDR }, { 612, TW_HDR }));
	next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));
	seg_expect(&c, SERVER, hello, sizeof(hello), 0,
		   PIECES({ 0, sizeof(hello) }));
}

/* (10) Past the budget, a segment beyond a hole cannot be walked (its
 * headers' places depend on the missing bytes): it comes whole. The
 * hole's segment, when it comes, is walked. */
static void ahead_of_hole(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint64_t ahead = stat(TW_STAT_AHEAD);
	uint32_t hole;

	(void)state;
	spend_budget(&c, CLIENT, &s);
	rec(&s, 23, 495);		/* [0, 500): the hole */
	rec(&s, 23, 295);		/* [500, 800): ahead of it */
	hole = c.seq[CLIENT];
	c.seq[CLIENT] += 500;
	s.sent += 500;
	next_seg(&c, CLIENT, &s, 300, 0, PIECES({ 0, 300 }));
	assert_int_equal(stat(TW_STAT_AHEAD), ahead + 1);

	c.seq[CLIENT] = hole;
	s.sent -= 800;
	next_seg(&c, CLIENT, &s, 500, 0, PIECES({ 0, TW_HDR }));
	assert_int_equal(stat(TW_STAT_AHEAD), ahead + 1);
}

/* (11) TCP Fast Open: data in the SYN is captured, with the SYN's seq
 * (its data starts one later), and the walk starts at that data. */
static void syn_data(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint32_t syn_seq = c.seq[CLIENT];

	(void)state;
	rec(&s, 22, 295);			/* [0, 300) in the SYN */
	rec(&s, 22, TW_BUDGET - 300 - TW_HDR);	/* [300, TW_BUDGET) */
	rec(&s, 23, 10);
	assert_int_equal(send_seg(&c, CLIENT, TCP_SYN, s.b, 300), 1);
	check_head(0, &c, CLIENT, syn_seq, 0, 300, TCP_SYN, 0);
	check_pieces(0, s.b, PIECES({ 0, 300 }));
	assert_int_equal(c.seq[CLIENT], syn_seq + 301);
	s.sent = 300;
	send_whole(&c, CLIENT, &s, TW_BUDGET);
	next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));
}

/* A segment longer than what is left of the budget, as egress GSO makes
 * them (a server flight of 60+ KB in one skb): data[] must hold both the
 * rest of the budget and the header pieces after it, or the walk would be
 * declared lost and the direction go dark (it did, when TW_MAX_DATA was
 * TW_BUDGET). test_run frames stay under a page, so this runs on programs
 * loaded with a smaller budget, and the sizes are checked for the real. */
#define SMALL_BUDGET 2048
static void segment_longer_than_budget(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	struct piece exp[TW_MAX_PIECES];
	uint64_t nosync;

	(void)state;
	assert_true(TW_MAX_DATA >= TW_BUDGET + TW_MAX_PIECES * TW_ALERT_HDR);
	nosync = stat(TW_STAT_NOSYNC);
	rec(&s, 22, 2095);		/* [0, 2100) */
	/* All the pieces one event can carry after a budget's worth. */
	exp[0].off = 0;
	exp[0].len = SMALL_BUDGET;
	for (int i = 1; i < TW_MAX_PIECES; i++) {
		exp[i].off = rec(&s, 23, 55);	/* [2100, 3000) */
		exp[i].len = TW_HDR;
	}
	rec(&s, 23, 10);		/* [3000, 3015) */
	rec(&s, 23, 10);		/* [3015, 3030) */
	next_seg(&c, SERVER, &s, 3000, 0, exp, TW_MAX_PIECES);
	next_seg(&c, SERVER, &s, 30, 0, PIECES({ 0, TW_HDR }, { 15, TW_HDR }));
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

static int use_small(void **state)
{
	(void)state;
	skel = small_skel;
	rb = small_rb;
	return 0;
}

/* Also after a failed case, so the others run on the main programs. */
static int use_main(void **state)
{
	(void)state;
	skel = main_skel;
	rb = main_rb;
	return 0;
}

/* A segment with more headers than one event has pieces for must not
 * leave next_hdr inside that segment silently (every later segment would
 * then look ahead of a hole and be sent whole): either the walk goes on
 * in the next segment, or the loss is told (NOSYNC) and counted. */
static void more_headers_than_pieces(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };
	uint64_t ahead = stat(TW_STAT_AHEAD);
	uint64_t nosync = stat(TW_STAT_NOSYNC);
	size_t n = TW_MAX_PIECES + 1;
	uint32_t seq;

	(void)state;
	spend_budget(&c, CLIENT, &s);
	for (size_t i = 0; i < n; i++)
		rec(&s, 23, 10);
	rec(&s, 23, 10);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, s.b + s.sent, n * 15),
			 1);
	s.sent += n * 15;
	if (evs[0].flags & TW_SEG_NOSYNC) {
		assert_int_equal(stat(TW_STAT_NOSYNC), nosync + 1);
		return;
	}
	seq = c.seq[CLIENT];
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK, s.b + s.sent, 15), 1);
	check_head(0, &c, CLIENT, seq, c.seq[SERVER], 15, TCP_ACK, 0);
	check_pieces(0, s.b + s.sent, PIECES({ 0, TW_HDR }));
	assert_int_equal(stat(TW_STAT_AHEAD), ahead);
}

/* A plaintext alert whose header ends one segment and whose 2 bytes
 * start the next: they come as a piece at offset 0 of the next. */
static void alert_body_in_next_segment(void **state)
{
	struct conn c = conn_new(AF_INET, TLS_PORT);
	struct stream s = { .len = 0 };

	(void)state;
	spend_budget(&c, SERVER, &s);
	rec(&s, 22, 95);		/* [0, 100) */
	alert(&s, 2, 42);		/* [100, 107): bad_certificate */
	rec(&s, 23, 10);		/* [107, 122) */
	next_seg(&c, SERVER, &s, 105, 0,
		 PIECES({ 0, TW_HDR }, { 100, TW_HDR }));
	next_seg(&c, SERVER, &s, 17, 0, PIECES({ 0, 2 }, { 2, TW_HDR }));
}

/* (12) PROXY protocol. A load balancer sends its header on connect and
 * the client's bytes after it, so the ClientHello usually starts a later
 * segment: on PROXY_PORT the walk steps over the header, whatever its
 * split, and checks the record after it as a direction's first. */
#define TINY_BUDGET 16

static int use_tiny(void **state)
{
	(void)state;
	skel = tiny_skel;
	rb = tiny_rb;
	return 0;
}

/* A v1 line of exactly len bytes, "\r\n" included. */
static void proxy_v1(struct stream *s, size_t len)
{
	static const char head[] = "PROXY UNKNOWN ";
	size_t at = s->len;

	assert_true(len >= sizeof(head) + 1);
	raw(s, head, sizeof(head) - 1);
	while (s->len < at + len - 2)
		raw(s, "x", 1);		/* ignored after UNKNOWN */
	raw(s, "\r\n", 2);
}

/* A v2 header for TCP over IPv4 with len bytes after its fixed 16: the
 * addresses, then one NOOP TLV over the rest. Its bytes after the fixed
 * part have the top bit set, as record bodies do. */
static void proxy_v2(struct stream *s, uint16_t len)
{
	static const uint8_t sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
		0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	};
	uint8_t *p;

	assert_true(len >= 15 && s->len + 16 + len <= sizeof(s->b));
	raw(s, sig, sizeof(sig));
	p = s->b + s->len;
	p[0] = 0x21;			/* version 2, PROXY */
	p[1] = 0x11;			/* TCP over IPv4 */
	put16(p + 2, len);		/* bytes after these 16 */
	for (size_t i = 0; i < len; i++)
		p[4 + i] = 0x80 | i;	/* addresses and ports */
	p[4 + 12] = 0x04;		/* PP2_TYPE_NOOP */
	put16(p + 4 + 13, len - 15);	/* its length */
	s->len += 4 + len;
}

static void check_flow(const struct conn *c, uint8_t walking, uint8_t nosync,
		       uint8_t proxy, uint32_t next_hdr)
{
	struct tw_flow f;

	assert_int_equal(flow_get(c, &f), 0);
	assert_int_equal(f.walking[CLIENT], walking);
	assert_int_equal(f.nosync[CLIENT], nosync);
	assert_int_equal(f.proxy, proxy);
	if (!nosync)
		assert_int_equal(f.next_hdr[CLIENT], next_hdr);
}

/* (12a) A v1 line alone in the first segment, the ClientHello in the
 * next; the budget ends inside the line, so the hello's header is found
 * by the walk alone. Then split just before its "\r\n". */
static void proxy_v1_then_hello(void **state)
{
	uint64_t nosync = stat(TW_STAT_NOSYNC);
	struct conn c = conn_new(AF_INET, PROXY_PORT);
	struct stream s = { .len = 0 };
	uint32_t start = c.seq[CLIENT];

	(void)state;
	seed(&c);
	proxy_v1(&s, 46);	/* [0, 46) */
	rec(&s, 22, 295);		/* [46, 346): the hello */
	rec(&s, 23, 10);		/* [346, 361) */
	next_seg(&c, CLIENT, &s, 46, 0, PIECES({ 0, TINY_BUDGET }));
	check_flow(&c, 1, 0, TW_PROXY_DONE, start + 46);
	next_seg(&c, CLIENT, &s, 315, 0,
		 PIECES({ 0, TW_HDR }, { 300, TW_HDR }));
	check_flow(&c, 2, 0, TW_PROXY_DONE, start + 361);
	/* The server's direction is not looked at for a header. */
	seg_expect(&c, SERVER, hello, sizeof(hello), 0,
		   PIECES({ 0, sizeof(hello) }));

	c = conn_new(AF_INET, PROXY_PORT);
	start = c.seq[CLIENT];
	s = (struct stream){ .len = 0 };
	seed(&c);
	proxy_v1(&s, 107);	/* [0, 107): the longest there is */
	rec(&s, 22, 95);		/* [107, 207) */
	rec(&s, 23, 10);		/* [207, 222) */
	next_seg(&c, CLIENT, &s, 105, 0, PIECES({ 0, TINY_BUDGET }));
	check_flow(&c, 1, 0, TW_PROXY_V1, start + 105);
	next_seg(&c, CLIENT, &s, 117, 0,
		 PIECES({ 2, TW_HDR }, { 102, TW_HDR }));
	check_flow(&c, 2, 0, TW_PROXY_DONE, start + 222);
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

/* (12b) A PROXY port whose client sends TLS right away, as a health
 * check may: the walk goes on as on any port. */
static void proxy_port_without_header(void **state)
{
	struct conn c = conn_new(AF_INET, PROXY_PORT);
	struct stream s = { .len = 0 };
	uint32_t start = c.seq[CLIENT];

	(void)state;
	seed(&c);
	rec(&s, 22, 295);		/* [0, 300) */
	rec(&s, 23, 10);		/* [300, 315) */
	next_seg(&c, CLIENT, &s, 315, 0,
		 PIECES({ 0, TINY_BUDGET }, { 300, TW_HDR }));
	check_flow(&c, 2, 0, TW_PROXY_NONE, start + 315);
}

/* (12c) A v2 header with TLVs, split inside its 16 fixed bytes: in the
 * signature, then between the two bytes of its length. It is longer than
 * what is left of the budget, so the walk must land past it. */
static void proxy_v2_split_fixed(void **state)
{
	static const size_t splits[] = { 7, 15 };
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		struct conn c = conn_new(AF_INET, PROXY_PORT);
		struct stream s = { .len = 0 };
		uint32_t start = c.seq[CLIENT];
		size_t k = splits[i];

		seed(&c);
		proxy_v2(&s, 2100);	/* [0, 2116) */
		rec(&s, 22, 295);	/* [2116, 2416): the hello */
		rec(&s, 23, 10);	/* [2416, 2431) */
		rec(&s, 23, 10);	/* [2431, 2446) */
		next_seg(&c, CLIENT, &s, k, 0, PIECES({ 0, k }));
		check_flow(&c, 1, 0, TW_PROXY_V2, start + k);
		next_seg(&c, CLIENT, &s, 2431 - k, 0,
			 PIECES({ 0, SMALL_BUDGET - k },
				{ 2116 - k, TW_HDR }, { 2416 - k, TW_HDR }));
		check_flow(&c, 2, 0, TW_PROXY_DONE, start + 2431);
		next_seg(&c, CLIENT, &s, 15, 0, PIECES({ 0, TW_HDR }));
	}
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

/* (12d) The same bytes on a port not configured for PROXY: not TLS, as
 * before; userspace has them, and nothing more of them comes. */
static void proxy_on_other_port(void **state)
{
	uint64_t nosync = stat(TW_STAT_NOSYNC);

	(void)state;
	for (int v = 1; v <= 2; v++) {
		struct conn c = conn_new(AF_INET, TLS_PORT);
		struct stream s = { .len = 0 };
		size_t hlen = v == 1 ? 46 : 16 + 40;

		seed(&c);
		if (v == 1)
			proxy_v1(&s, hlen);
		else
			proxy_v2(&s, 40);
		rec(&s, 22, 95);
		next_seg(&c, CLIENT, &s, hlen, 0, PIECES({ 0, hlen }));
		check_flow(&c, 1, 1, TW_PROXY_NONE, 0);
		assert_int_equal(send_seg(&c, CLIENT, TCP_ACK | TCP_PSH,
					  s.b + s.sent, 100), 0);
	}
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

/* (12e) A v1 line with no '\n' in its 107 bytes is no header we follow:
 * the direction stops as one whose first bytes are not TLS. So does a
 * 108-byte line. */
static void proxy_v1_too_long(void **state)
{
	uint64_t nosync = stat(TW_STAT_NOSYNC);
	struct conn c = conn_new(AF_INET, PROXY_PORT);
	struct stream s = { .len = 0 };
	uint32_t start = c.seq[CLIENT];

	(void)state;
	seed(&c);
	raw(&s, "PROXY TCP4 ", 11);
	while (s.len < 120)
		raw(&s, "1", 1);
	next_seg(&c, CLIENT, &s, 60, 0, PIECES({ 0, 60 }));
	check_flow(&c, 1, 0, TW_PROXY_V1, start + 60);
	next_seg(&c, CLIENT, &s, 60, 0, PIECES({ 0, 60 }));
	check_flow(&c, 1, 1, TW_PROXY_V1, 0);
	assert_int_equal(send_seg(&c, CLIENT, TCP_ACK | TCP_PSH, hello,
				  sizeof(hello)), 0);

	c = conn_new(AF_INET, PROXY_PORT);
	s = (struct stream){ .len = 0 };
	seed(&c);
	proxy_v1(&s, 108);
	rec(&s, 22, 95);
	next_seg(&c, CLIENT, &s, 208, 0, PIECES({ 0, 208 }));
	check_flow(&c, 1, 1, TW_PROXY_UNSEEN, 0);
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

/* (12f) A v2 header as long as its length field allows: skipped whole,
 * the walk waits for the record after it. */
static void proxy_v2_longest(void **state)
{
	uint64_t nosync = stat(TW_STAT_NOSYNC);
	struct conn c = conn_new(AF_INET, PROXY_PORT);
	struct stream s = { .len = 0 };
	uint32_t start = c.seq[CLIENT];

	(void)state;
	seed(&c);
	proxy_v2(&s, 40);
	put16(s.b + 14, 65535);
	next_seg(&c, CLIENT, &s, s.len, 0, PIECES({ 0, s.len }));
	check_flow(&c, 1, 0, TW_PROXY_DONE, start + 16 + 65535);
	assert_int_equal(stat(TW_STAT_NOSYNC), nosync);
}

/* (13) The handshake's end, told by record headers alone: the programs
 * stop on their own, without waiting for userspace's mark. */

/* A ServerHello record of len bytes: its handshake header, version, and
 * a random that is a HelloRetryRequest's if hrr. */
static void server_hello(struct stream *s, uint16_t len, bool hrr)
{
	static const uint8_t hrr_random[8] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	};
	size_t at = rec(s, 22, len);
	uint8_t *p = s->b + at + TW_HDR;

	assert_true(len >= 38);
	p[0] = 2;			/* ServerHello */
	p[1] = 0;
	put16(p + 2, len - 4);
	p[4] = 3;			/* legacy version 1.2 */
	p[5] = 3;
	if (hrr)
		memcpy(p + 6, hrr_random, sizeof(hrr_random));
}

/* A data segment of the next len bytes of s, which must give one event
 * with these TW_SEG_ flags (the pieces are other cases' concern). */
static void flagged(struct conn *c, int from, struct stream *s, size_t len,
		    uint32_t flags)
{
	uint32_t seq = c->seq[from], ack = c->seq[!from];

	assert_true(s->sent + len <= s->len);
	assert_int_equal(send_seg(c, from, TCP_ACK | TCP_PSH, s->b + s->sent,
				  len), 1);
	check_head(0, c, from, seq, ack, len, TCP_ACK | TCP_PSH, flags);
	s->sent += len;
}

/* Nothing more of a decided connection comes, its FIN and RST included. */
static void silent_after(struct conn *c, struct stream *cs, struct stream *ss)
{
	struct tw_flow f;

	rec(cs, 23, 300);
	rec(ss, 23, 3000);
	assert_int_equal(send_seg(c, CLIENT, TCP_ACK, cs->b + cs->sent, 305), 0);
	assert_int_equal(send_seg(c, SERVER, TCP_ACK, ss->b + ss->sent, 3005),
			 0);
	assert_int_equal(send_seg(c, SERVER, TCP_FIN | TCP_ACK, NULL, 0), 0);
	assert_int_equal(send_seg(c, CLIENT, TCP_RST, NULL, 0), 0);
	assert_int_equal(flow_get(c, &f), 0);
	assert_int_equal(f.decided, TW_DECIDED_HERE);
}

/* A new connection on TLS_PORT (told open to the programs if seeded) and
 * its client's hello, sent; empty streams for what follows. */
static void opening(struct conn *c, struct stream *cs, struct stream *ss,
		    bool seeded)
{
	*c = conn_new(AF_INET, TLS_PORT);
	*cs = (struct stream){ .len = 0 };
	*ss = (struct stream){ .len = 0 };
	if (seeded)
		seed(c);
	raw(cs, hello, sizeof(hello));
	flagged(c, CLIENT, cs, cs->len, 0);
}

/* (13a) TLS 1.2: over once both sides have sent Finished (a handshake
 * record after ChangeCipherSpec), whichever side is last. */
static void tls12_over(void **state)
{
	(void)state;
	for (int last = CLIENT; last <= SERVER; last++) {
		struct conn c;
		struct stream cs, ss;

		opening(&c, &cs, &ss, true);
		server_hello(&ss, 70, false);
		rec(&ss, 22, 900);	/* Certificate ... ServerHelloDone */
		flagged(&c, SERVER, &ss, ss.len, 0);
		if (last == SERVER) {
			rec(&cs, 22, 70);	/* ClientKeyExchange */
			rec(&cs, 20, 1);
			rec(&cs, 22, 40);	/* Finished */
			flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
			rec(&ss, 20, 1);
			rec(&ss, 22, 40);
			flagged(&c, SERVER, &ss, ss.len - ss.sent,
				TW_SEG_DECIDED);
		} else {
			/* Resumed: the server's Finished first. */
			rec(&ss, 20, 1);
			rec(&ss, 22, 40);
			flagged(&c, SERVER, &ss, ss.len - ss.sent, 0);
			rec(&cs, 20, 1);
			rec(&cs, 22, 40);
			flagged(&c, CLIENT, &cs, cs.len - cs.sent,
				TW_SEG_DECIDED);
		}
		silent_after(&c, &cs, &ss);
	}
}

/* (13b) TLS 1.3: over when the server sends a record that is no alert
 * after the client's flight; a lone alert-sized one (a refused client
 * certificate) is not enough. */
static void tls13_over(void **state)
{
	struct conn c = conn_new(AF_INET6, TLS_PORT);
	struct stream cs = { .len = 0 }, ss = { .len = 0 };

	(void)state;
	seed(&c);
	raw(&cs, hello, sizeof(hello));
	flagged(&c, CLIENT, &cs, cs.len, 0);
	server_hello(&ss, 118, false);
	rec(&ss, 20, 1);
	rec(&ss, 23, 900);	/* EncryptedExtensions ... Finished */
	flagged(&c, SERVER, &ss, ss.len, 0);
	rec(&cs, 20, 1);
	rec(&cs, 23, 53);	/* Finished */
	flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
	rec(&ss, 23, 19);	/* alert-sized */
	flagged(&c, SERVER, &ss, ss.len - ss.sent, 0);
	rec(&ss, 23, 250);	/* a ticket */
	flagged(&c, SERVER, &ss, ss.len - ss.sent, TW_SEG_DECIDED);
	silent_after(&c, &cs, &ss);
}

/* (13c) Not over: after a HelloRetryRequest (handshake records follow
 * ChangeCipherSpec on both sides), an alert-sized client record where
 * its Finished would be, and a connection not followed from its start. */
static void not_over(void **state)
{
	struct conn c;
	struct stream cs, ss;

	(void)state;
	opening(&c, &cs, &ss, true);
	server_hello(&ss, 80, true);
	rec(&ss, 20, 1);
	flagged(&c, SERVER, &ss, ss.len, 0);
	rec(&cs, 20, 1);
	raw(&cs, hello, sizeof(hello));
	flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
	server_hello(&ss, 118, false);
	rec(&ss, 23, 900);
	flagged(&c, SERVER, &ss, ss.len - ss.sent, 0);
	rec(&cs, 23, 53);
	flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
	rec(&ss, 23, 250);
	flagged(&c, SERVER, &ss, ss.len - ss.sent, 0);

	opening(&c, &cs, &ss, true);
	server_hello(&ss, 118, false);
	rec(&ss, 23, 900);
	flagged(&c, SERVER, &ss, ss.len, 0);
	rec(&cs, 23, 19);	/* the client's refusal, encrypted */
	flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
	rec(&ss, 23, 250);
	flagged(&c, SERVER, &ss, ss.len - ss.sent, 0);

	/* Unseeded: the sockops program never saw it open. */
	opening(&c, &cs, &ss, false);
	server_hello(&ss, 70, false);
	rec(&ss, 20, 1);
	rec(&ss, 22, 40);
	flagged(&c, SERVER, &ss, ss.len, 0);
	rec(&cs, 20, 1);
	rec(&cs, 22, 40);
	flagged(&c, CLIENT, &cs, cs.len - cs.sent, 0);
}

/* Opens and loads the programs watching TLS_PORT and PROXY_PORT with this
 * budget, and
 * a ring buffer on their events. */
static int load(uint32_t budget, struct tlswatch_bpf **sk,
		struct ring_buffer **r)
{
	int err;

	*sk = tlswatch_bpf__open();
	if (!*sk) {
		fprintf(stderr, "FAIL: cannot open the BPF object: %s\n",
			strerror(errno));
		return -1;
	}
	/* Network ports in host order: bit port % 8 of byte port / 8. */
	(*sk)->rodata->watched[TLS_PORT >> 3] |= 1 << (TLS_PORT & 7);
	(*sk)->rodata->watched[PROXY_PORT >> 3] |= 1 << (PROXY_PORT & 7);
	(*sk)->rodata->proxy_ports[PROXY_PORT >> 3] |= 1 << (PROXY_PORT & 7);
	(*sk)->rodata->budget = budget;
	err = tlswatch_bpf__load(*sk);
	if (err) {
		fprintf(stderr, "FAIL: cannot load the BPF programs: %s\n",
			strerror(-err));
		return -1;
	}
	*r = ring_buffer__new(bpf_map__fd((*sk)->maps.events), on_event,
			      NULL, NULL);
	if (!*r) {
		fprintf(stderr, "FAIL: cannot open the ring buffer: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_filter),
		cmocka_unit_test(ip_options),
		cmocka_unit_test(control_segments),
		cmocka_unit_test(budget),
		cmocka_unit_test(encrypted_cut),
		cmocka_unit_test(split_header),
		cmocka_unit_test(many_records),
		cmocka_unit_test(not_tls),
		cmocka_unit_test(lost_walk),
		cmocka_unit_test(sslv2_first),
		cmocka_unit_test(decided),
		cmocka_unit_test(unseeded_not_a_record),
		cmocka_unit_test(seeded_reordered_hello),
		cmocka_unit_test(ipv6),
		cmocka_unit_test(ahead_of_hole),
		cmocka_unit_test(syn_data),
		cmocka_unit_test_setup_teardown(segment_longer_than_budget,
						use_small, use_main),
		cmocka_unit_test(more_headers_than_pieces),
		cmocka_unit_test(alert_body_in_next_segment),
		cmocka_unit_test_setup_teardown(proxy_v1_then_hello,
						use_tiny, use_main),
		cmocka_unit_test_setup_teardown(proxy_port_without_header,
						use_tiny, use_main),
		cmocka_unit_test_setup_teardown(proxy_v2_split_fixed,
						use_small, use_main),
		cmocka_unit_test(proxy_on_other_port),
		cmocka_unit_test(proxy_v1_too_long),
		cmocka_unit_test(proxy_v2_longest),
		cmocka_unit_test(tls12_over),
		cmocka_unit_test(tls13_over),
		cmocka_unit_test(not_over),
	};
	int rc;

	if (geteuid() != 0) {
		printf("********************************************\n"
		       "SKIPPED: test_bpf needs root to load BPF programs\n"
		       "********************************************\n");
		return 0;
	}
	/* As root, not loading is a failure: CI must not pass on a kernel
	 * or build that cannot run the programs. */
	if (load(TW_BUDGET, &main_skel, &main_rb) ||
	    load(SMALL_BUDGET, &small_skel, &small_rb) ||
	    load(TINY_BUDGET, &tiny_skel, &tiny_rb))
		return 1;
	use_main(NULL);
	rc = cmocka_run_group_tests_name("bpf", tests, NULL, NULL);
	ring_buffer__free(tiny_rb);
	tlswatch_bpf__destroy(tiny_skel);
	ring_buffer__free(small_rb);
	tlswatch_bpf__destroy(small_skel);
	ring_buffer__free(main_rb);
	tlswatch_bpf__destroy(main_skel);
	return rc;
}
