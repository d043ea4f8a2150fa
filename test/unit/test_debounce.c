/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/debounce.c, through libprofiled-agent.a: when a burst of folder
 * events leads to its reconcile.
 */
#include "unit.h"

#include "../../agent/debounce.h"

/* Monotonic times are never 0 on a running system: start well above. */
#define T0 1000000LL

static void
single_event_waits_for_quiet(void **state)
{
	struct debounce d = { 0 };

	(void)state;
	assert_int_equal(debounce_event(&d, T0, false), DEBOUNCE_MS);
}

static void
events_in_a_burst_push_the_reconcile_back(void **state)
{
	struct debounce d = { 0 };

	(void)state;
	assert_int_equal(debounce_event(&d, T0, false), DEBOUNCE_MS);
	assert_int_equal(debounce_event(&d, T0 + 10, false), DEBOUNCE_MS);
	assert_int_equal(debounce_event(&d, T0 + 20, false), DEBOUNCE_MS);
}

/* A steady stream never holds the first event back more than
 * DEBOUNCE_MAX_MS; past it, the timer is armed for 1 ms (0 would disarm). */
static void
a_long_burst_is_capped(void **state)
{
	struct debounce d = { 0 };
	long long t = T0;

	(void)state;
	for (; t + DEBOUNCE_MS <= T0 + DEBOUNCE_MAX_MS; t += 10)
		assert_int_equal(debounce_event(&d, t, false), DEBOUNCE_MS);
	assert_int_equal(debounce_event(&d, t, false), T0 + DEBOUNCE_MAX_MS - t);
	assert_int_equal(debounce_event(&d, T0 + DEBOUNCE_MAX_MS, false), 1);
	assert_int_equal(debounce_event(&d, T0 + DEBOUNCE_MAX_MS + 100, false), 1);
}

static void
a_fired_burst_starts_anew(void **state)
{
	struct debounce d = { 0 };

	(void)state;
	debounce_event(&d, T0, false);
	debounce_event(&d, T0 + DEBOUNCE_MAX_MS, false);
	debounce_fired(&d);
	assert_int_equal(debounce_event(&d, T0 + DEBOUNCE_MAX_MS + 5, false), DEBOUNCE_MS);
}

/* The kubelet's `..data` swap after a quiet spell: at once (1 ms). */
static void
a_committed_swap_after_quiet_is_immediate(void **state)
{
	struct debounce d = { 0 };

	(void)state;
	assert_int_equal(debounce_event(&d, T0, true), 1);
	debounce_fired(&d);
	assert_int_equal(debounce_event(&d, T0 + DEBOUNCE_MS, true), 1);
}

/* Swaps in quick succession coalesce like any other burst. */
static void
a_committed_swap_in_a_burst_waits(void **state)
{
	struct debounce d = { 0 };

	(void)state;
	assert_int_equal(debounce_event(&d, T0, false), DEBOUNCE_MS);
	assert_int_equal(debounce_event(&d, T0 + 5, true), DEBOUNCE_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(single_event_waits_for_quiet),
		cmocka_unit_test(events_in_a_burst_push_the_reconcile_back),
		cmocka_unit_test(a_long_burst_is_capped),
		cmocka_unit_test(a_fired_burst_starts_anew),
		cmocka_unit_test(a_committed_swap_after_quiet_is_immediate),
		cmocka_unit_test(a_committed_swap_in_a_burst_waits),
	};

	return cmocka_run_group_tests_name("debounce", tests, NULL, NULL);
}
