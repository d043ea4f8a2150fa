/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/backoff.c: the retry delays of the Node updates and of the
 * reconcile retry (docs/api.md, docs/reliability.md).
 */
#include "unit.h"

#include <limits.h>

#include "../../lib/backoff.h"

/* The Node updates' figures: 1 s doubling to 5 min. */
#define MIN_MS 1000
#define MAX_MS (5 * 60 * 1000)

static void
next_starts_at_min_and_doubles_up_to_the_cap(void **state)
{
	static const long long want[] = { 1000,	 2000,	 4000,	 8000,	 16000,	 32000,
					  64000, 128000, 256000, 300000, 300000, 300000 };
	long long cur = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		cur = pd_backoff_next(cur, MIN_MS, MAX_MS);
		assert_int_equal(cur, want[i]);
	}
}

static void
next_never_passes_the_cap(void **state)
{
	(void)state;
	/* An odd cap: 3 s doubled is over 5 s. */
	assert_int_equal(pd_backoff_next(2000, 1000, 5000), 4000);
	assert_int_equal(pd_backoff_next(3000, 1000, 5000), 5000);
	assert_int_equal(pd_backoff_next(5000, 1000, 5000), 5000);
	/* A cap below the first delay (the reconcile retry with a resync
	 * interval of less than its first step) wins. */
	assert_int_equal(pd_backoff_next(0, 1000, 500), 500);
	assert_int_equal(pd_backoff_next(500, 1000, 500), 500);
	/* No overflow however long the failures last. */
	assert_int_equal(pd_backoff_next(LLONG_MAX / 2 + 1, 1, LLONG_MAX), LLONG_MAX);
}

static void
jittered_stays_within_half_and_all_of_the_delay(void **state)
{
	static const long long delays[] = { 1, 2, 3, 1000, 1001, 300000 };

	(void)state;
	assert_int_equal(pd_backoff_jittered(0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(delays); i++) {
		for (int n = 0; n < 200; n++) {
			long long d = pd_backoff_jittered(delays[i]);

			if (d < delays[i] / 2 || d > delays[i])
				fail_msg("jittered(%lld) = %lld, outside [%lld, %lld]", delays[i],
					 d, delays[i] / 2, delays[i]);
		}
	}
}

/* From random bytes: 64 draws over 150,001 possible values are not all
 * the same (they would be with an unseeded random() in a fresh process,
 * or a fixed fraction). */
static void
jittered_varies_between_draws(void **state)
{
	long long first = pd_backoff_jittered(MAX_MS);
	bool differs = false;

	(void)state;
	for (int n = 0; n < 64 && !differs; n++)
		differs = pd_backoff_jittered(MAX_MS) != first;
	assert_true(differs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_starts_at_min_and_doubles_up_to_the_cap),
		cmocka_unit_test(next_never_passes_the_cap),
		cmocka_unit_test(jittered_stays_within_half_and_all_of_the_delay),
		cmocka_unit_test(jittered_varies_between_draws),
	};

	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
