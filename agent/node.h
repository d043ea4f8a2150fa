/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Node through the Kubernetes API (docs/api.md): labels and
 * the profiles annotation in one merge patch, the ProfilesReady condition,
 * the start-up taint, and the backoff when the API server fails.  Events
 * wait in the queue of events.h.  In local mode (no kubeconfig, not in a
 * cluster) none of this exists and the label changes are logged.
 *
 * Node sync sees only a read-only view of what the Node should show
 * (struct node_view), filled by its caller (view.h): never the daemon's
 * state.
 */
#ifndef PROFILED_NODE_H
#define PROFILED_NODE_H

#include <stdarg.h>
#include <stdbool.h>

#include "../lib/annotation.h"
#include "../lib/kube.h"
#include "../lib/labels.h"
#include "../lib/nodepatch.h"
#include "events.h"

#define NODE_ANNOTATION_PROFILES PD_ANNOTATION_PROFILES
#define NODE_ANNOTATION_OWNED	 "profiled.io/owned-labels"

/* The settings node sync uses (pointers into the options, which outlive it). */
struct node_options {
	const char *kubeconfig;	  /* --kubeconfig, or NULL */
	const char *node_name;	  /* --node-name / $NODE_NAME */
	const char *label_domain; /* --label-domain */
	const char *taint_key;	  /* --remove-taint, or NULL */
	const char *taint_effect; /* its effect, or NULL for any */
};

/* What the Node should show, as the caller sees it now. */
struct node_view {
	struct pd_labels labels;       /* the agent's labels: desired (sync), present (prune) */
	struct pd_annotation profiles; /* the profiles annotation's entries */
	struct pd_strv past_domains;   /* label domains used before, not --label-domain */
	bool ready;		       /* the ProfilesReady condition */
	const char *reason;	       /* its reason (CamelCase) */
	const char *message;	       /* its message, or NULL */
};

void node_view_clear(struct node_view *v);

struct node_sync; /* opaque: node_private.h */

/* Sets up the API connection (docs/api.md, "Connecting") when one is
 * configured.  Returns 0 (*out is NULL in local mode), or a negative errno
 * after logging why (a configured connection that cannot be used is a
 * configuration error). */
int node_sync_open(const struct node_options *o, struct node_sync **out);
void node_sync_close(struct node_sync *n); /* accepts NULL */

/* Queues an event about this node (nothing when n is NULL). */
void node_sync_event(struct node_sync *n, const char *type, const char *reason, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));
void node_sync_eventv(struct node_sync *n, const char *type, const char *reason, const char *fmt,
		      va_list ap) __attribute__((format(printf, 4, 0)));

/* The reboot order (docs/api.md, "After a reboot"): before anything is
 * loaded, drop the agent's labels for what is not actually in place
 * (present->labels).  Best effort: the API may be down. */
void node_sync_prune(struct node_sync *n, const struct node_view *present);

/*
 * Makes the Node show the view and posts queued events.  force_get: read
 * the Node even when nothing seems to have changed (the resync).  Returns
 * 0, or the milliseconds after which to try again.
 */
long long node_sync_run(struct node_sync *n, const struct node_view *v, bool force_get);

/* The decisions of node_sync_run, apart for tests.  The view as text: */
struct node_wanted {
	char *profiles; /* the profiles annotation, uncut */
	char *owned;	/* the owned-labels annotation */
	char *ready;	/* the condition, as a key */
};
void node_wanted_of(const struct node_view *v, struct node_wanted *w);
void node_wanted_clear(struct node_wanted *w);
/* True when the Node was last made to show this view: no request. */
bool node_sync_unchanged(const struct node_sync *n, const struct node_view *v,
			 const struct node_wanted *w);
/* The merge patch of labels and annotations for the Node m, or NULL when
 * it shows them already; the annotations sized to the API's limit. */
char *node_sync_patch(struct node_sync *n, const struct node_view *v, const struct node_wanted *w,
		      const struct pd_node_meta *m);

/* Read by the loop and the gauges. */
struct pd_kube *node_sync_kube(const struct node_sync *n);  /* the connection */
bool node_sync_settled(const struct node_sync *n);	    /* the Node shows the last view */
unsigned long node_sync_dropped(const struct node_sync *n); /* events dropped */

#endif
