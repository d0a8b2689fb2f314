/* SPDX-License-Identifier: BSD-3-Clause */
/* Giving up privileges once live capture is attached: what is left to do
 * is reading the ring buffer and marking connections decided, which needs
 * at most CAP_BPF (kernels before 5.19 check it on every bpf() call
 * when unprivileged BPF is disabled). */
#ifndef TLSWATCH_PRIVS_H
#define TLSWATCH_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

struct privs_opts {
	/* Switch to this user when running as root (NULL: stay root, with
	 * no capabilities but the one kept). */
	const char *user;
	/* Does the work still to do fail without CAP_BPF? Called with no
	 * effective capability; NULL for none (libpcap capture). */
	bool (*needs_bpf)(void *ctx);
	void *ctx;
};

/* 0, or -1 with a one-line reason. `kept` says what is left, e.g.
 * "user nobody, capabilities: bpf". */
int privs_drop(const struct privs_opts *o, char *kept, size_t keptlen,
	       char *err, size_t errlen);

#endif
