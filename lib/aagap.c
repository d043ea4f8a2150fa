/* SPDX-License-Identifier: Apache-2.0 */
#include "aagap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const class_names[PD_AA_RULE_N_CLASSES] = {
	[PD_AA_RULE_CHANGE_PROFILE] = "change_profile",
	[PD_AA_RULE_DBUS] = "dbus",
	[PD_AA_RULE_IO_URING] = "io_uring",
	[PD_AA_RULE_MOUNT] = "mount",
	[PD_AA_RULE_MQUEUE] = "mqueue",
	[PD_AA_RULE_NETWORK] = "network",
	[PD_AA_RULE_PTRACE] = "ptrace",
	[PD_AA_RULE_SIGNAL] = "signal",
	[PD_AA_RULE_UNIX] = "unix",
	[PD_AA_RULE_USERNS] = "userns",
};

/* The texts of `Warning from profile NAME (FILE): TEXT` (parser 3.0 and
 * 4.1: rule_t::warn_once), one class each.  "mount rules not enforce" is
 * the parser's own spelling. */
static const struct {
	const char *text;
	enum pd_aa_rule_class cls;
	enum pd_aa_gap_kind kind;
} profile_texts[] = {
	{ "userns rules not enforced", PD_AA_RULE_USERNS, PD_AA_GAP_NOT_ENFORCED },
	{ "io_uring rules not enforced", PD_AA_RULE_IO_URING, PD_AA_GAP_NOT_ENFORCED },
	{ "mqueue rules not enforced", PD_AA_RULE_MQUEUE, PD_AA_GAP_NOT_ENFORCED },
	{ "mqueue type=posix rules not enforced", PD_AA_RULE_MQUEUE, PD_AA_GAP_NOT_ENFORCED },
	{ "mqueue type=sysv rules not enforced", PD_AA_RULE_MQUEUE, PD_AA_GAP_NOT_ENFORCED },
	{ "dbus rules not enforced", PD_AA_RULE_DBUS, PD_AA_GAP_NOT_ENFORCED },
	{ "signal rules not enforced", PD_AA_RULE_SIGNAL, PD_AA_GAP_NOT_ENFORCED },
	{ "ptrace rules not enforced", PD_AA_RULE_PTRACE, PD_AA_GAP_NOT_ENFORCED },
	{ "mount rules not enforce", PD_AA_RULE_MOUNT, PD_AA_GAP_NOT_ENFORCED },
	{ "mount rules not enforced", PD_AA_RULE_MOUNT, PD_AA_GAP_NOT_ENFORCED },
	{ "network rules not enforced", PD_AA_RULE_NETWORK, PD_AA_GAP_NOT_ENFORCED },
	{ "extended network unix socket rules not enforced", PD_AA_RULE_UNIX,
	  PD_AA_GAP_NOT_ENFORCED },
	{ "deny unix socket rule not enforced, can't be downgraded to generic network rule",
	  PD_AA_RULE_UNIX, PD_AA_GAP_NOT_ENFORCED },
	{ "downgrading extended network unix socket rule to generic network rule", PD_AA_RULE_UNIX,
	  PD_AA_GAP_DOWNGRADED },
};

/* Texts of `Warning from FILE (FILE line N): TEXT` (the parser's pwarn). */
#define NET_PREFIX "profile "
#define NET_SUFFIX " network rules not enforced"
#define CHANGE_TEXT                                                                                \
	"downgrading change_profile safe rule to unsafe due to lack of necessary kernel support"

const char *
pd_aa_rule_class_name(enum pd_aa_rule_class c)
{
	return (unsigned)c < PD_AA_RULE_N_CLASSES ? class_names[c] : "unknown";
}

/* n bytes of s without trailing blanks. */
static size_t
trimmed(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n;
}

/* The last occurrence of needle in hay, or NULL. */
static const char *
last_of(const char *hay, const char *needle)
{
	const char *hit = NULL, *p = hay;

	while ((p = strstr(p, needle)) != NULL)
		hit = p++;
	return hit;
}

static bool
parse_profile_form(const char *rest, const char *file, char **profile, enum pd_aa_rule_class *cls,
		   enum pd_aa_gap_kind *kind)
{
	_cleanup_free_ char *mark = pd_xasprintf(" (%s): ", file);
	const char *at = last_of(rest, mark);
	const char *text;
	size_t n;

	if (at == NULL || at == rest)
		return false;
	text = at + strlen(mark);
	n = trimmed(text);
	for (size_t i = 0; i < sizeof(profile_texts) / sizeof(profile_texts[0]); i++) {
		if (strlen(profile_texts[i].text) != n ||
		    strncmp(text, profile_texts[i].text, n) != 0)
			continue;
		*profile = pd_xstrndup(rest, (size_t)(at - rest));
		*cls = profile_texts[i].cls;
		*kind = profile_texts[i].kind;
		return true;
	}
	return false;
}

static bool
parse_file_form(const char *rest, char **profile, enum pd_aa_rule_class *cls,
		enum pd_aa_gap_kind *kind)
{
	const char *end = strstr(rest, "): ");
	const char *text;
	size_t n;

	/* "(FILE line N): ": the file may be an include. */
	if (end == NULL)
		return false;
	text = end + 3;
	n = trimmed(text);
	if (n == strlen(CHANGE_TEXT) && strncmp(text, CHANGE_TEXT, n) == 0) {
		*profile = pd_xstrdup("");
		*cls = PD_AA_RULE_CHANGE_PROFILE;
		*kind = PD_AA_GAP_DOWNGRADED;
		return true;
	}
	if (n > strlen(NET_PREFIX) + strlen(NET_SUFFIX) &&
	    strncmp(text, NET_PREFIX, strlen(NET_PREFIX)) == 0 &&
	    strncmp(text + n - strlen(NET_SUFFIX), NET_SUFFIX, strlen(NET_SUFFIX)) == 0) {
		*profile = pd_xstrndup(text + strlen(NET_PREFIX),
				       n - strlen(NET_PREFIX) - strlen(NET_SUFFIX));
		*cls = PD_AA_RULE_NETWORK;
		*kind = PD_AA_GAP_NOT_ENFORCED;
		return true;
	}
	return false;
}

bool
pd_aa_parse_gap(const char *line, const char *file, char **profile, enum pd_aa_rule_class *cls,
		enum pd_aa_gap_kind *kind)
{
	static const char from_profile[] = "Warning from profile ";
	_cleanup_free_ char *from_file = pd_xasprintf("Warning from %s (", file);

	if (strncmp(line, from_profile, strlen(from_profile)) == 0 &&
	    parse_profile_form(line + strlen(from_profile), file, profile, cls, kind))
		return true;
	if (strncmp(line, from_file, strlen(from_file)) == 0)
		return parse_file_form(line + strlen(from_file), profile, cls, kind);
	return false;
}

void
pd_aa_gaps_add(struct pd_aa_gaps *g, const char *profile, enum pd_aa_rule_class cls,
	       enum pd_aa_gap_kind kind)
{
	struct pd_aa_gap *e = (struct pd_aa_gap *)pd_aa_gaps_find(g, profile);

	if (e == NULL) {
		pd_grow(&g->v, &g->cap, g->n + 1, sizeof(*g->v));
		e = &g->v[g->n++];
		e->profile = pd_xstrdup(profile);
		e->not_enforced = e->downgraded = 0;
	}
	if (kind == PD_AA_GAP_DOWNGRADED)
		e->downgraded |= 1u << cls;
	else
		e->not_enforced |= 1u << cls;
	/* A class not enforced at all is not also "downgraded". */
	e->downgraded &= ~e->not_enforced;
}

void
pd_aa_gaps_merge(struct pd_aa_gaps *g, const struct pd_aa_gap *src)
{
	for (int c = 0; c < PD_AA_RULE_N_CLASSES; c++) {
		if (src->not_enforced & (1u << c))
			pd_aa_gaps_add(g, src->profile, c, PD_AA_GAP_NOT_ENFORCED);
		if (src->downgraded & (1u << c))
			pd_aa_gaps_add(g, src->profile, c, PD_AA_GAP_DOWNGRADED);
	}
}

const struct pd_aa_gap *
pd_aa_gaps_find(const struct pd_aa_gaps *g, const char *profile)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].profile, profile) == 0)
			return &g->v[i];
	return NULL;
}

void
pd_aa_gaps_clear(struct pd_aa_gaps *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].profile);
	free(g->v);
	*g = (struct pd_aa_gaps){ 0 };
}

char *
pd_aa_classes_text(unsigned mask, const char *sep)
{
	const char *names[PD_AA_RULE_N_CLASSES];
	size_t n = 0;

	for (int c = 0; c < PD_AA_RULE_N_CLASSES; c++)
		if (mask & (1u << c))
			names[n++] = class_names[c];
	return pd_join(names, n, sep);
}

char *
pd_aa_gap_text(const struct pd_aa_gap *g)
{
	_cleanup_free_ char *ne = pd_aa_classes_text(g->not_enforced, " ");
	_cleanup_free_ char *dg = pd_aa_classes_text(g->downgraded, " ");
	_cleanup_free_ char *who = g->profile[0] != '\0' ? pd_xasprintf("profile `%s`", g->profile)
							 : pd_xstrdup("the file");

	if (g->not_enforced != 0 && g->downgraded != 0)
		return pd_xasprintf("%s: rules not enforced: %s; downgraded: %s", who, ne, dg);
	if (g->not_enforced != 0)
		return pd_xasprintf("%s: rules not enforced: %s", who, ne);
	return pd_xasprintf("%s: rules downgraded: %s", who, dg);
}
