// SPDX-License-Identifier: BSD-3-Clause
/* floor -p PORT: loads floor.bpf.c's programs on the cgroup v2 root and
 * reads their ring buffer as tlswatch's loader does, counting what comes
 * and throwing it away. bench/overhead.sh's mode floor: what any watcher
 * built on these hooks pays at least. floor -s -p PORT (mode
 * floor_state) also follows each connection as tlswatch does, with state
 * in its socket, its open and close, and the server's second segment
 * ending its capture: what a watcher that keeps connections pays at
 * least. floor -e instead attaches programs that only return, to the
 * three hooks tlswatch uses (mode empty): the cost of the hooks alone.
 * On SIGINT or SIGTERM it exits 0, after one line of counts to stderr
 * without -e. Root. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "floor.skel.h"

/* tlswatch's loader's read interval under load (BATCH_NS in
 * user/loader.c); the programs never wake the reader, so this is how
 * often it reads, always. */
#define POLL_MS 25

struct counts {
	uint64_t hellos, answers, bytes;
	size_t skip;		/* floor -s: the time before the bytes */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Only counts: the kind from the bytes the programs matched on (a
 * ClientHello's record holds handshake type 1 at byte 5; the server's
 * 8-byte events are a ServerHello or an alert; with -s, the rest are
 * other segments, opens and closes). */
static int on_event(void *ctx, void *data, size_t size)
{
	struct counts *c = ctx;
	const uint8_t *b = (const uint8_t *)data + c->skip;

	if (size >= c->skip + 6 && b[0] == 0x16 && b[5] == 1)
		c->hellos++;
	else
		c->answers++;
	c->bytes += size;
	return 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Ring-full drops, summed over the CPUs. */
static int sum_drops(struct floor_bpf *skel, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	uint32_t zero = 0;

	*sum = 0;
	if (ncpu <= 0)
		return -1;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -1;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.drops), &zero, v)) {
		free(v);
		return -1;
	}
	for (int i = 0; i < ncpu; i++)
		*sum += v[i];
	free(v);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: floor [-s] -p PORT | floor -e\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_link *links[3] = {};
	struct bpf_program *progs[3][3];
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel = NULL;
	struct counts c = {};
	char cg[4096], *end;
	uint64_t drops;
	bool empty = false, state = false;
	int mode;
	long port = 0;
	int opt, cg_fd = -1, rc = 1, err;

	while ((opt = getopt(argc, argv, "ehp:s")) != -1) {
		switch (opt) {
		case 'e':
			empty = true;
			break;
		case 's':
			state = true;
			break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || port < 1 ||
			    port > 65535) {
				fprintf(stderr, "floor: bad port: %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!port == !empty || (state && empty) || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* No SA_RESTART: the signal ends the wait at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	libbpf_set_print(print_libbpf);
	if (!cgroup2_mount(cg, sizeof(cg))) {
		fprintf(stderr, "floor: no cgroup v2 in /proc/self/mounts\n");
		return 1;
	}
	cg_fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		fprintf(stderr, "floor: cannot open %s: %s\n", cg,
			strerror(errno));
		return 1;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF object: %s\n",
			strerror(errno));
		goto out;
	}
	skel->rodata->port = port;
	/* Each mode's programs (ingress, egress, socket operations): only
	 * those load. */
	progs[0][0] = skel->progs.floor_ingress;
	progs[0][1] = skel->progs.floor_egress;
	progs[0][2] = NULL;
	progs[1][0] = skel->progs.state_ingress;
	progs[1][1] = skel->progs.state_egress;
	progs[1][2] = skel->progs.state_sockops;
	progs[2][0] = skel->progs.empty_ingress;
	progs[2][1] = skel->progs.empty_egress;
	progs[2][2] = skel->progs.empty_sockops;
	mode = empty ? 2 : state ? 1 : 0;
	c.skip = state ? sizeof(uint64_t) : 0;
	for (int m = 0; m < 3; m++)
		for (int i = 0; i < 3; i++)
			if (progs[m][i])
				bpf_program__set_autoload(progs[m][i], m == mode);
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: cannot load the BPF programs: %s\n",
			strerror(-err));
		goto out;
	}
	for (int i = 0; i < 3 && progs[mode][i]; i++) {
		links[i] = bpf_program__attach_cgroup(progs[mode][i], cg_fd);
		if (!links[i]) {
			fprintf(stderr, "floor: cannot attach to cgroup %s: %s\n",
				cg, strerror(errno));
			goto out;
		}
	}
	if (empty) {
		fprintf(stderr, "floor: empty programs attached\n");
		/* A signal ends the sleep; one just before it, the second. */
		while (!stop)
			sleep(1);
		rc = 0;
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &c,
			      NULL);
	if (!rb) {
		fprintf(stderr, "floor: cannot read the ring buffer: %s\n",
			strerror(errno));
		goto out;
	}
	fprintf(stderr, "floor: watching TCP port %ld%s\n", port,
		state ? ", following connections" : "");

	while (!stop) {
		int n = ring_buffer__poll(rb, POLL_MS);

		/* Nothing wakes the wait: read what came during it. */
		if (n == 0)
			n = ring_buffer__consume(rb);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "floor: reading the ring buffer: %s\n",
				strerror(-n));
			goto out;
		}
	}
	/* What came since the last read. */
	ring_buffer__consume(rb);
	if (sum_drops(skel, &drops)) {
		fprintf(stderr, "floor: cannot read the drop count: %s\n",
			strerror(errno));
		goto out;
	}
	fprintf(stderr,
		"floor: events %llu (clienthello %llu, others %llu), bytes %llu, ring-full drops %llu\n",
		(unsigned long long)(c.hellos + c.answers),
		(unsigned long long)c.hellos, (unsigned long long)c.answers,
		(unsigned long long)c.bytes, (unsigned long long)drops);
	rc = 0;
out:
	ring_buffer__free(rb);
	bpf_link__destroy(links[2]);
	bpf_link__destroy(links[1]);
	bpf_link__destroy(links[0]);
	floor_bpf__destroy(skel);
	if (cg_fd >= 0)
		close(cg_fd);
	return rc;
}
