/* SPDX-License-Identifier: Apache-2.0 */
/* lib/kubeconfig and lib/nodepatch: every field of SPEC §5, and the one
 * merge patch the agent sends. */
#include "unit.h"

#include <cjson/cJSON.h>

#include "../../lib/kubeconfig.h"
#include "../../lib/nodepatch.h"

static const char full[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: other\n"
	"  cluster: {server: https://wrong:1}\n"
	"- name: c1\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"contexts:\n"
	"- name: dev\n"
	"  context: {cluster: other, user: u0}\n"
	"- name: prod\n"
	"  context:\n"
	"    cluster: c1\n"
	"    user: u1\n"
	"    namespace: profiled-system\n"
	"users:\n"
	"- name: u1\n"
	"  user:\n"
	"    token: abc.def\n"
	"    tokenFile: secrets/token\n"
	"    client-certificate: certs/client.crt\n"
	"    client-key: /abs/client.key\n";

static void
parse_ok(const char *text, struct pd_kube_config *c)
{
	pd_error_t err = NULL;

	if (pd_kubeconfig_parse(text, strlen(text), "/etc/kube", c, &err) < 0)
		fail_msg("parse: %s", pd_error_msg(err));
}

static void
parse_fails(const char *text, const char *want)
{
	struct pd_kube_config c;
	pd_error_t err = NULL;

	if (pd_kubeconfig_parse(text, strlen(text), "/etc/kube", &c, &err) == 0)
		fail_msg("accepted:\n%s", text);
	assert_contains(pd_error_msg(err), want);
	pd_error_release(&err);
}

static void
kubeconfig_current_context_and_every_field(void **state)
{
	struct pd_kube_config c;

	(void)state;
	parse_ok(full, &c);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_non_null(c.ca_pem);
	assert_int_equal(c.ca_pem_len, strlen("-----BEGIN CERTIFICATE-----\n"));
	assert_memory_equal(c.ca_pem, "-----BEGIN CERTIFICATE-----\n", c.ca_pem_len);
	assert_null(c.ca_file);
	assert_string_equal(c.token, "abc.def");
	assert_string_equal(c.token_file, "/etc/kube/secrets/token");
	assert_string_equal(c.cert_file, "/etc/kube/certs/client.crt");
	assert_string_equal(c.key_file, "/abs/client.key");
	assert_string_equal(c.namespace, "profiled-system");
	pd_kube_config_clear(&c);
}

static void
kubeconfig_file_paths_and_inline_client_data(void **state)
{
	static const char text[] = "current-context: x\n"
				   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
				   "clusters: [{name: c, cluster: {server: 'https://h:1', "
				   "certificate-authority: ca.crt}}]\n"
				   "users: [{name: u, user: {client-certificate-data: aGVsbG8=, "
				   "client-key-data: a2V5}}]\n";
	struct pd_kube_config c;

	(void)state;
	parse_ok(text, &c);
	assert_string_equal(c.ca_file, "/etc/kube/ca.crt");
	assert_int_equal(c.cert_pem_len, 5);
	assert_memory_equal(c.cert_pem, "hello", 5);
	assert_int_equal(c.key_pem_len, 3);
	assert_memory_equal(c.key_pem, "key", 3);
	assert_null(c.token);
	assert_null(c.namespace);
	pd_kube_config_clear(&c);
}

static void
kubeconfig_errors_name_the_problem(void **state)
{
	(void)state;
	parse_fails("current-context: [\n", "line 2, column 1: did not find expected node content");
	parse_fails("- a\n- b\n", "not a kubeconfig");
	parse_fails("clusters: []\n", "`current-context` is not set");
	parse_fails("current-context: nope\ncontexts: []\n",
		    "context \"nope\" is not in `contexts`");
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
		    "cluster \"c\" is not in `clusters`");
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'http://h:1'}}]\n",
		    "is not https");
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h:1', "
		    "insecure-skip-tls-verify: true}}]\n",
		    "insecure-skip-tls-verify is refused");
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
		    "users: [{name: u, user: {client-certificate: a.crt}}]\n",
		    "needs its key");
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h:1', "
		    "certificate-authority-data: '!!!'}}]\n",
		    "not valid base64");
}

static void
in_cluster_from_env_and_files(void **state)
{
	char *dir = unit_mkdtemp();
	struct pd_kube_config c;
	pd_error_t err = NULL;

	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(pd_kube_incluster(dir, &c, &err), -ENOENT);
	pd_error_release(&err);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_true(pd_kube_incluster(dir, &c, &err) < 0); /* no token file */
	assert_contains(pd_error_msg(err), "token");
	pd_error_release(&err);
	unit_write_str(dir, "token", "t0k3n\n");
	unit_write_str(dir, "namespace", "kube-system\n");
	assert_int_equal(pd_kube_incluster(dir, &c, &err), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_non_null(strstr(c.ca_file, "/ca.crt"));
	assert_non_null(strstr(c.token_file, "/token"));
	assert_string_equal(c.namespace, "kube-system");
	pd_kube_config_clear(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unit_rmtree(dir);
	free(dir);
}

/* ---- the merge patch ---- */

static struct pd_node_meta
meta(const char *json)
{
	struct pd_node_meta m;
	pd_error_t err = NULL;

	if (pd_node_meta_parse(json, &m, &err) < 0)
		fail_msg("%s", pd_error_msg(err));
	return m;
}

static void
assert_patch(char *patch, const char *want)
{
	cJSON *a = patch != NULL ? cJSON_Parse(patch) : NULL;
	cJSON *b = want != NULL ? cJSON_Parse(want) : NULL;

	if (want == NULL) {
		if (patch != NULL)
			fail_msg("want no patch, got %s", patch);
		return;
	}
	if (patch == NULL || !cJSON_Compare(a, b, true))
		fail_msg("patch %s\nwant  %s", patch ? patch : "(none)", want);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(patch);
}

static void
patch_sets_missing_removes_stale_never_touches_others(void **state)
{
	struct pd_node_meta m =
		meta("{\"metadata\":{\"name\":\"n1\",\"uid\":\"u-1\",\"resourceVersion\":\"7\","
		     "\"labels\":{\"kubernetes.io/hostname\":\"n1\",\"team\":\"a\","
		     "\"seccomp.profiled.io/gone\":\"true\",\"seccomp.profiled.io/kept\":\"true\","
		     "\"profiled.io/apparmor\":\"enabled\",\"xprofiled.io/x\":\"1\","
		     "\"seccomp.example.com/y\":\"true\"},"
		     "\"annotations\":{\"profiled.io/profiles\":\"[]\"}}}");
	struct pd_labels want = { 0 }, ann = { 0 };

	(void)state;
	assert_string_equal(m.uid, "u-1");
	assert_string_equal(m.resource_version, "7");
	pd_labels_set(&want, "seccomp.profiled.io/kept", "true");
	pd_labels_set(&want, "seccomp.profiled.io/new", "true");
	pd_labels_set(&want, "profiled.io/apparmor", "disabled");
	pd_labels_set(&ann, "profiled.io/profiles", "[]");
	assert_patch(
		pd_node_patch("profiled.io", &m, &want, &ann, "profiled.io/owned-labels", false),
		"{\"metadata\":{\"labels\":{\"seccomp.profiled.io/new\":\"true\","
		"\"profiled.io/apparmor\":\"disabled\",\"seccomp.profiled.io/gone\":null}}}");
	/* already as wanted: nothing at all */
	pd_labels_clear(&want);
	pd_labels_set(&want, "seccomp.profiled.io/gone", "true");
	pd_labels_set(&want, "seccomp.profiled.io/kept", "true");
	pd_labels_set(&want, "profiled.io/apparmor", "enabled");
	assert_patch(
		pd_node_patch("profiled.io", &m, &want, &ann, "profiled.io/owned-labels", false),
		NULL);
	/* only_remove: the reboot prune never adds */
	pd_labels_clear(&want);
	pd_labels_set(&want, "seccomp.profiled.io/kept", "true");
	pd_labels_set(&want, "seccomp.profiled.io/new", "true");
	pd_labels_set(&want, "profiled.io/apparmor", "enabled");
	assert_patch(
		pd_node_patch("profiled.io", &m, &want, NULL, "profiled.io/owned-labels", true),
		"{\"metadata\":{\"labels\":{\"seccomp.profiled.io/gone\":null}}}");
	pd_labels_clear(&want);
	pd_labels_clear(&ann);
	pd_node_meta_clear(&m);
}

static void
patch_cleans_keys_of_an_earlier_domain_listed_as_owned(void **state)
{
	struct pd_node_meta m = meta(
		"{\"metadata\":{\"labels\":{\"seccomp.old.example/a\":\"true\","
		"\"seccomp.other.example/b\":\"true\"},\"annotations\":{"
		"\"profiled.io/owned-labels\":\"old.example/seccomp,seccomp.old.example/a\"}}}");
	struct pd_labels want = { 0 }, ann = { 0 };

	(void)state;
	pd_labels_set(&want, "seccomp.new.example/a", "true");
	pd_labels_set(&ann, "profiled.io/owned-labels", "seccomp.new.example/a");
	assert_patch(
		pd_node_patch("new.example", &m, &want, &ann, "profiled.io/owned-labels", false),
		"{\"metadata\":{\"labels\":{\"seccomp.new.example/a\":\"true\","
		"\"seccomp.old.example/a\":null},\"annotations\":{"
		"\"profiled.io/owned-labels\":\"seccomp.new.example/a\"}}}");
	pd_labels_clear(&want);
	pd_labels_clear(&ann);
	pd_node_meta_clear(&m);
}

static void
node_meta_rejects_what_is_not_a_node(void **state)
{
	struct pd_node_meta m;
	pd_error_t err = NULL;

	(void)state;
	assert_true(pd_node_meta_parse("{\"kind\":\"Status\"}", &m, &err) < 0);
	pd_error_release(&err);
	assert_true(pd_node_meta_parse("not json", &m, &err) < 0);
	pd_error_release(&err);
	assert_true(pd_node_meta_parse("{\"metadata\":{\"labels\":{\"a\":1}}}", &m, &err) < 0);
	assert_contains(pd_error_msg(err), "metadata.labels.a");
	pd_error_release(&err);
	/* no labels at all is fine */
	assert_int_equal(pd_node_meta_parse("{\"metadata\":{\"name\":\"n\"}}", &m, &err), 0);
	assert_int_equal(m.labels.n, 0);
	pd_node_meta_clear(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubeconfig_current_context_and_every_field),
		cmocka_unit_test(kubeconfig_file_paths_and_inline_client_data),
		cmocka_unit_test(kubeconfig_errors_name_the_problem),
		cmocka_unit_test(in_cluster_from_env_and_files),
		cmocka_unit_test(patch_sets_missing_removes_stale_never_touches_others),
		cmocka_unit_test(patch_cleans_keys_of_an_earlier_domain_listed_as_owned),
		cmocka_unit_test(node_meta_rejects_what_is_not_a_node),
	};

	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}
