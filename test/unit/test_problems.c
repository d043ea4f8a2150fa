/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/problems.c, through libprofiled-agent.a: the one table of problem
 * classes (log text, Event reason, readiness reason, metric) and the rule
 * that a problem is logged, counted and sent once while it persists.
 */
#include "unit.h"

#include <ctype.h>

#include "../../agent/problems.h"

/* The log texts of today: operators and test/bats grep for them, so a
 * class's text never changes by accident. */
static const char *const texts[PROBLEM_CLASS_COUNT] = {
	[PROBLEM_SECCOMP_REJECTED] = "seccomp profile rejected",
	[PROBLEM_SECCOMP_WARNING] = "seccomp profile warning",
	[PROBLEM_SECCOMP_NOT_PUBLISHED] = "seccomp profile not published",
	[PROBLEM_APPARMOR_REJECTED] = "apparmor profile rejected",
	[PROBLEM_APPARMOR_WARNING] = "apparmor profile warning",
	[PROBLEM_APPARMOR_NOT_HANDLED] = "apparmor profile not handled",
	[PROBLEM_APPARMOR_NOT_LOADED] = "apparmor profile not loaded",
	[PROBLEM_APPARMOR_NOT_CONFIRMED] = "apparmor profile not confirmed",
	[PROBLEM_APPARMOR_RULES_NOT_ENFORCED] = "apparmor rules not enforced",
};

/* The Event and ProfilesReady reasons of today (docs/api.md). */
static const char *const events[PROBLEM_CLASS_COUNT] = {
	[PROBLEM_SECCOMP_REJECTED] = "ProfileRejected",
	[PROBLEM_SECCOMP_WARNING] = "ProfileWarning",
	[PROBLEM_SECCOMP_NOT_PUBLISHED] = "ProfileNotPublished",
	[PROBLEM_APPARMOR_REJECTED] = "ProfileRejected",
	[PROBLEM_APPARMOR_WARNING] = "ProfileWarning",
	[PROBLEM_APPARMOR_NOT_HANDLED] = "ProfileNotHandled",
	[PROBLEM_APPARMOR_NOT_LOADED] = "ProfileNotLoaded",
	[PROBLEM_APPARMOR_NOT_CONFIRMED] = "ProfileNotConfirmed",
	[PROBLEM_APPARMOR_RULES_NOT_ENFORCED] = "RulesNotEnforced",
};

static const char *const ready[PROBLEM_CLASS_COUNT] = {
	[PROBLEM_SECCOMP_REJECTED] = "ProfileInvalid",
	[PROBLEM_SECCOMP_NOT_PUBLISHED] = "LoadFailed",
	[PROBLEM_APPARMOR_REJECTED] = "ProfileInvalid",
	[PROBLEM_APPARMOR_NOT_HANDLED] = "LoadFailed",
	[PROBLEM_APPARMOR_NOT_LOADED] = "LoadFailed",
	[PROBLEM_APPARMOR_NOT_CONFIRMED] = "Pending",
	/* warnings and rules not enforced: the profile is in place */
};

/* A Kubernetes reason: CamelCase, a letter first, at most 128 characters. */
static bool
camel_case(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !isupper((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

static bool
snake_case(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static void
every_class_has_its_four_mappings(void **state)
{
	(void)state;
	for (int c = 0; c < PROBLEM_CLASS_COUNT; c++) {
		const struct problem_class_info *ci = problem_info(c);

		assert_non_null(ci->log_text);
		assert_string_equal(ci->log_text, texts[c]);
		assert_non_null(ci->event_reason);
		assert_string_equal(ci->event_reason, events[c]);
		assert_true(camel_case(ci->event_reason));
		if (ready[c] == NULL) {
			assert_null(ci->ready_reason);
			assert_int_not_equal(ci->level, LOG_LVL_ERROR);
		} else {
			assert_string_equal(ci->ready_reason, ready[c]);
			assert_true(camel_case(ci->ready_reason));
			assert_int_equal(ci->level, LOG_LVL_ERROR);
		}
		assert_non_null(ci->metric);
		assert_true(snake_case(ci->metric));
		/* the kind follows the text, as the metrics' kind label did */
		assert_int_equal(ci->kind, strncmp(texts[c], "apparmor", 8) == 0
						   ? PROBLEM_KIND_APPARMOR
						   : PROBLEM_KIND_SECCOMP);
		/* rejected files are validation failures; other errors, load
		 * failures; warnings count nothing */
		assert_int_equal(ci->rejected, strstr(texts[c], "rejected") != NULL);
		assert_int_equal(ci->counter, ci->rejected ? PROBLEM_COUNTS_VALIDATION
					      : ci->level == LOG_LVL_ERROR
						      ? PROBLEM_COUNTS_LOAD
						      : PROBLEM_COUNTS_NOTHING);
	}
}

static void
metric_labels_are_unique(void **state)
{
	(void)state;
	for (int c = 0; c < PROBLEM_CLASS_COUNT; c++)
		for (int d = c + 1; d < PROBLEM_CLASS_COUNT; d++) {
			assert_string_not_equal(problem_info(c)->metric, problem_info(d)->metric);
			assert_string_not_equal(problem_info(c)->log_text,
						problem_info(d)->log_text);
		}
}

struct sink {
	int n;
	char reason[64], message[256];
};

static void
capture(void *ctx, const char *type, const char *reason, const char *message)
{
	struct sink *k = ctx;

	assert_string_equal(type, "Warning");
	k->n++;
	snprintf(k->reason, sizeof(k->reason), "%s", reason);
	snprintf(k->message, sizeof(k->message), "%s", message);
}

static struct pd_source
source(const char *path, char c)
{
	struct pd_source s = { .path = (char *)path };

	memset(s.sha256, c, PD_SHA256_HEX_LEN);
	return s;
}

/* Logged, counted and sent once while it persists; again once it went
 * away for a round; a new content of the file is a new problem. */
static void
a_problem_is_reported_once_while_it_persists(void **state)
{
	struct metrics m;
	struct sink k = { 0 };
	struct event_sink es = { capture, &k };
	struct problems p = { .metrics = &m, .events = &es };
	struct pd_source s = source("/p/a.json", 'a'), s2 = source("/p/a.json", 'b');

	(void)state;
	metrics_init(&m);
	problems_report(&p, PROBLEM_SECCOMP_REJECTED, &s, "bad syscall");
	assert_int_equal(k.n, 1);
	assert_string_equal(k.reason, "ProfileRejected");
	assert_string_equal(k.message, "/p/a.json: bad syscall");
	assert_int_equal(m.validation_failures[PROBLEM_KIND_SECCOMP], 1);
	problems_end_round(&p);
	problems_report(&p, PROBLEM_SECCOMP_REJECTED, &s, "bad syscall");
	assert_int_equal(k.n, 1);
	assert_int_equal(m.validation_failures[PROBLEM_KIND_SECCOMP], 1);
	problems_end_round(&p);
	problems_report(&p, PROBLEM_SECCOMP_REJECTED, &s2, "bad syscall");
	assert_int_equal(k.n, 2);
	problems_end_round(&p);
	problems_end_round(&p); /* gone for a round */
	problems_report(&p, PROBLEM_SECCOMP_REJECTED, &s2, "bad syscall");
	assert_int_equal(k.n, 3);
	problems_report(&p, PROBLEM_APPARMOR_NOT_LOADED, &s, "EPERM");
	assert_string_equal(k.reason, "ProfileNotLoaded");
	assert_int_equal(m.load_failures[PROBLEM_KIND_APPARMOR], 1);
	assert_int_equal(m.validation_failures[PROBLEM_KIND_APPARMOR], 0);
	problems_report(&p, PROBLEM_APPARMOR_WARNING, &s, "deprecated");
	assert_int_equal(m.load_failures[PROBLEM_KIND_APPARMOR], 1);
	assert_string_equal(k.reason, "ProfileWarning");
	problem_list_clear(&p.reported);
	problem_list_clear(&p.now);
	metrics_destroy(&m);
}

/* The rejected gauges and the first problem that holds ProfilesReady
 * False come from the classes, not from the texts. */
static void
gauges_and_readiness_follow_the_classes(void **state)
{
	struct problems p = { 0 };
	struct pd_source a = source("/p/a", 'a'), b = source("/p/b", 'b'), c = source("/p/c", 'c');
	const struct problem *first;
	size_t more;

	(void)state;
	assert_true(problems_add(&p, PROBLEM_APPARMOR_WARNING, &a, "w", NULL));
	assert_true(problems_add(&p, PROBLEM_APPARMOR_RULES_NOT_ENFORCED, &a, "gap", "ctx"));
	assert_null(problems_first_blocking(&p.now, &more));
	assert_int_equal(more, 0);
	assert_true(problems_add(&p, PROBLEM_APPARMOR_NOT_CONFIRMED, &b, "not listed", NULL));
	assert_true(problems_add(&p, PROBLEM_SECCOMP_REJECTED, &c, "bad", NULL));
	assert_true(problems_add(&p, PROBLEM_APPARMOR_REJECTED, &a, "bad", NULL));
	first = problems_first_blocking(&p.now, &more);
	assert_non_null(first);
	assert_string_equal(first->path, "/p/b");
	assert_string_equal(problem_info(first->cls)->ready_reason, "Pending");
	assert_int_equal(more, 2);
	assert_int_equal(problems_rejected(&p.now, PROBLEM_KIND_SECCOMP), 1);
	assert_int_equal(problems_rejected(&p.now, PROBLEM_KIND_APPARMOR), 1);
	problems_end_round(&p);
	{
		struct metrics m = { 0 };

		problems_gauges(&p.reported, &m);
		for (int k = 0; k < PROBLEM_CLASS_COUNT; k++)
			assert_string_equal(m.problems[k].label, problem_info(k)->metric);
		assert_null(m.problems[PROBLEM_CLASS_COUNT].label);
		assert_int_equal(m.problems[PROBLEM_APPARMOR_WARNING].n, 1);
		assert_int_equal(m.problems[PROBLEM_APPARMOR_RULES_NOT_ENFORCED].n, 1);
		assert_int_equal(m.problems[PROBLEM_SECCOMP_REJECTED].n, 1);
		assert_int_equal(m.problems[PROBLEM_SECCOMP_NOT_PUBLISHED].n, 0);
	}
	/* the same gap in another compile context is a new problem */
	assert_false(problems_add(&p, PROBLEM_APPARMOR_RULES_NOT_ENFORCED, &a, "gap", "ctx"));
	assert_true(problems_add(&p, PROBLEM_APPARMOR_RULES_NOT_ENFORCED, &a, "gap", "ctx2"));
	problem_list_clear(&p.reported);
	problem_list_clear(&p.now);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_class_has_its_four_mappings),
		cmocka_unit_test(metric_labels_are_unique),
		cmocka_unit_test(a_problem_is_reported_once_while_it_persists),
		cmocka_unit_test(gauges_and_readiness_follow_the_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
