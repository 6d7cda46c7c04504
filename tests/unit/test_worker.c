/*
 * Unit tests for shared/base/worker.c: a sleep ends at its deadline, at a
 * wake-up or at the stop, and worker_stop() joins the thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/worker.h"

/* A thread that sleeps `ms` at a time and counts how each sleep ended. */
struct sleeper {
	struct worker	w;
	int64_t		ms;
	atomic_int	ended[3];	/* per enum worker_wait */
	atomic_int	rounds;
	atomic_int	finished;	/* the thread function returned */
};

static void *
sleeper_main(void *arg)
{
	struct sleeper		*s = arg;
	enum worker_wait	 why;

	do {
		why = worker_sleep(&s->w, s->ms);
		atomic_fetch_add(&s->ended[why], 1);
		atomic_fetch_add(&s->rounds, 1);
	} while (why != WORKER_STOPPED);
	/* Round work after the stop, as the flusher's last flush. */
	nanosleep(&(struct timespec){ 0, 50 * 1000000L }, NULL);
	atomic_store(&s->finished, 1);
	return NULL;
}

/* Waits (up to 5 s) until the sleeper has ended n sleeps. */
static void
wait_rounds(struct sleeper *s, int n)
{
	int64_t	until = worker_now_ms() + 5000;

	while (atomic_load(&s->rounds) < n && worker_now_ms() < until)
		nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
}

static void
sleep_returns_at_the_deadline(void **state)
{
	struct worker		w;
	int64_t			t0;

	(void)state;
	worker_init(&w);
	t0 = worker_now_ms();
	assert_int_equal(worker_sleep(&w, 120), WORKER_DEADLINE);
	assert_true(worker_now_ms() - t0 >= 120);
	assert_true(worker_now_ms() - t0 < 2000);
	/* A deadline already past returns at once. */
	assert_int_equal(worker_sleep_until(&w, t0), WORKER_DEADLINE);
	assert_int_equal(worker_sleep(&w, 0), WORKER_DEADLINE);
	worker_destroy(&w);
}

static void
wake_ends_a_sleep_before_its_deadline(void **state)
{
	struct sleeper	*s = calloc(1, sizeof(*s));
	int64_t		 t0;

	(void)state;
	assert_non_null(s);
	worker_init(&s->w);
	s->ms = 60000;
	assert_int_equal(worker_start(&s->w, sleeper_main, s), 0);
	t0 = worker_now_ms();
	worker_wake(&s->w);
	wait_rounds(s, 1);
	worker_wake(&s->w);
	wait_rounds(s, 2);
	assert_true(worker_now_ms() - t0 < 5000);
	assert_int_equal(atomic_load(&s->ended[WORKER_WOKEN]), 2);
	assert_int_equal(atomic_load(&s->ended[WORKER_DEADLINE]), 0);
	worker_stop(&s->w);
	worker_destroy(&s->w);
	free(s);
}

static void
wake_while_awake_is_kept_for_the_next_sleep(void **state)
{
	struct worker	w;

	(void)state;
	worker_init(&w);
	worker_wake(&w);
	/* Even a deadline already past takes the pending wake-up. */
	assert_int_equal(worker_sleep(&w, 0), WORKER_WOKEN);
	/* Taken once: the next sleep runs to its deadline. */
	assert_int_equal(worker_sleep(&w, 10), WORKER_DEADLINE);
	worker_destroy(&w);
}

static void
stop_ends_a_sleep_and_joins_the_thread(void **state)
{
	struct sleeper	*s = calloc(1, sizeof(*s));
	int64_t		 t0;

	(void)state;
	assert_non_null(s);
	worker_init(&s->w);
	s->ms = 60000;
	assert_int_equal(worker_start(&s->w, sleeper_main, s), 0);
	assert_false(worker_stopping(&s->w));
	nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
	t0 = worker_now_ms();
	worker_stop(&s->w);
	/* Joined: the work after the stop is done when stop returns. */
	assert_int_equal(atomic_load(&s->finished), 1);
	assert_true(worker_now_ms() - t0 < 5000);
	assert_int_equal(atomic_load(&s->ended[WORKER_STOPPED]), 1);
	assert_true(worker_stopping(&s->w));
	assert_int_equal(atomic_load(worker_stop_flag(&s->w)), 1);
	/* The stop wins over a wake-up, and stays until the next start. */
	worker_wake(&s->w);
	assert_int_equal(worker_sleep(&s->w, 1000), WORKER_STOPPED);
	worker_stop(&s->w);		/* idempotent */
	worker_destroy(&s->w);
	free(s);
}

static void
worker_restarts_after_a_stop(void **state)
{
	struct sleeper	*s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	worker_init(&s->w);
	s->ms = 10;
	assert_int_equal(worker_start(&s->w, sleeper_main, s), 0);
	/* Started twice: one thread. */
	assert_int_equal(worker_start(&s->w, sleeper_main, s), 0);
	wait_rounds(s, 3);
	assert_true(atomic_load(&s->ended[WORKER_DEADLINE]) >= 3);
	worker_stop(&s->w);
	assert_int_equal(atomic_load(&s->ended[WORKER_STOPPED]), 1);
	atomic_store(&s->finished, 0);
	assert_int_equal(worker_start(&s->w, sleeper_main, s), 0);
	assert_false(worker_stopping(&s->w));
	worker_stop(&s->w);
	assert_int_equal(atomic_load(&s->finished), 1);
	assert_int_equal(atomic_load(&s->ended[WORKER_STOPPED]), 2);
	worker_destroy(&s->w);
	free(s);
}

static void
stop_without_a_thread_only_sets_the_flag(void **state)
{
	struct worker	w;

	(void)state;
	worker_init(&w);
	worker_stop(&w);
	assert_true(worker_stopping(&w));
	assert_int_equal(worker_sleep(&w, 1000), WORKER_STOPPED);
	worker_destroy(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sleep_returns_at_the_deadline),
		cmocka_unit_test(wake_ends_a_sleep_before_its_deadline),
		cmocka_unit_test(wake_while_awake_is_kept_for_the_next_sleep),
		cmocka_unit_test(stop_ends_a_sleep_and_joins_the_thread),
		cmocka_unit_test(worker_restarts_after_a_stop),
		cmocka_unit_test(stop_without_a_thread_only_sets_the_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
