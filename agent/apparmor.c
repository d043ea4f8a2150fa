/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AppArmor half of a reconcile (docs/apparmor.md: "From file to kernel",
 * "Ownership").
 *
 * State entries of kind AppArmor are the profiles the agent owns: name, the
 * sha256 of the source that declared it, and that source's entry name.  An
 * entry whose source is NULL is retired: its file left the folders and it
 * was not unloaded (no --unload-removed), but the agent still owns it, so a
 * later ConfigMap may declare it again.
 *
 * A file that is rejected keeps its last good profiles: they stay loaded,
 * owned and labeled, because their entries still name it as the source.
 */
#include <errno.h>
#include <string.h>

#include "../lib/aaproof.h"
#include "../lib/procscan.h"
#include "../lib/rules.h"
#include "apparmor.h"
#include "log.h"
#include "result.h"

struct aa_file {
	const struct pd_source *s;
	struct pd_aa_unit *u;
	bool ok;      /* compiled, no clash, allowed to load */
	bool load;    /* needs a load this round */
	bool restore; /* same version, but the kernel lost it */
	bool loaded;  /* the load succeeded */
};

static bool
owned(struct apparmor_pass *a, const char *name)
{
	return pd_state_find(a->state, PD_KIND_APPARMOR, name) != NULL;
}

/*
 * Whether the loaded profile `name` is exactly what the agent compiled from
 * f: the kernel's copy of its policy has the sha256 of f's compiled binary
 * (lib/aaproof.h).  This, or the local state, is the only proof of
 * ownership: nothing written on the Node is.  bin caches the binary's hash
 * ("" until computed).
 */
static bool
proven(struct apparmor_pass *a, const struct aa_file *f, const char *name,
       char bin[PD_SHA256_HEX_LEN + 1])
{
	char held[PD_SHA256_HEX_LEN + 1];
	pd_error_t err = NULL;

	if (bin[0] == '\0' && pd_aa_binary_sha256(f->u->binary, bin, &err) < 0) {
		bin[0] = '\0';
		log_debug("compiled policy unreadable; loaded profile not proven ours", "profile",
			  name, "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		return false;
	}
	if (pd_aa_loaded_raw_sha256(pd_aa_fs(a->aa->parser), name, held, &err) < 0) {
		log_debug("the kernel's policy of a loaded profile cannot be read; not proven ours",
			  "profile", name, "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		return false;
	}
	return strcmp(held, bin) == 0;
}

/* Takes back a loaded profile proven to be f's (a lost state). */
static void
take_back(struct apparmor_pass *a, const struct aa_file *f, const char *name)
{
	struct pd_state_entry *e = pd_state_put(a->state, PD_KIND_APPARMOR, name, f->s->sha256);

	pd_state_set_source(e, f->s->name);
	pd_state_set_policy(e,
			    pd_aa_context(a->aa->parser)); /* proven: the binary of this context */
	log_info("apparmor profile taken back: the kernel holds the policy compiled from this file",
		 "profile", name, "file", f->s->path, "sha256", f->s->sha256, NULL);
}

/*
 * What this node's kernel will not enforce of f's profiles (aagap.h):
 * logged once per profile, source and compile context (features included),
 * with a Warning Event, and kept in gaps for the profiles annotation.
 */
static void
report_gaps(struct apparmor_pass *a, const struct aa_file *f, struct pd_aa_gaps *gaps)
{
	const struct pd_aa_unit *u = f->u;
	const char *what = problem_info(PROBLEM_APPARMOR_RULES_NOT_ENFORCED)->log_text;

	for (size_t i = 0; i < u->gaps.n; i++) {
		const struct pd_aa_gap *g = &u->gaps.v[i];
		_cleanup_free_ char *ne = pd_aa_classes_text(g->not_enforced, ",");
		_cleanup_free_ char *dg = pd_aa_classes_text(g->downgraded, ",");
		_cleanup_free_ char *text = pd_aa_gap_text(g);

		pd_aa_gaps_merge(gaps, g);
		if (problems_add(a->problems, PROBLEM_APPARMOR_RULES_NOT_ENFORCED, f->s, text,
				 pd_aa_context(a->aa->parser))) {
			log_warn(what, "file", f->s->path, "profile", g->profile, "not_enforced",
				 ne[0] != '\0' ? ne : NULL, "downgraded", dg[0] != '\0' ? dg : NULL,
				 "features", pd_aa_features_desc(a->aa->parser), NULL);
			event_emit(a->events, "Warning",
				   problem_info(PROBLEM_APPARMOR_RULES_NOT_ENFORCED)->event_reason,
				   "%s: %s", f->s->path, text);
		} else {
			log_debug(what, "file", f->s->path, "profile", g->profile, "repeated",
				  "true", NULL);
		}
	}
}

/* Decides whether f may load: its names are not declared by an earlier
 * file and are not someone else's loaded profiles. */
static void
admit(struct apparmor_pass *a, struct aa_file *files, size_t idx, const struct pd_aa_loaded *kern,
      struct reconcile_result *res)
{
	struct aa_file *f = &files[idx];
	struct pd_aa_unit *u = f->u;
	_cleanup_free_ bool *ours = pd_xcalloc(u->names.n + 1, sizeof(*ours));
	char bin[PD_SHA256_HEX_LEN + 1] = "";
	/* files[i].u is &units[i]: the rule (rules.h) sees the earlier units */
	_cleanup_free_ char *msg = pd_aa_clash(files[0].u, idx, u);

	for (size_t k = 0; k < u->names.n && msg == NULL; k++) {
		const char *name = u->names.v[k];

		if (kern != NULL && pd_aa_loaded_mode(kern, name) != NULL && !owned(a, name)) {
			ours[k] = a->proof_window && proven(a, f, name, bin);
			if (!ours[k] && !a->opt->adopt_existing)
				msg = pd_xasprintf(
					"profile `%s` is already loaded and was not loaded by "
					"profiled (a host or runtime profile?); it is left "
					"alone unless --adopt-existing is given",
					name);
		}
	}
	if (msg != NULL) {
		res->rejected++;
		problems_report(a->problems, PROBLEM_APPARMOR_REJECTED, f->s, msg);
		return;
	}
	for (size_t k = 0; k < u->names.n; k++)
		if (ours[k])
			take_back(a, f, u->names.v[k]);
	for (size_t i = 0; i < u->warnings.n; i++)
		problems_report(a->problems, PROBLEM_APPARMOR_WARNING, f->s, u->warnings.v[i]);
	f->ok = u->admitted = true;
	if (kern == NULL)
		return; /* validation only */
	for (size_t k = 0; k < u->names.n; k++) {
		struct pd_state_entry *e = pd_state_find(a->state, PD_KIND_APPARMOR, u->names.v[k]);
		bool same = e != NULL && strcmp(e->sha256, f->s->sha256) == 0;

		/* Policy loaded in another compile context was made by another
		 * parser or from other abstractions: the kernel's copy is stale
		 * even if the source is the same. */
		if (!same || strcmp(e->policy, pd_aa_context(a->aa->parser)) != 0)
			f->load = true;
		else if (pd_aa_loaded_mode(kern, u->names.v[k]) == NULL)
			f->load = f->restore = true;
	}
}

static void
load(struct apparmor_pass *a, struct aa_file *f, struct reconcile_result *res)
{
	pd_error_t err = NULL;

	if (pd_aa_load(a->aa->parser, f->u->binary, &err) < 0) {
		res->failed++;
		problems_report(a->problems, PROBLEM_APPARMOR_NOT_LOADED, f->s, pd_error_msg(err));
		pd_error_release(&err);
		return;
	}
	f->loaded = true;
}

/*
 * After loading: what the kernel accepted is the agent's own (state), but
 * only names the kernel lists are labeled; a name missing from the list is
 * an error, and is loaded again at the next reconcile.
 */
static void
confirm(struct apparmor_pass *a, struct aa_file *f, const struct pd_aa_loaded *kern,
	struct reconcile_result *res)
{
	struct pd_aa_unit *u = f->u;
	_cleanup_free_ char *names = NULL;

	for (size_t k = 0; k < u->names.n; k++) {
		const char *name = u->names.v[k];
		const char *mode = pd_aa_loaded_mode(kern, name);
		struct pd_state_entry *e;

		e = pd_state_put(a->state, PD_KIND_APPARMOR, name, f->s->sha256);
		pd_state_set_source(e, f->s->name);
		pd_state_set_policy(e, pd_aa_context(a->aa->parser));
		if (mode == NULL) {
			_cleanup_free_ char *msg = pd_xasprintf(
				"profile `%s` was loaded but the kernel does not list it", name);

			res->failed++;
			problems_report(a->problems, PROBLEM_APPARMOR_NOT_CONFIRMED, f->s, msg);
			continue;
		}
		log_info(f->restore ? "apparmor profile restored" : "apparmor profile loaded",
			 "profile", name, "mode", mode, "file", f->s->path, "sha256", f->s->sha256,
			 NULL);
		event_emit(a->events, "Normal", f->restore ? "ProfileRestored" : "ProfileLoaded",
			   "AppArmor profile %s loaded in %s mode from %s (sha256 %.12s)", name,
			   mode, f->s->path, f->s->sha256);
	}
	res->loaded++;
	names = pd_strv_join(&u->names, ",");
	log_debug("apparmor file loaded", "file", f->s->path, "profiles", names, NULL);
}

/* One AppArmor pass: the files of the folders and what was listed. */
struct aa_round {
	struct aa_file *files; /* the AppArmor files to compile, in folder order */
	size_t n;
	struct pd_strv present; /* the entry names of every AppArmor file seen */
	bool complete;		/* every folder could be listed */
};

static bool
ok_source(const struct aa_round *r, const char *source)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].ok && strcmp(r->files[i].s->name, source) == 0)
			return true;
	return false;
}

/*
 * Whether the profile of entry e is still wanted: an accepted file declares
 * it, or the file that declared it is still there but was rejected this
 * round (its last good version stays), or a folder could not be listed.
 */
static bool
wanted(const struct aa_round *r, const struct pd_state_entry *e)
{
	if (e->source != NULL && !r->complete)
		return true;
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].ok && pd_strv_contains(&r->files[i].u->names, e->name))
			return true;
	return e->source != NULL && pd_strv_contains(&r->present, e->source) &&
	       !ok_source(r, e->source);
}

/* Whether e is one of the agent's profiles whose file left the folders. */
static bool
gone(const struct aa_round *r, const struct pd_state_entry *e)
{
	return e->kind == PD_KIND_APPARMOR && r->complete && !wanted(r, e);
}

void
apparmor_check_unload(struct apparmor_part *aa, const struct options *opt)
{
	_cleanup_free_ char *why = NULL;
	pd_error_t err = NULL;
	int r;

	aa->unload_ok = false;
	if (!opt->unload_removed)
		return;
	r = pd_proc_sees_host(opt->proc_root, &why, &err);
	if (r < 0) {
		why = pd_xstrdup(pd_error_msg(err));
		pd_error_release(&err);
	}
	if (r > 0) {
		aa->unload_ok = true;
		log_info("--unload-removed: a removed AppArmor profile is unloaded once no "
			 "process runs under it",
			 "proc", opt->proc_root, NULL);
		return;
	}
	log_warn("--unload-removed is not honoured: the agent does not see the node's "
		 "processes, so removed AppArmor profiles are retired (kept loaded), never "
		 "unloaded",
		 "reason", why, NULL);
}

/* "pid 12 (sleep), pid 40 (sh) and 3 more" */
static char *
holders_text(const struct pd_proc_hold *h, const struct pd_proc_scan *st, const char *scan_error)
{
	struct pd_strv pids = { 0 };
	_cleanup_free_ char *list = NULL, *text = NULL;

	if (scan_error != NULL)
		return pd_xasprintf("the processes could not be listed (%s)", scan_error);
	for (size_t i = 0; h != NULL && i < h->n; i++)
		pd_strv_pushf(&pids, "pid %d (%s)", h->v[i].pid, h->v[i].comm);
	list = pd_strv_join(&pids, ", ");
	pd_strv_clear(&pids);
	text = h != NULL && h->count > h->n ? pd_xasprintf("%s and %zu more", list, h->count - h->n)
					    : pd_steal(&list);
	if (st->unreadable > 0)
		return pd_xasprintf("%s%s%zu whose AppArmor label could not be read", text,
				    text[0] != '\0' ? "; " : "", st->unreadable);
	return pd_steal(&text);
}

void
aa_holds_clear(struct aa_holds *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].holders);
	}
	free(h->v);
	*h = (struct aa_holds){ 0 };
}

void
apparmor_part_clear(struct apparmor_part *aa)
{
	pd_strv_clear(&aa->labeled);
	pd_aa_gaps_clear(&aa->gaps);
	aa_holds_clear(&aa->held);
	pd_aa_job_free(aa->job); /* kills a parser still running */
	pd_aa_free(aa->parser);
	free(aa->error);
	*aa = (struct apparmor_part){ 0 };
}

static const struct aa_hold *
held_entry(const struct aa_holds *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

static void
holds_add(struct aa_holds *h, const char *name, long long reported_ms, const char *holders)
{
	pd_grow(&h->v, &h->cap, h->n + 1, sizeof(*h->v));
	h->v[h->n++] = (struct aa_hold){ .name = pd_xstrdup(name),
					 .reported_ms = reported_ms,
					 .holders = pd_xstrdup(holders) };
}

/*
 * A removed profile that processes still run under: it stays loaded and
 * owned, loses its labels (retired), and is tried again later.  Who holds
 * it is said once (a warning and an event) when the hold starts, and again
 * only when the holders changed and the last report is older than the
 * events' aggregation window: short-lived holders do not make an event per
 * retry.
 */
static void
hold(struct apparmor_pass *a, struct pd_state_entry *e, const struct pd_proc_hold *h,
     const struct pd_proc_scan *st, const char *scan_error, struct aa_holds *held)
{
	_cleanup_free_ char *who = holders_text(h, st, scan_error);
	const struct aa_hold *prev = held_entry(&a->aa->held, e->name);
	long long now = pd_now_ms(), reported = now;
	char n[24], ms[24];

	snprintf(n, sizeof(n), "%zu", h != NULL ? h->count : 0);
	snprintf(ms, sizeof(ms), "%lld", a->opt->unload_retry_ms);
	if (e->source != NULL)
		pd_state_set_source(e, NULL);
	if (prev != NULL) {
		reported = prev->reported_ms;
		if (strcmp(prev->holders, who) != 0 && now - reported >= a->hold_report_ms)
			prev = NULL; /* report again */
	}
	if (prev != NULL) {
		log_debug("apparmor profile still in use; not unloaded", "profile", e->name,
			  "processes", n, "holders", who, NULL);
	} else {
		reported = now;
		log_warn("apparmor profile left the profiles folders but is in use; not unloaded, "
			 "tried again",
			 "profile", e->name, "processes", n, "holders", who, "retry_in_ms", ms,
			 NULL);
		event_emit(a->events, "Warning", "ProfileInUse",
			   "AppArmor profile %s left the profiles but is not unloaded while "
			   "processes run under it: %s",
			   e->name, who);
	}
	holds_add(held, e->name, reported, who);
}

static ssize_t
index_of(const struct pd_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * The agent's profiles whose file left the folders: retired without
 * --unload-removed (or when the node's processes cannot be seen); with it,
 * unloaded unless a process runs under them (one walk of the proc folder
 * for all of them), else held until the next try.
 */
static void
remove_gone(struct apparmor_pass *a, const struct aa_round *r, const struct pd_aa_loaded *kern,
	    struct reconcile_result *res)
{
	bool unload = a->opt->unload_removed && a->aa->unload_ok;
	struct pd_strv cand = { 0 };
	struct aa_holds held = { 0 };
	_cleanup_free_ struct pd_proc_hold *holds = NULL;
	_cleanup_free_ char *scan_error = NULL;
	struct pd_proc_scan st = { 0 };

	for (size_t i = 0; i < a->state->n; i++) {
		struct pd_state_entry *e = &a->state->v[i];

		if (!gone(r, e))
			continue;
		if (unload) {
			if (pd_aa_loaded_mode(kern, e->name) != NULL)
				pd_strv_push(&cand, pd_xstrdup(e->name));
		} else if (e->source != NULL) {
			log_info("apparmor profile left the profiles folders; still loaded (see "
				 "--unload-removed)",
				 "profile", e->name, "file", e->source, NULL);
			event_emit(a->events, "Normal", "ProfileRetired",
				   "AppArmor profile %s: its file %s left the profiles folders; "
				   "it stays loaded, without its label",
				   e->name, e->source);
			pd_state_set_source(e, NULL);
		}
	}
	if (cand.n > 0) {
		pd_error_t err = NULL;

		holds = pd_xcalloc(cand.n, sizeof(*holds));
		if (pd_proc_scan_holders(a->opt->proc_root, &cand, holds, &st, &err) < 0) {
			scan_error = pd_xstrdup(pd_error_msg(err));
			pd_error_release(&err);
			res->failed++;
		}
	}
	for (size_t i = 0; unload && i < a->state->n;) {
		struct pd_state_entry *e = &a->state->v[i];
		ssize_t k = index_of(&cand, e->name);
		pd_error_t err = NULL;

		if (!gone(r, e)) {
			i++;
			continue;
		}
		if (k >= 0 && (scan_error != NULL || holds[k].count > 0 || st.unreadable > 0)) {
			hold(a, e, &holds[k], &st, scan_error, &held);
			i++;
			continue;
		}
		if (k < 0) {
			/* not in the kernel's list: nothing to unload */
			log_info("apparmor profile left the profiles folders and is not loaded; "
				 "forgotten",
				 "profile", e->name, NULL);
			pd_state_remove(a->state, PD_KIND_APPARMOR, e->name);
			continue;
		}
		if (pd_aa_unload(a->aa->parser, e->name, &err) < 0) {
			res->failed++;
			log_error("apparmor profile not unloaded", "profile", e->name, "error",
				  pd_error_msg(err), NULL);
			pd_error_release(&err);
			i++;
			continue;
		}
		log_info("apparmor profile unloaded", "profile", e->name, NULL);
		event_emit(a->events, "Normal", "ProfileUnloaded", "AppArmor profile %s unloaded",
			   e->name);
		res->unloaded++;
		pd_state_remove(a->state, PD_KIND_APPARMOR, e->name); /* moves the last to i */
	}
	aa_holds_clear(&a->aa->held);
	a->aa->held = held;
	pd_strv_clear(&cand);
}

static void
update_labeled(struct apparmor_pass *a, const struct aa_round *r, const struct pd_aa_loaded *kern)
{
	pd_strv_clear(&a->aa->labeled);
	if (kern == NULL)
		return;
	for (size_t i = 0; i < a->state->n; i++) {
		const struct pd_state_entry *e = &a->state->v[i];

		if (e->kind == PD_KIND_APPARMOR && e->source != NULL && wanted(r, e) &&
		    pd_aa_loaded_mode(kern, e->name) != NULL)
			pd_strv_push(&a->aa->labeled, pd_xstrdup(e->name));
	}
}

static int
read_kernel(struct apparmor_pass *a, struct pd_aa_loaded *kern, struct reconcile_result *res)
{
	pd_error_t err = NULL;
	int ret = pd_aa_list(a->aa->parser, kern, &err);

	if (ret < 0) {
		res->failed++;
		log_error("cannot read the kernel's AppArmor profiles", "error", pd_error_msg(err),
			  NULL);
		pd_error_release(&err);
	}
	return ret;
}

/*
 * Compiles in the background what the cache does not hold: the loop keeps
 * serving folder events (seccomp publishing never waits for the parser),
 * and the end of the job brings a reconcile that loads from the cache.
 */
static void
start_compile(struct apparmor_pass *a, const struct pd_aa_unit *units, size_t n, unsigned pending)
{
	pd_error_t err = NULL;
	char c[16];

	if (pd_aa_job_start(a->aa->parser, units, n, &a->aa->job, &err) < 0) {
		log_error("cannot run the AppArmor parser", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		return;
	}
	snprintf(c, sizeof(c), "%u", pending);
	log_info("apparmor compile started", "files", c, NULL);
}

int
apparmor_compile_fd(const struct apparmor_part *aa)
{
	return aa->job != NULL ? pd_aa_job_fd(aa->job) : -1;
}

bool
apparmor_compile_step(struct apparmor_part *aa)
{
	struct pd_aa_stats st;
	pd_error_t err = NULL;
	bool done = false;
	char c[16], r[16], ms[24];

	if (aa->job == NULL)
		return false;
	if (pd_aa_job_step(aa->job, &done, &err) < 0) {
		log_error("AppArmor compile failed", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		done = true;
	}
	if (!done)
		return false;
	pd_aa_job_stats(aa->job, &st);
	snprintf(c, sizeof(c), "%u", st.compiled);
	snprintf(r, sizeof(r), "%u", st.rejected);
	snprintf(ms, sizeof(ms), "%lld", st.compile_ms);
	log_info("apparmor compiled", "compiled", c, "rejected", r, "took_ms", ms, NULL);
	pd_aa_job_free(aa->job);
	aa->job = NULL;
	return true;
}

/* Takes every AppArmor file of src that can go to the parser into r
 * (units[k] is r->files[k]'s); the others are reported. */
static void
collect(struct apparmor_pass *a, const struct pd_sources *src, struct aa_round *r,
	struct pd_aa_unit *units, struct reconcile_result *res)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct pd_source *s = &src->v[i];
		const char *why;

		if (s->kind != PD_KIND_APPARMOR || problem_source_vanished(s))
			continue;
		if (pd_source_rule(&r->present, s, &why) == PD_ENTRY_REJECTED) { /* rules.h */
			res->rejected++;
			problems_report(a->problems, PROBLEM_APPARMOR_REJECTED, s, why);
			continue;
		}
		if (a->aa->parser == NULL) {
			res->failed++;
			problems_report(a->problems, PROBLEM_APPARMOR_NOT_HANDLED, s, a->aa->error);
			continue;
		}
		r->files[r->n] = (struct aa_file){ .s = s, .u = &units[r->n] };
		units[r->n].label = s->path;
		units[r->n].data = s->data;
		units[r->n].len = s->len;
		memcpy(units[r->n].sha256, s->sha256, sizeof(units[r->n].sha256));
		r->n++;
	}
}

/* Finds each file's compiled policy (starting the compile of what the
 * cache lacks) and, when profiles are loaded, the kernel's list (*kp).
 * Returns 0, or -1 when the pass cannot go on (logged, counted). */
static int
resolve(struct apparmor_pass *a, struct aa_round *r, struct pd_aa_unit *units,
	struct pd_aa_loaded *kern, struct pd_aa_loaded **kp, struct reconcile_result *res)
{
	struct pd_aa_stats stats;
	pd_error_t err = NULL;

	/* An upgraded parser or a changed abstraction gets a cache of its own
	 * (not while a compile runs: it writes into the current one). */
	if (a->aa->job == NULL && pd_aa_refresh(a->aa->parser, &err) < 0) {
		res->failed++;
		log_error("cannot read the AppArmor parser", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		return -1;
	}
	if (pd_aa_resolve(a->aa->parser, units, r->n, a->aa->job, &stats, &err) < 0) {
		res->failed++;
		log_error("cannot run the AppArmor parser", "error", pd_error_msg(err), NULL);
		pd_error_release(&err);
		return -1;
	}
	if (stats.pending > 0 && a->aa->job == NULL)
		start_compile(a, units, r->n, stats.pending);
	if (a->aa->load) {
		if (read_kernel(a, kern, res) < 0)
			return -1;
		*kp = kern;
	}
	return 0;
}

/* A file loaded as it is: a retired profile declared again, or one that
 * moved to another file, follows it. */
static void
follow_source(struct apparmor_pass *a, const struct aa_file *f)
{
	for (size_t k = 0; k < f->u->names.n; k++) {
		struct pd_state_entry *e =
			pd_state_find(a->state, PD_KIND_APPARMOR, f->u->names.v[k]);

		if (e != NULL && (e->source == NULL || strcmp(e->source, f->s->name) != 0))
			pd_state_set_source(e, f->s->name);
	}
}

/* Each compiled file's verdict: rejected, or admitted (and what it does
 * not enforce on this kernel, into gaps). */
static void
judge(struct apparmor_pass *a, struct aa_round *r, const struct pd_aa_loaded *kp,
      struct pd_aa_gaps *gaps, struct reconcile_result *res)
{
	for (size_t i = 0; i < r->n; i++) {
		struct aa_file *f = &r->files[i];

		if (f->u->pending) {
			/* Its last good version (if any) stays loaded and
			 * labeled: wanted() keeps the profiles of a file that
			 * is present but not accepted this round. */
			log_debug("apparmor profile compiling", "file", f->s->path, NULL);
			if (res->pending++ == 0)
				res->pending_path = f->s->path;
			continue;
		}
		if (f->u->error != NULL) {
			res->rejected++;
			problems_report(a->problems, PROBLEM_APPARMOR_REJECTED, f->s, f->u->error);
			continue;
		}
		admit(a, r->files, i, kp, res);
		if (f->ok && kp != NULL)
			report_gaps(a, f, gaps);
		if (f->ok && !f->load && kp != NULL) {
			follow_source(a, f);
			res->unchanged++;
		}
	}
}

/* Files still compiling have no verdict yet: their profiles keep what the
 * last one found.  gaps becomes the agent's. */
static void
keep_gaps(struct apparmor_pass *a, const struct aa_round *r, struct pd_aa_gaps *gaps)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; r->files[i].u->pending && k < r->files[i].u->names.n; k++) {
			const struct pd_aa_gap *g =
				pd_aa_gaps_find(&a->aa->gaps, r->files[i].u->names.v[k]);

			if (g != NULL)
				pd_aa_gaps_merge(gaps, g);
		}
	pd_aa_gaps_clear(&a->aa->gaps);
	a->aa->gaps = *gaps;
	*gaps = (struct pd_aa_gaps){ 0 };
}

/* Loads what needs it, then confirms it in the kernel's list (read again
 * into kern).  Returns -1 when that list cannot be read. */
static int
load_all(struct apparmor_pass *a, struct aa_round *r, struct pd_aa_loaded *kern,
	 struct reconcile_result *res)
{
	bool any_load = false;

	for (size_t i = 0; i < r->n; i++) {
		if (r->files[i].ok && r->files[i].load) {
			load(a, &r->files[i], res);
			any_load |= r->files[i].loaded;
		}
	}
	if (!any_load)
		return 0;
	pd_aa_loaded_clear(kern);
	if (read_kernel(a, kern, res) < 0)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].loaded)
			confirm(a, &r->files[i], kern, res);
	return 0;
}

void
apparmor_reconcile(struct apparmor_pass *a, const struct pd_sources *src, bool complete,
		   struct reconcile_result *res)
{
	_cleanup_free_ struct aa_file *files = pd_xcalloc(src->n + 1, sizeof(*files));
	_cleanup_free_ struct pd_aa_unit *units = pd_xcalloc(src->n + 1, sizeof(*units));
	struct aa_round r = { .files = files, .complete = complete };
	struct pd_aa_loaded kern = { 0 }, *kp = NULL;
	struct pd_aa_gaps gaps = { 0 };

	collect(a, src, &r, units, res);
	if (a->aa->parser == NULL || resolve(a, &r, units, &kern, &kp, res) < 0)
		goto out;
	judge(a, &r, kp, &gaps, res);
	keep_gaps(a, &r, &gaps);
	if (kp == NULL)
		goto out; /* no AppArmor in this kernel: validated only */
	if (load_all(a, &r, &kern, res) < 0)
		goto out;
	remove_gone(a, &r, &kern, res);
	update_labeled(a, &r, &kern);
out:
	for (size_t i = 0; i < r.n; i++)
		pd_aa_unit_clear(&units[i]);
	pd_aa_gaps_clear(&gaps);
	pd_aa_loaded_clear(&kern);
	pd_strv_clear(&r.present);
}
