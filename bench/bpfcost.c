// SPDX-License-Identifier: BSD-3-Clause
/* Cost per packet of tlswatch's cgroup_skb programs, run on crafted
 * frames with BPF_PROG_TEST_RUN, against an empty cgroup_skb program
 * (return 1) measured in the same run. Nothing is attached: no traffic of
 * this host gets in. Needs root (loading).
 *
 * Stateless kinds (an unwatched port, a decided flow) run with a large
 * repeat, for which the kernel reports the mean per repeat. Kinds that
 * change the flow (a hello captured, a record-header walk) would be
 * another kind from the second repeat on, so they run once per call,
 * with the flow put back before each; the kernel's timer is then read
 * around a single run, and the empty program measured the same way
 * takes that out. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "../bpf/tlswatch.h"
#include "tlswatch.skel.h"
#include "captured.h"

#define TLS_PORT 443
#define OTHER_PORT 80
#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 32		/* with timestamps, as Linux sends */
#define CSEQ 0x10000000u
#define SSEQ 0x20000000u

static uint8_t frame[2048];

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

/* An Ethernet frame of one IPv4 TCP segment (test_run takes the
 * protocol from the ethertype and gives the program the IP header on). */
static size_t build(uint16_t sport, uint16_t dport, bool from_client,
		    uint32_t seq, uint8_t flags, const void *data, size_t len)
{
	uint8_t *p = frame;

	memcpy(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	put16(p + 12, 0x0800);
	p += ETH_LEN;
	p[0] = 0x45;
	p[1] = 0;
	put16(p + 2, IP_LEN + TCP_LEN + len);
	put16(p + 4, 0x1234);
	put16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	put16(p + 10, 0);
	inet_pton(AF_INET, from_client ? "192.0.2.1" : "198.51.100.2", p + 12);
	inet_pton(AF_INET, from_client ? "198.51.100.2" : "192.0.2.1", p + 16);
	p += IP_LEN;
	put16(p, sport);
	put16(p + 2, dport);
	put32(p + 4, seq);
	put32(p + 8, from_client ? SSEQ : CSEQ);
	p[12] = (TCP_LEN / 4) << 4;
	p[13] = flags;
	put16(p + 14, 65535);
	put32(p + 16, 0);
	memcpy(p + 20, "\x01\x01\x08\x0a\0\0\x03\xe8\0\0\x07\xd0", 12);
	p += TCP_LEN;
	memcpy(p, data, len);
	return p + len - frame;
}

static struct tw_key key_of(uint16_t cport)
{
	struct tw_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.cport = htons(cport);
	k.sport = htons(TLS_PORT);
	inet_pton(AF_INET, "192.0.2.1", k.caddr);
	inet_pton(AF_INET, "198.51.100.2", k.saddr);
	return k;
}

struct kind {
	const char *name;
	bool ingress;
	bool once;		/* stateful: one run per call, flow reset */
	uint16_t cport;		/* 0: unwatched */
	struct tw_flow flow;	/* put back before each call when once */
	uint8_t frame[2048];
	size_t len;
	double ns[64];		/* per run */
};

static struct tlswatch_bpf *skel;
static int empty_fd;
static unsigned repeat = 1000000, calls = 20000, runs = 7;

/* Mean ns per repeat of one test_run. */
static unsigned run_prog(int fd, const uint8_t *f, size_t n, unsigned rep)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = n,
		    .repeat = rep);

	if (bpf_prog_test_run_opts(fd, &o) || o.retval != 1) {
		fprintf(stderr, "bpfcost: test run failed: %s (retval %u)\n",
			strerror(errno), o.retval);
		exit(1);
	}
	return o.duration;
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int drain(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* ns per packet of one run of kind k (fd: its program, or the empty one
 * when k is NULL-like baseline with the same method). */
static double measure(int fd, struct kind *k, struct ring_buffer *rb)
{
	struct tw_key key = key_of(k->cport);
	int flows = bpf_map__fd(skel->maps.flows);
	unsigned *d;
	double med;

	if (!k->once)
		return run_prog(fd, k->frame, k->len, repeat);
	d = calloc(calls, sizeof(*d));
	if (!d)
		exit(1);
	for (unsigned i = 0; i < calls; i++) {
		if (k->cport && bpf_map_update_elem(flows, &key, &k->flow,
						    BPF_ANY)) {
			fprintf(stderr, "bpfcost: flow update: %s\n",
				strerror(errno));
			exit(1);
		}
		d[i] = run_prog(fd, k->frame, k->len, 1);
		/* Often enough that the backlog stays below tlswatch's
		 * wake-up threshold, as a reader keeping up keeps it. */
		if (i % 64 == 63)
			ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	qsort(d, calls, sizeof(*d), cmp_u);
	med = d[calls / 2];
	free(d);
	return med;
}

static double median(double *v, unsigned n, double *lo, double *hi)
{
	double s[64];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static unsigned envu(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

int main(void)
{
	/* r0 = 1; exit: the cost of running any cgroup_skb program. */
	struct bpf_insn empty[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = BPF_CGROUP_INET_INGRESS);
	struct ring_buffer *rb;
	uint8_t walk[1400], one = 1;
	struct kind kinds[9];
	struct kind base[2] = {
		{ .name = "empty program (repeat)" },
		{ .name = "empty program (once)", .once = true },
	};
	struct tw_key dk = key_of(40001);
	int nk = 0;

	repeat = envu("REPEAT", repeat);
	calls = envu("CALLS", calls);
	runs = envu("RUNS", runs);
	if (runs < 1 || runs > 64 || repeat < 1 || calls < 1) {
		fprintf(stderr, "bpfcost: RUNS must be 1-64, REPEAT and CALLS at least 1\n");
		return 2;
	}
	libbpf_set_print(NULL);
	skel = tlswatch_bpf__open();
	if (!skel) {
		fprintf(stderr, "bpfcost: cannot open the BPF object: %s\n",
			strerror(errno));
		return 1;
	}
	skel->rodata->watched[TLS_PORT >> 3] |= 1 << (TLS_PORT & 7);
	if (tlswatch_bpf__load(skel)) {
		fprintf(stderr, "bpfcost: cannot load the BPF programs (root?)\n");
		return 1;
	}
	empty_fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "empty", "GPL",
				 empty, 2, &po);
	if (empty_fd < 0) {
		fprintf(stderr, "bpfcost: cannot load the empty program: %s\n",
			strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), drain, NULL,
			      NULL);
	if (!rb)
		return 1;

	memset(kinds, 0, sizeof(kinds));
	/* Unwatched: a data segment of a connection to port 80. */
	kinds[nk] = (struct kind){ .name = "unwatched port", .ingress = true };
	kinds[nk].len = build(50000, OTHER_PORT, true, CSEQ, 0x18,
			      http_request, sizeof(http_request));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	kinds[nk] = (struct kind){ .name = "unwatched port" };
	kinds[nk].len = build(OTHER_PORT, 50000, false, SSEQ, 0x18,
			      http_response, sizeof(http_response));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));

	/* Decided, with no socket storage (BPF_PROG_TEST_RUN's stand-in socket
	 * has none, so the flow is in the hash: what a connection opened before
	 * tlswatch started costs; sockcost.c measures the flow in the socket):
	 * userspace put the key in done; the first run copies the
	 * mark into the flow, every later one stops at it. */
	{
		struct tw_flow f = { .walking = { 1, 1 }, .seeded = 1,
				     .next_hdr = { CSEQ, SSEQ },
				     .first_seq = { CSEQ, SSEQ } };

		bpf_map_update_elem(bpf_map__fd(skel->maps.flows), &dk, &f,
				    BPF_ANY);
		bpf_map_update_elem(bpf_map__fd(skel->maps.done), &dk, &one,
				    BPF_ANY);
		/* As userspace does after writing marks. The flows of the
		 * kinds below then look in the done map too, as on a host
		 * where some connections fail. */
		skel->bss->marks_gen = 1;
	}
	kinds[nk] = (struct kind){ .name = "decided flow (in the hash)", .ingress = true };
	kinds[nk].len = build(40001, TLS_PORT, true, CSEQ, 0x18,
			      client_data12, sizeof(client_data12));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	kinds[nk] = (struct kind){ .name = "decided flow (in the hash)" };
	kinds[nk].len = build(TLS_PORT, 40001, false, SSEQ, 0x18,
			      server_data12, sizeof(server_data12));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));

	/* Captured: a seeded flow's first segment, sent whole and walked. */
	kinds[nk] = (struct kind){ .name = "handshake captured",
				   .ingress = true, .once = true,
				   .cport = 40002 };
	kinds[nk].len = build(40002, TLS_PORT, true, CSEQ, 0x18, hello12,
			      sizeof(hello12));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	kinds[nk] = (struct kind){ .name = "handshake captured",
				   .once = true, .cport = 40003 };
	kinds[nk].len = build(TLS_PORT, 40003, false, SSEQ, 0x18,
			      server_flight12, sizeof(server_flight12));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	for (int i = nk - 2; i < nk; i++)
		kinds[i].flow = (struct tw_flow){
			.walking = { 1, 1 }, .seeded = 1,
			.next_hdr = { CSEQ, SSEQ },
			.first_seq = { CSEQ, SSEQ } };

	/* Walk: past the budget, 8 application-data records in one
	 * 1400-byte segment, each header sent as a piece. */
	for (int r = 0; r < 8; r++) {
		uint8_t *p = walk + r * 175;

		p[0] = 23;
		p[1] = 3;
		p[2] = 3;
		put16(p + 3, 170);
		memset(p + 5, 0xa5, 170);
	}
	kinds[nk] = (struct kind){ .name = "record-header walk (8)",
				   .ingress = true, .once = true,
				   .cport = 40004 };
	kinds[nk].len = build(40004, TLS_PORT, true, CSEQ, 0x18, walk,
			      sizeof(walk));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	kinds[nk] = (struct kind){ .name = "record-header walk (8)",
				   .once = true, .cport = 40005 };
	kinds[nk].len = build(TLS_PORT, 40005, false, SSEQ, 0x18, walk,
			      sizeof(walk));
	memcpy(kinds[nk++].frame, frame, sizeof(frame));
	for (int i = nk - 2; i < nk; i++)
		kinds[i].flow = (struct tw_flow){
			.captured = { TW_BUDGET, TW_BUDGET },
			.walking = { 2, 2 }, .seeded = 1,
			.next_hdr = { CSEQ, SSEQ },
			.first_seq = { CSEQ - TW_BUDGET, SSEQ - TW_BUDGET } };

	/* The baselines run the unwatched frame: the empty program does not
	 * look at it. */
	for (int b = 0; b < 2; b++) {
		base[b].len = kinds[0].len;
		memcpy(base[b].frame, kinds[0].frame, sizeof(frame));
	}

	/* Interleaved: every kind and both baselines in each run. */
	for (unsigned r = 0; r < runs; r++) {
		for (int b = 0; b < 2; b++)
			base[b].ns[r] = measure(empty_fd, &base[b], rb);
		for (int i = 0; i < nk; i++) {
			int fd = bpf_program__fd(kinds[i].ingress ?
				skel->progs.handle_ingress :
				skel->progs.handle_egress);

			kinds[i].ns[r] = measure(fd, &kinds[i], rb);
		}
	}

	printf("BPF cost per packet (BPF_PROG_TEST_RUN, median of %u runs; "
	       "repeat %u, or %u single calls for stateful kinds)\n",
	       runs, repeat, calls);
	printf("reproduce: make -C bench bpfcost RUNS=%u REPEAT=%u CALLS=%u\n\n",
	       runs, repeat, calls);
	printf("| packet | hook | method | ns/pkt | min-max | minus empty | goal |\n");
	printf("|---|---|---|---:|---:|---:|---|\n");
	{
		double lo, hi, bm[2];

		for (int b = 0; b < 2; b++) {
			bm[b] = median(base[b].ns, runs, &lo, &hi);
			printf("| %s | - | %s | %.1f | %.0f-%.0f | 0 | |\n",
			       base[b].name, base[b].once ? "once" : "repeat",
			       bm[b], lo, hi);
		}
		for (int i = 0; i < nk; i++) {
			struct kind *k = &kinds[i];
			double m = median(k->ns, runs, &lo, &hi);
			double net = m - bm[k->once];
			bool cheap = !k->once;

			printf("| %s | %s | %s | %.1f | %.0f-%.0f | %.1f | %s |\n",
			       k->name, k->ingress ? "ingress" : "egress",
			       k->once ? "once" : "repeat", m, lo, hi, net,
			       cheap ? (net < 50 ? "<50 ns: met" :
					"<50 ns: NOT met") : "-");
		}
	}
	ring_buffer__free(rb);
	close(empty_fd);
	tlswatch_bpf__destroy(skel);
	return 0;
}
