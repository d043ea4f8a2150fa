/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the Node should show, from the daemon state (view.h): the one
 * place node sync's input is made.
 */
#include <string.h>

#include "agent.h"
#include "view.h"

void
agent_desired_labels(const struct agent *a, struct pd_labels *out)
{
	const char *dom = a->opt->label_domain;
	_cleanup_free_ char *sk = pd_label_support_key(dom, PD_LABEL_SECCOMP);
	_cleanup_free_ char *ak = pd_label_support_key(dom, PD_LABEL_APPARMOR);

	pd_labels_set(out, sk, a->seccomp.enabled ? "enabled" : "disabled");
	pd_labels_set(out, ak, a->apparmor.enabled ? "enabled" : "disabled");
	for (size_t i = 0; i < a->owned.state.n; i++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *key = NULL;

		if (a->owned.state.v[i].kind != PD_KIND_SECCOMP ||
		    pd_strv_contains(&a->seccomp.missing, a->owned.state.v[i].name))
			continue;
		name = seccomp_profile_name(a->owned.state.v[i].name);
		key = pd_label_profile_key(dom, PD_LABEL_SECCOMP, name);
		pd_labels_set(out, key, "true");
	}
	for (size_t i = 0; i < a->apparmor.labeled.n; i++) {
		_cleanup_free_ char *key =
			pd_label_profile_key(dom, PD_LABEL_APPARMOR, a->apparmor.labeled.v[i]);

		pd_labels_set(out, key, "true");
	}
}

static void
present_labels(const struct agent *a, struct pd_labels *out)
{
	const char *dom = a->opt->label_domain;
	_cleanup_free_ char *sk = pd_label_support_key(dom, PD_LABEL_SECCOMP);
	_cleanup_free_ char *ak = pd_label_support_key(dom, PD_LABEL_APPARMOR);
	struct pd_aa_loaded kern = { 0 };
	struct pd_strv files = { 0 };
	bool have_kern = false;

	/* What the kernel supports is known now: those labels stay. */
	pd_labels_set(out, sk, a->seccomp.enabled ? "enabled" : "disabled");
	pd_labels_set(out, ak, a->apparmor.enabled ? "enabled" : "disabled");
	if (a->apparmor.parser != NULL && a->apparmor.load) {
		pd_error_t err = NULL;

		have_kern = pd_aa_list(a->apparmor.parser, &kern, &err) == 0;
		pd_error_release(&err);
	}
	for (size_t i = 0; i < a->owned.state.n; i++) {
		const struct pd_state_entry *e = &a->owned.state.v[i];
		_cleanup_free_ char *key = NULL;

		if (e->kind == PD_KIND_SECCOMP) {
			_cleanup_free_ char *name = seccomp_profile_name(e->name);

			if (pd_store_holds_hash(a->seccomp.store, e->name, e->sha256, NULL) != 1)
				continue;
			key = pd_label_profile_key(dom, PD_LABEL_SECCOMP, name);
		} else {
			if (!have_kern || pd_aa_loaded_mode(&kern, e->name) == NULL)
				continue;
			key = pd_label_profile_key(dom, PD_LABEL_APPARMOR, e->name);
		}
		pd_labels_set(out, key, "true");
	}
	/* Without a state, nothing proves a label stale: keep those of every
	 * file in the seccomp folder and every profile the kernel lists; the
	 * first reconcile decides. */
	if (a->owned.unknown) {
		if (pd_store_list(a->seccomp.store, &files, NULL) == 0)
			for (size_t i = 0; i < files.n; i++) {
				_cleanup_free_ char *name = seccomp_profile_name(files.v[i]);
				_cleanup_free_ char *key =
					pd_label_profile_key(dom, PD_LABEL_SECCOMP, name);

				pd_labels_set(out, key, "true");
			}
		for (size_t i = 0; have_kern && i < kern.names.n; i++) {
			_cleanup_free_ char *key =
				pd_label_profile_key(dom, PD_LABEL_APPARMOR, kern.names.v[i]);

			pd_labels_set(out, key, "true");
		}
	}
	pd_strv_clear(&files);
	pd_aa_loaded_clear(&kern);
}

/*
 * The profiles annotation's entries for the state (the format: lib/annotation.h,
 * docs/api.md, "Labels and the annotation"): each managed profile, its
 * kind, source file, sha256 and state, in the canonical order.
 */
static void
annotation_entries(const struct agent *a, struct pd_annotation *out)
{
	for (size_t i = 0; i < a->owned.state.n; i++) {
		const struct pd_state_entry *e = &a->owned.state.v[i];
		struct pd_annotation_entry *x;
		const struct pd_aa_gap *g;

		if (e->kind == PD_KIND_SECCOMP) {
			_cleanup_free_ char *name = seccomp_profile_name(e->name);

			pd_annotation_add(out, e->kind, name, e->name, e->sha256, PD_ANN_PUBLISHED);
			continue;
		}
		x = pd_annotation_add(out, e->kind, e->name, e->source, e->sha256,
				      e->source == NULL ? PD_ANN_RETIRED
				      : pd_strv_contains(&a->apparmor.labeled, e->name)
					      ? PD_ANN_LOADED
					      : PD_ANN_UNCONFIRMED);
		g = e->source != NULL ? pd_aa_gaps_find(&a->apparmor.gaps, e->name) : NULL;
		if (g != NULL) {
			x->unenforced = g->not_enforced;
			x->downgraded = g->downgraded;
		}
	}
	pd_annotation_sort(out);
}

/*
 * The label domains other than the current one that the agent's local
 * state says it used: keys under them that the owned-labels annotation
 * lists are removed (a changed --label-domain).  Nothing else the
 * annotation names is ever removed.
 */
static void
past_domains(const struct agent *a, struct pd_strv *out)
{
	for (size_t i = 0; i < a->owned.state.domains.n; i++)
		if (strcmp(a->owned.state.domains.v[i], a->opt->label_domain) != 0)
			pd_strv_push(out, pd_xstrdup(a->owned.state.domains.v[i]));
}

void
agent_view_fill(const struct agent *a, enum view_labels labels, struct node_view *out)
{
	*out = (struct node_view){ 0 };
	if (labels == VIEW_PRESENT)
		present_labels(a, &out->labels);
	else
		agent_desired_labels(a, &out->labels);
	annotation_entries(a, &out->profiles);
	past_domains(a, &out->past_domains);
	out->ready = a->ready.ready;
	out->reason = a->ready.reason;
	out->message = a->ready.message;
}

long long
agent_node_sync(struct agent *a, bool force_get)
{
	struct node_view v;
	long long retry;

	if (a->node == NULL)
		return 0;
	agent_view_fill(a, VIEW_DESIRED, &v);
	retry = node_sync_run(a->node, &v, force_get);
	node_view_clear(&v);
	return retry;
}

void
agent_node_prune(struct agent *a)
{
	struct node_view v;

	if (a->node == NULL)
		return;
	agent_view_fill(a, VIEW_PRESENT, &v);
	node_sync_prune(a->node, &v);
	node_view_clear(&v);
}
