/* SPDX-License-Identifier: Apache-2.0 */
#include "aacache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct digest {
	EVP_MD_CTX *md;
	long long budget; /* content bytes still hashed */
};

static void
add(struct digest *d, const void *data, size_t len)
{
	if (EVP_DigestUpdate(d->md, data, len) != 1)
		abort(); /* cannot fail on a valid context */
}

/* A tagged, length-prefixed field, so that no two inputs hash alike. */
static void
add_field(struct digest *d, const char *tag, const void *data, size_t len)
{
	unsigned long long n = len;

	add(d, tag, strlen(tag) + 1);
	add(d, &n, sizeof(n));
	add(d, data, len);
}

static int
add_file(struct digest *d, int dirfd, const char *name, const char *shown, pd_error_t *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return pd_make_error(err, errno, "open `%s`", shown);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pd_make_error(err, errno, "read `%s`", shown);
		}
		add(d, buf, (size_t)n);
		d->budget -= n;
	}
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Every entry of the folder, in name order: its path, its kind and, for a
 * regular file (a symbolic link is followed, as the parser follows it), its
 * bytes; sizes and change times once the content budget is spent.  A file
 * that cannot be read counts by its error: a later fix changes the digest.
 */
static void
add_tree(struct digest *d, const char *dir, const char *rel, int depth)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, by_name);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (n < 0 || dfd < 0) {
		add_field(d, "unreadable", rel, strlen(rel));
		for (int i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		_cleanup_free_ char *path = pd_xasprintf("%s/%s", dir, name);
		_cleanup_free_ char *sub = pd_xasprintf("%s/%s", rel, name);
		struct stat lst, st;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0) {
			free(ents[i]);
			continue;
		}
		if (S_ISLNK(lst.st_mode)) {
			char target[PATH_MAX];
			ssize_t tl = readlinkat(dfd, name, target, sizeof(target));

			add_field(d, "link", sub, strlen(sub));
			if (tl > 0)
				add_field(d, "target", target, (size_t)tl);
		}
		if (fstatat(dfd, name, &st, 0) < 0) {
			add_field(d, "dangling", sub, strlen(sub));
		} else if (S_ISDIR(st.st_mode)) {
			add_field(d, "dir", sub, strlen(sub));
			/* A linked folder is named, not walked: no loops. */
			if (!S_ISLNK(lst.st_mode) && depth < 16)
				add_tree(d, path, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			long long meta[3] = { (long long)st.st_size, (long long)st.st_mtim.tv_sec,
					      (long long)st.st_mtim.tv_nsec };

			add_field(d, "file", sub, strlen(sub));
			if (d->budget >= st.st_size) {
				pd_error_t e = NULL;

				if (add_file(d, dfd, name, sub, &e) < 0)
					add_field(d, "error", pd_error_msg(e),
						  strlen(pd_error_msg(e)));
				pd_error_release(&e);
			} else {
				add_field(d, "meta", meta, sizeof(meta));
			}
		} else {
			add_field(d, "other", sub, strlen(sub));
		}
		free(ents[i]);
	}
	free(ents);
}

/* The program execvp() would run for parser. */
static char *
resolve(const char *parser)
{
	const char *path = getenv("PATH");

	if (strchr(parser, '/') != NULL)
		return pd_xstrdup(parser);
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");
		char *cand = pd_xasprintf("%.*s/%s", (int)n, n ? path : ".", parser);

		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		path += n + (path[n] == ':');
	}
	return NULL;
}

int
pd_aa_context_digest(const char *parser, const char *version, const char *features,
		     const char *root, char out[PD_SHA256_HEX_LEN + 1], pd_error_t *err)
{
	struct digest d = { .md = EVP_MD_CTX_new(), .budget = PD_AA_TREE_MAX_BYTES };
	_cleanup_free_ char *prog = resolve(parser);
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct stat st;
	int ret = 0;

	if (d.md == NULL)
		pd_oom();
	if (EVP_DigestInit_ex(d.md, EVP_sha256(), NULL) != 1)
		abort();
	/* 2: compiles report the rules not enforced (--warn=rule-*). */
	add_field(&d, "profiled-aa-cache", "2", 1);
	add_field(&d, "version", version, strlen(version));
	if (prog == NULL) {
		ret = pd_make_plain_error(err, ENOENT, "AppArmor parser `%s` not found on PATH",
					  parser);
		goto out;
	}
	add_field(&d, "parser", prog, strlen(prog));
	if ((ret = add_file(&d, AT_FDCWD, prog, prog, err)) < 0)
		goto out;
	add_field(&d, "features", features != NULL ? features : "kernel",
		  strlen(features != NULL ? features : "kernel"));
	if (features != NULL && stat(features, &st) == 0) {
		if (S_ISREG(st.st_mode)) {
			pd_error_t e = NULL;

			if (add_file(&d, AT_FDCWD, features, features, &e) < 0)
				add_field(&d, "error", pd_error_msg(e), strlen(pd_error_msg(e)));
			pd_error_release(&e);
		} else if (S_ISDIR(st.st_mode)) {
			add_tree(&d, features, "", 0);
		}
	}
	add_field(&d, "includes", root, strlen(root));
	add_tree(&d, root, "", 0);
	if (EVP_DigestFinal_ex(d.md, md, &mdlen) != 1 || mdlen != sizeof(md))
		abort();
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(d.md);
	return ret;
}
