// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"
#include "cgroup.h"
#include "hash.h"
#include "loader.h"
#include "tlswatch.skel.h"

/* Done marks tlswatch wrote or is about to: written at the end of the
 * batch of events after the one that decided them, in one syscall, so
 * that a connection whose close follows within a batch needs none; and
 * remembered, so that a close deletes only marks tlswatch wrote. One
 * slot per hash: a mark pushed out of its slot is deleted from the
 * kernel then, so none outlives its connection unseen. */
#define MARKS 65536		/* power of two; the done map's size */

enum { MARK_FREE, MARK_PENDING, MARK_WRITTEN };

struct mark {
	struct tw_key key;
	uint8_t state;
};

/* Under load the ring buffer is read every BATCH_NS rather than on a
 * wakeup per event: one wakeup per batch (a wakeup costs tens of
 * microseconds in a virtual machine), and events still reported within
 * about 25 ms. A read that took a sixteenth of the ring or more makes
 * the next come ten times sooner: a burst must not fill it. The programs
 * stop on their own once a handshake is over (TW_SEG_DECIDED), so
 * userspace's marks are rarely in a hurry. */
#define BATCH_NS 25000000
/* Events handed on per read at most: libbpf reads on for as long as
 * events come, and during a storm the main loop (summaries, metrics,
 * output) must still run. */
#define BATCH_MAX 4096
/* What on_ring returns to stop a read there; no error of libbpf's. */
#define BATCH_STOP (-ECANCELED)
/* The ring buffer, the 8 MiB the BPF object declares. A failed
 * connection takes about 1 KiB of events (hello, alert, close, states),
 * so it holds some 8,000: 400 ms of 20,000 failures a second, where the
 * reader reads every 25 ms, and every 2.5 ms while it fills fast. Larger
 * costs every event more: the programs write where the reader has long
 * left, cold in the caches, and bench/overhead.sh measured 11 ms more
 * CPU per 1000 handshakes with 32 MiB than with 4; a smaller one lost
 * events in tests/live-hostile.sh's flood (4 MiB: 77,926; 8 MiB: none).
 * Kernel memory, allocated once. */
#define RINGBUF_BYTES (8u << 20)
/* How long reading what is left at the stop may take at most: a full
 * ring takes a fraction of a second, unless its events keep coming. */
#define DRAIN_MAX_NS (10ull * 1000000000)

struct loader {
	struct tlswatch_bpf *skel;
	struct bpf_link *links[3];
	struct ring_buffer *rb;
	int cgroup_fd;
	char cgroup[4096];
	bool private_mount;
	bool unmounted;		/* the private mount is gone: no tree to walk */
	bool busy;		/* the last read found events */
	bool backlog;		/* and stopped at BATCH_MAX: more are there */
	uint32_t nread;		/* events of the current read */
	uint64_t nbytes;	/* and their bytes */
	bool hurry;		/* the last read took a large part of the ring:
				 * read again sooner */
	uint64_t drain_until;	/* draining: events up to this time */
	bool drained;		/* draining: an event after it came */
	const struct loader_opts *o;
	struct mark *marks;	/* MARKS slots */
	uint32_t *pending;	/* slots to write at the batch's end */
	struct tw_key *batch;	/* their keys, for one syscall */
	uint8_t *ones;
	uint32_t npending;
	uint32_t nolder;	/* of them, those of the batch before */
	uint32_t seed;
	bool emptied;		/* the last loader_poll() emptied the ring */
	bool lossy;		/* see loader_lossy() */
	uint64_t drops;		/* ring buffer drops already seen */
	uint64_t *percpu;	/* ncpu values of one per-CPU counter */
	int ncpu;
};

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *hint(int err)
{
	return err == EPERM || err == EACCES ?
	       " (run as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)" : "";
}

/* Where to attach: --cgroup, or the cgroup v2 root of the host. */
static int find_cgroup(struct loader *l, char *err, size_t errlen)
{
	struct statfs sf;

	if (l->o->cgroup) {
		snprintf(l->cgroup, sizeof(l->cgroup), "%s", l->o->cgroup);
	} else if (cgroup_namespaced()) {
		snprintf(err, errlen, "this process is in a cgroup namespace (a container?): the cgroup root it sees is not the host's; give --cgroup PATH");
		return -1;
	} else if (!cgroup2_mount(l->cgroup, sizeof(l->cgroup))) {
		int rc = cgroup2_mount_private(l->cgroup, sizeof(l->cgroup));

		if (rc) {
			snprintf(err, errlen, "no cgroup v2 mounted, and mounting one failed: %s",
				 strerror(-rc));
			return -1;
		}
		l->private_mount = true;
	}
	if (statfs(l->cgroup, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen, "%s is not a cgroup v2 directory", l->cgroup);
		return -1;
	}
	l->cgroup_fd = open(l->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", l->cgroup,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static struct mark *mark_slot(const struct loader *l, const struct tw_key *k)
{
	return &l->marks[seeded_hash(l->seed, k, sizeof(*k)) & (MARKS - 1)];
}

/* Write the marks of the batch before (all, when all is true); those of
 * this batch wait for the next. */
static void marks_flush(struct loader *l, bool all)
{
	int fd = bpf_map__fd(l->skel->maps.done);
	uint32_t n = 0, count, upto = all ? l->npending : l->nolder;

	for (uint32_t i = 0; i < upto; i++) {
		struct mark *m = &l->marks[l->pending[i]];

		if (m->state != MARK_PENDING)
			continue;	/* closed meanwhile, or listed twice */
		m->state = MARK_WRITTEN;
		l->batch[n++] = m->key;
	}
	memmove(l->pending, l->pending + upto,
		(l->npending - upto) * sizeof(*l->pending));
	l->npending -= upto;
	l->nolder = l->npending;
	/* Into the done map, which only userspace writes: the flow's own
	 * value belongs to the programs (see bpf/tlswatch.bpf.c). */
	count = n;
	if (n && bpf_map_update_batch(fd, l->batch, l->ones, &count, NULL)) {
		/* A kernel without batch updates for this map: one by one,
		 * from where the batch stopped. */
		for (uint32_t i = count < n ? count : 0; i < n; i++)
			bpf_map_update_elem(fd, &l->batch[i], l->ones, BPF_ANY);
	}
	/* After the marks, so that a flow that sees the new value finds
	 * them; never back to 0, which tells the programs the map is
	 * empty (see marks_gen in bpf/tlswatch.bpf.c). */
	if (n) {
		uint32_t gen = l->skel->bss->marks_gen + 1;

		__atomic_store_n(&l->skel->bss->marks_gen, gen ? gen : 1,
				 __ATOMIC_RELEASE);
	}
}

/* Marks whose connection closed in the same batch are never written. */
static void mark_closed(struct loader *l, const struct tw_key *k)
{
	struct mark *m = mark_slot(l, k);

	if (m->state == MARK_FREE || memcmp(&m->key, k, sizeof(*k)))
		return;
	/* The kernel forgets a done mark when the socket closes, but one
	 * written after that (the outcome was known before this close was
	 * read) would stay: forget it here too. */
	if (m->state == MARK_WRITTEN)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.done), k);
	m->state = MARK_FREE;
}

static int on_ring(void *ctx, void *data, size_t size)
{
	struct loader *l = ctx;
	const struct tw_state_event *ev = data;

	/* Both event types have their time at the same place. */
	if (l->drain_until && size >= sizeof(struct tw_state_event) &&
	    ev->ts_ns > l->drain_until) {
		l->drained = true;
		return BATCH_STOP;
	}
	l->o->on_event(l->o->ctx, data, size);
	if (size >= sizeof(*ev) && ev->type == TW_EV_STATE &&
	    ev->newstate == 7 /* TCP_CLOSE */)
		mark_closed(l, &ev->key);
	l->nbytes += size;
	return ++l->nread >= BATCH_MAX ? BATCH_STOP : 0;
}

/* Open and load, without attaching: shared with --check. */
static struct tlswatch_bpf *load(const struct loader_opts *o, int *errp)
{
	struct tlswatch_bpf *skel;
	int rc, ncpu;

	verbose = o->verbose;
	libbpf_set_print(print_libbpf);
	skel = tlswatch_bpf__open();
	if (!skel) {
		*errp = errno;
		return NULL;
	}
	memcpy((void *)skel->rodata->watched, o->ports,
	       sizeof(skel->rodata->watched));
	if (o->proxy_ports)
		memcpy((void *)skel->rodata->proxy_ports, o->proxy_ports,
		       sizeof(skel->rodata->proxy_ports));
	bpf_map__set_max_entries(skel->maps.events, RINGBUF_BYTES);
	/* Each CPU wakes the reader after this many bytes of its own: an
	 * eighth of the ring over all of them, and 256 KiB at most. */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0 && RINGBUF_BYTES / 8 / ncpu < skel->rodata->wakeup_bytes)
		skel->rodata->wakeup_bytes = RINGBUF_BYTES / 8 / ncpu;
	if (o->max_flows) {
		bpf_map__set_max_entries(skel->maps.flows, o->max_flows);
		bpf_map__set_max_entries(skel->maps.done, o->max_flows);
	}
	rc = tlswatch_bpf__load(skel);
	if (rc) {
		*errp = -rc;
		tlswatch_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct loader *loader_open(const struct loader_opts *o, char *err,
			   size_t errlen)
{
	struct loader *l = calloc(1, sizeof(*l));
	struct bpf_program *progs[3];
	int e = 0;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = o;
	l->cgroup_fd = -1;
	l->marks = calloc(MARKS, sizeof(*l->marks));
	l->pending = calloc(MARKS, sizeof(*l->pending));
	l->batch = calloc(MARKS, sizeof(*l->batch));
	l->ones = malloc(MARKS);
	if (!l->marks || !l->pending || !l->batch || !l->ones) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(l->ones, 1, MARKS);
	if (getrandom(&l->seed, sizeof(l->seed), GRND_NONBLOCK) !=
	    sizeof(l->seed))
		l->seed = 0x9e3779b9;
	if (find_cgroup(l, err, errlen))
		goto fail;
	l->skel = load(o, &e);
	if (!l->skel) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s",
			 strerror(e), hint(e));
		goto fail;
	}
	l->ncpu = libbpf_num_possible_cpus();
	l->percpu = l->ncpu > 0 ? calloc(l->ncpu, sizeof(*l->percpu)) : NULL;
	if (!l->percpu) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	progs[0] = l->skel->progs.handle_ingress;
	progs[1] = l->skel->progs.handle_egress;
	progs[2] = l->skel->progs.handle_sockops;
	for (int i = 0; i < 3; i++) {
		l->links[i] = bpf_program__attach_cgroup(progs[i], l->cgroup_fd);
		if (!l->links[i]) {
			e = errno;
			snprintf(err, errlen, "cannot attach to cgroup %s: %s%s",
				 l->cgroup, strerror(e), hint(e));
			goto fail;
		}
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_ring, l,
				 NULL);
	if (!l->rb) {
		snprintf(err, errlen, "cannot open the ring buffer: %s",
			 strerror(errno));
		goto fail;
	}
	/* Attached links hold the cgroup; a private mount can go now, while
	 * unmounting is still allowed (owners are then not named). */
	if (l->private_mount) {
		cgroup2_unmount_private(l->cgroup);
		l->private_mount = false;
		l->unmounted = true;
	}
	return l;
fail:
	loader_close(l);
	return NULL;
}

const char *loader_cgroup(const struct loader *l)
{
	return l->cgroup;
}

const char *loader_cgroup_tree(const struct loader *l)
{
	return l->unmounted ? NULL : l->cgroup;
}

bool loader_needs_cap(void *ctx)
{
	struct loader *l = ctx;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct tw_key k = {};
	uint32_t n = 1;
	uint8_t v;

	/* What the rest of the run does: write and read map elements (a key
	 * of family 0, which no connection has), one by one and in batches,
	 * and read the programs' run-time statistics. */
	v = 0;
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.done), &k, &v,
				BPF_ANY))
		return errno == EPERM;
	if (bpf_map_update_batch(bpf_map__fd(l->skel->maps.done), &k, &v, &n,
				 NULL) && errno == EPERM)
		return true;
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.done), &k, &v) ||
	    bpf_map_delete_elem(bpf_map__fd(l->skel->maps.done), &k))
		return errno == EPERM;
	return bpf_obj_get_info_by_fd(bpf_program__fd(l->skel->progs.handle_ingress),
				      &info, &len) && errno == EPERM;
}

int loader_poll(struct loader *l, int timeout_ms)
{
	int n;

	l->nread = 0;
	l->nbytes = 0;
	if (l->backlog) {
		n = ring_buffer__consume(l->rb);
	} else if (l->busy) {
		struct timespec ts = { 0, l->hurry ? BATCH_NS / 10 : BATCH_NS };

		nanosleep(&ts, NULL);	/* a signal ends it early: fine */
		n = ring_buffer__consume(l->rb);
	} else {
		n = ring_buffer__poll(l->rb, timeout_ms);
		/* The BPF side wakes us only for a backlog: below it, events
		 * are read when the wait ends. 0 still means it was empty. */
		if (n == 0)
			n = ring_buffer__consume(l->rb);
	}
	l->backlog = n == BATCH_STOP;
	l->emptied = !l->backlog;
	if (l->backlog)
		n = l->nread;
	l->busy = n > 0;
	l->hurry = l->nbytes >= RINGBUF_BYTES / 16;
	marks_flush(l, false);
	return n;
}

void loader_drain(struct loader *l, uint64_t stop_ns)
{
	struct timespec ts;
	uint64_t end = stop_ns + DRAIN_MAX_NS;
	int n;

	l->drain_until = stop_ns;
	l->drained = false;
	do {
		l->nread = 0;
		n = ring_buffer__consume(l->rb);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (n == BATCH_STOP && !l->drained &&
		 ts.tv_sec * 1000000000ull + ts.tv_nsec < end);
	l->drain_until = 0;
}

/* One counter summed over the CPUs, in the buffer made at open: the
 * metrics and interval summaries ask for them as they go. */
static uint64_t stat_sum(const struct loader *l, uint32_t which)
{
	uint64_t sum = 0;

	if (!l->percpu ||
	    bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.stats), &which,
				l->percpu))
		return 0;
	for (int c = 0; c < l->ncpu; c++)
		sum += l->percpu[c];
	return sum;
}

bool loader_lossy(struct loader *l)
{
	/* From the mapped .bss: no system call on every round. */
	uint64_t drops = __atomic_load_n(&l->skel->bss->ringbuf_drops,
					 __ATOMIC_RELAXED);

	if (drops > l->drops)
		l->lossy = true;
	else if (l->emptied)
		l->lossy = false;
	l->drops = drops;
	return l->lossy;
}

void loader_decided(struct loader *l, const struct endpoint *client,
		    const struct endpoint *server)
{
	struct tw_key k;
	struct mark *m;
	uint32_t i;

	bpf_key_from(&k, client, server);
	m = mark_slot(l, &k);
	if (m->state != MARK_FREE && !memcmp(&m->key, &k, sizeof(k)))
		return;		/* marked already */
	/* Another connection's mark, pushed out: the kernel forgets it
	 * too (its connection, if still open, is simply followed on). A
	 * pending one is just not written. */
	if (m->state == MARK_WRITTEN)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.done), &m->key);
	if (l->npending == MARKS)
		marks_flush(l, true);
	i = m - l->marks;
	m->key = k;
	m->state = MARK_PENDING;
	l->pending[l->npending++] = i;
}

void loader_stats(const struct loader *l, uint64_t *v, int n)
{
	memset(v, 0, n * sizeof(*v));
	for (int i = 0; i < n && i < TW_STAT__COUNT; i++)
		v[i] = i == TW_STAT_RINGBUF_FULL ?
		       __atomic_load_n(&l->skel->bss->ringbuf_drops,
				       __ATOMIC_RELAXED) :
		       stat_sum(l, i);
}

void loader_close(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	free(l->marks);
	free(l->pending);
	free(l->batch);
	free(l->ones);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l->links[i]);
	tlswatch_bpf__destroy(l->skel);
	free(l->percpu);
	if (l->cgroup_fd >= 0)
		close(l->cgroup_fd);
	if (l->private_mount)
		cgroup2_unmount_private(l->cgroup);
	free(l);
}

/* Effective capabilities, from /proc/self/status. */
static uint64_t cap_eff(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

int loader_check(const struct loader_opts *o, FILE *out)
{
	const char *missing = NULL;
	struct tlswatch_bpf *skel;
	struct utsname u;
	char cg[4096];
	uint64_t caps = cap_eff();
	bool caps_ok;
	int e = 0;

	uname(&u);
	fprintf(out, "kernel:      %s %s\n", u.sysname, u.release);
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0) {
		fprintf(out, "BTF:         yes (/sys/kernel/btf/vmlinux)\n");
	} else {
		fprintf(out, "BTF:         no: the socket-operations program needs it\n");
		missing = "kernel BTF";
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1) {
		fprintf(out, "ring buffer: yes\n");
	} else {
		fprintf(out, "ring buffer: no (needs Linux 5.8 or later, and privileges)\n");
		missing = missing ? missing : "BPF ring buffer";
	}
	if (o->cgroup)
		fprintf(out, "cgroup v2:   %s (--cgroup)\n", o->cgroup);
	else if (cgroup_namespaced())
		fprintf(out, "cgroup v2:   in a cgroup namespace: give --cgroup PATH\n");
	else if (cgroup2_mount(cg, sizeof(cg)))
		fprintf(out, "cgroup v2:   %s\n", cg);
	else
		fprintf(out, "cgroup v2:   not mounted; tlswatch mounts one privately\n");
	/* CAP_SYS_ADMIN (21) covers all; else CAP_BPF (39), CAP_PERFMON (38)
	 * and CAP_NET_ADMIN (12) together. */
	caps_ok = (caps >> 21 & 1) ||
		  ((caps >> 39 & 1) && (caps >> 38 & 1) && (caps >> 12 & 1));
	fprintf(out, "privileges:  %s\n", caps_ok ? "yes" :
		"no: run as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN");
	if (!caps_ok)
		missing = missing ? missing : "privileges";
	skel = load(o, &e);
	if (skel) {
		fprintf(out, "programs:    load (cgroup_skb ingress and egress, socket operations)\n");
		tlswatch_bpf__destroy(skel);
	} else {
		fprintf(out, "programs:    do not load: %s\n", strerror(e));
		missing = missing ? missing : "BPF programs";
	}
	if (missing) {
		fprintf(out, "tlswatch cannot capture here: %s missing\n", missing);
		return 1;
	}
	fprintf(out, "tlswatch can capture here\n");
	return 0;
}

bool loader_prog_stats(const struct loader *l, int i, const char **name,
		       uint64_t *run_ns, uint64_t *runs)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bpf_program *p;

	switch (i) {
	case 0:
		p = l->skel->progs.handle_ingress;
		break;
	case 1:
		p = l->skel->progs.handle_egress;
		break;
	case 2:
		p = l->skel->progs.handle_sockops;
		break;
	default:
		return false;
	}
	*name = bpf_program__name(p);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return false;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return true;
}
