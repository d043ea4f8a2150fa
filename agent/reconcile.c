/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One reconcile: lists the profiles folders, runs the seccomp pass and the
 * AppArmor pass (apparmor.c), saves the state, and sets the labels and the
 * ProfilesReady condition.  The passes record problems (problems.h); this
 * file decides readiness from them.
 */
#include <errno.h>
#include <string.h>

#include "../lib/rules.h"
#include "../lib/scan.h"
#include "agent.h"
#include "view.h"
#include "log.h"

void
agent_update_gauges(struct agent *a)
{
	struct metrics *m = &a->metrics;
	unsigned sp = 0, al = 0, au = 0, ar = 0, srej = 0, arej = 0;

	for (size_t i = 0; i < a->owned.state.n; i++) {
		const struct pd_state_entry *e = &a->owned.state.v[i];

		if (e->kind == PD_KIND_SECCOMP)
			sp += !pd_strv_contains(&a->seccomp.missing, e->name);
		else if (e->source == NULL)
			ar++;
		else if (pd_strv_contains(&a->apparmor.labeled, e->name))
			al++;
		else
			au++;
	}
	/* Files rejected right now: the problems of the last round. */
	srej = problems_rejected(&a->problems.reported, PROBLEM_KIND_SECCOMP);
	arej = problems_rejected(&a->problems.reported, PROBLEM_KIND_APPARMOR);
	pthread_mutex_lock(&m->lock);
	m->seccomp_published = sp;
	m->seccomp_rejected = srej;
	m->apparmor_loaded = al;
	m->apparmor_unconfirmed = au;
	m->apparmor_retired = ar;
	m->apparmor_rejected = arej;
	problems_gauges(&a->problems.reported, m);
	if (a->node != NULL)
		m->events_dropped = node_sync_dropped(a->node);
	pthread_mutex_unlock(&m->lock);
}

/* Local mode: no API server, so the label changes are logged.  With one,
 * agent_node_sync() sends them after the reconcile. */
static void
update_labels(struct agent *a)
{
	struct pd_labels want = { 0 };
	const char *node = a->opt->node_name;

	if (a->node != NULL)
		return;
	agent_desired_labels(a, &want);
	for (size_t i = 0; i < a->labels.n; i++)
		if (pd_labels_get(&want, a->labels.v[i].key) == NULL)
			log_info("would remove node label", "node", node, "label",
				 a->labels.v[i].key, NULL);
	for (size_t i = 0; i < want.n; i++) {
		const char *old = pd_labels_get(&a->labels, want.v[i].key);

		if (old == NULL || strcmp(old, want.v[i].value) != 0)
			log_info("would set node label", "node", node, "label", want.v[i].key,
				 "value", want.v[i].value, NULL);
	}
	pd_labels_clear(&a->labels);
	a->labels = want;
}

/*
 * The ProfilesReady condition: True when this reconcile put every profile
 * of the folders in place (seccomp published, AppArmor loaded and
 * confirmed), else False with the first problem's file and reason.
 */
static void
set_readiness(struct agent *a, const struct reconcile_result *res, const char *folder_error)
{
	struct readiness *r = &a->ready;
	const char *reason = NULL;
	size_t more = 0;
	const struct problem *first = problems_first_blocking(&a->problems.now, &more);

	free(r->message);
	r->message = NULL;
	if (folder_error != NULL) {
		reason = "FolderUnreadable";
		r->message = pd_xstrdup(folder_error);
	} else if (first != NULL) {
		reason = problem_info(first->cls)->ready_reason;
		if (more > 0)
			r->message = pd_xasprintf("%s: %s (and %zu more problem%s)", first->path,
						  first->detail, more, more == 1 ? "" : "s");
		else
			r->message = pd_xasprintf("%s: %s", first->path, first->detail);
	} else if (res->pending > 0) {
		/* Its last good version, if any, stays loaded meanwhile. */
		reason = "Pending";
		r->message =
			pd_xasprintf("%s: the AppArmor parser is compiling it%s", res->pending_path,
				     res->pending > 1 ? " (and other files)" : "");
	} else if (res->failed > 0) {
		reason = "ReconcileFailed";
		r->message = pd_xstrdup("the last reconcile failed; the agent's log says why");
	} else if (a->apparmor.load) {
		/* Loaded but not (yet) in the kernel's list. Without AppArmor
		 * (or with --apparmor-validate-only) AppArmor files are only
		 * validated: no pod can use them on this node, and they do not
		 * hold the condition False. */
		for (size_t i = 0; i < a->owned.state.n && reason == NULL; i++) {
			const struct pd_state_entry *e = &a->owned.state.v[i];

			if (e->kind != PD_KIND_APPARMOR || e->source == NULL ||
			    pd_strv_contains(&a->apparmor.labeled, e->name))
				continue;
			reason = "Pending";
			r->message = pd_xasprintf("%s: AppArmor profile %s is loaded but not "
						  "confirmed by the kernel yet",
						  e->source, e->name);
		}
	}
	r->ready = reason == NULL;
	if (r->ready) {
		reason = "ProfilesInPlace";
		r->message = pd_xstrdup("every profile of the profiles folders is in place");
	}
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/*
 * The seccomp folder and the state folder are held open; either may have
 * been removed or replaced since the last pass (rm -rf, a restore from a
 * backup).  Writing through a stale handle fails for ever, or lands where
 * nobody reads: find them again by path.  Returns true when the state must
 * be written again.
 */
static bool
refresh_folders(struct agent *a, struct reconcile_result *res)
{
	_cleanup_free_ char *path = pd_store_path(a->seccomp.store, "");
	pd_error_t err = NULL;
	bool rewrite = false;
	int holder = 0, ret;

	ret = pd_store_refresh(a->seccomp.store, &err);
	if (ret == 1)
		log_warn("the seccomp folder was removed or replaced; publishing everything again",
			 "path", path, NULL);
	if (ret < 0) {
		res->failed++;
		res->retry = true;
		log_error(
			"cannot open the seccomp folder again; nothing is published until it can be",
			"error", pd_error_msg(err), NULL);
		pd_error_release(&err);
	}
	ret = pd_state_dir_refresh(a->owned.dir, &holder, &err);
	if (ret == 1) {
		log_warn("the state folder was removed or replaced; writing the state again",
			 "state_dir", a->opt->state_dir, NULL);
		rewrite = true;
	} else if (ret == -EWOULDBLOCK) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", holder);
		log_error(
			"the state folder was replaced and another agent holds its lock; stopping",
			"state_dir", a->opt->state_dir, "holder_pid", holder > 0 ? pid : NULL,
			NULL);
		a->owned.lock_lost = true;
	} else if (ret < 0) {
		res->failed++;
		res->retry = true;
		log_error("cannot open the state folder again", "error", pd_error_msg(err), NULL);
	}
	pd_error_release(&err);
	return rewrite;
}

static void
seccomp_pass_of(struct agent *a, struct seccomp_pass *p)
{
	*p = (struct seccomp_pass){
		.sc = &a->seccomp,
		.state = &a->owned.state,
		.state_dir = a->owned.dir,
		.problems = &a->problems,
		.events = &a->events,
	};
}

/* The AppArmor pass, on the parts it needs. */
static void
reconcile_apparmor(struct agent *a, const struct pd_sources *src, bool complete,
		   struct reconcile_result *res)
{
	struct apparmor_pass p = {
		.opt = a->opt,
		.aa = &a->apparmor,
		.state = &a->owned.state,
		.proof_window = a->owned.proof_window,
		.hold_report_ms = EVENT_AGGREGATE_MS,
		.problems = &a->problems,
		.events = &a->events,
	};

	apparmor_reconcile(&p, src, complete, res);
}

/*
 * Lists every profiles folder into src.  Returns false when one could not
 * be listed or was unmounted: then nothing is removed this round, and
 * *folder_error says why (the first such folder).
 */
static bool
list_folders(struct agent *a, struct pd_sources *src, struct reconcile_result *res,
	     char **folder_error)
{
	bool complete = true;

	for (size_t i = 0; i < a->opt->profiles.n; i++) {
		const char *dir = a->opt->profiles.v[i];
		struct pd_scan_folder info = { 0 };
		size_t mark = src->n;
		pd_error_t err = NULL;

		if (pd_scan_dir_info(dir, src, &info, &err) < 0) {
			/* Without the listing we cannot tell removed from
			 * unreadable: remove nothing this round. */
			complete = false;
			res->failed++;
			if (*folder_error == NULL)
				*folder_error = pd_xasprintf("%s: cannot be read: %s", dir,
							     pd_error_msg(err));
			log_error("cannot read profiles folder", "error", pd_error_msg(err), NULL);
			pd_error_release(&err);
		} else if (a->mounted[i] && !info.mount_root) {
			/* Unmounted (umount -l of the volume): what is
			 * under it is not the profiles, and no event will
			 * tell when it is mounted again. */
			pd_sources_truncate(src, mark);
			complete = false;
			res->failed++;
			res->reread = true;
			if (*folder_error == NULL)
				*folder_error = pd_xasprintf(
					"%s: was a mount and is not any more (unmounted); nothing "
					"is removed until it is mounted again",
					dir);
			log_error("profiles folder unmounted; keeping everything in place until it "
				  "is mounted again",
				  "folder", dir, NULL);
		} else {
			a->mounted[i] = info.mount_root;
		}
	}
	return complete;
}

/* Saves the state when it changed (or must be written again). */
static void
save_state(struct agent *a, const struct pd_state *before, bool rewrite,
	   struct reconcile_result *res)
{
	pd_error_t err = NULL;

	if (!a->owned.unknown && !rewrite && pd_state_equal(before, &a->owned.state))
		return;
	if (pd_state_save(a->owned.dir, &a->owned.state, &err) < 0) {
		res->failed++;
		res->retry = true;
		log_error("state not saved", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
	} else {
		a->owned.unknown = false;
	}
}

void
agent_reconcile(struct agent *a, struct reconcile_result *res)
{
	struct pd_sources src = { 0 };
	struct pd_strv present = { 0 }, placed = { 0 };
	struct seccomp_pass sp;
	struct pd_state before = { 0 };
	bool complete, rewrite;
	_cleanup_free_ char *folder_error = NULL;
	long long t0 = pd_now_ms();
	char ms[32];

	memset(res, 0, sizeof(*res));
	if (a->mounted == NULL)
		a->mounted = pd_xcalloc(a->opt->profiles.n, sizeof(*a->mounted));
	rewrite = refresh_folders(a, res);
	if (a->owned.lock_lost)
		return;
	pd_state_copy(&before, &a->owned.state);
	complete = list_folders(a, &src, res, &folder_error);
	seccomp_pass_of(a, &sp);
	seccomp_reconcile(&sp, &src, &present, res, &placed);
	/* Stopped part-way: `present` is incomplete (removing by it would
	 * delete files), and the signal is read, so the AppArmor parser
	 * would not see it. */
	if (res->cancelled)
		log_info("reconcile stopped: shutting down", NULL);
	if (complete && !res->cancelled)
		seccomp_remove_gone(&sp, &present, res);
	seccomp_find_missing(&sp, &placed);
	if (!res->cancelled)
		reconcile_apparmor(a, &src, complete, res);
	save_state(a, &before, rewrite, res);
	if (res->pending == 0 && !res->cancelled)
		a->owned.proof_window = false;
	update_labels(a);
	set_readiness(a, res, folder_error);
	problems_end_round(&a->problems);
	pd_strv_clear(&present);
	pd_strv_clear(&placed);
	pd_state_clear(&before);
	pd_sources_clear(&src);
	snprintf(ms, sizeof(ms), "%lld", pd_now_ms() - t0);
	log_debug("reconciled", "took_ms", ms, NULL);
}
