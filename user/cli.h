/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsers for command-line values: port lists, networks, seconds. Each
 * returns false with a one-line reason in err. */
#ifndef TLSWATCH_CLI_H
#define TLSWATCH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define PORT_MAP_BYTES (65536 / 8)

/* "443", "443,8443", "8000-8100": sets bits in a 65536-bit map. */
bool parse_ports(const char *s, uint8_t *map, char *err, size_t errlen);

struct cidr {
	uint8_t family;
	uint8_t addr[16];
	uint8_t bits;
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

/* "10.0.0.0/8,192.0.2.7,2001:db8::/32"; appends to list. */
bool parse_cidrs(const char *s, struct cidr_list *list, char *err,
		 size_t errlen);
bool cidr_match(const struct cidr_list *list, const struct endpoint *e);
void cidr_list_free(struct cidr_list *list);

/* A positive number of seconds, fractions allowed: to microseconds. */
bool parse_seconds(const char *s, uint64_t *us, char *err, size_t errlen);

#endif
