/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the cmocka unit tests of lib/: the includes cmocka needs (in the
 * order it needs them) and small helpers for temporary folders and files.
 *
 * Every helper either succeeds or fails the running test; none of them
 * writes outside the mkdtemp() folder the test made.
 */
#ifndef PROFILED_UNIT_H
#define PROFILED_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "../../lib/error.h"
#include "../../lib/util.h"

/* Fails the test unless needle occurs in haystack, printing both. */
#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		const char *h_ = (haystack);                                                       \
		const char *n_ = (needle);                                                         \
		if (h_ == NULL || strstr(h_, n_) == NULL)                                          \
			fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);        \
	} while (0)

#define assert_not_contains(haystack, needle)                                                      \
	do {                                                                                       \
		const char *h_ = (haystack);                                                       \
		const char *n_ = (needle);                                                         \
		if (h_ != NULL && strstr(h_, n_) != NULL)                                          \
			fail_msg("\"%s\" contains \"%s\"", h_, n_);                                \
	} while (0)

/*
 * Marks a test that proves a bug in lib/ (reported, not fixed here).  It
 * prints a line saying so; with PROFILED_UNIT_SKIP_KNOWN_BUGS set in the
 * environment the test is skipped instead of failing, so that the rest of
 * a run stays readable until the bug is fixed.
 */
#define KNOWN_BUG(what)                                                                            \
	do {                                                                                       \
		print_message("[ KNOWN BUG] %s\n", (what));                                        \
		if (getenv("PROFILED_UNIT_SKIP_KNOWN_BUGS") != NULL)                               \
			skip();                                                                    \
	} while (0)

static inline char *
unit_strdup(const char *s)
{
	char *r = strdup(s);

	assert_non_null(r);
	return r;
}

static inline char *unit_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline char *
unit_asprintf(const char *fmt, ...)
{
	char *r = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&r, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return r;
}

/* A fresh, empty folder under $TMPDIR (or /tmp); the caller frees the name. */
static inline char *
unit_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	path = unit_asprintf("%s/profiled-unit-XXXXXX", base);
	if (mkdtemp(path) == NULL)
		fail_msg("mkdtemp(%s): %s", path, strerror(errno));
	return path;
}

static inline int
unit_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* Removes path and everything below it, never following symlinks. */
static inline void
unit_rmtree(const char *path)
{
	if (path == NULL)
		return;
	(void)nftw(path, unit_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes dir/name (created 0644, or truncated) with the given bytes. */
static inline void
unit_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = unit_asprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0)
		fail_msg("open(%s): %s", path, strerror(errno));
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			fail_msg("write(%s): %s", path, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	assert_int_equal(close(fd), 0);
	free(path);
}

static inline void
unit_write_str(const char *dir, const char *name, const char *s)
{
	unit_write(dir, name, s, strlen(s));
}

/* Reads the whole file at path, NUL-terminated; *len (if not NULL) gets its size. */
static inline char *
unit_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		fail_msg("fopen(%s): %s", path, strerror(errno));
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static inline char *
unit_read_at(const char *dir, const char *name, size_t *len)
{
	char *path = unit_asprintf("%s/%s", dir, name);
	char *buf = unit_read(path, len);

	free(path);
	return buf;
}

static inline bool
unit_exists(const char *dir, const char *name)
{
	struct stat st;
	char *path = unit_asprintf("%s/%s", dir, name);
	bool ret = lstat(path, &st) == 0;

	free(path);
	return ret;
}

/* Number of entries in dir other than "." and "..". */
static inline size_t
unit_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* $PROFILED_TEST_DATA/rel, or test/data/rel relative to the working folder. */
static inline char *
unit_data_path(const char *rel)
{
	const char *base = getenv("PROFILED_TEST_DATA");

	if (base == NULL || base[0] == '\0')
		base = "test/data";
	return unit_asprintf("%s/%s", base, rel);
}

/*
 * The Kubernetes tutorial profiles: $PROFILED_FIXTURES (default
 * test/data/fixtures, the copies kept in the repository) holds them as
 * kubernetes-docs/seccomp/NAME; a PROFILED_FIXTURES that already names the
 * kubernetes-docs or seccomp folder works too.  NULL when the file is not
 * there.
 */
static inline char *
unit_fixture_path(const char *name)
{
	static const char *const layouts[] = { "/kubernetes-docs/seccomp/", "/seccomp/", "/" };
	const char *base = getenv("PROFILED_FIXTURES");

	char *owned = NULL;

	if (base == NULL || base[0] == '\0')
		base = owned = unit_data_path("fixtures");
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		char *path = unit_asprintf("%s%s%s", base, layouts[i], name);

		if (access(path, R_OK) == 0) {
			free(owned);
			return path;
		}
		free(path);
	}
	free(owned);
	return NULL;
}

/* Group state for tests that need a folder of their own. */
static inline int
unit_setup_tmpdir(void **state)
{
	*state = unit_mkdtemp();
	return 0;
}

static inline int
unit_teardown_tmpdir(void **state)
{
	unit_rmtree(*state);
	free(*state);
	*state = NULL;
	return 0;
}

#define unit_test_tmp(f) cmocka_unit_test_setup_teardown(f, unit_setup_tmpdir, unit_teardown_tmpdir)

#endif
