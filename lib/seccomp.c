/* SPDX-License-Identifier: Apache-2.0 */
#include "seccomp.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "utf8.h"

#define MAX_ARGS	6
#define MAX_ERRNO	0xffff /* SECCOMP_RET_DATA is 16 bits wide */
#define MAX_ERRNO_ERRNO 4094   /* libseccomp refuses SCMP_ACT_ERRNO(4095) and up */

struct sc_filter {
	struct pd_strv caps;
	struct pd_strv arches; /* runtime arch names: "amd64", "x86_64"... */
	bool has_min_kernel;
	int min_major, min_minor;
};

struct sc_rule {
	struct pd_strv names;
	int *nrs; /* names resolved by libseccomp; __NR_SCMP_ERROR when unknown */
	uint32_t action;
	struct scmp_arg_cmp conds[MAX_ARGS * 4];
	size_t nconds;
	bool dup_index; /* two conditions on one argument: one rule each */
	struct sc_filter inc, exc;
	size_t json_index;
};

struct sc_archmap {
	uint32_t arch;
	uint32_t *subs;
	size_t nsubs;
};

struct pd_seccomp {
	uint32_t def_action;
	const char *def_action_name;
	uint32_t *arches;
	size_t narches;
	struct sc_archmap *archmap;
	size_t narchmap;
	bool flag_log, flag_ssb, flag_tsync;
	bool uses_notify;
	char *listener_path;
	struct sc_rule *rules;
	size_t nrules;
};

/* ---- name tables ------------------------------------------------------ */

static const struct {
	const char *name;
	uint32_t base;
	bool takes_errno;
} actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Every SCMP_ARCH_* name the runtime format defines (runc's specconv list);
 * the ones this libseccomp does not know are skipped with a warning. */
static const char *const format_arches[] = {
	"x86",	   "x86_64",	  "x32",    "arm",	"aarch64",     "mips",
	"mips64",  "mips64n32",	  "mipsel", "mipsel64", "mipsel64n32", "ppc",
	"ppc64",   "ppc64le",	  "s390",   "s390x",	"parisc",      "parisc64",
	"riscv64", "loongarch64", "m68k",   "sh",	"sheb",
};

/* includes/excludes.arches use Go's GOARCH names (moby) or libseccomp's. */
static const struct {
	uint32_t arch;
	const char *alias[2];
} arch_aliases[] = {
	{ SCMP_ARCH_X86_64, { "amd64", "x86_64" } },
	{ SCMP_ARCH_X86, { "386", "x86" } },
	{ SCMP_ARCH_X32, { "x32", NULL } },
	{ SCMP_ARCH_AARCH64, { "arm64", "aarch64" } },
	{ SCMP_ARCH_ARM, { "arm", NULL } },
	{ SCMP_ARCH_PPC64LE, { "ppc64le", NULL } },
	{ SCMP_ARCH_PPC64, { "ppc64", NULL } },
	{ SCMP_ARCH_PPC, { "ppc", NULL } },
	{ SCMP_ARCH_S390X, { "s390x", NULL } },
	{ SCMP_ARCH_S390, { "s390", NULL } },
	{ SCMP_ARCH_RISCV64, { "riscv64", NULL } },
	{ SCMP_ARCH_MIPS, { "mips", NULL } },
	{ SCMP_ARCH_MIPSEL, { "mipsle", "mipsel" } },
	{ SCMP_ARCH_MIPS64, { "mips64", NULL } },
	{ SCMP_ARCH_MIPSEL64, { "mips64le", "mipsel64" } },
	{ SCMP_ARCH_MIPS64N32, { "mips64n32", NULL } },
	{ SCMP_ARCH_MIPSEL64N32, { "mips64len32", "mipsel64n32" } },
	{ SCMP_ARCH_PARISC, { "parisc", NULL } },
	{ SCMP_ARCH_PARISC64, { "parisc64", NULL } },
};

static const char *const known_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

/* ---- parsing helpers -------------------------------------------------- */

static void
filter_clear(struct sc_filter *f)
{
	pd_strv_clear(&f->caps);
	pd_strv_clear(&f->arches);
}

void
pd_seccomp_free(struct pd_seccomp *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		pd_strv_clear(&p->rules[i].names);
		free(p->rules[i].nrs);
		filter_clear(&p->rules[i].inc);
		filter_clear(&p->rules[i].exc);
	}
	for (size_t i = 0; i < p->narchmap; i++)
		free(p->archmap[i].subs);
	free(p->archmap);
	free(p->rules);
	free(p->arches);
	free(p->listener_path);
	free(p);
}

static void
cleanup_seccompp(struct pd_seccomp **p)
{
	pd_seccomp_free(*p);
}
#define _cleanup_seccomp_ __attribute__((cleanup(cleanup_seccompp)))

static void
cleanup_cjsonp(cJSON **j)
{
	cJSON_Delete(*j);
}
#define _cleanup_cjson_ __attribute__((cleanup(cleanup_cjsonp)))

static void
offset_to_line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			(*col)++; /* columns count characters, not UTF-8 bytes */
		}
	}
}

static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * cJSON reports a bad object key one character late: its string parser
 * fails past the character that should have been the opening quote.  When
 * the character before the reported offset is not blank, sits where an
 * object wants a key (right after `{` or `,` inside an object), and is not a
 * quote, that character is the culprit.  The bracket scan skips strings.
 */
static size_t
json_error_offset(const char *buf, size_t off)
{
	char stack[64];
	size_t depth = 0, overflow = 0, q;
	char last = '\0';

	if (off == 0)
		return off;
	q = off - 1;
	if (is_json_space(buf[q]) || buf[q] == '"')
		return off;
	for (size_t i = 0; i < q; i++) {
		char c = buf[i];

		if (c == '"') {
			for (i++; i < q && buf[i] != '"'; i++)
				if (buf[i] == '\\')
					i++;
			last = '"';
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth < sizeof(stack))
				stack[depth++] = c;
			else
				overflow++;
		} else if ((c == '}' || c == ']') && overflow > 0) {
			overflow--;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
		if (!is_json_space(c))
			last = c;
	}
	if (overflow == 0 && depth > 0 && stack[depth - 1] == '{' && (last == '{' || last == ','))
		return q;
	return off;
}

static int
type_error(pd_error_t *err, const char *path, const char *want)
{
	return pd_make_plain_error(err, EINVAL, "`%s` must be %s", path, want);
}

/* An optional string member; NULL when absent or null. */
static int
get_string(const cJSON *obj, const char *key, const char *path, const char **out, pd_error_t *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return type_error(err, path, "a string");
	*out = v->valuestring;
	return 0;
}

/* An optional array member; NULL when absent or null. */
static int
get_array(const cJSON *obj, const char *key, const char *path, const cJSON **out, pd_error_t *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return type_error(err, path, "an array");
	*out = v;
	return 0;
}

/* get_array() that also refuses more than max entries. */
static int
get_bounded_array(const cJSON *obj, const char *key, const char *path, int max, const cJSON **out,
		  pd_error_t *err)
{
	int ret = get_array(obj, key, path, out, err);
	int n;

	if (ret < 0 || *out == NULL)
		return ret;
	n = cJSON_GetArraySize(*out);
	if (n > max)
		return pd_make_plain_error(err, E2BIG, "`%s` has %d entries, over the limit of %d",
					   path, n, max);
	return 0;
}

/* JSON numbers are doubles in cJSON: only integers up to 2^53 are exact. */
#define EXACT_LIMIT 9007199254740992.0

static int
get_uint(const cJSON *v, const char *path, uint64_t max, uint64_t *out, pd_error_t *err)
{
	double d;

	if (!cJSON_IsNumber(v))
		return type_error(err, path, "a number");
	d = v->valuedouble;
	if (d < 0 || d != (double)(uint64_t)d)
		return pd_make_plain_error(err, EINVAL, "`%s` must be a non-negative integer",
					   path);
	if (d >= EXACT_LIMIT)
		return pd_make_plain_error(
			err, ERANGE, "`%s` is larger than 2^53 and cannot be read exactly", path);
	if ((uint64_t)d > max)
		return pd_make_plain_error(err, ERANGE, "`%s` is larger than %llu", path,
					   (unsigned long long)max);
	*out = (uint64_t)d;
	return 0;
}

static int
parse_action(const char *name, const char *action_path, const cJSON *errno_item, const char *path,
	     uint32_t *out, const char **canonical, struct pd_strv *warnings, pd_error_t *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		uint64_t e = 1; /* EPERM, what runtimes use without errnoRet */

		if (strcmp(name, actions[i].name) != 0)
			continue;
		if (errno_item != NULL && !cJSON_IsNull(errno_item)) {
			/* libseccomp takes an errno below 4095 (MAX_ERRNO in
			 * the kernel) but any 16-bit value for TRACE. */
			uint64_t max =
				actions[i].base == SCMP_ACT_ERRNO(0) ? MAX_ERRNO_ERRNO : MAX_ERRNO;
			int ret = get_uint(errno_item, path, max, &e, err);

			if (ret < 0)
				return ret;
			if (!actions[i].takes_errno && warnings != NULL)
				pd_strv_pushf(warnings, "`%s` is ignored with action %s", path,
					      name);
		}
		*out = actions[i].takes_errno ? actions[i].base | (uint32_t)(e & MAX_ERRNO)
					      : actions[i].base;
		if (canonical != NULL)
			*canonical = actions[i].name;
		return 0;
	}
	return pd_make_plain_error(err, EINVAL, "`%s`: unknown action \"%s\"", action_path, name);
}

/* "SCMP_ARCH_X86_64" -> libseccomp token.  Returns 1 and sets *tok when
 * usable, 0 when the format knows the name but this libseccomp does not. */
static int
parse_arch(const char *name, const char *path, uint32_t *tok, pd_error_t *err)
{
	char lower[32];
	size_t n;

	if (strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
		return pd_make_plain_error(err, EINVAL, "unknown architecture \"%s\" at `%s`", name,
					   path);
	for (n = 0; name[10 + n] != '\0'; n++)
		lower[n] = (char)tolower((unsigned char)name[10 + n]);
	lower[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(format_arches); i++) {
		if (strcmp(lower, format_arches[i]) != 0)
			continue;
		*tok = seccomp_arch_resolve_name(lower);
		return *tok != 0;
	}
	return pd_make_plain_error(err, EINVAL, "unknown architecture \"%s\" at `%s`", name, path);
}

static int
parse_arch_list(const cJSON *arr, const char *path, uint32_t **out, size_t *nout,
		struct pd_strv *warnings, pd_error_t *err)
{
	const cJSON *it;
	size_t i = 0;

	*out = pd_xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(uint32_t));
	*nout = 0;
	cJSON_ArrayForEach (it, arr) {
		char p[96];
		uint32_t tok;
		int ret;

		snprintf(p, sizeof(p), "%s[%zu]", path, i++);
		if (!cJSON_IsString(it))
			return type_error(err, p, "a string");
		ret = parse_arch(it->valuestring, p, &tok, err);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			if (warnings != NULL)
				pd_strv_pushf(
					warnings,
					"architecture %s at `%s` is not known to libseccomp %u.%u.%u; skipped",
					it->valuestring, p, seccomp_version()->major,
					seccomp_version()->minor, seccomp_version()->micro);
			continue;
		}
		(*out)[(*nout)++] = tok;
	}
	return 0;
}

static int
parse_string_list(const cJSON *arr, const char *path, struct pd_strv *out, pd_error_t *err)
{
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach (it, arr) {
		if (!cJSON_IsString(it)) {
			char p[128];

			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			return type_error(err, p, "a string");
		}
		pd_strv_push(out, pd_xstrdup(it->valuestring));
		i++;
	}
	return 0;
}

static bool
arch_alias_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++)
		for (size_t j = 0; j < 2; j++)
			if (arch_aliases[i].alias[j] != NULL &&
			    strcmp(arch_aliases[i].alias[j], name) == 0)
				return true;
	return false;
}

static int
parse_filter(const cJSON *rule, const char *key, const char *rpath, struct sc_filter *f,
	     struct pd_strv *warnings, pd_error_t *err)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(rule, key);
	const cJSON *arr;
	const char *mk;
	char path[128];
	int ret;

	if (obj == NULL || cJSON_IsNull(obj))
		return 0;
	snprintf(path, sizeof(path), "%s.%s", rpath, key);
	if (!cJSON_IsObject(obj))
		return type_error(err, path, "an object");

	snprintf(path, sizeof(path), "%s.%s.caps", rpath, key);
	if ((ret = get_bounded_array(obj, "caps", path, PD_SECCOMP_MAX_LIST, &arr, err)) < 0)
		return ret;
	if (arr != NULL && (ret = parse_string_list(arr, path, &f->caps, err)) < 0)
		return ret;

	snprintf(path, sizeof(path), "%s.%s.arches", rpath, key);
	if ((ret = get_bounded_array(obj, "arches", path, PD_SECCOMP_MAX_LIST, &arr, err)) < 0)
		return ret;
	if (arr != NULL && (ret = parse_string_list(arr, path, &f->arches, err)) < 0)
		return ret;
	for (size_t i = 0; i < f->arches.n && warnings != NULL; i++)
		if (!arch_alias_known(f->arches.v[i]))
			pd_strv_pushf(warnings, "unknown architecture \"%s\" in `%s`",
				      f->arches.v[i], path);

	snprintf(path, sizeof(path), "%s.%s.minKernel", rpath, key);
	if ((ret = get_string(obj, "minKernel", path, &mk, err)) < 0)
		return ret;
	if (mk != NULL && *mk != '\0') {
		char tail;

		if (sscanf(mk, "%d.%d%c", &f->min_major, &f->min_minor, &tail) != 2 ||
		    f->min_major < 0 || f->min_minor < 0)
			return pd_make_plain_error(
				err, EINVAL,
				"`%s` must be a kernel version \"MAJOR.MINOR\", not \"%s\"", path,
				mk);
		f->has_min_kernel = true;
	}
	return 0;
}

static int
cmp_cond_arg(const void *a, const void *b)
{
	unsigned x = ((const struct scmp_arg_cmp *)a)->arg,
		 y = ((const struct scmp_arg_cmp *)b)->arg;

	return (x > y) - (x < y);
}

static int
parse_args(const cJSON *args, const char *rpath, struct sc_rule *r, pd_error_t *err)
{
	unsigned seen = 0;
	const cJSON *it;
	size_t i = 0;

	if (cJSON_GetArraySize(args) > (int)ARRAY_SIZE(r->conds))
		return pd_make_plain_error(err, E2BIG, "`%s.args` has more than %zu conditions",
					   rpath, ARRAY_SIZE(r->conds));
	cJSON_ArrayForEach (it, args) {
		struct scmp_arg_cmp *c = &r->conds[r->nconds];
		const char *opname;
		char path[160];
		uint64_t idx, a = 0, b = 0;
		bool found = false;
		int ret;

		snprintf(path, sizeof(path), "%s.args[%zu]", rpath, i++);
		if (!cJSON_IsObject(it))
			return type_error(err, path, "an object");
		snprintf(path, sizeof(path), "%s.args[%zu].index", rpath, i - 1);
		ret = get_uint(cJSON_GetObjectItemCaseSensitive(it, "index"), path, MAX_ARGS - 1,
			       &idx, err);
		if (ret < 0)
			return ret;
		snprintf(path, sizeof(path), "%s.args[%zu].value", rpath, i - 1);
		ret = get_uint(cJSON_GetObjectItemCaseSensitive(it, "value"), path, UINT64_MAX, &a,
			       err);
		if (ret < 0)
			return ret;
		if (cJSON_GetObjectItemCaseSensitive(it, "valueTwo") != NULL) {
			snprintf(path, sizeof(path), "%s.args[%zu].valueTwo", rpath, i - 1);
			ret = get_uint(cJSON_GetObjectItemCaseSensitive(it, "valueTwo"), path,
				       UINT64_MAX, &b, err);
			if (ret < 0)
				return ret;
		}
		snprintf(path, sizeof(path), "%s.args[%zu].op", rpath, i - 1);
		if ((ret = get_string(it, "op", path, &opname, err)) < 0)
			return ret;
		if (opname == NULL)
			return pd_make_plain_error(err, EINVAL, "`%s` is missing", path);
		for (size_t k = 0; k < ARRAY_SIZE(operators); k++) {
			if (strcmp(opname, operators[k].name) == 0) {
				c->op = operators[k].op;
				found = true;
			}
		}
		if (!found)
			return pd_make_plain_error(err, EINVAL, "unknown operator \"%s\" at `%s`",
						   opname, path);
		c->arg = (unsigned)idx;
		c->datum_a = a;
		/* libseccomp reads valueTwo only as MASKED_EQ's datum: zeroed
		 * otherwise, so that equal conditions compare equal. */
		c->datum_b = c->op == SCMP_CMP_MASKED_EQ ? b : 0;
		if (seen & (1u << idx))
			r->dup_index = true;
		seen |= 1u << idx;
		r->nconds++;
	}
	/* One condition per argument: their order does not matter to
	 * libseccomp, so sort them and equal rules compare equal. */
	if (!r->dup_index)
		qsort(r->conds, r->nconds, sizeof(r->conds[0]), cmp_cond_arg);
	return 0;
}

static int
parse_rule(const cJSON *it, size_t i, struct sc_rule *r, struct pd_strv *warnings, pd_error_t *err)
{
	const cJSON *names, *args;
	const char *name, *action;
	char rpath[64], path[96], apath[96];
	int ret;

	r->json_index = i;
	snprintf(rpath, sizeof(rpath), "syscalls[%zu]", i);
	if (!cJSON_IsObject(it))
		return type_error(err, rpath, "an object");

	snprintf(path, sizeof(path), "%s.names", rpath);
	if ((ret = get_bounded_array(it, "names", path, PD_SECCOMP_MAX_NAMES, &names, err)) < 0)
		return ret;
	if (names != NULL && (ret = parse_string_list(names, path, &r->names, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s.name", rpath);
	if ((ret = get_string(it, "name", path, &name, err)) < 0)
		return ret;
	if (name != NULL && *name != '\0') {
		if (r->names.n > 0)
			return pd_make_plain_error(
				err, EINVAL,
				"`%s` has both \"name\" and \"names\"; use one of them", rpath);
		pd_strv_push(&r->names, pd_xstrdup(name));
	}
	if (r->names.n == 0 && warnings != NULL)
		pd_strv_pushf(warnings, "`%s` names no syscall and has no effect", rpath);
	/* Resolved once here: the compile needs numbers, twice per profile. */
	r->nrs = pd_xcalloc(r->names.n + 1, sizeof(*r->nrs));
	for (size_t k = 0; k < r->names.n; k++)
		r->nrs[k] = seccomp_syscall_resolve_name(r->names.v[k]);

	snprintf(path, sizeof(path), "%s.action", rpath);
	if ((ret = get_string(it, "action", path, &action, err)) < 0)
		return ret;
	if (action == NULL)
		return pd_make_plain_error(err, EINVAL, "`%s` is missing", path);
	snprintf(path, sizeof(path), "%s.errnoRet", rpath);
	snprintf(apath, sizeof(apath), "%s.action", rpath);
	ret = parse_action(action, apath, cJSON_GetObjectItemCaseSensitive(it, "errnoRet"), path,
			   &r->action, NULL, warnings, err);
	if (ret < 0)
		return ret;

	snprintf(path, sizeof(path), "%s.args", rpath);
	if ((ret = get_array(it, "args", path, &args, err)) < 0)
		return ret;
	if (args != NULL && (ret = parse_args(args, rpath, r, err)) < 0)
		return ret;
	if ((ret = parse_filter(it, "includes", rpath, &r->inc, warnings, err)) < 0)
		return ret;
	return parse_filter(it, "excludes", rpath, &r->exc, warnings, err);
}

static int
parse_archmap(const cJSON *arr, struct pd_seccomp *p, struct pd_strv *warnings, pd_error_t *err)
{
	const cJSON *it;
	size_t i = 0;

	p->archmap = pd_xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*p->archmap));
	cJSON_ArrayForEach (it, arr) {
		/* Counted at once, so that pd_seccomp_free() sees it on failure. */
		struct sc_archmap *m = &p->archmap[p->narchmap++];
		const cJSON *subs;
		const char *a;
		char path[64];
		int ret;

		snprintf(path, sizeof(path), "archMap[%zu]", i);
		if (!cJSON_IsObject(it))
			return type_error(err, path, "an object");
		snprintf(path, sizeof(path), "archMap[%zu].architecture", i);
		if ((ret = get_string(it, "architecture", path, &a, err)) < 0)
			return ret;
		if (a == NULL)
			return pd_make_plain_error(err, EINVAL, "`%s` is missing", path);
		ret = parse_arch(a, path, &m->arch, err);
		if (ret < 0)
			return ret;
		snprintf(path, sizeof(path), "archMap[%zu].subArchitectures", i++);
		ret = get_bounded_array(it, "subArchitectures", path, PD_SECCOMP_MAX_LIST, &subs,
					err);
		if (ret < 0)
			return ret;
		if (subs != NULL &&
		    (ret = parse_arch_list(subs, path, &m->subs, &m->nsubs, NULL, err)) < 0)
			return ret;
		if (m->arch == 0) {
			/* Not an architecture this libseccomp can build for, so
			 * not the node's: the entry can never apply here. */
			free(m->subs);
			memset(m, 0, sizeof(*m));
			p->narchmap--;
		}
	}
	(void)warnings;
	return 0;
}

static int
parse_flags(const cJSON *arr, struct pd_seccomp *p, pd_error_t *err)
{
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach (it, arr) {
		bool known = false;

		if (!cJSON_IsString(it)) {
			char path[32];

			snprintf(path, sizeof(path), "flags[%zu]", i);
			return type_error(err, path, "a string");
		}
		for (size_t k = 0; k < ARRAY_SIZE(known_flags); k++)
			known = known || strcmp(it->valuestring, known_flags[k]) == 0;
		if (!known)
			return pd_make_plain_error(err, EINVAL,
						   "unknown flag \"%s\" at `flags[%zu]`",
						   it->valuestring, i);
		p->flag_log |= strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_LOG") == 0;
		p->flag_ssb |= strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0;
		p->flag_tsync |= strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_TSYNC") == 0;
		i++;
	}
	return 0;
}

static int
parse_top(const cJSON *root, struct pd_seccomp *p, struct pd_strv *warnings, pd_error_t *err)
{
	const cJSON *arr, *archmap, *it;
	const char *s;
	size_t i = 0, total_names = 0;
	int ret;

	if (!cJSON_IsObject(root))
		return pd_make_plain_error(err, EINVAL, "the profile must be a JSON object");
	if ((ret = get_string(root, "defaultAction", "defaultAction", &s, err)) < 0)
		return ret;
	if (s == NULL)
		return pd_make_plain_error(err, EINVAL, "`defaultAction` is missing");
	ret = parse_action(s, "defaultAction",
			   cJSON_GetObjectItemCaseSensitive(root, "defaultErrnoRet"),
			   "defaultErrnoRet", &p->def_action, &p->def_action_name, warnings, err);
	if (ret < 0)
		return ret;
	if (p->def_action == SCMP_ACT_NOTIFY)
		return pd_make_plain_error(
			err, EINVAL,
			"`defaultAction` cannot be SCMP_ACT_NOTIFY (the kernel refuses it)");

	ret = get_bounded_array(root, "architectures", "architectures", PD_SECCOMP_MAX_LIST, &arr,
				err);
	if (ret < 0)
		return ret;
	ret = get_bounded_array(root, "archMap", "archMap", PD_SECCOMP_MAX_LIST, &archmap, err);
	if (ret < 0)
		return ret;
	if (cJSON_GetArraySize(arr) > 0 && cJSON_GetArraySize(archmap) > 0)
		return pd_make_plain_error(
			err, EINVAL,
			"both `architectures` and `archMap` are given; use one of them");
	if (arr != NULL && (ret = parse_arch_list(arr, "architectures", &p->arches, &p->narches,
						  warnings, err)) < 0)
		return ret;
	if (archmap != NULL && (ret = parse_archmap(archmap, p, warnings, err)) < 0)
		return ret;

	if ((ret = get_array(root, "flags", "flags", &arr, err)) < 0)
		return ret;
	if (arr != NULL && (ret = parse_flags(arr, p, err)) < 0)
		return ret;
	if ((ret = get_string(root, "listenerPath", "listenerPath", &s, err)) < 0)
		return ret;
	if (s != NULL && *s != '\0') {
		if (s[0] != '/')
			return pd_make_plain_error(err, EINVAL,
						   "`listenerPath` must be an absolute path");
		p->listener_path = pd_xstrdup(s);
	}
	if ((ret = get_string(root, "listenerMetadata", "listenerMetadata", &s, err)) < 0)
		return ret;

	ret = get_bounded_array(root, "syscalls", "syscalls", PD_SECCOMP_MAX_RULES, &arr, err);
	if (ret < 0)
		return ret;
	if (arr == NULL)
		return 0;
	p->rules = pd_xcalloc((size_t)cJSON_GetArraySize(arr), sizeof(*p->rules));
	cJSON_ArrayForEach (it, arr) {
		ret = parse_rule(it, i++, &p->rules[p->nrules], warnings, err);
		p->nrules++; /* counted even on failure so that free() sees it */
		if (ret < 0)
			return ret;
		total_names += p->rules[p->nrules - 1].names.n;
		if (total_names > PD_SECCOMP_MAX_TOTAL_NAMES)
			return pd_make_plain_error(
				err, E2BIG,
				"`syscalls[%zu].names`: the profile names more than %d syscalls in all",
				i - 1, PD_SECCOMP_MAX_TOTAL_NAMES);
		p->uses_notify |= p->rules[p->nrules - 1].action == SCMP_ACT_NOTIFY;
	}
	if (p->uses_notify && p->listener_path == NULL)
		return pd_make_plain_error(err, EINVAL,
					   "SCMP_ACT_NOTIFY is used but `listenerPath` is not set");
	return 0;
}

int
pd_seccomp_parse(const char *buf, size_t len, struct pd_seccomp **out, struct pd_strv *warnings,
		 pd_error_t *err)
{
	_cleanup_seccomp_ struct pd_seccomp *p = NULL;
	_cleanup_cjson_ cJSON *root = NULL;
	_cleanup_free_ char *copy = NULL;
	const char *end = NULL;
	size_t bad, line, col;
	int ret;

	if (len > PD_SECCOMP_MAX_BYTES)
		return pd_make_plain_error(err, EFBIG, "profile is %zu bytes, over the limit of %d",
					   len, PD_SECCOMP_MAX_BYTES);
	if (memchr(buf, '\0', len) != NULL) {
		offset_to_line_col(buf, (size_t)((const char *)memchr(buf, '\0', len) - buf), &line,
				   &col);
		return pd_make_plain_error(err, EINVAL, "line %zu, column %zu: NUL byte in JSON",
					   line, col);
	}
	if (!pd_utf8_valid(buf, len, &bad)) {
		offset_to_line_col(buf, bad, &line, &col);
		return pd_make_plain_error(err, EILSEQ, "line %zu, column %zu: invalid UTF-8", line,
					   col);
	}
	/* cJSON sees a NUL-terminated copy of buf[0..len) (never buf[len]),
	 * so that trailing garbage is an error and an unfinished document is
	 * reported at its end. */
	copy = pd_xstrndup(buf, len);
	root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	if (end != NULL)
		end = buf + (end - copy);
	if (root == NULL) {
		size_t off = end != NULL && end >= buf ? (size_t)(end - buf) : 0;

		off = json_error_offset(buf, off > len ? len : off);
		offset_to_line_col(buf, off > len ? len : off, &line, &col);
		return pd_make_plain_error(err, EINVAL, "line %zu, column %zu: invalid JSON", line,
					   col);
	}
	p = pd_xcalloc(1, sizeof(*p));
	ret = parse_top(root, p, warnings, err);
	if (ret < 0)
		return ret;
	*out = steal_pointer(&p);
	return 0;
}

/* ---- compiling -------------------------------------------------------- */

static void
cleanup_scmp_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}
#define _cleanup_scmp_ __attribute__((cleanup(cleanup_scmp_ctx)))

static bool
arch_matches(uint32_t native, const struct pd_strv *names)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++) {
		if (arch_aliases[i].arch != native)
			continue;
		for (size_t j = 0; j < 2; j++)
			if (arch_aliases[i].alias[j] != NULL &&
			    pd_strv_contains(names, arch_aliases[i].alias[j]))
				return true;
	}
	return false;
}

static bool
kernel_before(const struct pd_seccomp_env *env, int major, int minor)
{
	return env->kernel_major < major ||
	       (env->kernel_major == major && env->kernel_minor < minor);
}

/* moby's rule selection; `all_caps` says whether the container holds every
 * capability (true) or none (false): a Localhost profile must compile for
 * either, since the pod decides. */
static bool
rule_applies(const struct sc_rule *r, const struct pd_seccomp_env *env, bool all_caps)
{
	if (r->exc.arches.n > 0 && arch_matches(env->native_arch, &r->exc.arches))
		return false;
	if (r->exc.caps.n > 0 && all_caps)
		return false;
	if (r->exc.has_min_kernel && !kernel_before(env, r->exc.min_major, r->exc.min_minor))
		return false;
	if (r->inc.has_min_kernel && kernel_before(env, r->inc.min_major, r->inc.min_minor))
		return false;
	if (r->inc.arches.n > 0 && !arch_matches(env->native_arch, &r->inc.arches))
		return false;
	if (r->inc.caps.n > 0 && !all_caps)
		return false;
	return true;
}

/* Adds the filter's architectures besides the native one; returns how many
 * the filter then holds (the native one included). */
static int
add_arches(scmp_filter_ctx ctx, const struct pd_seccomp *p, const struct pd_seccomp_env *env,
	   pd_error_t *err)
{
	const uint32_t *list = p->arches;
	size_t n = p->narches;
	int ret, count = 1;

	for (size_t i = 0; i < p->narchmap; i++) {
		if (p->archmap[i].arch == env->native_arch) {
			list = p->archmap[i].subs;
			n = p->archmap[i].nsubs;
		}
	}
	for (size_t i = 0; i < n; i++) {
		ret = seccomp_arch_add(ctx, list[i]);
		if (ret < 0 && ret != -EEXIST)
			return pd_make_error(err, -ret, "add architecture token 0x%x", list[i]);
		count += ret == 0;
	}
	return count;
}

/* One rule as libseccomp gets it: a syscall, an action, conditions ANDed. */
struct sc_add {
	int nr;
	uint32_t action;
	unsigned nconds;
	const struct scmp_arg_cmp *conds;
	const struct sc_rule *rule;
	size_t name;  /* index in rule->names */
	size_t order; /* position in the profile */
	bool dup;     /* the same as an earlier one: not added again */
};

struct sc_adds {
	struct sc_add *v;
	size_t n, cap;
};

static void
adds_clear(struct sc_adds *a)
{
	free(a->v);
}
#define _cleanup_adds_ __attribute__((cleanup(adds_clear)))

static void
adds_push(struct sc_adds *a, const struct sc_rule *r, size_t name, const struct scmp_arg_cmp *conds,
	  unsigned nconds)
{
	pd_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n] = (struct sc_add){ .nr = r->nrs[name],
				      .action = r->action,
				      .nconds = nconds,
				      .conds = conds,
				      .rule = r,
				      .name = name,
				      .order = a->n };
	a->n++;
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/* Orders by syscall, then conditions: rules matching the same calls
 * compare equal. */
static int
cmp_match(const struct sc_add *a, const struct sc_add *b)
{
	int c = cmp_u64((uint64_t)(int64_t)a->nr, (uint64_t)(int64_t)b->nr);

	if (c == 0)
		c = cmp_u64(a->nconds, b->nconds);
	for (unsigned i = 0; c == 0 && i < a->nconds; i++) {
		c = cmp_u64(a->conds[i].arg, b->conds[i].arg);
		if (c == 0)
			c = cmp_u64(a->conds[i].op, b->conds[i].op);
		if (c == 0)
			c = cmp_u64(a->conds[i].datum_a, b->conds[i].datum_a);
		if (c == 0)
			c = cmp_u64(a->conds[i].datum_b, b->conds[i].datum_b);
	}
	return c;
}

/* cmp_match, then profile order: the earliest of equal rules first. */
static int
cmp_add(const void *pa, const void *pb)
{
	const struct sc_add *a = *(const struct sc_add *const *)pa;
	const struct sc_add *b = *(const struct sc_add *const *)pb;
	int c = cmp_match(a, b);

	return c != 0 ? c : cmp_u64(a->order, b->order);
}

/* What a variant hands to libseccomp: every (syscall, conditions) of the
 * rules that apply, each once.  Conditions on the same argument cannot be
 * ANDed by libseccomp: runtimes add one rule per condition, and so does
 * this.  Two rules that match the same calls with different actions are
 * an error: libseccomp refuses the second (EEXIST), and runc with it. */
static int
collect_adds(const struct pd_seccomp *p, const struct pd_seccomp_env *env, bool all_caps,
	     struct sc_adds *a, size_t *unique, pd_error_t *err)
{
	_cleanup_free_ struct sc_add **sorted = NULL;
	const struct sc_add *first = NULL;
	size_t u = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];

		/* libseccomp refuses a rule equal to the default; runtimes drop it. */
		if (r->action == p->def_action || !rule_applies(r, env, all_caps))
			continue;
		for (size_t j = 0; j < r->names.n; j++) {
			if (r->nrs[j] == __NR_SCMP_ERROR)
				continue; /* warned about by unknown_names() */
			if (!r->dup_index)
				adds_push(a, r, j, r->conds, (unsigned)r->nconds);
			for (size_t k = 0; r->dup_index && k < r->nconds; k++)
				adds_push(a, r, j, &r->conds[k], 1);
		}
	}
	sorted = pd_xcalloc(a->n + 1, sizeof(*sorted));
	for (size_t i = 0; i < a->n; i++)
		sorted[i] = &a->v[i];
	qsort(sorted, a->n, sizeof(*sorted), cmp_add);
	for (size_t i = 0; i < a->n; i++) {
		struct sc_add *cur = sorted[i];

		if (first == NULL || cmp_match(first, cur) != 0) {
			first = cur; /* the earliest of its group: the one added */
			u++;
			continue;
		}
		cur->dup = true;
		/* Without conditions libseccomp keeps the first action and
		 * ignores the next; with conditions it refuses them. */
		if (cur->action != first->action && cur->nconds > 0)
			return pd_make_plain_error(
				err, EEXIST,
				"`syscalls[%zu]`: syscall \"%s\" has the same arguments as in `syscalls[%zu]` but another action; libseccomp refuses that, and so does runc",
				cur->rule->json_index, cur->rule->names.v[cur->name],
				first->rule->json_index);
	}
	*unique = u;
	return 0;
}

static int
add_rule(scmp_filter_ctx ctx, const struct sc_add *add, pd_error_t *err)
{
	const struct sc_rule *r = add->rule;
	int ret;

	ret = seccomp_rule_add_array(ctx, add->action, add->nr, add->nconds, add->conds);
	if (ret == -EEXIST)
		return pd_make_plain_error(
			err, EEXIST,
			"`syscalls[%zu]`: syscall \"%s\" overlaps an earlier rule of the same syscall with another action; libseccomp refuses that, and so does runc",
			r->json_index, r->names.v[add->name]);
	if (ret < 0)
		return pd_make_error(err, -ret, "`syscalls[%zu]`: syscall \"%s\"", r->json_index,
				     r->names.v[add->name]);
	return 0;
}

/* "x86_64, x86, x32": the architectures of ctx, the native one first. */
static void
arch_names(scmp_filter_ctx ctx, const struct pd_seccomp_env *env, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ARRAY_SIZE(format_arches); i++) {
			uint32_t tok = seccomp_arch_resolve_name(format_arches[i]);

			if (tok == 0 || (tok == env->native_arch) != (pass == 0) ||
			    seccomp_arch_exist(ctx, tok) != 0)
				continue;
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
						 used > 0 ? ", " : "", format_arches[i]);
			if (used >= size)
				return;
		}
	}
}

/* The kernel architecture (AUDIT_ARCH_*) runc groups a libseccomp one
 * under: x86_64 and x32 share one. */
static uint32_t
audit_group(uint32_t arch)
{
	return arch == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : arch;
}

/* Whether a rule of the variant names a syscall above 0 on arch: runc
 * leaves an architecture out of its stub otherwise. */
static bool
has_syscall_on(const struct pd_seccomp *p, const struct pd_seccomp_env *env, bool all_caps,
	       uint32_t arch)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];

		for (size_t j = 0; j < r->names.n && rule_applies(r, env, all_caps); j++)
			if (seccomp_syscall_resolve_name_arch(arch, r->names.v[j]) > 0)
				return true;
	}
	return false;
}

/*
 * runc (1.1) loads its own -ENOSYS stub in front of the filter libseccomp
 * generates, unless the default action is ALLOW, LOG or TRACE or
 * defaultErrnoRet is ENOSYS; the kernel's limit applies to the sum.  Its
 * length (runc's patchbpf/enosys_linux.go, generateEnosysStub): 4, plus for
 * each kernel architecture (AUDIT_ARCH_*) among the ones the engine hands
 * runc (`architectures`, or the node's archMap entry and its
 * sub-architectures) that has a syscall of the profile: its jump, a load
 * and a range check with its jumps, 4 in all; 5 for x86_64 or x32 alone,
 * 6 for both, 6 for s390 and s390x.
 */
static size_t
runc_stub_len(const struct pd_seccomp *p, const struct pd_seccomp_env *env, bool all_caps)
{
	uint32_t list[PD_SECCOMP_MAX_LIST + 1], groups[PD_SECCOMP_MAX_LIST + 1];
	unsigned members[PD_SECCOMP_MAX_LIST + 1];
	size_t n = 0, ngroups = 0, len = 4;
	uint32_t base = p->def_action & 0xffff0000u; /* SECCOMP_RET_ACTION_FULL */

	if (base == SCMP_ACT_ALLOW || base == SCMP_ACT_LOG || base == SCMP_ACT_TRACE(0) ||
	    p->def_action == SCMP_ACT_ERRNO(ENOSYS))
		return 0;
	for (size_t i = 0; i < p->narches; i++)
		list[n++] = p->arches[i];
	for (size_t i = 0; i < p->narchmap; i++) {
		if (p->archmap[i].arch != env->native_arch)
			continue;
		n = 0;
		list[n++] = env->native_arch;
		for (size_t j = 0; j < p->archmap[i].nsubs; j++)
			list[n++] = p->archmap[i].subs[j];
	}
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;

		if (!has_syscall_on(p, env, all_caps, list[i]))
			continue;
		while (g < ngroups && groups[g] != audit_group(list[i]))
			g++;
		if (g == ngroups) {
			groups[ngroups] = audit_group(list[i]);
			members[ngroups++] = 0;
		}
		members[g] |= 1u << (list[i] == SCMP_ARCH_X32);
	}
	for (size_t g = 0; g < ngroups; g++) {
		len += 4;
		if (groups[g] == SCMP_ARCH_X86_64)
			len += members[g] == 3 ? 2 : 1;
		else if (groups[g] == SCMP_ARCH_S390 || groups[g] == SCMP_ARCH_S390X)
			len += 2;
	}
	return len;
}

/* Generating the BPF is what proves the filter is complete; its length,
 * with what runc adds, is what the kernel checks (BPF_MAXINSNS) when the
 * runtime loads it. */
static int
export_and_count(scmp_filter_ctx ctx, const struct pd_seccomp_env *env, size_t stub,
		 pd_error_t *err)
{
	_cleanup_close_ int fd = memfd_create("profiled-bpf", MFD_CLOEXEC);
	char arches[256], with[64] = "";
	off_t size;
	int ret;

	if (fd < 0)
		return pd_make_error(err, errno, "memfd_create");
	ret = seccomp_export_bpf(ctx, fd);
	if (ret < 0)
		return pd_make_error(err, -ret, "libseccomp could not generate the filter");
	size = lseek(fd, 0, SEEK_CUR);
	if (size < 0)
		return pd_make_error(err, errno, "lseek");
	if ((size_t)size / 8 + stub > PD_SECCOMP_MAX_INSNS) {
		arch_names(ctx, env, arches, sizeof(arches));
		if (stub > 0)
			snprintf(with, sizeof(with), " with the %zu runc adds", stub);
		return pd_make_plain_error(
			err, E2BIG,
			"the filter is %zu BPF instructions%s, the kernel's limit is %d (%s)",
			(size_t)size / 8 + stub, with, PD_SECCOMP_MAX_INSNS, arches);
	}
	return 0;
}

/* Test builds only. valgrind 3.19 (make valgrind) does not pass seccomp(2)
 * through, so libseccomp's probe would find API level 1. qemu-user 7.2
 * (make test-arm64) neither passes it through nor lets PR_GET_SECCOMP
 * report the kernel's mode: the level is that of the kernel underneath
 * (6: Linux 5.19 or later, as the test hosts run). Production builds never
 * compile this. */
static void
emulator_api_level(void)
{
#if defined(PD_QEMU_USER_BUILD)
	if (seccomp_api_get() < 6)
		seccomp_api_set(6);
#elif defined(PD_VALGRIND_BUILD)
	if (seccomp_api_get() < 3)
		seccomp_api_set(3);
#endif
}

static int
compile_variant(const struct pd_seccomp *p, const struct pd_seccomp_env *env, bool all_caps,
		pd_error_t *err)
{
	_cleanup_scmp_ scmp_filter_ctx ctx = NULL;
	_cleanup_adds_ struct sc_adds adds = { 0 };
	size_t unique = 0, added = 0;
	int ret, narches;

	emulator_api_level();
	ctx = seccomp_init(p->def_action);
	if (ctx == NULL)
		return pd_make_plain_error(err, EINVAL, "libseccomp refused default action %s",
					   p->def_action_name);
	if ((narches = add_arches(ctx, p, env, err)) < 0)
		return narches;
	if (p->flag_log && (ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0)
		return pd_make_error(err, -ret, "flag SECCOMP_FILTER_FLAG_LOG");
	if (p->flag_ssb && (ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0)
		return pd_make_error(err, -ret, "flag SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	if (p->flag_tsync && (ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		return pd_make_error(err, -ret, "flag SECCOMP_FILTER_FLAG_TSYNC");

	if ((ret = collect_adds(p, env, all_caps, &adds, &unique, err)) < 0)
		return ret;
	/* libseccomp's work grows with the square of the rules it holds, per
	 * architecture: bounded before it starts. */
	if (unique * (size_t)narches > PD_SECCOMP_MAX_FILTER_RULES)
		return pd_make_plain_error(
			err, E2BIG,
			"`syscalls`: the filter needs %zu rules for each of %d architectures (duplicates merged), over the limit of %d in all",
			unique, narches, PD_SECCOMP_MAX_FILTER_RULES);
	for (size_t i = 0; i < adds.n; i++) {
		if (adds.v[i].dup)
			continue;
		if (++added % 64 == 0 && pd_cancel_requested(env->cancel))
			return pd_make_plain_error(err, ECANCELED, "stopped: shutting down");
		if ((ret = add_rule(ctx, &adds.v[i], err)) < 0)
			return ret;
	}
	if (pd_cancel_requested(env->cancel))
		return pd_make_plain_error(err, ECANCELED, "stopped: shutting down");
	return export_and_count(ctx, env, runc_stub_len(p, env, all_caps), err);
}

/* Every rule, whichever variant or capability it applies to and even when
 * it repeats the default action: a misspelled name is worth a warning. */
static void
unknown_names(const struct pd_seccomp *p, struct pd_strv *warnings)
{
	for (size_t i = 0; i < p->nrules && warnings != NULL; i++) {
		const struct sc_rule *r = &p->rules[i];

		for (size_t j = 0; j < r->names.n; j++)
			if (r->nrs[j] == __NR_SCMP_ERROR)
				pd_strv_pushf(
					warnings,
					"unknown syscall \"%s\" at `syscalls[%zu]`, skipped as container runtimes do",
					r->names.v[j], r->json_index);
	}
}

bool
pd_seccomp_rule_applies(const struct pd_seccomp *p, size_t i, const struct pd_seccomp_env *env,
			bool all_caps)
{
	return i < p->nrules && rule_applies(&p->rules[i], env, all_caps);
}

/* Keeps the first PD_SECCOMP_MAX_WARNINGS findings added since n0 and says
 * how many more there were: a profile cannot flood the log. */
static void
cap_warnings(struct pd_strv *warnings, size_t n0)
{
	size_t more;

	if (warnings == NULL || warnings->n - n0 <= PD_SECCOMP_MAX_WARNINGS)
		return;
	more = warnings->n - n0 - PD_SECCOMP_MAX_WARNINGS;
	while (warnings->n > n0 + PD_SECCOMP_MAX_WARNINGS)
		free(warnings->v[--warnings->n]);
	warnings->v[warnings->n] = NULL;
	pd_strv_pushf(warnings, "%zu more findings not listed", more);
}

int
pd_seccomp_compile(const struct pd_seccomp *p, const struct pd_seccomp_env *env,
		   struct pd_strv *warnings, pd_error_t *err)
{
	int ret;

	unknown_names(p, warnings);
	if (pd_cancel_requested(env->cancel))
		return pd_make_plain_error(err, ECANCELED, "stopped: shutting down");
	ret = compile_variant(p, env, false, err);
	if (ret < 0)
		return ret == -ECANCELED ? ret : pd_error_wrap(err, ret, "without capabilities");
	ret = compile_variant(p, env, true, err);
	if (ret < 0)
		return ret == -ECANCELED ? ret : pd_error_wrap(err, ret, "with all capabilities");
	return 0;
}

int
pd_seccomp_validate(const char *buf, size_t len, const struct pd_seccomp_env *env,
		    struct pd_strv *warnings, pd_error_t *err)
{
	_cleanup_seccomp_ struct pd_seccomp *p = NULL;
	size_t n0 = warnings != NULL ? warnings->n : 0;
	int ret = pd_seccomp_parse(buf, len, &p, warnings, err);

	if (ret < 0) {
		cap_warnings(warnings, n0);
		return ret;
	}
	ret = pd_seccomp_compile(p, env, warnings, err);
	cap_warnings(warnings, n0);
	return ret;
}

int
pd_seccomp_env_native(struct pd_seccomp_env *env, pd_error_t *err)
{
	struct utsname u;

	env->native_arch = seccomp_arch_native();
	env->cancel = NULL;
	if (uname(&u) < 0)
		return pd_make_error(err, errno, "uname");
	if (sscanf(u.release, "%d.%d", &env->kernel_major, &env->kernel_minor) != 2)
		return pd_make_plain_error(err, EINVAL, "cannot read kernel version \"%s\"",
					   u.release);
	return 0;
}

const char *
pd_seccomp_default_action(const struct pd_seccomp *p)
{
	return p->def_action_name;
}

size_t
pd_seccomp_rule_count(const struct pd_seccomp *p)
{
	return p->nrules;
}

bool
pd_seccomp_kernel_supported(void)
{
	/* PR_GET_SECCOMP fails with EINVAL on a kernel without seccomp;
	 * libseccomp's API level probes for the seccomp(2) filter mode. */
#ifdef PD_QEMU_USER_BUILD
	emulator_api_level();
	return seccomp_api_get() >= 1;
#else
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && seccomp_api_get() >= 1;
#endif
}
