/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int
make_error_v(pd_error_t *err, int errno_, bool with_strerror, const char *fmt, va_list ap)
{
	int ret = errno_ > 0 ? -errno_ : -EINVAL;
	_cleanup_free_ char *msg = NULL;
	struct pd_error_s *e;

	if (err == NULL)
		return ret;
	if (vasprintf(&msg, fmt, ap) < 0)
		pd_oom();
	if (errno_ > 0 && with_strerror) {
		char *full = NULL;

		if (asprintf(&full, "%s: %s", msg, strerror(errno_)) < 0)
			pd_oom();
		free(msg);
		msg = full;
	}
	e = pd_xmalloc(sizeof(*e));
	e->status = errno_ > 0 ? errno_ : 0;
	e->msg = steal_pointer(&msg);
	*err = e;
	return ret;
}

int
pd_make_error(pd_error_t *err, int errno_, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = make_error_v(err, errno_, true, fmt, ap);
	va_end(ap);
	return ret;
}

int
pd_make_plain_error(pd_error_t *err, int errno_, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = make_error_v(err, errno_, false, fmt, ap);
	va_end(ap);
	return ret;
}

int
pd_error_wrap(pd_error_t *err, int status, const char *fmt, ...)
{
	_cleanup_free_ char *ctx = NULL;
	char *full = NULL;
	va_list ap;
	int ret = status < 0 ? status : -EINVAL;

	if (err == NULL || *err == NULL)
		return ret;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		pd_oom();
	va_end(ap);
	if (asprintf(&full, "%s: %s", ctx, (*err)->msg) < 0)
		pd_oom();
	free((*err)->msg);
	(*err)->msg = full;
	return ret;
}

void
pd_error_release(pd_error_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

const char *
pd_error_msg(const pd_error_t err)
{
	return err != NULL && err->msg != NULL ? err->msg : "unknown error";
}
