/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue of Kubernetes Events about this Node (docs/api.md, "Events"):
 * events wait here until the next node sync posts them, at most
 * EVENTS_PER_MINUTE a minute (a token bucket), and the same event again
 * within EVENT_AGGREGATE_MS counts up on the Event already posted instead
 * of making a new one.  Times are passed in, so that the rules are tested
 * without a clock; only events_post_all() talks to the API server.
 */
#ifndef PROFILED_EVENTS_H
#define PROFILED_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../lib/kube.h"

#define EVENTS_PER_MINUTE  30
#define EVENT_AGGREGATE_MS (10 * 60 * 1000)
#define EVENT_QUEUE_MAX	   100	/* the API is down for long: keep the first ones */
#define EVENT_MESSAGE_MAX  1000 /* Event messages are at most 1 KiB in the API */

struct node_event {
	char *type;   /* Normal, Warning */
	char *reason; /* ProfilePublished, ProfileRejected... */
	char *message;
};

struct event_seen {
	char *key;  /* type \n reason \n message */
	char *name; /* the Event object's name */
	int count;
	long long last_ms;
	char *first_time;
};

struct event_queue {
	struct node_event *queue;
	size_t nqueue, capqueue;
	struct event_seen *seen; /* posted lately: the aggregation keys */
	size_t nseen, capseen;
	double tokens; /* a bucket of EVENTS_PER_MINUTE */
	long long tokens_ms;
	unsigned long dropped; /* events never posted: queue full or over the rate */
};

/* Where the events go: the Node they are about and the API connection. */
struct event_target {
	struct pd_kube *kube;
	const char *ns;	      /* the events' namespace */
	const char *node;     /* the Node's name */
	const char *node_uid; /* NULL until a GET of the Node */
};

/* One request that posts an event: a new Event, or a count on one. */
struct event_request {
	const char *method; /* POST or PATCH */
	const char *ctype;
	char *path;
	char *body;
	char name[256]; /* the Event's name (POST) */
};

void events_init(struct event_queue *q, long long now_ms);
void events_clear(struct event_queue *q);

/* Queues an event (copies the strings; the message is cut at
 * EVENT_MESSAGE_MAX bytes); counted as dropped when the queue is full. */
void events_push(struct event_queue *q, const char *type, const char *reason, const char *message);

/* The rate limit: true when one more event may be posted at now_ms. */
bool events_take_token(struct event_queue *q, long long now_ms);

/* The aggregation key of an event (the caller frees it). */
char *events_key(const struct node_event *e);

/* The same event posted within EVENT_AGGREGATE_MS of now_ms, or NULL. */
struct event_seen *events_seen_find(struct event_queue *q, const char *key, long long now_ms);

/* Records a posted event: a new Event of that name (POST, s NULL), or one
 * more count of s. */
void events_record(struct event_queue *q, struct event_seen *s, const char *key, const char *name,
		   const char *now, long long now_ms);

/* The request for e: a PATCH of the count when s is not NULL, else a POST
 * of a new Event named after the node, wall and the key.  now: RFC 3339. */
void events_request(const struct event_target *t, const struct node_event *e,
		    const struct event_seen *s, const char *now, time_t wall,
		    struct event_request *out);
void events_request_clear(struct event_request *r);

/* Forgets aggregation keys too old to matter. */
void events_forget(struct event_queue *q, long long now_ms);

/* Forgets every aggregation key (the Node is another object now). */
void events_forget_seen(struct event_queue *q);

/* Now as Events and the Node's condition write it: RFC 3339, UTC. */
void events_now(char out[32]);

/* Posts the queued events (those over the rate are dropped, and said so),
 * then empties the queue. */
void events_post_all(struct event_queue *q, const struct event_target *t);

#endif
