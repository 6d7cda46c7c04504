/*
 * backoff.c - delays after failures, and the hold a server's Retry-After
 * or a breaker puts on further calls.
 */
#include <time.h>

#include <openssl/rand.h>

#include "base/backoff.h"

int64_t
backoff_delay(const struct backoff *b, int failures, int64_t asked,
    uint32_t rnd)
{
	int64_t	d = b->min > 0 ? b->min : 1;
	int	i;

	if (asked >= 0 && b->asked_replaces)
		return asked;
	for (i = 1; i < failures && d < b->max; i++)
		d *= 2;
	if (d > b->max)
		d = b->max;
	/* Equal jitter: spreads the retries of many clients. */
	if (b->jitter)
		d = d - d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
	if (d < 1)
		d = 1;
	return asked > d ? asked : d;
}

uint32_t
backoff_random(void)
{
	uint32_t	r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)time(NULL);
	return r;
}

void
backoff_hold_until(struct backoff_hold *h, int64_t until)
{
	int64_t	cur = __atomic_load_n(&h->until, __ATOMIC_ACQUIRE);

	while (cur < until && !__atomic_compare_exchange_n(&h->until, &cur,
	    until, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

int64_t
backoff_hold_left(const struct backoff_hold *h, int64_t now)
{
	int64_t	until = __atomic_load_n(&h->until, __ATOMIC_ACQUIRE);

	return until != 0 && until > now ? until - now : 0;
}

void
backoff_hold_clear(struct backoff_hold *h)
{
	__atomic_store_n(&h->until, 0, __ATOMIC_RELEASE);
}
