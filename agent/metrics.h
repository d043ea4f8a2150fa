/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health and metrics (docs/operations.md, "Health and metrics") on --metrics-addr, served by
 * libmicrohttpd from its own thread: /healthz, /readyz, /metrics (Prometheus text format).
 *
 * The event loop's thread writes the figures; the HTTP thread only reads
 * them, both under one mutex, and never touches the agent.
 *
 * Slow clients cannot starve the probes: every connection is closed
 * METRICS_CONN_DEADLINE_MS after it was accepted whatever it sends (a
 * total deadline, not an idle timeout), answers close the connection, and
 * past METRICS_CONN_SOFT_LIMIT open connections (METRICS_CONN_PER_IP for
 * one address) the oldest ones that have not sent a whole request yet are
 * closed to make room, so a new request such as a kubelet probe is served
 * at once.
 */
#ifndef PROFILED_METRICS_H
#define PROFILED_METRICS_H

#include <pthread.h>
#include <stdbool.h>

#define METRICS_DEFAULT_ADDR ":9860"
#define METRICS_STUCK_MS     (10 * 60 * 1000) /* a reconcile longer than this: unhealthy */
#define METRICS_NBUCKETS     11
#define METRICS_NCODES	     16
#define METRICS_NPROBLEMS    16 /* at least PROBLEM_CLASS_COUNT */

#define METRICS_CONN_DEADLINE_MS 3000 /* from accept to close, whatever comes */
#define METRICS_CONN_SOFT_LIMIT	 32   /* then the oldest incomplete request goes */
#define METRICS_CONN_PER_IP	 8    /* the same, per client address */
#define METRICS_CONN_HARD_LIMIT	 128  /* libmicrohttpd's own limit */
#define METRICS_CONN_MEMORY	 8192 /* per connection: request line and headers */

struct metrics {
	pthread_mutex_t lock;
	bool ready;		  /* the first full reconcile finished */
	long long busy_since_ms;  /* a reconcile in progress since (monotonic), or 0 */
	double last_success_unix; /* end of the last reconcile without failures */
	/* gauges: profiles by kind and state */
	unsigned seccomp_published, seccomp_rejected;
	unsigned apparmor_loaded, apparmor_unconfirmed, apparmor_retired, apparmor_rejected;
	/* problems with profile files right now, by class (problems.h) */
	struct {
		const char *label; /* the class's metric label; NULL: unused slot */
		unsigned n;
	} problems[METRICS_NPROBLEMS];
	/* counters */
	unsigned long long validation_failures[2]; /* [kind] */
	unsigned long long load_failures[2];
	unsigned long long reconciles;
	double reconcile_sum_s;
	unsigned long long reconcile_buckets[METRICS_NBUCKETS]; /* cumulative at render */
	struct {
		char code[8]; /* "200", "error" */
		unsigned long long n;
	} api[METRICS_NCODES];
	unsigned long long events_dropped;
	unsigned long long http_closed[2]; /* by the server: [0] deadline, [1] limits */
};

struct metrics_server; /* opaque */

void metrics_init(struct metrics *m);
void metrics_destroy(struct metrics *m);

/* "host:port", ":port" (every address), "[v6]:port"; "" turns it off.
 * Returns 0 (and *out NULL when off), or -errno after logging why. */
int metrics_start(const char *addr, struct metrics *m, struct metrics_server **out);
void metrics_stop(struct metrics_server *s);

void metrics_reconcile_begin(struct metrics *m);
void metrics_reconcile_end(struct metrics *m, double seconds, bool success);
void metrics_api_request(struct metrics *m, long status);

/* Renders the Prometheus text; caller frees (exposed for the tests). */
char *metrics_render(struct metrics *m);

#endif
