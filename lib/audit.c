/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel audit record lines: see audit.h. */
#include "audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Keys whose values audit logs with audit_log_untrustedstring(): quoted
 * when safe, hex-encoded otherwise. */
static const char *const hex_keys[] = {
	"comm",	 "exe", "name", "name2",     "profile",	   "peer", "target",	"srcname",
	"label", "cwd", "path", "namespace", "peer_label", "info", "proctitle",
};

static bool
is_hex_key(const char *k, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(hex_keys); i++)
		if (strlen(hex_keys[i]) == len && memcmp(hex_keys[i], k, len) == 0)
			return true;
	return false;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
pd_audit_unhex(const char *s, size_t len)
{
	char *out;

	if (len == 0 || len % 2 != 0)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (hexval(s[i]) < 0)
			return NULL;
	out = pd_xmalloc(len / 2 + 1);
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	out[len / 2] = '\0';
	/* An embedded NUL would cut the value short: not a string audit wrote. */
	if (strlen(out) != len / 2) {
		free(out);
		return NULL;
	}
	return out;
}

static void
add_field(struct pd_audit_record *r, const char *k, size_t klen, char *value)
{
	if (r->n >= PD_AUDIT_MAX_FIELDS) {
		free(value);
		return;
	}
	r->fields[r->n].key = pd_xstrndup(k, klen);
	r->fields[r->n].value = value;
	r->n++;
}

/* Parses `key=value key="value" key='nested fields'` from p to end. */
static void
parse_fields(struct pd_audit_record *r, const char *p, const char *end, int depth)
{
	while (p < end) {
		const char *k, *v;
		size_t klen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		/* auditd's enriched format: interpreted copies follow a GS. */
		if (p >= end || *p == '\x1d' || *p == '\n' || *p == '\r')
			return;
		k = p;
		while (p < end && *p != '=' && *p != ' ' && *p != '\x1d')
			p++;
		if (p >= end || *p != '=' || p == k) {
			while (p < end && *p != ' ' && *p != '\x1d')
				p++;
			continue;
		}
		klen = (size_t)(p - k);
		p++;
		if (p < end && (*p == '"' || *p == '\'')) {
			char q = *p++;
			const char *close = memchr(p, q, (size_t)(end - p));

			if (close == NULL)
				close = end;
			if (q == '\'' && depth == 0)
				parse_fields(r, p, close, depth + 1);
			else
				add_field(r, k, klen, pd_xstrndup(p, (size_t)(close - p)));
			p = close < end ? close + 1 : end;
			continue;
		}
		v = p;
		while (p < end && *p != ' ' && *p != '\x1d' && *p != '\n' && *p != '\r')
			p++;
		{
			char *dec = NULL;

			if (is_hex_key(k, klen))
				dec = pd_audit_unhex(v, (size_t)(p - v));
			add_field(r, k, klen, dec ? dec : pd_xstrndup(v, (size_t)(p - v)));
		}
	}
}

static const char *
find(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = s; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* The fields, type and serial of `audit: type=T audit(SERIAL): FIELDS`
 * and `type=T msg=audit(SERIAL): FIELDS`. */
static bool
locate_audit(const char *line, const char *end, const char **type, size_t *tlen,
	     const char **serial, size_t *slen, const char **fields)
{
	const char *a = find(line, end, "audit("), *close, *colon, *t = NULL, *te;

	if (a == NULL)
		return false;
	/* `): `, or `) : ` as ausearch -i writes it */
	close = memchr(a, ')', (size_t)(end - a));
	if (close == NULL)
		return false;
	colon = close + 1;
	if (colon < end && *colon == ' ')
		colon++;
	if (colon >= end || *colon != ':')
		return false;
	/* The record type: the last `type=` before `audit(`. */
	for (const char *p = line; (p = find(p, a, "type=")) != NULL; p += 5)
		t = p + 5;
	if (t == NULL)
		return false;
	for (te = t; te < a && *te != ' '; te++)
		;
	*type = t;
	*tlen = (size_t)(te - t);
	*serial = a + 6;
	*slen = (size_t)(close - a - 6);
	*fields = colon + 1;
	return true;
}

/* systemd-journald's form of audit records: `audit[PID]: TYPE FIELDS`
 * (`audit[29396]: AVC apparmor="ALLOWED" ...`); no serial. */
static bool
locate_journal(const char *line, const char *end, const char **type, size_t *tlen,
	       const char **fields)
{
	const char *a = find(line, end, "audit["), *t, *te;

	if (a == NULL || (t = find(a, end, "]: ")) == NULL)
		return false;
	t += 3;
	for (te = t; te < end && *te != ' '; te++)
		;
	*type = t;
	*tlen = (size_t)(te - t);
	*fields = te;
	return true;
}

int
pd_audit_parse_line(const char *line, size_t len, struct pd_audit_record *r)
{
	const char *end, *t, *serial = NULL, *fields;
	size_t tlen, slen = 0;
	bool seccomp;

	memset(r, 0, sizeof(*r));
	if (len > PD_AUDIT_MAX_LINE)
		return 0;
	end = line + len;
	if (!locate_audit(line, end, &t, &tlen, &serial, &slen, &fields) &&
	    !locate_journal(line, end, &t, &tlen, &fields))
		return 0;
	seccomp = (tlen == 4 && memcmp(t, "1326", 4) == 0) ||
		  (tlen == 7 && memcmp(t, "SECCOMP", 7) == 0);
	parse_fields(r, fields, end, 0);
	if (seccomp)
		r->kind = PD_AUDIT_SECCOMP;
	else if (pd_audit_get(r, "apparmor") != NULL)
		r->kind = PD_AUDIT_APPARMOR;
	else {
		pd_audit_record_clear(r);
		return 0;
	}
	r->serial = serial ? pd_xstrndup(serial, slen) : pd_xstrdup("");
	return 1;
}

void
pd_audit_record_clear(struct pd_audit_record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->fields[i].key);
		free(r->fields[i].value);
	}
	free(r->serial);
	memset(r, 0, sizeof(*r));
}

const char *
pd_audit_get(const struct pd_audit_record *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->fields[i].key, key) == 0)
			return r->fields[i].value;
	return NULL;
}

bool
pd_audit_get_u64(const struct pd_audit_record *r, const char *key, int base, uint64_t *out)
{
	const char *v = pd_audit_get(r, key);
	char *e;
	unsigned long long x;

	if (v == NULL || v[0] == '\0' || v[0] == '-' || v[0] == ' ' || v[0] == '+')
		return false;
	errno = 0;
	x = strtoull(v, &e, base);
	if (errno != 0 || *e != '\0')
		return false;
	*out = x;
	return true;
}
