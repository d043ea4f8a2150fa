/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp part of the daemon state and the seccomp pass of a reconcile
 * (seccomp_pass.c).
 */
#ifndef PROFILED_SECCOMP_PASS_H
#define PROFILED_SECCOMP_PASS_H

#include <stdbool.h>

#include "../lib/scan.h"
#include "../lib/seccomp.h"
#include "../lib/state.h"
#include "../lib/store.h"
#include "problems.h"

struct reconcile_result;

struct seccomp_part {
	bool enabled;		   /* the kernel filters system calls */
	struct pd_store *store;	   /* the kubelet's seccomp folder */
	struct pd_seccomp_env env; /* what a profile is validated against */
	struct pd_strv missing;	   /* files the state names that are not in place */
};

/* What the seccomp pass may touch. */
struct seccomp_pass {
	struct seccomp_part *sc;
	struct pd_state *state; /* owned files */
	struct pd_state_dir *state_dir;
	struct problems *problems;
	const struct event_sink *events;
};

/* Validates every seccomp source of src, claims the new names, then
 * publishes; present gets the entry names seen, placed those in place. */
void seccomp_reconcile(struct seccomp_pass *p, const struct pd_sources *src,
		       struct pd_strv *present, struct reconcile_result *res,
		       struct pd_strv *placed);

/* Removes the published files whose source is not in present. */
void seccomp_remove_gone(struct seccomp_pass *p, const struct pd_strv *present,
			 struct reconcile_result *res);

/* Which files the state names are not in place (p->sc->missing): their
 * labels go until they are. */
void seccomp_find_missing(struct seccomp_pass *p, const struct pd_strv *placed);

/* The seccomp profile name of a published file name ("x.json" -> "x"). */
char *seccomp_profile_name(const char *file);

#endif
