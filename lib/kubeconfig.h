/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the API server is and how to authenticate to it (docs/api.md, "Connecting"): a
 * kubeconfig file (parsed with libyaml) or the in-cluster service account.
 *
 * Only what a node agent needs is read: the current context's cluster
 * (server, certificate-authority[-data]) and user (token, tokenFile,
 * client-certificate[-data], client-key[-data]), and the context's
 * namespace.  Relative paths are taken from the kubeconfig's folder, as
 * client-go does.  insecure-skip-tls-verify is refused: TLS is always
 * verified.  A user must carry credentials the agent can send: one with
 * none, or with only exec, auth-provider, basic authentication or
 * impersonation, is refused rather than sent anonymously.  Files named
 * here are read later, by pd_kube_new(), which checks them.
 */
#ifndef PROFILED_KUBECONFIG_H
#define PROFILED_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PD_SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define PD_KUBE_TOKEN_MAX_BYTES (64 * 1024)

struct pd_kube_config {
	char *server;  /* "https://host:port" */
	char *ca_file; /* PEM bundle path, or NULL */
	char *ca_pem;  /* PEM bytes (certificate-authority-data), or NULL */
	size_t ca_pem_len;
	char *token;	  /* a literal token, or NULL */
	char *token_file; /* re-read when it changes (rotation), or NULL */
	char *cert_file, *key_file;
	char *cert_pem, *key_pem; /* client-certificate-data, client-key-data */
	size_t cert_pem_len, key_pem_len;
	char *namespace; /* for events; NULL: "default" */
	char *source;	 /* "kubeconfig PATH" or "in-cluster", for logs */
};

/* Parses kubeconfig text; base_dir resolves relative paths. */
int pd_kubeconfig_parse(const char *buf, size_t len, const char *base_dir,
			struct pd_kube_config *out, pd_error_t *err);

/* Reads and parses the kubeconfig file at path. */
int pd_kubeconfig_load(const char *path, struct pd_kube_config *out, pd_error_t *err);

/* Whether this runs in a pod: $KUBERNETES_SERVICE_HOST or _PORT is set
 * (what client-go looks at). */
bool pd_kube_incluster_detected(void);

/* The in-cluster service account: $KUBERNETES_SERVICE_HOST/_PORT and the
 * files in sa_dir (PD_SA_DIR).  -ENOENT when not in a cluster; in one, a
 * missing variable, a missing, empty or unusable token or a missing CA is
 * an error that says which. */
int pd_kube_incluster(const char *sa_dir, struct pd_kube_config *out, pd_error_t *err);

/* A bearer token in place: surrounding whitespace removed; an empty one,
 * or one with a space or control character inside, is refused (what
 * names it in the message). */
int pd_kube_token_clean(char *tok, const char *what, pd_error_t *err);

/* Reads and cleans the token in path (at most PD_KUBE_TOKEN_MAX_BYTES);
 * *out is the caller's, to wipe and free. */
int pd_kube_token_read(const char *path, char **out, pd_error_t *err);

void pd_kube_config_clear(struct pd_kube_config *c);

#endif
