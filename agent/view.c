/* SPDX-License-Identifier: Apache-2.0 */
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
	for (size_t i = 0; i < a->state.n; i++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *key = NULL;

		if (a->state.v[i].kind != PD_KIND_SECCOMP ||
		    pd_strv_contains(&a->seccomp.missing, a->state.v[i].name))
			continue;
		name = seccomp_profile_name(a->state.v[i].name);
		key = pd_label_profile_key(dom, PD_LABEL_SECCOMP, name);
		pd_labels_set(out, key, "true");
	}
	for (size_t i = 0; i < a->apparmor.labeled.n; i++) {
		_cleanup_free_ char *key =
			pd_label_profile_key(dom, PD_LABEL_APPARMOR, a->apparmor.labeled.v[i]);

		pd_labels_set(out, key, "true");
	}
}

void
agent_present_labels(const struct agent *a, struct pd_labels *out)
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
	for (size_t i = 0; i < a->state.n; i++) {
		const struct pd_state_entry *e = &a->state.v[i];
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
	if (a->state_unknown) {
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

static void
fill_profile(const struct agent *a, const struct pd_state_entry *e, struct view_profile *p)
{
	p->kind = e->kind;
	snprintf(p->sha256, sizeof(p->sha256), "%s", e->sha256);
	if (e->kind == PD_KIND_SECCOMP) {
		p->name = seccomp_profile_name(e->name);
		p->file = pd_xstrdup(e->name);
		p->state = "published";
		return;
	}
	p->name = pd_xstrdup(e->name);
	p->file = e->source != NULL ? pd_xstrdup(e->source) : NULL;
	p->state = e->source == NULL				     ? "retired"
		   : pd_strv_contains(&a->apparmor.labeled, e->name) ? "loaded"
								     : "unconfirmed";
	if (e->source != NULL) {
		const struct pd_aa_gap *g = pd_aa_gaps_find(&a->apparmor.gaps, e->name);

		if (g != NULL) {
			p->gaps.not_enforced = g->not_enforced;
			p->gaps.downgraded = g->downgraded;
		}
	}
}

void
agent_view_fill(const struct agent *a, unsigned what, struct agent_view *out)
{
	*out = (struct agent_view){ 0 };
	agent_desired_labels(a, &out->desired);
	if (what & VIEW_PRESENT)
		agent_present_labels(a, &out->present);
	out->profiles = pd_xcalloc(a->state.n + 1, sizeof(*out->profiles));
	for (size_t i = 0; i < a->state.n; i++)
		fill_profile(a, &a->state.v[i], &out->profiles[i]);
	out->nprofiles = a->state.n;
	out->ready = a->ready;
	out->ready.message = a->ready.message != NULL ? pd_xstrdup(a->ready.message) : NULL;
}

void
agent_view_clear(struct agent_view *v)
{
	pd_labels_clear(&v->desired);
	pd_labels_clear(&v->present);
	for (size_t i = 0; i < v->nprofiles; i++) {
		free(v->profiles[i].name);
		free(v->profiles[i].file);
	}
	free(v->profiles);
	free(v->ready.message);
	*v = (struct agent_view){ 0 };
}
