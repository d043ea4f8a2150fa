/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the API server is and how to authenticate to it (SPEC §5): a
 * kubeconfig file (parsed with libyaml) or the in-cluster service account.
 *
 * Only what a node agent needs is read: the current context's cluster
 * (server, certificate-authority[-data]) and user (token, tokenFile,
 * client-certificate[-data], client-key[-data]), and the context's
 * namespace.  Relative paths are taken from the kubeconfig's folder, as
 * client-go does.  insecure-skip-tls-verify is refused: TLS is always
 * verified.
 */
#ifndef PROFILED_KUBECONFIG_H
#define PROFILED_KUBECONFIG_H

#include <stddef.h>

#include "error.h"

#define PD_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

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

/* The in-cluster service account: $KUBERNETES_SERVICE_HOST/_PORT and the
 * files in sa_dir (PD_SA_DIR).  -ENOENT when not in a cluster. */
int pd_kube_incluster(const char *sa_dir, struct pd_kube_config *out, pd_error_t *err);

void pd_kube_config_clear(struct pd_kube_config *c);

#endif
