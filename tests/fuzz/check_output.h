/* SPDX-License-Identifier: BSD-3-Clause */
/* Oracles for the fuzz targets' output: a JSON event must be one valid
 * JSON value in valid UTF-8 (whatever bytes the wire held), and a text
 * line must be valid UTF-8 with no control character but its newlines. Each returns
 * false on the first fault. */
#ifndef TLSWATCH_FUZZ_CHECK_OUTPUT_H
#define TLSWATCH_FUZZ_CHECK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jcur {
	const uint8_t *p, *end;
	int depth;
};

static bool j_value(struct jcur *c);

static void j_ws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* One UTF-8 sequence (RFC 3629: no overlongs, no surrogates). */
static bool j_utf8(struct jcur *c)
{
	uint8_t b = *c->p;
	int n = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
	uint32_t v;

	if (b < 0xc2 || b > 0xf4)
		return false;
	if (c->end - c->p < n + 1)
		return false;
	v = b & (0x3f >> n);
	for (int i = 1; i <= n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		v = v << 6 | (c->p[i] & 0x3f);
	}
	if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return false;
	c->p += n + 1;
	return true;
}

static bool j_string(struct jcur *c)
{
	c->p++;
	while (c->p < c->end) {
		uint8_t b = *c->p;

		if (b == '"') {
			c->p++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b == '\\') {
			if (++c->p >= c->end)
				return false;
			if (*c->p == 'u') {
				if (c->end - c->p < 5)
					return false;
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", c->p[i]) ||
					    !c->p[i])
						return false;
				c->p += 5;
			} else if (*c->p && strchr("\"\\/bfnrt", *c->p)) {
				c->p++;
			} else {
				return false;
			}
		} else if (b >= 0x80) {
			if (!j_utf8(c))
				return false;
		} else {
			c->p++;
		}
	}
	return false;
}

static bool j_number(struct jcur *c)
{
	const uint8_t *s = c->p;

	if (*c->p == '-')
		c->p++;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s && c->p[-1] >= '0' && c->p[-1] <= '9';
}

static bool j_lit(struct jcur *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return false;
	c->p += n;
	return true;
}

static bool j_list(struct jcur *c, uint8_t close, bool keys)
{
	c->p++;
	j_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return true;
	}
	for (;;) {
		j_ws(c);
		if (keys) {
			if (c->p >= c->end || *c->p != '"' || !j_string(c))
				return false;
			j_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return false;
		}
		if (!j_value(c))
			return false;
		j_ws(c);
		if (c->p >= c->end)
			return false;
		if (*c->p == close) {
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

static bool j_value(struct jcur *c)
{
	bool ok;

	j_ws(c);
	if (c->p >= c->end || ++c->depth > 64)
		return false;
	switch (*c->p) {
	case '{': ok = j_list(c, '}', true); break;
	case '[': ok = j_list(c, ']', false); break;
	case '"': ok = j_string(c); break;
	case 't': ok = j_lit(c, "true"); break;
	case 'f': ok = j_lit(c, "false"); break;
	case 'n': ok = j_lit(c, "null"); break;
	default: ok = j_number(c); break;
	}
	c->depth--;
	return ok;
}

/* Exactly one JSON value, nothing else but white space. */
static inline bool json_valid(const char *s, size_t len)
{
	struct jcur c = { (const uint8_t *)s, (const uint8_t *)s + len, 0 };

	if (!j_value(&c))
		return false;
	j_ws(&c);
	return c.p == c.end;
}

/* Safe on a terminal: valid UTF-8 with no C0 control but '\n', no DEL
 * and no C1 control. */
static inline bool text_printable(const char *s)
{
	struct jcur c = { (const uint8_t *)s,
			  (const uint8_t *)s + strlen(s), 0 };

	while (c.p < c.end) {
		uint8_t b = *c.p;

		if (b >= 0x80) {
			if (b == 0xc2 && c.end - c.p > 1 && c.p[1] < 0xa0)
				return false;
			if (!j_utf8(&c))
				return false;
			continue;
		}
		if ((b < 0x20 && b != '\n') || b == 0x7f)
			return false;
		c.p++;
	}
	return true;
}

#endif
