/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring-buffer events of the BPF programs, turned into what the flow table
 * takes from any source: segments, and the lifecycle live capture adds. */
#ifndef TLSWATCH_BPF_EVENTS_H
#define TLSWATCH_BPF_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "flows.h"

struct bpf_events_stats {
	uint64_t events;
	uint64_t malformed;	/* events that did not parse: a bug */
};

/* One event; mono_offset_ns is CLOCK_REALTIME minus CLOCK_MONOTONIC. */
void bpf_events_handle(struct flows *f, const void *data, size_t size,
		       int64_t mono_offset_ns, struct bpf_events_stats *st);

/* Endpoints of a kernel flow key, and back. */
struct tw_key;
void bpf_key_endpoints(const struct tw_key *k, struct endpoint *client,
		       struct endpoint *server);
void bpf_key_from(struct tw_key *k, const struct endpoint *client,
		  const struct endpoint *server);

#endif
