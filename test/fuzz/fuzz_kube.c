/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for what comes from outside about the API: kubeconfig YAML and
 * Node objects from the API server, then the patch built from that Node.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../lib/kubeconfig.h"
#include "../../lib/nodepatch.h"
#include "../../lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = pd_xstrndup((const char *)data, size);
	struct pd_kube_config c;
	struct pd_node_meta m;
	pd_error_t err = NULL;

	if (pd_kubeconfig_parse((const char *)data, size, "/nonexistent", &c, &err) == 0) {
		/* A parsed config always has an https server. */
		if (c.server == NULL || strncmp(c.server, "https://", 8) != 0)
			__builtin_trap();
		pd_kube_config_clear(&c);
	}
	pd_error_release(&err);

	if (pd_node_meta_parse(text, &m, &err) == 0) {
		struct pd_labels want = { 0 };
		struct pd_strv past = { 0 };
		char *patch;

		pd_strv_push(&past, pd_xstrdup("old.example"));
		pd_labels_set(&want, "seccomp.profiled.io/a", "true");
		patch = pd_node_patch("profiled.io", &past, &m, &want, NULL,
				      "profiled.io/owned-labels", false, NULL);
		/* Only the wanted label is set; only labels the agent owns
		 * (its domain, or listed as owned AND under a domain it
		 * recorded using) are removed. */
		if (patch != NULL) {
			cJSON *p = cJSON_Parse(patch);
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(p, "metadata"), "labels");
			const char *owned =
				pd_labels_get(&m.annotations, "profiled.io/owned-labels");
			const cJSON *it;

			if (p == NULL)
				__builtin_trap();
			cJSON_ArrayForEach (it, l) {
				if (cJSON_IsString(it) &&
				    strcmp(it->string, "seccomp.profiled.io/a") != 0)
					__builtin_trap();
				if (cJSON_IsNull(it) &&
				    !pd_label_key_owned("profiled.io", it->string) &&
				    (owned == NULL || strstr(owned, it->string) == NULL ||
				     !pd_label_key_owned("old.example", it->string)))
					__builtin_trap();
			}
			cJSON_Delete(p);
		}
		free(patch);
		/* The condition patch is JSON whenever it is sent, and not sent
		 * when the Node already says the same. */
		patch = pd_condition_patch(&m.ready, "False", "Pending", "x",
					   "2026-01-01T00:00:00Z");
		if (patch != NULL) {
			cJSON *p = cJSON_Parse(patch);

			if (p == NULL)
				__builtin_trap();
			cJSON_Delete(p);
		} else if (!m.ready.present || strcmp(m.ready.status, "False") != 0)
			__builtin_trap();
		free(patch);
		/* The taint patch removes only indexes of taints with the key. */
		patch = pd_taint_remove_patch(&m, "profiled.io/not-ready", NULL);
		if (patch != NULL) {
			cJSON *p = cJSON_Parse(patch);
			const cJSON *op;

			if (p == NULL)
				__builtin_trap();
			cJSON_ArrayForEach (op, p) {
				const char *path = cJSON_GetObjectItem(op, "path")->valuestring;
				unsigned long i;

				if (strcmp(cJSON_GetObjectItem(op, "op")->valuestring, "remove") !=
				    0)
					continue;
				i = strtoul(path + strlen("/spec/taints/"), NULL, 10);
				if (i >= m.ntaints ||
				    strcmp(m.taints[i].key, "profiled.io/not-ready") != 0)
					__builtin_trap();
			}
			cJSON_Delete(p);
		}
		free(patch);
		pd_labels_clear(&want);
		pd_strv_clear(&past);
		pd_node_meta_clear(&m);
	}
	pd_error_release(&err);

	free(text);
	return 0;
}
