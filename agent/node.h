/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's Node through the Kubernetes API (docs/api.md):
 * labels and the profiles annotation in one merge patch, events, and the
 * backoff when the API server fails.  In local mode (no kubeconfig, not in
 * a cluster) none of this exists and the label changes are logged.
 */
#ifndef PROFILED_NODE_H
#define PROFILED_NODE_H

#include <stdbool.h>

#include "../lib/annotation.h"
#include "../lib/kube.h"
#include "../lib/labels.h"
#include "../lib/nodepatch.h"

#define NODE_ANNOTATION_PROFILES PD_ANNOTATION_PROFILES
#define NODE_ANNOTATION_OWNED	 "profiled.io/owned-labels"
#define EVENTS_PER_MINUTE	 30
#define EVENT_AGGREGATE_MS	 (10 * 60 * 1000)

struct agent;

struct node_event {
	char *type;   /* Normal, Warning */
	char *reason; /* ProfilePublished, ProfileRejected... */
	char *message;
};

struct event_seen {
	char *key;  /* reason \n message */
	char *name; /* the Event object's name */
	int count;
	long long last_ms;
	char *first_time;
};

struct node_sync {
	struct pd_kube *kube;
	const char *node;
	char *ns;		  /* events' namespace */
	char *node_uid;		  /* from the last GET */
	struct pd_labels applied; /* labels the node was last seen or made to carry */
	char *applied_profiles;	  /* the annotation, likewise */
	char *applied_ready;	  /* the ProfilesReady condition, likewise */
	bool taint_done;	  /* --remove-taint: removed, or found absent */
	bool in_sync;		  /* applied == desired, as far as we know */
	long long retry_ms;	  /* current backoff, 0 when none */
	struct node_event *queue;
	size_t nqueue, capqueue;
	struct event_seen *seen;
	size_t nseen, capseen;
	double tokens; /* event rate: a bucket of EVENTS_PER_MINUTE */
	long long tokens_ms;
	unsigned long dropped;
	char *refused_owned; /* owned-labels keys last warned about as not the agent's */
};

/* Sets up the API connection (docs/api.md, "Connecting") when one is configured.  Returns 0
 * (a->node is NULL in local mode), or a negative errno after logging why
 * (a configured connection that cannot be used is a configuration error). */
int node_open(struct agent *a);
void node_close(struct agent *a);

/* Queues an event about this node (API mode; nothing in local mode). */
void node_event(struct agent *a, const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The reboot order (docs/api.md, "After a reboot"): before anything is loaded, drop the agent's
 * labels for what is not actually in place.  Best effort: the API may be down. */
void node_prune_before_start(struct agent *a);

/*
 * Makes the Node carry the desired labels and annotation and posts queued
 * events.  force_get: read the Node even when nothing seems to have changed
 * (the resync).  Returns 0, or the milliseconds after which to try again.
 */
long long node_sync(struct agent *a, bool force_get);

#endif
