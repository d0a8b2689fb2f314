/* SPDX-License-Identifier: BSD-3-Clause */
/* The run's summary: outcomes, failures by reason (with the alerts behind
 * them) and by diagnosis, the client IPs that fail most, the fingerprints
 * that fail most, and a verdict in plain words: what share of the
 * failures is harmless, who is really locked out, and what server change
 * would let them in. */
#ifndef TLSWATCH_SUMMARY_H
#define TLSWATCH_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "diagnose.h"
#include "json.h"
#include "recovery.h"
#include "session.h"

/* Clients tracked one by one; failures of any others are counted under
 * "other clients", so memory stays bounded under a flood of sources. */
#define SUMMARY_MAX_CLIENTS 16384
#define SUMMARY_MAX_FINGERPRINTS 4096
#define SUMMARY_TOP 10

struct summary;

struct summary *summary_new(const struct profiles *profiles,
			    uint64_t recovery_window_us);
/* A connection's outcome; d is its diagnosis, ja4 its client's
 * fingerprint or NULL. */
void summary_add(struct summary *sm, const struct session *s,
		 const struct diagnosis *d, const char *ja4);
/* A failure settled: recovered or not. */
void summary_settled(struct summary *sm, const struct pending_failure *f,
		     bool recovered);
/* Losses to show beside the counts: name and value, e.g. "flows evicted".
 * Called again with the same name, the value is replaced. */
void summary_loss(struct summary *sm, const char *what, uint64_t n);
void summary_print(const struct summary *sm, FILE *out);
/* The "summary" JSON event, at time ts; final for the end of the run. */
void summary_json(const struct summary *sm, struct json *j, uint64_t ts,
		  bool final);
void summary_free(struct summary *sm);

#endif
