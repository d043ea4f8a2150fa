/* SPDX-License-Identifier: Apache-2.0 */
#include "events.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "log.h"

void
events_init(struct event_queue *q, long long now_ms)
{
	memset(q, 0, sizeof(*q));
	q->tokens = EVENTS_PER_MINUTE;
	q->tokens_ms = now_ms;
}

static void
clear_queue(struct event_queue *q)
{
	for (size_t i = 0; i < q->nqueue; i++) {
		free(q->queue[i].type);
		free(q->queue[i].reason);
		free(q->queue[i].message);
	}
	q->nqueue = 0;
}

static void
seen_free(struct event_seen *s)
{
	free(s->key);
	free(s->name);
	free(s->first_time);
}

void
events_clear(struct event_queue *q)
{
	clear_queue(q);
	free(q->queue);
	for (size_t i = 0; i < q->nseen; i++)
		seen_free(&q->seen[i]);
	free(q->seen);
	memset(q, 0, sizeof(*q));
}

void
events_push(struct event_queue *q, const char *type, const char *reason, const char *message)
{
	struct node_event *e;

	if (q->nqueue >= EVENT_QUEUE_MAX) {
		q->dropped++;
		return;
	}
	pd_grow(&q->queue, &q->capqueue, q->nqueue + 1, sizeof(*q->queue));
	e = &q->queue[q->nqueue++];
	e->type = pd_xstrdup(type);
	e->reason = pd_xstrdup(reason);
	e->message = pd_xstrdup(message);
	if (strlen(e->message) > EVENT_MESSAGE_MAX)
		strcpy(e->message + EVENT_MESSAGE_MAX - 3, "...");
}

bool
events_take_token(struct event_queue *q, long long now_ms)
{
	q->tokens += (double)(now_ms - q->tokens_ms) * EVENTS_PER_MINUTE / 60000.0;
	if (q->tokens > EVENTS_PER_MINUTE)
		q->tokens = EVENTS_PER_MINUTE;
	q->tokens_ms = now_ms;
	if (q->tokens < 1.0)
		return false;
	q->tokens -= 1.0;
	return true;
}

char *
events_key(const struct node_event *e)
{
	return pd_xasprintf("%s\n%s\n%s", e->type, e->reason, e->message);
}

struct event_seen *
events_seen_find(struct event_queue *q, const char *key, long long now_ms)
{
	for (size_t i = 0; i < q->nseen; i++)
		if (strcmp(q->seen[i].key, key) == 0 &&
		    now_ms - q->seen[i].last_ms < EVENT_AGGREGATE_MS)
			return &q->seen[i];
	return NULL;
}

void
events_record(struct event_queue *q, struct event_seen *s, const char *key, const char *name,
	      const char *now, long long now_ms)
{
	if (s == NULL) {
		pd_grow(&q->seen, &q->capseen, q->nseen + 1, sizeof(*q->seen));
		s = &q->seen[q->nseen++];
		s->key = pd_xstrdup(key);
		s->name = pd_xstrdup(name);
		s->count = 0;
		s->first_time = pd_xstrdup(now);
	}
	s->count++;
	s->last_ms = now_ms;
}

/* A core/v1 Event about the Node, as `kubectl describe node` shows it. */
static cJSON *
new_event(const struct event_target *t, const struct node_event *e, const char *name,
	  const char *now)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON *inv = cJSON_AddObjectToObject(o, "involvedObject");
	cJSON *src = cJSON_AddObjectToObject(o, "source");

	if (o == NULL || meta == NULL || inv == NULL || src == NULL)
		pd_oom();
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", t->ns);
	cJSON_AddStringToObject(inv, "apiVersion", "v1");
	cJSON_AddStringToObject(inv, "kind", "Node");
	cJSON_AddStringToObject(inv, "name", t->node);
	if (t->node_uid != NULL)
		cJSON_AddStringToObject(inv, "uid", t->node_uid);
	cJSON_AddStringToObject(o, "reason", e->reason);
	cJSON_AddStringToObject(o, "message", e->message);
	cJSON_AddStringToObject(o, "type", e->type);
	cJSON_AddStringToObject(src, "component", "profiled");
	cJSON_AddStringToObject(src, "host", t->node);
	cJSON_AddStringToObject(o, "reportingComponent", "profiled");
	cJSON_AddStringToObject(o, "reportingInstance", t->node);
	cJSON_AddStringToObject(o, "firstTimestamp", now);
	cJSON_AddStringToObject(o, "lastTimestamp", now);
	cJSON_AddNumberToObject(o, "count", 1);
	return o;
}

void
events_request(const struct event_target *t, const struct node_event *e, const struct event_seen *s,
	       const char *now, time_t wall, struct event_request *out)
{
	cJSON *o;

	memset(out, 0, sizeof(*out));
	if (s != NULL) {
		/* The same event again: count it on the existing object. */
		if ((o = cJSON_CreateObject()) == NULL)
			pd_oom();
		cJSON_AddNumberToObject(o, "count", s->count + 1);
		cJSON_AddStringToObject(o, "lastTimestamp", now);
		out->method = "PATCH";
		out->ctype = "application/merge-patch+json";
		out->path = pd_xasprintf("/api/v1/namespaces/%s/events/%s", t->ns, s->name);
	} else {
		_cleanup_free_ char *key = events_key(e);
		char hex[PD_SHA256_HEX_LEN + 1];

		pd_sha256_hex(key, strlen(key), hex);
		hex[16] = '\0';
		/* node.<time><hash>: unique, and a valid DNS subdomain */
		snprintf(out->name, sizeof(out->name), "%.200s.%lx%.8s", t->node,
			 (unsigned long)wall, hex + 8);
		o = new_event(t, e, out->name, now);
		out->method = "POST";
		out->ctype = "application/json";
		out->path = pd_xasprintf("/api/v1/namespaces/%s/events", t->ns);
	}
	out->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (out->body == NULL)
		pd_oom();
}

void
events_request_clear(struct event_request *r)
{
	free(r->path);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void
events_forget(struct event_queue *q, long long now_ms)
{
	for (size_t i = 0; i < q->nseen;) {
		if (now_ms - q->seen[i].last_ms >= EVENT_AGGREGATE_MS) {
			seen_free(&q->seen[i]);
			q->seen[i] = q->seen[--q->nseen];
		} else {
			i++;
		}
	}
}

void
events_forget_seen(struct event_queue *q)
{
	for (size_t i = 0; i < q->nseen; i++)
		seen_free(&q->seen[i]);
	q->nseen = 0;
}

void
events_now(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
post_event(struct event_queue *q, const struct event_target *t, const struct node_event *e)
{
	_cleanup_free_ char *key = events_key(e);
	struct event_seen *s = events_seen_find(q, key, pd_now_ms());
	struct pd_kube_response r = { 0 };
	struct event_request req;
	pd_error_t err = NULL;
	char now[32];
	int ret;

	events_now(now);
	events_request(t, e, s, now, time(NULL), &req);
	ret = pd_kube_request(t->kube, req.method, req.path, req.ctype, req.body, &r, &err);
	if (ret < 0 || (r.status != 200 && r.status != 201)) {
		_cleanup_free_ char *msg =
			ret < 0 ? pd_xstrdup(pd_error_msg(err)) : pd_kube_status_message(&r);

		log_warn("event not posted", "reason", e->reason, "error", msg, NULL);
	} else {
		events_record(q, s, key, req.name, now, pd_now_ms());
	}
	pd_error_release(&err);
	pd_kube_response_clear(&r);
	events_request_clear(&req);
}

void
events_post_all(struct event_queue *q, const struct event_target *t)
{
	unsigned long dropped = 0;

	for (size_t i = 0; i < q->nqueue; i++) {
		if (!events_take_token(q, pd_now_ms())) {
			dropped++;
			continue;
		}
		post_event(q, t, &q->queue[i]);
	}
	if (dropped > 0) {
		char d[24];

		q->dropped += dropped;
		snprintf(d, sizeof(d), "%lu", dropped);
		log_warn("events dropped: over the rate limit", "dropped", d, NULL);
	}
	clear_queue(q);
	events_forget(q, pd_now_ms());
}
