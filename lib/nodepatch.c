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
	memset(m, 0, sizeof(*m));
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

char *
pd_node_patch(const char *domain, const struct pd_node_meta *cur,
	      const struct pd_labels *want_labels, const struct pd_labels *want_annotations,
	      const char *owned_key, bool only_remove)
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
		bool ours = pd_label_key_owned(domain, k) ||
			    (was_owned != NULL && listed_in(was_owned, k));

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
