/* SPDX-License-Identifier: BSD-3-Clause */
/* The --metrics endpoint: libmicrohttpd in its own thread serves GET
 * /metrics from the last text the capture thread published, and nothing
 * else. Publishing swaps a pointer under a mutex, so a slow or stalled
 * scraper never holds up capture. */
#ifndef TLSWATCH_METRICS_HTTP_H
#define TLSWATCH_METRICS_HTTP_H

#include <stddef.h>

struct metrics_http;

/* Listen at "9935" (binds 127.0.0.1), "0.0.0.0:9935", "[::1]:9935".
 * NULL with a one-line reason on failure. Nothing is served before
 * metrics_http_start(), which starts the serving thread. */
struct metrics_http *metrics_http_open(const char *where, char *err,
				       size_t errlen);
int metrics_http_start(struct metrics_http *h, char *err, size_t errlen);
/* Hand over a malloc'ed text: it is served from now on, and freed when
 * replaced. */
void metrics_http_publish(struct metrics_http *h, char *text, size_t len);
void metrics_http_stop(struct metrics_http *h);

/* Parse "[ADDR:]PORT" without starting anything (for option checks). */
struct sockaddr_storage;
int metrics_http_parse(const char *where, struct sockaddr_storage *ss,
		       char *err, size_t errlen);

#endif
