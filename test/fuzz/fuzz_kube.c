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
#include "../../lib/state.h"
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
		char *patch;

		pd_labels_set(&want, "seccomp.profiled.io/a", "true");
		patch = pd_node_patch("profiled.io", &m, &want, NULL, "profiled.io/owned-labels",
				      false);
		/* Only the wanted label is set; only labels the agent owns
		 * (its domain, or listed as owned) are removed. */
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
				    (owned == NULL || strstr(owned, it->string) == NULL))
					__builtin_trap();
			}
			cJSON_Delete(p);
		}
		free(patch);
		pd_labels_clear(&want);
		pd_node_meta_clear(&m);
	}
	pd_error_release(&err);

	/* The profiles annotation, read back to rebuild a lost state: every
	 * entry taken has a valid shape. */
	{
		struct pd_state st = { 0 };
		struct pd_strv w = { 0 };

		if (pd_state_from_annotation(text, &st, &w, &err) == 0)
			for (size_t i = 0; i < st.n; i++)
				if (strlen(st.v[i].sha256) != 64 || st.v[i].name[0] == '\0' ||
				    (st.v[i].kind == PD_KIND_SECCOMP &&
				     (st.v[i].name[0] == '.' || strchr(st.v[i].name, '/') != NULL)))
					__builtin_trap();
		pd_error_release(&err);
		pd_strv_clear(&w);
		pd_state_clear(&st);
	}
	free(text);
	return 0;
}
