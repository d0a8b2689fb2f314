// SPDX-License-Identifier: BSD-3-Clause
/* Cost per packet of tlswatch's cgroup_skb programs on real loopback
 * connections, which BPF_PROG_TEST_RUN (bpfcost.c) cannot show: its
 * stand-in socket carries no socket storage, so a flow kept in the server
 * socket (sk_flows) is found only on real traffic.
 *
 * Three connections carry a ping-pong of small messages (TCP_NODELAY,
 * so each message is one segment and each ACK rides on the answer): one
 * to a watched port that userspace has marked done, one to a watched port
 * decided by nothing (its segments are past the budget and walked), and
 * one to a port nobody watches. Only the server sockets are in the cgroup
 * the programs are attached to (the clients' are made outside it), so
 * each program run is one of the server's segments. The kernel's
 * run-time statistics are on while it runs; an empty cgroup_skb program
 * attached to the same cgroup runs on the same segments, and its time
 * per run (the cost of running any program, and of the statistics' own
 * clock reads) is taken out.
 *
 * Then whole connections, the records of real TLS 1.2 and TLS 1.3
 * connections replayed at their sizes, with no cryptography (see
 * replays[]): hellos, flights, request, answer, and the server's close,
 * as nginx answers a request with Connection: close. What the three
 * programs (both packet hooks and socket operations) cost per
 * connection, less empty programs on the same hooks, is the kernel's
 * share of watching one new connection, the hooks aside; the events it
 * sent are counted as they are read. CONNS (2000) connections of each
 * kind per run; PERPROG=1 prints each program's share of every run to
 * stderr. Root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/sock_diag.h>

#include "../bpf/tlswatch.h"
#include "tlswatch.skel.h"
#include "cgroup.h"

#define MSG 100

enum { C_DONE, C_WALKED, C_UNWATCHED, C__N };
static const char *const names[C__N] = {
	[C_DONE] = "decided flow (in the socket)",
	[C_WALKED] = "undecided flow past the budget, one record per segment",
	[C_UNWATCHED] = "unwatched port",
};

/* The cgroup made for the run: removing it detaches the programs, which
 * attachments by bpf_prog_attach() outlive the process otherwise. */
static char cg[8200];

static void remove_cgroup(void)
{
	if (cg[0])
		rmdir(cg);
}

static void die(const char *what)
{
	fprintf(stderr, "sockcost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned envu(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

/* A listener on 127.0.0.1, any port; its port to *port. */
static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &n))
		die("listener");
	*port = ntohs(a.sin_port);
	return fd;
}

static void move_to(const char *cg)
{
	char path[8300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
		die(path);
}

/* This process's cgroup v2 path, under the mount at root. */
static void own_cgroup(const char *root, char *buf, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		die("/proc/self/cgroup");
	snprintf(buf, len, "%s", root);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(buf, len, "%s%s", root, line + 3);
	}
	fclose(f);
}

static void io(int fd, char *buf, bool out)
{
	ssize_t n = out ? write(fd, buf, MSG) : read(fd, buf, MSG);

	/* MSG bytes on loopback come whole; anything else is a failure. */
	if (n != MSG)
		die(out ? "write" : "read");
}

struct prog_stats {
	uint64_t ns, cnt;
};

static struct prog_stats stats_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("prog info");
	return (struct prog_stats){ info.run_time_ns, info.run_cnt };
}

/* The first n programs' statistics, tlswatch's (tw_fd) and the empty
 * ones beside them on the same hooks (empty_fd). */
static void take(struct prog_stats *tw, struct prog_stats *em,
		 const int *tw_fd, const int *empty_fd, int n)
{
	for (int i = 0; i < n; i++) {
		tw[i] = stats_of(tw_fd[i]);
		em[i] = stats_of(empty_fd[i]);
	}
}

/* What the first n programs ran between two takes, summed. */
struct ran {
	double ns, cnt, empty_ns, empty_cnt;
};

static struct ran ran(const struct prog_stats *t0, const struct prog_stats *e0,
		      const struct prog_stats *t1, const struct prog_stats *e1,
		      int n)
{
	struct ran r = { 0 };

	for (int i = 0; i < n; i++) {
		r.ns += t1[i].ns - t0[i].ns;
		r.cnt += t1[i].cnt - t0[i].cnt;
		r.empty_ns += e1[i].ns - e0[i].ns;
		r.empty_cnt += e1[i].cnt - e0[i].cnt;
	}
	return r;
}

/* What the socket's options and storage hold (sk_omem_alloc), which is
 * where the kernel charges a socket's BPF storage. */
static unsigned optmem(int fd)
{
	__u32 m[SK_MEMINFO_VARS];
	socklen_t n = sizeof(m);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, m, &n))
		die("SO_MEMINFO");
	return m[SK_MEMINFO_OPTMEM];
}

static uint64_t events_read;

static int drain(void *ctx, void *data, size_t size)
{
	events_read++;
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* One record of type and body length at p, its body filled; returns
 * its whole length. */
static size_t record(uint8_t *p, uint8_t type, uint16_t len)
{
	p[0] = type;
	p[1] = 3;
	p[2] = type == 22 ? 1 : 3;
	p[3] = len >> 8;
	p[4] = len & 0xff;
	memset(p + 5, 0x5a, len);
	return 5 + len;
}

/* A connection replayed: what each side writes in turn, as records of a
 * type and body length; a handshake message's type goes in its record's
 * first body byte (a ServerHello's random is then no HelloRetryRequest's).
 * The sizes are those of real handshakes on loopback, curl against an
 * ECDSA P-256 certificate (the overhead benchmark's): nginx 1.22, which
 * speaks TLS 1.2, and openssl s_server for TLS 1.3. */
#define MAX_RECS 8
#define MAX_STEPS 10

struct rec {
	uint8_t type, hs_type;
	uint16_t len;
};

struct step {
	bool server;
	struct rec r[MAX_RECS];
};

struct replay {
	const char *name;
	struct step steps[MAX_STEPS];
};

static const struct replay replays[] = {
	{ "TLS 1.2 handshake (nginx), request, answer, close_notify, close", {
		{ false, { { 22, 1, 512 } } },
		{ true, { { 22, 2, 76 }, { 22, 11, 396 }, { 22, 12, 115 },
			  { 22, 14, 4 } } },
		{ false, { { 22, 16, 37 }, { 20, 0, 1 }, { 22, 0, 40 } } },
		/* Both Finished: the programs decide here. */
		{ true, { { 20, 0, 1 }, { 22, 0, 40 } } },
		{ false, { { 23, 0, 131 } } },
		{ true, { { 23, 0, 271 } } },
		{ true, { { 21, 0, 26 } } },
		{ false, { { 21, 0, 26 } } },
	} },
	{ "TLS 1.3 handshake (s_server), tickets, request, answer, close", {
		{ false, { { 22, 1, 512 } } },
		{ true, { { 22, 2, 122 }, { 20, 0, 1 }, { 23, 0, 23 },
			  { 23, 0, 416 }, { 23, 0, 96 }, { 23, 0, 69 } } },
		{ false, { { 20, 0, 1 }, { 23, 0, 69 } } },
		/* A record from the server after the client's flight: the
		 * programs decide here. */
		{ true, { { 23, 0, 250 } } },
		{ true, { { 23, 0, 250 } } },
		{ false, { { 23, 0, 96 } } },
		{ true, { { 23, 0, 5190 } } },
		{ true, { { 23, 0, 19 } } },
	} },
};
#define N_REPLAYS (int)(sizeof(replays) / sizeof(replays[0]))

/* One side's write of a step, and the other side's read of it all. */
static void step(int from, int to, const struct step *st)
{
	static uint8_t out[8192], in[8192];
	size_t len = 0, got = 0;

	for (int i = 0; i < MAX_RECS && st->r[i].type; i++) {
		len += record(out + len, st->r[i].type, st->r[i].len);
		if (st->r[i].hs_type)
			out[len - st->r[i].len] = st->r[i].hs_type;
	}
	if (write(from, out, len) != (ssize_t)len)
		die("write");
	while (got < len) {
		ssize_t n = read(to, in, len - got);

		if (n <= 0)
			die("read");
		got += n;
	}
}

/* One connection to port, replayed, then closed by the server as nginx
 * does after answering a request with Connection: close; the server's
 * socket is accepted from lfd, in the cgroup. */
static void replay(const struct replay *rp, int lfd, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int c = socket(AF_INET, SOCK_STREAM, 0), s, one = 1;
	char b;

	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		die("accept");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < MAX_STEPS && rp->steps[i].r[0].type; i++)
		step(rp->steps[i].server ? s : c, rp->steps[i].server ? c : s,
		     &rp->steps[i]);
	close(s);
	if (read(c, &b, 1) != 0)
		die("read the close");
	/* The client resets rather than keep ports in TIME_WAIT. */
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	struct bpf_insn empty[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	unsigned rounds = envu("ROUNDS", 20000), runs = envu("RUNS", 7);
	char root[4096], home[8200], buf[MSG];
	unsigned conns = envu("CONNS", 2000);
	int lfd[C__N], cfd[C__N], sfd[C__N], empty_fd[3], tw_fd[3], cg_fd;
	double hs_net[N_REPLAYS][64], hs_runs[N_REPLAYS][64];
	double hs_events[N_REPLAYS][64];
	int hs_lfd;
	uint16_t hs_port;
	double net[C__N][64], per_round[C__N][64];
	struct tlswatch_bpf *skel;
	struct ring_buffer *rb;
	uint16_t port[C__N];
	int stats_fd, one = 1;

	if (runs < 1 || runs > 64 || rounds < 1) {
		fprintf(stderr, "sockcost: RUNS must be 1-64, ROUNDS at least 1\n");
		return 2;
	}
	if (!cgroup2_mount(root, sizeof(root))) {
		fprintf(stderr, "sockcost: no cgroup v2 in /proc/self/mounts\n");
		return 1;
	}
	own_cgroup(root, home, sizeof(home));
	snprintf(cg, sizeof(cg), "%s/tlswatch-sockcost-%d", root, getpid());
	if (mkdir(cg, 0755)) {
		cg[0] = 0;
		die("mkdir of the run's cgroup");
	}
	atexit(remove_cgroup);
	/* The listeners (and so the servers' sockets) in the cgroup. */
	move_to(cg);
	for (int c = 0; c < C__N; c++)
		lfd[c] = listener(&port[c]);
	hs_lfd = listener(&hs_port);
	move_to(home);

	libbpf_set_print(NULL);
	skel = tlswatch_bpf__open();
	if (!skel)
		die("open the BPF object");
	for (int c = C_DONE; c <= C_WALKED; c++)
		skel->rodata->watched[port[c] >> 3] |= 1 << (port[c] & 7);
	skel->rodata->watched[hs_port >> 3] |= 1 << (hs_port & 7);
	if (tlswatch_bpf__load(skel))
		die("load the BPF programs (root?)");
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, po,
			    .expected_attach_type = i ? BPF_CGROUP_INET_EGRESS :
			    BPF_CGROUP_INET_INGRESS);

		empty_fd[i] = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "empty",
					    "GPL", empty, 2, &po);
		if (empty_fd[i] < 0)
			die("load the empty program");
	}
	tw_fd[0] = bpf_program__fd(skel->progs.handle_ingress);
	tw_fd[1] = bpf_program__fd(skel->progs.handle_egress);
	cg_fd = open(cg, O_RDONLY | O_DIRECTORY);
	if (cg_fd < 0)
		die(cg);
	for (int i = 0; i < 2; i++) {
		enum bpf_attach_type t = i ? BPF_CGROUP_INET_EGRESS :
					 BPF_CGROUP_INET_INGRESS;

		if (bpf_prog_attach(empty_fd[i], cg_fd, t, BPF_F_ALLOW_MULTI) ||
		    bpf_prog_attach(tw_fd[i], cg_fd, t, BPF_F_ALLOW_MULTI))
			die("attach");
	}
	{
		LIBBPF_OPTS(bpf_prog_load_opts, po,
			    .expected_attach_type = BPF_CGROUP_SOCK_OPS);

		empty_fd[2] = bpf_prog_load(BPF_PROG_TYPE_SOCK_OPS, "empty",
					    "GPL", empty, 2, &po);
		if (empty_fd[2] < 0)
			die("load the empty sockops program");
	}
	tw_fd[2] = bpf_program__fd(skel->progs.handle_sockops);
	if (bpf_prog_attach(empty_fd[2], cg_fd, BPF_CGROUP_SOCK_OPS,
			    BPF_F_ALLOW_MULTI) ||
	    bpf_prog_attach(tw_fd[2], cg_fd, BPF_CGROUP_SOCK_OPS,
			    BPF_F_ALLOW_MULTI))
		die("attach sockops");

	/* The clients, outside the cgroup; the servers' sockets are seeded
	 * by the sockops program as they are accepted. */
	for (int c = 0; c < C__N; c++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(port[c]),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		cfd[c] = socket(AF_INET, SOCK_STREAM, 0);
		if (cfd[c] < 0 ||
		    connect(cfd[c], (struct sockaddr *)&a, sizeof(a)))
			die("connect");
		sfd[c] = accept(lfd[c], NULL, NULL);
		if (sfd[c] < 0)
			die("accept");
		setsockopt(cfd[c], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(sfd[c], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* Marked done by userspace, as tlswatch does once it knows the
	 * outcome: the first segment copies the mark into the flow. */
	{
		struct sockaddr_in a;
		socklen_t n = sizeof(a);
		struct tw_key k;
		uint8_t v = 1;

		if (getsockname(cfd[C_DONE], (struct sockaddr *)&a, &n))
			die("getsockname");
		memset(&k, 0, sizeof(k));
		k.family = AF_INET;
		k.cport = a.sin_port;
		k.sport = htons(port[C_DONE]);
		memcpy(k.caddr, &a.sin_addr, 4);
		memcpy(k.saddr, &a.sin_addr, 4);
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.done), &k, &v,
					BPF_ANY))
			die("mark");
		skel->bss->marks_gen = 1;
	}
	/* The walked connection past its budget: its records' headers are
	 * walked from then on, as in a TLS connection that stays undecided
	 * (100-byte application-data records, one per message). */
	memset(buf, 0xa5, sizeof(buf));
	buf[0] = 23;
	buf[1] = 3;
	buf[2] = 3;
	buf[3] = 0;
	buf[4] = MSG - 5;
	for (unsigned i = 0; i < 2 * TW_BUDGET / MSG + 2; i++) {
		io(cfd[C_WALKED], buf, true);
		io(sfd[C_WALKED], buf, false);
		io(sfd[C_WALKED], buf, true);
		io(cfd[C_WALKED], buf, false);
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), drain, NULL,
			      NULL);
	if (!rb)
		die("ring buffer");
	ring_buffer__consume(rb);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		die("enable run-time statistics");

	/* Interleaved: each connection in every run. */
	for (unsigned r = 0; r < runs; r++) {
		for (int c = 0; c < C__N; c++) {
			struct prog_stats t0[2], e0[2], t1[2], e1[2];
			struct ran d;

			take(t0, e0, tw_fd, empty_fd, 2);
			for (unsigned i = 0; i < rounds; i++) {
				io(cfd[c], buf, true);
				io(sfd[c], buf, false);
				io(sfd[c], buf, true);
				io(cfd[c], buf, false);
				/* As a reader keeping up does. */
				if (i % 64 == 63)
					ring_buffer__consume(rb);
			}
			take(t1, e1, tw_fd, empty_fd, 2);
			d = ran(t0, e0, t1, e1, 2);
			if (!d.cnt || !d.empty_cnt) {
				fprintf(stderr, "sockcost: the programs did not run\n");
				return 1;
			}
			net[c][r] = d.ns / d.cnt - d.empty_ns / d.empty_cnt;
			per_round[c][r] = d.cnt / rounds;
		}
		/* Whole connections: all three programs, less the empty
		 * ones, which run as often on the same hooks. */
		for (int k = 0; k < N_REPLAYS; k++) {
			struct prog_stats t0[3], e0[3], t1[3], e1[3];
			struct ran d;
			uint64_t ev0;

			ring_buffer__consume(rb);
			ev0 = events_read;
			take(t0, e0, tw_fd, empty_fd, 3);
			for (unsigned i = 0; i < conns; i++) {
				replay(&replays[k], hs_lfd, hs_port);
				if (i % 64 == 63)
					ring_buffer__consume(rb);
			}
			take(t1, e1, tw_fd, empty_fd, 3);
			d = ran(t0, e0, t1, e1, 3);
			ring_buffer__consume(rb);
			if (getenv("PERPROG"))
				fprintf(stderr, "%s: ns per connection: ingress %.0f egress %.0f sockops %.0f\n",
					replays[k].name,
					((double)t1[0].ns - t0[0].ns - e1[0].ns + e0[0].ns) / conns,
					((double)t1[1].ns - t0[1].ns - e1[1].ns + e0[1].ns) / conns,
					((double)t1[2].ns - t0[2].ns - e1[2].ns + e0[2].ns) / conns);
			hs_net[k][r] = (d.ns - d.empty_ns) / conns;
			hs_runs[k][r] = d.cnt / conns;
			hs_events[k][r] = (double)(events_read - ev0) / conns;
		}
	}
	close(stats_fd);

	printf("BPF cost per packet on real loopback connections (run-time statistics, "
	       "minus an empty program on the same segments; median of %u runs of %u round trips)\n",
	       runs, rounds);
	printf("reproduce: make -C bench sockcost RUNS=%u ROUNDS=%u\n\n", runs,
	       rounds);
	printf("| connection | program runs per round trip | minus empty, ns/pkt | min-max | goal |\n");
	printf("|---|---:|---:|---:|---|\n");
	for (int c = 0; c < C__N; c++) {
		double s[64], p[64];

		memcpy(s, net[c], runs * sizeof(double));
		memcpy(p, per_round[c], runs * sizeof(double));
		qsort(s, runs, sizeof(double), cmp_d);
		qsort(p, runs, sizeof(double), cmp_d);
		printf("| %s | %.2f | %.1f | %.1f-%.1f | %s |\n", names[c],
		       p[runs / 2], s[runs / 2], s[0], s[runs - 1],
		       c == C_WALKED ? "-" :
		       s[runs / 2] < 50 ? "<50 ns: met" : "<50 ns: NOT met");
	}
	printf("\nBPF cost per connection, real handshakes' records replayed "
	       "(all three programs, minus empty ones on the same hooks; median of %u runs of %u connections)\n",
	       runs, conns);
	printf("reproduce: make -C bench sockcost RUNS=%u ROUNDS=%u CONNS=%u\n\n",
	       runs, rounds, conns);
	printf("| connection | program runs per connection | events per connection | minus empty, ns/conn | min-max |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (int k = 0; k < N_REPLAYS; k++) {
		qsort(hs_net[k], runs, sizeof(double), cmp_d);
		qsort(hs_runs[k], runs, sizeof(double), cmp_d);
		qsort(hs_events[k], runs, sizeof(double), cmp_d);
		printf("| %s | %.1f | %.1f | %.0f | %.0f-%.0f |\n", replays[k].name,
		       hs_runs[k][runs / 2], hs_events[k][runs / 2],
		       hs_net[k][runs / 2], hs_net[k][0], hs_net[k][runs - 1]);
	}
	printf("\nkernel memory per connection, the flow in the server socket: %u bytes "
	       "(its sk_omem_alloc, %u, less an unwatched one's, %u)\n",
	       optmem(sfd[C_DONE]) - optmem(sfd[C_UNWATCHED]),
	       optmem(sfd[C_DONE]), optmem(sfd[C_UNWATCHED]));
	for (int c = 0; c < C__N; c++) {
		close(cfd[c]);
		close(sfd[c]);
		close(lfd[c]);
	}
	ring_buffer__free(rb);
	tlswatch_bpf__destroy(skel);
	close(hs_lfd);
	close(empty_fd[0]);
	close(empty_fd[1]);
	close(empty_fd[2]);
	close(cg_fd);
	return 0;
}
