/* SPDX-License-Identifier: BSD-3-Clause */
/* Recovery: a failed handshake followed, within the recovery window, by
 * an established one from the same client IP and SNI. Failures wait in a
 * bounded ring in time order; a hash on (IP, SNI) finds them. */
#ifndef TLSWATCH_RECOVERY_H
#define TLSWATCH_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "diagnose.h"
#include "session.h"

/* Failures remembered at once: the table starts at RECOVERY_START and
 * doubles as a failure storm needs, up to RECOVERY_MAX (128 bytes each,
 * and an allocation for an SNI over 64 bytes: 2 MiB at the start, 8 MiB
 * at most; the default 30 s window of 2,200 failures a second, or 5 s of
 * 13,000). Past it the oldest is settled early as unrecovered, and
 * counted. */
#define RECOVERY_START 16384
#define RECOVERY_MAX 65536

struct pending_failure {
	struct endpoint client;	/* port as in the failed connection */
	uint16_t server_port;
	uint64_t failed_ts;
	enum reason reason;
	enum diag_code code;
	enum harm harmless;	/* as the diagnosis said at the failure */
	bool has_sni;
	uint8_t sni_len;
	uint8_t sni[TLS_MAX_SNI];
};

/* A failure recovered (established at ts), or settled as not recovered
 * (its window passed, the table was full, or the run ended). */
typedef void (*recovery_fn)(void *ctx, const struct pending_failure *f,
			    bool recovered, uint64_t ts);

struct recovery;

struct recovery *recovery_new(uint64_t window_us, recovery_fn fn, void *ctx);
void recovery_free(struct recovery *r);
void recovery_failed(struct recovery *r, const struct session *s,
		     const struct diagnosis *d);
/* An established handshake: settles the failures it recovers. */
void recovery_established(struct recovery *r, const struct session *s);
/* Settle as not recovered what is older than the window at now. */
void recovery_expire(struct recovery *r, uint64_t now);
/* The run is over: settle everything left. */
void recovery_finish(struct recovery *r, uint64_t now);
/* Failures settled early because the table was full. */
uint64_t recovery_overflow(const struct recovery *r);

#endif
