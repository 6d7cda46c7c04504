/*
 * Unit tests for the store's change signal (shared/store/watch.c) beyond
 * the commit token test_store_mark covers: the revocation token moves
 * with status changes only, whoever makes them, and store_watch_wait()
 * returns on a change and not before its timeout otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store/store.h"
#include "test_util.h"

static int
issue(struct store *st, const char *serial)
{
	struct tu_cert	c = { .serial = serial };
	struct err	e = {0};

	return tu_cert_issue(st, &c, &e);
}

static int
set_revoked(struct store *st, const char *serial)
{
	struct err	e = {0};

	return store_cert_set_status(st, serial, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "test", 0, NULL, &e);
}

static uint64_t
rev(struct store *st)
{
	return store_watch_token(st, STORE_WATCH_REVOCATION);
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
revocation_token_moves_with_status_changes_not_enrollments(void **state)
{
	struct tu_store	*f = *state;
	uint64_t	 t0, t1, c0;
	struct err	 e = {0};
	int		 changed;

	t0 = rev(f->st);
	assert_true(t0 != 0);
	c0 = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(issue(f->st, "0A"), 0);
	assert_true(store_watch_token(f->st, STORE_WATCH_COMMIT) != c0);
	assert_true(rev(f->st) == t0);
	assert_int_equal(set_revoked(f->st, "0A"), 0);
	t1 = rev(f->st);
	assert_true(t1 != 0 && t1 != t0);
	assert_true(rev(f->st) == t1);
	/* The same status again changes nothing. */
	assert_int_equal(store_cert_set_status(f->st, "0A", CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "test", 0, &changed, &e), 0);
	assert_int_equal(changed, 0);
	assert_true(rev(f->st) == t1);
}

/* A second store on the file stands for another process (the CLI). */
static void
revocation_token_sees_a_change_through_another_store(void **state)
{
	struct tu_store	*f = *state;
	struct store	*other;
	struct err	 e = {0};
	uint64_t	 t;

	assert_int_equal(issue(f->st, "1A"), 0);
	t = rev(f->st);
	assert_non_null(other = store_open(f->path, 0, &e));
	assert_int_equal(set_revoked(other, "1A"), 0);
	store_close(other);
	assert_true(rev(f->st) != t);
}

/*
 * The token is kept while the commit token stays: a change of the
 * counter by hand, elsewhere, is a commit and must still be seen.
 */
static void
revocation_token_is_not_served_stale_after_a_commit(void **state)
{
	struct tu_store	*f = *state;
	sqlite3		*db = NULL;
	uint64_t	 t;

	t = rev(f->st);
	assert_true(rev(f->st) == t);
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO meta (key, value)"
	    " VALUES ('revocation_generation', 41) ON CONFLICT(key)"
	    " DO UPDATE SET value = 41", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_true(rev(f->st) != t);
}

static void
revocation_token_works_without_a_commit_token(void **state)
{
	struct store	*st;
	struct err	 e = {0};
	uint64_t	 t;

	(void)state;
	assert_non_null(st = store_open(":memory:", STORE_CREATE, &e));
	assert_true(store_watch_token(st, STORE_WATCH_COMMIT) == 0);
	t = rev(st);
	assert_true(t != 0);
	assert_int_equal(issue(st, "2A"), 0);
	assert_true(rev(st) == t);
	assert_int_equal(set_revoked(st, "2A"), 0);
	assert_true(rev(st) != t);
	store_close(st);
}

static void
wait_times_out_when_nothing_changes(void **state)
{
	struct tu_store	*f = *state;
	int64_t		 t0;
	uint64_t	 t;

	t = rev(f->st);
	t0 = now_ms();
	assert_int_equal(store_watch_wait(f->st, STORE_WATCH_REVOCATION, t,
	    120), 0);
	assert_true(now_ms() - t0 >= 120);
	/* An enrollment is no revocation change. */
	assert_int_equal(issue(f->st, "3A"), 0);
	assert_int_equal(store_watch_wait(f->st, STORE_WATCH_REVOCATION, t,
	    0), 0);
}

static void
wait_returns_at_once_on_a_change_already_made(void **state)
{
	struct tu_store	*f = *state;
	uint64_t	 t;

	t = store_watch_token(f->st, STORE_WATCH_COMMIT);
	assert_int_equal(issue(f->st, "4A"), 0);
	assert_int_equal(store_watch_wait(f->st, STORE_WATCH_COMMIT, t, 0), 1);
	/* 0 compares with nothing: any token is news. */
	assert_int_equal(store_watch_wait(f->st, STORE_WATCH_COMMIT, 0, 0), 1);
}

struct later {
	struct store	*st;
	const char	*serial;
};

static void *
revoke_later(void *arg)
{
	struct later	*l = arg;

	usleep(100 * 1000);
	return (void *)(intptr_t)set_revoked(l->st, l->serial);
}

static void
wait_returns_when_another_thread_revokes(void **state)
{
	struct tu_store	*f = *state;
	struct later	 l = { f->st, "5A" };
	pthread_t	 th;
	int64_t		 t0;
	uint64_t	 t;
	void		*rc;

	assert_int_equal(issue(f->st, "5A"), 0);
	t = rev(f->st);
	t0 = now_ms();
	assert_int_equal(pthread_create(&th, NULL, revoke_later, &l), 0);
	assert_int_equal(store_watch_wait(f->st, STORE_WATCH_REVOCATION, t,
	    10000), 1);
	/* No timing assertion but that it did not wait for the timeout. */
	assert_true(now_ms() - t0 < 10000);
	assert_true(rev(f->st) != t);
	pthread_join(th, &rc);
	assert_int_equal((intptr_t)rc, 0);
}

static void
wait_on_a_store_that_cannot_tell_says_read(void **state)
{
	struct store	*st;
	struct err	 e = {0};

	(void)state;
	assert_non_null(st = store_open(":memory:", STORE_CREATE, &e));
	assert_int_equal(store_watch_wait(st, STORE_WATCH_COMMIT, 0, 60), 1);
	store_close(st);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, \
	    tu_store_teardown)
	const struct CMUnitTest tests[] = {
		T(revocation_token_moves_with_status_changes_not_enrollments),
		T(revocation_token_sees_a_change_through_another_store),
		T(revocation_token_is_not_served_stale_after_a_commit),
		cmocka_unit_test(revocation_token_works_without_a_commit_token),
		T(wait_times_out_when_nothing_changes),
		T(wait_returns_at_once_on_a_change_already_made),
		T(wait_returns_when_another_thread_revokes),
		cmocka_unit_test(wait_on_a_store_that_cannot_tell_says_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
