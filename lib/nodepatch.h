/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Node's metadata as the agent sees it, and the one JSON merge patch
 * (RFC 7386, `application/merge-patch+json`) that makes it carry what the
 * agent wants: pure functions, no I/O.
 */
#ifndef PROFILED_NODEPATCH_H
#define PROFILED_NODEPATCH_H

#include <stdbool.h>

#include "error.h"
#include "labels.h"
#include "util.h"

/* The Node condition the agent owns (status.conditions, merge key `type`). */
#define PD_CONDITION_PROFILES_READY "ProfilesReady"
/* The most a condition message carries, in bytes (cut on a UTF-8 boundary). */
#define PD_CONDITION_MESSAGE_MAX 1024

struct pd_node_condition {
	bool present; /* the Node lists a condition of this type */
	char *status; /* True, False, Unknown */
	char *reason;
	char *message;
	char *last_transition; /* as the server wrote it (RFC 3339) */
};

struct pd_taint {
	char *key;
	char *value; /* may be NULL */
	char *effect;
};

struct pd_node_meta {
	struct pd_labels labels;
	struct pd_labels annotations;
	char *uid;
	char *resource_version;
	struct pd_node_condition ready; /* status.conditions[type=ProfilesReady] */
	struct pd_taint *taints;	/* spec.taints, in the Node's order */
	size_t ntaints;
};

/* Parses a Node object (the body of GET /api/v1/nodes/NAME). */
int pd_node_meta_parse(const char *json, struct pd_node_meta *out, pd_error_t *err);
void pd_node_meta_clear(struct pd_node_meta *m);

/*
 * The merge patch from cur to the agent's wants, as JSON text, or NULL when
 * nothing is to change:
 *  - labels: each wanted label whose value differs is set (unless
 *    only_remove); each label the agent owns that is not wanted is removed
 *    (null).  A label is the agent's when it is under domain
 *    (pd_label_key_owned), or when it is listed in cur's annotation
 *    owned_key (a comma-separated list, kept from an earlier
 *    --label-domain) AND is under one of past_domains (may be NULL), the
 *    domains the agent's own local record says it used.  The annotation is
 *    writable by whoever can patch the Node, so it never makes a foreign
 *    key the agent's: a listed key that is not is appended to refused
 *    (when not NULL) and left alone.  Other labels are never named.
 *  - annotations: each wanted annotation whose value differs is set.
 */
char *pd_node_patch(const char *domain, const struct pd_strv *past_domains,
		    const struct pd_node_meta *cur, const struct pd_labels *want_labels,
		    const struct pd_labels *want_annotations, const char *owned_key,
		    bool only_remove, struct pd_strv *refused);

/*
 * The strategic merge patch (`application/strategic-merge-patch+json`, on
 * nodes/NAME/status) that sets the ProfilesReady condition, or NULL when cur
 * already says status, reason and message (nothing to send).  Only that one
 * condition is named: the list merges by `type`, so the kubelet's own
 * conditions are left as they are.  lastHeartbeatTime is now;
 * lastTransitionTime is now when the status changes, else cur's (the
 * kubelet's rule).  message is cut to PD_CONDITION_MESSAGE_MAX bytes.
 */
char *pd_condition_patch(const struct pd_node_condition *cur, const char *status,
			 const char *reason, const char *message, const char *now);

/*
 * --remove-taint KEY or KEY:EFFECT: KEY is a qualified name as apimachinery
 * checks taint keys (optional DNS subdomain prefix ≤ 253 and '/', then a
 * name ≤ 63), EFFECT one of NoSchedule, PreferNoSchedule, NoExecute.
 * *effect is NULL when none is given (any effect matches).
 */
int pd_taint_spec_parse(const char *spec, char **key, char **effect, pd_error_t *err);

/*
 * The JSON patch (RFC 6902, `application/json-patch+json`) that removes the
 * taints of cur matching key (and effect, when not NULL), or NULL when
 * there is none.  It first tests metadata.resourceVersion and each taint's
 * key and effect at its index, so that a Node changed since cur was read is
 * refused (422) and nothing else is ever removed; the removes go from the
 * highest index down.
 */
char *pd_taint_remove_patch(const struct pd_node_meta *cur, const char *key, const char *effect);

#endif
