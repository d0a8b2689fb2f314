/* SPDX-License-Identifier: BSD-3-Clause */
/* A minimal JSON writer into a growable buffer: enough for one event per
 * line, with strings escaped so that any bytes from the wire stay valid
 * JSON (bytes that are not UTF-8 come out as \u00XX). */
#ifndef TLSWATCH_JSON_H
#define TLSWATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	char *buf;
	size_t len, cap;
	bool need_comma;
	bool failed;		/* out of memory: the event is dropped */
};

void json_init(struct json *j);
void json_free(struct json *j);
void json_reset(struct json *j);

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

/* key is NULL inside arrays. */
void json_string(struct json *j, const char *key, const char *s);
void json_bytes(struct json *j, const char *key, const uint8_t *p, size_t n);
void json_null(struct json *j, const char *key);
void json_bool(struct json *j, const char *key, bool v);
void json_uint(struct json *j, const char *key, uint64_t v);
/* A fixed-point number: v / 10^decimals, e.g. milliseconds with 3. */
void json_fixed(struct json *j, const char *key, uint64_t v, int decimals);

/* Write the buffer and a newline; false on a write error. */
bool json_flush_line(struct json *j, FILE *out);

#endif
