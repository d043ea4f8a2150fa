/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct node_sync's fields: for node.c and its unit test only; everyone
 * else holds the opaque handle of node.h.
 */
#ifndef PROFILED_NODE_PRIVATE_H
#define PROFILED_NODE_PRIVATE_H

#include "node.h"

/* The failure backoff (lib/backoff.c): reset by a sync that went through. */
struct node_retry {
	long long ms; /* current backoff, 0 when none */
};

struct node_sync {
	struct pd_kube *kube;
	const char *node;
	struct node_options opt;
	char *ns;		  /* events' namespace */
	char *node_uid;		  /* from the last GET */
	struct pd_labels applied; /* labels the node was last seen or made to carry */
	char *applied_profiles;	  /* the annotation, likewise */
	char *applied_ready;	  /* the ProfilesReady condition, likewise */
	bool taint_done;	  /* --remove-taint: removed, or found absent */
	bool in_sync;		  /* applied == desired, as far as we know */
	struct node_retry retry;
	struct event_queue events;
	unsigned long dropped; /* events.dropped, for the gauges */
	char *refused_owned;   /* owned-labels keys last warned about as not the agent's */
};

#endif
