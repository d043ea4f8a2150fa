/* SPDX-License-Identifier: Apache-2.0 */
#include "loop.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../lib/backoff.h"
#include "../lib/watch.h"
#include "log.h"
#include "view.h"

enum { SRC_SIGNAL, SRC_WATCH, SRC_RESYNC, SRC_DEBOUNCE, SRC_RETRY, SRC_REDO, SRC_COMPILE };

/* A reconcile whose writes failed is tried again after this, doubling. */
#define REDO_MIN_MS 1000
#define REDO_MAX_MS (60 * 1000)

struct loop {
	struct agent *a;
	struct pd_watch *watch;
	int epfd, sigfd, resyncfd, debouncefd, retryfd, redofd;
	int compilefd;		  /* the background compile's, in the epoll set; -1: none */
	long long redo_ms;	  /* backoff of the reconcile retry, 0 when none is due */
	bool watch_failing;	  /* a profiles folder is not watched (logged once) */
	bool watch_limited;	  /* ...because of an inotify limit: retried with the backoff */
	struct debounce debounce; /* of folder events */
	bool stop;
	bool hup;			   /* a SIGHUP waits for its resync */
	bool trim;			   /* a reconcile or API call freed memory */
	struct pd_spawn_cancel cancel;	   /* stops a long parser run on SIGTERM */
	struct pd_spawn_cancel api_cancel; /* stops an API request: SIGTERM, or local work due */
	struct metrics_server *http;	   /* NULL when --metrics-addr is "" */
	char *published;		   /* the seccomp folder, watched for its removal */
};

static int
arm_ms(int fd, long long ms, long long interval_ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
		.it_interval = { .tv_sec = interval_ms / 1000,
				 .tv_nsec = (interval_ms % 1000) * 1000000 },
	};

	if (ms == 0 && interval_ms == 0)
		its.it_value.tv_nsec = 0; /* disarm */
	else if (ms == 0)
		its.it_value.tv_nsec = 1; /* "now": zero would disarm */
	return timerfd_settime(fd, 0, &its, NULL);
}

static int
add_fd(int epfd, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
count_request(void *arg, long status)
{
	metrics_api_request(arg, status);
}

/* Sends labels and events; on failure, arms the retry timer (backoff
 * chosen by node_sync, never a spin). */
static void
sync_node(struct loop *l, bool force_get)
{
	long long retry;

	if (l->a->node == NULL || l->stop)
		return;
	retry = agent_node_sync(l->a, force_get);
	l->trim = true;
	/* Aborted for local work (cancel_api): that work usually ends in a
	 * reconcile that syncs again; if it does not (an event on a name that
	 * is not a profile), this does. */
	if (retry == 0 && !node_sync_settled(l->a->node) && !l->stop)
		retry = DEBOUNCE_MAX_MS;
	agent_update_gauges(l->a);
	arm_ms(l->retryfd, retry, 0);
	if (retry > 0) {
		char ms[24];

		snprintf(ms, sizeof(ms), "%lld", retry);
		log_info("node update postponed", "retry_in_ms", ms, NULL);
	}
}

/* A write on the node failed (the seccomp folder full or read-only, the
 * state folder likewise): reconcile again with backoff, without waiting for
 * the resync, so the node recovers by itself once space or writability is
 * back.  The same timer tries again to unload a removed AppArmor profile
 * still in use (--unload-removed): after --unload-retry-interval, no
 * backoff (a try is one walk of /proc), re-armed by each pass while one is
 * held. */
static void
schedule_redo(struct loop *l, const struct reconcile_result *r)
{
	long long held = l->a->apparmor.held.n > 0 ? l->a->opt->unload_retry_ms : 0;
	const char *why = r->retry	     ? "a write on the node failed; reconciling again"
			  : r->reread	     ? "a profiles folder was unmounted; reading it again"
			  : l->watch_limited ? "a profiles folder is not watched; trying again"
					     : NULL;
	char ms[24];

	if (why == NULL) {
		l->redo_ms = 0;
		arm_ms(l->redofd, held, 0); /* 0: disarmed */
		return;
	}
	/* Never later than the resync, which would reconcile anyway. */
	l->redo_ms = pd_backoff_next(l->redo_ms, REDO_MIN_MS,
				     REDO_MAX_MS < l->a->opt->resync_ms ? REDO_MAX_MS
									: l->a->opt->resync_ms);
	arm_ms(l->redofd, held > 0 && held < l->redo_ms ? held : l->redo_ms, 0);
	snprintf(ms, sizeof(ms), "%lld", l->redo_ms);
	log_info(why, "retry_in_ms", ms, NULL);
}

/* A reconcile may start a compile in the background: the loop watches it
 * (its end brings the reconcile that loads what it compiled). */
static void
watch_compile(struct loop *l)
{
	int fd = apparmor_compile_fd(&l->a->apparmor);

	if (fd < 0 || fd == l->compilefd)
		return;
	if (add_fd(l->epfd, fd, SRC_COMPILE) < 0) {
		log_error("cannot watch the AppArmor compile", "error", strerror(errno), NULL);
		return;
	}
	l->compilefd = fd;
}

static void
reconcile(struct loop *l, const char *why)
{
	struct reconcile_result r;
	char buf[200];
	long long t0 = pd_now_ms();

	metrics_reconcile_begin(&l->a->metrics);
	agent_reconcile(l->a, &r);
	l->trim = true;
	agent_update_gauges(l->a);
	metrics_reconcile_end(&l->a->metrics, (double)(pd_now_ms() - t0) / 1000.0, r.failed == 0);
	snprintf(buf, sizeof(buf),
		 "published=%u loaded=%u unchanged=%u rejected=%u removed=%u unloaded=%u failed=%u",
		 r.published, r.loaded, r.unchanged, r.rejected, r.removed, r.unloaded, r.failed);
	if (r.published || r.loaded || r.rejected || r.removed || r.unloaded || r.failed) {
		char ms[24];

		snprintf(ms, sizeof(ms), "%lld", pd_now_ms() - t0);
		log_info("reconciled", "trigger", why, "result", buf, "took_ms", ms, NULL);
	} else {
		log_debug("reconciled", "trigger", why, "result", buf, NULL);
	}
	schedule_redo(l, &r);
	watch_compile(l);
	/* The Node follows: a change (or a try to unload a profile in use)
	 * sends only what differs (nothing when nothing does); the start, a
	 * resync, SIGHUP and a retry after a failed write read the Node too. */
	sync_node(l, strcmp(why, "change") != 0 && strcmp(why, "unload-retry") != 0 &&
			     strcmp(why, "compiled") != 0);
}

/* Logs, once while it lasts, why a profiles folder is not watched: an
 * inotify limit is named with its sysctl.  Without the watch, changes are
 * seen at the resync; with a limit, the watch is tried again with the
 * reconcile retry's backoff. */
static void
watch_status(struct loop *l, int ret, bool init, pd_error_t err)
{
	bool limit = ret == -ENOSPC || (init && (ret == -EMFILE || ret == -ENFILE));

	if (ret < 0 && (!l->watch_failing || limit != l->watch_limited)) {
		if (limit && init)
			log_warn(
				"cannot watch the profiles folders: the inotify instance limit "
				"(sysctl fs.inotify.max_user_instances) or the open files limit "
				"is reached; changes are seen at the resync until a retry succeeds",
				"error", pd_error_msg(err), NULL);
		else if (limit)
			log_warn("cannot watch a profiles folder: the inotify watch limit (sysctl "
				 "fs.inotify.max_user_watches) is reached; changes are seen at the "
				 "resync until a retry succeeds",
				 "error", pd_error_msg(err), NULL);
		else
			log_warn(
				"cannot watch a profiles folder; it is watched once it appears, or "
				"at the resync",
				"error", pd_error_msg(err), NULL);
	} else if (ret == 0 && l->watch_failing) {
		log_info("every profiles folder is watched again", NULL);
	}
	l->watch_failing = ret < 0;
	l->watch_limited = limit;
}

/* Makes every profiles folder watched on what its path names now. */
static void
ensure_watches(struct loop *l)
{
	pd_error_t err = NULL;
	int ret = 0;

	if (l->watch == NULL) {
		ret = pd_watch_new(&l->watch, &err);
		if (ret == 0 && l->epfd >= 0 &&
		    add_fd(l->epfd, pd_watch_fd(l->watch), SRC_WATCH) < 0) {
			ret = pd_make_error(&err, errno, "poll the inotify fd");
			pd_watch_free(l->watch);
			l->watch = NULL;
		}
		if (ret < 0) {
			watch_status(l, ret, true, err);
			pd_error_release(&err);
			return;
		}
		for (size_t i = 0; i < l->a->opt->profiles.n; i++)
			(void)pd_watch_add(l->watch, l->a->opt->profiles.v[i], NULL);
		/* The published folder removed (rm -rf) is repaired at once. */
		(void)pd_watch_add_self(l->watch, l->published, NULL);
	}
	ret = pd_watch_refresh(l->watch, &err);
	watch_status(l, ret, false, err);
	pd_error_release(&err);
}

/* Reads pending signals; SIGHUP is remembered, handled by the loop. */
static void
read_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			l->hup = true;
		} else if (!l->stop) {
			log_info("stopping", "signal", strsignal((int)si.ssi_signo), NULL);
			l->stop = true;
		}
	}
}

/* Called while the parser runs, when a signal is pending. */
static bool
cancel_on_stop(void *arg)
{
	struct loop *l = arg;

	read_signals(l);
	return l->stop;
}

static bool
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * Called while an API request is in flight and the loop has something
 * pending.  SIGTERM and SIGHUP abort it; so does a profiles change or the
 * end of an AppArmor compile: publishing and
 * loading on the node come before the Node's labels, so a server that
 * accepts and never answers cannot hold a new profile back for the length
 * of the request timeouts.  The aborted update is sent again after the
 * reconcile (which always syncs the Node).
 */
static bool
cancel_api(void *arg)
{
	struct loop *l = arg;

	read_signals(l);
	if (l->stop || l->hup) /* SIGHUP: the resync it asks for syncs the Node */
		return true;
	if ((l->watch != NULL && readable(pd_watch_fd(l->watch))) || readable(l->debouncefd)) {
		log_debug("API request aborted: a profiles change is pending", NULL);
		return true;
	}
	if (l->compilefd >= 0 && readable(l->compilefd)) {
		log_debug("API request aborted: the AppArmor compile has news", NULL);
		return true;
	}
	return false;
}

static void
on_signal(struct loop *l)
{
	read_signals(l);
	while (l->hup && !l->stop) {
		l->hup = false;
		log_info("SIGHUP: resync", NULL);
		ensure_watches(l);
		reconcile(l, "sighup");
	}
}

static void
on_watch(struct loop *l)
{
	struct pd_watch_result res = { 0 };
	pd_error_t err = NULL;
	long long now = pd_now_ms();

	if (pd_watch_drain(l->watch, log_enabled(LOG_LVL_DEBUG), &res, &err) < 0) {
		log_warn("inotify", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
	}
	for (size_t i = 0; i < res.log.n; i++)
		log_debug("folder event", "event", res.log.v[i], NULL);
	if (res.lost) {
		log_info("a watched folder was removed, replaced or unmounted; watching it again",
			 NULL);
		ensure_watches(l);
	}
	if (res.overflow)
		log_warn("inotify queue overflowed; rescanning everything", NULL);
	if (res.relevant > 0 || res.overflow) {
		/* Coalesce a burst (debounce.h). */
		arm_ms(l->debouncefd, debounce_event(&l->debounce, now, res.committed), 0);
	}
	pd_watch_result_clear(&res);
}

static void
drain_timer(int fd)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
}

static int
setup(struct loop *l)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->resyncfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->debouncefd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->retryfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->redofd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->epfd < 0 || l->sigfd < 0 || l->resyncfd < 0 || l->debouncefd < 0 || l->retryfd < 0 ||
	    l->redofd < 0)
		return -errno;
	if (add_fd(l->epfd, l->sigfd, SRC_SIGNAL) < 0 ||
	    add_fd(l->epfd, l->resyncfd, SRC_RESYNC) < 0 ||
	    add_fd(l->epfd, l->debouncefd, SRC_DEBOUNCE) < 0 ||
	    add_fd(l->epfd, l->retryfd, SRC_RETRY) < 0 || add_fd(l->epfd, l->redofd, SRC_REDO) < 0)
		return -errno;
	if (arm_ms(l->resyncfd, l->a->opt->resync_ms, l->a->opt->resync_ms) < 0)
		return -errno;
	return 0;
}

static void
teardown(struct loop *l)
{
	int fds[] = { l->epfd, l->sigfd, l->resyncfd, l->debouncefd, l->retryfd, l->redofd };

	metrics_stop(l->http);
	l->http = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pd_watch_free(l->watch);
	free(l->published);
}

static void
dispatch(struct loop *l, uint32_t tag)
{
	switch (tag) {
	case SRC_SIGNAL:
		on_signal(l);
		break;
	case SRC_WATCH:
		on_watch(l);
		break;
	case SRC_RESYNC:
		drain_timer(l->resyncfd);
		ensure_watches(l);
		reconcile(l, "resync");
		break;
	case SRC_DEBOUNCE:
		drain_timer(l->debouncefd);
		debounce_fired(&l->debounce);
		reconcile(l, "change");
		break;
	case SRC_RETRY:
		drain_timer(l->retryfd);
		sync_node(l, true);
		break;
	case SRC_REDO:
		drain_timer(l->redofd);
		ensure_watches(l);
		reconcile(l, l->redo_ms > 0 ? "retry" : "unload-retry");
		break;
	case SRC_COMPILE:
		if (apparmor_compile_step(&l->a->apparmor)) {
			/* The job closed its fd, which left the epoll set. */
			l->compilefd = -1;
			reconcile(l, "compiled");
		}
		break;
	}
}

/* SIGTERM stops a long parser run, a seccomp compile and an API request;
 * off again before the loop's fds close. */
static void
set_cancels(struct loop *l, bool on)
{
	struct agent *a = l->a;

	if (a->apparmor.parser != NULL)
		pd_aa_set_cancel(a->apparmor.parser, on ? &l->cancel : NULL);
	a->seccomp.env.cancel = on ? &l->cancel : NULL;
	if (a->node != NULL) {
		pd_kube_set_cancel(node_sync_kube(a->node), on ? &l->api_cancel : NULL);
		if (on)
			pd_kube_set_observer(node_sync_kube(a->node), count_request, &a->metrics);
	}
}

int
loop_run(struct agent *a)
{
	struct loop l = {
		.a = a,
		.epfd = -1,
		.sigfd = -1,
		.resyncfd = -1,
		.debouncefd = -1,
		.retryfd = -1,
		.redofd = -1,
		.compilefd = -1,
	};
	int ret;

	l.published = pd_xasprintf("%s/%s", a->opt->seccomp_root, a->opt->seccomp_subdir);
	if ((ret = setup(&l)) < 0) {
		log_error("cannot set up the event loop", "error", strerror(-ret), NULL);
		teardown(&l);
		return ret;
	}
	/* Watch before the first reconcile, so no change between the two is
	 * missed.  Without inotify (a limit reached) the agent still works:
	 * the resync and the retries see the changes. */
	ensure_watches(&l);
	l.cancel = (struct pd_spawn_cancel){ .fd = l.sigfd, .fn = cancel_on_stop, .arg = &l };
	/* The epoll fd is readable when anything the loop waits for is. */
	l.api_cancel = (struct pd_spawn_cancel){ .fd = l.epfd, .fn = cancel_api, .arg = &l };
	set_cancels(&l, true);
	/* Started after the signals are blocked: its thread inherits that. */
	if ((ret = metrics_start(a->opt->metrics_addr, &a->metrics, &l.http)) < 0) {
		teardown(&l);
		return ret;
	}
	agent_node_prune(a);
	reconcile(&l, "start");
	if (!l.stop)
		log_info("ready", NULL);
	/* The state folder replaced and locked by another agent: that agent
	 * owns the node now; stop with an error, the restart waits for it. */
	while (!l.stop && !a->owned.lock_lost) {
		struct epoll_event evs[8];
		int n;

		/* Going idle after a reconcile or an API call: hand the pages
		 * they freed back to the kernel (malloc keeps them otherwise,
		 * and this process idles for minutes between resyncs). */
		if (l.trim) {
			malloc_trim(0);
			l.trim = false;
		}
		n = epoll_wait(l.epfd, evs, (int)ARRAY_SIZE(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			log_error("epoll_wait", "error", strerror(errno), NULL);
			break;
		}
		for (int i = 0; i < n && !l.stop && !a->owned.lock_lost; i++)
			dispatch(&l, evs[i].data.u32);
		if (l.hup && !l.stop)
			on_signal(&l);
	}
	set_cancels(&l, false);
	teardown(&l);
	if (a->owned.lock_lost)
		return -ENOLCK;
	return l.stop ? 0 : ret;
}
