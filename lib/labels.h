/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node label names and the set of labels a node should carry (docs/operations.md,
 * "Labels").
 */
#ifndef PROFILED_LABELS_H
#define PROFILED_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PD_LABEL_NAME_MAX   63
#define PD_LABEL_PREFIX_MAX 253

/* True when s is a valid label name: at most 63 characters of
 * [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?. */
bool pd_label_name_valid(const char *s);

/* True when s is a valid DNS subdomain (RFC 1123), as label prefixes must be. */
bool pd_dns_subdomain_valid(const char *s);

/* label-name(x) of docs/operations.md ("Labels"), into out[64]. */
void pd_label_name(const char *x, char out[PD_LABEL_NAME_MAX + 1]);

/* A set of labels, kept sorted by key. */
struct pd_label {
	char *key;
	char *value;
};
struct pd_labels {
	struct pd_label *v;
	size_t n, cap;
};

/* Adds or replaces key.  Copies both strings. */
void pd_labels_set(struct pd_labels *l, const char *key, const char *value);
const char *pd_labels_get(const struct pd_labels *l, const char *key);
bool pd_labels_equal(const struct pd_labels *a, const struct pd_labels *b);
void pd_labels_clear(struct pd_labels *l);

/* The label keys the agent owns under `domain`. */
enum pd_label_kind { PD_LABEL_APPARMOR, PD_LABEL_SECCOMP };

/* Checks that `domain` can prefix every key the agent writes. */
int pd_label_domain_check(const char *domain, pd_error_t *err);

/* "<kind>.<domain>/<label-name(profile)>", newly allocated. */
char *pd_label_profile_key(const char *domain, enum pd_label_kind kind, const char *profile);

/* "<domain>/apparmor" or "<domain>/seccomp", newly allocated. */
char *pd_label_support_key(const char *domain, enum pd_label_kind kind);

/* True when key is one the agent owns under domain (any of the forms above). */
bool pd_label_key_owned(const char *domain, const char *key);

#endif
