/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/util.h"
#include "log.h"
#include "options.h"

#ifndef PROFILED_VERSION
#define PROFILED_VERSION "0.0.0-dev"
#endif

static const double buckets[METRICS_NBUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						  0.5,	 1,    2.5,   5,    10 };

/* One open connection, from accept (notify STARTED) to close (CLOSED).
 * Only the server's thread touches them. */
struct conn {
	struct conn *prev, *next; /* oldest first */
	int fd;
	long long start_ms;
	struct sockaddr_storage peer;
	bool requested; /* a whole request came: it is answered now */
	bool closing;	/* shut down by us; libmicrohttpd closes it next */
};

struct metrics_server {
	struct MHD_Daemon *d;
	struct metrics *m;
	pthread_t thread;
	int stopfd;		  /* eventfd: metrics_stop() */
	struct conn *head, *tail; /* every open connection */
};

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

void
metrics_destroy(struct metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void
metrics_reconcile_begin(struct metrics *m)
{
	pthread_mutex_lock(&m->lock);
	m->busy_since_ms = pd_now_ms();
	pthread_mutex_unlock(&m->lock);
}

void
metrics_reconcile_end(struct metrics *m, double seconds, bool success)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&m->lock);
	m->busy_since_ms = 0;
	m->ready = true;
	m->reconciles++;
	m->reconcile_sum_s += seconds;
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		if (seconds <= buckets[i]) {
			m->reconcile_buckets[i]++;
			break;
		}
	if (success)
		m->last_success_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_api_request(struct metrics *m, long status)
{
	char code[8];
	int i;

	if (status > 0 && status < 1000)
		snprintf(code, sizeof(code), "%d", (int)status);
	else
		snprintf(code, sizeof(code), "error");
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < METRICS_NCODES && m->api[i].code[0] != '\0'; i++)
		if (strcmp(m->api[i].code, code) == 0)
			break;
	if (i == METRICS_NCODES)
		i = METRICS_NCODES - 1; /* more codes than slots: the last one aggregates */
	if (m->api[i].code[0] == '\0')
		snprintf(m->api[i].code, sizeof(m->api[i].code), "%s", code);
	m->api[i].n++;
	pthread_mutex_unlock(&m->lock);
}

struct buf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		/* n < 0: the format failed; a larger buffer is tried. */
		pd_grow(&b->s, &b->cap, n >= 0 ? b->len + (size_t)n + 1 : b->cap + 1, 1);
	}
}

/* The build, readiness and the gauges of profiles and problems. */
static void
render_gauges(struct buf *b, const struct metrics *m)
{
	put(b,
	    "# HELP profiled_build_info The running build.\n"
	    "# TYPE profiled_build_info gauge\n"
	    "profiled_build_info{version=\"%s\"} 1\n",
	    PROFILED_VERSION);
	put(b,
	    "# HELP profiled_ready Whether the first full reconcile has finished.\n"
	    "# TYPE profiled_ready gauge\nprofiled_ready %d\n",
	    m->ready ? 1 : 0);
	put(b, "# HELP profiled_profiles Profiles the agent manages, by kind and state.\n"
	       "# TYPE profiled_profiles gauge\n");
	put(b, "profiled_profiles{kind=\"seccomp\",state=\"published\"} %u\n",
	    m->seccomp_published);
	put(b, "profiled_profiles{kind=\"seccomp\",state=\"rejected\"} %u\n", m->seccomp_rejected);
	put(b, "profiled_profiles{kind=\"apparmor\",state=\"loaded\"} %u\n", m->apparmor_loaded);
	put(b, "profiled_profiles{kind=\"apparmor\",state=\"unconfirmed\"} %u\n",
	    m->apparmor_unconfirmed);
	put(b, "profiled_profiles{kind=\"apparmor\",state=\"retired\"} %u\n", m->apparmor_retired);
	put(b, "profiled_profiles{kind=\"apparmor\",state=\"rejected\"} %u\n",
	    m->apparmor_rejected);
	put(b, "# HELP profiled_problems Problems with profile files right now, by class.\n"
	       "# TYPE profiled_problems gauge\n");
	for (int c = 0; c < METRICS_NPROBLEMS && m->problems[c].label != NULL; c++)
		put(b, "profiled_problems{class=\"%s\"} %u\n", m->problems[c].label,
		    m->problems[c].n);
}

/* The counters of files rejected and profiles not published or loaded,
 * by kind. */
static void
render_failures(struct buf *b, const struct metrics *m)
{
	static const char *const kinds[2] = { "seccomp", "apparmor" };

	put(b, "# HELP profiled_validation_failures_total Profile files rejected, by kind.\n"
	       "# TYPE profiled_validation_failures_total counter\n");
	for (int k = 0; k < 2; k++)
		put(b, "profiled_validation_failures_total{kind=\"%s\"} %llu\n", kinds[k],
		    m->validation_failures[k]);
	put(b, "# HELP profiled_load_failures_total Valid profiles that could not be "
	       "published or loaded, by kind.\n"
	       "# TYPE profiled_load_failures_total counter\n");
	for (int k = 0; k < 2; k++)
		put(b, "profiled_load_failures_total{kind=\"%s\"} %llu\n", kinds[k],
		    m->load_failures[k]);
}

/* The reconcile duration histogram and the last successful reconcile. */
static void
render_reconciles(struct buf *b, const struct metrics *m)
{
	unsigned long long cum = 0;

	put(b, "# HELP profiled_reconcile_duration_seconds Time of each reconcile.\n"
	       "# TYPE profiled_reconcile_duration_seconds histogram\n");
	for (int i = 0; i < METRICS_NBUCKETS; i++) {
		cum += m->reconcile_buckets[i];
		put(b, "profiled_reconcile_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
		    cum);
	}
	put(b, "profiled_reconcile_duration_seconds_bucket{le=\"+Inf\"} %llu\n", m->reconciles);
	put(b, "profiled_reconcile_duration_seconds_sum %.6f\n", m->reconcile_sum_s);
	put(b, "profiled_reconcile_duration_seconds_count %llu\n", m->reconciles);
	put(b,
	    "# HELP profiled_last_successful_reconcile_timestamp_seconds End of the last "
	    "reconcile without failures (Unix time).\n"
	    "# TYPE profiled_last_successful_reconcile_timestamp_seconds gauge\n"
	    "profiled_last_successful_reconcile_timestamp_seconds %.3f\n",
	    m->last_success_unix);
}

/* Traffic: API requests by code, Events dropped, HTTP connections closed. */
static void
render_traffic(struct buf *b, const struct metrics *m)
{
	put(b, "# HELP profiled_api_requests_total Requests to the Kubernetes API, by HTTP "
	       "code (\"error\": no answer).\n"
	       "# TYPE profiled_api_requests_total counter\n");
	for (int i = 0; i < METRICS_NCODES && m->api[i].code[0] != '\0'; i++)
		put(b, "profiled_api_requests_total{code=\"%s\"} %llu\n", m->api[i].code,
		    m->api[i].n);
	put(b,
	    "# HELP profiled_events_dropped_total Node events not posted: over the rate "
	    "limit or the queue.\n"
	    "# TYPE profiled_events_dropped_total counter\n"
	    "profiled_events_dropped_total %llu\n",
	    m->events_dropped);
	put(b,
	    "# HELP profiled_http_connections_closed_total Connections to this server closed "
	    "by it: past the deadline, or to make room over the limits.\n"
	    "# TYPE profiled_http_connections_closed_total counter\n"
	    "profiled_http_connections_closed_total{reason=\"deadline\"} %llu\n"
	    "profiled_http_connections_closed_total{reason=\"limit\"} %llu\n",
	    m->http_closed[0], m->http_closed[1]);
}

char *
metrics_render(struct metrics *m)
{
	struct buf b = { .s = pd_xmalloc(4096), .cap = 4096 };

	b.s[0] = '\0';
	pthread_mutex_lock(&m->lock);
	render_gauges(&b, m);
	render_failures(&b, m);
	render_reconciles(&b, m);
	render_traffic(&b, m);
	pthread_mutex_unlock(&m->lock);
	return b.s;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	/* One request per connection: no idle keep-alive holds a slot. */
	MHD_add_response_header(r, "Connection", "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct metrics_server *s = cls;
	struct metrics *m = s->m;
	static int first;

	(void)version, (void)upload;
	if (*con_cls == NULL) { /* headers only so far; the answer comes next call */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct conn *k = ci != NULL ? ci->socket_context : NULL;

		if (k != NULL)
			k->requested = true;
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* bodies are ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     pd_xstrdup("method not allowed\n"));
	if (strcmp(url, "/metrics") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			     metrics_render(m));
	if (strcmp(url, "/healthz") == 0) {
		long long busy;

		pthread_mutex_lock(&m->lock);
		busy = m->busy_since_ms ? pd_now_ms() - m->busy_since_ms : 0;
		pthread_mutex_unlock(&m->lock);
		if (busy > METRICS_STUCK_MS)
			return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				     pd_xasprintf("reconcile stuck for %lld s\n", busy / 1000));
		return reply(c, MHD_HTTP_OK, "text/plain", pd_xstrdup("ok\n"));
	}
	if (strcmp(url, "/readyz") == 0) {
		bool ready;

		pthread_mutex_lock(&m->lock);
		ready = m->ready;
		pthread_mutex_unlock(&m->lock);
		return ready ? reply(c, MHD_HTTP_OK, "text/plain", pd_xstrdup("ok\n"))
			     : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				     pd_xstrdup("the first reconcile has not finished\n"));
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", pd_xstrdup("not found\n"));
}

/* Parses addr into a socket address; dual: bind every address, v4 and v6. */
static int
parse_addr(const char *addr, struct sockaddr_storage *ss, bool *dual)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	long long port;

	memset(ss, 0, sizeof(*ss));
	*dual = false;
	if (colon == NULL)
		return -EINVAL;
	if (parse_uint(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	if ((size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (host[0] == '\0') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_any;
		*dual = true;
		return 0;
	}
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -EINVAL;
	}
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_server *s = cls;
	struct conn *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *peer =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		k = pd_xcalloc(1, sizeof(*k));
		k->fd = fd != NULL ? fd->connect_fd : -1;
		k->start_ms = pd_now_ms();
		if (peer != NULL && peer->client_addr != NULL)
			memcpy(&k->peer, peer->client_addr,
			       peer->client_addr->sa_family == AF_INET6
				       ? sizeof(struct sockaddr_in6)
				       : sizeof(struct sockaddr_in));
		k->prev = s->tail;
		if (s->tail != NULL)
			s->tail->next = k;
		else
			s->head = k;
		s->tail = k;
		*socket_context = k;
		return;
	}
	if (k == NULL) /* MHD_CONNECTION_NOTIFY_CLOSED */
		return;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		s->head = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		s->tail = k->prev;
	free(k);
	*socket_context = NULL;
}

static bool
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

/* Shuts the connection down; libmicrohttpd sees the end of it in its next
 * run and closes it (the fd stays its own until then). */
static void
drop(struct metrics_server *s, struct conn *k, int reason)
{
	if (k->fd >= 0)
		shutdown(k->fd, SHUT_RDWR);
	k->closing = true;
	pthread_mutex_lock(&s->m->lock);
	s->m->http_closed[reason]++;
	pthread_mutex_unlock(&s->m->lock);
}

/* The oldest open connection (of peer's address, when peer is not NULL)
 * without a whole request yet; NULL when there is none.  *n: how many are
 * open (of that address). */
static struct conn *
oldest_incomplete(struct metrics_server *s, const struct sockaddr_storage *peer, size_t *n)
{
	struct conn *old = NULL;

	*n = 0;
	for (struct conn *k = s->head; k != NULL; k = k->next) {
		if (k->closing || (peer != NULL && !same_peer(&k->peer, peer)))
			continue;
		(*n)++;
		if (old == NULL && !k->requested)
			old = k;
	}
	return old;
}

/*
 * Runs after each libmicrohttpd run, in the same thread, so every listed
 * connection is still open.  Closes connections past the deadline, then,
 * over a limit, the oldest that has not sent a whole request: a new client
 * always gets a slot, and a request that is complete (a probe sends it in
 * one packet) is answered before anything closes it.  Returns the time to
 * the next deadline in ms, or -1.
 */
static long long
sweep(struct metrics_server *s)
{
	long long now = pd_now_ms(), next = -1;
	struct conn *victim;
	size_t n;

	for (struct conn *k = s->head; k != NULL; k = k->next) {
		long long left = k->start_ms + METRICS_CONN_DEADLINE_MS - now;

		if (k->closing)
			continue;
		if (left <= 0) {
			drop(s, k, 0);
			continue;
		}
		if (next < 0 || left < next)
			next = left;
	}
	for (struct conn *k = s->head; k != NULL; k = k->next)
		while (!k->closing && (victim = oldest_incomplete(s, &k->peer, &n)) != NULL &&
		       n > METRICS_CONN_PER_IP)
			drop(s, victim, 1);
	while ((victim = oldest_incomplete(s, NULL, &n)) != NULL && n > METRICS_CONN_SOFT_LIMIT)
		drop(s, victim, 1);
	return next;
}

static void *
serve(void *arg)
{
	struct metrics_server *s = arg;
	const union MHD_DaemonInfo *ep = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	long long next = -1;

	if (ep == NULL)
		return NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = ep->epoll_fd, .events = POLLIN },
				       { .fd = s->stopfd, .events = POLLIN } };
		MHD_UNSIGNED_LONG_LONG mhd_ms;
		long long timeout = next;

		if (MHD_get_timeout(s->d, &mhd_ms) == MHD_YES &&
		    (timeout < 0 || (long long)mhd_ms < timeout))
			timeout = mhd_ms > 60000 ? 60000 : (long long)mhd_ms;
		if (poll(p, 2, (int)timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			break;
		/* A connection shut down by sweep() wakes the epoll fd (its
		 * end of input): the next run closes it. */
		MHD_run(s->d);
		next = sweep(s);
	}
	return NULL;
}

int
metrics_start(const char *addr, struct metrics *m, struct metrics_server **out)
{
	struct sockaddr_storage ss;
	struct metrics_server *s;
	bool dual;
	/* Our own thread runs it (serve), so the deadlines are applied between
	 * its runs, in the thread that owns the connections. */
	unsigned flags = MHD_USE_EPOLL;
	int ret = 0;

	*out = NULL;
	if (addr == NULL || *addr == '\0')
		return 0;
	if (parse_addr(addr, &ss, &dual) < 0) {
		log_error("--metrics-addr: want HOST:PORT, :PORT or [V6]:PORT", "addr", addr, NULL);
		return -EINVAL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= dual ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	s = pd_xcalloc(1, sizeof(*s));
	s->m = m;
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0) {
		ret = -errno;
		log_error("cannot serve health and metrics", "addr", addr, "error", strerror(-ret),
			  NULL);
		free(s);
		return ret;
	}
	errno = 0;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_HARD_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)(METRICS_CONN_DEADLINE_MS / 1000),
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
	if (s->d == NULL || (ret = -pthread_create(&s->thread, NULL, serve, s)) < 0) {
		int saved = s->d == NULL ? (errno ? errno : EADDRINUSE) : -ret;

		log_error("cannot serve health and metrics", "addr", addr, "error", strerror(saved),
			  NULL);
		if (s->d != NULL)
			MHD_stop_daemon(s->d);
		close(s->stopfd);
		free(s);
		return -saved;
	}
	log_info("serving /healthz, /readyz and /metrics", "addr", addr, NULL);
	*out = s;
	return 0;
}

void
metrics_stop(struct metrics_server *s)
{
	uint64_t one = 1;

	if (s == NULL)
		return;
	if (write(s->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	/* Closes what is still open (on_connection frees each). */
	MHD_stop_daemon(s->d);
	close(s->stopfd);
	free(s);
}
