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

struct pd_node_meta {
	struct pd_labels labels;
	struct pd_labels annotations;
	char *uid;
	char *resource_version;
};

/* Parses a Node object (the body of GET /api/v1/nodes/NAME). */
int pd_node_meta_parse(const char *json, struct pd_node_meta *out, pd_error_t *err);
void pd_node_meta_clear(struct pd_node_meta *m);

/*
 * The merge patch from cur to the agent's wants, as JSON text, or NULL when
 * nothing is to change:
 *  - labels: each wanted label whose value differs is set (unless
 *    only_remove); each label the agent owns — under domain
 *    (pd_label_key_owned), or listed in cur's annotation owned_key (a
 *    comma-separated list, kept from an earlier --label-domain) — that is
 *    not wanted is removed (null).  Other labels are never named.
 *  - annotations: each wanted annotation whose value differs is set.
 */
char *pd_node_patch(const char *domain, const struct pd_node_meta *cur,
		    const struct pd_labels *want_labels, const struct pd_labels *want_annotations,
		    const char *owned_key, bool only_remove);

#endif
