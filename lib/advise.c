/* SPDX-License-Identifier: Apache-2.0 */
/* From audit records to profiles: see advise.h. */
#include "advise.h"

#include <ctype.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* x86-64 records carry this bit in the syscall number for x32 tasks. */
#define X32_SYSCALL_BIT 0x40000000u

struct sc_seen {
	uint32_t arch; /* audit arch = libseccomp arch token */
	int nr;
};

enum {
	P_R = 1 << 0,
	P_W = 1 << 1,
	P_A = 1 << 2,
	P_L = 1 << 3,
	P_K = 1 << 4,
	P_M = 1 << 5,
	P_X = 1 << 6,
};

struct aa_file {
	char *path;
	unsigned perms;
};

struct aa_profile {
	char *name;
	struct aa_file *files;
	size_t n_files, cap_files;
	struct pd_strv rules;	  /* capability, network, signal, ... (deduplicated) */
	struct pd_strv unhandled; /* comments */
};

struct pd_advise {
	struct sc_seen *sc;
	size_t n_sc, cap_sc;
	size_t sc_records;
	struct aa_profile *aa;
	size_t n_aa, cap_aa;
	size_t aa_records;
};

struct pd_advise *
pd_advise_new(void)
{
	return pd_xcalloc(1, sizeof(struct pd_advise));
}

void
pd_advise_unref(struct pd_advise *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_aa; i++) {
		struct aa_profile *p = &a->aa[i];

		for (size_t k = 0; k < p->n_files; k++)
			free(p->files[k].path);
		free(p->files);
		free(p->name);
		pd_strv_clear(&p->rules);
		pd_strv_clear(&p->unhandled);
	}
	free(a->aa);
	free(a->sc);
	free(a);
}

size_t
pd_advise_seccomp_records(const struct pd_advise *a)
{
	return a->sc_records;
}

size_t
pd_advise_apparmor_records(const struct pd_advise *a)
{
	return a->aa_records;
}

/* --- seccomp ---------------------------------------------------------------- */

/* arch=c000003e, or the name ausearch -i prints (x86_64). */
static bool
record_arch(const struct pd_audit_record *r, uint64_t *arch)
{
	const char *v = pd_audit_get(r, "arch");
	uint32_t tok;

	if (pd_audit_get_u64(r, "arch", 16, arch))
		return true;
	if (v == NULL || (tok = seccomp_arch_resolve_name(v)) == 0)
		return false;
	*arch = tok;
	return true;
}

/* syscall=1, or the name ausearch -i prints (write). */
static bool
record_syscall(const struct pd_audit_record *r, uint64_t arch, uint64_t *nr)
{
	const char *v = pd_audit_get(r, "syscall");
	int n;

	if (pd_audit_get_u64(r, "syscall", 10, nr))
		return true;
	if (v == NULL || arch > UINT32_MAX ||
	    (n = seccomp_syscall_resolve_name_arch((uint32_t)arch, v)) < 0)
		return false;
	*nr = (uint64_t)n;
	return true;
}

static int
add_seccomp(struct pd_advise *a, const struct pd_audit_record *r)
{
	uint64_t arch, nr;

	if (!record_arch(r, &arch) || arch > UINT32_MAX || !record_syscall(r, arch, &nr) ||
	    nr > INT32_MAX)
		return 0;
	if (arch == SCMP_ARCH_X86_64 && (nr & X32_SYSCALL_BIT) != 0)
		arch = SCMP_ARCH_X32;
	a->sc_records++;
	for (size_t i = 0; i < a->n_sc; i++)
		if (a->sc[i].arch == arch && a->sc[i].nr == (int)nr)
			return 1;
	pd_grow(&a->sc, &a->cap_sc, a->n_sc + 1, sizeof(*a->sc));
	a->sc[a->n_sc].arch = (uint32_t)arch;
	a->sc[a->n_sc].nr = (int)nr;
	a->n_sc++;
	return 1;
}

/* libseccomp's architecture names; SCMP_ARCH_<NAME> in the JSON. */
static const char *const arch_names[] = {
	"x86",	     "x86_64", "x32",	   "arm",	  "aarch64", "mips",	    "mips64",
	"mips64n32", "mipsel", "mipsel64", "mipsel64n32", "ppc",     "ppc64",	    "ppc64le",
	"s390",	     "s390x",  "parisc",   "parisc64",	  "riscv64", "loongarch64",
};

/* "SCMP_ARCH_X86_64" for an arch token, or NULL when libseccomp does not know it. */
static char *
arch_json_name(uint32_t arch)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++) {
		char *s;

		if (seccomp_arch_resolve_name(arch_names[i]) != arch)
			continue;
		s = pd_xasprintf("SCMP_ARCH_%s", arch_names[i]);
		for (char *p = s; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		return s;
	}
	return NULL;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

char *
pd_advise_seccomp_json(const struct pd_advise *a, struct pd_strv *warnings)
{
	struct pd_strv archs = { 0 }, names = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (a->sc_records == 0)
		return NULL;
	for (size_t i = 0; i < a->n_sc; i++) {
		char *an = arch_json_name(a->sc[i].arch);
		char *name;

		if (an == NULL) {
			pd_strv_pushf(warnings,
				      "audit arch %x is unknown to libseccomp: syscall %d left out",
				      a->sc[i].arch, a->sc[i].nr);
			continue;
		}
		name = seccomp_syscall_resolve_num_arch(a->sc[i].arch, a->sc[i].nr);
		if (name == NULL) {
			pd_strv_pushf(warnings, "syscall %d has no name on %s: left out",
				      a->sc[i].nr, an);
			free(an);
			continue;
		}
		if (!pd_strv_contains(&archs, an))
			pd_strv_push(&archs, steal_pointer(&an));
		if (!pd_strv_contains(&names, name))
			pd_strv_push(&names, steal_pointer(&name));
		free(name);
		free(an);
	}
	if (archs.n > 0)
		qsort(archs.v, archs.n, sizeof(char *), cmp_str);
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	f = open_memstream(&buf, &len);
	if (f == NULL)
		pd_oom();
	fputs("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"architectures\": [", f);
	for (size_t i = 0; i < archs.n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", archs.v[i]);
	fputs("],\n  \"syscalls\": [", f);
	if (names.n > 0) {
		fputs("\n    {\n      \"names\": [", f);
		for (size_t i = 0; i < names.n; i++)
			fprintf(f, "%s\n        \"%s\"", i ? "," : "", names.v[i]);
		fputs("\n      ],\n      \"action\": \"SCMP_ACT_ALLOW\"\n    }\n  ", f);
	}
	fputs("]\n}\n", f);
	if (fclose(f) != 0)
		pd_oom();
	pd_strv_clear(&archs);
	pd_strv_clear(&names);
	return buf;
}

/* --- AppArmor ---------------------------------------------------------------- */

static struct aa_profile *
profile_get(struct pd_advise *a, const char *name)
{
	struct aa_profile *p;

	for (size_t i = 0; i < a->n_aa; i++)
		if (strcmp(a->aa[i].name, name) == 0)
			return &a->aa[i];
	pd_grow(&a->aa, &a->cap_aa, a->n_aa + 1, sizeof(*a->aa));
	p = &a->aa[a->n_aa++];
	memset(p, 0, sizeof(*p));
	p->name = pd_xstrdup(name);
	return p;
}

static unsigned
file_perms(const char *mask)
{
	unsigned perms = 0;

	for (const char *c = mask; *c; c++) {
		switch (*c) {
		case 'r':
			perms |= P_R;
			break;
		case 'w':
		case 'c': /* create */
		case 'd': /* delete */
			perms |= P_W;
			break;
		case 'a':
			perms |= P_A;
			break;
		case 'l':
			perms |= P_L;
			break;
		case 'k':
			perms |= P_K;
			break;
		case 'm':
			perms |= P_M;
			break;
		case 'x':
			perms |= P_X;
			break;
		default:
			break;
		}
	}
	return perms;
}

static void
add_file(struct aa_profile *p, const char *path, unsigned perms)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i].path, path) == 0) {
			p->files[i].perms |= perms;
			return;
		}
	pd_grow(&p->files, &p->cap_files, p->n_files + 1, sizeof(*p->files));
	p->files[p->n_files].path = pd_xstrdup(path);
	p->files[p->n_files].perms = perms;
	p->n_files++;
}

/* Whether s can stand unquoted in a rule: letters, digits and a few marks. */
static bool
plain_word(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && strchr("_-./:@+", *c) == NULL)
			return false;
	return true;
}

/* A path or name as a rule token: glob characters escaped so that the rule
 * matches this exact name (paths: a name that starts with '/'; other names
 * are no patterns), quoted when it holds spaces or other marks. */
static char *
aa_token(const char *s)
{
	const char *special = s[0] == '/' ? "*?[]{}^\\\"" : "\\\"";
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	bool quote = !plain_word(s);

	f = open_memstream(&buf, &len);
	if (f == NULL)
		pd_oom();
	if (quote)
		fputc('"', f);
	for (const char *c = s; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u != 0 && strchr(special, u) != NULL)
			fprintf(f, "\\%c", u);
		else if (u < 0x20 || u == 0x7f)
			fprintf(f, "\\%03o", u);
		else
			fputc(u, f);
	}
	if (quote)
		fputc('"', f);
	if (fclose(f) != 0)
		pd_oom();
	return buf;
}

static void
add_rule(struct aa_profile *p, char *rule)
{
	if (pd_strv_contains(&p->rules, rule))
		free(rule);
	else
		pd_strv_push(&p->rules, rule);
}

/* "rw, nosuid" -> "rw,nosuid"; NULL when flags hold anything but the
 * kernel's flag names. */
static char *
mount_options(const char *flags)
{
	char *s = pd_xmalloc(strlen(flags) + 1), *o = s;

	for (const char *c = flags; *c; c++) {
		if (*c == ' ')
			continue;
		if (!isalnum((unsigned char)*c) && strchr("_,=-", *c) == NULL) {
			free(s);
			return NULL;
		}
		*o++ = *c;
	}
	*o = '\0';
	if (o == s) {
		free(s);
		return NULL;
	}
	return s;
}

static bool
is_word(const char *s)
{
	return s != NULL && plain_word(s);
}

static void
add_apparmor_rule(struct aa_profile *p, const struct pd_audit_record *r, const char *op)
{
	const char *name = pd_audit_get(r, "name");
	const char *mask = pd_audit_get(r, "requested_mask");
	const char *peer = pd_audit_get(r, "peer");

	if (strcmp(op, "capable") == 0 && is_word(pd_audit_get(r, "capname"))) {
		add_rule(p, pd_xasprintf("capability %s,", pd_audit_get(r, "capname")));
	} else if (pd_audit_get(r, "family") != NULL && is_word(pd_audit_get(r, "family"))) {
		const char *type = pd_audit_get(r, "sock_type");

		if (is_word(type))
			add_rule(p,
				 pd_xasprintf("network %s %s,", pd_audit_get(r, "family"), type));
		else
			add_rule(p, pd_xasprintf("network %s,", pd_audit_get(r, "family")));
	} else if (strcmp(op, "signal") == 0 && is_word(mask) &&
		   is_word(pd_audit_get(r, "signal"))) {
		_cleanup_free_ char *pt = peer ? aa_token(peer) : NULL;

		add_rule(p,
			 pd_xasprintf("signal (%s) set=(%s)%s%s,", mask, pd_audit_get(r, "signal"),
				      pt ? " peer=" : "", pt ? pt : ""));
	} else if (strcmp(op, "ptrace") == 0 && is_word(mask)) {
		_cleanup_free_ char *pt = peer ? aa_token(peer) : NULL;

		add_rule(p,
			 pd_xasprintf("ptrace (%s)%s%s,", mask, pt ? " peer=" : "", pt ? pt : ""));
	} else if (strcmp(op, "mount") == 0 && name != NULL) {
		const char *fstype = pd_audit_get(r, "fstype");
		const char *src = pd_audit_get(r, "srcname");
		const char *flags = pd_audit_get(r, "flags");
		_cleanup_free_ char *nt = aa_token(name);
		_cleanup_free_ char *st = src ? aa_token(src) : NULL;
		_cleanup_free_ char *ot = flags && flags[0] ? mount_options(flags) : NULL;

		add_rule(p, pd_xasprintf("mount%s%s%s%s%s%s%s -> %s,", ot ? " options=(" : "",
					 ot ? ot : "", ot ? ")" : "",
					 is_word(fstype) ? " fstype=" : "",
					 is_word(fstype) ? fstype : "", st ? " " : "", st ? st : "",
					 nt));
	} else if (strcmp(op, "umount") == 0 && name != NULL) {
		_cleanup_free_ char *nt = aa_token(name);

		add_rule(p, pd_xasprintf("umount %s,", nt));
	} else if (name != NULL && name[0] == '/' && mask != NULL && file_perms(mask) != 0) {
		add_file(p, name, file_perms(mask));
	} else {
		char *c = pd_xasprintf("operation=%s%s%s%s%s", op, name ? " name=" : "",
				       name ? name : "", mask ? " requested_mask=" : "",
				       mask ? mask : "");

		for (char *q = c; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = '?';
		if (!pd_strv_contains(&p->unhandled, c))
			pd_strv_push(&p->unhandled, c);
		else
			free(c);
	}
}

static int
add_apparmor(struct pd_advise *a, const struct pd_audit_record *r)
{
	const char *verdict = pd_audit_get(r, "apparmor");
	const char *op = pd_audit_get(r, "operation");
	/* D-Bus records (USER_AVC) name the confined task's label= instead */
	const char *profile =
		pd_audit_get(r, "profile") ? pd_audit_get(r, "profile") : pd_audit_get(r, "label");
	const char *nul;

	if (verdict == NULL || op == NULL || profile == NULL || profile[0] == '\0' ||
	    (strcmp(verdict, "ALLOWED") != 0 && strcmp(verdict, "DENIED") != 0 &&
	     strcmp(verdict, "AUDIT") != 0))
		return 0;
	a->aa_records++;
	/* In complain mode an exec with no rule runs the program under the
	 * learning child PARENT//null-PROGRAM.  The exec becomes an `ix` rule
	 * here, under which the program keeps the parent profile: so what
	 * the child did belongs to the parent. */
	nul = strstr(profile, "//null-");
	if (nul != NULL) {
		_cleanup_free_ char *parent = pd_xstrndup(profile, (size_t)(nul - profile));

		add_apparmor_rule(profile_get(a, parent), r, op);
		return 1;
	}
	add_apparmor_rule(profile_get(a, profile), r, op);
	return 1;
}

int
pd_advise_add(struct pd_advise *a, const struct pd_audit_record *r)
{
	if (r->kind == PD_AUDIT_SECCOMP)
		return add_seccomp(a, r);
	if (r->kind == PD_AUDIT_APPARMOR)
		return add_apparmor(a, r);
	return 0;
}

static int
cmp_file(const void *x, const void *y)
{
	return strcmp(((const struct aa_file *)x)->path, ((const struct aa_file *)y)->path);
}

static void
print_perms(FILE *f, unsigned perms)
{
	if (perms & P_M)
		fputc('m', f);
	if (perms & P_R)
		fputc('r', f);
	if (perms & P_W)
		fputc('w', f);
	else if (perms & P_A)
		fputc('a', f);
	if (perms & P_L)
		fputc('l', f);
	if (perms & P_K)
		fputc('k', f);
	if (perms & P_X)
		fputs("ix", f);
}

char *
pd_advise_apparmor_rules(const struct pd_advise *a, struct pd_strv *warnings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (a->aa_records == 0)
		return NULL;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		pd_oom();
	fputs("abi <abi/3.0>,\ninclude <tunables/global>\n", f);
	for (size_t i = 0; i < a->n_aa; i++) {
		struct aa_profile *p = &a->aa[i];
		_cleanup_free_ char *pn = aa_token(p->name);
		struct pd_strv rules = { 0 };

		fputc('\n', f);
		if (strstr(p->name, "//") != NULL) {
			/* A hat or child profile: its rules belong in its parent. */
			fprintf(f,
				"# rules for the child profile or hat %s: add them to it in its parent\n#",
				pn);
			pd_strv_pushf(
				warnings,
				"profile %s is a child profile or hat: its rules are commented",
				p->name);
		}
		fprintf(f, "profile %s {\n", pn);
		if (p->n_files > 0)
			qsort(p->files, p->n_files, sizeof(*p->files), cmp_file);
		for (size_t k = 0; k < p->rules.n; k++)
			pd_strv_push(&rules, pd_xstrdup(p->rules.v[k]));
		if (rules.n > 0)
			qsort(rules.v, rules.n, sizeof(char *), cmp_str);
		for (size_t k = 0; k < rules.n; k++)
			fprintf(f, "%s  %s\n", strstr(p->name, "//") ? "#" : "", rules.v[k]);
		for (size_t k = 0; k < p->n_files; k++) {
			_cleanup_free_ char *t = aa_token(p->files[k].path);

			fprintf(f, "%s  %s ", strstr(p->name, "//") ? "#" : "", t);
			print_perms(f, p->files[k].perms);
			fputs(",\n", f);
		}
		for (size_t k = 0; k < p->unhandled.n; k++) {
			fprintf(f, "  # no rule for %s\n", p->unhandled.v[k]);
			pd_strv_pushf(warnings, "profile %s: no rule for %s", p->name,
				      p->unhandled.v[k]);
		}
		fprintf(f, "%s}\n", strstr(p->name, "//") ? "#" : "");
		pd_strv_clear(&rules);
	}
	if (fclose(f) != 0)
		pd_oom();
	return buf;
}
