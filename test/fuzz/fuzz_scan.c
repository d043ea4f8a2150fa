/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the folder scanner: the input describes a profiles folder
 * (entries that are files, symlinks with arbitrary targets, folders, FIFOs;
 * arbitrary names), which is built in a private temporary folder and
 * scanned.  Invariants: no dot-name is a profile; every entry read has the
 * bytes of a regular file inside the folder; nothing outside the folder is
 * ever read (a file outside holds a marker that must never come back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256], dir[300];

static void
clean(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[4096];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			clean(p);
			rmdir(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
}

static void
remove_root(void)
{
	clean(root);
	rmdir(root);
}

/* A length-prefixed string from the input, NUL-terminated into out. */
static size_t
take(const uint8_t **p, const uint8_t *end, char *out, size_t max)
{
	size_t n;

	if (*p >= end)
		return 0;
	n = **p % max;
	(*p)++;
	if ((size_t)(end - *p) < n)
		n = (size_t)(end - *p);
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct pd_sources src = { 0 };
	pd_error_t err = NULL;
	int entries = 0;

	if (root[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		/* libFuzzer ends without atexit at -max_total_time: make fuzz
		 * points TMPDIR into the build folder. */
		snprintf(root, sizeof(root), "%s/profiled-fuzz-scan.XXXXXX",
			 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
		if (mkdtemp(root) == NULL)
			abort();
		atexit(remove_root);
		snprintf(dir, sizeof(dir), "%s/cm", root);
	}
	clean(root);
	mkdir(dir, 0755);
	{
		char out[320];
		FILE *f;

		snprintf(out, sizeof(out), "%s/outside.json", root);
		f = fopen(out, "w");
		fputs("OUTSIDE-MARKER", f);
		fclose(f);
	}
	while (p < end && entries++ < 16) {
		char name[64], arg[128], path[400];
		uint8_t kind = *p++;

		if (take(&p, end, name, 40) == 0 || strchr(name, '/') != NULL ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		take(&p, end, arg, 100);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		switch (kind % 4) {
		case 0: {
			int fd;

			/* the marker belongs to the file outside alone */
			if (strstr(arg, "OUTSIDE") != NULL)
				break;
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) {
				if (write(fd, arg, strlen(arg)) < 0)
					(void)0;
				close(fd);
			}
			break;
		}
		case 1:
			if (symlink(arg, path) < 0)
				(void)0;
			break;
		case 2:
			mkdir(path, 0755);
			break;
		default:
			mkfifo(path, 0644);
			break;
		}
	}
	if (pd_scan_dir(dir, &src, &err) < 0)
		abort(); /* the folder itself is always readable */
	for (size_t i = 0; i < src.n; i++) {
		const struct pd_source *s = &src.v[i];

		if (s->name[0] == '.')
			__builtin_trap();
		if (s->error < 0)
			continue;
		if (s->data == NULL || memmem(s->data, s->len, "OUTSIDE-MARKER", 14) != NULL)
			__builtin_trap();
	}
	pd_sources_clear(&src);
	pd_error_release(&err);
	return 0;
}
