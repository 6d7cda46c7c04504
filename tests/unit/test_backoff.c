/*
 * Unit tests for shared/base/backoff.c: delays double up to the maximum,
 * jitter takes up to half off, a server's Retry-After is honoured, and a
 * hold keeps the later time until cleared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/backoff.h"

static void
delay_doubles_per_failure_up_to_the_maximum(void **state)
{
	struct backoff	b = { 250, 8000, 0, 0 };

	(void)state;
	assert_int_equal(backoff_delay(&b, 0, -1, 0), 250);
	assert_int_equal(backoff_delay(&b, 1, -1, 0), 250);
	assert_int_equal(backoff_delay(&b, 2, -1, 0), 500);
	assert_int_equal(backoff_delay(&b, 6, -1, 0), 8000);
	assert_int_equal(backoff_delay(&b, 7, -1, 0), 8000);
	assert_int_equal(backoff_delay(&b, 1000000, -1, 0), 8000);
	/* A maximum that is no power-of-two multiple is still the cap. */
	b.max = 1100;
	assert_int_equal(backoff_delay(&b, 4, -1, 0), 1100);
	/* Without jitter, the random number is ignored. */
	assert_int_equal(backoff_delay(&b, 2, -1, 12345), 500);
}

static void
delay_is_at_least_one(void **state)
{
	struct backoff	b = { 0, 0, 1, 0 };

	(void)state;
	assert_int_equal(backoff_delay(&b, 1, -1, 0), 1);
	assert_int_equal(backoff_delay(&b, 5, -1, 0xffffffffu), 1);
	b.min = -5;
	b.max = 10;
	b.jitter = 0;
	assert_int_equal(backoff_delay(&b, 1, -1, 0), 1);
	assert_int_equal(backoff_delay(&b, 3, -1, 0), 4);
}

static void
jitter_takes_off_up_to_half(void **state)
{
	struct backoff	b = { 1000, 8000, 1, 0 };
	uint32_t	r;
	int64_t		d;

	(void)state;
	assert_int_equal(backoff_delay(&b, 1, -1, 0), 500);
	assert_int_equal(backoff_delay(&b, 1, -1, 500), 1000);
	assert_int_equal(backoff_delay(&b, 1, -1, 501), 500);
	/* Odd delays: between the upper half and all of it. */
	b.min = 5;
	assert_int_equal(backoff_delay(&b, 1, -1, 0), 3);
	assert_int_equal(backoff_delay(&b, 1, -1, 2), 5);
	b.min = 1000;
	for (r = 0; r < 100000; r += 997) {
		d = backoff_delay(&b, 4, -1, r * 2654435761u);
		assert_true(d >= 4000 && d <= 8000);
	}
	r = backoff_random();
	(void)r;
}

static void
retry_after_is_at_least_honoured(void **state)
{
	struct backoff	b = { 2, 10, 0, 0 };

	(void)state;
	/* The longer of ours and the server's. */
	assert_int_equal(backoff_delay(&b, 1, 30, 0), 30);
	assert_int_equal(backoff_delay(&b, 3, 5, 0), 8);
	assert_int_equal(backoff_delay(&b, 3, 0, 0), 8);
	/* Or the server's alone. */
	b.asked_replaces = 1;
	assert_int_equal(backoff_delay(&b, 3, 5, 0), 5);
	assert_int_equal(backoff_delay(&b, 3, 30, 0), 30);
	assert_int_equal(backoff_delay(&b, 3, -1, 0), 8);
}

static void
hold_keeps_the_later_time_until_cleared(void **state)
{
	struct backoff_hold	h = { 0 };

	(void)state;
	assert_int_equal(backoff_hold_left(&h, 1000), 0);
	backoff_hold_until(&h, 3000);
	assert_int_equal(backoff_hold_left(&h, 1000), 2000);
	/* An earlier time does not shorten it. */
	backoff_hold_until(&h, 2000);
	assert_int_equal(backoff_hold_left(&h, 1000), 2000);
	backoff_hold_until(&h, 4000);
	assert_int_equal(backoff_hold_left(&h, 1000), 3000);
	/* Open once its time has come. */
	assert_int_equal(backoff_hold_left(&h, 4000), 0);
	assert_int_equal(backoff_hold_left(&h, 5000), 0);
	backoff_hold_clear(&h);
	assert_int_equal(backoff_hold_left(&h, 1000), 0);
	/* A cleared hold is open on any clock, even before zero. */
	assert_int_equal(backoff_hold_left(&h, -1000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(delay_doubles_per_failure_up_to_the_maximum),
		cmocka_unit_test(delay_is_at_least_one),
		cmocka_unit_test(jitter_takes_off_up_to_half),
		cmocka_unit_test(retry_after_is_at_least_honoured),
		cmocka_unit_test(hold_keeps_the_later_time_until_cleared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
