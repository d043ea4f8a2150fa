/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp pass of a reconcile: validates every seccomp source, claims
 * the new names in the state (write-ahead), publishes into the kubelet's
 * folder, removes what left the folders.  It takes its part, the owned
 * state, the problems and the Events sink: never the whole daemon state.
 */
#include <errno.h>
#include <string.h>

#include "../lib/rules.h"
#include "log.h"
#include "result.h"
#include "seccomp_pass.h"

char *
seccomp_profile_name(const char *file)
{
	return pd_xstrndup(file, pd_json_stem_len(file));
}

/* Validates s unless this content was validated and published before;
 * 1 when it may be published, 0 when rejected, -ECANCELED when the agent
 * is stopping. */
static int
validate_seccomp(struct seccomp_pass *a, const struct pd_source *s, struct reconcile_result *res)
{
	struct pd_state_entry *e = pd_state_find(a->state, PD_KIND_SECCOMP, s->name);
	struct pd_strv warnings = { 0 };
	pd_error_t err = NULL;
	int ret;

	/* Content already validated and published needs no second compile;
	 * the store still compares bytes, so drift on disk is repaired. */
	if (e != NULL && strcmp(e->sha256, s->sha256) == 0)
		return 1;
	ret = pd_seccomp_validate(s->data, s->len, &a->sc->env, &warnings, &err);
	if (ret == -ECANCELED) {
		pd_error_release(&err);
		pd_strv_clear(&warnings);
		return ret;
	}
	if (ret < 0) {
		res->rejected++;
		problems_report(a->problems, PROBLEM_SECCOMP_REJECTED, s, pd_error_msg(err));
		pd_error_release(&err);
		pd_strv_clear(&warnings);
		return 0;
	}
	for (size_t i = 0; i < warnings.n; i++)
		problems_report(a->problems, PROBLEM_SECCOMP_WARNING, s, warnings.v[i]);
	pd_strv_clear(&warnings);
	return 1;
}

/*
 * Write-ahead ownership: a name the state does not hold yet is recorded (and
 * the state saved) before its file is renamed into place.  Killed between
 * the rename and the end of the reconcile, the agent would otherwise leave a
 * file nobody owns, never removed once its source goes.  The state may name
 * a file that is not there: removing it later is a no-op.  Returns false
 * when the state could not be saved: then no new name is published.
 */
static bool
claim_new_names(struct seccomp_pass *a, const struct pd_source *const *ok, size_t n, bool *claimed,
		struct reconcile_result *res)
{
	pd_error_t err = NULL;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		claimed[i] = pd_state_find(a->state, PD_KIND_SECCOMP, ok[i]->name) == NULL;
		if (claimed[i]) {
			pd_state_put(a->state, PD_KIND_SECCOMP, ok[i]->name, ok[i]->sha256);
			any = true;
		}
	}
	if (!any || pd_state_save(a->state_dir, a->state, &err) == 0)
		return true;
	res->failed++;
	log_error("state not saved; new seccomp profiles are not published until it is", "error",
		  pd_error_msg(err), NULL);
	pd_error_release(&err);
	return false;
}

/* Publishes s; when that fails because the folder went away since the
 * pass began, finds the folder again by path and tries once more. */
static int
put_seccomp(struct seccomp_pass *a, const struct pd_source *s, bool *changed, pd_error_t *err)
{
	_cleanup_free_ char *path = pd_store_path(a->sc->store, "");
	pd_error_t e = NULL;
	int ret = pd_store_put(a->sc->store, s->name, s->data, s->len, changed, err);

	if (ret < 0 && pd_store_refresh(a->sc->store, &e) == 1) {
		log_warn("the seccomp folder was removed or replaced; publishing into the new one",
			 "path", path, NULL);
		pd_error_release(err);
		ret = pd_store_put(a->sc->store, s->name, s->data, s->len, changed, err);
	}
	pd_error_release(&e);
	return ret;
}

static void
publish_seccomp(struct seccomp_pass *a, const struct pd_source *s, bool claimed,
		struct reconcile_result *res, struct pd_strv *placed)
{
	struct pd_state_entry *e = pd_state_find(a->state, PD_KIND_SECCOMP, s->name);
	bool known = !claimed && e != NULL && strcmp(e->sha256, s->sha256) == 0;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *name = seccomp_profile_name(s->name);
	pd_error_t err = NULL;
	bool changed = false;

	path = pd_store_path(a->sc->store, s->name);
	if (put_seccomp(a, s, &changed, &err) < 0) {
		res->failed++;
		res->retry = true;
		problems_report(a->problems, PROBLEM_SECCOMP_NOT_PUBLISHED, s, pd_error_msg(err));
		pd_error_release(&err);
		/* Not in place: no label.  The saved claim stays, harmlessly. */
		if (claimed)
			pd_state_remove(a->state, PD_KIND_SECCOMP, s->name);
		return;
	}
	if (changed) {
		log_info(known ? "seccomp profile restored" : "seccomp profile published",
			 "profile", name, "file", s->path, "path", path, "sha256", s->sha256, NULL);
		event_emit(a->events, "Normal", known ? "ProfileRestored" : "ProfilePublished",
			   "seccomp profile %s published as %s (sha256 %.12s)", name, path,
			   s->sha256);
	} else if (!known)
		log_info("seccomp profile already in place", "profile", name, "path", path,
			 "sha256", s->sha256, NULL);
	if (changed)
		res->published++;
	else
		res->unchanged++;
	pd_state_put(a->state, PD_KIND_SECCOMP, s->name, s->sha256);
	pd_strv_push(placed, pd_xstrdup(s->name));
}

/* Validates every seccomp source, claims the new names, then publishes. */
void
seccomp_reconcile(struct seccomp_pass *a, const struct pd_sources *src, struct pd_strv *present,
		  struct reconcile_result *res, struct pd_strv *placed)
{
	_cleanup_free_ const struct pd_source **ok = pd_xcalloc(src->n + 1, sizeof(*ok));
	_cleanup_free_ bool *claimed = NULL;
	const char *why;
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < src->n; i++) {
		const struct pd_source *s = &src->v[i];

		if (s->kind == PD_KIND_APPARMOR || problem_source_vanished(s))
			continue;
		if (pd_source_rule(present, s, &why) == PD_ENTRY_REJECTED) { /* rules.h */
			res->rejected++;
			problems_report(a->problems, PROBLEM_SECCOMP_REJECTED, s, why);
			continue;
		}
		ret = validate_seccomp(a, s, res);
		if (ret == -ECANCELED) {
			res->cancelled = true;
			return;
		}
		if (ret > 0)
			ok[n++] = s;
	}
	claimed = pd_xcalloc(n + 1, sizeof(*claimed));
	if (!claim_new_names(a, ok, n, claimed, res)) {
		res->retry = true;
		/* Publish only what is already owned; drop the unsaved claims. */
		for (size_t i = 0; i < n; i++)
			if (claimed[i])
				pd_state_remove(a->state, PD_KIND_SECCOMP, ok[i]->name);
		for (size_t i = 0; i < n; i++)
			if (!claimed[i])
				publish_seccomp(a, ok[i], false, res, placed);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		/* Each publish fsyncs: thousands take seconds.  Stopping
		 * here leaves at most a saved claim without its file. */
		if (pd_cancel_requested(a->sc->env.cancel)) {
			res->cancelled = true;
			return;
		}
		publish_seccomp(a, ok[i], claimed[i], res, placed);
	}
}

void
seccomp_remove_gone(struct seccomp_pass *a, const struct pd_strv *present,
		    struct reconcile_result *res)
{
	for (size_t i = 0; i < a->state->n;) {
		struct pd_state_entry *e = &a->state->v[i];
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *name = NULL;
		pd_error_t err = NULL;

		if (e->kind != PD_KIND_SECCOMP || pd_strv_contains(present, e->name)) {
			i++;
			continue;
		}
		path = pd_store_path(a->sc->store, e->name);
		name = seccomp_profile_name(e->name);
		if (pd_store_remove(a->sc->store, e->name, &err) < 0) {
			res->failed++;
			res->retry = true;
			log_error("seccomp profile not removed", "profile", name, "path", path,
				  "error", pd_error_msg(err), NULL);
			pd_error_release(&err);
			i++;
			continue;
		}
		log_info("seccomp profile removed", "profile", name, "path", path, NULL);
		event_emit(a->events, "Normal", "ProfileRemoved",
			   "seccomp profile %s removed from %s", name, path);
		res->removed++;
		pd_state_remove(a->state, PD_KIND_SECCOMP, e->name); /* moves the last entry to i */
	}
}

/* Which files the state names are not in place (the folder was removed,
 * a write failed, a file was deleted): their labels go until they are. */
void
seccomp_find_missing(struct seccomp_pass *a, const struct pd_strv *placed)
{
	struct pd_strv missing = { 0 };

	for (size_t i = 0; i < a->state->n; i++) {
		const struct pd_state_entry *e = &a->state->v[i];

		if (e->kind != PD_KIND_SECCOMP || pd_strv_contains(placed, e->name) ||
		    pd_store_holds_hash(a->sc->store, e->name, e->sha256, NULL) == 1)
			continue;
		if (!pd_strv_contains(&a->sc->missing, e->name)) {
			_cleanup_free_ char *path = pd_store_path(a->sc->store, e->name);

			log_warn("seccomp profile not in place; its label is removed until it is",
				 "path", path, NULL);
		}
		pd_strv_push(&missing, pd_xstrdup(e->name));
	}
	pd_strv_clear(&a->sc->missing);
	a->sc->missing = missing;
}
