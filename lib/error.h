/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error contract of lib/ (see docs/errors.md).
 *
 * A function that can fail returns a negative errno value and, when its
 * caller passed a non-NULL `pd_error_t *err`, fills *err with a message that
 * names what failed, quoting user-controlled names.  *err is set only on
 * failure; the caller owns it and releases it with pd_error_release().
 * Nothing in lib/ prints an error: only agent/ decides what to log.
 */
#ifndef PROFILED_ERROR_H
#define PROFILED_ERROR_H

#include <stdarg.h>

struct pd_error_s {
	int status; /* positive errno value, 0 if none applies */
	char *msg;
};
typedef struct pd_error_s *pd_error_t;

/* Fills *err (if err != NULL) with the formatted message, appending
 * strerror(errno_) when errno_ != 0.  Returns -errno_, or -EINVAL when
 * errno_ is 0, so that `return pd_make_error(...)` reads naturally. */
int pd_make_error(pd_error_t *err, int errno_, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same without the strerror() suffix: for invalid input, where the
 * message says all and "Invalid argument" would only add noise. */
int pd_make_plain_error(pd_error_t *err, int errno_, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends context to an existing error: "CONTEXT: old message". */
int pd_error_wrap(pd_error_t *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Frees *err and sets it to NULL.  Accepts NULL and *err == NULL. */
void pd_error_release(pd_error_t *err);

/* The message of err, or "unknown error" when err is NULL. */
const char *pd_error_msg(const pd_error_t err);

#endif
