/* SPDX-License-Identifier: Apache-2.0 */
#include "apparmor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdint.h>
#include <sys/apparmor.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "aacache.h"
#include "aatext.h"
#include "spawn.h"
#include "fileio.h"

struct pd_aa {
	char *parser;
	char *fs;	     /* loads go here (load) or the parser's stand-in */
	char *features;	     /* -M argument: the kernel's (a copy), given or pinned */
	char *features_desc; /* what features is, for logs; NULL: features itself */
	char *include_root;
	char *cache_root; /* our cache folder: ctx-DIGEST/ under it */
	char *cache_dir;  /* cache_root/ctx-DIGEST: this parser, features and
			   * include folder's results (see aacache.h) */
	char *cache_sub;  /* the parser's cache folder for this feature set */
	char *version;	  /* the parser's --version output */
	char context[PD_SHA256_HEX_LEN + 1];
	bool own_cache; /* a temporary cache, removed on free */
	bool load;
	int jobs;
	long long compile_timeout_ms; /* one file alone */
	aa_features *kf;
	aa_kernel_interface *ki;
	const struct pd_spawn_cancel *cancel;
};

void
pd_aa_set_cancel(struct pd_aa *aa, const struct pd_spawn_cancel *cancel)
{
	aa->cancel = cancel;
}

bool
pd_aa_kernel_enabled(void)
{
	return aa_is_enabled() == 1;
}

const char *
pd_aa_fs(const struct pd_aa *aa)
{
	return aa->fs;
}

const char *
pd_aa_context(const struct pd_aa *aa)
{
	return aa->context;
}

const char *
pd_aa_features_desc(const struct pd_aa *aa)
{
	if (aa->features_desc != NULL)
		return aa->features_desc;
	return aa->features != NULL ? aa->features : "kernel";
}

/* ------------------------------------------------------------------------ */
/* include checking */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The rule and the lexer's reading of includes live in aatext.c. */
int
pd_aa_check_includes(const char *src, size_t len, pd_error_t *err)
{
	return pd_aat_check_includes(src, len, PD_AA_INCLUDE_ROOT, err);
}

/* ------------------------------------------------------------------------ */
/* running the parser */

struct argv {
	char **v;
	size_t n, cap;
};

static void
argv_push_owned(struct argv *a, char *s)
{
	pd_grow(&a->v, &a->cap, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
argv_push(struct argv *a, const char *s)
{
	argv_push_owned(a, pd_xstrdup(s));
}

static void
argv_clear(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void
base_args(const struct pd_aa *aa, struct argv *a)
{
	argv_push(a, aa->parser);
	/* The search path is the include folder alone (a parser.conf `base`
	 * cannot move it): what the include check allowed is what is read. */
	argv_push(a, "--base");
	argv_push(a, aa->include_root);
	argv_push(a, "--subdomainfs");
	argv_push(a, aa->fs);
	if (aa->features != NULL) {
		argv_push(a, "--features-file");
		argv_push(a, aa->features);
	}
}

/*
 * A parser message about a file that is neither the source (path) nor under
 * the include folder would quote a host file: its name, line and first
 * unexpected character.  The include check keeps the parser from opening
 * such a file; this keeps its words out of logs, Events and conditions if
 * that ever failed.
 */
static bool
about_outside_file(const char *line, const char *path)
{
	const char *f = strstr(line, " in profile ");

	if (f == NULL || path == NULL)
		return false;
	f += strlen(" in profile ");
	return strncmp(f, path, strlen(path)) != 0 &&
	       strncmp(f, PD_AA_INCLUDE_ROOT "/", strlen(PD_AA_INCLUDE_ROOT "/")) != 0;
}

/* The parser's messages without its cache chatter, with path replaced by
 * label. */
static char *
clean_message(const char *text, const char *path, const char *label)
{
	struct pd_strv lines = { 0 };
	const char *p = text;
	char *out;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *l = pd_xstrndup(p, n);

		p += n + (nl != NULL);
		if (n == 0 || strstr(l, "Cache read/write disabled") != NULL) {
			free(l);
			continue;
		}
		if (about_outside_file(l, path)) {
			free(l);
			l = pd_xstrdup("AppArmor parser error in a file outside " PD_AA_INCLUDE_ROOT
				       " (not shown)");
		}
		if (path != NULL && label != NULL && path[0] != '\0') {
			size_t from = 0;
			char *hit;

			/* Searched after each replacement: the label may hold
			 * the path. */
			while ((hit = strstr(l + from, path)) != NULL) {
				char *r = pd_xasprintf("%.*s%s%s", (int)(hit - l), l, label,
						       hit + strlen(path));

				from = (size_t)(hit - l) + strlen(label);
				free(l);
				l = r;
			}
		}
		pd_strv_push(&lines, l);
	}
	out = pd_strv_join(&lines, "; ");
	pd_strv_clear(&lines);
	return out;
}

static int
mkdir_p1(const char *dir, mode_t mode, pd_error_t *err)
{
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return pd_make_error(err, errno, "create `%s`", dir);
	return 0;
}

static int
touch(const char *dir, const char *name, pd_error_t *err)
{
	_cleanup_free_ char *p = pd_xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return pd_make_error(err, errno, "create `%s`", p);
	close(fd);
	return 0;
}

/* The parser's configured policy-features pin, if any. */
static char *
pinned_features(void)
{
	_cleanup_fclose_ FILE *f = fopen(PD_AA_PARSER_CONF, "re");
	char line[4096];

	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v = line;

		while (is_blank(*v))
			v++;
		if (strncmp(v, "policy-features", 15) != 0)
			continue;
		v += 15;
		while (is_blank(*v) || *v == '=')
			v++;
		v[strcspn(v, " \t\r\n")] = '\0';
		if (*v != '\0')
			return pd_xstrdup(v);
	}
	return NULL;
}

static int
find_cache_sub(struct pd_aa *aa, pd_error_t *err)
{
	struct argv a = { 0 };
	struct pd_spawn_result r;
	int ret;

	base_args(aa, &a);
	argv_push(&a, "--cache-loc");
	argv_push(&a, aa->cache_dir);
	argv_push(&a, "--print-cache-dir");
	ret = pd_spawn(a.v, NULL, 0, PD_AA_NAMES_TIMEOUT_MS, aa->cancel, &r, err);
	argv_clear(&a);
	if (ret < 0)
		return ret;
	r.out[strcspn(r.out, "\n")] = '\0';
	if (r.status != 0 || r.out[0] != '/') {
		_cleanup_free_ char *msg = clean_message(r.err, NULL, NULL);

		ret = pd_make_plain_error(err, EIO, "`%s --print-cache-dir` failed (exit %d): %s",
					  aa->parser, r.status, msg);
	} else {
		aa->cache_sub = pd_xstrdup(r.out);
		ret = 0;
	}
	pd_spawn_result_clear(&r);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* the cache's context */

static void rm_tree(const char *path);

static int
parser_version(struct pd_aa *aa, pd_error_t *err)
{
	struct argv a = { 0 };
	struct pd_spawn_result r;
	int ret;

	argv_push(&a, aa->parser);
	argv_push(&a, "--version");
	ret = pd_spawn(a.v, NULL, 0, PD_AA_NAMES_TIMEOUT_MS, aa->cancel, &r, err);
	argv_clear(&a);
	if (ret < 0)
		return ret;
	if (r.status != 0 || r.timedout) {
		_cleanup_free_ char *msg = clean_message(r.err, NULL, NULL);

		ret = pd_make_plain_error(err, EIO, "`%s --version` failed (exit %d): %s",
					  aa->parser, r.status, msg);
	} else {
		free(aa->version);
		aa->version = pd_xasprintf("%s\n%s", r.out, r.err);
	}
	pd_spawn_result_clear(&r);
	return ret;
}

/* Removes what other contexts (and the layout before them) left in the
 * cache root: their results can never be used again. */
static void
prune_contexts(const struct pd_aa *aa, const char *keep)
{
	DIR *d = opendir(aa->cache_root);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t hex = strspn(n, "0123456789abcdef");
		bool legacy = strcmp(n, "names") == 0 || strcmp(n, "src") == 0 ||
			      strcmp(n, "errors") == 0 ||
			      (hex > 0 && n[hex] == '.' && n[hex + 1] != '\0' &&
			       strspn(n + hex + 1, "0123456789") == strlen(n + hex + 1));

		if ((strncmp(n, "ctx-", 4) == 0 && strcmp(n, keep) != 0) || legacy) {
			_cleanup_free_ char *p = pd_xasprintf("%s/%s", aa->cache_root, n);

			rm_tree(p);
		}
	}
	closedir(d);
}

/* Points the cache at the folder of the current context (aacache.h),
 * creating it when the parser, the features or the include folder changed. */
static int
use_context(struct pd_aa *aa, pd_error_t *err)
{
	char digest[PD_SHA256_HEX_LEN + 1];
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *names = NULL;
	_cleanup_free_ char *srcs = NULL;
	int ret;

	if ((ret = pd_aa_context_digest(aa->parser, aa->version, aa->features, aa->include_root,
					digest, err)) < 0)
		return ret;
	if (aa->cache_sub != NULL && strcmp(digest, aa->context) == 0)
		return 0;
	name = pd_xasprintf("ctx-%.32s", digest);
	dir = pd_xasprintf("%s/%s", aa->cache_root, name);
	names = pd_xasprintf("%s/names", dir);
	srcs = pd_xasprintf("%s/src", dir);
	if ((ret = mkdir_p1(dir, 0700, err)) < 0 || (ret = mkdir_p1(names, 0700, err)) < 0 ||
	    (ret = mkdir_p1(srcs, 0700, err)) < 0)
		return ret;
	free(aa->cache_dir);
	aa->cache_dir = pd_steal(&dir);
	free(aa->cache_sub);
	aa->cache_sub = NULL;
	if ((ret = find_cache_sub(aa, err)) < 0)
		return ret;
	memcpy(aa->context, digest, sizeof(digest));
	prune_contexts(aa, name);
	return 0;
}

int
pd_aa_refresh(struct pd_aa *aa, pd_error_t *err)
{
	return use_context(aa, err);
}

/*
 * The kernel's features, copied into the cache root as the parser's
 * features file: the parser then compiles for this kernel (its `-M` sets
 * both the kernel's and the policy's features, overriding a parser.conf
 * `policy-features` pin; a profile's `abi` line still narrows them), and
 * the cache context digests the features' text, not securityfs times.
 */
static int
snapshot_features(struct pd_aa *aa, const char *kfeat, pd_error_t *err)
{
	_cleanup_free_ char *path = pd_xasprintf("%s/kernel-features", aa->cache_root);
	_cleanup_free_ char *tmp = pd_xasprintf("%s.tmp", path);
	aa_features *kf = NULL;
	int ret = 0;

	if (aa_features_new(&kf, AT_FDCWD, kfeat) < 0)
		return pd_make_error(err, errno, "read the AppArmor features in `%s`", kfeat);
	unlink(tmp);
	if (aa_features_write_to_file(kf, AT_FDCWD, tmp) < 0)
		ret = pd_make_error(err, errno, "write `%s`", tmp);
	else if (rename(tmp, path) < 0)
		ret = pd_make_error(err, errno, "rename `%s`", tmp);
	aa_features_unref(kf);
	if (ret < 0) {
		unlink(tmp);
		return ret;
	}
	aa->features = pd_steal(&path);
	aa->features_desc = pd_xasprintf("kernel (%s)", kfeat);
	return 0;
}

/* The cache's root: o->cache_dir, or a private temporary folder (removed
 * by pd_aa_free()). */
static int
open_cache_root(struct pd_aa *aa, const struct pd_aa_options *o, pd_error_t *err)
{
	const char *tmp = getenv("TMPDIR");
	int ret;

	if (o->cache_dir != NULL) {
		if ((ret = mkdir_p1(o->cache_dir, 0700, err)) < 0)
			return ret;
		/* The parser reports its cache folder from this path. */
		aa->cache_root = realpath(o->cache_dir, NULL);
		if (aa->cache_root == NULL)
			return pd_make_error(err, errno, "resolve `%s`", o->cache_dir);
		return 0;
	}
	aa->cache_root = pd_xasprintf("%s/profiled-apparmor.XXXXXX",
				      tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(aa->cache_root) == NULL)
		return pd_make_error(err, errno, "create a temporary folder");
	aa->own_cache = true;
	return 0;
}

/* The AppArmor interface folder: the kernel's (or o->fs) to load into, else
 * a private one the parser never loads into. */
static int
open_fs(struct pd_aa *aa, const struct pd_aa_options *o, pd_error_t *err)
{
	int ret;

	if (o->load) {
		if (o->fs != NULL) {
			aa->fs = pd_xstrdup(o->fs);
		} else if (aa_find_mountpoint(&aa->fs) < 0) {
			aa->fs = NULL;
			return pd_make_error(err, errno, "find the AppArmor filesystem");
		}
		return 0;
	}
	/* The parser keeps no cache without an interface folder:
	 * give it a private one it never loads into (-Q). */
	aa->fs = pd_xasprintf("%s/parserfs", aa->cache_root);
	if ((ret = mkdir_p1(aa->fs, 0700, err)) < 0 || (ret = touch(aa->fs, ".load", err)) < 0 ||
	    (ret = touch(aa->fs, ".replace", err)) < 0 || (ret = touch(aa->fs, ".remove", err)) < 0)
		return ret;
	return 0;
}

/* The features compiled for: o->features, the kernel's when loading into a
 * kernel that lists them, else the parser's pin or the default. */
static int
choose_features(struct pd_aa *aa, const struct pd_aa_options *o, pd_error_t *err)
{
	struct stat st;
	int ret;

	if (o->features != NULL) {
		aa->features = pd_xstrdup(o->features);
	} else {
		_cleanup_free_ char *kfeat = pd_xasprintf("%s/features", aa->fs);

		if (o->load && stat(kfeat, &st) == 0) {
			if ((ret = snapshot_features(aa, kfeat, err)) < 0)
				return ret;
		} else {
			aa->features = pinned_features();
			if (aa->features == NULL)
				aa->features = pd_xstrdup(PD_AA_DEFAULT_FEATURES);
		}
	}
	if (aa->features != NULL && stat(aa->features, &st) < 0)
		return pd_make_error(err, errno, "AppArmor features file `%s`", aa->features);
	return 0;
}

/* libapparmor's kernel interface, for loading. */
static int
open_interface(struct pd_aa *aa, pd_error_t *err)
{
	int ret;

	if (aa->features != NULL)
		ret = aa_features_new(&aa->kf, AT_FDCWD, aa->features);
	else
		ret = aa_features_new_from_kernel(&aa->kf);
	if (ret < 0)
		return pd_make_error(err, errno, "read the AppArmor features");
	if (aa_kernel_interface_new(&aa->ki, aa->kf, aa->fs) < 0)
		return pd_make_error(err, errno, "open the AppArmor interface in `%s`", aa->fs);
	return 0;
}

int
pd_aa_open(const struct pd_aa_options *o, struct pd_aa **out, pd_error_t *err)
{
	struct pd_aa *aa = pd_xcalloc(1, sizeof(*aa));
	int ret;

	aa->parser = pd_xstrdup(o->parser != NULL ? o->parser : PD_AA_DEFAULT_PARSER);
	aa->include_root =
		pd_xstrdup(o->include_root != NULL ? o->include_root : PD_AA_INCLUDE_ROOT);
	aa->load = o->load;
	aa->jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (aa->jobs < 1)
		aa->jobs = 1;
	aa->compile_timeout_ms =
		o->compile_timeout_ms > 0 ? o->compile_timeout_ms : PD_AA_COMPILE_TIMEOUT_MS;
	if ((ret = open_cache_root(aa, o, err)) < 0 || (ret = open_fs(aa, o, err)) < 0 ||
	    (ret = choose_features(aa, o, err)) < 0 ||
	    (o->load && (ret = open_interface(aa, err)) < 0) ||
	    (ret = parser_version(aa, err)) < 0 || (ret = use_context(aa, err)) < 0) {
		pd_aa_free(aa);
		return ret;
	}
	*out = aa;
	return 0;
}

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			_cleanup_free_ char *p = NULL;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			p = pd_xasprintf("%s/%s", path, de->d_name);
			if (de->d_type == DT_DIR)
				rm_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

void
pd_aa_free(struct pd_aa *aa)
{
	if (aa == NULL)
		return;
	if (aa->own_cache && aa->cache_root != NULL)
		rm_tree(aa->cache_root);
	aa_kernel_interface_unref(aa->ki);
	aa_features_unref(aa->kf);
	free(aa->parser);
	free(aa->include_root);
	free(aa->fs);
	free(aa->features);
	free(aa->features_desc);
	free(aa->cache_root);
	free(aa->cache_dir);
	free(aa->cache_sub);
	free(aa->version);
	free(aa);
}

/* ------------------------------------------------------------------------ */
/* compiling */

void
pd_aa_unit_clear(struct pd_aa_unit *u)
{
	pd_strv_clear(&u->names);
	pd_strv_clear(&u->warnings);
	pd_aa_gaps_clear(&u->gaps);
	free(u->binary);
	free(u->error);
	u->binary = NULL;
	u->error = NULL;
	u->cached = false;
	u->pending = false;
}

static int
read_small(const char *path, char **out, pd_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len;

	if (fd < 0)
		return pd_make_error(err, errno, "open `%s`", path);
	return pd_read_fd(fd, 1024 * 1024, out, &len, err);
}

static void
split_lines(const char *text, struct pd_strv *out)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		if (n > 0)
			pd_strv_push(out, pd_xstrndup(p, n));
		p += n + (p[n] == '\n');
	}
}

static int
write_file(const char *dir, const char *name, const char *data, size_t len, pd_error_t *err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return pd_make_error(err, errno, "open `%s`", dir);
	return pd_publish_atomic(dfd, name, data, len, 0600, err);
}

/* Where the compiled policy of a source is in the cache: the cache key is
 * the parser's folder for the feature set and the source's SHA-256. */
static char *
binary_path(const struct pd_aa *aa, const char *sha256)
{
	return pd_xasprintf("%s/%s", aa->cache_sub, sha256);
}

/* The copy of a source the parser reads (named by its SHA-256, so that the
 * parser's cache entry has that name too). */
static char *
source_path(const struct pd_aa *aa, const char *sha256)
{
	return pd_xasprintf("%s/src/%s", aa->cache_dir, sha256);
}

/*
 * A file the parser refused is remembered too (by source hash, per feature
 * set), so that a bad file left in a ConfigMap does not run the parser at
 * every resync.  So is a file the parser could not compile within the
 * per-file budget: a profile whose automaton explodes would otherwise cost
 * the budget again at every resync.  The message is kept with its file name
 * replaced by a placeholder, put back for whatever file has those bytes.
 * The parser's warnings about a file that compiled are kept the same way.
 */
#define SOURCE_PLACEHOLDER "\x01SOURCE\x01"

static char *
error_path(const struct pd_aa *aa, const char *sha256)
{
	const char *feat = strrchr(aa->cache_sub, '/');

	return pd_xasprintf("%s/errors/%s/%s", aa->cache_dir, feat != NULL ? feat + 1 : "x",
			    sha256);
}

static bool
cached_error(struct pd_aa *aa, struct pd_aa_unit *u)
{
	_cleanup_free_ char *path = error_path(aa, u->sha256);
	_cleanup_free_ char *text = NULL;

	if (read_small(path, &text, NULL) < 0 || text[0] == '\0')
		return false;
	u->error = clean_message(text, SOURCE_PLACEHOLDER, u->label);
	return true;
}

static void
remember_error(struct pd_aa *aa, const char *sha256, const char *label, const char *error)
{
	_cleanup_free_ char *path = error_path(aa, sha256);
	_cleanup_free_ char *text = clean_message(error, label, SOURCE_PLACEHOLDER);
	char *slash = strrchr(path, '/');
	pd_error_t e = NULL;

	*slash = '\0';
	{
		_cleanup_free_ char *top = pd_xasprintf("%s/errors", aa->cache_dir);

		if (mkdir_p1(top, 0700, NULL) < 0 || mkdir_p1(path, 0700, NULL) < 0)
			return;
	}
	/* Best effort: without it the parser runs again, never wrongly. */
	write_file(path, slash + 1, text, strlen(text), &e);
	pd_error_release(&e);
}

/* Lines ended by '\n', each passed through clean_message(from -> to)
 * when from is not NULL. */
static char *
join_lines(const struct pd_strv *v, const char *from, const char *to)
{
	struct pd_strv lines = { 0 };
	char *text;

	for (size_t k = 0; k < v->n; k++)
		pd_strv_push(&lines,
			     from != NULL ? clean_message(v->v[k], from, to) : pd_xstrdup(v->v[k]));
	pd_strv_push(&lines, pd_xstrdup("")); /* the last line's '\n' */
	text = pd_strv_join(&lines, "\n");
	pd_strv_clear(&lines);
	return text;
}

/* The names (and warnings) of a file that compiled.  Without the names file
 * the next run compiles again: slower, never wrong. */
static void
remember_compiled(struct pd_aa *aa, const char *sha256, const char *label,
		  const struct pd_strv *names, const struct pd_strv *warnings)
{
	_cleanup_free_ char *ndir = pd_xasprintf("%s/names", aa->cache_dir);
	_cleanup_free_ char *text = join_lines(names, NULL, NULL);
	_cleanup_free_ char *wpath = pd_xasprintf("%s/%s.warnings", ndir, sha256);
	pd_error_t e = NULL;

	if (warnings->n > 0) {
		_cleanup_free_ char *w = join_lines(warnings, label, SOURCE_PLACEHOLDER);
		_cleanup_free_ char *wname = pd_xasprintf("%s.warnings", sha256);

		write_file(ndir, wname, w, strlen(w), &e);
		pd_error_release(&e);
	} else {
		unlink(wpath);
	}
	write_file(ndir, sha256, text, strlen(text), &e);
	pd_error_release(&e);
}

static bool
cached(struct pd_aa *aa, struct pd_aa_unit *u)
{
	_cleanup_free_ char *names = pd_xasprintf("%s/names/%s", aa->cache_dir, u->sha256);
	_cleanup_free_ char *warn = pd_xasprintf("%s.warnings", names);
	_cleanup_free_ char *bin = binary_path(aa, u->sha256);
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *wtext = NULL;
	struct stat st;

	if (stat(bin, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	if (read_small(names, &text, NULL) < 0)
		return false;
	split_lines(text, &u->names);
	if (u->names.n == 0)
		return false;
	if (read_small(warn, &wtext, NULL) == 0) {
		struct pd_strv w = { 0 };

		split_lines(wtext, &w);
		for (size_t i = 0; i < w.n; i++) {
			_cleanup_free_ char *profile = NULL;
			enum pd_aa_rule_class cls;
			enum pd_aa_gap_kind kind;

			/* The placeholder stands for the file: no name can
			 * pass for it. */
			if (pd_aa_parse_gap(w.v[i], SOURCE_PLACEHOLDER, &profile, &cls, &kind))
				pd_aa_gaps_add(&u->gaps, profile, cls, kind);
			else
				pd_strv_push(&u->warnings,
					     clean_message(w.v[i], SOURCE_PLACEHOLDER, u->label));
		}
		pd_strv_clear(&w);
	}
	u->binary = pd_steal(&bin);
	u->cached = true;
	return true;
}

/* The names the file declares (`-N`), which also proves it parses. */
static int
names_of(struct pd_aa *aa, struct pd_aa_unit *u, const char *src, pd_error_t *err)
{
	struct argv a = { 0 };
	struct pd_spawn_result r;
	int ret;

	base_args(aa, &a);
	argv_push(&a, "--names");
	argv_push(&a, src);
	ret = pd_spawn(a.v, NULL, 0, PD_AA_NAMES_TIMEOUT_MS, aa->cancel, &r, err);
	argv_clear(&a);
	if (ret < 0)
		return ret;
	ret = 0;
	if (r.timedout) {
		u->error = pd_xstrdup("the AppArmor parser timed out");
	} else if (r.status != 0) {
		u->error = clean_message(r.err, src, u->label);
		ret = 1;
	} else {
		split_lines(r.out, &u->names);
	}
	if (u->error == NULL && u->names.n == 0) {
		u->error = pd_xstrdup("the file declares no AppArmor profile");
		ret = 1;
	}
	pd_spawn_result_clear(&r);
	return ret;
}

/* The batched run's messages about the file at src: errors joined into
 * *error (NULL when none), warnings appended. */
static void
attribute(const char *src, const char *label, const char *stderr_text, char **error,
	  struct pd_strv *warnings)
{
	struct pd_strv lines = { 0 };
	struct pd_strv errs = { 0 };

	*error = NULL;
	split_lines(stderr_text, &lines);
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];

		if (strstr(l, src) == NULL || strstr(l, "Cache read/write disabled") != NULL)
			continue;
		if (strstr(l, "rror") != NULL)
			pd_strv_push(&errs, clean_message(l, src, label));
		else
			pd_strv_push(warnings, clean_message(l, src, label));
	}
	if (errs.n > 0)
		*error = pd_strv_join(&errs, "; ");
	pd_strv_clear(&errs);
	pd_strv_clear(&lines);
}

static bool
compiled_ok(const struct pd_aa *aa, const char *sha256)
{
	_cleanup_free_ char *bin = binary_path(aa, sha256);
	struct stat st;

	return stat(bin, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int
pd_aa_resolve(struct pd_aa *aa, struct pd_aa_unit *units, size_t n, const struct pd_aa_job *running,
	      struct pd_aa_stats *stats, pd_error_t *err)
{
	_cleanup_free_ char *srcdir = pd_xasprintf("%s/src", aa->cache_dir);

	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < n; i++) {
		struct pd_aa_unit *u = &units[i];
		_cleanup_free_ char *src = NULL;
		pd_error_t e = NULL;
		int ret;

		pd_aa_unit_clear(u);
		if (pd_aat_check_includes(u->data, u->len, aa->include_root, &e) < 0) {
			u->error = pd_xstrdup(pd_error_msg(e));
			pd_error_release(&e);
			stats->rejected++;
			continue;
		}
		if (cached(aa, u)) {
			stats->cached++;
			continue;
		}
		pd_aa_unit_clear(u);
		if (cached_error(aa, u)) {
			stats->rejected++;
			continue;
		}
		if (running != NULL && pd_aa_job_has(running, u->sha256)) {
			u->pending = true; /* its names come with the result */
			stats->pending++;
			continue;
		}
		if (write_file(srcdir, u->sha256, u->data, u->len, &e) < 0) {
			u->error = pd_xstrdup(pd_error_msg(e));
			pd_error_release(&e);
			stats->rejected++;
			continue;
		}
		src = source_path(aa, u->sha256);
		ret = names_of(aa, u, src, err);
		unlink(src);
		if (ret < 0)
			return ret;
		if (ret == 1)
			remember_error(aa, u->sha256, u->label, u->error);
		if (u->error != NULL) {
			stats->rejected++;
			continue;
		}
		u->pending = true;
		stats->pending++;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the compile job */

struct job_item {
	char sha256[PD_SHA256_HEX_LEN + 1];
	char *label;
	struct pd_strv names;
	bool in_run; /* part of the parser run in progress */
	bool solo;   /* waits to be compiled alone */
};

struct pd_aa_job {
	struct pd_aa *aa;
	struct job_item *v;
	size_t n;
	struct pd_child *child; /* the run in progress; NULL when done */
	int epfd;		/* pidfd of the run + the budget's timerfd */
	int timerfd;
	long long t0;
	struct pd_aa_stats stats;
};

static void
job_unlink_src(const struct pd_aa_job *j, const struct job_item *it)
{
	_cleanup_free_ char *src = source_path(j->aa, it->sha256);

	unlink(src);
}

/* Starts one parser run over the items marked in_run, with budget_ms. */
static int
job_run(struct pd_aa_job *j, long long budget_ms, pd_error_t *err)
{
	struct itimerspec its = { .it_value = { .tv_sec = budget_ms / 1000,
						.tv_nsec = (budget_ms % 1000) * 1000000 } };
	struct epoll_event ev = { .events = EPOLLIN };
	struct argv a = { 0 };
	char jobs[16];
	int ret;

	base_args(j->aa, &a);
	snprintf(jobs, sizeof(jobs), "%d", j->aa->jobs);
	argv_push(&a, "--skip-kernel-load");
	/* Off by default in parser 4.x: the rules the features compiled
	 * for do not enforce (aagap.h). */
	argv_push(&a, "--warn=rule-not-enforced");
	argv_push(&a, "--warn=rule-downgraded");
	argv_push(&a, "--skip-read-cache");
	argv_push(&a, "--write-cache");
	argv_push(&a, "--cache-loc");
	argv_push(&a, j->aa->cache_dir);
	argv_push(&a, "--jobs");
	argv_push(&a, jobs);
	for (size_t i = 0; i < j->n; i++) {
		_cleanup_free_ char *bin = NULL;

		if (!j->v[i].in_run)
			continue;
		bin = binary_path(j->aa, j->v[i].sha256);
		unlink(bin);
		argv_push_owned(&a, source_path(j->aa, j->v[i].sha256));
	}
	ret = pd_child_start(a.v, &j->child, err);
	argv_clear(&a);
	if (ret < 0)
		return ret;
	if (epoll_ctl(j->epfd, EPOLL_CTL_ADD, pd_child_fd(j->child), &ev) < 0 ||
	    timerfd_settime(j->timerfd, 0, &its, NULL) < 0) {
		ret = pd_make_error(err, errno, "watch the AppArmor parser");
		pd_child_free(j->child);
		j->child = NULL;
	}
	return ret;
}

int
pd_aa_job_start(struct pd_aa *aa, const struct pd_aa_unit *units, size_t n, struct pd_aa_job **out,
		pd_error_t *err)
{
	struct pd_aa_job *j = pd_xcalloc(1, sizeof(*j));
	_cleanup_free_ char *srcdir = pd_xasprintf("%s/src", aa->cache_dir);
	struct epoll_event ev = { .events = EPOLLIN };
	long long budget;
	int ret;

	j->aa = aa;
	j->t0 = pd_now_ms();
	j->v = pd_xcalloc(n ? n : 1, sizeof(*j->v));
	j->epfd = epoll_create1(EPOLL_CLOEXEC);
	j->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (j->epfd < 0 || j->timerfd < 0 ||
	    epoll_ctl(j->epfd, EPOLL_CTL_ADD, j->timerfd, &ev) < 0) {
		ret = pd_make_error(err, errno, "create the compile job's timer");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pd_aa_unit *u = &units[i];
		struct job_item *it = &j->v[j->n];

		if (!u->pending || pd_aa_job_has(j, u->sha256))
			continue;
		if ((ret = write_file(srcdir, u->sha256, u->data, u->len, err)) < 0)
			goto fail;
		memcpy(it->sha256, u->sha256, sizeof(it->sha256));
		it->label = pd_xstrdup(u->label);
		for (size_t k = 0; k < u->names.n; k++)
			pd_strv_push(&it->names, pd_xstrdup(u->names.v[k]));
		it->in_run = true;
		j->n++;
	}
	if (j->n == 0) {
		ret = pd_make_plain_error(err, EINVAL, "no AppArmor file waits for a compile");
		goto fail;
	}
	/* One file alone gets the per-file budget; a batch more, by size. */
	budget = aa->compile_timeout_ms;
	if (j->n > 1)
		budget += (long long)j->n * PD_AA_BATCH_MS_PER_FILE;
	if ((ret = job_run(j, budget, err)) < 0)
		goto fail;
	*out = j;
	return 0;
fail:
	pd_aa_job_free(j);
	return ret;
}

int
pd_aa_job_fd(const struct pd_aa_job *j)
{
	return j->epfd;
}

bool
pd_aa_job_has(const struct pd_aa_job *j, const char *sha256)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->v[i].sha256, sha256) == 0)
			return true;
	return false;
}

void
pd_aa_job_stats(const struct pd_aa_job *j, struct pd_aa_stats *stats)
{
	*stats = j->stats;
	stats->compile_ms = pd_now_ms() - j->t0;
}

/* The verdict on one item of the run that ended: compiled, rejected, or
 * (when the run held several files and this one has no message of its own)
 * to be compiled alone.  Returns true when the item is settled. */
static bool
settle(struct pd_aa_job *j, struct job_item *it, const struct pd_spawn_result *r, bool timedout,
       size_t nrun)
{
	_cleanup_free_ char *src = source_path(j->aa, it->sha256);
	_cleanup_free_ char *error = NULL;
	struct pd_strv warnings = { 0 };

	/* What goes to the cache names the file by the placeholder, never
	 * by its label: a label may also occur in a profile's name. */
	attribute(src, SOURCE_PLACEHOLDER, r->err, &error, &warnings);
	if (error == NULL && compiled_ok(j->aa, it->sha256)) {
		remember_compiled(j->aa, it->sha256, SOURCE_PLACEHOLDER, &it->names, &warnings);
		pd_strv_clear(&warnings);
		j->stats.compiled++;
		return true;
	}
	pd_strv_clear(&warnings);
	if (error == NULL && nrun > 1) {
		/* A timed-out batch, or a message that names no file: alone,
		 * the file gets its own verdict, never another's. */
		it->solo = true;
		return false;
	}
	if (error == NULL && timedout) {
		error = pd_xasprintf("the AppArmor parser did not compile this file within %lld s "
				     "(a rule set whose automaton explodes?); it is not tried "
				     "again until its content changes",
				     j->aa->compile_timeout_ms / 1000);
	} else if (error == NULL) {
		_cleanup_free_ char *msg = clean_message(r->err, src, SOURCE_PLACEHOLDER);

		error = pd_xasprintf("%s%s(AppArmor parser exit %d)", msg, *msg ? " " : "",
				     r->status);
	}
	remember_error(j->aa, it->sha256, SOURCE_PLACEHOLDER, error);
	j->stats.rejected++;
	return true;
}

static bool
fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

int
pd_aa_job_step(struct pd_aa_job *j, bool *done, pd_error_t *err)
{
	struct pd_spawn_result r = { 0 };
	bool timedout = false;
	uint64_t ticks;
	size_t nrun = 0;
	int ret;

	if (j->child == NULL) {
		*done = true;
		return 0;
	}
	if (!fd_readable(pd_child_fd(j->child))) {
		if (read(j->timerfd, &ticks, sizeof(ticks)) != sizeof(ticks)) {
			*done = false;
			return 0; /* neither exited nor out of time */
		}
		pd_child_kill(j->child);
		timedout = true;
	}
	epoll_ctl(j->epfd, EPOLL_CTL_DEL, pd_child_fd(j->child), NULL);
	ret = pd_child_wait(j->child, &r, err);
	pd_child_free(j->child);
	j->child = NULL;
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < j->n; i++)
		nrun += j->v[i].in_run;
	for (size_t i = 0; i < j->n; i++) {
		struct job_item *it = &j->v[i];

		if (!it->in_run)
			continue;
		it->in_run = false;
		if (settle(j, it, &r, timedout, nrun))
			job_unlink_src(j, it);
	}
	pd_spawn_result_clear(&r);
	for (size_t i = 0; i < j->n; i++) {
		if (j->v[i].solo) {
			j->v[i].solo = false;
			j->v[i].in_run = true;
			*done = false;
			return job_run(j, j->aa->compile_timeout_ms, err);
		}
	}
	*done = true;
	return 0;
}

void
pd_aa_job_free(struct pd_aa_job *j)
{
	if (j == NULL)
		return;
	pd_child_free(j->child);
	for (size_t i = 0; i < j->n; i++) {
		job_unlink_src(j, &j->v[i]);
		free(j->v[i].label);
		pd_strv_clear(&j->v[i].names);
	}
	free(j->v);
	if (j->epfd >= 0)
		close(j->epfd);
	if (j->timerfd >= 0)
		close(j->timerfd);
	free(j);
}

/* ------------------------------------------------------------------------ */
/* compiling and waiting */

/* Waits for the job to end; the caller's cancel fd stops it. */
static int
wait_job(struct pd_aa *aa, struct pd_aa_job *j, pd_error_t *err)
{
	bool done = false;
	int ret;

	while (!done) {
		struct pollfd p[2] = {
			{ .fd = pd_aa_job_fd(j), .events = POLLIN },
			{ .fd = aa->cancel != NULL ? aa->cancel->fd : -1, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return pd_make_error(err, errno, "poll");
		}
		if ((p[1].revents & POLLIN) && aa->cancel->fn(aa->cancel->arg))
			return pd_make_plain_error(err, ECANCELED, "`%s` stopped: shutting down",
						   aa->parser);
		if ((p[0].revents & POLLIN) && (ret = pd_aa_job_step(j, &done, err)) < 0)
			return ret;
	}
	return 0;
}

int
pd_aa_compile(struct pd_aa *aa, struct pd_aa_unit *units, size_t n, struct pd_aa_stats *stats,
	      pd_error_t *err)
{
	struct pd_aa_job *j = NULL;
	struct pd_aa_stats st;
	int ret;

	if ((ret = pd_aa_resolve(aa, units, n, NULL, &st, err)) < 0)
		return ret;
	if (st.pending > 0) {
		if ((ret = pd_aa_job_start(aa, units, n, &j, err)) < 0)
			return ret;
		ret = wait_job(aa, j, err);
		pd_aa_job_stats(j, stats);
		pd_aa_job_free(j);
		if (ret < 0)
			return ret;
	} else {
		memset(stats, 0, sizeof(*stats));
	}
	stats->cached = st.cached;
	stats->rejected = 0;
	/* The job left every verdict in the cache. */
	for (size_t i = 0; i < n; i++) {
		struct pd_aa_unit *u = &units[i];

		if (u->pending) {
			u->pending = false;
			pd_strv_clear(&u->names);
			if (!cached(aa, u)) {
				pd_aa_unit_clear(u);
				if (!cached_error(aa, u))
					u->error =
						pd_xstrdup("compiled, but the AppArmor cache could "
							   "not keep the result");
			}
			u->cached = false; /* compiled by this call, read back from the cache */
		}
		if (u->error != NULL)
			stats->rejected++;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the kernel */

int
pd_aa_load(struct pd_aa *aa, const char *binary, pd_error_t *err)
{
	if (aa->ki == NULL)
		return pd_make_plain_error(err, ENOTSUP, "AppArmor loading is not enabled");
	if (aa_kernel_interface_replace_policy_from_file(aa->ki, AT_FDCWD, binary) < 0)
		return pd_make_error(err, errno, "load policy into `%s`", aa->fs);
	return 0;
}

int
pd_aa_unload(struct pd_aa *aa, const char *name, pd_error_t *err)
{
	if (aa->ki == NULL)
		return pd_make_plain_error(err, ENOTSUP, "AppArmor loading is not enabled");
	if (aa_kernel_interface_remove_policy(aa->ki, name) < 0)
		return pd_make_error(err, errno, "unload profile `%s`", name);
	return 0;
}

void
pd_aa_parse_list(const char *text, struct pd_aa_loaded *out)
{
	struct pd_strv lines = { 0 };

	split_lines(text, &lines);
	for (size_t i = 0; i < lines.n; i++) {
		char *l = lines.v[i];
		char *open_paren = strrchr(l, '(');
		size_t n = strlen(l);

		/* "NAME (MODE)"; names may hold blanks and parentheses,
		 * modes do not. */
		if (open_paren == NULL || open_paren == l || open_paren[-1] != ' ' ||
		    l[n - 1] != ')' || open_paren - 1 == l)
			continue;
		pd_strv_push(&out->modes,
			     pd_xstrndup(open_paren + 1, (size_t)(l + n - 1 - (open_paren + 1))));
		pd_strv_push(&out->names, pd_xstrndup(l, (size_t)(open_paren - 1 - l)));
	}
	pd_strv_clear(&lines);
}

int
pd_aa_list(struct pd_aa *aa, struct pd_aa_loaded *out, pd_error_t *err)
{
	_cleanup_free_ char *path = pd_xasprintf("%s/profiles", aa->fs);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return pd_make_error(err, errno, "open `%s`", path);
	if ((ret = pd_read_fd(fd, 64 * 1024 * 1024, &text, &len, err)) < 0)
		return ret;
	pd_aa_parse_list(text, out);
	return 0;
}

const char *
pd_aa_loaded_mode(const struct pd_aa_loaded *l, const char *name)
{
	for (size_t i = 0; i < l->names.n; i++)
		if (strcmp(l->names.v[i], name) == 0)
			return l->modes.v[i];
	return NULL;
}

void
pd_aa_loaded_clear(struct pd_aa_loaded *l)
{
	pd_strv_clear(&l->names);
	pd_strv_clear(&l->modes);
}
