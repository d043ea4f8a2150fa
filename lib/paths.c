/* SPDX-License-Identifier: Apache-2.0 */
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* A path split at its deepest existing folder: base is that folder,
 * resolved by the kernel; tail is what is below it ("" or "x/y"). */
struct split {
	char *base;
	char *tail;
	struct stat st;
};

static void
split_clear(struct split *s)
{
	free(s->base);
	free(s->tail);
}

/* Appends component c to tail, applying "." and ".." by name: below the
 * deepest existing folder there is no symlink to follow. */
static char *
tail_push(char *tail, const char *c, size_t n)
{
	char *r;

	if (n == 0 || (n == 1 && c[0] == '.'))
		return tail;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		char *slash = strrchr(tail, '/');

		if (slash != NULL)
			*slash = '\0';
		else
			tail[0] = '\0';
		return tail;
	}
	r = pd_xasprintf("%s%s%.*s", tail, tail[0] != '\0' ? "/" : "", (int)n, c);
	free(tail);
	return r;
}

static int
split_path(const char *path, struct split *out, pd_error_t *err)
{
	_cleanup_free_ char *head = NULL;
	struct pd_strv rest = { 0 };
	char *base = NULL, *tail;
	int ret = 0;

	if (path[0] == '/') {
		head = pd_xstrdup(path);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return pd_make_error(err, errno, "current folder");
		head = pd_xasprintf("%s/%s", cwd, path);
	}
	/* Strip components from the end until what is left exists. */
	while ((base = realpath(head, NULL)) == NULL) {
		char *slash;

		if (errno != ENOENT) {
			ret = pd_make_error(err, errno, "resolve `%s`", path);
			goto out;
		}
		slash = strrchr(head, '/');
		if (slash == NULL || slash == head) { /* "/" always exists */
			ret = pd_make_error(err, ENOENT, "resolve `%s`", path);
			goto out;
		}
		pd_strv_push(&rest, pd_xstrdup(slash + 1));
		*slash = '\0';
	}
	if (stat(base, &out->st) < 0 || !S_ISDIR(out->st.st_mode)) {
		int e = errno;

		ret = pd_make_error(err, stat(base, &out->st) == 0 ? ENOTDIR : e,
				    "`%s` is not a folder", path);
		free(base);
		goto out;
	}
	tail = pd_xstrdup("");
	for (size_t i = rest.n; i-- > 0;)
		tail = tail_push(tail, rest.v[i], strlen(rest.v[i]));
	out->base = base;
	out->tail = tail;
out:
	pd_strv_clear(&rest);
	return ret;
}

/* How tail a relates to tail b below one common folder. */
static enum pd_overlap
compare_tails(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (strcmp(a, b) == 0)
		return PD_SAME;
	if (nb == 0 || (na > nb && strncmp(a, b, nb) == 0 && a[nb] == '/'))
		return PD_A_IN_B;
	if (na == 0 || (nb > na && strncmp(a, b, na) == 0 && b[na] == '/'))
		return PD_B_IN_A;
	return PD_DISJOINT;
}

/*
 * Walks up from a's existing folder; where a folder on the way is b's
 * existing folder (same inode: the same folder however reached), the
 * tails below it decide.  *found tells whether such a folder was met.
 */
static enum pd_overlap
walk_up(const struct split *a, const struct split *b, bool *found)
{
	_cleanup_free_ char *dir = pd_xstrdup(a->base);
	_cleanup_free_ char *tail = pd_xstrdup(a->tail);

	*found = false;
	for (;;) {
		struct stat st;
		char *slash;
		char *t;

		if (stat(dir, &st) == 0 && st.st_dev == b->st.st_dev && st.st_ino == b->st.st_ino) {
			*found = true;
			return compare_tails(tail, b->tail);
		}
		if (strcmp(dir, "/") == 0)
			return PD_DISJOINT;
		slash = strrchr(dir, '/');
		t = pd_xasprintf("%s%s%s", slash + 1, tail[0] != '\0' ? "/" : "", tail);
		free(tail);
		tail = t;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

static enum pd_overlap
flip(enum pd_overlap o)
{
	return o == PD_A_IN_B ? PD_B_IN_A : o == PD_B_IN_A ? PD_A_IN_B : o;
}

int
pd_path_overlap(const char *a, const char *b, enum pd_overlap *out, pd_error_t *err)
{
	struct split sa = { 0 }, sb = { 0 };
	enum pd_overlap o;
	bool found;
	int ret;

	if ((ret = split_path(a, &sa, err)) < 0)
		return ret;
	if ((ret = split_path(b, &sb, err)) < 0) {
		split_clear(&sa);
		return ret;
	}
	o = walk_up(&sa, &sb, &found);
	if (!found)
		o = flip(walk_up(&sb, &sa, &found));
	split_clear(&sa);
	split_clear(&sb);
	*out = o;
	return 0;
}
