/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/events.c: the queue of Events about the Node (docs/api.md,
 * "Events"): its bound, the rate limit (EVENTS_PER_MINUTE, a token bucket)
 * and the aggregation of the same event within EVENT_AGGREGATE_MS.  Times
 * are given, never read from a clock.
 */
#include "unit.h"

#include <cjson/cJSON.h>

#include "../../agent/events.h"

#define T0 1000000LL

static void
queue_keeps_the_first_hundred_and_counts_the_rest(void **state)
{
	struct event_queue q;
	char big[2000];

	(void)state;
	events_init(&q, T0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < EVENT_QUEUE_MAX + 7; i++)
		events_push(&q, "Normal", "ProfilePublished", i == 0 ? big : "m");
	assert_int_equal(q.nqueue, EVENT_QUEUE_MAX);
	assert_int_equal(q.dropped, 7);
	/* A message is cut to what the API takes, and says so. */
	assert_int_equal(strlen(q.queue[0].message), EVENT_MESSAGE_MAX);
	assert_string_equal(q.queue[0].message + EVENT_MESSAGE_MAX - 3, "...");
	assert_string_equal(q.queue[1].reason, "ProfilePublished");
	events_clear(&q);
}

static void
rate_limit_is_a_bucket_of_thirty_a_minute(void **state)
{
	struct event_queue q;
	int n = 0;

	(void)state;
	events_init(&q, T0);
	while (events_take_token(&q, T0))
		n++;
	assert_int_equal(n, EVENTS_PER_MINUTE);
	/* One token comes back every 2 s. */
	assert_false(events_take_token(&q, T0 + 1999));
	assert_true(events_take_token(&q, T0 + 2100));
	assert_false(events_take_token(&q, T0 + 2100));
	/* A long quiet time fills the bucket, no more. */
	n = 0;
	while (events_take_token(&q, T0 + 3600 * 1000LL))
		n++;
	assert_int_equal(n, EVENTS_PER_MINUTE);
	events_clear(&q);
}

static void
same_event_within_ten_minutes_counts_on_the_posted_one(void **state)
{
	struct event_target t = { NULL, "default", "node-1", "uid-1" };
	char type[] = "Warning", reason[] = "ProfileRejected";
	char m1[] = "bad.json: not JSON", m2[] = "other.json: not JSON";
	struct node_event e = { type, reason, m1 };
	struct node_event other = { type, reason, m2 };
	_cleanup_free_ char *key = events_key(&e);
	_cleanup_free_ char *okey = events_key(&other);
	struct event_request r;
	struct event_queue q;
	struct event_seen *s;
	cJSON *body;

	(void)state;
	events_init(&q, T0);
	/* The first time: a new Event, named after the node. */
	assert_null(events_seen_find(&q, key, T0));
	events_request(&t, &e, NULL, "2026-01-01T00:00:00Z", 0x1234, &r);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/api/v1/namespaces/default/events");
	assert_true(strncmp(r.name, "node-1.1234", 11) == 0);
	body = cJSON_Parse(r.body);
	assert_int_equal(cJSON_GetObjectItem(body, "count")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "involvedObject"), "uid")
				    ->valuestring,
			    "uid-1");
	cJSON_Delete(body);
	events_record(&q, NULL, key, r.name, "2026-01-01T00:00:00Z", T0);
	events_request_clear(&r);
	/* Again within ten minutes: a PATCH of the count on that object. */
	s = events_seen_find(&q, key, T0 + EVENT_AGGREGATE_MS - 1);
	assert_non_null(s);
	assert_null(events_seen_find(&q, okey, T0 + 1));
	events_request(&t, &e, s, "2026-01-01T00:05:00Z", 0x1300, &r);
	assert_string_equal(r.method, "PATCH");
	assert_string_equal(r.ctype, "application/merge-patch+json");
	assert_contains(r.path, "/api/v1/namespaces/default/events/node-1.1234");
	assert_string_equal(r.body, "{\"count\":2,\"lastTimestamp\":\"2026-01-01T00:05:00Z\"}");
	events_request_clear(&r);
	events_record(&q, s, key, NULL, "2026-01-01T00:05:00Z", T0 + 5000);
	assert_int_equal(q.seen[0].count, 2);
	/* Ten minutes after the last one: a new Event, the key forgotten. */
	assert_null(events_seen_find(&q, key, T0 + 5000 + EVENT_AGGREGATE_MS));
	events_forget(&q, T0 + 5000 + EVENT_AGGREGATE_MS - 1);
	assert_int_equal(q.nseen, 1);
	events_forget(&q, T0 + 5000 + EVENT_AGGREGATE_MS);
	assert_int_equal(q.nseen, 0);
	events_clear(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_keeps_the_first_hundred_and_counts_the_rest),
		cmocka_unit_test(rate_limit_is_a_bucket_of_thirty_a_minute),
		cmocka_unit_test(same_event_within_ten_minutes_counts_on_the_posted_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
