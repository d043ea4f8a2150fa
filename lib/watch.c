/* SPDX-License-Identifier: Apache-2.0 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* On the parent: the folder's own name made, removed, renamed over (a
 * symlink retargeted with `ln -sfn` is a rename). */
#define PARENT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
/* A folder watched only for going away: the one the agent writes to. */
#define SELF_MASK (IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct watched {
	char *dir;    /* as given */
	char *parent; /* the folder holding it, as given */
	char *name;   /* its name there */
	int wd;	      /* on the folder it resolves to; -1: none */
	int pwd;      /* on the parent; -1: none */
	bool self;    /* watched only for its own removal; missing is not an error */
	dev_t dev;    /* what wd watches */
	ino_t ino;
};

struct pd_watch {
	int fd;
	struct watched *v;
	size_t n, cap;
};

/* libinotifytools does not hand out its inotify fd; it is the only inotify
 * instance in this process, so find it among our fds. */
static int
find_inotify_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL && found < 0) {
		char path[300], target[64];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:inotify") == 0)
			found = atoi(de->d_name);
	}
	closedir(d);
	return found >= 0 ? found : -ENOENT;
}

int
pd_watch_new(struct pd_watch **out, pd_error_t *err)
{
	struct pd_watch *w;
	int fd;

	if (!inotifytools_initialize())
		return pd_make_error(err, inotifytools_error(), "inotify");
	fd = find_inotify_fd();
	if (fd < 0) {
		inotifytools_cleanup();
		return pd_make_error(err, -fd, "find the inotify fd");
	}
	/* libinotifytools opens it without close-on-exec; the parser we
	 * spawn must not inherit it. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int saved = errno;

		inotifytools_cleanup();
		return pd_make_error(err, saved, "set flags on the inotify fd");
	}
	w = pd_xcalloc(1, sizeof(*w));
	w->fd = fd;
	*out = w;
	return 0;
}

/*
 * Watches are added on libinotifytools' fd directly and matched to folders
 * by the descriptors kept here: libinotifytools keeps its record of a
 * folder removed and made again, and goes on handing back the first, dead
 * descriptor for its name.  A folder is watched on the inode its path
 * resolves to now; when that changed (removed and made again, a symlink
 * retargeted, a mount over it), the old watch goes and a new one is added.
 * The parent is watched for the folder's name, so that a new folder (or a
 * new target) is seen when it appears, not at the next resync.
 */
static int
sync_one(struct pd_watch *w, struct watched *x, pd_error_t *err)
{
	struct stat st;
	int wd;

	if (x->pwd < 0)
		x->pwd = inotify_add_watch(w->fd, x->parent, PARENT_MASK);
	if (stat(x->dir, &st) == 0 && x->wd >= 0 && st.st_dev == x->dev && st.st_ino == x->ino)
		return 0;
	if (x->wd >= 0)
		(void)inotify_rm_watch(w->fd, x->wd);
	x->wd = -1;
	wd = inotify_add_watch(w->fd, x->dir, x->self ? SELF_MASK : WATCH_MASK);
	if (wd < 0 && x->self && errno == ENOENT)
		return 0; /* made again by its owner: the parent's event tells */
	if (wd < 0)
		return pd_make_error(err, errno, "watch `%s`", x->dir);
	/* What was watched is what was looked at, unless it changed in
	 * between: then the parent's event brings us back here. */
	if (stat(x->dir, &st) == 0) {
		x->dev = st.st_dev;
		x->ino = st.st_ino;
	}
	x->wd = wd;
	return 0;
}

static int
add(struct pd_watch *w, const char *dir, bool self, pd_error_t *err)
{
	struct watched *x;
	const char *slash;
	size_t n = strlen(dir);

	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].dir, dir) == 0)
			return 0;
	pd_grow(&w->v, &w->cap, w->n + 1, sizeof(*w->v));
	x = &w->v[w->n++];
	memset(x, 0, sizeof(*x));
	x->dir = pd_xstrdup(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	x->name = pd_xstrndup(dir, n);
	slash = strrchr(x->name, '/');
	if (slash == NULL) {
		x->parent = pd_xstrdup(".");
	} else {
		char *name = pd_xstrdup(slash + 1);

		x->parent = pd_xstrndup(x->name, slash == x->name ? 1 : (size_t)(slash - x->name));
		free(x->name);
		x->name = name;
	}
	x->wd = x->pwd = -1;
	x->self = self;
	return sync_one(w, x, err);
}

int
pd_watch_add(struct pd_watch *w, const char *dir, pd_error_t *err)
{
	return add(w, dir, false, err);
}

int
pd_watch_add_self(struct pd_watch *w, const char *dir, pd_error_t *err)
{
	return add(w, dir, true, err);
}

int
pd_watch_refresh(struct pd_watch *w, pd_error_t *err)
{
	int first = 0;

	for (size_t i = 0; i < w->n; i++) {
		pd_error_t e = NULL;
		int ret = sync_one(w, &w->v[i], &e);

		if (ret < 0 && first == 0) {
			first = ret;
			if (err != NULL)
				*err = e;
			else
				pd_error_release(&e);
		} else {
			pd_error_release(&e);
		}
	}
	return first;
}

int
pd_watch_fd(const struct pd_watch *w)
{
	return w->fd;
}

/* Entries starting with '.' are the kubelet's internals (`..2024_...`,
 * `..data_tmp`) or editors' temporaries: only the `..data` swap counts. */
static bool
is_relevant(const struct inotify_event *ev)
{
	if (ev->len == 0 || ev->name[0] == '\0')
		return true;
	return ev->name[0] != '.' || strcmp(ev->name, "..data") == 0;
}

/* An event on a parent: whether it names a watched folder, which is then
 * looked at again.  The parent's own removal loses its watch. */
static bool
parent_event(struct pd_watch *w, const struct inotify_event *ev, const char **dir)
{
	bool hit = false;

	for (size_t i = 0; i < w->n; i++) {
		struct watched *x = &w->v[i];

		if (x->pwd != ev->wd)
			continue;
		if (ev->mask & IN_IGNORED)
			x->pwd = -1;
		else if (ev->len > 0 && strcmp(ev->name, x->name) == 0) {
			*dir = x->dir;
			hit = true;
		}
	}
	return hit;
}

int
pd_watch_drain(struct pd_watch *w, bool want_log, struct pd_watch_result *res, pd_error_t *err)
{
	struct inotify_event *ev;

	while ((ev = inotifytools_next_events(0, 1)) != NULL) {
		struct watched *x = NULL;
		const char *dir = NULL;

		if (ev->mask & IN_Q_OVERFLOW) {
			res->overflow = true;
			continue;
		}
		for (size_t i = 0; i < w->n && x == NULL; i++)
			if (w->v[i].wd == ev->wd)
				x = &w->v[i];
		if (x == NULL) {
			/* The parent's, or a watch removed since. */
			if (!parent_event(w, ev, &dir))
				continue;
			res->lost = true; /* the folder's name changed hands */
			res->relevant++;
		} else {
			dir = x->dir;
		}
		if (want_log)
			pd_strv_pushf(&res->log, "%s: %s %s", dir,
				      inotifytools_event_to_str(ev->mask & ~IN_ISDIR),
				      ev->len > 0 ? ev->name : "");
		if (x == NULL)
			continue;
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
			if (ev->mask & IN_IGNORED)
				x->wd = -1;
			res->lost = true;
			res->relevant++;
			continue;
		}
		if (is_relevant(ev))
			res->relevant++;
		if ((ev->mask & IN_MOVED_TO) && ev->len > 0 && strcmp(ev->name, "..data") == 0)
			res->committed = true;
	}
	if (inotifytools_error() != 0 && inotifytools_error() != EAGAIN &&
	    inotifytools_error() != EINTR)
		return pd_make_error(err, inotifytools_error(), "read inotify events");
	return 0;
}

void
pd_watch_result_clear(struct pd_watch_result *res)
{
	pd_strv_clear(&res->log);
	memset(res, 0, sizeof(*res));
}

void
pd_watch_free(struct pd_watch *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->v[i].dir);
		free(w->v[i].parent);
		free(w->v[i].name);
	}
	free(w->v);
	inotifytools_cleanup(); /* closes the inotify fd */
	free(w);
}
