/* SPDX-License-Identifier: BSD-3-Clause */
/* End-of-run summary: outcomes, failures by reason (with the alerts behind
 * them) and the client IPs that fail most, with their reason mix. */
#ifndef TLSWATCH_SUMMARY_H
#define TLSWATCH_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "session.h"

/* Clients tracked one by one; failures of any others are counted under
 * "other clients", so memory stays bounded under a flood of sources. */
#define SUMMARY_MAX_CLIENTS 65536
#define SUMMARY_TOP 10

struct summary;

struct summary *summary_new(void);
void summary_add(struct summary *sm, const struct session *s);
/* Losses to show beside the counts: name and value, e.g. "flows evicted". */
void summary_loss(struct summary *sm, const char *what, uint64_t n);
void summary_print(const struct summary *sm, FILE *out);
void summary_free(struct summary *sm);

#endif
