/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retry delays, one rule for every retry of the agent: the first failure
 * waits min_ms, each further one twice as long, never more than max_ms.
 * The caller keeps the current delay (0: none is due) and resets it to 0
 * after a success.  Only real failures grow it: an attempt the caller
 * aborted itself (a change pending, SIGTERM) says nothing of what it
 * waited for, so the caller does not call pd_backoff_next for it (see
 * docs/api.md, "When the API server fails").
 * Pure functions: no state, no allocation, no error.
 */
#ifndef PROFILED_BACKOFF_H
#define PROFILED_BACKOFF_H

/* The delay after one more failure: min_ms after none (cur_ms 0), else
 * cur_ms doubled; at most max_ms (max_ms wins over min_ms). */
long long pd_backoff_next(long long cur_ms, long long min_ms, long long max_ms);

/* Anywhere in [ms/2, ms], from the kernel's random bytes (getrandom), so
 * that agents started together do not come back together (random() is
 * never seeded: every node would draw the same). */
long long pd_backoff_jittered(long long ms);

#endif
