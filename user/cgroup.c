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

bool cgroup_namespaced(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/cgroup", &self) || stat("/proc/1/ns/cgroup", &init))
		return false;
	return self.st_ino != init.st_ino || self.st_dev != init.st_dev;
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
