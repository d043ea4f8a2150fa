/* SPDX-License-Identifier: Apache-2.0 */
#include "nodepatch.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "util.h"

static int
string_map(const cJSON *obj, const char *what, struct pd_labels *out, pd_error_t *err)
{
	const cJSON *it;

	if (obj == NULL || cJSON_IsNull(obj))
		return 0;
	if (!cJSON_IsObject(obj))
		return pd_make_plain_error(err, EINVAL, "Node `metadata.%s` is not an object",
					   what);
	cJSON_ArrayForEach (it, obj) {
		if (!cJSON_IsString(it))
			return pd_make_plain_error(err, EINVAL,
						   "Node `metadata.%s.%s` is not a string", what,
						   it->string);
		pd_labels_set(out, it->string, it->valuestring);
	}
	return 0;
}

void
pd_node_meta_clear(struct pd_node_meta *m)
{
	pd_labels_clear(&m->labels);
	pd_labels_clear(&m->annotations);
	free(m->uid);
	free(m->resource_version);
	free(m->ready.status);
	free(m->ready.reason);
	free(m->ready.message);
	free(m->ready.last_transition);
	for (size_t i = 0; i < m->ntaints; i++) {
		free(m->taints[i].key);
		free(m->taints[i].value);
		free(m->taints[i].effect);
	}
	free(m->taints);
	memset(m, 0, sizeof(*m));
}

static char *
dup_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? pd_xstrdup(v->valuestring) : NULL;
}

/* status.conditions[type=ProfilesReady]; anything not shaped like a
 * condition list is taken as no condition (the server owns the schema). */
static void
parse_condition(const cJSON *root, struct pd_node_condition *out)
{
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "status"), "conditions");
	const cJSON *c;

	if (!cJSON_IsArray(conds))
		return;
	cJSON_ArrayForEach (c, conds) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");

		if (!cJSON_IsString(t) || strcmp(t->valuestring, PD_CONDITION_PROFILES_READY) != 0)
			continue;
		out->present = true;
		out->status = dup_string(c, "status");
		out->reason = dup_string(c, "reason");
		out->message = dup_string(c, "message");
		out->last_transition = dup_string(c, "lastTransitionTime");
		return;
	}
}

static int
parse_taints(const cJSON *root, struct pd_node_meta *out, pd_error_t *err)
{
	const cJSON *taints = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "spec"), "taints");
	const cJSON *t;
	size_t n = 0;

	if (taints == NULL || cJSON_IsNull(taints))
		return 0;
	if (!cJSON_IsArray(taints))
		return pd_make_plain_error(err, EINVAL, "Node `spec.taints` is not a list");
	out->taints = pd_xcalloc((size_t)cJSON_GetArraySize(taints) + 1, sizeof(*out->taints));
	cJSON_ArrayForEach (t, taints) {
		struct pd_taint *x = &out->taints[n];

		x->key = dup_string(t, "key");
		x->value = dup_string(t, "value");
		x->effect = dup_string(t, "effect");
		out->ntaints = ++n;
		if (x->key == NULL || x->effect == NULL)
			return pd_make_plain_error(
				err, EINVAL, "Node `spec.taints[%zu]` has no key or effect", n - 1);
	}
	return 0;
}

int
pd_node_meta_parse(const char *json, struct pd_node_meta *out, pd_error_t *err)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *v;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(meta)) {
		cJSON_Delete(root);
		return pd_make_plain_error(err, EPROTO, "not a Node object (no metadata)");
	}
	if ((ret = string_map(cJSON_GetObjectItemCaseSensitive(meta, "labels"), "labels",
			      &out->labels, err)) < 0 ||
	    (ret = string_map(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), "annotations",
			      &out->annotations, err)) < 0) {
		cJSON_Delete(root);
		pd_node_meta_clear(out);
		return ret;
	}
	if ((ret = parse_taints(root, out, err)) < 0) {
		cJSON_Delete(root);
		pd_node_meta_clear(out);
		return ret;
	}
	parse_condition(root, &out->ready);
	v = cJSON_GetObjectItemCaseSensitive(meta, "uid");
	out->uid = cJSON_IsString(v) ? pd_xstrdup(v->valuestring) : NULL;
	v = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	out->resource_version = cJSON_IsString(v) ? pd_xstrdup(v->valuestring) : NULL;
	cJSON_Delete(root);
	return 0;
}

static bool
listed_in(const char *csv, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = csv; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == kl && strncmp(p, key, n) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Whether key is one of the agent's under a domain it recorded using. */
static bool
owned_in_past(const struct pd_strv *past, const char *key)
{
	for (size_t i = 0; past != NULL && i < past->n; i++)
		if (pd_label_key_owned(past->v[i], key))
			return true;
	return false;
}

char *
pd_node_patch(const char *domain, const struct pd_strv *past_domains,
	      const struct pd_node_meta *cur, const struct pd_labels *want_labels,
	      const struct pd_labels *want_annotations, const char *owned_key, bool only_remove,
	      struct pd_strv *refused)
{
	const char *was_owned =
		owned_key != NULL ? pd_labels_get(&cur->annotations, owned_key) : NULL;
	cJSON *patch = cJSON_CreateObject(), *meta, *labels, *ann;
	bool any = false;
	char *text;

	if (patch == NULL || (meta = cJSON_AddObjectToObject(patch, "metadata")) == NULL ||
	    (labels = cJSON_AddObjectToObject(meta, "labels")) == NULL ||
	    (ann = cJSON_AddObjectToObject(meta, "annotations")) == NULL)
		pd_oom();
	for (size_t i = 0; i < want_labels->n && !only_remove; i++) {
		const char *v = pd_labels_get(&cur->labels, want_labels->v[i].key);

		if (v == NULL || strcmp(v, want_labels->v[i].value) != 0) {
			if (cJSON_AddStringToObject(labels, want_labels->v[i].key,
						    want_labels->v[i].value) == NULL)
				pd_oom();
			any = true;
		}
	}
	for (size_t i = 0; i < cur->labels.n; i++) {
		const char *k = cur->labels.v[i].key;
		bool listed = was_owned != NULL && listed_in(was_owned, k);
		bool ours =
			pd_label_key_owned(domain, k) || (listed && owned_in_past(past_domains, k));

		if (!ours && listed && refused != NULL)
			pd_strv_push(refused, pd_xstrdup(k));
		if (ours && pd_labels_get(want_labels, k) == NULL) {
			if (cJSON_AddNullToObject(labels, k) == NULL)
				pd_oom();
			any = true;
		}
	}
	for (size_t i = 0; want_annotations != NULL && i < want_annotations->n; i++) {
		const char *v = pd_labels_get(&cur->annotations, want_annotations->v[i].key);

		if (v == NULL || strcmp(v, want_annotations->v[i].value) != 0) {
			if (cJSON_AddStringToObject(ann, want_annotations->v[i].key,
						    want_annotations->v[i].value) == NULL)
				pd_oom();
			any = true;
		}
	}
	if (cJSON_GetArraySize(ann) == 0)
		cJSON_DeleteItemFromObject(meta, "annotations");
	if (cJSON_GetArraySize(labels) == 0)
		cJSON_DeleteItemFromObject(meta, "labels");
	text = any ? cJSON_PrintUnformatted(patch) : NULL;
	cJSON_Delete(patch);
	if (any && text == NULL)
		pd_oom();
	return text;
}

/* ---- the ProfilesReady condition --------------------------------------------- */

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* s cut to at most max bytes, never inside a UTF-8 sequence, "..." marking
 * the cut. */
static char *
bounded(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *out;

	if (n <= max)
		return pd_xstrdup(s);
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	out = pd_xmalloc(n + 4);
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

char *
pd_condition_patch(const struct pd_node_condition *cur, const char *status, const char *reason,
		   const char *message, const char *now)
{
	_cleanup_free_ char *msg = bounded(message, PD_CONDITION_MESSAGE_MAX);
	bool same_status = cur != NULL && cur->present && same(cur->status, status);
	cJSON *patch, *st, *list, *c;
	char *text;

	if (same_status && same(cur->reason, reason) && same(cur->message, msg))
		return NULL;
	if ((patch = cJSON_CreateObject()) == NULL ||
	    (st = cJSON_AddObjectToObject(patch, "status")) == NULL ||
	    (list = cJSON_AddArrayToObject(st, "conditions")) == NULL ||
	    (c = cJSON_CreateObject()) == NULL)
		pd_oom();
	cJSON_AddItemToArray(list, c);
	if (cJSON_AddStringToObject(c, "type", PD_CONDITION_PROFILES_READY) == NULL ||
	    cJSON_AddStringToObject(c, "status", status) == NULL ||
	    cJSON_AddStringToObject(c, "reason", reason) == NULL ||
	    cJSON_AddStringToObject(c, "message", msg) == NULL ||
	    cJSON_AddStringToObject(c, "lastHeartbeatTime", now) == NULL ||
	    cJSON_AddStringToObject(c, "lastTransitionTime",
				    same_status && cur->last_transition != NULL
					    ? cur->last_transition
					    : now) == NULL)
		pd_oom();
	text = cJSON_PrintUnformatted(patch);
	cJSON_Delete(patch);
	if (text == NULL)
		pd_oom();
	return text;
}

/* ---- the start-up taint ---------------------------------------------------- */

static const char *const taint_effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute" };

int
pd_taint_spec_parse(const char *spec, char **key, char **effect, pd_error_t *err)
{
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *k = pd_xstrndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
	const char *slash = strchr(k, '/');
	const char *name = slash ? slash + 1 : k;
	bool ok_effect = colon == NULL;

	*key = *effect = NULL;
	if (slash != NULL) {
		_cleanup_free_ char *prefix = pd_xstrndup(k, (size_t)(slash - k));

		if (!pd_dns_subdomain_valid(prefix))
			return pd_make_plain_error(
				err, EINVAL,
				"taint key \"%s\": the prefix must be a DNS subdomain (RFC 1123: "
				"lower-case alphanumerics, '-' and '.', at most 253 characters)",
				k);
	}
	if (!pd_label_name_valid(name))
		return pd_make_plain_error(
			err, EINVAL,
			"taint key \"%s\": the name part must be at most 63 characters of "
			"alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
			k);
	for (size_t i = 0; colon != NULL && i < sizeof(taint_effects) / sizeof(*taint_effects); i++)
		ok_effect = ok_effect || strcmp(colon + 1, taint_effects[i]) == 0;
	if (!ok_effect)
		return pd_make_plain_error(err, EINVAL,
					   "taint effect \"%s\": supported values: \"NoSchedule\", "
					   "\"PreferNoSchedule\", \"NoExecute\"",
					   colon + 1);
	*key = pd_steal(&k);
	*effect = colon ? pd_xstrdup(colon + 1) : NULL;
	return 0;
}

static void
add_op(cJSON *ops, const char *op, const char *path, const char *value)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "op", op) == NULL ||
	    cJSON_AddStringToObject(o, "path", path) == NULL ||
	    (value != NULL && cJSON_AddStringToObject(o, "value", value) == NULL))
		pd_oom();
	cJSON_AddItemToArray(ops, o);
}

char *
pd_taint_remove_patch(const struct pd_node_meta *cur, const char *key, const char *effect)
{
	cJSON *ops = cJSON_CreateArray();
	bool any = false;
	char *text;

	if (ops == NULL)
		pd_oom();
	if (cur->resource_version != NULL)
		add_op(ops, "test", "/metadata/resourceVersion", cur->resource_version);
	for (size_t i = cur->ntaints; i-- > 0;) {
		const struct pd_taint *t = &cur->taints[i];
		char path[64];

		if (strcmp(t->key, key) != 0 || (effect != NULL && strcmp(t->effect, effect) != 0))
			continue;
		snprintf(path, sizeof(path), "/spec/taints/%zu/key", i);
		add_op(ops, "test", path, t->key);
		snprintf(path, sizeof(path), "/spec/taints/%zu/effect", i);
		add_op(ops, "test", path, t->effect);
		snprintf(path, sizeof(path), "/spec/taints/%zu", i);
		add_op(ops, "remove", path, NULL);
		any = true;
	}
	text = any ? cJSON_PrintUnformatted(ops) : NULL;
	cJSON_Delete(ops);
	if (any && text == NULL)
		pd_oom();
	return text;
}
