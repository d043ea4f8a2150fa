/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a helper program (the AppArmor parser) and collecting what it says.
 *
 * The child gets stdin from a buffer (or /dev/null), its stdout and stderr are
 * collected up to a limit each, and it is killed when it outlives the
 * timeout.  No shell is involved; the environment is the caller's.
 */
#ifndef PROFILED_SPAWN_H
#define PROFILED_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PD_SPAWN_MAX_OUTPUT (4 * 1024 * 1024)

struct pd_spawn_result {
	int status;   /* exit code, or 128 + signal when killed by one */
	int timedout; /* killed because it outlived the timeout */
	char *out;    /* NUL-terminated, never NULL after success */
	size_t out_len;
	char *err;
	size_t err_len;
};

/* Lets the caller stop a long run: when fd is readable, fn(arg) is called;
 * if it returns true the child is killed and pd_spawn fails with
 * ECANCELED. */
struct pd_spawn_cancel {
	int fd;
	bool (*fn)(void *arg);
	void *arg;
};

/* True when cancel is not NULL, its fd is readable and its fn says stop.
 * Cheap (one poll with no wait): for loops that check between steps. */
bool pd_cancel_requested(const struct pd_spawn_cancel *cancel);

/* Runs argv[0] (looked up on PATH when it has no '/') with argv.  Returns 0
 * when the program ran (whatever its exit status), negative errno when it
 * could not be started or waited for. */
int pd_spawn(char *const argv[], const char *in, size_t in_len, int timeout_ms,
	     const struct pd_spawn_cancel *cancel, struct pd_spawn_result *res, pd_error_t *err);

void pd_spawn_result_clear(struct pd_spawn_result *res);

/*
 * A program started in the background, for an event loop: stdin is
 * /dev/null, stdout and stderr go to memory files (read up to
 * PD_SPAWN_MAX_OUTPUT each).  The program runs in its own process group;
 * killing it kills the group, so the workers it forked die with it.
 *
 * pd_child_fd() (a pidfd) is readable once the program exited; then
 * pd_child_wait() reaps it without blocking and fills res (timedout is
 * left to the caller).  pd_child_kill() kills the group; pd_child_free()
 * does so too when the program was not reaped, then reaps it.
 */
struct pd_child; /* opaque */

int pd_child_start(char *const argv[], struct pd_child **out, pd_error_t *err);
int pd_child_fd(const struct pd_child *c);
void pd_child_kill(struct pd_child *c);
int pd_child_wait(struct pd_child *c, struct pd_spawn_result *res, pd_error_t *err);
void pd_child_free(struct pd_child *c);

#endif
