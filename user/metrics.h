/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus metrics: counted by the capture thread as outcomes come,
 * rendered in the text exposition format 0.0.4 for --metrics (served by
 * metrics_http) and --textfile. Every label set is bounded: ports,
 * owners and clients beyond their limits are counted under "other". */
#ifndef TLSWATCH_METRICS_H
#define TLSWATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose.h"
#include "recovery.h"
#include "session.h"

#define METRICS_MAX_SERIES 8192
#define METRICS_MAX_PORTS 256
#define METRICS_MAX_OWNERS 32
/* Top clients are counted over windows of this length; the gauges show
 * the last whole window, so their label set changes once a window. */
#define METRICS_TOP_WINDOW_US (60 * 1000000ULL)

struct metrics;

struct metrics *metrics_new(uint32_t top_clients, const char *version);
void metrics_free(struct metrics *m);

/* A connection's outcome; owner is the server's service, or NULL. */
void metrics_connection(struct metrics *m, const struct session *s,
			const struct diagnosis *d, const char *owner);
/* A failure settled, recovered or not. */
void metrics_settled(struct metrics *m, const struct pending_failure *f,
		     bool recovered);
/* A watched port: its counters exist from the start, at 0, so that
 * increase() sees their first count. */
void metrics_port(struct metrics *m, uint16_t port);
/* Totals kept elsewhere, set as they stand. */
void metrics_loss(struct metrics *m, const char *cause, uint64_t total);
void metrics_in_flight(struct metrics *m, uint64_t n);
void metrics_bpf(struct metrics *m, const char *program, uint64_t run_ns,
		 uint64_t runs);

/* The exposition at now_us (capture time): a malloc'ed text of *len
 * bytes, or NULL when out of memory. */
char *metrics_render(struct metrics *m, uint64_t now_us, size_t *len);

/* Write the exposition to path atomically (a temporary file renamed
 * over it), for node_exporter's textfile collector. 0 or -errno. */
int metrics_write_file(const char *path, const char *text, size_t len);

#endif
