/* SPDX-License-Identifier: BSD-3-Clause */
/* Live capture: load the BPF programs, attach them, poll the ring buffer.
 * Everything is attached through bpf_link, so that a process that dies
 * leaves nothing behind in the kernel. */
#ifndef TLSWATCH_LOADER_H
#define TLSWATCH_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "segment.h"

struct loader_opts {
	const uint8_t *ports;	/* 65536-bit map of watched server ports */
	/* 65536-bit map of watched server ports whose clients' bytes start
	 * with a PROXY protocol v1 or v2 header (a load balancer's), which
	 * the kernel then skips; NULL for none. */
	const uint8_t *proxy_ports;
	const char *cgroup;	/* --cgroup, or NULL for the cgroup v2 root */
	uint32_t max_flows;	/* kernel flow table size */
	bool verbose;		/* libbpf's own messages */
	/* Each ring buffer event; data is valid during the call only. */
	void (*on_event)(void *ctx, const void *data, size_t size);
	void *ctx;
};

struct loader;

/* Open, set the read-only tunables, load, attach. NULL with a one-line
 * reason in err on failure. */
struct loader *loader_open(const struct loader_opts *o, char *err,
			   size_t errlen);
/* The cgroup directory the programs are attached to. */
const char *loader_cgroup(const struct loader *l);
/* The cgroup tree to name owners from, or NULL when tlswatch's private
 * mount of it is already gone. */
const char *loader_cgroup_tree(const struct loader *l);
/* Would the rest of the run fail without CAP_BPF? (struct loader *ctx:
 * a privs_opts.needs_bpf) */
bool loader_needs_cap(void *ctx);
/* Wait up to timeout_ms for events and hand them on: how many, or -errno
 * (-EINTR when a signal came). */
int loader_poll(struct loader *l, int timeout_ms);
/* Hand on the events made before stop_ns (CLOCK_MONOTONIC) that are
 * still in the ring buffer, for at most DRAIN_MAX_NS more. */
void loader_drain(struct loader *l, uint64_t stop_ns);
/* The connection's outcome is known: the kernel stops capturing it. */
void loader_decided(struct loader *l, const struct endpoint *client,
		    const struct endpoint *server);
/* Whether the events still to be read may be missing some (the ring
 * buffer was full): true from when new drops are seen until a
 * loader_poll() has emptied the ring. */
bool loader_lossy(struct loader *l);
/* Kernel-side counters, summed over CPUs, indexed by enum tw_stat. */
void loader_stats(const struct loader *l, uint64_t *v, int n);
/* Run time and runs of each program, where the kernel counts them
 * (sysctl kernel.bpf_stats_enabled=1); false for no such program. */
bool loader_prog_stats(const struct loader *l, int i, const char **name,
		       uint64_t *run_ns, uint64_t *runs);
void loader_close(struct loader *l);

/* --check: what works here and what is missing; 0 when live capture can
 * run, 1 otherwise. */
int loader_check(const struct loader_opts *o, FILE *out);

#endif
