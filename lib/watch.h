/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watching the profiles folders with libinotifytools.
 *
 * Each folder is watched itself, not recursively: the kubelet's update is a
 * rename of `..data` in the folder, and plain files written in place change
 * entries of the folder.  The caller puts pd_watch_fd() in its own poll set
 * and calls pd_watch_drain() when it is readable; nothing here blocks.
 *
 * libinotifytools keeps its state in process globals: one pd_watch per
 * process.
 */
#ifndef PROFILED_WATCH_H
#define PROFILED_WATCH_H

#include <stdbool.h>

#include "error.h"
#include "util.h"

struct pd_watch; /* opaque */

struct pd_watch_result {
	unsigned relevant;  /* events that can change what the folders hold */
	bool committed;	    /* a kubelet `..data` swap: a whole new payload is in place */
	bool overflow;	    /* the kernel dropped events: rescan everything */
	bool lost;	    /* a folder's watch went away (folder removed or moved) */
	struct pd_strv log; /* "DIR: EVENTS NAME" per event, for debug logs */
};

int pd_watch_new(struct pd_watch **out, pd_error_t *err);

/* Starts watching dir.  Adding a folder already watched is a no-op. */
int pd_watch_add(struct pd_watch *w, const char *dir, pd_error_t *err);

/* Re-adds watches that were lost (a folder removed and made again).
 * Returns the number of folders still not watchable. */
int pd_watch_refresh(struct pd_watch *w);

int pd_watch_fd(const struct pd_watch *w);

/* Reads every pending event.  With want_log, fills res->log. */
int pd_watch_drain(struct pd_watch *w, bool want_log, struct pd_watch_result *res, pd_error_t *err);

void pd_watch_result_clear(struct pd_watch_result *res);
void pd_watch_free(struct pd_watch *w);

#endif
