/* SPDX-License-Identifier: Apache-2.0 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <string.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct watched {
	char *dir;
	char *key; /* dir with one trailing '/', as libinotifytools names it */
	bool lost;
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
 * Events are matched to folders by name, never by a remembered watch
 * descriptor: when a folder is removed and made again, libinotifytools keeps
 * its stale record, and inotifytools_wd_from_filename() goes on returning the
 * first, dead descriptor.  inotifytools_filename_from_wd() of the new one is
 * right.
 */
static int
add_one(struct watched *x, pd_error_t *err)
{
	if (!inotifytools_watch_file(x->dir, WATCH_MASK))
		return pd_make_error(err, inotifytools_error(), "watch `%s`", x->dir);
	x->lost = false;
	return 0;
}

int
pd_watch_add(struct pd_watch *w, const char *dir, pd_error_t *err)
{
	struct watched *x;

	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].dir, dir) == 0)
			return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4;
		w->v = pd_xrealloc(w->v, w->cap, sizeof(*w->v));
	}
	x = &w->v[w->n];
	x->dir = pd_xstrdup(dir);
	x->key =
		pd_xasprintf("%s%s", dir, dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/");
	x->lost = true;
	w->n++;
	return add_one(x, err);
}

int
pd_watch_refresh(struct pd_watch *w)
{
	int missing = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->v[i].lost)
			continue;
		if (add_one(&w->v[i], NULL) < 0)
			missing++;
	}
	return missing;
}

int
pd_watch_fd(const struct pd_watch *w)
{
	return w->fd;
}

static struct watched *
by_wd(struct pd_watch *w, int wd)
{
	const char *name = inotifytools_filename_from_wd(wd);

	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].key, name) == 0 || strcmp(w->v[i].dir, name) == 0)
			return &w->v[i];
	return NULL;
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

int
pd_watch_drain(struct pd_watch *w, bool want_log, struct pd_watch_result *res, pd_error_t *err)
{
	struct inotify_event *ev;

	while ((ev = inotifytools_next_events(0, 1)) != NULL) {
		struct watched *x = by_wd(w, ev->wd);

		if (ev->mask & IN_Q_OVERFLOW) {
			res->overflow = true;
			continue;
		}
		if (want_log)
			pd_strv_pushf(&res->log, "%s: %s %s", x != NULL ? x->dir : "?",
				      inotifytools_event_to_str(ev->mask & ~IN_ISDIR),
				      ev->len > 0 ? ev->name : "");
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
			if (x != NULL && (ev->mask & IN_IGNORED))
				x->lost = true;
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
		free(w->v[i].key);
	}
	free(w->v);
	inotifytools_cleanup(); /* closes the inotify fd */
	free(w);
}
