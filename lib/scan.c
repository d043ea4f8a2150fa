/* SPDX-License-Identifier: Apache-2.0 */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"

enum pd_kind
pd_kind_of(const char *name)
{
	return pd_json_stem_len(name) < strlen(name) ? PD_KIND_SECCOMP : PD_KIND_APPARMOR;
}

static int
openat_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

#if defined(PD_VALGRIND_BUILD) || defined(PD_QEMU_USER_BUILD)
	/* Test builds only (make valgrind, make test-arm64): valgrind 3.19 and
	 * qemu-user 7.2 do not know openat2.  Open, then check the path the kernel resolved is
	 * beneath the folder's; production builds never compile this. */
	if (fd < 0 && errno == ENOSYS) {
		char dproc[64], fproc[64], dpath[4096], fpath[4096];
		ssize_t dn, fn;

		fd = openat(dirfd, name, flags | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		snprintf(dproc, sizeof(dproc), "/proc/self/fd/%d", dirfd);
		snprintf(fproc, sizeof(fproc), "/proc/self/fd/%d", fd);
		dn = readlink(dproc, dpath, sizeof(dpath) - 1);
		fn = readlink(fproc, fpath, sizeof(fpath) - 1);
		if (dn <= 0 || fn <= dn || strncmp(dpath, fpath, (size_t)dn) != 0 ||
		    fpath[dn] != '/') {
			close(fd);
			return -EXDEV;
		}
		return fd;
	}
#endif
	return fd < 0 ? -errno : fd;
}

/* Opens dir/name for reading, refusing links that leave dir and anything
 * but a regular file, without ever opening a FIFO or a device for reading
 * (opening some devices has side effects). */
static int
open_entry(int dirfd, const char *name, pd_error_t *err)
{
	_cleanup_close_ int pfd = -1;
	char proc[64];
	struct stat st;
	int fd;

	pfd = openat_beneath(dirfd, name, O_PATH);
	if (pfd == -EXDEV || pfd == -ELOOP)
		return pd_make_plain_error(err, EXDEV, "symlink leads outside the folder");
	if (pfd == -ENOSYS)
		return pd_make_plain_error(err, ENOSYS, "openat2 is needed (Linux 5.6 or later)");
	if (pfd < 0)
		return pd_make_error(err, -pfd, "open");
	if (fstat(pfd, &st) < 0)
		return pd_make_error(err, errno, "stat");
	if (!S_ISREG(st.st_mode))
		return pd_make_plain_error(err, EINVAL, "not a regular file");
	/* Re-open exactly the inode we checked. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		struct stat st2;

		fd = openat_beneath(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0 &&
		    (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)) {
			close(fd);
			return pd_make_plain_error(err, EAGAIN, "changed while being opened");
		}
		if (fd < 0)
			errno = -fd;
	}
	if (fd < 0)
		return pd_make_error(err, errno, "open");
	return fd;
}

static struct pd_source *
push_source(struct pd_sources *out, const char *dir, const char *name)
{
	struct pd_source *s;

	pd_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
	s = &out->v[out->n++];
	memset(s, 0, sizeof(*s));
	s->dir = pd_xstrdup(dir);
	s->name = pd_xstrdup(name);
	if (strcmp(dir, ".") == 0)
		s->path = pd_xstrdup(name);
	else if (dir[0] != '\0' && dir[strlen(dir) - 1] == '/')
		s->path = pd_xasprintf("%s%s", dir, name);
	else
		s->path = pd_xasprintf("%s/%s", dir, name);
	s->kind = pd_kind_of(name);
	return s;
}

static void
source_fail(struct pd_source *s, int ret, pd_error_t *e)
{
	s->error = ret < 0 ? ret : -EINVAL;
	s->errmsg = pd_xstrdup(pd_error_msg(*e));
	pd_error_release(e);
}

static void
read_source(int dirfd, struct pd_source *s, size_t *total)
{
	_cleanup_close_ int fd = -1;
	pd_error_t e = NULL;
	int ret;

	fd = open_entry(dirfd, s->name, &e);
	if (fd < 0) {
		source_fail(s, fd, &e);
		return;
	}
	ret = pd_read_fd(fd, PD_SCAN_MAX_FILE_BYTES, &s->data, &s->len, &e);
	if (ret < 0) {
		source_fail(s, ret, &e);
		return;
	}
	if (*total + s->len > PD_SCAN_MAX_TOTAL_BYTES) {
		free(s->data);
		s->data = NULL;
		ret = pd_make_plain_error(&e, EFBIG,
					  "the folder holds more than %d bytes of profiles",
					  PD_SCAN_MAX_TOTAL_BYTES);
		source_fail(s, ret, &e);
		return;
	}
	*total += s->len;
	pd_sha256_hex(s->data, s->len, s->sha256);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
cleanup_dirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
}

/* Whether the open folder is the root of a mount.  statx says so for bind
 * mounts too; without it (before Linux 5.8) a parent on another device. */
static bool
is_mount_root(int dirfd)
{
	struct statx stx;
	struct stat self, parent;

	if (statx(dirfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return fstat(dirfd, &self) == 0 && fstatat(dirfd, "..", &parent, 0) == 0 &&
	       self.st_dev != parent.st_dev;
}

int
pd_scan_dir(const char *dir, struct pd_sources *out, pd_error_t *err)
{
	return pd_scan_dir_info(dir, out, NULL, err);
}

int
pd_scan_dir_info(const char *dir, struct pd_sources *out, struct pd_scan_folder *info,
		 pd_error_t *err)
{
	__attribute__((cleanup(cleanup_dirp))) DIR *d = NULL;
	struct pd_strv names = { 0 };
	struct dirent *de;
	size_t total = 0;
	bool mount_root;
	int dirfd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pd_make_error(err, errno, "open profiles folder `%s`", dir);
	mount_root = is_mount_root(dirfd);
	d = fdopendir(dirfd);
	if (d == NULL) {
		int saved = errno;

		close(dirfd);
		return pd_make_error(err, saved, "read profiles folder `%s`", dir);
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		pd_strv_push(&names, pd_xstrdup(de->d_name));
		if (names.n > PD_SCAN_MAX_FILES) {
			pd_strv_clear(&names);
			return pd_make_plain_error(err, E2BIG,
						   "profiles folder `%s` has more than %d entries",
						   dir, PD_SCAN_MAX_FILES);
		}
	}
	if (errno != 0) {
		int saved = errno;

		pd_strv_clear(&names);
		return pd_make_error(err, saved, "read profiles folder `%s`", dir);
	}
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < names.n; i++)
		read_source(dirfd, push_source(out, dir, names.v[i]), &total);
	pd_strv_clear(&names);
	if (info != NULL)
		info->mount_root = mount_root;
	return 0;
}

int
pd_scan_file(const char *path, struct pd_sources *out, pd_error_t *err)
{
	_cleanup_free_ char *copy = pd_xstrdup(path);
	_cleanup_close_ int dirfd = -1;
	char *slash = strrchr(copy, '/');
	const char *dir = ".", *name = copy;
	struct pd_source *s;
	size_t total = 0;

	if (slash != NULL) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	if (*name == '\0')
		return pd_make_plain_error(err, EINVAL, "`%s` names no file", path);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pd_make_error(err, errno, "open folder of `%s`", path);
	s = push_source(out, dir, name);
	free(s->path);
	s->path = pd_xstrdup(path);
	read_source(dirfd, s, &total);
	return 0;
}

void
pd_sources_truncate(struct pd_sources *s, size_t n)
{
	for (size_t i = n; i < s->n; i++) {
		free(s->v[i].dir);
		free(s->v[i].name);
		free(s->v[i].path);
		free(s->v[i].data);
		free(s->v[i].errmsg);
	}
	if (n < s->n)
		s->n = n;
}

void
pd_sources_clear(struct pd_sources *s)
{
	pd_sources_truncate(s, 0);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
