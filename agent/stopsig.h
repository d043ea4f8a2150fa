/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stop signals of the short-lived commands (check, advise, run --once).
 * main() blocks SIGTERM, SIGINT and SIGHUP before anything else, for every
 * command, so a signal in the first milliseconds cannot kill the process
 * with its default action; each command then reads them from a signalfd.
 */
#ifndef PROFILED_STOPSIG_H
#define PROFILED_STOPSIG_H

#include <stdbool.h>

#include "../lib/spawn.h"

/* Blocks SIGTERM, SIGINT and SIGHUP and ignores SIGPIPE (EPIPE is handled
 * where it happens).  The first call in main().  Returns 0 or -errno. */
int stopsig_block(void);

/* SIGTERM and SIGINT, read from a non-blocking signalfd (SIGHUP stays
 * blocked: it means "resync" to the daemon, and nothing to the others). */
struct stopsig {
	int fd;	   /* -1: none */
	bool stop; /* SIGTERM or SIGINT came; stays true */
};

/* Returns 0 or -errno (then s->fd is -1 and nothing stops early). */
int stopsig_open(struct stopsig *s);
void stopsig_close(struct stopsig *s);

/* Reads the pending signals; returns s->stop.  Also a pd_spawn_cancel
 * function: { .fd = s->fd, .fn = stopsig_pending, .arg = s }. */
bool stopsig_pending(void *s);

#endif
