/* SPDX-License-Identifier: Apache-2.0 */
#include "backoff.h"

#include <sys/random.h>
#include <unistd.h>

#include "util.h"

long long
pd_backoff_next(long long cur_ms, long long min_ms, long long max_ms)
{
	long long next = cur_ms <= 0 ? min_ms : cur_ms > max_ms / 2 ? max_ms : cur_ms * 2;

	return next > max_ms ? max_ms : next;
}

static unsigned long long
random_bits(void)
{
	unsigned long long r = 0;

	/* Without entropy yet (early boot), something that differs between
	 * nodes is still better than the same number everywhere. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned long long)pd_now_ms() ^ (unsigned long long)getpid() << 20;
	return r;
}

long long
pd_backoff_jittered(long long ms)
{
	if (ms <= 0)
		return 0;
	return ms / 2 + (long long)(random_bits() % (unsigned long long)(ms / 2 + 1));
}
