/* SPDX-License-Identifier: BSD-3-Clause */
/* Which service owns a server socket: its cgroup v2 id, as the kernel
 * tells it, turned into the cgroup's path and a short name (a systemd
 * unit, a container). Paths are found by walking the cgroup tree, at
 * most once a second, and cached. */
#ifndef TLSWATCH_OWNER_H
#define TLSWATCH_OWNER_H

#include <stdbool.h>
#include <stdint.h>

/* Cached cgroups; past it the cache starts again. */
#define OWNERS_MAX 4096

struct owners;

/* root: the cgroup v2 directory tlswatch attached to. */
struct owners *owners_new(const char *root);
void owners_free(struct owners *o);

/* The cgroup's path below root ("/system.slice/nginx.service", "/" for
 * root itself) and a short name for it ("nginx.service",
 * "docker-0123456789ab", or the last part of the path); false, and
 * both left alone, if not found. now_us paces the tree walks. */
bool owners_lookup(struct owners *o, uint64_t id, uint64_t now_us,
		   const char **path, const char **name);

#endif
