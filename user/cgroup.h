/* SPDX-License-Identifier: BSD-3-Clause */
/* Finding the cgroup v2 hierarchy to attach to. */
#ifndef TLSWATCH_CGROUP_H
#define TLSWATCH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* The first cgroup2 mount in /proc/self/mounts into buf; false if none. */
bool cgroup2_mount(char *buf, size_t len);
/* Is this process in a cgroup namespace other than init's? Then the root
 * it sees is not the host's. */
bool cgroup_namespaced(void);
/* Mount a private cgroup v2 hierarchy on a fresh directory under /run
 * (the root of the same hierarchy the kernel has anyway); its path goes
 * to buf. -errno on failure. */
int cgroup2_mount_private(char *buf, size_t len);
void cgroup2_unmount_private(const char *path);

#endif
