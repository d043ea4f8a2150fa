/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Problems with profile files, typed.  Each class has one row in one table:
 * its log text, the reason of its Warning Event, the ProfilesReady reason it
 * gives when it is the first problem (none for warnings), and its metric.
 * Nothing compares message text to decide anything: rewording a log line
 * changes the log line only.
 *
 * A problem is logged (and counted, and sent as an Event) once for as long
 * as it persists: a reconcile collects this round's problems; one that the
 * last round had too is repeated at debug level only.
 *
 * Events go through an event_sink: the node's queue in API mode, nowhere
 * in local mode.  This part knows neither the node nor the daemon state.
 */
#ifndef PROFILED_PROBLEMS_H
#define PROFILED_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/scan.h"
#include "log.h"
#include "metrics.h"

enum problem_class {
	PROBLEM_SECCOMP_REJECTED,
	PROBLEM_SECCOMP_WARNING,
	PROBLEM_SECCOMP_NOT_PUBLISHED,
	PROBLEM_APPARMOR_REJECTED,
	PROBLEM_APPARMOR_WARNING,
	PROBLEM_APPARMOR_NOT_HANDLED,
	PROBLEM_APPARMOR_NOT_LOADED,
	PROBLEM_APPARMOR_NOT_CONFIRMED,
	PROBLEM_APPARMOR_RULES_NOT_ENFORCED,
	PROBLEM_CLASS_COUNT
};

/* Which counter of struct metrics a new problem of the class adds one to. */
enum problem_counter {
	PROBLEM_COUNTS_NOTHING,
	PROBLEM_COUNTS_VALIDATION, /* profiled_validation_failures_total{kind} */
	PROBLEM_COUNTS_LOAD,	   /* profiled_load_failures_total{kind} */
};

enum problem_kind { PROBLEM_KIND_SECCOMP, PROBLEM_KIND_APPARMOR }; /* metrics' kind index */

struct problem_class_info {
	const char *log_text;	  /* the log line's message */
	enum log_level level;	  /* of that line */
	const char *event_reason; /* the Warning Event's reason (CamelCase) */
	const char *ready_reason; /* ProfilesReady reason; NULL: does not hold it False */
	const char *metric;	  /* the class label: unique, snake_case */
	enum problem_kind kind;
	enum problem_counter counter;
	bool rejected; /* the file is rejected: counted in the *_rejected gauge */
};

/* The row of c; c must be a class (< PROBLEM_CLASS_COUNT). */
const struct problem_class_info *problem_info(enum problem_class c);

struct problem {
	enum problem_class cls;
	char *path;    /* the file */
	char *sha256;  /* of its content */
	char *detail;  /* why */
	char *context; /* the AppArmor compile context (rules not enforced), or NULL */
};

struct problem_list {
	struct problem *v;
	size_t n, cap;
};

void problem_list_clear(struct problem_list *l);

/* Where Events go.  emit NULL: nowhere (local mode). */
struct event_sink {
	void (*emit)(void *ctx, const char *type, const char *reason, const char *message);
	void *ctx;
};

void event_emit(const struct event_sink *s, const char *type, const char *reason, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

struct problems {
	struct problem_list reported; /* the last round's: logged already */
	struct problem_list now;      /* this round's so far */
	struct metrics *metrics;      /* counters; NULL: none */
	const struct event_sink *events;
};

/*
 * Records a problem of this round.  Returns true when it is new (the last
 * round did not have it): the caller that logs in its own words (rules not
 * enforced) does so then.
 */
bool problems_add(struct problems *p, enum problem_class c, const struct pd_source *s,
		  const char *detail, const char *context);

/* Records a problem and, when new, logs it with the class's text, counts
 * it and sends a Warning Event "PATH: DETAIL"; else logs it at debug. */
void problems_report(struct problems *p, enum problem_class c, const struct pd_source *s,
		     const char *detail);

/* Ends a round: this round's problems become the reported ones. */
void problems_end_round(struct problems *p);

/* The files rejected in l, of one kind (the *_rejected gauges). */
unsigned problems_rejected(const struct problem_list *l, enum problem_kind kind);

/* Sets the per-class gauges of m (the metric labels of the table) to the
 * problems of l; m's lock must be held. */
void problems_gauges(const struct problem_list *l, struct metrics *m);

/* The first problem of l that holds ProfilesReady False, or NULL; *more:
 * how many others do. */
const struct problem *problems_first_blocking(const struct problem_list *l, size_t *more);

/*
 * An entry that no longer exists when it is opened, or a link whose target
 * does not: during the kubelet's swap a key's link dangles between the
 * rename of ..data and the removal of the link.  Such an entry is absent,
 * not broken (logged at debug).
 */
bool problem_source_vanished(const struct pd_source *s);

#endif
