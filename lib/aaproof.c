/* SPDX-License-Identifier: Apache-2.0 */
#include "aaproof.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

/* Profile names are bounded by the kernel's page-sized `name` file. */
#define NAME_MAX_BYTES 4096
/* Children (hats) nest as <dir>/profiles/<child>.<n>; deeper is refused. */
#define MAX_DEPTH 16

static int
hash_fd(int fd, size_t max, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int ret = pd_read_fd(fd, max, &data, &len, err);

	if (ret < 0)
		return ret;
	pd_sha256_hex(data, len, out);
	return 0;
}

/* The text of <dirfd>/<sub>/name without its newline, or NULL. */
static char *
read_name(int dirfd, const char *sub)
{
	_cleanup_free_ char *path = pd_xasprintf("%s/name", sub);
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *text = NULL;
	size_t len = 0;

	if (fd < 0 || pd_read_fd(fd, NAME_MAX_BYTES, &text, &len, NULL) < 0)
		return NULL;
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (strlen(text) != len) { /* a NUL inside: not a name */
		free(text);
		return NULL;
	}
	return text;
}

static int
find_in(int dirfd, const char *name, int depth, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err)
{
	_cleanup_close_ int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int ret = -ENOENT;

	if (d == NULL)
		return pd_make_error(err, errno, "list the loaded profiles");
	fd = -1; /* owned by d */
	while (ret == -ENOENT && (de = readdir(d)) != NULL) {
		_cleanup_free_ char *have = NULL;
		size_t hl;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		have = read_name(dirfd, de->d_name);
		if (have == NULL)
			continue;
		hl = strlen(have);
		if (strcmp(have, name) == 0) {
			_cleanup_free_ char *raw = pd_xasprintf("%s/raw_data", de->d_name);
			_cleanup_close_ int rfd = openat(dirfd, raw, O_RDONLY | O_CLOEXEC);

			if (rfd < 0 && errno == ENOENT)
				ret = pd_make_plain_error(err, ENODATA,
							  "the kernel exports no policy data for "
							  "profile `%s` (apparmor.export_binary)",
							  name);
			else if (rfd < 0)
				ret = pd_make_error(err, errno,
						    "open the policy data of profile `%s`", name);
			else if ((ret = hash_fd(rfd, PD_AA_RAW_MAX, out, err)) < 0)
				ret = pd_error_wrap(err, ret,
						    "read the policy data of profile `%s`", name);
		} else if (depth < MAX_DEPTH && strncmp(name, have, hl) == 0 &&
			   strncmp(name + hl, "//", 2) == 0) {
			_cleanup_free_ char *sub = pd_xasprintf("%s/profiles", de->d_name);
			_cleanup_close_ int sfd =
				openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (sfd >= 0)
				ret = find_in(sfd, name, depth + 1, out, err);
		}
	}
	closedir(d);
	return ret;
}

int
pd_aa_loaded_raw_sha256(const char *fs, const char *name, char out[PD_SHA256_HEX_LEN + 1],
			pd_error_t *err)
{
	_cleanup_free_ char *path = pd_xasprintf("%s/policy/profiles", fs);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char hex[PD_SHA256_HEX_LEN + 1];
	int ret;

	if (fd < 0 && errno == ENOENT)
		return pd_make_plain_error(err, ENODATA,
					   "the kernel exports no policy folder (`%s`)", path);
	if (fd < 0)
		return pd_make_error(err, errno, "open `%s`", path);
	ret = find_in(fd, name, 0, hex, err);
	if (ret == -ENOENT)
		return pd_make_plain_error(err, ENOENT, "profile `%s` is not in `%s`", name, path);
	if (ret < 0)
		return ret;
	memcpy(out, hex, sizeof(hex));
	return 0;
}

int
pd_aa_binary_sha256(const char *path, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int ret;

	if (fd < 0)
		return pd_make_error(err, errno, "open `%s`", path);
	if ((ret = hash_fd(fd, PD_AA_RAW_MAX, out, err)) < 0)
		return pd_error_wrap(err, ret, "read `%s`", path);
	return 0;
}
