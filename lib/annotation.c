/* SPDX-License-Identifier: Apache-2.0 */
#include "annotation.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aagap.h"

/* Room kept for the closing marker {"truncated":N}. */
#define TRUNCATED_MARKER_BYTES 32
/* The most a decoded {"truncated":N} may say: more than fit in any text. */
#define TRUNCATED_MAX 1000000000

static const char *const state_names[PD_ANN_N_STATES] = {
	[PD_ANN_PUBLISHED] = "published",
	[PD_ANN_LOADED] = "loaded",
	[PD_ANN_UNCONFIRMED] = "unconfirmed",
	[PD_ANN_RETIRED] = "retired",
};

const char *
pd_annotation_state_name(enum pd_annotation_state s)
{
	return (unsigned)s < PD_ANN_N_STATES ? state_names[s] : "unknown";
}

struct pd_annotation_entry *
pd_annotation_add(struct pd_annotation *a, enum pd_kind kind, const char *name, const char *file,
		  const char *sha256, enum pd_annotation_state state)
{
	struct pd_annotation_entry *e;

	pd_grow(&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	e = &a->v[a->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->name = pd_xstrdup(name);
	e->file = file != NULL ? pd_xstrdup(file) : NULL;
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	e->state = state;
	return e;
}

void
pd_annotation_clear(struct pd_annotation *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].file);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static const char *
sort_key(const struct pd_annotation_entry *e)
{
	return e->kind == PD_KIND_SECCOMP && e->file != NULL ? e->file : e->name;
}

static int
cmp_entries(const void *x, const void *y)
{
	const struct pd_annotation_entry *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind == PD_KIND_APPARMOR ? -1 : 1;
	return strcmp(sort_key(a), sort_key(b));
}

void
pd_annotation_sort(struct pd_annotation *a)
{
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), cmp_entries);
}

/* ---- encoding ---------------------------------------------------------------- */

/* The rule classes the kernel does not enforce ("unenforced") or enforces
 * only as a coarser rule ("downgraded"), as arrays; absent when none. */
static void
add_gaps(cJSON *o, const struct pd_annotation_entry *e)
{
	const struct {
		const char *key;
		unsigned mask;
	} lists[] = {
		{ "unenforced", e->unenforced },
		{ "downgraded", e->downgraded },
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		cJSON *arr;

		if (lists[i].mask == 0)
			continue;
		if ((arr = cJSON_AddArrayToObject(o, lists[i].key)) == NULL)
			pd_oom();
		for (int c = 0; c < PD_AA_RULE_N_CLASSES; c++) {
			cJSON *v;

			if (!(lists[i].mask & (1u << c)))
				continue;
			if ((v = cJSON_CreateString(pd_aa_rule_class_name(c))) == NULL)
				pd_oom();
			cJSON_AddItemToArray(arr, v);
		}
	}
}

/* One entry's object, its keys in the order the annotation always had. */
static char *
entry_text(const struct pd_annotation_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (o == NULL)
		pd_oom();
	cJSON_AddStringToObject(o, "kind", e->kind == PD_KIND_SECCOMP ? "seccomp" : "apparmor");
	cJSON_AddStringToObject(o, "name", e->name);
	if (e->file != NULL)
		cJSON_AddStringToObject(o, "file", e->file);
	else
		cJSON_AddNullToObject(o, "file");
	add_gaps(o, e);
	cJSON_AddStringToObject(o, "sha256", e->sha256);
	cJSON_AddStringToObject(o, "state", pd_annotation_state_name(e->state));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		pd_oom();
	return text;
}

char *
pd_annotation_encode(const struct pd_annotation *a, size_t max, size_t *omitted)
{
	size_t len = 1, cap = 256, i;
	char *out = pd_xmalloc(cap);

	out[0] = '[';
	for (i = 0; i < a->n; i++) {
		_cleanup_free_ char *text = entry_text(&a->v[i]);
		size_t n = strlen(text);
		bool marker = i + 1 < a->n || a->truncated > 0;

		/* The last entry need not leave room for the marker. */
		if (len + 1 + n + 1 + (marker ? TRUNCATED_MARKER_BYTES : 0) > max)
			break;
		pd_grow(&out, &cap, len + n + 3, 1);
		if (i > 0)
			out[len++] = ',';
		memcpy(out + len, text, n);
		len += n;
	}
	out[len] = '\0';
	*omitted = a->n - i + a->truncated;
	if (*omitted > 0) {
		char *cut =
			pd_xasprintf("%s%s{\"truncated\":%zu}]", out, i > 0 ? "," : "", *omitted);

		free(out);
		return cut;
	}
	pd_grow(&out, &cap, len + 2, 1);
	strcpy(out + len, "]");
	return out;
}

/* ---- decoding ---------------------------------------------------------------- */

static bool
valid_sha256(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == PD_SHA256_HEX_LEN;
}

/* An array of rule class names into a mask; no name twice, none unknown. */
static int
decode_classes(const cJSON *arr, unsigned *mask, pd_error_t *err)
{
	const cJSON *it;

	*mask = 0;
	if (!cJSON_IsArray(arr))
		return pd_make_plain_error(err, EINVAL, "`%s` is not an array", arr->string);
	cJSON_ArrayForEach (it, arr) {
		int c;

		for (c = 0; c < PD_AA_RULE_N_CLASSES; c++)
			if (cJSON_IsString(it) &&
			    strcmp(it->valuestring, pd_aa_rule_class_name(c)) == 0)
				break;
		if (c == PD_AA_RULE_N_CLASSES || (*mask & (1u << c)))
			return pd_make_plain_error(err, EINVAL,
						   "`%s`: an unknown or repeated rule class",
						   arr->string);
		*mask |= 1u << c;
	}
	return 0;
}

static int
decode_enum(const cJSON *v, const char *const *names, int n, int *out)
{
	if (!cJSON_IsString(v))
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (strcmp(v->valuestring, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

/* The fields of one object; each known key at most once, no other. */
enum field {
	F_KIND,
	F_NAME,
	F_FILE,
	F_SHA256,
	F_STATE,
	F_UNENFORCED,
	F_DOWNGRADED,
	F_TRUNCATED,
	F_N
};

static const char *const field_keys[F_N] = {
	[F_KIND] = "kind",
	[F_NAME] = "name",
	[F_FILE] = "file",
	[F_SHA256] = "sha256",
	[F_STATE] = "state",
	[F_UNENFORCED] = "unenforced",
	[F_DOWNGRADED] = "downgraded",
	[F_TRUNCATED] = "truncated",
};

static int
split_fields(const cJSON *o, const cJSON *f[F_N], pd_error_t *err)
{
	const cJSON *it;

	memset(f, 0, F_N * sizeof(*f));
	if (!cJSON_IsObject(o))
		return pd_make_plain_error(err, EINVAL, "an entry is not an object");
	cJSON_ArrayForEach (it, o) {
		int k;

		for (k = 0; k < F_N; k++)
			if (strcmp(it->string, field_keys[k]) == 0)
				break;
		if (k == F_N || f[k] != NULL)
			return pd_make_plain_error(err, EINVAL, "an unknown or repeated key `%s`",
						   it->string);
		f[k] = it;
	}
	return 0;
}

/* The closing {"truncated":N}: N a count from 1 up. */
static int
decode_marker(const cJSON *f[F_N], size_t *out, pd_error_t *err)
{
	double n = f[F_TRUNCATED]->valuedouble;
	bool alone = true;

	for (int k = 0; k < F_TRUNCATED; k++)
		alone = alone && f[k] == NULL;
	if (!alone || !cJSON_IsNumber(f[F_TRUNCATED]) || !(n >= 1 && n <= TRUNCATED_MAX) ||
	    n != (double)(size_t)n)
		return pd_make_plain_error(err, EINVAL, "a bad {\"truncated\":N} marker");
	*out = (size_t)n;
	return 0;
}

static int
decode_entry(const cJSON *f[F_N], struct pd_annotation *a, pd_error_t *err)
{
	static const char *const kinds[] = {
		[PD_KIND_SECCOMP] = "seccomp", [PD_KIND_APPARMOR] = "apparmor"
	};
	struct pd_annotation_entry *e;
	int kind, state, ret;

	if (decode_enum(f[F_KIND], kinds, 2, &kind) < 0)
		return pd_make_plain_error(err, EINVAL, "an entry without a known `kind`");
	if (decode_enum(f[F_STATE], state_names, PD_ANN_N_STATES, &state) < 0)
		return pd_make_plain_error(err, EINVAL, "an entry without a known `state`");
	if (!cJSON_IsString(f[F_NAME]) || !cJSON_IsString(f[F_SHA256]) ||
	    !valid_sha256(f[F_SHA256]->valuestring) ||
	    !(cJSON_IsString(f[F_FILE]) || cJSON_IsNull(f[F_FILE])))
		return pd_make_plain_error(err, EINVAL,
					   "an entry without a `name`, a `file` or a `sha256`");
	e = pd_annotation_add(a, kind, f[F_NAME]->valuestring,
			      cJSON_IsString(f[F_FILE]) ? f[F_FILE]->valuestring : NULL,
			      f[F_SHA256]->valuestring, state);
	if (f[F_UNENFORCED] && (ret = decode_classes(f[F_UNENFORCED], &e->unenforced, err)) < 0)
		return ret;
	if (f[F_DOWNGRADED] && (ret = decode_classes(f[F_DOWNGRADED], &e->downgraded, err)) < 0)
		return ret;
	return 0;
}

static int
decode_array(const cJSON *root, struct pd_annotation *a, pd_error_t *err)
{
	const cJSON *it;
	int ret;

	if (!cJSON_IsArray(root))
		return pd_make_plain_error(err, EINVAL, "not a JSON array");
	cJSON_ArrayForEach (it, root) {
		const cJSON *f[F_N];

		if ((ret = split_fields(it, f, err)) < 0)
			return ret;
		if (f[F_TRUNCATED] != NULL) {
			if (it->next != NULL)
				return pd_make_plain_error(err, EINVAL,
							   "{\"truncated\":N} before the end");
			return decode_marker(f, &a->truncated, err);
		}
		if ((ret = decode_entry(f, a, err)) < 0)
			return ret;
	}
	return 0;
}

int
pd_annotation_decode(const char *text, size_t len, struct pd_annotation *out, pd_error_t *err)
{
	struct pd_annotation a = { 0 };
	const char *end = NULL;
	cJSON *root;
	int ret;

	if (len > PD_ANNOTATIONS_MAX_BYTES)
		return pd_make_plain_error(err, E2BIG, "the %s annotation is over %d bytes",
					   PD_ANNOTATION_PROFILES, PD_ANNOTATIONS_MAX_BYTES);
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	while (root != NULL && end < text + len && strchr(" \t\r\n", *end) != NULL && *end != '\0')
		end++;
	if (root == NULL || end != text + len) {
		cJSON_Delete(root);
		return pd_make_plain_error(err, EINVAL, "the %s annotation is not JSON",
					   PD_ANNOTATION_PROFILES);
	}
	ret = decode_array(root, &a, err);
	cJSON_Delete(root);
	if (ret < 0) {
		pd_annotation_clear(&a);
		return pd_error_wrap(err, ret, "the %s annotation", PD_ANNOTATION_PROFILES);
	}
	*out = a;
	return 0;
}
