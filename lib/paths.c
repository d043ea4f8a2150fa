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
 * symlinks resolved; tail is what is below it ("" or "x/y"). */
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

/* As many symlinks as the kernel follows in one path (MAXSYMLINKS). */
#define PATH_MAX_LINKS 40

/* dir/c, with no doubled slash after "/". */
static char *
path_join(const char *dir, const char *c, size_t n)
{
	return pd_xasprintf("%s%s%.*s", dir, strcmp(dir, "/") == 0 ? "" : "/", (int)n, c);
}

/* Drops the last component of an absolute path ("/" stays "/"). */
static void
path_pop(char *p)
{
	char *slash = strrchr(p, '/');

	if (slash == p)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

/* Replaces the walk's *todo by link's target followed by rest; an
 * absolute target restarts from "/" (cur is the link's folder). */
static int
follow_link(const char *link, const char *rest, char **todo, char *cur, unsigned *links)
{
	char target[PATH_MAX];
	ssize_t len = readlink(link, target, sizeof(target) - 1);
	char *t;

	if (len < 0)
		return -errno;
	if (++*links > PATH_MAX_LINKS)
		return -ELOOP;
	target[len] = '\0';
	if (target[0] == '/')
		strcpy(cur, "/");
	t = pd_xasprintf("%s/%s", target, rest);
	free(*todo);
	*todo = t;
	return 0;
}

/* Splits off the last `missing` components of the absolute path cur. */
static int
split_at(const char *cur, size_t missing, struct split *out)
{
	const char *p = cur + strlen(cur);
	struct split s = { 0 };

	for (size_t i = 0; i < missing; i++)
		while (*--p != '/')
			;
	s.tail = pd_xstrdup(missing > 0 ? p + 1 : "");
	s.base = pd_xstrndup(cur, p == cur ? 1 : (size_t)(p - cur));
	if (stat(s.base, &s.st) < 0 || !S_ISDIR(s.st.st_mode)) {
		int e = errno;

		if (stat(s.base, &s.st) == 0)
			e = ENOTDIR;
		split_clear(&s);
		return -e;
	}
	*out = s;
	return 0;
}

/*
 * Resolves path the way the kernel will once its missing folders are made:
 * each existing component by lstat, a symlink by its target (a dangling
 * one too: the folder it names is where the path will lead), and below the
 * deepest existing folder "." and ".." by name (".." past that folder
 * climbs out of it, as it will then).  The result splits at that folder.
 */
static int
split_path(const char *path, struct split *out, pd_error_t *err)
{
	_cleanup_free_ char *todo = NULL; /* what is still to walk */
	_cleanup_free_ char *cur = pd_xstrdup("/");
	size_t missing = 0; /* trailing components of cur that do not exist */
	unsigned links = 0;
	int ret = 0;

	if (path[0] == '/') {
		todo = pd_xstrdup(path);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return pd_make_error(err, errno, "current folder");
		todo = pd_xasprintf("%s/%s", cwd, path);
	}
	for (const char *p = todo; *p != '\0' && ret == 0;) {
		size_t n;
		struct stat st;
		char *next;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			path_pop(cur); /* cur is resolved, or by name where missing */
			if (missing > 0)
				missing--;
			p += n;
			continue;
		}
		next = path_join(cur, p, n);
		if (missing > 0) {
			missing++;
		} else if (lstat(next, &st) < 0) {
			if (errno == ENOENT)
				missing = 1;
			else
				ret = -errno;
		} else if (S_ISLNK(st.st_mode)) {
			ret = follow_link(next, p + n, &todo, cur, &links);
			p = todo;
			free(next);
			continue;
		} else if (!S_ISDIR(st.st_mode)) {
			ret = -ENOTDIR;
		}
		free(cur);
		cur = next;
		p += n;
	}
	if (ret == 0)
		ret = split_at(cur, missing, out);
	if (ret == -ENOTDIR)
		return pd_make_error(err, ENOTDIR, "`%s` is not a folder", path);
	if (ret < 0)
		return pd_make_error(err, -ret, "resolve `%s`", path);
	return 0;
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

char *
pd_overlap_text(const char *flag_a, const char *a, const char *flag_b, const char *b)
{
	enum pd_overlap o = PD_DISJOINT;
	pd_error_t err = NULL;
	const char *sa = flag_a != NULL ? " " : "", *sb = flag_b != NULL ? " " : "";

	if (pd_path_overlap(a, b, &o, &err) < 0) {
		pd_error_release(&err);
		return NULL;
	}
	if (flag_a == NULL)
		flag_a = "";
	if (flag_b == NULL)
		flag_b = "";
	if (o == PD_SAME)
		return pd_xasprintf("%s%s\"%s\" and %s%s\"%s\" are the same folder", flag_a, sa, a,
				    flag_b, sb, b);
	if (o == PD_A_IN_B)
		return pd_xasprintf("%s%s\"%s\" is inside %s%s\"%s\"; they must not overlap",
				    flag_a, sa, a, flag_b, sb, b);
	if (o == PD_B_IN_A)
		return pd_xasprintf("%s%s\"%s\" is inside %s%s\"%s\"; they must not overlap",
				    flag_b, sb, b, flag_a, sa, a);
	return NULL;
}
