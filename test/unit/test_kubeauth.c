/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials that cannot work are refused at start, each with a message
 * naming what is wrong: kubeconfig users profiled cannot authenticate as,
 * in-pod settings with a part missing, tokens, CA bundles and client
 * certificates that are unusable (lib/kubeconfig, lib/kube). */
#include "unit.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../lib/kube.h"
#include "../../lib/kubeconfig.h"

/* ---- kubeconfig users ---- */

#define KC_HEAD                                                                                    \
	"current-context: x\n"                                                                     \
	"contexts: [{name: x, context: {cluster: c, user: u}}]\n"                                  \
	"clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"

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
parse_ok(const char *text, struct pd_kube_config *c)
{
	pd_error_t err = NULL;

	if (pd_kubeconfig_parse(text, strlen(text), "/etc/kube", c, &err) < 0)
		fail_msg("refused: %s\n%s", pd_error_msg(err), text);
}

static void
users_that_cannot_authenticate_are_refused(void **state)
{
	struct pd_kube_config c;

	(void)state;
	parse_fails("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		    "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n",
		    "context \"x\" names no user");
	parse_fails(KC_HEAD "users: []\n", "user \"u\" is not in `users`");
	parse_fails(KC_HEAD "users: [{name: u, user: {}}]\n", "user \"u\" has no credentials");
	parse_fails(KC_HEAD "users: [{name: u, user: {token: ''}}]\n",
		    "user \"u\" has no credentials");
	parse_fails(KC_HEAD "users: [{name: u, user: {exec: {apiVersion: "
			    "client.authentication.k8s.io/v1beta1, command: aws}}}]\n",
		    "user \"u\" uses an `exec` credential plugin, which profiled does not support");
	parse_fails(KC_HEAD "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n",
		    "uses an `auth-provider`");
	parse_fails(KC_HEAD "users: [{name: u, user: {username: admin, password: secret}}]\n",
		    "basic authentication");
	parse_fails(KC_HEAD "users: [{name: u, user: {password: secret, token: t}}]\n",
		    "basic authentication");
	parse_fails(KC_HEAD "users: [{name: u, user: {token: t, as: system:admin}}]\n",
		    "impersonation (`as`)");
	parse_fails(KC_HEAD "users: [{name: u, user: {token: \"  \\t\\n\"}}]\n",
		    "user \"u\": `token` is empty");
	parse_fails(KC_HEAD "users: [{name: u, user: {token: \"ab\\r\\nX-Evil: 1\"}}]\n",
		    "holds a space or control character inside");
	/* a null exec is no exec (client-go reads it as unset) */
	parse_ok(KC_HEAD "users: [{name: u, user: {token: \" t0k \\n\", exec: null}}]\n", &c);
	assert_string_equal(c.token, "t0k");
	pd_kube_config_clear(&c);
}

static void
insecure_skip_tls_verify_refused_in_every_yaml_spelling(void **state)
{
	static const char *yes[] = { "true", "True", "TRUE", "yes", "on", "y", "1" };
	struct pd_kube_config c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		_cleanup_free_ char *t = unit_asprintf(
			"current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
			"clusters: [{name: c, cluster: {server: 'https://h:1', "
			"insecure-skip-tls-verify: %s}}]\n"
			"users: [{name: u, user: {token: t}}]\n",
			yes[i]);

		parse_fails(t, "insecure-skip-tls-verify is refused");
	}
	parse_ok("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
		 "clusters: [{name: c, cluster: {server: 'https://h:1', "
		 "insecure-skip-tls-verify: false}}]\n"
		 "users: [{name: u, user: {token: t}}]\n",
		 &c);
	pd_kube_config_clear(&c);
}

/* ---- in a pod ---- */

static void
incluster_fails(const char *dir, const char *want)
{
	struct pd_kube_config c;
	pd_error_t err = NULL;
	int ret = pd_kube_incluster(dir, &c, &err);

	if (ret == 0)
		fail_msg("accepted, wanted \"%s\"", want);
	assert_int_not_equal(ret, -ENOENT); /* -ENOENT is "not in a cluster" only */
	assert_contains(pd_error_msg(err), want);
	pd_error_release(&err);
}

static void
in_a_pod_every_missing_part_is_named(void **state)
{
	const char *dir = *state;
	struct pd_kube_config c;
	pd_error_t err = NULL;

	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_false(pd_kube_incluster_detected());
	assert_int_equal(pd_kube_incluster(dir, &c, &err), -ENOENT);
	assert_contains(pd_error_msg(err), "not in a cluster");
	pd_error_release(&err);

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	assert_true(pd_kube_incluster_detected());
	incluster_fails(dir, "KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not");
	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	incluster_fails(dir, "KUBERNETES_SERVICE_PORT \"https\" is not a port number");
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	/* automountServiceAccountToken: false: no token file at all */
	incluster_fails(dir, "automountServiceAccountToken: false?");
	incluster_fails(dir, "/token`: No such file or directory");
	unit_write_str(dir, "token", "");
	incluster_fails(dir, "/token` is empty");
	unit_write_str(dir, "token", " \n\t\r\n");
	incluster_fails(dir, "/token` is empty");
	unit_write_str(dir, "token", "abc def\n");
	incluster_fails(dir, "holds a space or control character inside");
	unit_write(dir, "token", "abc\0def", 7);
	incluster_fails(dir, "holds a NUL byte");
	unit_write_str(dir, "token", "t0k3n\n");
	incluster_fails(dir, "without the service account CA");
	unit_write_str(dir, "ca.crt", "x");
	assert_int_equal(pd_kube_incluster(dir, &c, &err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	pd_kube_config_clear(&c);

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_true(pd_kube_incluster_detected()); /* the port alone says "in a pod" too */
	incluster_fails(dir, "KUBERNETES_SERVICE_PORT is set but KUBERNETES_SERVICE_HOST is not");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

/* ---- the files pd_kube_new reads ---- */

/* A key pair and a self-signed certificate for it, valid for days (a
 * negative number: expired that many days ago). */
static void
make_cert(const char *dir, const char *name, long days)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	_cleanup_free_ char *crt = unit_asprintf("%s/%s.crt", dir, name);
	_cleanup_free_ char *key = unit_asprintf("%s/%s.key", dir, name);
	FILE *f;

	assert_non_null(pk);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), days < 0 ? (days - 1) * 86400L : 0);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	f = fopen(crt, "w");
	assert_non_null(f);
	assert_true(PEM_write_X509(f, x) == 1);
	fclose(f);
	f = fopen(key, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static char *
path(const char *dir, const char *name)
{
	return unit_asprintf("%s/%s", dir, name);
}

static void
new_fails(const struct pd_kube_config *c, const char *want)
{
	struct pd_kube *k = NULL;
	pd_error_t err = NULL;

	if (pd_kube_new(c, &k, &err) == 0) {
		pd_kube_free(k);
		fail_msg("accepted, wanted \"%s\"", want);
	}
	assert_null(k);
	assert_contains(pd_error_msg(err), want);
	pd_error_release(&err);
}

static void
new_ok(const struct pd_kube_config *c)
{
	struct pd_kube *k = NULL;
	pd_error_t err = NULL;

	if (pd_kube_new(c, &k, &err) < 0)
		fail_msg("refused: %s", pd_error_msg(err));
	pd_kube_free(k);
}

static void
unusable_ca_refused(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *ca = path(dir, "ca.crt");
	_cleanup_free_ char *ca_empty = path(dir, "empty.crt");
	_cleanup_free_ char *ca_junk = path(dir, "junk.crt");
	struct pd_kube_config c = { .server = (char *)"https://h:1", .token = (char *)"t" };

	make_cert(dir, "ca", 10);
	unit_write_str(dir, "empty.crt", "");
	unit_write_str(dir, "junk.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n");
	c.ca_file = (char *)"/nonexistent/ca.crt";
	new_fails(&c, "CA file `/nonexistent/ca.crt`: No such file or directory");
	c.ca_file = ca_empty;
	new_fails(&c, "empty.crt` holds no PEM certificate");
	c.ca_file = ca_junk;
	new_fails(&c, "junk.crt` holds no PEM certificate");
	c.ca_file = (char *)dir;
	new_fails(&c, "not a regular file");
	c.ca_file = NULL;
	c.ca_pem = (char *)"hello";
	c.ca_pem_len = 5;
	new_fails(&c, "certificate-authority-data holds no PEM certificate");
	c.ca_pem = NULL;
	c.ca_file = ca;
	new_ok(&c);
}

static void
client_certificate_and_key_must_match(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *a_crt = path(dir, "a.crt");
	_cleanup_free_ char *a_key = path(dir, "a.key");
	_cleanup_free_ char *b_key = path(dir, "b.key");
	_cleanup_free_ char *old_crt = path(dir, "old.crt");
	_cleanup_free_ char *old_key = path(dir, "old.key");
	_cleanup_free_ char *junk = path(dir, "junk");
	_cleanup_free_ char *a_pem = NULL;
	_cleanup_free_ char *b_pem = NULL;
	size_t a_len, b_len;
	struct pd_kube_config c = { .server = (char *)"https://h:1" };

	make_cert(dir, "a", 10);
	make_cert(dir, "b", 10);
	make_cert(dir, "old", -1);
	unit_write_str(dir, "junk", "junk\n");
	c.cert_file = a_crt;
	c.key_file = b_key;
	new_fails(&c, "client key `");
	new_fails(&c, "b.key` does not match client certificate `");
	c.key_file = (char *)"/nonexistent/a.key";
	new_fails(&c, "client key `/nonexistent/a.key`: No such file or directory");
	c.key_file = junk;
	new_fails(&c, "junk` holds no PEM private key");
	c.key_file = a_crt; /* the certificate given as the key */
	new_fails(&c, "holds no PEM private key");
	c.cert_file = junk;
	c.key_file = a_key;
	new_fails(&c, "client certificate `");
	new_fails(&c, "junk` holds no PEM certificate");
	c.cert_file = old_crt;
	c.key_file = old_key;
	new_fails(&c, "old.crt` has expired");
	/* inline data: the same checks */
	a_pem = unit_read(a_crt, &a_len);
	b_pem = unit_read(b_key, &b_len);
	c.cert_file = c.key_file = NULL;
	c.cert_pem = a_pem;
	c.cert_pem_len = a_len;
	c.key_pem = b_pem;
	c.key_pem_len = b_len;
	new_fails(&c, "client-key-data does not match client-certificate-data");
	c.cert_pem = NULL;
	c.key_pem = NULL;
	c.cert_file = a_crt;
	c.key_file = a_key;
	new_ok(&c);
}

static void
token_file_must_hold_a_token(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *tok = path(dir, "token");
	struct pd_kube_config c = { .server = (char *)"https://h:1", .token_file = tok };

	new_fails(&c, "token file `");
	new_fails(&c, "/token`: No such file or directory");
	unit_write_str(dir, "token", "\n");
	new_fails(&c, "/token` is empty");
	unit_write_str(dir, "token", "two words");
	new_fails(&c, "holds a space or control character inside");
	c.token_file = (char *)dir;
	new_fails(&c, "not a regular file");
	/* no credentials at all */
	c.token_file = NULL;
	new_fails(&c, "no credentials");
	c.token_file = tok;
	unit_write_str(dir, "token", "t0k3n\n");
	new_ok(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(users_that_cannot_authenticate_are_refused),
		cmocka_unit_test(insecure_skip_tls_verify_refused_in_every_yaml_spelling),
		unit_test_tmp(in_a_pod_every_missing_part_is_named),
		unit_test_tmp(unusable_ca_refused),
		unit_test_tmp(client_certificate_and_key_must_match),
		unit_test_tmp(token_file_must_hold_a_token),
	};

	return cmocka_run_group_tests_name("kubeauth", tests, NULL, NULL);
}
