// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/* The least a watcher built on cgroup_skb hooks can do and still see
 * every handshake: for bench/overhead.sh's mode `floor`. Both programs
 * run on every packet of the host, as tlswatch's do, but keep no state
 * and decode nothing: each segment of the watched port whose first bytes
 * are a ClientHello (ingress) or the server's answer, a ServerHello or
 * a plaintext alert (egress), goes to the ring buffer, and nothing else does.
 * Stateless, so a hello split over segments, or a segment that happens
 * to start with such bytes mid-stream, is taken as it comes: this is a
 * bound on cost, not a watcher. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

#define REC_ALERT 0x15
#define REC_HANDSHAKE 0x16
#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2

/* The most of a ClientHello sent; the server's answer is always 8 bytes
 * (record header, 2 bytes, a zero). */
#define HELLO_MAX 512
#define ANSWER_LEN 8

/* The server's port, host order; set by the loader before load. */
const volatile __u16 port = 0;

/* tlswatch's size: the same ring, so the same cache behaviour for the
 * writes (see RINGBUF_BYTES in user/loader.c). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Events dropped with the ring buffer full; written only then. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Where a hello is copied before it is sent: 512 bytes do not fit on the
 * stack beside anything else. */
struct hello_buf {
	__u64 ts_ns;		/* floor -s: its time, sent before the bytes */
	__u8 b[HELLO_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hello_buf);
} scratch SEC(".maps");

static __always_inline void dropped(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&drops, &zero);

	if (v)
		*v += 1;
}

/* The payload's offset in the skb when the segment is on the watched
 * port (ingress: to it; egress: from it) and has one; 0 otherwise.
 * Headers outside the linear part are let pass rather than copied: the
 * floor pays for no second path (tlswatch's parse_copy), and on loopback
 * the headers are always linear. */
static __always_inline __u32 payload_off(struct __sk_buff *skb, bool ingress)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th;
	__u32 l4, off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end)
			return 0;
		if (ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)) || ip->ihl < 5)
			return 0;
		l4 = ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			return 0;
		if (ip6->nexthdr != IPPROTO_TCP)
			return 0;
		l4 = sizeof(*ip6);
	} else {
		return 0;
	}
	th = data + l4;
	if ((void *)(th + 1) > end)
		return 0;
	if (bpf_ntohs(ingress ? th->dest : th->source) != port ||
	    th->doff < 5)
		return 0;
	off = l4 + th->doff * 4;
	/* skb->len, not the IP length: GSO packets on egress are one skb
	 * of many segments. */
	return skb->len > off ? off : 0;
}

/* A ClientHello: its first bytes, up to HELLO_MAX, through the per-CPU
 * copy, sent with their own length, not a fixed 512: the verifier (6.18,
 * -mcpu=v3) takes a variable length once both of its bounds are tested
 * on n here; what handle() tested it does not connect to n. */
static __always_inline void send_hello(struct __sk_buff *skb, __u32 off,
				       bool stamped)
{
	__u32 zero = 0, n = skb->len - off;
	struct hello_buf *h = bpf_map_lookup_elem(&scratch, &zero);

	if (!h)
		return;
	if (n > HELLO_MAX)
		n = HELLO_MAX;
	if (n < 1 || n > HELLO_MAX)
		return;
	if (bpf_skb_load_bytes(skb, off, h->b, n))
		return;
	if (stamped)
		h->ts_ns = bpf_ktime_get_ns();
	/* No wake-up: the reader reads every 25 ms whatever comes. */
	if (bpf_ringbuf_output(&events, stamped ? (void *)h : h->b,
			       stamped ? n + sizeof(h->ts_ns) : n,
			       BPF_RB_NO_WAKEUP))
		dropped();
}

static __always_inline int handle(struct __sk_buff *skb, bool ingress)
{
	__u32 off = payload_off(skb, ingress);
	__u8 b[ANSWER_LEN] = {};

	/* Fewer than 6 bytes: no handshake type to look at. */
	if (!off || skb->len - off < 6)
		return 1;
	/* 6 bytes decide; an alert's 7th is its description, so egress
	 * takes 7 when there are. Constant sizes: one load each way. */
	if (ingress || skb->len - off < 7) {
		if (bpf_skb_load_bytes(skb, off, b, 6))
			return 1;
	} else if (bpf_skb_load_bytes(skb, off, b, 7)) {
		return 1;
	}
	if (b[1] != 3)
		return 1;
	if (ingress) {
		if (b[0] == REC_HANDSHAKE && b[5] == HS_CLIENT_HELLO)
			send_hello(skb, off, false);
		return 1;
	}
	/* A plaintext alert only (2 bytes long): an encrypted one, such as
	 * the close_notify after a handshake that succeeded, is no answer
	 * to the hello. One event per handshake either way. */
	if ((b[0] == REC_HANDSHAKE && b[5] == HS_SERVER_HELLO) ||
	    (b[0] == REC_ALERT && b[3] == 0 && b[4] == 2)) {
		if (bpf_ringbuf_output(&events, b, sizeof(b),
				       BPF_RB_NO_WAKEUP))
			dropped();
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	return handle(skb, true);
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	return handle(skb, false);
}

/* floor -s: the least a watcher that follows connections pays, still
 * decoding nothing. Each connection to the port, once established, gets
 * a few bytes of state in its socket (the socket operations program
 * creates it, as tlswatch's does) and asks for its state changes; the
 * open goes to the ring buffer with a time, as does a close while the
 * connection is undecided. Each segment with payload looks up its
 * socket's state: its direction's first segment goes as the hello does
 * (its first HELLO_MAX bytes), later ones as 8 bytes, each with a time;
 * the server's second segment decides the connection (a TLS 1.2
 * handshake: its flight, then its ChangeCipherSpec and Finished), after
 * which its segments stop at the lookup and its close at the first state
 * change, which stops the asking. Five events per TLS 1.2 handshake, as
 * tlswatch sends. Not a watcher either: nothing is reassembled, walked
 * or decoded. */
struct conn {
	__u8 segs[2];		/* segments with payload, [0] client */
	__u8 done;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conns SEC(".maps");

struct stamped {
	__u64 ts_ns;
	__u8 b[ANSWER_LEN];
};

static __always_inline void send_stamped(const __u8 *b)
{
	struct stamped e = { .ts_ns = bpf_ktime_get_ns() };

	__builtin_memcpy(e.b, b, ANSWER_LEN);
	if (bpf_ringbuf_output(&events, &e, sizeof(e), BPF_RB_NO_WAKEUP))
		dropped();
}

static __always_inline int state_handle(struct __sk_buff *skb, bool ingress)
{
	__u32 off = payload_off(skb, ingress);
	struct bpf_sock *sk = skb->sk;
	struct conn *c;
	__u8 d = ingress ? 0 : 1, b[ANSWER_LEN] = {};

	if (!off || !sk)
		return 1;
	c = bpf_sk_storage_get(&conns, sk, NULL, 0);
	if (!c || c->done)
		return 1;
	if (c->segs[d] == 0) {
		send_hello(skb, off, true);
	} else {
		if (skb->len - off >= ANSWER_LEN &&
		    bpf_skb_load_bytes(skb, off, b, ANSWER_LEN))
			return 1;
		send_stamped(b);
	}
	if (c->segs[d] < 255)
		c->segs[d]++;
	if (d == 1 && c->segs[1] >= 2)
		c->done = 1;
	return 1;
}

SEC("cgroup_skb/ingress")
int state_ingress(struct __sk_buff *skb)
{
	return state_handle(skb, true);
}

SEC("cgroup_skb/egress")
int state_egress(struct __sk_buff *skb)
{
	return state_handle(skb, false);
}

SEC("sockops")
int state_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	__u32 op = skops->op;
	struct {
		__u32 client, server, port, op;
		__u64 ts_ns;
	} ev;
	struct conn *c;

	if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		if (skops->local_port != port || !sk ||
		    !bpf_sk_storage_get(&conns, sk, NULL,
					BPF_SK_STORAGE_GET_F_CREATE))
			return 1;
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_STATE_CB_FLAG);
	} else if (op == BPF_SOCK_OPS_STATE_CB) {
		if (skops->args[1] != BPF_TCP_FIN_WAIT1 &&
		    skops->args[1] != BPF_TCP_CLOSE_WAIT &&
		    skops->args[1] != BPF_TCP_CLOSE)
			return 1;
		c = sk ? bpf_sk_storage_get(&conns, sk, NULL, 0) : NULL;
		if (c && c->done) {
			bpf_sock_ops_cb_flags_set(skops,
				skops->bpf_sock_ops_cb_flags &
				~BPF_SOCK_OPS_STATE_CB_FLAG);
			return 1;
		}
	} else {
		return 1;
	}
	/* Who: the 4-tuple (IPv4 here), what and when. */
	ev.client = skops->remote_ip4;
	ev.server = skops->local_ip4;
	ev.port = skops->remote_port;
	ev.op = op;
	ev.ts_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		dropped();
	return 1;
}

/* floor -e: programs that only return, on the hooks tlswatch uses: what
 * the hooks themselves cost, which any watcher on them pays. */
SEC("cgroup_skb/ingress")
int empty_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/egress")
int empty_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("sockops")
int empty_sockops(struct bpf_sock_ops *skops)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
