/* SPDX-License-Identifier: Apache-2.0 */
/* lib/kubeconfig and lib/nodepatch: every field docs/api.md ("Connecting")
 * reads, and the one
 * merge patch the agent sends. */
#include "unit.h"

#include <cjson/cJSON.h>

#include "../../lib/kubeconfig.h"
#include "../../lib/nodepatch.h"
#include "../../lib/utf8.h"

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
	unit_write_str(dir, "ca.crt", "(checked by pd_kube_new)\n");
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
	assert_patch(pd_node_patch("profiled.io", NULL, &m, &want, &ann, "profiled.io/owned-labels",
				   false, NULL),
		     "{\"metadata\":{\"labels\":{\"seccomp.profiled.io/new\":\"true\","
		     "\"profiled.io/apparmor\":\"disabled\",\"seccomp.profiled.io/gone\":null}}}");
	/* already as wanted: nothing at all */
	pd_labels_clear(&want);
	pd_labels_set(&want, "seccomp.profiled.io/gone", "true");
	pd_labels_set(&want, "seccomp.profiled.io/kept", "true");
	pd_labels_set(&want, "profiled.io/apparmor", "enabled");
	assert_patch(pd_node_patch("profiled.io", NULL, &m, &want, &ann, "profiled.io/owned-labels",
				   false, NULL),
		     NULL);
	/* only_remove: the reboot prune never adds */
	pd_labels_clear(&want);
	pd_labels_set(&want, "seccomp.profiled.io/kept", "true");
	pd_labels_set(&want, "seccomp.profiled.io/new", "true");
	pd_labels_set(&want, "profiled.io/apparmor", "enabled");
	assert_patch(pd_node_patch("profiled.io", NULL, &m, &want, NULL, "profiled.io/owned-labels",
				   true, NULL),
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

	struct pd_strv past = { 0 }, refused = { 0 };

	(void)state;
	pd_strv_push(&past, pd_xstrdup("old.example"));
	pd_labels_set(&want, "seccomp.new.example/a", "true");
	pd_labels_set(&ann, "profiled.io/owned-labels", "seccomp.new.example/a");
	assert_patch(pd_node_patch("new.example", &past, &m, &want, &ann,
				   "profiled.io/owned-labels", false, &refused),
		     "{\"metadata\":{\"labels\":{\"seccomp.new.example/a\":\"true\","
		     "\"seccomp.old.example/a\":null},\"annotations\":{"
		     "\"profiled.io/owned-labels\":\"seccomp.new.example/a\"}}}");
	assert_int_equal(refused.n, 0);
	/* without the local record of old.example, the annotation alone
	 * proves nothing: the key stays, and is reported */
	assert_patch(pd_node_patch("new.example", NULL, &m, &want, &ann, "profiled.io/owned-labels",
				   false, &refused),
		     "{\"metadata\":{\"labels\":{\"seccomp.new.example/a\":\"true\"},"
		     "\"annotations\":{\"profiled.io/owned-labels\":\"seccomp.new.example/a\"}}}");
	assert_int_equal(refused.n, 1);
	assert_string_equal(refused.v[0], "seccomp.old.example/a");
	pd_strv_clear(&refused);
	pd_strv_clear(&past);
	pd_labels_clear(&want);
	pd_labels_clear(&ann);
	pd_node_meta_clear(&m);
}

/* Whoever can patch the Node writes owned-labels: naming the kubelet's or
 * the cloud's labels there must not make the agent remove them. */
static void
patch_never_removes_foreign_keys_named_as_owned(void **state)
{
	struct pd_node_meta m =
		meta("{\"metadata\":{\"labels\":{\"kubernetes.io/hostname\":\"n1\","
		     "\"topology.kubernetes.io/zone\":\"z1\","
		     "\"node-role.kubernetes.io/control-plane\":\"\","
		     "\"seccomp.kubernetes.io/x\":\"true\",\"kubernetes.io/seccomp\":\"enabled\","
		     "\"seccomp.profiled.io/gone\":\"true\",\"seccomp.old.example/a\":\"true\"},"
		     "\"annotations\":{\"profiled.io/owned-labels\":"
		     "\"kubernetes.io/hostname,topology.kubernetes.io/zone,"
		     "node-role.kubernetes.io/control-plane,seccomp.kubernetes.io/x,"
		     "kubernetes.io/seccomp,seccomp.old.example/a\"}}}");
	struct pd_labels want = { 0 };
	struct pd_strv past = { 0 }, refused = { 0 };

	(void)state;
	pd_strv_push(&past, pd_xstrdup("old.example"));
	pd_labels_set(&want, "profiled.io/seccomp", "enabled");
	/* the reboot prune and the sync alike */
	for (int only_remove = 0; only_remove <= 1; only_remove++) {
		_cleanup_free_ char *patch =
			pd_node_patch("profiled.io", &past, &m, &want, NULL,
				      "profiled.io/owned-labels", only_remove, &refused);

		assert_non_null(patch);
		assert_null(strstr(patch, "kubernetes.io"));
		assert_non_null(strstr(patch, "\"seccomp.profiled.io/gone\":null"));
		assert_non_null(strstr(patch, "\"seccomp.old.example/a\":null"));
		assert_int_equal(refused.n, 5);
		assert_true(pd_strv_contains(&refused, "kubernetes.io/hostname"));
		assert_true(pd_strv_contains(&refused, "topology.kubernetes.io/zone"));
		assert_true(pd_strv_contains(&refused, "node-role.kubernetes.io/control-plane"));
		assert_true(pd_strv_contains(&refused, "seccomp.kubernetes.io/x"));
		assert_true(pd_strv_contains(&refused, "kubernetes.io/seccomp"));
		pd_strv_clear(&refused);
	}
	pd_strv_clear(&past);
	pd_labels_clear(&want);
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

/* ---- the ProfilesReady condition ---- */

static const char kNode[] =
	"{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"41\"},"
	"\"spec\":{\"taints\":[{\"key\":\"other.io/x\",\"effect\":\"NoExecute\"},"
	"{\"key\":\"profiled.io/not-ready\",\"effect\":\"NoSchedule\"},"
	"{\"key\":\"profiled.io/not-ready\",\"value\":\"v\",\"effect\":\"NoExecute\","
	"\"timeAdded\":\"2026-01-01T00:00:00Z\"}]},"
	"\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
	"{\"type\":\"ProfilesReady\",\"status\":\"False\",\"reason\":\"ProfileInvalid\","
	"\"message\":\"a.json: bad\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}";

static void
condition_parsed_from_the_node(void **state)
{
	struct pd_node_meta m = meta(kNode);

	(void)state;
	assert_true(m.ready.present);
	assert_string_equal(m.ready.status, "False");
	assert_string_equal(m.ready.reason, "ProfileInvalid");
	assert_string_equal(m.ready.message, "a.json: bad");
	assert_string_equal(m.ready.last_transition, "2026-01-01T00:00:00Z");
	assert_int_equal(m.ntaints, 3);
	assert_string_equal(m.taints[2].value, "v");
	pd_node_meta_clear(&m);
	m = meta("{\"metadata\":{\"name\":\"n\"},\"status\":{\"conditions\":7}}");
	assert_false(m.ready.present);
	pd_node_meta_clear(&m);
}

static void
condition_patch_only_on_change_transition_only_on_status(void **state)
{
	struct pd_node_meta m = meta(kNode);
	const char *now = "2026-11-29T08:00:00Z";

	(void)state;
	/* the same status, reason and message: nothing to send */
	assert_patch(pd_condition_patch(&m.ready, "False", "ProfileInvalid", "a.json: bad", now),
		     NULL);
	/* another message, same status: the transition time is kept */
	assert_patch(
		pd_condition_patch(&m.ready, "False", "ProfileInvalid", "b.json: worse", now),
		"{\"status\":{\"conditions\":[{\"type\":\"ProfilesReady\",\"status\":\"False\","
		"\"reason\":\"ProfileInvalid\",\"message\":\"b.json: worse\","
		"\"lastHeartbeatTime\":\"2026-11-29T08:00:00Z\","
		"\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}");
	/* another status: the transition is now */
	assert_patch(pd_condition_patch(&m.ready, "True", "ProfilesInPlace", "ok", now),
		     "{\"status\":{\"conditions\":[{\"type\":\"ProfilesReady\",\"status\":\"True\","
		     "\"reason\":\"ProfilesInPlace\",\"message\":\"ok\","
		     "\"lastHeartbeatTime\":\"2026-11-29T08:00:00Z\","
		     "\"lastTransitionTime\":\"2026-11-29T08:00:00Z\"}]}}");
	pd_node_meta_clear(&m);
	/* no condition yet: it is added */
	m = meta("{\"metadata\":{\"name\":\"n\"}}");
	assert_patch(pd_condition_patch(&m.ready, "True", "ProfilesInPlace", "ok", now),
		     "{\"status\":{\"conditions\":[{\"type\":\"ProfilesReady\",\"status\":\"True\","
		     "\"reason\":\"ProfilesInPlace\",\"message\":\"ok\","
		     "\"lastHeartbeatTime\":\"2026-11-29T08:00:00Z\","
		     "\"lastTransitionTime\":\"2026-11-29T08:00:00Z\"}]}}");
	pd_node_meta_clear(&m);
}

static void
condition_message_bounded_on_a_utf8_boundary(void **state)
{
	char big[3000];
	char *p;
	cJSON *j;
	const char *msg;
	size_t n;

	(void)state;
	/* "é" is two bytes: a cut at an odd offset must not split one */
	for (n = 0; n + 2 < sizeof(big); n += 2)
		memcpy(big + n, "\xc3\xa9", 2);
	big[n] = '\0';
	p = pd_condition_patch(NULL, "False", "LoadFailed", big, "2026-11-29T08:00:00Z");
	j = cJSON_Parse(p);
	msg = cJSON_GetObjectItem(
		      cJSON_GetArrayItem(
			      cJSON_GetObjectItem(cJSON_GetObjectItem(j, "status"), "conditions"),
			      0),
		      "message")
		      ->valuestring;
	assert_true(strlen(msg) <= PD_CONDITION_MESSAGE_MAX);
	assert_true(pd_utf8_valid(msg, strlen(msg), NULL));
	assert_string_equal(msg + strlen(msg) - 3, "...");
	cJSON_Delete(j);
	free(p);
}

/* ---- the start-up taint ---- */

static void
taint_spec_validated_like_apimachinery(void **state)
{
	static const char *const bad[] = {
		"",   "bad key",      "-x",	 "a/b/c",	"UPPER.io/x",	      "p.io/",
		"/x", "p.io/x:Never", "p.io/x:", ":NoSchedule", "p.io/x:NoSchedule:x"
	};
	char *k, *e;
	pd_error_t err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (pd_taint_spec_parse(bad[i], &k, &e, &err) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		pd_error_release(&err);
	}
	assert_int_equal(pd_taint_spec_parse("profiled.io/not-ready", &k, &e, &err), 0);
	assert_string_equal(k, "profiled.io/not-ready");
	assert_null(e);
	free(k);
	assert_int_equal(pd_taint_spec_parse("not-ready:PreferNoSchedule", &k, &e, &err), 0);
	assert_string_equal(k, "not-ready");
	assert_string_equal(e, "PreferNoSchedule");
	free(k);
	free(e);
}

static void
taint_patch_tests_version_and_taint_then_removes_it(void **state)
{
	struct pd_node_meta m = meta(kNode);

	(void)state;
	assert_patch(
		pd_taint_remove_patch(&m, "profiled.io/not-ready", "NoSchedule"),
		"[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"41\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/1/key\",\"value\":\"profiled.io/not-ready\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/1/effect\",\"value\":\"NoSchedule\"},"
		"{\"op\":\"remove\",\"path\":\"/spec/taints/1\"}]");
	/* no effect named: every taint with the key, highest index first */
	assert_patch(
		pd_taint_remove_patch(&m, "profiled.io/not-ready", NULL),
		"[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"41\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/2/key\",\"value\":\"profiled.io/not-ready\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/2/effect\",\"value\":\"NoExecute\"},"
		"{\"op\":\"remove\",\"path\":\"/spec/taints/2\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/1/key\",\"value\":\"profiled.io/not-ready\"},"
		"{\"op\":\"test\",\"path\":\"/spec/taints/1/effect\",\"value\":\"NoSchedule\"},"
		"{\"op\":\"remove\",\"path\":\"/spec/taints/1\"}]");
	/* absent: nothing to send */
	assert_patch(pd_taint_remove_patch(&m, "profiled.io/not-ready", "PreferNoSchedule"), NULL);
	assert_patch(pd_taint_remove_patch(&m, "nope", NULL), NULL);
	pd_node_meta_clear(&m);
	m = meta("{\"metadata\":{\"name\":\"n\"}}");
	assert_patch(pd_taint_remove_patch(&m, "nope", NULL), NULL);
	pd_node_meta_clear(&m);
	{
		pd_error_t err = NULL;

		assert_true(pd_node_meta_parse("{\"metadata\":{},\"spec\":{\"taints\":{}}}", &m,
					       &err) < 0);
		pd_error_release(&err);
		assert_true(pd_node_meta_parse("{\"metadata\":{},\"spec\":{\"taints\":[{}]}}", &m,
					       &err) < 0);
		pd_error_release(&err);
	}
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
		cmocka_unit_test(patch_never_removes_foreign_keys_named_as_owned),
		cmocka_unit_test(node_meta_rejects_what_is_not_a_node),
		cmocka_unit_test(condition_parsed_from_the_node),
		cmocka_unit_test(condition_patch_only_on_change_transition_only_on_status),
		cmocka_unit_test(condition_message_bounded_on_a_utf8_boundary),
		cmocka_unit_test(taint_spec_validated_like_apimachinery),
		cmocka_unit_test(taint_patch_tests_version_and_taint_then_removes_it),
	};

	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}
