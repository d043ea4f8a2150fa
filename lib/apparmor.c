/* SPDX-License-Identifier: Apache-2.0 */
#include "apparmor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/apparmor.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aacache.h"
#include "aatext.h"
#include "spawn.h"

struct pd_aa {
	char *parser;
	char *fs;	/* loads go here (load) or the parser's stand-in */
	char *features; /* -M argument, or NULL for the kernel's */
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
pd_aa_features_desc(const struct pd_aa *aa)
{
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
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = pd_xrealloc(a->v, a->cap, sizeof(*a->v));
	}
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
	size_t total = 0;
	char *out, *o;

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
		if (path != NULL && label != NULL) {
			char *hit;

			while ((hit = strstr(l, path)) != NULL) {
				char *r = pd_xasprintf("%.*s%s%s", (int)(hit - l), l, label,
						       hit + strlen(path));

				free(l);
				l = r;
			}
		}
		total += strlen(l) + 2;
		pd_strv_push(&lines, l);
	}
	out = o = pd_xmalloc(total + 1);
	*o = '\0';
	for (size_t i = 0; i < lines.n; i++)
		o += sprintf(o, "%s%s", i ? "; " : "", lines.v[i]);
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

int
pd_aa_open(const struct pd_aa_options *o, struct pd_aa **out, pd_error_t *err)
{
	struct pd_aa *aa = pd_xcalloc(1, sizeof(*aa));
	struct stat st;
	int ret;

	aa->parser = pd_xstrdup(o->parser != NULL ? o->parser : PD_AA_DEFAULT_PARSER);
	aa->include_root =
		pd_xstrdup(o->include_root != NULL ? o->include_root : PD_AA_INCLUDE_ROOT);
	aa->load = o->load;
	aa->jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (aa->jobs < 1)
		aa->jobs = 1;
	if (o->cache_dir != NULL) {
		if ((ret = mkdir_p1(o->cache_dir, 0700, err)) < 0)
			goto fail;
		/* The parser reports its cache folder from this path. */
		aa->cache_root = realpath(o->cache_dir, NULL);
		if (aa->cache_root == NULL) {
			ret = pd_make_error(err, errno, "resolve `%s`", o->cache_dir);
			goto fail;
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		aa->cache_root = pd_xasprintf("%s/profiled-apparmor.XXXXXX",
					      tmp != NULL && *tmp == '/' ? tmp : "/tmp");
		if (mkdtemp(aa->cache_root) == NULL) {
			ret = pd_make_error(err, errno, "create a temporary folder");
			goto fail;
		}
		aa->own_cache = true;
	}
	if (o->load) {
		if (o->fs != NULL) {
			aa->fs = pd_xstrdup(o->fs);
		} else if (aa_find_mountpoint(&aa->fs) < 0) {
			aa->fs = NULL;
			ret = pd_make_error(err, errno, "find the AppArmor filesystem");
			goto fail;
		}
	} else {
		/* The parser keeps no cache without an interface folder:
		 * give it a private one it never loads into (-Q). */
		aa->fs = pd_xasprintf("%s/parserfs", aa->cache_root);
		if ((ret = mkdir_p1(aa->fs, 0700, err)) < 0 ||
		    (ret = touch(aa->fs, ".load", err)) < 0 ||
		    (ret = touch(aa->fs, ".replace", err)) < 0 ||
		    (ret = touch(aa->fs, ".remove", err)) < 0)
			goto fail;
	}

	if (o->features != NULL) {
		aa->features = pd_xstrdup(o->features);
	} else {
		_cleanup_free_ char *kfeat = pd_xasprintf("%s/features", aa->fs);

		if (!o->load || stat(kfeat, &st) < 0) {
			aa->features = pinned_features();
			if (aa->features == NULL)
				aa->features = pd_xstrdup(PD_AA_DEFAULT_FEATURES);
		}
	}
	if (aa->features != NULL && stat(aa->features, &st) < 0) {
		ret = pd_make_error(err, errno, "AppArmor features file `%s`", aa->features);
		goto fail;
	}

	if (o->load) {
		if (aa->features != NULL)
			ret = aa_features_new(&aa->kf, AT_FDCWD, aa->features);
		else
			ret = aa_features_new_from_kernel(&aa->kf);
		if (ret < 0) {
			ret = pd_make_error(err, errno, "read the AppArmor features");
			goto fail;
		}
		if (aa_kernel_interface_new(&aa->ki, aa->kf, aa->fs) < 0) {
			ret = pd_make_error(err, errno, "open the AppArmor interface in `%s`",
					    aa->fs);
			goto fail;
		}
	}
	if ((ret = parser_version(aa, err)) < 0 || (ret = use_context(aa, err)) < 0)
		goto fail;
	*out = aa;
	return 0;
fail:
	pd_aa_free(aa);
	return ret;
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
	free(u->binary);
	free(u->error);
	u->binary = NULL;
	u->error = NULL;
	u->cached = false;
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

/*
 * A file the parser refused is remembered too (by source hash, per feature
 * set), so that a bad file left in a ConfigMap does not run the parser at
 * every resync.  The message is kept with its file name replaced by a
 * placeholder, put back for whatever file has those bytes.
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
remember_error(struct pd_aa *aa, const struct pd_aa_unit *u)
{
	_cleanup_free_ char *path = error_path(aa, u->sha256);
	_cleanup_free_ char *text = clean_message(u->error, u->label, SOURCE_PLACEHOLDER);
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

static bool
cached(struct pd_aa *aa, struct pd_aa_unit *u)
{
	_cleanup_free_ char *names = pd_xasprintf("%s/names/%s", aa->cache_dir, u->sha256);
	_cleanup_free_ char *bin = pd_xasprintf("%s/%s", aa->cache_sub, u->sha256);
	_cleanup_free_ char *text = NULL;
	struct stat st;

	if (stat(bin, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	if (read_small(names, &text, NULL) < 0)
		return false;
	split_lines(text, &u->names);
	if (u->names.n == 0)
		return false;
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

/* Attributes the batched run's messages to units by their source path. */
static void
attribute(struct pd_aa_unit *u, const char *src, const char *stderr_text)
{
	struct pd_strv lines = { 0 };
	struct pd_strv errs = { 0 };

	split_lines(stderr_text, &lines);
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];

		if (strstr(l, src) == NULL || strstr(l, "Cache read/write disabled") != NULL)
			continue;
		if (strstr(l, "rror") != NULL)
			pd_strv_push(&errs, clean_message(l, src, u->label));
		else
			pd_strv_push(&u->warnings, clean_message(l, src, u->label));
	}
	if (errs.n > 0) {
		size_t total = 1;

		for (size_t i = 0; i < errs.n; i++)
			total += strlen(errs.v[i]) + 2;
		u->error = pd_xmalloc(total);
		u->error[0] = '\0';
		for (size_t i = 0; i < errs.n; i++) {
			if (i)
				strcat(u->error, "; ");
			strcat(u->error, errs.v[i]);
		}
	}
	pd_strv_clear(&errs);
	pd_strv_clear(&lines);
}

/* One parser run compiling the units marked in sel into the cache. */
static int
run_compile(struct pd_aa *aa, const struct pd_aa_unit *units, size_t n, const bool *sel,
	    const char *srcdir, struct pd_spawn_result *r, pd_error_t *err)
{
	struct argv a = { 0 };
	char jobs[16];
	int ret;

	base_args(aa, &a);
	snprintf(jobs, sizeof(jobs), "%d", aa->jobs);
	argv_push(&a, "--skip-kernel-load");
	argv_push(&a, "--skip-read-cache");
	argv_push(&a, "--write-cache");
	argv_push(&a, "--cache-loc");
	argv_push(&a, aa->cache_dir);
	argv_push(&a, "--jobs");
	argv_push(&a, jobs);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *bin = NULL;

		if (!sel[i])
			continue;
		bin = pd_xasprintf("%s/%s", aa->cache_sub, units[i].sha256);
		unlink(bin);
		argv_push_owned(&a, pd_xasprintf("%s/%s", srcdir, units[i].sha256));
	}
	ret = pd_spawn(a.v, NULL, 0, PD_AA_PARSER_TIMEOUT_MS, aa->cancel, r, err);
	argv_clear(&a);
	return ret;
}

static bool
compiled_ok(const struct pd_aa *aa, const struct pd_aa_unit *u)
{
	_cleanup_free_ char *bin = pd_xasprintf("%s/%s", aa->cache_sub, u->sha256);
	struct stat st;

	return stat(bin, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int
pd_aa_compile(struct pd_aa *aa, struct pd_aa_unit *units, size_t n, struct pd_aa_stats *stats,
	      pd_error_t *err)
{
	_cleanup_free_ char *srcdir = pd_xasprintf("%s/src", aa->cache_dir);
	_cleanup_free_ bool *batch = pd_xcalloc(n ? n : 1, sizeof(bool));
	_cleanup_free_ bool *solo = pd_xcalloc(n ? n : 1, sizeof(bool));
	struct pd_spawn_result r = { 0 };
	size_t nbatch = 0;
	long long t0;
	int ret = 0;

	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; i < n; i++) {
		struct pd_aa_unit *u = &units[i];
		_cleanup_free_ char *src = NULL;
		pd_error_t e = NULL;

		pd_aa_unit_clear(u);
		if (pd_aat_check_includes(u->data, u->len, aa->include_root, &e) < 0) {
			u->error = pd_xstrdup(pd_error_msg(e));
			pd_error_release(&e);
			continue;
		}
		if (cached(aa, u) || cached_error(aa, u))
			continue;
		pd_strv_clear(&u->names);
		if (write_file(srcdir, u->sha256, u->data, u->len, &e) < 0) {
			u->error = pd_xstrdup(pd_error_msg(e));
			pd_error_release(&e);
			continue;
		}
		src = pd_xasprintf("%s/%s", srcdir, u->sha256);
		if ((ret = names_of(aa, u, src, err)) < 0)
			goto out;
		if (ret == 1)
			remember_error(aa, u);
		if (u->error == NULL)
			batch[i] = true, nbatch++;
	}

	if (nbatch > 0) {
		t0 = pd_now_ms();
		ret = run_compile(aa, units, n, batch, srcdir, &r, err);
		stats->compile_ms = pd_now_ms() - t0;
		if (ret < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct pd_aa_unit *u = &units[i];
		_cleanup_free_ char *src = NULL;
		_cleanup_free_ char *bin = NULL;

		if (!batch[i]) {
			if (u->error != NULL)
				stats->rejected++;
			else
				stats->cached++;
			continue;
		}
		src = pd_xasprintf("%s/%s", srcdir, u->sha256);
		bin = pd_xasprintf("%s/%s", aa->cache_sub, u->sha256);
		attribute(u, src, r.err);
		if (u->error == NULL && r.timedout)
			u->error = pd_xstrdup("the AppArmor parser timed out");
		if (u->error == NULL && !compiled_ok(aa, u)) {
			/* Some parser messages name no file: when the batch
			 * failed, a file without output is compiled alone so
			 * that it gets its own message, never another's. */
			struct pd_spawn_result r1 = { 0 };
			const struct pd_spawn_result *rr = &r;
			_cleanup_free_ char *msg = NULL;

			memset(solo, 0, n * sizeof(bool));
			solo[i] = true;
			if (nbatch > 1 && run_compile(aa, units, n, solo, srcdir, &r1, NULL) == 0)
				rr = &r1;
			if (!compiled_ok(aa, u)) {
				msg = clean_message(rr->err, src, u->label);
				u->error = pd_xasprintf("%s%s(AppArmor parser exit %d)", msg,
							*msg ? " " : "", rr->status);
			}
			pd_spawn_result_clear(&r1);
		}
		if (u->error != NULL && !r.timedout)
			remember_error(aa, u);
		if (u->error == NULL) {
			struct pd_strv *nm = &u->names;
			size_t total = 1;
			_cleanup_free_ char *text = NULL;
			_cleanup_free_ char *ndir = pd_xasprintf("%s/names", aa->cache_dir);
			pd_error_t e = NULL;

			for (size_t k = 0; k < nm->n; k++)
				total += strlen(nm->v[k]) + 1;
			text = pd_xmalloc(total);
			text[0] = '\0';
			for (size_t k = 0; k < nm->n; k++) {
				strcat(text, nm->v[k]);
				strcat(text, "\n");
			}
			/* Without the names file the next run compiles again:
			 * slower, never wrong. */
			write_file(ndir, u->sha256, text, strlen(text), &e);
			pd_error_release(&e);
			u->binary = pd_steal(&bin);
			stats->compiled++;
		} else {
			stats->rejected++;
		}
		unlink(src);
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *src = pd_xasprintf("%s/%s", srcdir, units[i].sha256);

		if (!batch[i])
			unlink(src);
	}
	pd_spawn_result_clear(&r);
	return ret;
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
