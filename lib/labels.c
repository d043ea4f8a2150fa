/* SPDX-License-Identifier: Apache-2.0 */
#include "labels.h"

#include <errno.h>
#include <string.h>

#include "util.h"

/* What is left of a name after mapping, before the hash is appended. */
#define KEEP_MAX    52
#define HASH_DIGITS 10

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_name_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

bool
pd_label_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PD_LABEL_NAME_MAX || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

bool
pd_dns_subdomain_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > PD_LABEL_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

static void
trim_trailing(char *s, size_t *n)
{
	while (*n > 0 && !is_alnum(s[*n - 1]))
		s[--*n] = '\0';
}

void
pd_label_name(const char *x, char out[PD_LABEL_NAME_MAX + 1])
{
	char hash[PD_SHA256_HEX_LEN + 1];
	char buf[KEEP_MAX + 1];
	size_t n = 0;
	const char *p = x;

	if (pd_label_name_valid(x)) {
		strcpy(out, x);
		return;
	}
	/* Skip leading characters that would map to non-alphanumerics. */
	while (*p != '\0' && !is_alnum(*p))
		p++;
	for (; *p != '\0' && n < KEEP_MAX; p++) {
		/* A multi-byte UTF-8 character counts once: its lead byte
		 * became '-', its continuation bytes add nothing. */
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		buf[n++] = is_name_char(*p) ? *p : '-';
	}
	buf[n] = '\0';
	trim_trailing(buf, &n);
	pd_sha256_hex(x, strlen(x), hash);
	if (n == 0)
		snprintf(out, PD_LABEL_NAME_MAX + 1, "%.*s", HASH_DIGITS, hash);
	else
		snprintf(out, PD_LABEL_NAME_MAX + 1, "%s-%.*s", buf, HASH_DIGITS, hash);
}

static size_t
find(const struct pd_labels *l, const char *key, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void
pd_labels_set(struct pd_labels *l, const char *key, const char *value)
{
	bool found;
	size_t i = find(l, key, &found);

	if (found) {
		free(l->v[i].value);
		l->v[i].value = pd_xstrdup(value);
		return;
	}
	pd_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	l->v[i].key = pd_xstrdup(key);
	l->v[i].value = pd_xstrdup(value);
	l->n++;
}

const char *
pd_labels_get(const struct pd_labels *l, const char *key)
{
	bool found;
	size_t i = find(l, key, &found);

	return found ? l->v[i].value : NULL;
}

bool
pd_labels_equal(const struct pd_labels *a, const struct pd_labels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return false;
	return true;
}

void
pd_labels_clear(struct pd_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static const char *
kind_name(enum pd_label_kind kind)
{
	return kind == PD_LABEL_APPARMOR ? "apparmor" : "seccomp";
}

int
pd_label_domain_check(const char *domain, pd_error_t *err)
{
	/* The longest prefix the agent writes is "apparmor.<domain>". */
	char probe[PD_LABEL_PREFIX_MAX + 2];

	if (!pd_dns_subdomain_valid(domain))
		return pd_make_plain_error(
			err, EINVAL,
			"label domain \"%s\" is not a valid DNS subdomain (lower-case, at most 253 characters)",
			domain);
	if ((size_t)snprintf(probe, sizeof(probe), "apparmor.%s", domain) >= sizeof(probe) ||
	    !pd_dns_subdomain_valid(probe))
		return pd_make_plain_error(
			err, EINVAL,
			"label domain \"%s\" is too long: \"apparmor.%s\" must stay within 253 characters",
			domain, domain);
	return 0;
}

char *
pd_label_profile_key(const char *domain, enum pd_label_kind kind, const char *profile)
{
	char name[PD_LABEL_NAME_MAX + 1];

	pd_label_name(profile, name);
	return pd_xasprintf("%s.%s/%s", kind_name(kind), domain, name);
}

char *
pd_label_support_key(const char *domain, enum pd_label_kind kind)
{
	return pd_xasprintf("%s/%s", domain, kind_name(kind));
}

bool
pd_label_key_owned(const char *domain, const char *key)
{
	static const char *const kinds[] = { "apparmor", "seccomp" };
	size_t dl = strlen(domain);

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t kl = strlen(kinds[i]);

		/* "<kind>.<domain>/<anything>" */
		if (strncmp(key, kinds[i], kl) == 0 && key[kl] == '.' &&
		    strncmp(key + kl + 1, domain, dl) == 0 && key[kl + 1 + dl] == '/')
			return true;
		/* "<domain>/<kind>" */
		if (strncmp(key, domain, dl) == 0 && key[dl] == '/' &&
		    strcmp(key + dl + 1, kinds[i]) == 0)
			return true;
	}
	return false;
}
