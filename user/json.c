// SPDX-License-Identifier: BSD-3-Clause
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
}

void json_free(struct json *j)
{
	free(j->buf);
	json_init(j);
}

void json_reset(struct json *j)
{
	j->len = 0;
	j->need_comma = false;
	j->failed = false;
}

/* Room for n more bytes and the terminating NUL; false when out of
 * memory (the event is then dropped). */
static bool grow(struct json *j, size_t n)
{
	size_t cap = j->cap ? j->cap : 1024;
	char *nb;

	if (j->failed)
		return false;
	while (cap < j->len + n + 1)
		cap *= 2;
	nb = realloc(j->buf, cap);
	if (!nb) {
		j->failed = true;
		return false;
	}
	j->buf = nb;
	j->cap = cap;
	return true;
}

static inline void put(struct json *j, const char *p, size_t n)
{
	if (j->len + n + 1 > j->cap && !grow(j, n))
		return;
	if (j->failed)
		return;
	memcpy(j->buf + j->len, p, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t min, cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes that go out as they are: printable ASCII but the quote (0x22)
 * and the backslash (0x5c). */
static const bool plain_byte[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

static inline bool plain(uint8_t c)
{
	return plain_byte[c];
}

static void escaped(struct json *j, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	put(j, esc, sizeof(esc));
}

/* Room for n more bytes and the NUL; false when out of memory. */
static inline bool room(struct json *j, size_t n)
{
	if (j->failed)
		return false;
	return j->len + n + 1 <= j->cap || grow(j, n);
}

/* The bytes from the first that is not plain on: escapes, UTF-8. */
static void quoted_rest(struct json *j, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t u = i;

		/* Runs of plain bytes in one copy. */
		while (u < n && plain(p[u]))
			u++;
		if (u > i) {
			put(j, (const char *)p + i, u - i);
			i = u;
			continue;
		}
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			put(j, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			escaped(j, c);
			i++;
		} else if ((u = utf8_len(p + i, n - i)) > 0) {
			put(j, (const char *)p + i, u);
			i += u;
		} else {
			escaped(j, c);
			i++;
		}
	}
}

static void quoted(struct json *j, const uint8_t *p, size_t n)
{
	size_t i = 0;
	char *o;

	/* Most strings are plain bytes only: copied straight into the
	 * buffer, with room made once. */
	if (!room(j, n + 2))
		return;
	o = j->buf + j->len;
	*o++ = '"';
	while (i < n && plain(p[i]))
		*o++ = (char)p[i++];
	j->len = (size_t)(o - j->buf);
	if (i < n)
		quoted_rest(j, p + i, n - i);
	put(j, "\"", 1);
}

static void key(struct json *j, const char *k)
{
	if (j->need_comma)
		put(j, ",", 1);
	if (k) {
		quoted(j, (const uint8_t *)k, strlen(k));
		put(j, ":", 1);
	}
	j->need_comma = true;
}

void json_object_begin(struct json *j, const char *k)
{
	key(j, k);
	put(j, "{", 1);
	j->need_comma = false;
}

void json_object_end(struct json *j)
{
	put(j, "}", 1);
	j->need_comma = true;
}

void json_array_begin(struct json *j, const char *k)
{
	key(j, k);
	put(j, "[", 1);
	j->need_comma = false;
}

void json_array_end(struct json *j)
{
	put(j, "]", 1);
	j->need_comma = true;
}

void json_string(struct json *j, const char *k, const char *s)
{
	if (!s) {
		json_null(j, k);
		return;
	}
	key(j, k);
	quoted(j, (const uint8_t *)s, strlen(s));
}

void json_bytes(struct json *j, const char *k, const uint8_t *p, size_t n)
{
	key(j, k);
	quoted(j, p, n);
}

void json_null(struct json *j, const char *k)
{
	key(j, k);
	puts_(j, "null");
}

void json_bool(struct json *j, const char *k, bool v)
{
	key(j, k);
	puts_(j, v ? "true" : "false");
}

/* Decimal digits of v, at least min of them (zero-padded), ending at
 * end; returns where they start. */
static char *digits(char *end, uint64_t v, int min)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v || end - p < min);
	return p;
}

void json_uint(struct json *j, const char *k, uint64_t v)
{
	char b[24], *end = b + sizeof(b), *p = digits(end, v, 1);

	key(j, k);
	put(j, p, (size_t)(end - p));
}

void json_fixed(struct json *j, const char *k, uint64_t v, int decimals)
{
	char b[48], *end = b + sizeof(b), *p;
	uint64_t scale = 1;

	if (decimals < 0)
		decimals = 0;
	if (decimals > 19)
		decimals = 19;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	p = digits(end, v % scale, decimals);
	*--p = '.';
	p = digits(p, v / scale, 1);
	key(j, k);
	put(j, p, (size_t)(end - p));
}

bool json_flush_line(struct json *j, FILE *out)
{
	bool ok = !j->failed;

	if (ok) {
		put(j, "\n", 1);
		ok = !j->failed && fwrite(j->buf, 1, j->len, out) == j->len;
	}
	json_reset(j);
	return ok;
}
