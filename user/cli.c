// SPDX-License-Identifier: BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"

static bool parse_port(const char *s, const char *end, unsigned *port)
{
	unsigned v = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = v;
	return true;
}

bool parse_ports(const char *s, uint8_t *map, char *err, size_t errlen)
{
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *dash = memchr(p, '-', end - p);
		unsigned lo, hi;

		if (dash ? !parse_port(p, dash, &lo) || !parse_port(dash + 1, end, &hi) :
			   !parse_port(p, end, &lo)) {
			snprintf(err, errlen, "bad port list '%s': want 443, 443,8443 or 8000-8100",
				 s);
			return false;
		}
		if (!dash)
			hi = lo;
		if (hi < lo) {
			snprintf(err, errlen, "bad port range in '%s': %u is above %u",
				 s, lo, hi);
			return false;
		}
		for (unsigned v = lo; v <= hi; v++)
			map[v >> 3] |= 1u << (v & 7);
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static bool parse_one_cidr(const char *s, struct cidr *c)
{
	char buf[64];
	char *slash;
	int max;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	c->bits = max;
	if (slash) {
		char *end;
		long v;

		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || v < 0 || v > max)
			return false;
		c->bits = v;
	}
	return true;
}

bool parse_cidrs(const char *s, struct cidr_list *list, char *err,
		 size_t errlen)
{
	char *copy = strdup(s), *save = NULL;
	bool ok = copy != NULL;

	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct cidr c, *nv;

		if (!parse_one_cidr(tok, &c)) {
			snprintf(err, errlen, "bad network '%s': want 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32",
				 tok);
			ok = false;
			break;
		}
		nv = realloc(list->v, (list->n + 1) * sizeof(*nv));
		if (!nv) {
			snprintf(err, errlen, "out of memory");
			ok = false;
			break;
		}
		list->v = nv;
		list->v[list->n++] = c;
	}
	if (ok && list->n == 0) {
		snprintf(err, errlen, "empty network list");
		ok = false;
	}
	free(copy);
	return ok;
}

bool cidr_match(const struct cidr_list *list, const struct endpoint *e)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct cidr *c = &list->v[i];
		int full = c->bits / 8, rest = c->bits % 8;

		if (c->family != e->family || memcmp(c->addr, e->addr, full))
			continue;
		if (rest && ((c->addr[full] ^ e->addr[full]) & (0xff00 >> rest) & 0xff))
			continue;
		return true;
	}
	return false;
}

void cidr_list_free(struct cidr_list *list)
{
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

bool parse_seconds(const char *s, uint64_t *us, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e7) {
		snprintf(err, errlen, "bad number of seconds '%s'", s);
		return false;
	}
	*us = (uint64_t)(v * 1e6 + 0.5);
	return true;
}
