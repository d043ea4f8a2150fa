/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small client for the Kubernetes API over libcurl.
 *
 * One easy handle, kept for the process's life, so that the TLS connection
 * is reused.  TLS is always verified, against the configured CA.  The bearer
 * token is re-read from its file when the file changes, at least every
 * minute, and at once after a 401 (the request is then retried once).
 * Requests have connect and total timeouts, and stop early when the
 * caller's cancel says so.  Nothing here sleeps or retries beyond that one
 * 401 retry: backoff belongs to the caller's event loop.
 */
#ifndef PROFILED_KUBE_H
#define PROFILED_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "kubeconfig.h"
#include "spawn.h"

#define PD_KUBE_CONNECT_TIMEOUT_MS 5000
#define PD_KUBE_TOTAL_TIMEOUT_MS   15000
#define PD_KUBE_MAX_BODY	   (8 * 1024 * 1024)

struct pd_kube; /* opaque */

struct pd_kube_response {
	long status; /* HTTP status; 0 when no response came */
	char *body;  /* NUL-terminated, never NULL after a response */
	size_t len;
	long retry_after_s; /* Retry-After in seconds, or -1 */
};

/* Takes what it needs from cfg (copied).  Refuses credentials that cannot
 * work: a CA with no certificate, a client key that is not the
 * certificate's (or is encrypted), an expired client certificate, a token
 * file that is missing or holds no token, no credentials at all. */
int pd_kube_new(const struct pd_kube_config *cfg, struct pd_kube **out, pd_error_t *err);
void pd_kube_free(struct pd_kube *k);

void pd_kube_set_cancel(struct pd_kube *k, const struct pd_spawn_cancel *cancel);

/*
 * One request.  path starts with '/'; body may be NULL.  Returns 0 when a
 * response came (whatever its status), negative errno when none did
 * (-ECANCELED, -ETIMEDOUT, -ECONNREFUSED, ...; err says more).
 */
int pd_kube_request(struct pd_kube *k, const char *method, const char *path,
		    const char *content_type, const char *body, struct pd_kube_response *resp,
		    pd_error_t *err);

void pd_kube_response_clear(struct pd_kube_response *r);

/* The message of a Kubernetes Status body ("message", and each cause's
 * field and message), or the raw body cut short; caller frees. */
char *pd_kube_status_message(const struct pd_kube_response *r);

/* Called after every request with its HTTP status (0: no answer). */
void pd_kube_set_observer(struct pd_kube *k, void (*fn)(void *arg, long status), void *arg);

/* What authenticates the requests, for log lines: "token file (re-read
 * after the 401)", "token" or "client certificate". */
const char *pd_kube_auth(const struct pd_kube *k);

/* Counters, for logs and tests. */
unsigned long pd_kube_requests(const struct pd_kube *k);

#endif
