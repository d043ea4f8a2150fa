/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
pd_read_upto(int fd, size_t limit, size_t hint, char **out, size_t *len, pd_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = hint == 0 ? 1 : hint < limit ? hint : limit, used = 0;

	buf = pd_xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (used == cap) {
			if (cap >= limit)
				break;
			cap = cap > limit / 2 ? limit : cap * 2;
			buf = pd_xrealloc(buf, cap + 1, 1);
		}
		r = read(fd, buf + used, cap - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pd_make_error(err, errno, "read");
		if (r == 0)
			break;
		used += (size_t)r;
	}
	buf[used] = '\0';
	*len = used;
	*out = steal_pointer(&buf);
	return 0;
}

int
pd_read_fd(int fd, size_t max, char **out, size_t *len, pd_error_t *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t used;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return pd_make_error(err, errno, "fstat");
	if (!S_ISREG(st.st_mode))
		return pd_make_plain_error(err, EINVAL, "not a regular file");
	if ((unsigned long long)st.st_size > max)
		return pd_make_plain_error(err, EFBIG, "file is %lld bytes, over the limit of %zu",
					   (long long)st.st_size, max);
	/* The size can change under us: read until EOF, one byte past max at
	 * most, which tells a file that grew over it. */
	if ((ret = pd_read_upto(fd, max + 1, (size_t)st.st_size + 1, &buf, &used, err)) < 0)
		return ret;
	if (used > max)
		return pd_make_plain_error(err, EFBIG, "file grew over the limit of %zu bytes",
					   max);
	*len = used;
	*out = steal_pointer(&buf);
	return 0;
}

int
pd_file_equals(int dirfd, const char *name, const void *data, size_t len, pd_error_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *cur = NULL;
	size_t curlen = 0;
	pd_error_t rerr = NULL;
	int ret;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP)
			return 0;
		return pd_make_error(err, errno, "open `%s`", name);
	}
	/* Anything that is not a regular file of the right size is "different". */
	ret = pd_read_fd(fd, len, &cur, &curlen, &rerr);
	if (ret < 0) {
		bool benign = ret == -EFBIG || ret == -EINVAL;

		if (benign) {
			pd_error_release(&rerr);
			return 0;
		}
		if (err != NULL)
			*err = steal_pointer(&rerr);
		return pd_error_wrap(err, ret, "read `%s`", name);
	}
	return curlen == len && memcmp(cur, data, len) == 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
pd_publish_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		  pd_error_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int ret;

	char suffix[32];
	int keep;

	/* A leading dot keeps the temporary out of every scan of the folder.
	 * The name is cut so that the temporary fits NAME_MAX too (a name of
	 * 250 bytes is valid; one temporary at a time, so a cut cannot clash). */
	snprintf(suffix, sizeof(suffix), ".tmp-%d", (int)getpid());
	keep = NAME_MAX - 1 - (int)strlen(suffix);
	tmp = pd_xasprintf(".%.*s%s", keep, name, suffix);
	(void)unlinkat(dirfd, tmp, 0); /* left over by a killed earlier run */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pd_make_error(err, errno, "create `%s`", tmp);
	ret = write_all(fd, data, len);
	if (ret < 0) {
		pd_make_error(err, -ret, "write `%s`", tmp);
		goto fail;
	}
	if (fchmod(fd, mode) < 0) {
		ret = pd_make_error(err, errno, "chmod `%s`", tmp);
		goto fail;
	}
	if (fsync(fd) < 0) {
		ret = pd_make_error(err, errno, "fsync `%s`", tmp);
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		ret = pd_make_error(err, errno, "rename `%s` to `%s`", tmp, name);
		goto fail;
	}
	/* The rename is durable only once the folder itself is synced. */
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return pd_make_error(err, errno, "fsync folder of `%s`", name);
	return 0;
fail:
	(void)unlinkat(dirfd, tmp, 0);
	return ret;
}

int
pd_open_subdir(int dirfd, const char *name, mode_t mode, bool create, pd_error_t *err)
{
	bool made = false;
	int fd;

	if (create) {
		if (mkdirat(dirfd, name, mode) == 0)
			made = true;
		else if (errno != EEXIST)
			return pd_make_error(err, errno, "mkdir `%s`", name);
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pd_make_error(err, errno, "open folder `%s`", name);
	/* The mode asked for, whatever the umask: the kubelet must read it. */
	if (made && fchmod(fd, mode) < 0) {
		int saved = errno;

		close(fd);
		return pd_make_error(err, saved, "chmod folder `%s`", name);
	}
	return fd;
}
