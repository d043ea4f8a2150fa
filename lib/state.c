/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labels.h"
#include "fileio.h"

#define STATE_FILE    "state.json"
#define LOCK_FILE     "lock"
#define STATE_VERSION 1

struct pd_state_dir {
	int dirfd;
	int lockfd;
	char *path;	/* as given: the folder is found again by it */
	int *old_locks; /* locks of folders since removed or replaced, held for life */
	size_t n_old, cap_old;
};

void
pd_state_dir_free(struct pd_state_dir *sd)
{
	if (sd == NULL)
		return;
	if (sd->lockfd >= 0)
		close(sd->lockfd); /* releases the lock */
	for (size_t i = 0; i < sd->n_old; i++)
		close(sd->old_locks[i]);
	if (sd->dirfd >= 0)
		close(sd->dirfd);
	free(sd->old_locks);
	free(sd->path);
	free(sd);
}

static int
read_holder(int fd)
{
	char buf[32] = { 0 };
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	return r > 0 ? atoi(buf) : 0;
}

/* Opens dir (made if missing) and takes the lock of its `lock` file. */
static int
open_locked(const char *dir, bool wait, int *dirfd_out, int *lockfd_out, int *holder,
	    pd_error_t *err)
{
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	char pid[32];
	int n;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pd_make_error(err, errno, "create state folder `%s`", dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pd_make_error(err, errno, "open state folder `%s`", dir);
	lockfd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0)
		return pd_make_error(err, errno, "open `%s/%s`", dir, LOCK_FILE);
	if (flock(lockfd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int saved = errno;

		if (holder != NULL)
			*holder = read_holder(lockfd);
		return pd_make_error(err, saved, "lock `%s/%s`", dir, LOCK_FILE);
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(lockfd, 0) < 0 || pwrite(lockfd, pid, (size_t)n, 0) != n)
		return pd_make_error(err, errno, "write `%s/%s`", dir, LOCK_FILE);
	*dirfd_out = steal_fd(&dirfd);
	*lockfd_out = steal_fd(&lockfd);
	return 0;
}

int
pd_state_dir_open(const char *dir, bool wait, struct pd_state_dir **out, int *holder,
		  pd_error_t *err)
{
	struct pd_state_dir *sd;
	int dirfd, lockfd, ret;

	if ((ret = open_locked(dir, wait, &dirfd, &lockfd, holder, err)) < 0)
		return ret;
	sd = pd_xcalloc(1, sizeof(*sd));
	sd->dirfd = dirfd;
	sd->lockfd = lockfd;
	sd->path = pd_xstrdup(dir);
	*out = sd;
	return 0;
}

/* Not removed (a removed folder has no links), and the inode the path
 * names now. */
static bool
still_in_place(const struct pd_state_dir *sd)
{
	struct stat held, now;

	if (fstat(sd->dirfd, &held) < 0 || held.st_nlink == 0 || stat(sd->path, &now) < 0)
		return false;
	return now.st_dev == held.st_dev && now.st_ino == held.st_ino;
}

int
pd_state_dir_refresh(struct pd_state_dir *sd, int *holder, pd_error_t *err)
{
	int dirfd, lockfd, ret;

	if (still_in_place(sd))
		return 0;
	ret = open_locked(sd->path, false, &dirfd, &lockfd, holder, err);
	if (ret < 0)
		return ret;
	/* The old lock is kept: an agent that opened the old folder before it
	 * went waits on that lock, and must go on waiting. */
	pd_grow(&sd->old_locks, &sd->cap_old, sd->n_old + 1, sizeof(*sd->old_locks));
	sd->old_locks[sd->n_old++] = sd->lockfd;
	close(sd->dirfd);
	sd->dirfd = dirfd;
	sd->lockfd = lockfd;
	return 1;
}

static const char *
kind_key(enum pd_kind kind)
{
	return kind == PD_KIND_SECCOMP ? "seccomp" : "apparmor";
}

static bool
valid_hex(const char *s)
{
	if (strlen(s) != PD_SHA256_HEX_LEN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Entries whose shape is wrong are dropped one by one: a partly readable
 * state still tells us what we own. */
/* A seccomp name is a file name in the seccomp folder; an AppArmor name is a
 * profile name, which may be a path (`/usr/bin/foo`) but holds no control
 * characters.  Sources are entry names of a profiles folder. */
static bool
valid_name(enum pd_kind kind, const char *s)
{
	if (s[0] == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	if (kind == PD_KIND_APPARMOR)
		return true;
	return s[0] != '.' && strchr(s, '/') == NULL;
}

static void
load_kind(const cJSON *root, enum pd_kind kind, struct pd_state *st, struct pd_strv *warnings)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, kind_key(kind));
	const cJSON *it;

	if (!cJSON_IsArray(arr))
		return;
	cJSON_ArrayForEach (it, arr) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(it, "sha256");
		const cJSON *source = cJSON_GetObjectItemCaseSensitive(it, "source");
		const cJSON *policy = cJSON_GetObjectItemCaseSensitive(it, "policy");
		struct pd_state_entry *e;

		if (!cJSON_IsString(name) || !cJSON_IsString(sha) || !valid_hex(sha->valuestring) ||
		    !valid_name(kind, name->valuestring) ||
		    (source != NULL && (!cJSON_IsString(source) ||
					!valid_name(PD_KIND_SECCOMP, source->valuestring)))) {
			if (warnings != NULL)
				pd_strv_pushf(warnings, "state: dropped a malformed %s entry",
					      kind_key(kind));
			continue;
		}
		e = pd_state_put(st, kind, name->valuestring, sha->valuestring);
		if (source != NULL)
			pd_state_set_source(e, source->valuestring);
		/* Unknown or malformed: the policy is loaded again once. */
		if (cJSON_IsString(policy))
			pd_state_set_policy(e, policy->valuestring);
	}
}

/* Only valid label domains are kept: they decide which Node labels the
 * agent may ever remove. */
static void
load_domains(const cJSON *root, struct pd_state *st, struct pd_strv *warnings)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "label_domains");
	const cJSON *it;

	if (!cJSON_IsArray(arr))
		return;
	cJSON_ArrayForEach (it, arr) {
		if (!cJSON_IsString(it) || pd_label_domain_check(it->valuestring, NULL) < 0) {
			if (warnings != NULL)
				pd_strv_pushf(warnings, "state: dropped a malformed label domain");
			continue;
		}
		pd_state_add_domain(st, it->valuestring);
	}
}

int
pd_state_load(struct pd_state_dir *sd, struct pd_state *out, struct pd_strv *warnings,
	      pd_error_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	cJSON *root;
	pd_error_t e = NULL;
	int ret;

	fd = openat(sd->dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return pd_make_error(err, errno, "open state file");
	ret = pd_read_fd(fd, PD_STATE_MAX_BYTES, &buf, &len, &e);
	if (ret < 0) {
		if (warnings != NULL)
			pd_strv_pushf(warnings, "state file unreadable (%s); starting afresh",
				      pd_error_msg(e));
		pd_error_release(&e);
		return 0;
	}
	root = cJSON_ParseWithLength(buf, len);
	if (root == NULL || !cJSON_IsObject(root) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "version")) ||
	    cJSON_GetObjectItemCaseSensitive(root, "version")->valueint != STATE_VERSION) {
		if (warnings != NULL)
			pd_strv_pushf(warnings, "state file is corrupt; starting afresh");
		cJSON_Delete(root);
		return 0;
	}
	load_kind(root, PD_KIND_SECCOMP, out, warnings);
	load_kind(root, PD_KIND_APPARMOR, out, warnings);
	load_domains(root, out, warnings);
	cJSON_Delete(root);
	return 0;
}

int
pd_state_save(struct pd_state_dir *sd, const struct pd_state *st, pd_error_t *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *kinds[2];
	char *text;
	int ret;

	if (root == NULL)
		pd_oom();
	cJSON_AddNumberToObject(root, "version", STATE_VERSION);
	kinds[PD_KIND_SECCOMP] = cJSON_AddArrayToObject(root, kind_key(PD_KIND_SECCOMP));
	kinds[PD_KIND_APPARMOR] = cJSON_AddArrayToObject(root, kind_key(PD_KIND_APPARMOR));
	for (size_t i = 0; i < st->n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			pd_oom();
		cJSON_AddStringToObject(o, "name", st->v[i].name);
		cJSON_AddStringToObject(o, "sha256", st->v[i].sha256);
		if (st->v[i].source != NULL)
			cJSON_AddStringToObject(o, "source", st->v[i].source);
		if (st->v[i].policy[0] != '\0')
			cJSON_AddStringToObject(o, "policy", st->v[i].policy);
		cJSON_AddItemToArray(kinds[st->v[i].kind], o);
	}
	{
		cJSON *doms = cJSON_AddArrayToObject(root, "label_domains");

		for (size_t i = 0; doms != NULL && i < st->domains.n; i++)
			cJSON_AddItemToArray(doms, cJSON_CreateString(st->domains.v[i]));
		if (doms == NULL)
			pd_oom();
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		pd_oom();
	ret = pd_publish_atomic(sd->dirfd, STATE_FILE, text, strlen(text), 0600, err);
	free(text);
	return ret < 0 ? pd_error_wrap(err, ret, "save state") : 0;
}

struct pd_state_entry *
pd_state_find(struct pd_state *st, enum pd_kind kind, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].kind == kind && strcmp(st->v[i].name, name) == 0)
			return &st->v[i];
	return NULL;
}

struct pd_state_entry *
pd_state_put(struct pd_state *st, enum pd_kind kind, const char *name, const char *sha256)
{
	struct pd_state_entry *e = pd_state_find(st, kind, name);

	if (e == NULL) {
		pd_grow(&st->v, &st->cap, st->n + 1, sizeof(*st->v));
		e = &st->v[st->n++];
		e->kind = kind;
		e->name = pd_xstrdup(name);
		e->source = NULL;
		e->policy[0] = '\0';
	}
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	return e;
}

void
pd_state_remove(struct pd_state *st, enum pd_kind kind, const char *name)
{
	struct pd_state_entry *e = pd_state_find(st, kind, name);

	if (e == NULL)
		return;
	free(e->name);
	free(e->source);
	*e = st->v[--st->n];
}

bool
pd_state_add_domain(struct pd_state *st, const char *domain)
{
	if (pd_strv_contains(&st->domains, domain))
		return false;
	if (st->domains.n >= PD_STATE_MAX_DOMAINS) {
		free(st->domains.v[0]);
		memmove(&st->domains.v[0], &st->domains.v[1],
			(st->domains.n - 1) * sizeof(st->domains.v[0]));
		st->domains.v[--st->domains.n] = NULL;
	}
	pd_strv_push(&st->domains, pd_xstrdup(domain));
	return true;
}

void
pd_state_set_policy(struct pd_state_entry *e, const char *context)
{
	if (context == NULL || !valid_hex(context)) {
		e->policy[0] = '\0';
		return;
	}
	memcpy(e->policy, context, sizeof(e->policy));
}

void
pd_state_set_source(struct pd_state_entry *e, const char *source)
{
	free(e->source);
	e->source = source != NULL ? pd_xstrdup(source) : NULL;
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
pd_state_equal(const struct pd_state *a, const struct pd_state *b)
{
	if (a->n != b->n || a->domains.n != b->domains.n)
		return false;
	for (size_t i = 0; i < a->domains.n; i++)
		if (strcmp(a->domains.v[i], b->domains.v[i]) != 0)
			return false;
	for (size_t i = 0; i < a->n; i++) {
		struct pd_state_entry *o =
			pd_state_find((struct pd_state *)b, a->v[i].kind, a->v[i].name);

		if (o == NULL || strcmp(o->sha256, a->v[i].sha256) != 0 ||
		    !str_eq(o->source, a->v[i].source) || strcmp(o->policy, a->v[i].policy) != 0)
			return false;
	}
	return true;
}

void
pd_state_copy(struct pd_state *dst, const struct pd_state *src)
{
	pd_state_clear(dst);
	for (size_t i = 0; i < src->domains.n; i++)
		pd_strv_push(&dst->domains, pd_xstrdup(src->domains.v[i]));
	for (size_t i = 0; i < src->n; i++) {
		struct pd_state_entry *e =
			pd_state_put(dst, src->v[i].kind, src->v[i].name, src->v[i].sha256);

		pd_state_set_source(e, src->v[i].source);
		pd_state_set_policy(e, src->v[i].policy);
	}
}

void
pd_state_clear(struct pd_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].name);
		free(st->v[i].source);
	}
	free(st->v);
	st->v = NULL;
	st->n = st->cap = 0;
	pd_strv_clear(&st->domains);
}
