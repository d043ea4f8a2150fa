/* SPDX-License-Identifier: Apache-2.0 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp.h"
#include "util.h"
#include "fileio.h"

#define PUBLISH_MODE 0644

struct pd_store {
	int dirfd;
	char *root, *subdir; /* as given: the folder is found again by them */
	char *path;
};

int
pd_store_subdir_check(const char *subdir, pd_error_t *err)
{
	if (subdir[0] == '\0' || subdir[0] == '.' || strchr(subdir, '/') != NULL ||
	    strlen(subdir) > 255)
		return pd_make_plain_error(
			err, EINVAL,
			"seccomp subdir \"%s\" must be one folder name, not starting with '.'",
			subdir);
	return 0;
}

/* A killed publish leaves ".NAME.tmp-PID"; nobody else writes such names. */
static void
sweep_temps(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp-") != NULL &&
		    de->d_type == DT_REG)
			(void)unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* Opens (making them if missing) root and root/subdir by path. */
static int
open_folder(const char *root, const char *subdir, pd_error_t *err)
{
	_cleanup_close_ int rootfd = -1;
	int fd;

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return pd_make_error(err, errno, "create seccomp root `%s`", root);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return pd_make_error(err, errno, "open seccomp root `%s`", root);
	fd = pd_open_subdir(rootfd, subdir, 0755, true, err);
	if (fd < 0)
		return pd_error_wrap(err, fd, "seccomp root `%s`", root);
	sweep_temps(fd);
	return fd;
}

int
pd_store_open(const char *root, const char *subdir, struct pd_store **out, pd_error_t *err)
{
	struct pd_store *s;
	int fd, ret;

	if ((ret = pd_store_subdir_check(subdir, err)) < 0)
		return ret;
	fd = open_folder(root, subdir, err);
	if (fd < 0)
		return fd;
	s = pd_xcalloc(1, sizeof(*s));
	s->dirfd = fd;
	s->root = pd_xstrdup(root);
	s->subdir = pd_xstrdup(subdir);
	s->path = pd_xasprintf("%s/%s", root, subdir);
	*out = s;
	return 0;
}

/* The held folder is still the one its path names: not removed (a removed
 * folder has no links), and the same inode as a fresh lookup. */
static bool
still_in_place(const struct pd_store *s)
{
	_cleanup_close_ int rootfd = -1;
	struct stat held, now;

	if (fstat(s->dirfd, &held) < 0 || held.st_nlink == 0)
		return false;
	rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || fstatat(rootfd, s->subdir, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return now.st_dev == held.st_dev && now.st_ino == held.st_ino;
}

int
pd_store_refresh(struct pd_store *s, pd_error_t *err)
{
	int fd;

	if (s->dirfd >= 0 && still_in_place(s))
		return 0;
	/* What the old handle reaches is no longer what the kubelet reads. */
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	fd = open_folder(s->root, s->subdir, err);
	if (fd < 0)
		return fd;
	s->dirfd = fd;
	return 1;
}

void
pd_store_free(struct pd_store *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->root);
	free(s->subdir);
	free(s->path);
	free(s);
}

char *
pd_store_path(const struct pd_store *s, const char *name)
{
	return pd_xasprintf("%s/%s", s->path, name);
}

/* Names are single entries of the subdir: nothing can reach outside it. */
static int
check_name(const char *name, pd_error_t *err)
{
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL)
		return pd_make_plain_error(err, EINVAL,
					   "\"%s\" is not a file name of the seccomp folder", name);
	return 0;
}

int
pd_store_holds(struct pd_store *s, const char *name, const char *data, size_t len, pd_error_t *err)
{
	int ret = check_name(name, err);

	if (ret < 0)
		return ret;
	return pd_file_equals(s->dirfd, name, data, len, err);
}

int
pd_store_holds_hash(struct pd_store *s, const char *name, const char *sha256, pd_error_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char hash[PD_SHA256_HEX_LEN + 1];
	pd_error_t e = NULL;
	size_t len = 0;
	int ret;

	if ((ret = check_name(name, err)) < 0)
		return ret;
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 0;
		return pd_make_error(err, errno, "open `%s/%s`", s->path, name);
	}
	if (pd_read_fd(fd, PD_SECCOMP_MAX_BYTES, &buf, &len, &e) < 0) {
		pd_error_release(&e);
		return 0;
	}
	pd_sha256_hex(buf, len, hash);
	return strcmp(hash, sha256) == 0;
}

int
pd_store_put(struct pd_store *s, const char *name, const char *data, size_t len, bool *changed,
	     pd_error_t *err)
{
	struct stat st;
	int ret;

	*changed = false;
	if ((ret = check_name(name, err)) < 0)
		return ret;
	ret = pd_file_equals(s->dirfd, name, data, len, err);
	if (ret < 0)
		return ret;
	/* Same bytes but a wrong mode still needs a publish. */
	if (ret == 1 && fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (st.st_mode & 07777) == PUBLISH_MODE)
		return 0;
	ret = pd_publish_atomic(s->dirfd, name, data, len, PUBLISH_MODE, err);
	if (ret < 0)
		return pd_error_wrap(err, ret, "publish `%s/%s`", s->path, name);
	*changed = true;
	return 0;
}

int
pd_store_remove(struct pd_store *s, const char *name, pd_error_t *err)
{
	int ret = check_name(name, err);

	if (ret < 0)
		return ret;
	if (unlinkat(s->dirfd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return pd_make_error(err, errno, "remove `%s/%s`", s->path, name);
	}
	if (fsync(s->dirfd) < 0 && errno != EINVAL)
		return pd_make_error(err, errno, "fsync `%s`", s->path);
	return 0;
}

int
pd_store_list(struct pd_store *s, struct pd_strv *out, pd_error_t *err)
{
	int fd = dup(s->dirfd);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return pd_make_error(err, errno, "list `%s`", s->path);
	d = fdopendir(fd);
	if (d == NULL) {
		int saved = errno;

		close(fd);
		return pd_make_error(err, saved, "list `%s`", s->path);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.' || pd_json_stem_len(de->d_name) == strlen(de->d_name))
			continue;
		/* Some file systems do not fill d_type. */
		if (de->d_type != DT_REG &&
		    (de->d_type != DT_UNKNOWN ||
		     fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !S_ISREG(st.st_mode)))
			continue;
		pd_strv_push(out, pd_xstrdup(de->d_name));
	}
	closedir(d);
	return 0;
}
