/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watching the profiles folders with libinotifytools.
 *
 * Each folder is watched itself, not recursively: the kubelet's update is a
 * rename of `..data` in the folder, and plain files written in place change
 * entries of the folder.  Its parent is watched for the folder's own name.  The caller puts
 * pd_watch_fd() in its own poll set and calls pd_watch_drain() when it is readable; nothing here
 * blocks.
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
	bool lost;	    /* a folder went away or its name changed hands: pd_watch_refresh() */
	struct pd_strv log; /* "DIR: EVENTS NAME" per event, for debug logs */
};

int pd_watch_new(struct pd_watch **out, pd_error_t *err);

/* Starts watching dir, and its parent for dir's name.  Adding a folder
 * already watched is a no-op.  A folder that cannot be watched yet (missing,
 * or an inotify limit: -ENOSPC) stays registered: pd_watch_refresh() tries
 * again. */
int pd_watch_add(struct pd_watch *w, const char *dir, pd_error_t *err);

/* Watches dir only for being removed, moved or replaced (the folder the
 * caller writes to): such an event is relevant and sets lost.  A missing
 * dir is not an error: its parent's event tells when it is made again. */
int pd_watch_add_self(struct pd_watch *w, const char *dir, pd_error_t *err);

/* Makes every registered folder watched on what its path names now: a
 * folder removed and made again, a symlink retargeted or a mount over the
 * folder gets a new watch.  Returns 0, or the error of the first folder
 * that cannot be watched (the others are still tried). */
int pd_watch_refresh(struct pd_watch *w, pd_error_t *err);

int pd_watch_fd(const struct pd_watch *w);

/* Reads every pending event.  With want_log, fills res->log. */
int pd_watch_drain(struct pd_watch *w, bool want_log, struct pd_watch_result *res, pd_error_t *err);

void pd_watch_result_clear(struct pd_watch_result *res);
void pd_watch_free(struct pd_watch *w);

#endif
