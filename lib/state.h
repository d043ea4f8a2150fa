/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the agent has put on the node, kept in --state-dir so that a restart
 * knows what it owns: only files recorded here are ever deleted.
 *
 * The folder is guarded by an exclusive flock(2) on `lock`, held for the
 * life of the handle, so that two agents on one node (a rolling update with
 * surge) never interleave.
 */
#ifndef PROFILED_STATE_H
#define PROFILED_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "scan.h"
#include "util.h"

#define PD_STATE_MAX_BYTES (8 * 1024 * 1024)

struct pd_state_entry {
	enum pd_kind kind;
	char *name; /* seccomp: the published file name, e.g. "audit.json" */
	char sha256[PD_SHA256_HEX_LEN + 1]; /* of the source file */
	char *source; /* AppArmor: the profiles-folder entry that declares it */
	/* AppArmor: the compile context (parser, features, includes: aacache.h)
	 * of the policy loaded; "" when unknown.  Another context means the
	 * kernel holds a binary another parser or other abstractions made. */
	char policy[PD_SHA256_HEX_LEN + 1];
};

struct pd_state {
	struct pd_state_entry *v;
	size_t n, cap;
	/* The label domains the agent has set labels under on this node, the
	 * record that lets it clean up the keys of an earlier --label-domain
	 * (at most PD_STATE_MAX_DOMAINS, valid DNS subdomains). */
	struct pd_strv domains;
};

#define PD_STATE_MAX_DOMAINS 8

struct pd_state_dir; /* opaque: the locked folder */

/* Creates dir (0700) if needed and takes its lock.  With wait == false a
 * lock held by another process fails with -EWOULDBLOCK, and *holder (if not
 * NULL) is the pid recorded by the holder, or 0. */
int pd_state_dir_open(const char *dir, bool wait, struct pd_state_dir **out, int *holder,
		      pd_error_t *err);
void pd_state_dir_free(struct pd_state_dir *sd);

/*
 * Checks that the held folder is still the one at its path.  Returns 0
 * when it is; 1 when it was removed, moved or replaced and has been opened
 * again by path (made if missing) with its lock taken (the state must then
 * be saved again); -EWOULDBLOCK when another process holds the new
 * folder's lock (*holder as for pd_state_dir_open): the caller no longer
 * owns the state and must stop.  The locks of earlier folders stay held.
 */
int pd_state_dir_refresh(struct pd_state_dir *sd, int *holder, pd_error_t *err);

/* Loads the recorded state.  A missing file is an empty state.  A corrupt
 * one is an empty state too, with a warning: the agent then rebuilds it
 * from what it finds in place (it never deletes what it cannot prove it
 * owns). */
int pd_state_load(struct pd_state_dir *sd, struct pd_state *out, struct pd_strv *warnings,
		  pd_error_t *err);

/* Saves atomically (same publish path as the profiles). */
int pd_state_save(struct pd_state_dir *sd, const struct pd_state *st, pd_error_t *err);

struct pd_state_entry *pd_state_find(struct pd_state *st, enum pd_kind kind, const char *name);
/* Adds or updates an entry. */
struct pd_state_entry *pd_state_put(struct pd_state *st, enum pd_kind kind, const char *name,
				    const char *sha256);
void pd_state_set_source(struct pd_state_entry *e, const char *source);
/* Sets e->policy; NULL or a value that is not a sha256 in hex clears it. */
void pd_state_set_policy(struct pd_state_entry *e, const char *context);
void pd_state_remove(struct pd_state *st, enum pd_kind kind, const char *name);
/* Records domain as one the agent sets labels under; true when it was not
 * recorded yet.  The oldest is forgotten past PD_STATE_MAX_DOMAINS. */
bool pd_state_add_domain(struct pd_state *st, const char *domain);
bool pd_state_equal(const struct pd_state *a, const struct pd_state *b);
void pd_state_copy(struct pd_state *dst, const struct pd_state *src);
void pd_state_clear(struct pd_state *st);

#endif
