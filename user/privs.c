// SPDX-License-Identifier: BSD-3-Clause
/* Capability sets through the raw capget/capset calls (no libcap): the
 * permitted and effective sets become the single capability still needed,
 * or nothing; inheritable, ambient and bounding sets are emptied; then no
 * new privileges can come from exec. Other threads keep their own sets, so
 * this runs before any thread starts. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct caps {
	uint64_t eff, prm, inh;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->eff, (uint32_t)c->prm, (uint32_t)c->inh },
		{ c->eff >> 32, c->prm >> 32, c->inh >> 32 },
	};

	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* The highest capability this kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = CAP_BPF;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_BPF;
		fclose(f);
	}
	return n < 63 ? n : 63;
}

int privs_drop(const struct privs_opts *o, char *kept, size_t keptlen,
	       char *err, size_t errlen)
{
	uint64_t keep = 0;
	struct passwd *pw = NULL;
	struct caps c, now;
	int last = last_cap();

	if (caps_get(&c)) {
		snprintf(err, errlen, "reading capabilities: %s", strerror(errno));
		return -1;
	}
	/* Which capability the rest of the run needs: try without any. */
	if (o->needs_bpf) {
		now = c;
		now.eff = 0;
		if (caps_set(&now)) {
			snprintf(err, errlen, "lowering capabilities: %s",
				 strerror(errno));
			return -1;
		}
		if (o->needs_bpf(o->ctx))
			/* Kernels before CAP_BPF (5.8) check CAP_SYS_ADMIN. */
			keep = 1ull << (last >= CAP_BPF ? CAP_BPF : CAP_SYS_ADMIN);
		if (caps_set(&c)) {
			snprintf(err, errlen, "restoring capabilities: %s",
				 strerror(errno));
			return -1;
		}
		keep &= c.prm;
	}
	if (o->user && geteuid() == 0) {
		pw = getpwnam(o->user);
		if (!pw) {
			snprintf(err, errlen, "--user %s: no such user", o->user);
			return -1;
		}
	}
	/* Ambient capabilities would come back in the effective set after
	 * a change of user; the bounding set caps what exec could grant.
	 * Dropping from it needs CAP_SETPCAP: without it (a service given
	 * only what it needs), no-new-privileges below does that job. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (c.eff & (1ull << CAP_SETPCAP))
		for (int i = 0; i <= last; i++)
			if (!(keep & (1ull << i)) &&
			    prctl(PR_CAPBSET_DROP, i, 0, 0, 0) && errno != EINVAL) {
				snprintf(err, errlen, "dropping capability %d: %s",
					 i, strerror(errno));
				return -1;
			}
	if (pw && pw->pw_uid != 0) {
		/* Keep the permitted set across setuid, to trim it after. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
		    setgroups(0, NULL) || setgid(pw->pw_gid) ||
		    setuid(pw->pw_uid) || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)) {
			snprintf(err, errlen, "switching to user %s: %s",
				 o->user, strerror(errno));
			return -1;
		}
	}
	now.eff = now.prm = keep;
	now.inh = 0;
	if (caps_set(&now) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "dropping capabilities: %s",
			 strerror(errno));
		return -1;
	}
	/* Verified, not assumed. */
	if (caps_get(&now) || now.eff != keep || now.prm != keep || now.inh) {
		snprintf(err, errlen, "capabilities still held after dropping them");
		return -1;
	}
	snprintf(kept, keptlen, "user %s, capabilities: %s",
		 pw && pw->pw_uid != 0 ? pw->pw_name :
		 geteuid() == 0 ? "root" : "unchanged",
		 !keep ? "none" : keep & (1ull << CAP_BPF) ? "bpf" : "sys_admin");
	return 0;
}
