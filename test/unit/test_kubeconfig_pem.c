/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/kubeconfig.c: the CA, client certificate and key, each read the one
 * way: `KEY-data` (base64 PEM bytes) wins over `KEY` (a path, relative to
 * the kubeconfig's folder), as in client-go; bad base64 names its field.
 */
#include "unit.h"

#include "../../lib/kubeconfig.h"

static const char both[] = "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "clusters: [{name: c, cluster: {server: 'https://h:1', "
			   "certificate-authority: ca.crt, certificate-authority-data: Y2E=}}]\n"
			   "users: [{name: u, user: {client-certificate: a.crt, "
			   "client-certificate-data: Y2VydA==, client-key: k.key, "
			   "client-key-data: a2V5}}]\n";

static void
data_wins_over_the_file_for_each_of_the_three(void **state)
{
	struct pd_kube_config c;
	pd_error_t err = NULL;

	(void)state;
	if (pd_kubeconfig_parse(both, strlen(both), "/etc/kube", &c, &err) < 0)
		fail_msg("parse: %s", pd_error_msg(err));
	assert_null(c.ca_file);
	assert_null(c.cert_file);
	assert_null(c.key_file);
	assert_int_equal(c.ca_pem_len, 2);
	assert_memory_equal(c.ca_pem, "ca", 2);
	assert_int_equal(c.cert_pem_len, 4);
	assert_memory_equal(c.cert_pem, "cert", 4);
	assert_int_equal(c.key_pem_len, 3);
	assert_memory_equal(c.key_pem, "key", 3);
	pd_kube_config_clear(&c);
}

static void
files_resolve_against_the_kubeconfig_folder(void **state)
{
	static const char text[] = "current-context: x\n"
				   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
				   "clusters: [{name: c, cluster: {server: 'https://h:1', "
				   "certificate-authority: /abs/ca.crt}}]\n"
				   "users: [{name: u, user: {client-certificate: a.crt, "
				   "client-key: sub/k.key}}]\n";
	struct pd_kube_config c;
	pd_error_t err = NULL;

	(void)state;
	if (pd_kubeconfig_parse(text, strlen(text), "/etc/kube", &c, &err) < 0)
		fail_msg("parse: %s", pd_error_msg(err));
	assert_string_equal(c.ca_file, "/abs/ca.crt");
	assert_string_equal(c.cert_file, "/etc/kube/a.crt");
	assert_string_equal(c.key_file, "/etc/kube/sub/k.key");
	assert_null(c.ca_pem);
	assert_null(c.cert_pem);
	assert_null(c.key_pem);
	pd_kube_config_clear(&c);
}

static void
bad_base64_names_the_field(void **state)
{
	static const char *const fields[] = { "certificate-authority-data",
					      "client-certificate-data", "client-key-data" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *bad = "'!!!'";
		_cleanup_free_ char *text = pd_xasprintf(
			"current-context: x\n"
			"contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			"clusters: [{name: c, cluster: {server: 'https://h:1', "
			"certificate-authority-data: %s}}]\n"
			"users: [{name: u, user: {client-certificate-data: %s, "
			"client-key-data: %s}}]\n",
			i == 0 ? bad : "Y2E=", i == 1 ? bad : "Y2VydA==", i == 2 ? bad : "a2V5");
		_cleanup_free_ char *want = pd_xasprintf("`%s` is not valid base64", fields[i]);
		struct pd_kube_config c;
		pd_error_t err = NULL;

		if (pd_kubeconfig_parse(text, strlen(text), "/etc/kube", &c, &err) == 0)
			fail_msg("accepted:\n%s", text);
		assert_contains(pd_error_msg(err), want);
		pd_error_release(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(data_wins_over_the_file_for_each_of_the_three),
		cmocka_unit_test(files_resolve_against_the_kubeconfig_folder),
		cmocka_unit_test(bad_base64_names_the_field),
	};

	return cmocka_run_group_tests_name("kubeconfig_pem", tests, NULL, NULL);
}
