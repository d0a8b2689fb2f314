// SPDX-License-Identifier: BSD-3-Clause
/* On cgroup v2 a cgroup's id is the inode number of its directory, so a
 * walk of the tree finds the path of any id. */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "owner.h"

#define SLOTS (2 * OWNERS_MAX)
#define PATH_LEN 256
#define NAME_LEN 64
#define RESCAN_US 1000000ULL
#define MAX_DEPTH 16

struct owner {
	uint64_t id;		/* 0: free */
	char path[PATH_LEN];
	char name[NAME_LEN];
};

struct owners {
	char root[PATH_LEN];
	size_t root_len;
	struct owner *slots;
	uint32_t n;
	uint64_t last_scan;
};

struct owners *owners_new(const char *root)
{
	struct owners *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->slots = calloc(SLOTS, sizeof(*o->slots));
	if (!o->slots || strlen(root) >= sizeof(o->root)) {
		owners_free(o);
		return NULL;
	}
	snprintf(o->root, sizeof(o->root), "%s", root);
	o->root_len = strlen(o->root);
	while (o->root_len > 1 && o->root[o->root_len - 1] == '/')
		o->root[--o->root_len] = '\0';
	return o;
}

void owners_free(struct owners *o)
{
	if (!o)
		return;
	free(o->slots);
	free(o);
}

static struct owner *find(struct owners *o, uint64_t id, bool add)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;

	for (uint32_t i = 0; i < SLOTS; i++) {
		struct owner *w = &o->slots[(h + i) % SLOTS];

		if (w->id == id)
			return w;
		if (!w->id) {
			if (!add)
				return NULL;
			if (o->n >= OWNERS_MAX) {
				/* Full: start again rather than grow. */
				memset(o->slots, 0, SLOTS * sizeof(*o->slots));
				o->n = 0;
				return find(o, id, true);
			}
			w->id = id;
			o->n++;
			return w;
		}
	}
	return NULL;
}

/* "docker-<64 hex>.scope" and the like: the runtime and 12 hex digits,
 * as container tools show ids. */
static bool container(const char *c, size_t n, char *out, size_t len)
{
	static const char *const runtimes[] = {
		"docker-", "cri-containerd-", "crio-", "libpod-",
	};

	if (n < 6 || strncmp(c + n - 6, ".scope", 6) != 0)
		return false;
	for (size_t k = 0; k < sizeof(runtimes) / sizeof(runtimes[0]); k++) {
		size_t r = strlen(runtimes[k]);

		if (n >= r + 12 + 6 && strncmp(c, runtimes[k], r) == 0) {
			snprintf(out, len, "%.*s%.12s", (int)r, c, c + r);
			return true;
		}
	}
	return false;
}

/* The short name: the innermost unit or container of the path, else its
 * last part. */
static void name_of(const char *path, char *out, size_t len)
{
	const char *end = path + strlen(path);

	if (strcmp(path, "/") == 0) {
		snprintf(out, len, "root");
		return;
	}
	while (end > path) {
		const char *start = end;
		size_t n;

		while (start > path && start[-1] != '/')
			start--;
		n = end - start;
		if (container(start, n, out, len))
			return;
		if ((n > 8 && strncmp(end - 8, ".service", 8) == 0) ||
		    (n > 6 && strncmp(end - 6, ".scope", 6) == 0)) {
			snprintf(out, len, "%.*s", (int)n, start);
			return;
		}
		end = start > path ? start - 1 : path;
	}
	end = strrchr(path, '/');
	snprintf(out, len, "%.*s", (int)(len - 1), end ? end + 1 : path);
}

/* nftw has no context argument: the walk in progress. */
static struct owners *walking;

static int visit(const char *fpath, const struct stat *sb, int type,
		 struct FTW *ftw)
{
	struct owners *o = walking;
	struct owner *w;
	const char *rel;

	if (type != FTW_D)
		return 0;
	if (ftw->level > MAX_DEPTH)
		return 0;
	rel = fpath + o->root_len;
	w = find(o, sb->st_ino, true);
	if (!w)
		return 0;
	snprintf(w->path, sizeof(w->path), "%s", *rel ? rel : "/");
	/* Names are anyone's with a delegated cgroup: printable only. */
	for (char *c = w->path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	name_of(w->path, w->name, sizeof(w->name));
	return 0;
}

static struct owner *lookup(struct owners *o, uint64_t id, uint64_t now_us)
{
	struct owner *w;

	if (!id)
		return NULL;
	w = find(o, id, false);
	if (w || (o->last_scan && now_us < o->last_scan + RESCAN_US))
		return w;
	o->last_scan = now_us ? now_us : 1;
	walking = o;
	nftw(o->root, visit, 32, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
	return find(o, id, false);
}

bool owners_lookup(struct owners *o, uint64_t id, uint64_t now_us,
		   const char **path, const char **name)
{
	struct owner *w = lookup(o, id, now_us);

	if (!w)
		return false;
	*path = w->path;
	*name = w->name;
	return true;
}
