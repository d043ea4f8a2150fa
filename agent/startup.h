/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PROFILED_STARTUP_H
#define PROFILED_STARTUP_H

#include "agent.h"

/* Opens the state folder (waiting for another agent's lock) and the
 * seccomp store.  Returns 0 or a negative errno after logging why: -EINTR
 * when SIGTERM/SIGINT came while it waited for the lock; on failure
 * nothing is left to close. */
int agent_open(struct agent *a, const struct options *opt);
void agent_close(struct agent *a);

#endif
