/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by lib/ and agent/: cleanup attributes, ownership
 * hand-over, allocation that aborts on exhaustion, a growable string vector,
 * bounded file reads, atomic publishing and SHA-256.
 */
#ifndef PROFILED_UTIL_H
#define PROFILED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not an error we can recover from meaningfully: abort,
 * like crun's OOM(), rather than threading ENOMEM through every caller. */
_Noreturn void pd_oom(void);
void *pd_xmalloc(size_t size);
void *pd_xcalloc(size_t n, size_t size);
void *pd_xrealloc(void *p, size_t n, size_t size);
char *pd_xstrdup(const char *s);
char *pd_xstrndup(const char *s, size_t n);
char *pd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pd_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Makes the array *pv (of elements of `size` bytes, capacity *cap) hold at
 * least `need` elements: the capacity doubles (from 8), so n appends cost
 * O(n).  Called as pd_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v)).
 * Aborts like pd_xrealloc() on overflow or out of memory. */
void pd_grow(void *pv, size_t *cap, size_t need, size_t size);

/* The n strings of v with sep between them, in a new string (caller frees);
 * "" when n is 0. */
char *pd_join(const char *const *v, size_t n, const char *sep);

/* A seccomp profile's file name ends in this (its profile name is the file
 * name without it, e.g. "audit.json" -> "audit"). */
#define PD_JSON_SUFFIX ".json"

/* The length of name without PD_JSON_SUFFIX: strlen(name) when name does
 * not end in it or is nothing else. */
size_t pd_json_stem_len(const char *name);

static inline void
cleanup_freep(void *p)
{
	free(*(void **)p);
}

void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);

#define _cleanup_free_	 __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_	 __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))

/* Takes the pointer out of *pp, leaving NULL behind: the explicit hand-over
 * of ownership out of a variable that has a cleanup attribute. */
static inline void *
pd_steal(void *pp)
{
	void **p = pp;
	void *ret = *p;

	*p = NULL;
	return ret;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))pd_steal(pp))

static inline int
steal_fd(int *fd)
{
	int ret = *fd;

	*fd = -1;
	return ret;
}

/* A NULL-terminated, growable vector of owned strings. */
struct pd_strv {
	char **v;
	size_t n;
	size_t cap;
};

void pd_strv_push(struct pd_strv *sv, char *owned);
void pd_strv_pushf(struct pd_strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool pd_strv_contains(const struct pd_strv *sv, const char *s);
void pd_strv_clear(struct pd_strv *sv);

/* pd_join() of the strings of sv: a new string, "" when sv is empty. */
char *pd_strv_join(const struct pd_strv *sv, const char *sep);

#define PD_SHA256_HEX_LEN 64

/* Lower-case hex SHA-256 of data into out[65]. */
void pd_sha256_hex(const void *data, size_t len, char out[PD_SHA256_HEX_LEN + 1]);

/* Monotonic clock in milliseconds. */
long long pd_now_ms(void);

#endif
