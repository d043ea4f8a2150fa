/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/metrics.c: the Prometheus text of /metrics, every family and line,
 * byte for byte (names, labels, order and number formats are an interface:
 * dashboards and alerts depend on them; docs/operations.md lists them).
 */
#include "unit.h"

#include "../../agent/metrics.h"

/* Every figure distinct, every slot of the problem and code tables used
 * (more than the first 4096-byte buffer). */
static void
fill(struct metrics *m)
{
	static const char *const labels[METRICS_NPROBLEMS] = {
		"p0", "p1", "p2",  "p3",  "p4",	 "p5",	"p6",  "p7",
		"p8", "p9", "p10", "p11", "p12", "p13", "p14", "p15",
	};

	m->ready = true;
	m->last_success_unix = 1765000000.25;
	m->seccomp_published = 1;
	m->seccomp_rejected = 2;
	m->apparmor_loaded = 3;
	m->apparmor_unconfirmed = 4;
	m->apparmor_retired = 5;
	m->apparmor_rejected = 6;
	for (int i = 0; i < METRICS_NPROBLEMS; i++) {
		m->problems[i].label = labels[i];
		m->problems[i].n = 100u + (unsigned)i;
	}
	m->validation_failures[0] = 7;
	m->validation_failures[1] = 8;
	m->load_failures[0] = 9;
	m->load_failures[1] = 10;
	m->reconciles = 1000;
	m->reconcile_sum_s = 12.3456789;
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		m->reconcile_buckets[i] = 10u * (unsigned)i + 1;
	for (int i = 0; i < METRICS_NCODES; i++) {
		snprintf(m->api[i].code, sizeof(m->api[i].code), "2%02hhu", (unsigned char)i);
		m->api[i].n = 500u + (unsigned)i;
	}
	m->events_dropped = 11;
	m->http_closed[0] = 12;
	m->http_closed[1] = 13;
}

/* Everything after the build_info line, whose version is the build's. */
static const char expected[] =
	"# HELP profiled_ready Whether the first full reconcile has finished.\n"
	"# TYPE profiled_ready gauge\n"
	"profiled_ready 1\n"
	"# HELP profiled_profiles Profiles the agent manages, by kind and state.\n"
	"# TYPE profiled_profiles gauge\n"
	"profiled_profiles{kind=\"seccomp\",state=\"published\"} 1\n"
	"profiled_profiles{kind=\"seccomp\",state=\"rejected\"} 2\n"
	"profiled_profiles{kind=\"apparmor\",state=\"loaded\"} 3\n"
	"profiled_profiles{kind=\"apparmor\",state=\"unconfirmed\"} 4\n"
	"profiled_profiles{kind=\"apparmor\",state=\"retired\"} 5\n"
	"profiled_profiles{kind=\"apparmor\",state=\"rejected\"} 6\n"
	"# HELP profiled_problems Problems with profile files right now, by class.\n"
	"# TYPE profiled_problems gauge\n"
	"profiled_problems{class=\"p0\"} 100\n"
	"profiled_problems{class=\"p1\"} 101\n"
	"profiled_problems{class=\"p2\"} 102\n"
	"profiled_problems{class=\"p3\"} 103\n"
	"profiled_problems{class=\"p4\"} 104\n"
	"profiled_problems{class=\"p5\"} 105\n"
	"profiled_problems{class=\"p6\"} 106\n"
	"profiled_problems{class=\"p7\"} 107\n"
	"profiled_problems{class=\"p8\"} 108\n"
	"profiled_problems{class=\"p9\"} 109\n"
	"profiled_problems{class=\"p10\"} 110\n"
	"profiled_problems{class=\"p11\"} 111\n"
	"profiled_problems{class=\"p12\"} 112\n"
	"profiled_problems{class=\"p13\"} 113\n"
	"profiled_problems{class=\"p14\"} 114\n"
	"profiled_problems{class=\"p15\"} 115\n"
	"# HELP profiled_validation_failures_total Profile files rejected, by kind.\n"
	"# TYPE profiled_validation_failures_total counter\n"
	"profiled_validation_failures_total{kind=\"seccomp\"} 7\n"
	"profiled_validation_failures_total{kind=\"apparmor\"} 8\n"
	"# HELP profiled_load_failures_total Valid profiles that could not be published or loaded, by kind.\n"
	"# TYPE profiled_load_failures_total counter\n"
	"profiled_load_failures_total{kind=\"seccomp\"} 9\n"
	"profiled_load_failures_total{kind=\"apparmor\"} 10\n"
	"# HELP profiled_reconcile_duration_seconds Time of each reconcile.\n"
	"# TYPE profiled_reconcile_duration_seconds histogram\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.005\"} 1\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.01\"} 12\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.025\"} 33\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.05\"} 64\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.1\"} 105\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.25\"} 156\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"0.5\"} 217\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"1\"} 288\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"2.5\"} 369\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"5\"} 460\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"10\"} 561\n"
	"profiled_reconcile_duration_seconds_bucket{le=\"+Inf\"} 1000\n"
	"profiled_reconcile_duration_seconds_sum 12.345679\n"
	"profiled_reconcile_duration_seconds_count 1000\n"
	"# HELP profiled_last_successful_reconcile_timestamp_seconds End of the last reconcile without failures (Unix time).\n"
	"# TYPE profiled_last_successful_reconcile_timestamp_seconds gauge\n"
	"profiled_last_successful_reconcile_timestamp_seconds 1765000000.250\n"
	"# HELP profiled_api_requests_total Requests to the Kubernetes API, by HTTP code (\"error\": no answer).\n"
	"# TYPE profiled_api_requests_total counter\n"
	"profiled_api_requests_total{code=\"200\"} 500\n"
	"profiled_api_requests_total{code=\"201\"} 501\n"
	"profiled_api_requests_total{code=\"202\"} 502\n"
	"profiled_api_requests_total{code=\"203\"} 503\n"
	"profiled_api_requests_total{code=\"204\"} 504\n"
	"profiled_api_requests_total{code=\"205\"} 505\n"
	"profiled_api_requests_total{code=\"206\"} 506\n"
	"profiled_api_requests_total{code=\"207\"} 507\n"
	"profiled_api_requests_total{code=\"208\"} 508\n"
	"profiled_api_requests_total{code=\"209\"} 509\n"
	"profiled_api_requests_total{code=\"210\"} 510\n"
	"profiled_api_requests_total{code=\"211\"} 511\n"
	"profiled_api_requests_total{code=\"212\"} 512\n"
	"profiled_api_requests_total{code=\"213\"} 513\n"
	"profiled_api_requests_total{code=\"214\"} 514\n"
	"profiled_api_requests_total{code=\"215\"} 515\n"
	"# HELP profiled_events_dropped_total Node events not posted: over the rate limit or the queue.\n"
	"# TYPE profiled_events_dropped_total counter\n"
	"profiled_events_dropped_total 11\n"
	"# HELP profiled_http_connections_closed_total Connections to this server closed by it: past the deadline, or to make room over the limits.\n"
	"# TYPE profiled_http_connections_closed_total counter\n"
	"profiled_http_connections_closed_total{reason=\"deadline\"} 12\n"
	"profiled_http_connections_closed_total{reason=\"limit\"} 13\n";

static void
render_is_the_documented_text(void **state)
{
	struct metrics m;
	const char *build = "# HELP profiled_build_info The running build.\n"
			    "# TYPE profiled_build_info gauge\n"
			    "profiled_build_info{version=\"";
	char *text, *rest;

	(void)state;
	metrics_init(&m);
	fill(&m);
	text = metrics_render(&m);
	assert_true(strlen(text) > 4096); /* past the first buffer */
	assert_int_equal(strncmp(text, build, strlen(build)), 0);
	rest = strstr(text, "\"} 1\n");
	assert_non_null(rest);
	assert_string_equal(rest + strlen("\"} 1\n"), expected);
	free(text);
	metrics_destroy(&m);
}

static void
render_of_nothing_has_every_family(void **state)
{
	struct metrics m;
	char *text;

	(void)state;
	metrics_init(&m);
	text = metrics_render(&m);
	/* unused problem and code slots print nothing; fixed lines print 0 */
	assert_null(strstr(text, "profiled_problems{"));
	assert_null(strstr(text, "profiled_api_requests_total{"));
	assert_contains(text, "\nprofiled_ready 0\n");
	assert_contains(text, "\nprofiled_reconcile_duration_seconds_bucket{le=\"+Inf\"} 0\n");
	assert_contains(text, "\nprofiled_http_connections_closed_total{reason=\"limit\"} 0\n");
	free(text);
	metrics_destroy(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(render_is_the_documented_text),
		cmocka_unit_test(render_of_nothing_has_every_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
