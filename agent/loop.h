/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_LOOP_H
#define PROFILED_LOOP_H

#include "agent.h"
#include "debounce.h"

/* Runs the daemon until SIGTERM or SIGINT: folder events (debounced),
 * the periodic resync and SIGHUP each lead to a reconcile.  The signals
 * must already be blocked (they are read from a signalfd).  Returns 0 on a
 * clean stop, negative errno after logging a fatal error. */
int loop_run(struct agent *a);

#endif
