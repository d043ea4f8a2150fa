/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Noreturn void
pd_oom(void)
{
	static const char msg[] = "profiled: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *
pd_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		pd_oom();
	return p;
}

void *
pd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		pd_oom();
	return p;
}

void *
pd_xrealloc(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (q == NULL)
		pd_oom();
	return q;
}

void
pd_grow(void *pv, size_t *cap, size_t need, size_t size)
{
	void **v = pv;
	size_t c = *cap < 8 ? 8 : *cap;

	if (need <= *cap)
		return;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			pd_oom();
		c *= 2;
	}
	*v = pd_xrealloc(*v, c, size);
	*cap = c;
}

char *
pd_join(const char *const *v, size_t n, const char *sep)
{
	size_t len = 1, off = 0, ls = strlen(sep);
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + (i ? ls : 0);
	out = pd_xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i) {
			memcpy(out + off, sep, ls);
			off += ls;
		}
		memcpy(out + off, v[i], l);
		off += l;
	}
	out[off] = '\0';
	return out;
}

char *
pd_strv_join(const struct pd_strv *sv, const char *sep)
{
	return pd_join((const char *const *)sv->v, sv->n, sep);
}

size_t
pd_json_stem_len(const char *name)
{
	size_t n = strlen(name), k = sizeof(PD_JSON_SUFFIX) - 1;

	return n > k && strcmp(name + n - k, PD_JSON_SUFFIX) == 0 ? n - k : n;
}

char *
pd_xstrdup(const char *s)
{
	char *r = strdup(s);

	if (r == NULL)
		pd_oom();
	return r;
}

char *
pd_xstrndup(const char *s, size_t n)
{
	char *r = strndup(s, n);

	if (r == NULL)
		pd_oom();
	return r;
}

char *
pd_xvasprintf(const char *fmt, va_list ap)
{
	char *r = NULL;

	if (vasprintf(&r, fmt, ap) < 0)
		pd_oom();
	return r;
}

char *
pd_xasprintf(const char *fmt, ...)
{
	char *r;
	va_list ap;

	va_start(ap, fmt);
	r = pd_xvasprintf(fmt, ap);
	va_end(ap);
	return r;
}

void
cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

void
cleanup_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

void
pd_strv_push(struct pd_strv *sv, char *owned)
{
	pd_grow(&sv->v, &sv->cap, sv->n + 2, sizeof(char *));
	sv->v[sv->n++] = owned;
	sv->v[sv->n] = NULL;
}

void
pd_strv_pushf(struct pd_strv *sv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pd_strv_push(sv, pd_xvasprintf(fmt, ap));
	va_end(ap);
}

bool
pd_strv_contains(const struct pd_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
pd_strv_clear(struct pd_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

void
pd_sha256_hex(const void *data, size_t len, char out[PD_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		abort(); /* libcrypto's SHA-256 cannot fail on valid input */
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[PD_SHA256_HEX_LEN] = '\0';
}

long long
pd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
