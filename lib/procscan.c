/* SPDX-License-Identifier: Apache-2.0 */
#include "procscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool
mode_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

/* Moves *end before a trailing " (mode)" of [s, *end). */
static void
strip_mode(const char *s, const char **end)
{
	const char *e = *end, *p;

	if (e - s < 4 || e[-1] != ')')
		return;
	p = e - 2;
	while (p > s && mode_char(*p))
		p--;
	if (*p == '(' && p < e - 2 && p > s && p[-1] == ' ')
		*end = p - 1;
}

/* One part of a stack, [s, e): the profile it names, into out. */
static size_t
add_part(const char *s, const char *e, struct pd_strv *out)
{
	const char *hat;
	char *name;

	strip_mode(s, &e);
	while (s < e && *s == ' ')
		s++;
	while (e > s && e[-1] == ' ')
		e--;
	if (s < e && *s == ':') {
		const char *colon = memchr(s + 1, ':', (size_t)(e - s - 1));

		if (colon == NULL || colon - s - 1 != 4 || memcmp(s + 1, "root", 4) != 0)
			return 0; /* another namespace (or a malformed one) */
		s = colon + 1;
		if (e - s >= 2 && s[0] == '/' && s[1] == '/')
			s += 2;
	}
	hat = memmem(s, (size_t)(e - s), "//", 2);
	if (hat != NULL)
		e = hat; /* parent//child: a use of the parent */
	if (s == e || (e - s == 10 && memcmp(s, "unconfined", 10) == 0))
		return 0;
	name = pd_xstrndup(s, (size_t)(e - s));
	if (strlen(name) != (size_t)(e - s) || pd_strv_contains(out, name)) {
		free(name); /* a NUL inside, or already there */
		return 0;
	}
	pd_strv_push(out, name);
	return 1;
}

size_t
pd_proc_label_profiles(const char *text, size_t len, struct pd_strv *out)
{
	const char *s = text, *end;
	size_t added = 0;

	len = strnlen(text, len);
	end = text + len;
	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	while (s < end) {
		const char *sep = memmem(s, (size_t)(end - s), "//&", 3);
		const char *pe = sep != NULL ? sep : end;

		added += add_part(s, pe, out);
		s = sep != NULL ? sep + 3 : end;
	}
	return added;
}

static bool
vanished(int e)
{
	return e == ENOENT || e == ESRCH;
}

/* Reads the label of the task open on dirfd.  Returns 1 read, 0 nothing to
 * read (gone, or no AppArmor label), -1 unreadable. */
static int
read_label(int dirfd, char *buf, size_t size, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, "attr/apparmor/current", O_RDONLY | O_CLOEXEC);
	ssize_t r;
	size_t off = 0;

	if (fd < 0 && errno == ENOENT)
		fd = openat(dirfd, "attr/current", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto failed;
	while (off < size - 1 && (r = read(fd, buf + off, size - 1 - off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto failed;
		off += (size_t)r;
	}
	buf[off] = '\0';
	*len = off;
	return 1;
failed:
	if (vanished(errno) || errno == EINVAL) /* EINVAL: no LSM provides it */
		return 0;
	/* Still there, yet unreadable: the caller must not assume "unused". */
	return faccessat(dirfd, "attr", F_OK, 0) < 0 ? 0 : -1;
}

static void
read_comm(int dirfd, char comm[17])
{
	_cleanup_close_ int fd = openat(dirfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd < 0 ? -1 : read(fd, comm, 16);

	if (r <= 0) {
		strcpy(comm, "?");
		return;
	}
	comm[r] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

static bool
numeric(const char *s, int *out)
{
	long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 0x3fffffff)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = (int)v;
	return true;
}

/* Adds the profiles of the task open on dirfd to found. */
static void
scan_task(int dirfd, struct pd_strv *found, struct pd_proc_scan *stats)
{
	char buf[PD_PROC_LABEL_MAX + 1];
	size_t len = 0;
	int r = read_label(dirfd, buf, sizeof(buf), &len);

	if (r < 0)
		stats->unreadable++;
	else if (r > 0)
		pd_proc_label_profiles(buf, len, found);
}

static void
scan_pid(int rootfd, const char *name, int pid, const struct pd_strv *names,
	 struct pd_proc_hold *holds, struct pd_proc_scan *stats)
{
	_cleanup_close_ int pidfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int taskfd = -1;
	struct pd_strv found = { 0 };
	char comm[17] = "";
	DIR *d;

	if (pidfd < 0) {
		if (!vanished(errno))
			stats->unreadable++;
		return;
	}
	stats->pids++;
	taskfd = openat(pidfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0 || (d = fdopendir(taskfd)) == NULL) {
		scan_task(pidfd, &found, stats);
	} else {
		struct dirent *de;
		int tid;

		taskfd = -1; /* the DIR owns it */
		while ((de = readdir(d)) != NULL) {
			_cleanup_close_ int tfd = -1;

			if (!numeric(de->d_name, &tid))
				continue;
			tfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (tfd >= 0)
				scan_task(tfd, &found, stats);
			else if (!vanished(errno))
				stats->unreadable++;
		}
		closedir(d);
	}
	for (size_t i = 0; i < names->n; i++) {
		struct pd_proc_hold *h = &holds[i];

		if (!pd_strv_contains(&found, names->v[i]))
			continue;
		if (comm[0] == '\0')
			read_comm(pidfd, comm);
		h->count++;
		if (h->n < PD_PROC_HOLDERS_MAX) {
			h->v[h->n].pid = pid;
			memcpy(h->v[h->n].comm, comm, sizeof(comm));
			h->n++;
		}
	}
	pd_strv_clear(&found);
}

static int
cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

int
pd_proc_scan_holders(const char *proc_root, const struct pd_strv *names, struct pd_proc_hold *holds,
		     struct pd_proc_scan *stats, pd_error_t *err)
{
	DIR *d = opendir(proc_root);
	_cleanup_free_ int *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int e = 0;

	memset(stats, 0, sizeof(*stats));
	if (names->n > 0)
		memset(holds, 0, names->n * sizeof(*holds));
	if (d == NULL)
		return pd_make_error(err, errno, "cannot list %s", proc_root);
	/* The pids first, in order: holders are listed lowest pid first
	 * whatever order the folder gives. */
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		int pid;

		if (numeric(de->d_name, &pid)) {
			pd_grow(&pids, &cap, n + 1, sizeof(*pids));
			pids[n++] = pid;
		}
		errno = 0;
	}
	e = errno;
	if (e == 0 && n > 0) {
		qsort(pids, n, sizeof(*pids), cmp_int);
		for (size_t i = 0; i < n; i++) {
			char name[16];

			snprintf(name, sizeof(name), "%d", pids[i]);
			scan_pid(dirfd(d), name, pids[i], names, holds, stats);
		}
	}
	closedir(d);
	if (e != 0)
		return pd_make_error(err, e, "cannot list %s", proc_root);
	return 0;
}

int
pd_proc_sees_host(const char *proc_root, char **why, pd_error_t *err)
{
	_cleanup_free_ char *path = pd_xasprintf("%s/self/ns/pid", proc_root);
	char link[64];
	ssize_t r = readlink(path, link, sizeof(link) - 1);
	unsigned long long ino = 0;
	char tail = '\0';

	*why = NULL;
	if (r < 0)
		return pd_make_error(err, errno, "cannot read %s", path);
	link[r] = '\0';
	if (sscanf(link, "pid:[%llu%c", &ino, &tail) != 2 || tail != ']') {
		*why = pd_xasprintf("%s is \"%s\", not a PID namespace", path, link);
		return 0;
	}
	if (ino == PD_PROC_INIT_PIDNS)
		return 1;
	*why = pd_xasprintf("the agent's PID namespace is %s, not the node's (pid:[%llu]): "
			    "the pod needs hostPID: true",
			    link, PD_PROC_INIT_PIDNS);
	return 0;
}
