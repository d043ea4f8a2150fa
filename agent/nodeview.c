/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's side of node sync: fills the read-only view (labels, the
 * profiles annotation's entries, readiness) from struct agent and calls
 * node.c, which never sees the daemon's state.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "node.h"

/*
 * The profiles annotation's entries for the state (the format: lib/annotation.h,
 * docs/api.md, "Labels and the annotation"): each managed profile, its
 * kind, source file, sha256 and state, in the canonical order.
 */
static void
annotation_entries(const struct agent *a, struct pd_annotation *out)
{
	for (size_t i = 0; i < a->state.n; i++) {
		const struct pd_state_entry *e = &a->state.v[i];
		struct pd_annotation_entry *x;
		const struct pd_aa_gap *g;

		if (e->kind == PD_KIND_SECCOMP) {
			_cleanup_free_ char *name = pd_xstrndup(e->name, pd_json_stem_len(e->name));

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
	for (size_t i = 0; i < a->state.domains.n; i++)
		if (strcmp(a->state.domains.v[i], a->opt->label_domain) != 0)
			pd_strv_push(out, pd_xstrdup(a->state.domains.v[i]));
}

static void
fill_view(const struct agent *a, struct node_view *v)
{
	agent_desired_labels(a, &v->labels);
	annotation_entries(a, &v->profiles);
	past_domains(a, &v->past_domains);
	v->ready = a->ready.ready;
	v->reason = a->ready.reason;
	v->message = a->ready.message;
}

int
node_open(struct agent *a)
{
	const struct node_options o = {
		.kubeconfig = a->opt->kubeconfig,
		.node_name = a->opt->node_name,
		.label_domain = a->opt->label_domain,
		.taint_key = a->opt->remove_taint_key,
		.taint_effect = a->opt->remove_taint_effect,
	};

	return node_sync_open(&o, &a->node);
}

void
node_close(struct agent *a)
{
	node_sync_close(a->node);
	a->node = NULL;
}

void
node_event(struct agent *a, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	node_sync_eventv(a->node, type, reason, fmt, ap);
	va_end(ap);
}

void
node_prune_before_start(struct agent *a)
{
	struct node_view v = { 0 };

	if (a->node == NULL)
		return;
	agent_present_labels(a, &v.labels);
	past_domains(a, &v.past_domains);
	node_sync_prune(a->node, &v);
	node_view_clear(&v);
}

long long
node_sync(struct agent *a, bool force_get)
{
	struct node_view v = { 0 };
	long long retry;

	if (a->node == NULL)
		return 0;
	fill_view(a, &v);
	retry = node_sync_run(a->node, &v, force_get);
	node_view_clear(&v);
	return retry;
}
