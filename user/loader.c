// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/tlswatch.h"
#include "bpf_events.h"
#include "cgroup.h"
#include "loader.h"
#include "tlswatch.skel.h"

struct loader {
	struct tlswatch_bpf *skel;
	struct bpf_link *links[3];
	struct ring_buffer *rb;
	int cgroup_fd;
	char cgroup[4096];
	bool private_mount;
	const struct loader_opts *o;
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

static int on_ring(void *ctx, void *data, size_t size)
{
	const struct loader *l = ctx;
	const struct tw_state_event *ev = data;

	l->o->on_event(l->o->ctx, data, size);
	/* The kernel forgets a done mark when the socket closes, but one
	 * written after that (the outcome was known before this close was
	 * read) would stay: forget it here too. */
	if (size >= sizeof(*ev) && ev->type == TW_EV_STATE &&
	    ev->newstate == 7 /* TCP_CLOSE */)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.done), &ev->key);
	return 0;
}

/* Open and load, without attaching: shared with --check. */
static struct tlswatch_bpf *load(const struct loader_opts *o, int *errp)
{
	struct tlswatch_bpf *skel;
	int rc;

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
	struct bpf_program *progs[2];
	int e = 0;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->o = o;
	l->cgroup_fd = -1;
	if (find_cgroup(l, err, errlen))
		goto fail;
	l->skel = load(o, &e);
	if (!l->skel) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s",
			 strerror(e), hint(e));
		goto fail;
	}
	progs[0] = l->skel->progs.handle_ingress;
	progs[1] = l->skel->progs.handle_egress;
	for (int i = 0; i < 2; i++) {
		l->links[i] = bpf_program__attach_cgroup(progs[i], l->cgroup_fd);
		if (!l->links[i]) {
			e = errno;
			snprintf(err, errlen, "cannot attach to cgroup %s: %s%s",
				 l->cgroup, strerror(e), hint(e));
			goto fail;
		}
	}
	l->links[2] = bpf_program__attach(l->skel->progs.handle_state_change);
	if (!l->links[2]) {
		e = errno;
		snprintf(err, errlen, "cannot attach to raw tracepoint inet_sock_set_state: %s%s",
			 strerror(e), hint(e));
		goto fail;
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_ring, l,
				 NULL);
	if (!l->rb) {
		snprintf(err, errlen, "cannot open the ring buffer: %s",
			 strerror(errno));
		goto fail;
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

int loader_poll(struct loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	/* The BPF side wakes us only for a backlog: below it, events are
	 * read when the wait ends. 0 still means the buffer was empty. */
	if (n == 0)
		n = ring_buffer__consume(l->rb);
	return n;
}

void loader_decided(struct loader *l, const struct endpoint *client,
		    const struct endpoint *server)
{
	struct tw_key k;
	uint8_t one = 1;

	bpf_key_from(&k, client, server);
	/* Into the done map, which only userspace writes: the flow's own
	 * value belongs to the programs (see bpf/tlswatch.bpf.c). */
	bpf_map_update_elem(bpf_map__fd(l->skel->maps.done), &k, &one, BPF_ANY);
}

void loader_stats(const struct loader *l, uint64_t *v, int n)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.stats);
	uint64_t *per;

	memset(v, 0, n * sizeof(*v));
	if (ncpu <= 0)
		return;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return;
	for (int i = 0; i < n && i < TW_STAT__COUNT; i++) {
		uint32_t key = i;

		if (bpf_map_lookup_elem(fd, &key, per))
			continue;
		for (int c = 0; c < ncpu; c++)
			v[i] += per[c];
	}
	free(per);
}

void loader_close(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(l->links[i]);
	tlswatch_bpf__destroy(l->skel);
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
		fprintf(out, "BTF:         no: the tracepoint program needs it\n");
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
		fprintf(out, "programs:    load (cgroup_skb ingress and egress, raw tracepoint inet_sock_set_state)\n");
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
		p = l->skel->progs.handle_state_change;
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
