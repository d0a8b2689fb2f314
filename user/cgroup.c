// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

bool cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2") == 0 &&
		    strlen(m->mnt_dir) < len) {
			strcpy(buf, m->mnt_dir);
			found = true;
			break;
		}
	}
	endmntent(f);
	return found;
}

/* The initial cgroup namespace has a fixed inode number
 * (PROC_CGROUP_INIT_INO in include/linux/proc_ns.h): comparing with it
 * works even where /proc/1/ns is out of reach, as in some sandboxes. */
#define CGROUP_INIT_INO 0xEFFFFFFBU

bool cgroup_namespaced(void)
{
	struct stat self;

	if (stat("/proc/self/ns/cgroup", &self))
		return false;	/* no cgroup namespaces in this kernel */
	return self.st_ino != CGROUP_INIT_INO;
}

int cgroup2_mount_private(char *buf, size_t len)
{
	char tmpl[] = "/run/tlswatch-cgroup-XXXXXX";

	if (!mkdtemp(tmpl))
		return -errno;
	if (mount("cgroup2", tmpl, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL)) {
		int err = -errno;

		rmdir(tmpl);
		return err;
	}
	snprintf(buf, len, "%s", tmpl);
	return 0;
}

void cgroup2_unmount_private(const char *path)
{
	umount2(path, MNT_DETACH);
	rmdir(path);
}
