/* SPDX-License-Identifier: BSD-3-Clause */
/* One connection's outcome, as a JSON event or a line for people. */
#ifndef TLSWATCH_REPORT_H
#define TLSWATCH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "diagnose.h"
#include "json.h"
#include "session.h"

/* "203.0.113.7" or "2001:db8::1"; buf >= 46 bytes. */
const char *endpoint_ip(const struct endpoint *e, char *buf, size_t len);
/* RFC 3339 UTC with microseconds; buf >= 32 bytes. */
const char *format_time(uint64_t ts_us, char *buf, size_t len);

/* Bytes from the wire made safe for a terminal: anything outside
 * printable ASCII (space included) becomes '?'; cut to fit len. */
const char *printable(const uint8_t *p, size_t n, char *buf, size_t len);

/* Is this outcome printed without --all? */
bool report_by_default(const struct session *s);

/* What the caller worked out once for all uses: the service owning the
 * server's socket (its cgroup path and short name) and the client's JA4,
 * each NULL when not known. */
struct report_extra {
	const char *owner_path, *owner_name;
	const char *ja4;
};

/* d: the connection's diagnosis (code DIAG_NONE when it has none). */
void report_json(struct json *j, const struct session *s,
		 const struct diagnosis *d, const struct report_extra *x);
/* One line, and a second, indented, with the diagnosis of a failure;
 * without the last newline, into buf. */
void report_text(const struct session *s, const struct diagnosis *d,
		 const struct report_extra *x, char *buf, size_t len);

#endif
