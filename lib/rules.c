/* SPDX-License-Identifier: Apache-2.0 */
#include "rules.h"

#include <errno.h>

bool
pd_source_absent(const struct pd_source *s)
{
	return s->error == -ENOENT;
}

const char *
pd_source_taken(struct pd_strv *seen, const struct pd_source *s)
{
	if (pd_strv_contains(seen, s->name))
		return "another profiles folder already provides this file name";
	pd_strv_push(seen, pd_xstrdup(s->name));
	return NULL;
}

enum pd_entry
pd_source_rule(struct pd_strv *seen, const struct pd_source *s, const char **why)
{
	const char *taken;

	if (pd_source_absent(s))
		return PD_ENTRY_ABSENT;
	if ((taken = pd_source_taken(seen, s)) != NULL) {
		*why = taken;
		return PD_ENTRY_REJECTED;
	}
	if (s->error < 0) {
		*why = s->errmsg;
		return PD_ENTRY_REJECTED;
	}
	return PD_ENTRY_USE;
}

char *
pd_aa_clash(const struct pd_aa_unit *units, size_t n, const struct pd_aa_unit *u)
{
	for (size_t k = 0; k < u->names.n; k++)
		for (size_t j = 0; j < n; j++)
			if (units[j].admitted && pd_strv_contains(&units[j].names, u->names.v[k]))
				return pd_xasprintf("profile `%s` is already declared by %s",
						    u->names.v[k], units[j].label);
	return NULL;
}
