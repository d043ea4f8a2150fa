/* SPDX-License-Identifier: Apache-2.0 */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"
#include "fileio.h"

#define KUBECONFIG_MAX_BYTES (1024 * 1024)

static void
cleanup_docp(yaml_document_t **d)
{
	if (*d != NULL)
		yaml_document_delete(*d);
}

/* The value of key in mapping node n, or NULL. */
static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strlen(key) == k->data.scalar.length &&
		    memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* A scalar's text (libyaml NUL-terminates it), or NULL; "" counts as unset
 * as in client-go. */
static const char *
scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* Whether key is set at all in mapping n: any value but a null or "". */
static bool
present(yaml_document_t *doc, yaml_node_t *n, const char *key)
{
	yaml_node_t *v = map_get(doc, n, key);

	if (v == NULL)
		return false;
	if (v->type != YAML_SCALAR_NODE)
		return true;
	return scalar(v) != NULL && strcmp(scalar(v), "null") != 0 && strcmp(scalar(v), "~") != 0 &&
	       strcmp(scalar(v), "Null") != 0 && strcmp(scalar(v), "NULL") != 0;
}

/* In a list of {name: X, <field>: {...}}, the <field> of the entry named
 * name. */
static yaml_node_t *
named(yaml_document_t *doc, yaml_node_t *root, const char *list, const char *field,
      const char *name)
{
	yaml_node_t *seq = map_get(doc, root, list);

	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = yaml_document_get_node(doc, *i);
		const char *n = scalar(map_get(doc, e, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return map_get(doc, e, field);
	}
	return NULL;
}

static int
b64decode(const char *in, char **out, size_t *out_len, const char *what, pd_error_t *err)
{
	size_t n = strlen(in);
	unsigned char *buf = pd_xmalloc(n / 4 * 3 + 4);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int len1 = 0, len2 = 0;

	if (ctx == NULL)
		pd_oom();
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &len1, (const unsigned char *)in, (int)n) < 0 ||
	    EVP_DecodeFinal(ctx, buf + len1, &len2) < 0) {
		EVP_ENCODE_CTX_free(ctx);
		free(buf);
		return pd_make_plain_error(err, EINVAL, "`%s` is not valid base64", what);
	}
	EVP_ENCODE_CTX_free(ctx);
	buf[len1 + len2] = '\0';
	*out = (char *)buf;
	*out_len = (size_t)(len1 + len2);
	return 0;
}

static char *
resolve(const char *base_dir, const char *p)
{
	if (p[0] == '/' || base_dir == NULL)
		return pd_xstrdup(p);
	return pd_xasprintf("%s/%s", base_dir, p);
}

/* `KEY-data` (base64 PEM bytes) into *pem, else `KEY` (a path, relative to
 * the kubeconfig's folder) into *file, as client-go reads a CA, a client
 * certificate or a key; neither: nothing set. */
static int
pem_or_file(yaml_document_t *doc, yaml_node_t *n, const char *base_dir, const char *key, char **pem,
	    size_t *pem_len, char **file, pd_error_t *err)
{
	_cleanup_free_ char *data_key = pd_xasprintf("%s-data", key);
	const char *v;

	if ((v = scalar(map_get(doc, n, data_key))) != NULL)
		return b64decode(v, pem, pem_len, data_key, err);
	if ((v = scalar(map_get(doc, n, key))) != NULL)
		*file = resolve(base_dir, v);
	return 0;
}

int
pd_kube_token_clean(char *tok, const char *what, pd_error_t *err)
{
	size_t start = strspn(tok, " \t\r\n\v\f"), len;

	memmove(tok, tok + start, strlen(tok + start) + 1);
	len = strlen(tok);
	while (len > 0 && strchr(" \t\r\n\v\f", tok[len - 1]) != NULL)
		tok[--len] = '\0';
	if (len == 0)
		return pd_make_plain_error(err, EINVAL, "%s is empty", what);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f)
			return pd_make_plain_error(
				err, EINVAL,
				"%s holds a space or control character inside: not a bearer token",
				what);
	return 0;
}

int
pd_kube_token_read(const char *path, char **out, pd_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char *what = NULL;
	size_t len;
	int ret;

	if (fd < 0)
		return pd_make_error(err, errno, "token file `%s`", path);
	if ((ret = pd_read_fd(fd, PD_KUBE_TOKEN_MAX_BYTES, &buf, &len, err)) < 0)
		return pd_error_wrap(err, ret, "token file `%s`", path);
	if (memchr(buf, '\0', len) != NULL)
		return pd_make_plain_error(err, EINVAL, "token file `%s` holds a NUL byte", path);
	what = pd_xasprintf("token file `%s`", path);
	if ((ret = pd_kube_token_clean(buf, what, err)) < 0) {
		explicit_bzero(buf, len);
		return ret;
	}
	*out = pd_steal(&buf);
	return 0;
}

void
pd_kube_config_clear(struct pd_kube_config *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	free(c->key_pem);
	free(c->namespace);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

/* Ways a kubeconfig user can authenticate that profiled does not speak:
 * sending its requests without them would only earn 401s. */
static const struct {
	const char *field, *what;
} unsupported_auth[] = {
	{ "exec", "an `exec` credential plugin" },
	{ "auth-provider", "an `auth-provider`" },
	{ "username", "basic authentication (`username`/`password`)" },
	{ "password", "basic authentication (`username`/`password`)" },
	{ "as", "impersonation (`as`)" },
	{ "as-groups", "impersonation (`as-groups`)" },
	{ "as-uid", "impersonation (`as-uid`)" },
	{ "as-user-extra", "impersonation (`as-user-extra`)" },
};

static int
fill_user(yaml_document_t *doc, const char *base_dir, const char *uname, yaml_node_t *user,
	  struct pd_kube_config *c, pd_error_t *err)
{
	const char *v;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(unsupported_auth); i++)
		if (present(doc, user, unsupported_auth[i].field))
			return pd_make_plain_error(
				err, EINVAL,
				"user \"%s\" uses %s, which profiled does not support: use `token`, "
				"`tokenFile` or `client-certificate`/`client-key`",
				uname, unsupported_auth[i].what);
	if ((v = scalar(map_get(doc, user, "token"))) != NULL) {
		_cleanup_free_ char *what = pd_xasprintf("user \"%s\": `token`", uname);

		c->token = pd_xstrdup(v);
		if ((ret = pd_kube_token_clean(c->token, what, err)) < 0)
			return ret;
	}
	if ((v = scalar(map_get(doc, user, "tokenFile"))) != NULL)
		c->token_file = resolve(base_dir, v);
	if ((ret = pem_or_file(doc, user, base_dir, "client-certificate", &c->cert_pem,
			       &c->cert_pem_len, &c->cert_file, err)) < 0 ||
	    (ret = pem_or_file(doc, user, base_dir, "client-key", &c->key_pem, &c->key_pem_len,
			       &c->key_file, err)) < 0)
		return ret;
	if ((c->cert_file != NULL || c->cert_pem != NULL) !=
	    (c->key_file != NULL || c->key_pem != NULL))
		return pd_make_plain_error(
			err, EINVAL, "user \"%s\": a client certificate needs its key and back",
			uname);
	if (c->token == NULL && c->token_file == NULL && c->cert_file == NULL &&
	    c->cert_pem == NULL)
		return pd_make_plain_error(
			err, EINVAL,
			"user \"%s\" has no credentials: `token`, `tokenFile` or "
			"`client-certificate`/`client-key` is needed",
			uname);
	return 0;
}

/* The cluster's server (https only) and CA. */
static int
fill_cluster(yaml_document_t *doc, const char *base_dir, const char *cname, yaml_node_t *cluster,
	     struct pd_kube_config *c, pd_error_t *err)
{
	const char *v = scalar(map_get(doc, cluster, "server"));

	if (v == NULL)
		return pd_make_plain_error(err, EINVAL, "cluster \"%s\" has no `server`", cname);
	if (strncmp(v, "https://", 8) != 0)
		return pd_make_plain_error(
			err, EINVAL, "cluster \"%s\": server \"%s\" is not https: TLS is required",
			cname, v);
	c->server = pd_xstrdup(v);
	/* a trailing slash would double in every request path */
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	/* YAML 1.1 booleans, as the kubeconfig loader reads them: anything
	 * but an explicit false is refused. */
	v = scalar(map_get(doc, cluster, "insecure-skip-tls-verify"));
	if (v != NULL && strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0 &&
	    strcasecmp(v, "off") != 0 && strcasecmp(v, "n") != 0)
		return pd_make_plain_error(
			err, EINVAL,
			"cluster \"%s\": insecure-skip-tls-verify is refused: TLS is always verified",
			cname);
	return pem_or_file(doc, cluster, base_dir, "certificate-authority", &c->ca_pem,
			   &c->ca_pem_len, &c->ca_file, err);
}

/* The current context, its cluster, then its user. */
static int
fill(yaml_document_t *doc, const char *base_dir, struct pd_kube_config *c, pd_error_t *err)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *v;
	int ret;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return pd_make_plain_error(err, EINVAL, "not a kubeconfig (no mapping at the top)");
	cur = scalar(map_get(doc, root, "current-context"));
	if (cur == NULL)
		return pd_make_plain_error(err, EINVAL, "`current-context` is not set");
	ctx = named(doc, root, "contexts", "context", cur);
	if (ctx == NULL)
		return pd_make_plain_error(err, EINVAL, "context \"%s\" is not in `contexts`", cur);
	cname = scalar(map_get(doc, ctx, "cluster"));
	uname = scalar(map_get(doc, ctx, "user"));
	if (cname == NULL)
		return pd_make_plain_error(err, EINVAL, "context \"%s\" names no cluster", cur);
	cluster = named(doc, root, "clusters", "cluster", cname);
	if (cluster == NULL)
		return pd_make_plain_error(err, EINVAL, "cluster \"%s\" is not in `clusters`",
					   cname);
	v = scalar(map_get(doc, ctx, "namespace"));
	c->namespace = v != NULL ? pd_xstrdup(v) : NULL;
	if ((ret = fill_cluster(doc, base_dir, cname, cluster, c, err)) < 0)
		return ret;
	if (uname == NULL)
		return pd_make_plain_error(err, EINVAL,
					   "context \"%s\" names no user: requests would carry no "
					   "credentials",
					   cur);
	user = named(doc, root, "users", "user", uname);
	if (user == NULL)
		return pd_make_plain_error(err, EINVAL, "user \"%s\" is not in `users`", uname);
	return fill_user(doc, base_dir, uname, user, c, err);
}

int
pd_kubeconfig_parse(const char *buf, size_t len, const char *base_dir, struct pd_kube_config *out,
		    pd_error_t *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_document_t *docp = NULL;
	struct pd_kube_config c = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > KUBECONFIG_MAX_BYTES)
		return pd_make_plain_error(err, EFBIG, "kubeconfig is over %d bytes",
					   KUBECONFIG_MAX_BYTES);
	if (!yaml_parser_initialize(&parser))
		pd_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = pd_make_plain_error(err, EINVAL, "line %zu, column %zu: %s",
					  parser.problem_mark.line + 1,
					  parser.problem_mark.column + 1,
					  parser.problem != NULL ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return ret;
	}
	docp = &doc;
	ret = fill(docp, base_dir, &c, err);
	cleanup_docp(&docp);
	yaml_parser_delete(&parser);
	if (ret < 0) {
		pd_kube_config_clear(&c);
		return ret;
	}
	*out = c;
	return 0;
}

int
pd_kubeconfig_load(const char *path, struct pd_kube_config *out, pd_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char *copy = NULL;
	size_t len;
	int ret;

	if (fd < 0)
		return pd_make_error(err, errno, "open kubeconfig `%s`", path);
	if ((ret = pd_read_fd(fd, KUBECONFIG_MAX_BYTES, &buf, &len, err)) < 0)
		return pd_error_wrap(err, ret, "kubeconfig `%s`", path);
	copy = pd_xstrdup(path);
	ret = pd_kubeconfig_parse(buf, len, dirname(copy), out, err);
	if (ret < 0)
		return pd_error_wrap(err, ret, "kubeconfig `%s`", path);
	out->source = pd_xasprintf("kubeconfig %s", path);
	return 0;
}

bool
pd_kube_incluster_detected(void)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	return (host != NULL && *host != '\0') || (port != NULL && *port != '\0');
}

int
pd_kube_incluster(const char *sa_dir, struct pd_kube_config *out, pd_error_t *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct pd_kube_config c = { 0 };
	_cleanup_free_ char *ns_path = NULL;
	_cleanup_free_ char *token = NULL;
	_cleanup_close_ int fd = -1;
	char *end;
	long p;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!pd_kube_incluster_detected())
		return pd_make_plain_error(
			err, ENOENT, "not in a cluster (KUBERNETES_SERVICE_HOST/_PORT unset)");
	if (host == NULL || *host == '\0')
		return pd_make_plain_error(
			err, EINVAL,
			"KUBERNETES_SERVICE_PORT is set but KUBERNETES_SERVICE_HOST is not");
	if (port == NULL || *port == '\0')
		return pd_make_plain_error(
			err, EINVAL,
			"KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not");
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1 || p > 65535 || !(*port >= '0' && *port <= '9'))
		return pd_make_plain_error(
			err, EINVAL, "KUBERNETES_SERVICE_PORT \"%s\" is not a port number", port);
	if (host[strcspn(host, "/@?# \t\r\n[]")] != '\0')
		return pd_make_plain_error(
			err, EINVAL, "KUBERNETES_SERVICE_HOST \"%s\" is not a host name or address",
			host);
	/* An IPv6 service address needs brackets in a URL. */
	c.server = strchr(host, ':') != NULL ? pd_xasprintf("https://[%s]:%ld", host, p)
					     : pd_xasprintf("https://%s:%ld", host, p);
	c.ca_file = pd_xasprintf("%s/ca.crt", sa_dir);
	c.token_file = pd_xasprintf("%s/token", sa_dir);
	/* In a pod, the service account is the only way in: a missing token
	 * (automountServiceAccountToken: false) is a configuration error,
	 * not local mode. */
	if ((ret = pd_kube_token_read(c.token_file, &token, err)) < 0) {
		pd_kube_config_clear(&c);
		/* Never -ENOENT: that code means "not in a cluster". */
		return pd_error_wrap(
			err, ret == -ENOENT ? -EINVAL : ret,
			"in a pod (KUBERNETES_SERVICE_HOST is set) without a usable service account "
			"token (automountServiceAccountToken: false?)");
	}
	explicit_bzero(token, strlen(token));
	if (access(c.ca_file, F_OK) < 0) {
		pd_make_error(err, errno,
			      "in a pod (KUBERNETES_SERVICE_HOST is set) without the service "
			      "account CA `%s`",
			      c.ca_file);
		pd_kube_config_clear(&c);
		return -EINVAL;
	}
	ns_path = pd_xasprintf("%s/namespace", sa_dir);
	fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char *ns = NULL;
		size_t len;

		if (pd_read_fd(fd, 256, &ns, &len, NULL) == 0) {
			ns[strcspn(ns, " \t\r\n")] = '\0';
			if (*ns != '\0')
				c.namespace = ns;
			else
				free(ns);
		}
	}
	c.source = pd_xstrdup("in-cluster");
	*out = c;
	return 0;
}
