// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/* Kernel side of tlswatch: cgroup socket-buffer hooks send the first bytes
 * of each watched connection, then only its TLS record headers, to a ring
 * buffer; a socket-operations program says when connections to a watched
 * port open and close (their TCP state changes). No kprobes, fentry or
 * BTF-typed tracing: production kernels may lack them. Userspace does
 * all the decoding. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tlswatch.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04

/* Read-only tunables, set by the loader before load. */
const volatile __u8 watched[65536 / 8] = {};
const volatile __u32 budget = TW_BUDGET;
/* Server ports whose clients' bytes start with a PROXY protocol header. */
const volatile __u8 proxy_ports[65536 / 8] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* The flow state of a connection seen open (sockops seeds it): kept in
 * its server socket, so that a segment finds it through skb->sk with no
 * hash of its 4-tuple, and it goes when the socket does. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tw_flow);
} sk_flows SEC(".maps");

/* The flow state of segments with no such socket: data that reaches the
 * listener with the third ACK (moved to the socket when it is
 * established), connections open before tlswatch started, and
 * BPF_PROG_TEST_RUN's stand-in socket. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tw_key);
	__type(value, struct tw_flow);
} flows SEC(".maps");

/* Connections whose outcome userspace knows. A map of its own, written
 * only by userspace: rewriting a flows value from userspace would race
 * with the programs updating it, and replacing an element of a full LRU
 * map could push another connection out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tw_key);
	__type(value, __u8);
} done SEC(".maps");

/* Decided connections whose socket has closed: what leaves after the
 * close (the RST of an abortive close) is not sent either. A table of
 * its own, so that closed connections push out only each other, never a
 * live one from flows. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tw_key);
	__type(value, __u8);
} closed SEC(".maps");

/* Segment events are built here, not on the 512-byte stack, and sent
 * with their exact length: the pieces are put after the data at the
 * end. They are kept before the event, beside its header, rather than
 * after its 4 KiB of data: the lines a segment touches stay few. */
struct seg_build {
	struct tw_piece pieces[TW_MAX_PIECES];
	struct tw_segment_event ev;
};

#define BUILD(e) \
	((struct seg_build *)((char *)(e) - offsetof(struct seg_build, ev)))

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seg_build);
} scratch SEC(".maps");

/* The bytes of a PROXY header being scanned: off the stack, which the
 * walk's callbacks share with the programs' own frames. */
struct proxy_bytes {
	__u8 b[TW_PROXY_SCAN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proxy_bytes);
} proxy_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Events dropped with the ring buffer full: here, not among the per-CPU
 * stats, since userspace asks after every read whether there were new
 * ones and reads this from the mapped .bss with no bpf() call. Only drops
 * write it, so it costs nothing while nothing is lost. */
__u64 ringbuf_drops = 0;

/* Bumped by userspace after each batch of marks it writes to the done
 * map, and never 0 again once one was: 0 means the map is empty. A flow
 * keeps the value at which it last found no mark (marks_seen) and looks
 * again only once it has changed. Most connections never get a mark
 * (the programs decide them), and a lookup in a map of 65,536 buckets
 * costs a cache miss or two each time. */
__u32 marks_gen = 0;

/* Flows begun in the hash by data that reached a listener, not yet moved
 * to their socket: while there are none, a connection being established
 * has nothing to look for there. Counted up as such a flow is made and
 * down as it moves; one the LRU pushes out is never counted down, and
 * then every seed looks, as it would without the count. */
__u32 fresh_in_hash = 0;

static __always_inline __u32 marks_now(void)
{
	return *(volatile __u32 *)&marks_gen;
}

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		*v += 1;
}

static __always_inline bool is_watched(__u16 port)
{
	return watched[port >> 3] & (1 << (port & 7));
}

static __always_inline bool is_proxy(__u16 port)
{
	return proxy_ports[port >> 3] & (1 << (port & 7));
}

struct pkt {
	struct tw_key key;
	__u32 seq, ack;
	__u32 off;		/* payload offset in the skb */
	__u32 len;		/* payload length */
	__u8 flags;
	__u8 dir;		/* 0 from the client, 1 from the server */
	struct tw_flow *flow;	/* the flow in the segment's socket, if any */
};

/* The flow kept in a socket, if any. The helper takes any socket and
 * finds storage only in a full one; a listener has none. */
static __always_inline struct tw_flow *sock_flow(struct bpf_sock *sk)
{
	return sk ? bpf_sk_storage_get(&sk_flows, sk, NULL, 0) : NULL;
}

/* The rest of parse, once the segment's port is known to be watched:
 * ip (to end) and th point into the packet, or at copies of its
 * headers. */
static __always_inline int fill(struct __sk_buff *skb, bool ingress,
				struct pkt *p, const void *ip, const void *end,
				const struct tcphdr *th, __u32 l4)
{
	__u8 flags = ((const __u8 *)th)[13];
	__u32 off = l4 + th->doff * 4;
	/* skb->len, not the IP length: GSO packets on egress are one skb of
	 * many segments, and BIG TCP ones have no IP length at all. */
	__u32 len = skb->len > off ? skb->len - off : 0;
	__u8 *caddr = p->key.caddr, *saddr = p->key.saddr;

	if (th->doff < 5)
		return -1;
	/* FIN and RST tell who ended a handshake; SYNs and pure ACKs say
	 * nothing userspace needs: stop before building the key. */
	if (len == 0 && !(flags & (TCPF_FIN | TCPF_RST)))
		return -1;
	/* Most segments of a watched port belong to a connection whose
	 * handshake is over: its flow in the socket says so, and nothing
	 * more is done, not even the key. */
	p->flow = sock_flow(skb->sk);
	if (p->flow && p->flow->decided)
		return -1;
	__builtin_memset(&p->key, 0, sizeof(p->key));
	/* Loopback traffic passes egress and ingress: the receiving
	 * server's ingress and the sending server's egress are kept. */
	if (!ingress) {
		caddr = p->key.saddr;
		saddr = p->key.caddr;
	}
	/* The bounds again: the verifier does not tie skb->protocol to the
	 * check parse made. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		const struct iphdr *ip4 = ip;

		if ((const void *)(ip4 + 1) > end)
			return -1;
		p->key.family = AF_INET;
		__builtin_memcpy(caddr, &ip4->saddr, 4);
		__builtin_memcpy(saddr, &ip4->daddr, 4);
	} else {
		const struct ipv6hdr *ip6 = ip;

		if ((const void *)(ip6 + 1) > end)
			return -1;
		p->key.family = AF_INET6;
		__builtin_memcpy(caddr, &ip6->saddr, 16);
		__builtin_memcpy(saddr, &ip6->daddr, 16);
	}
	p->dir = ingress ? 0 : 1;
	p->key.cport = ingress ? th->source : th->dest;
	p->key.sport = ingress ? th->dest : th->source;
	p->seq = bpf_ntohl(th->seq);
	p->ack = bpf_ntohl(th->ack_seq);
	p->flags = flags;
	p->off = off;
	p->len = len;
	return 0;
}

/* Ports only: the segment is not ours unless the server's is watched. */
static __always_inline bool ours(bool ingress, const struct tcphdr *th)
{
	return is_watched(bpf_ntohs(ingress ? th->dest : th->source));
}

/* Headers not in the linear part of the skb: copied out instead. */
static __noinline int parse_copy(struct __sk_buff *skb, bool ingress,
				 struct pkt *p)
{
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	struct tcphdr th;
	__u32 l4;

	__builtin_memset(&ip, 0, sizeof(ip));
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &ip.v4, sizeof(ip.v4)))
			return -1;
		if (ip.v4.protocol != IPPROTO_TCP ||
		    (ip.v4.frag_off & bpf_htons(0x3fff)) || ip.v4.ihl < 5)
			return -1;
		l4 = ip.v4.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, &ip.v6, sizeof(ip.v6)))
			return -1;
		/* Extension headers before TCP are rare on TLS ports. */
		if (ip.v6.nexthdr != IPPROTO_TCP)
			return -1;
		l4 = sizeof(ip.v6);
	} else {
		return -1;
	}
	if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)) || !ours(ingress, &th))
		return -1;
	return fill(skb, ingress, p, &ip, &ip + 1, &th, l4);
}

/* IP and TCP headers of a segment on a watched port. Every packet of the
 * host passes here: read in place, and the ports before anything else. */
static __always_inline int parse(struct __sk_buff *skb, bool ingress,
				 struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th;
	__u32 l4;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end)
			return parse_copy(skb, ingress, p);
		if (ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)) || ip->ihl < 5)
			return -1;
		l4 = ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			return parse_copy(skb, ingress, p);
		/* Extension headers before TCP are rare on TLS ports. */
		if (ip6->nexthdr != IPPROTO_TCP)
			return -1;
		l4 = sizeof(*ip6);
	} else {
		return -1;
	}
	th = data + l4;
	if ((void *)(th + 1) > end)
		return parse_copy(skb, ingress, p);
	if (!ours(ingress, th))
		return -1;
	return fill(skb, ingress, p, data, end, th, l4);
}

static __always_inline struct tw_segment_event *new_event(const struct pkt *p)
{
	__u32 zero = 0;
	struct seg_build *b = bpf_map_lookup_elem(&scratch, &zero);
	struct tw_segment_event *ev;

	if (!b)
		return NULL;
	ev = &b->ev;
	ev->type = TW_EV_SEGMENT;
	ev->flags = p->dir == 0 ? TW_SEG_FROM_CLIENT : 0;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->key = p->key;
	ev->seq = p->seq;
	ev->ack = p->ack;
	ev->len = p->len;
	ev->tcp_flags = p->flags;
	ev->npieces = 0;
	ev->dlen = 0;
	return ev;
}

/* Userspace is woken by each CPU that has put this many bytes in the
 * ring buffer since it last woke it, and otherwise reads the ring when
 * its 100 ms wait ends: a wake-up per event costs more than the event
 * (an IPI, and a round of the reader). The loader sets it so that all
 * CPUs together stay far below the ring's size. Counted per CPU rather
 * than asked of the ring (bpf_ringbuf_query), whose positions the other
 * CPU's reader writes: a cache miss per event. */
const volatile __u32 wakeup_bytes = 256 << 10;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} unwoken SEC(".maps");

/* The flag for an event of size bytes. */
static __always_inline __u64 wakeup(__u64 size)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&unwoken, &zero);

	if (!n)
		return BPF_RB_FORCE_WAKEUP;
	*n += size;
	if (*n < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	*n = 0;
	return BPF_RB_FORCE_WAKEUP;
}

/* An event of the flow (or of none) found the ring buffer full: count
 * it, say so in the flow's next, and leave the verdict to userspace,
 * which may now lack what decides. */
static __always_inline void ring_full(struct tw_flow *f)
{
	__sync_fetch_and_add(&ringbuf_drops, 1);
	if (f) {
		f->lost = 1;
		f->hs[1] |= TW_HS_NEVER;
	}
}

static __always_inline bool send(struct tw_segment_event *ev, __u32 dlen,
				 struct tw_flow *f)
{
	struct seg_build *b = BUILD(ev);
	__u32 np = ev->npieces;
	__u64 size;

	if (f && f->lost) {
		ev->flags |= TW_SEG_LOST;
		f->lost = 0;
	}
	/* dlen as checked (see len_in). */
	asm volatile("" : "+r"(dlen));
	if (dlen > TW_MAX_DATA || np > TW_MAX_PIECES)
		return false;
	asm volatile("" : "+r"(dlen));
	/* The used pieces after the data (most segments have one), each 8
	 * bytes moved as one word: a memcpy to the unaligned ev->data +
	 * dlen is a byte at a time, 256 instructions for the 16 pieces.
	 * The verifier takes unaligned words in a map value unless strict
	 * alignment is asked for. */
	_Static_assert(sizeof(struct tw_piece) == sizeof(__u64), "piece size");
	for (int i = 0; i < TW_MAX_PIECES && i < np; i++)
		((__u64 *)(ev->data + dlen))[i] = ((const __u64 *)b->pieces)[i];
	ev->dlen = dlen;
	size = offsetof(struct tw_segment_event, data) + dlen +
	       np * sizeof(struct tw_piece);
	if (bpf_ringbuf_output(&events, ev, size, wakeup(size))) {
		ring_full(f);
		return false;
	}
	count(TW_STAT_SEGMENTS);
	return true;
}

/* Whether 1 <= *len <= max, in a form the 6.1 verifier (Debian 12's
 * kernel) can follow to a bpf_skb_load_bytes length. It learns no lower
 * bound from len != 0, hence a signed test; it learns nothing about len
 * from a range test on len - 1, which clang makes of two tests it sees
 * together; and it forgets a bound checked on a register whose value
 * was spilled before the check. The barriers keep the two tests apart
 * and on len itself, and afterwards only the value as checked is used. */
static __always_inline bool len_in(__u32 *len, __u32 max)
{
	__u32 n = *len;

	asm volatile("" : "+r"(n));
	if ((__s32)n < 1)
		return false;
	asm volatile("" : "+r"(n));
	if (n > max)
		return false;
	asm volatile("" : "+r"(n));
	*len = n;
	return true;
}

/* Add bytes [off, off + n) of the payload as a piece; false when full. */
static __always_inline bool add_piece(struct __sk_buff *skb,
				      const struct pkt *p,
				      struct tw_segment_event *ev, __u32 *dlen,
				      __u32 off, __u32 n)
{
	__u32 i = ev->npieces, d = *dlen;

	if (i >= TW_MAX_PIECES || !len_in(&n, TW_ALERT_HDR) ||
	    d > TW_MAX_DATA - TW_ALERT_HDR)
		return false;
	/* d as checked (see len_in). */
	asm volatile("" : "+r"(d));
	if (bpf_skb_load_bytes(skb, p->off + off, ev->data + d, n))
		return false;
	/* A bound on i that the 6.1 verifier keeps: the test above may be
	 * on a copy of it. */
	asm volatile("" : "+r"(i));
	i &= TW_MAX_PIECES - 1;
	BUILD(ev)->pieces[i].off = off;
	BUILD(ev)->pieces[i].len = n;
	ev->npieces = i + 1;
	*dlen = d + n;
	return true;
}

/* Length of the record whose header is hdr, or -1 when hdr is no record
 * header. An SSLv2-format record is accepted as a direction's first. */
static __always_inline int record_len(const __u8 *hdr, bool first)
{
	if (first && (hdr[0] & 0x80))
		return (((hdr[0] & 0x7f) << 8) | hdr[1]) + 2 - TW_HDR;
	if (hdr[0] < 20 || hdr[0] > 24 || hdr[1] != 3)
		return -1;
	return (hdr[3] << 8) | hdr[4];
}

/* The walk of this direction is lost: nothing more of it is sent, and
 * userspace is told so it can mark the connection. */
static __always_inline void walk_lost(struct tw_flow *f, __u8 d,
				      struct tw_segment_event *ev)
{
	f->nosync[d & 1] = 1;
	ev->flags |= TW_SEG_NOSYNC;
	count(TW_STAT_NOSYNC);
}

/* The first 8 bytes of a HelloRetryRequest's random (RFC 8446, 4.1.3),
 * read little-endian. */
#define HRR_RANDOM 0x11619ae574ad21cfULL

/* A ServerHello's handshake type, length, version and 8 bytes of its
 * random. */
struct hello_head {
	__u8 type, len[3], version[2];
	__u64 random;
} __attribute__((packed));

/* Keep the handshake's progress (TW_HS_*) as record headers pass: type
 * and length of one, whose body starts at payload offset body. */
static __always_inline void note_record(struct __sk_buff *skb,
					const struct pkt *p, struct tw_flow *f,
					__u8 d, __u8 type, int rlen,
					bool first, __u32 body)
{
	/* An AEAD-protected alert: 2 bytes, the inner type and a 16-byte
	 * tag (8 for CCM_8). */
	bool alert_sized = rlen == 19 || rlen == 11;

	if (d == 1 && first) {
		struct hello_head h;

		/* TLS 1.3 after a HelloRetryRequest has a second hello, and
		 * handshake records after ChangeCipherSpec that are no
		 * Finished. Unreadable here: not decided here either. */
		if (type != 22 || body + sizeof(h) > p->len ||
		    bpf_skb_load_bytes(skb, p->off + body, &h, sizeof(h)) ||
		    h.type != 2 || h.random == HRR_RANDOM)
			f->hs[1] |= TW_HS_NEVER;
	}
	if (type == 20) {
		f->hs[d] |= TW_HS_CCS;
	} else if (type == 22) {
		if (f->hs[d] & TW_HS_CCS)
			f->hs[d] |= TW_HS_FIN;
	} else if (type == 23) {
		if (!alert_sized &&
		    (d == 0 ? f->hs[1] & TW_HS_ENC : f->hs[0] & TW_HS_FLIGHT))
			f->hs[d] |= TW_HS_FLIGHT;
		f->hs[d] |= TW_HS_ENC;
	}
}

/* Whether the handshake is over by what the walk has seen. */
static __always_inline bool over(const struct tw_flow *f)
{
	return !(f->hs[1] & TW_HS_NEVER) && (f->seeded || f->fresh) &&
	       !f->nosync[0] && !f->nosync[1] &&
	       ((f->hs[0] & f->hs[1] & TW_HS_FIN) ||
		(f->hs[1] & TW_HS_FLIGHT));
}

struct walk_ctx {
	struct __sk_buff *skb;
	const struct pkt *p;
	struct tw_segment_event *ev;
	struct tw_flow *f;
	__u32 *dlen;
	__u32 data_seq;
	__u32 full;
	__u8 keep_full;		/* no cut at an encrypted record (redo) */
	__u8 cut;		/* the bytes in full were cut short */
	__u8 redo;		/* out of pieces after a cut: walk again */
};

/* An application_data record that is not the direction's first begins
 * at payload offset at, its whole header in this segment: from here on
 * the direction is encrypted, and its record headers are all userspace
 * can use. No more of it is captured in full; in this segment, the bytes
 * in full end where the record begins, and the walk sends its header and
 * the later ones as pieces (should they outnumber the pieces, the walk
 * of this segment is done again without the cut). A ChangeCipherSpec
 * does not mark the point: in TLS 1.3 a ServerHello or a second
 * ClientHello in the clear may follow one. */
static __always_inline void encrypted_from(struct walk_ctx *c, __u32 at)
{
	struct seg_build *b = BUILD(c->ev);

	if (c->keep_full || at >= c->full || c->ev->npieces != 1)
		return;
	c->cut = 1;
	c->full = at;
	*c->dlen = at;
	if (at)
		b->pieces[0].len = at;
	else
		c->ev->npieces = 0;
}

/* What the walk of one direction changes in its flow, kept before the
 * walk of a segment for a redo. Only that direction's: the other's may
 * be changing on another CPU meanwhile. */
struct walk_state {
	__u32 next_hdr;
	__u8 partial[TW_HDR];
	__u8 partial_len, walking, alert_left, hs;
};

static __always_inline void walk_save(const struct tw_flow *f, __u8 d,
				      struct walk_state *w)
{
	w->next_hdr = f->next_hdr[d];
	__builtin_memcpy(w->partial, f->partial[d], TW_HDR);
	w->partial_len = f->partial_len[d];
	w->walking = f->walking[d];
	w->alert_left = f->alert_left[d];
	w->hs = f->hs[d];
}

static __always_inline void walk_restore(struct tw_flow *f, __u8 d,
					 const struct walk_state *w)
{
	f->next_hdr[d] = w->next_hdr;
	__builtin_memcpy(f->partial[d], w->partial, TW_HDR);
	f->partial_len[d] = w->partial_len;
	f->walking[d] = w->walking;
	f->alert_left[d] = w->alert_left;
	f->hs[d] = w->hs;
}

/* One record header at the flow's next_hdr, if it falls in this segment:
 * keep next_hdr current, and past the budget send the header (with the 2
 * body bytes of a plaintext alert) as a piece. 1 stops the walk. */
static long walk_one(__u32 i, struct walk_ctx *c)
{
	const struct pkt *p = c->p;
	struct tw_flow *f = c->f;
	__u8 d = p->dir & 1;
	__u8 hdr[8], *dst;
	__u32 have, take;
	bool first, enc;
	__s32 off;
	int rlen;

	off = f->next_hdr[d] - c->data_seq;
	have = f->partial_len[d];
	if (off < 0 || (__u32)off >= p->len || have >= TW_HDR)
		return 1;
	/* have as checked (see len_in). */
	asm volatile("" : "+r"(have));
	/* A header split over segments: its first bytes came with the
	 * previous one and wait in the flow, the rest start this one. */
	take = TW_HDR - have;
	if (take > p->len - off)
		take = p->len - off;
	if (!have && (__u32)off + TW_HDR <= c->full) {
		/* Whole in the bytes copied in full: read there, with no
		 * helper call. */
		__u32 at = off;

		/* A bound the verifier can see: full <= TW_BUDGET already
		 * keeps it so. */
		asm volatile("" : "+r"(at));
		if (at > TW_BUDGET - TW_HDR)
			return 1;
		__builtin_memcpy(hdr, c->ev->data + at, TW_HDR);
		take = TW_HDR;
	} else {
		__builtin_memcpy(hdr, f->partial[d], TW_HDR);
		dst = hdr;
		/* Hide dst's alignment: clang would turn dst + have into an
		 * OR, which the verifier refuses on a pointer. */
		asm volatile("" : "+r"(dst));
		if (!len_in(&take, TW_HDR) ||
		    bpf_skb_load_bytes(c->skb, p->off + off, dst + have, take))
			return 1;
	}
	first = f->walking[d] == 1;
	/* application_data after the direction's first record: encrypted
	 * from here (encrypted_from). */
	enc = hdr[0] == 23 && !first;
	if (enc && !have && take == TW_HDR && hdr[1] == 3)
		encrypted_from(c, off);
	if ((__u32)off + take > c->full &&
	    !add_piece(c->skb, p, c->ev, c->dlen, off, take)) {
		if (c->cut) {
			c->redo = 1;
			return 1;
		}
		goto lost;
	}
	if (have + take < TW_HDR) {
		__builtin_memcpy(f->partial[d], hdr, TW_HDR);
		f->partial_len[d] = have + take;
		f->next_hdr[d] += take;
		return 1;
	}
	f->partial_len[d] = 0;
	rlen = record_len(hdr, first);
	if (rlen < 0)
		goto lost;
	/* Nothing more in full in later segments, the header whole in this
	 * one or not. */
	if (enc)
		f->captured[d] = budget;
	note_record(c->skb, p, f, d, hdr[0], rlen, first, off + take);
	f->walking[d] = 2;
	/* The next header is counted from this one's first byte. */
	f->next_hdr[d] += take + rlen;
	/* A plaintext alert's level and code: what of them is in this
	 * segment now, the rest at the start of the next. */
	if (hdr[0] == 21 && rlen == 2) {
		__u32 at = off + take;
		__u32 n = p->len - at < 2 ? p->len - at : 2;

		if (n && at + n > c->full)
			add_piece(c->skb, p, c->ev, c->dlen, at, n);
		f->alert_left[d] = 2 - n;
	}
	return 0;
lost:
	/* A direction whose true first bytes are no record is simply not
	 * TLS: userspace has them. Anywhere else the walk is lost: after a
	 * valid header, or from the middle of a connection whose state the
	 * LRU map pushed out. */
	if (first && (f->seeded || f->fresh))
		f->nosync[d] = 1;
	else
		walk_lost(f, d, c->ev);
	return 1;
}

/* The fixed bytes of the PROXY headers, first byte lowest: one shift
 * finds the byte due at a position, with no array for the verifier to
 * bound. "PROXY ", and the 12-byte v2 signature in two parts. */
#define PROXY_V1_SIG 0x2059584f5250ULL
#define PROXY_V2_SIG_LO 0x510a0d000a0d0a0dULL
#define PROXY_V2_SIG_HI 0x0a544955ULL

struct proxy_ctx {
	struct proxy_bytes *buf;
	__u32 n;		/* bytes in buf */
	__u32 used;		/* of them, bytes of the header */
	__u32 pos;		/* header bytes seen, here and in earlier segments */
	__u16 len;		/* v2 length field */
	__u8 kind;		/* enum tw_proxy */
	__u8 end;		/* the fixed part or the line is complete */
	__u8 bad;		/* began like a header, but is none we follow */
};

/* One byte of a PROXY header. 1 stops the scan. */
static long proxy_byte(__u32 i, struct proxy_ctx *c)
{
	__u32 pos = c->pos;
	__u8 b;

	if (i >= c->n || i >= TW_PROXY_SCAN)
		return 1;
	b = c->buf->b[i];
	if (pos == 0)
		c->kind = b == 'P' ? TW_PROXY_V1 :
			  b == '\r' ? TW_PROXY_V2 : TW_PROXY_NONE;
	if (c->kind == TW_PROXY_V1) {
		if (pos >= TW_PROXY_V1_MAX ||
		    (pos < 6 && b != ((PROXY_V1_SIG >> (pos * 8)) & 0xff)))
			goto bad;
		c->end = b == '\n';
	} else if (c->kind == TW_PROXY_V2) {
		if (pos < 8 && b != ((PROXY_V2_SIG_LO >> (pos * 8)) & 0xff))
			goto bad;
		if (pos >= 8 && pos < 12 &&
		    b != ((PROXY_V2_SIG_HI >> ((pos - 8) * 8)) & 0xff))
			goto bad;
		/* Version 2 in the high nibble; the command is not ours. */
		if (pos == 12 && (b >> 4) != 2)
			goto bad;
		if (pos == 14)
			c->len = b << 8;
		if (pos == 15)
			c->len |= b;
		c->end = pos == TW_PROXY_V2_FIXED - 1;
	} else {
		/* No header: the walk judges these bytes as a record. */
		return 1;
	}
	c->used = i + 1;
	c->pos = pos + 1;
	return c->end;
bad:
	c->bad = 1;
	return 1;
}

/* The start of a client direction on a PROXY port: move next_hdr over
 * the header, which may come split over segments at any byte, so that
 * the walk's first record is the one after it. walking stays 1: that
 * record is checked as strictly as a direction's first. */
static __always_inline void proxy_skip(struct __sk_buff *skb,
				       const struct pkt *p, struct tw_flow *f,
				       __u32 data_seq)
{
	struct proxy_ctx c = {};
	__s32 off = f->next_hdr[0] - data_seq;
	__u32 n, zero = 0;

	if (off < 0 || (__u32)off >= p->len || f->partial_len[0])
		return;
	if (f->proxy == TW_PROXY_UNSEEN &&
	    (!is_proxy(bpf_ntohs(p->key.sport)) ||
	     f->next_hdr[0] != f->first_seq[0])) {
		f->proxy = TW_PROXY_NONE;
		return;
	}
	c.buf = bpf_map_lookup_elem(&proxy_scratch, &zero);
	if (!c.buf)
		return;
	n = p->len - off;
	if (n > TW_PROXY_SCAN)
		n = TW_PROXY_SCAN;
	if (!len_in(&n, TW_PROXY_SCAN) ||
	    bpf_skb_load_bytes(skb, p->off + off, c.buf->b, n))
		return;
	c.n = n;
	c.pos = f->proxy_pos;
	c.kind = f->proxy;
	c.len = f->proxy_len;
	bpf_loop(TW_PROXY_SCAN, proxy_byte, &c, 0);
	if (c.bad) {
		/* As for a true first record that is none: not a stream we
		 * follow, and userspace has its first bytes. */
		f->nosync[0] = 1;
		return;
	}
	f->proxy = c.kind;
	f->proxy_pos = c.pos;
	f->proxy_len = c.len;
	f->next_hdr[0] += c.used;
	if (c.end) {
		f->proxy = TW_PROXY_DONE;
		if (c.kind == TW_PROXY_V2)
			f->next_hdr[0] += c.len;
	}
}

/* Data that arrives with (or instead of) the third ACK runs with the
 * listening socket: the connection is being born right now. */
static __always_inline __u8 listener(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	return sk && sk->state == BPF_TCP_LISTEN;
}

/* Userspace marks a connection done in its own map; the flag is copied
 * into the flow, so that from then on one lookup stops each segment.
 * The map is looked at only when marks were written since this flow
 * last found none there (marks_gen). */
static __always_inline bool decided(struct tw_flow *f, const struct tw_key *k)
{
	__u32 gen;

	if (f->decided)
		return true;
	gen = marks_now();
	if (gen == f->marks_seen)
		return false;
	if (!bpf_map_lookup_elem(&done, k)) {
		f->marks_seen = gen;
		return false;
	}
	f->decided = TW_DECIDED_MARK;
	return true;
}

static __always_inline int handle(struct __sk_buff *skb, bool ingress)
{
	struct tw_segment_event *ev;
	struct walk_state saved;
	struct tw_flow *f;
	struct walk_ctx wc;
	struct pkt p;
	__u32 data_seq, dlen = 0, full = 0;
	__s32 ahead;
	__u8 d;

	if (parse(skb, ingress, &p))
		return 1;
	f = p.flow ? p.flow : bpf_map_lookup_elem(&flows, &p.key);
	if (p.len == 0) {
		/* A FIN or an RST (parse stopped the others). */
		if (f ? decided(f, &p.key) :
		    !!bpf_map_lookup_elem(&closed, &p.key))
			return 1;
		ev = new_event(&p);
		if (ev)
			send(ev, 0, f);
		return 1;
	}
	if (!f) {
		struct tw_flow init = {};

		init.fresh = listener(skb);
		bpf_map_update_elem(&flows, &p.key, &init, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&flows, &p.key);
		if (!f) {
			count(TW_STAT_FLOW_FULL);
			return 1;
		}
		if (init.fresh)
			__sync_fetch_and_add(&fresh_in_hash, 1);
	}
	d = p.dir;
	if (decided(f, &p.key) || d > 1 || f->nosync[d])
		return 1;
	ev = new_event(&p);
	if (!ev)
		return 1;
	data_seq = p.seq + ((p.flags & TCPF_SYN) ? 1 : 0);
	if (!f->walking[d]) {
		f->walking[d] = 1;
		f->next_hdr[d] = data_seq;
		f->first_seq[d] = data_seq;
	}
	if (f->fresh && !f->seeded)
		ev->flags |= TW_SEG_FRESH;
	ahead = data_seq - f->next_hdr[d];
	if (f->captured[d] < budget || (ahead > 0 && !f->partial_len[d])) {
		/* Within the budget, or past a hole the walk cannot cross
		 * (a segment still to come): send the bytes themselves. */
		full = budget > f->captured[d] ? budget - f->captured[d] :
		       TW_BUDGET;
		if (full > p.len)
			full = p.len;
		if (full > TW_BUDGET)
			full = TW_BUDGET;
		if (f->captured[d] >= budget) {
			count(TW_STAT_AHEAD);
			/* Once a hole is filled, next_hdr may point into bytes
			 * already sent whole, and every later segment looks
			 * ahead: bound what that costs. */
			f->hs[1] |= TW_HS_NEVER;
			if (++f->ahead[d] > TW_MAX_AHEAD) {
				walk_lost(f, d, ev);
				send(ev, 0, f);
				return 1;
			}
		}
		if (len_in(&full, TW_BUDGET) &&
		    !bpf_skb_load_bytes(skb, p.off, ev->data, full)) {
			BUILD(ev)->pieces[0].off = 0;
			BUILD(ev)->pieces[0].len = full;
			ev->npieces = 1;
			dlen = full;
			f->captured[d] += full;
		} else {
			full = 0;
		}
	}
	/* The body of an alert whose header ended the previous segment. */
	if (f->alert_left[d] && f->alert_left[d] <= 2 &&
	    data_seq == f->next_hdr[d] - f->alert_left[d]) {
		/* & 3: a bound the verifier can see. */
		__u32 n = f->alert_left[d] & 3;

		if (n > p.len)
			n = p.len;
		if (n > full)
			add_piece(skb, &p, ev, &dlen, 0, n);
		f->alert_left[d] -= n;
	}
	/* Only until the client's first record: one bitmap test for a
	 * connection on another port. */
	if (d == 0 && f->walking[0] == 1 && f->proxy < TW_PROXY_NONE &&
	    (f->seeded || f->fresh)) {
		proxy_skip(skb, &p, f, data_seq);
		if (f->nosync[0]) {
			send(ev, dlen, f);
			return 1;
		}
	}
	/* bpf_loop: the verifier checks one header's worth of work once,
	 * not each of TW_MAX_WALK unrolled copies. */
	wc.skb = skb;
	wc.p = &p;
	wc.ev = ev;
	wc.f = f;
	wc.dlen = &dlen;
	wc.data_seq = data_seq;
	wc.full = full;
	wc.keep_full = 0;
	wc.cut = 0;
	wc.redo = 0;
	walk_save(f, d, &saved);
	bpf_loop(TW_MAX_WALK, walk_one, &wc, 0);
	if (wc.redo) {
		/* More record headers after the cut than pieces: this segment
		 * again from the walk's state before it, whole as it was
		 * copied, so that the headers inside it need no piece. */
		walk_restore(f, d, &saved);
		if (len_in(&full, TW_BUDGET) &&
		    !bpf_skb_load_bytes(skb, p.off, ev->data, full)) {
			BUILD(ev)->pieces[0].len = full;
			ev->npieces = 1;
			dlen = full;
		}
		wc.full = full;
		wc.keep_full = 1;
		wc.cut = 0;
		wc.redo = 0;
		bpf_loop(TW_MAX_WALK, walk_one, &wc, 0);
	}
	/* Still a header inside this segment: more records than the walk
	 * takes in one segment. Say so rather than fall behind. */
	if (!f->nosync[d] && (__s32)(f->next_hdr[d] - data_seq) >= 0 &&
	    f->next_hdr[d] - data_seq < p.len)
		walk_lost(f, d, ev);
	/* The handshake is over: stop here rather than wait for userspace
	 * to say so, by when a short connection has passed whole. */
	if (over(f)) {
		ev->flags |= TW_SEG_DECIDED;
		if (send(ev, dlen, f))
			f->decided = TW_DECIDED_HERE;
		return 1;
	}
	send(ev, dlen, f);
	return 1;
}

SEC("cgroup_skb/ingress")
int handle_ingress(struct __sk_buff *skb)
{
	return handle(skb, true);
}

SEC("cgroup_skb/egress")
int handle_egress(struct __sk_buff *skb)
{
	return handle(skb, false);
}

/* Userspace's mark of the connection, if any: none while userspace has
 * written none (marks_gen 0); else a lookup first, as deleting takes the
 * bucket's lock even when there is nothing to delete, and most
 * connections have no mark. */
static __always_inline void forget_mark(const struct tw_key *key, __u32 gen)
{
	if (gen && bpf_map_lookup_elem(&done, key))
		bpf_map_delete_elem(&done, key);
}

/* A connection is established: the true start of both directions, from
 * the socket (less what it already received or had acknowledged, for
 * data that came with the SYN), so that the walk starts right however
 * segments arrive. The flow goes into the socket. A flow begun in the
 * hash by in-order data that came with the third ACK (to the listener)
 * moves with it; one begun there at a segment that came out of order,
 * or left by an earlier connection of the same 4-tuple, is dropped, and
 * the walk starts afresh. The hash is looked at only while such flows
 * wait there (fresh_in_hash): the segments of a connection with a flow in
 * its socket never look there. The connection is new: nothing of it is
 * done.
 * Returns the flow, or NULL when it went into the hash for want of the
 * socket's storage and is new (nothing of it is lost). */
static __always_inline struct tw_flow *seed(struct bpf_sock_ops *skops,
					    const struct tw_key *key,
					    __u32 *client_next,
					    __u32 *server_next)
{
	struct bpf_sock *sk = skops->sk;
	__u32 gen = marks_now();
	struct tw_flow *f, *s, init = {
		.walking = { 1, 1 },
		.seeded = 1,
		/* The mark is forgotten just below. */
		.marks_seen = gen,
	};
	bool keep;

	*client_next = skops->rcv_nxt - (__u32)skops->bytes_received;
	*server_next = skops->snd_una - (__u32)skops->bytes_acked;
	forget_mark(key, gen);
	f = *(volatile __u32 *)&fresh_in_hash ?
	    bpf_map_lookup_elem(&flows, key) : NULL;
	keep = f && !f->seeded && f->walking[0] &&
	       f->first_seq[0] == *client_next;
	/* Moved, or dropped below: no longer waiting for its seed. */
	if (f && f->fresh && !f->seeded)
		__sync_fetch_and_add(&fresh_in_hash, -1);
	if (keep) {
		init = *f;
		init.seeded = 1;
		init.decided = 0;
		init.marks_seen = gen;
		if (!init.walking[1]) {
			init.walking[1] = 1;
			init.next_hdr[1] = *server_next;
			init.first_seq[1] = *server_next;
		}
	} else {
		init.next_hdr[0] = init.first_seq[0] = *client_next;
		init.next_hdr[1] = init.first_seq[1] = *server_next;
	}
	s = sk ? bpf_sk_storage_get(&sk_flows, sk, &init,
				    BPF_SK_STORAGE_GET_F_CREATE) : NULL;
	if (s) {
		if (f)
			bpf_map_delete_elem(&flows, key);
		return s;
	}
	/* No storage (memory): the hash keeps the flow, as for a
	 * connection opened before tlswatch started. */
	if (keep) {
		*f = init;
		return f;
	}
	bpf_map_update_elem(&flows, key, &init, BPF_ANY);
	return NULL;
}

/* The key of a server socket, from its own fields: the same as its
 * segments build. A dual-stack socket serving an IPv4 client has
 * IPv4-mapped addresses; its packets are IPv4, and so is the key. */
static __always_inline bool sock_key(const struct bpf_sock_ops *skops,
				     struct tw_key *key)
{
	__u32 family = skops->family;

	/* Each family's context fields in a branch of their own: clang
	 * would make one read of either a load from a chosen offset of the
	 * context, which the verifier refuses. */
	__builtin_memset(key, 0, sizeof(*key));
	key->sport = bpf_htons((__u16)skops->local_port);
	/* In network order, in the upper half of the word. */
	key->cport = (__u16)(skops->remote_port >> 16);
	if (family == AF_INET6 && skops->remote_ip6[0] == 0 &&
	    skops->remote_ip6[1] == 0 &&
	    skops->remote_ip6[2] == bpf_htonl(0xffff)) {
		__u32 c = skops->remote_ip6[3], s = skops->local_ip6[3];

		key->family = AF_INET;
		__builtin_memcpy(key->caddr, &c, 4);
		__builtin_memcpy(key->saddr, &s, 4);
	} else if (family == AF_INET) {
		__u32 c = skops->remote_ip4, s = skops->local_ip4;

		key->family = AF_INET;
		__builtin_memcpy(key->caddr, &c, 4);
		__builtin_memcpy(key->saddr, &s, 4);
	} else if (family == AF_INET6) {
		__u32 c[4], s[4];

		/* One field at a time: the context allows no wider loads. */
		c[0] = skops->remote_ip6[0];
		c[1] = skops->remote_ip6[1];
		c[2] = skops->remote_ip6[2];
		c[3] = skops->remote_ip6[3];
		s[0] = skops->local_ip6[0];
		s[1] = skops->local_ip6[1];
		s[2] = skops->local_ip6[2];
		s[3] = skops->local_ip6[3];
		key->family = AF_INET6;
		__builtin_memcpy(key->caddr, c, 16);
		__builtin_memcpy(key->saddr, s, 16);
	} else {
		return false;
	}
	return true;
}

/* The cgroup of the socket, which a child socket takes from its
 * listener: read through the typed pointer the helper gives, as plain
 * loads relocated by CO-RE (the same object works whatever the kernel's
 * struct layout) and guarded by the kernel's fault handling, rather than
 * a probe-read helper call per pointer. */
static __always_inline __u64 sock_cgroup(struct bpf_sock_ops *skops)
{
	struct bpf_sock *bsk = skops->sk;
	struct tcp_sock *tp;
	struct cgroup *cg;
	struct kernfs_node *kn;

	if (!bsk)
		return 0;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return 0;
	cg = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup;
	if (!cg)
		return 0;
	kn = cg->kn;
	return kn ? kn->id : 0;
}

/* Opens and closes of watched server sockets, from socket operations on
 * the cgroup the packet hooks watch. A connection to a watched port,
 * once established, asks for its later state changes
 * (BPF_SOCK_OPS_STATE_CB_FLAG); every other socket costs one test of the
 * operation. The socket's fields come from the context, not from probe
 * reads. Always 1: socket operations allow everything. */
SEC("sockops")
int handle_sockops(struct bpf_sock_ops *skops)
{
	struct tw_state_event *ev;
	struct tw_flow *f, *in_sock = NULL;
	struct tw_key key;
	__u32 op = skops->op, client_next = 0, server_next = 0;
	int oldstate, newstate;

	if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		if (!is_watched((__u16)skops->local_port))
			return 1;
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_STATE_CB_FLAG);
		oldstate = TCP_SYN_RECV;
		newstate = TCP_ESTABLISHED;
	} else if (op == BPF_SOCK_OPS_STATE_CB) {
		/* Told before the socket changes state: its port is still
		 * bound, even on the way to TCP_CLOSE. Closed by one side,
		 * or gone. */
		oldstate = skops->args[0];
		newstate = skops->args[1];
		if (newstate != TCP_FIN_WAIT1 && newstate != TCP_CLOSE_WAIT &&
		    newstate != TCP_CLOSE)
			return 1;
		/* Decided here: userspace let the connection go with its
		 * last segment, and the socket's flow silences what leaves
		 * after the close. Nothing more is told, so the socket stops
		 * asking: its later state changes cost no call. A done mark
		 * userspace may have written meanwhile stays until the
		 * 4-tuple's next connection is seeded, which forgets it. */
		in_sock = sock_flow(skops->sk);
		if (in_sock && in_sock->decided == TW_DECIDED_HERE) {
			bpf_sock_ops_cb_flags_set(skops,
				skops->bpf_sock_ops_cb_flags &
				~BPF_SOCK_OPS_STATE_CB_FLAG);
			return 1;
		}
	} else {
		return 1;
	}
	if (!sock_key(skops, &key))
		return 1;
	/* Once decided, only the close is told, so that userspace can let
	 * the connection go; and not even that when decided here, since
	 * userspace let it go with the last segment (TW_SEG_DECIDED). A
	 * connection just seeded is decided by nothing yet. */
	if (newstate == TCP_ESTABLISHED) {
		f = seed(skops, &key, &client_next, &server_next);
	} else {
		f = in_sock;
		if (!f)
			f = bpf_map_lookup_elem(&flows, &key);
	}
	if (f && newstate != TCP_ESTABLISHED && decided(f, &key) &&
	    (newstate != TCP_CLOSE || f->decided == TW_DECIDED_HERE))
		ev = NULL;
	else if (!(ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0))) {
		ring_full(f);
	}
	if (ev) {
		ev->type = TW_EV_STATE;
		ev->flags = f && f->lost ? TW_SEG_LOST : 0;
		ev->ts_ns = bpf_ktime_get_ns();
		ev->key = key;
		ev->oldstate = oldstate;
		ev->newstate = newstate;
		ev->client_next = client_next;
		ev->server_next = server_next;
		ev->cgroup_id = newstate == TCP_ESTABLISHED ?
				sock_cgroup(skops) : 0;
		if (f)
			f->lost = 0;
		bpf_ringbuf_submit(ev, wakeup(sizeof(*ev)));
	}
	if (newstate == TCP_CLOSE) {
		/* What leaves a decided connection after its close (the
		 * RST of an abortive close) is not sent either: the flow in
		 * the socket says so until the socket is freed; one in the
		 * hash goes, and a table of closed ones says so instead. An
		 * entry there left by an earlier connection of the same
		 * 4-tuple must not silence an undecided one's last segments:
		 * it goes now, rather than at every open. */
		if (f && f->decided) {
			__u8 one = 1;

			if (!in_sock)
				bpf_map_update_elem(&closed, &key, &one,
						    BPF_ANY);
		} else if (bpf_map_lookup_elem(&closed, &key)) {
			bpf_map_delete_elem(&closed, &key);
		}
		if (f && !in_sock)
			bpf_map_delete_elem(&flows, &key);
		forget_mark(&key, marks_now());
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
