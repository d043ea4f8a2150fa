/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "problems.h"

#include "../lib/rules.h"

/* The one place that maps a problem class to what it does.  The log texts
 * are the ones operators and tests grep for: keep them. */
static const struct problem_class_info table[PROBLEM_CLASS_COUNT] = {
	[PROBLEM_SECCOMP_REJECTED] = { "seccomp profile rejected", LOG_LVL_ERROR, "ProfileRejected",
				       "ProfileInvalid", "seccomp_rejected", PROBLEM_KIND_SECCOMP,
				       PROBLEM_COUNTS_VALIDATION, true },
	[PROBLEM_SECCOMP_WARNING] = { "seccomp profile warning", LOG_LVL_WARN, "ProfileWarning",
				      NULL, "seccomp_warning", PROBLEM_KIND_SECCOMP,
				      PROBLEM_COUNTS_NOTHING, false },
	[PROBLEM_SECCOMP_NOT_PUBLISHED] = { "seccomp profile not published", LOG_LVL_ERROR,
					    "ProfileNotPublished", "LoadFailed",
					    "seccomp_not_published", PROBLEM_KIND_SECCOMP,
					    PROBLEM_COUNTS_LOAD, false },
	[PROBLEM_APPARMOR_REJECTED] = { "apparmor profile rejected", LOG_LVL_ERROR,
					"ProfileRejected", "ProfileInvalid", "apparmor_rejected",
					PROBLEM_KIND_APPARMOR, PROBLEM_COUNTS_VALIDATION, true },
	[PROBLEM_APPARMOR_WARNING] = { "apparmor profile warning", LOG_LVL_WARN, "ProfileWarning",
				       NULL, "apparmor_warning", PROBLEM_KIND_APPARMOR,
				       PROBLEM_COUNTS_NOTHING, false },
	[PROBLEM_APPARMOR_NOT_HANDLED] = { "apparmor profile not handled", LOG_LVL_ERROR,
					   "ProfileNotHandled", "LoadFailed",
					   "apparmor_not_handled", PROBLEM_KIND_APPARMOR,
					   PROBLEM_COUNTS_LOAD, false },
	[PROBLEM_APPARMOR_NOT_LOADED] = { "apparmor profile not loaded", LOG_LVL_ERROR,
					  "ProfileNotLoaded", "LoadFailed", "apparmor_not_loaded",
					  PROBLEM_KIND_APPARMOR, PROBLEM_COUNTS_LOAD, false },
	[PROBLEM_APPARMOR_NOT_CONFIRMED] = { "apparmor profile not confirmed", LOG_LVL_ERROR,
					     "ProfileNotConfirmed", "Pending",
					     "apparmor_not_confirmed", PROBLEM_KIND_APPARMOR,
					     PROBLEM_COUNTS_LOAD, false },
	/* The profile is loaded and in place: what it enforces is all the
	 * node can do (docs/apparmor.md), so it does not hold the condition. */
	[PROBLEM_APPARMOR_RULES_NOT_ENFORCED] = { "apparmor rules not enforced", LOG_LVL_WARN,
						  "RulesNotEnforced", NULL,
						  "apparmor_rules_not_enforced",
						  PROBLEM_KIND_APPARMOR, PROBLEM_COUNTS_NOTHING,
						  false },
};

const struct problem_class_info *
problem_info(enum problem_class c)
{
	return &table[c];
}

static void
problem_clear(struct problem *p)
{
	free(p->path);
	free(p->sha256);
	free(p->detail);
	free(p->context);
}

void
problem_list_clear(struct problem_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		problem_clear(&l->v[i]);
	free(l->v);
	*l = (struct problem_list){ 0 };
}

void
event_emit(const struct event_sink *s, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (s == NULL || s->emit == NULL)
		return;
	va_start(ap, fmt);
	msg = pd_xvasprintf(fmt, ap);
	va_end(ap);
	s->emit(s->ctx, type, reason, msg);
	free(msg);
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
contains(const struct problem_list *l, const struct problem *p)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct problem *q = &l->v[i];

		if (q->cls == p->cls && str_eq(q->path, p->path) && str_eq(q->sha256, p->sha256) &&
		    str_eq(q->detail, p->detail) && str_eq(q->context, p->context))
			return true;
	}
	return false;
}

bool
problems_add(struct problems *p, enum problem_class c, const struct pd_source *s,
	     const char *detail, const char *context)
{
	struct problem *q;

	pd_grow(&p->now.v, &p->now.cap, p->now.n + 1, sizeof(*p->now.v));
	q = &p->now.v[p->now.n++];
	*q = (struct problem){
		.cls = c,
		.path = pd_xstrdup(s->path),
		.sha256 = pd_xstrdup(s->sha256),
		.detail = detail != NULL ? pd_xstrdup(detail) : NULL,
		.context = context != NULL ? pd_xstrdup(context) : NULL,
	};
	return !contains(&p->reported, q);
}

void
problems_report(struct problems *p, enum problem_class c, const struct pd_source *s,
		const char *detail)
{
	const struct problem_class_info *ci = problem_info(c);
	bool error = ci->level == LOG_LVL_ERROR;

	if (!problems_add(p, c, s, detail, NULL)) {
		log_debug(ci->log_text, "file", s->path, "repeated", "true", NULL);
		return;
	}
	log_kv(ci->level, ci->log_text, "file", s->path, "error", error ? detail : NULL, "detail",
	       error ? NULL : detail, NULL);
	if (p->metrics != NULL && ci->counter != PROBLEM_COUNTS_NOTHING) {
		pthread_mutex_lock(&p->metrics->lock);
		if (ci->counter == PROBLEM_COUNTS_VALIDATION)
			p->metrics->validation_failures[ci->kind]++;
		else
			p->metrics->load_failures[ci->kind]++;
		pthread_mutex_unlock(&p->metrics->lock);
	}
	event_emit(p->events, "Warning", ci->event_reason, "%s: %s", s->path, detail);
}

void
problems_end_round(struct problems *p)
{
	problem_list_clear(&p->reported);
	p->reported = p->now;
	p->now = (struct problem_list){ 0 };
}

unsigned
problems_rejected(const struct problem_list *l, enum problem_kind kind)
{
	unsigned n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct problem_class_info *ci = problem_info(l->v[i].cls);

		n += ci->rejected && ci->kind == kind;
	}
	return n;
}

_Static_assert(PROBLEM_CLASS_COUNT <= METRICS_NPROBLEMS, "METRICS_NPROBLEMS too small");

void
problems_gauges(const struct problem_list *l, struct metrics *m)
{
	for (int c = 0; c < PROBLEM_CLASS_COUNT; c++) {
		m->problems[c].label = table[c].metric;
		m->problems[c].n = 0;
	}
	for (size_t i = 0; i < l->n; i++)
		m->problems[l->v[i].cls].n++;
}

const struct problem *
problems_first_blocking(const struct problem_list *l, size_t *more)
{
	const struct problem *first = NULL;

	*more = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (problem_info(l->v[i].cls)->ready_reason == NULL)
			continue;
		if (first == NULL)
			first = &l->v[i];
		else
			(*more)++;
	}
	return first;
}

bool
problem_source_vanished(const struct pd_source *s)
{
	if (!pd_source_absent(s)) /* rules.h */
		return false;
	log_debug("entry vanished or its link dangles; taken as absent", "file", s->path, NULL);
	return true;
}
