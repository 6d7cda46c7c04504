/*
 * Unit tests for the outbox: its store functions (shared/store/outbox.c,
 * store_issue() queuing in the certificate's transaction) and the sender
 * thread of scep-ca (scep-ca/intune/outbox.c), driven by a fake send function on
 * a real SQLite store.
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

#include "base/log.h"
#include "intune/outbox.h"
#include "store/store.h"
#include "test_util.h"


static int64_t
add(struct store *st, const char *kind, const char *ref, int64_t now)
{
	struct outbox_new	in = { kind, ref, "{\"x\":1}" };
	struct err		e = {0};
	int64_t			id = 0;

	assert_int_equal(store_outbox_add(st, &in, now, &id, &e), 0);
	assert_true(id > 0);
	return id;
}

static enum outbox_state
state_of(struct store *st, int64_t id, int *attempts)
{
	struct outbox_row	r;
	struct err		e = {0};
	enum outbox_state	s;

	assert_int_equal(store_outbox_get(st, id, &r, &e), 0);
	s = r.state;
	if (attempts != NULL)
		*attempts = r.attempts;
	outbox_row_clear(&r);
	return s;
}

/* ---- store ---------------------------------------------------------- */

static void
outbox_migration_is_schema_2_or_later(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};

	assert_true(store_schema_version(f->st, &e) >= 2);
	assert_int_equal(store_outbox_count(f->st, -1, &e), 0);
}

static void
outbox_entry_is_due_at_once_and_reads_back(void **state)
{
	struct tu_store		*f = *state;
	struct outbox_row	 r;
	struct err		 e = {0};
	int64_t			 id = add(f->st, "intune_success", "tx-1", 1000), at;

	assert_int_equal(store_outbox_get(f->st, id, &r, &e), 0);
	assert_string_equal(r.kind, "intune_success");
	assert_string_equal(r.ref, "tx-1");
	assert_string_equal(r.payload, "{\"x\":1}");
	assert_int_equal(r.state, OUTBOX_PENDING);
	assert_int_equal(r.created_at, 1000);
	assert_int_equal(r.next_attempt_at, 1000);
	assert_int_equal(r.attempts, 0);
	assert_null(r.last_error);
	outbox_row_clear(&r);
	assert_int_equal(store_outbox_next(f->st, &at, &e), 1);
	assert_int_equal(at, 1000);
}

static void
outbox_due_lists_pending_entries_longest_due_first(void **state)
{
	struct tu_store		*f = *state;
	struct outbox_row	 rows[4];
	struct err		 e = {0};
	int64_t			 a = add(f->st, "k", "a", 100);
	int64_t			 b = add(f->st, "k", "b", 50);
	int64_t			 c = add(f->st, "k", "c", 500);
	int			 n, i;

	(void)a;
	(void)c;
	n = store_outbox_due(f->st, 200, rows, 4, &e);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, b);
	assert_string_equal(rows[1].ref, "a");
	for (i = 0; i < n; i++)
		outbox_row_clear(&rows[i]);
	/* The limit holds. */
	n = store_outbox_due(f->st, 1000, rows, 1, &e);
	assert_int_equal(n, 1);
	outbox_row_clear(&rows[0]);
}

static void
outbox_retry_counts_and_reschedules(void **state)
{
	struct tu_store		*f = *state;
	struct outbox_row	 r, rows[2];
	struct err		 e = {0};
	int64_t			 id = add(f->st, "k", NULL, 100), at;

	assert_int_equal(store_outbox_retry(f->st, id, 160, "HTTP 500", &e), 0);
	assert_int_equal(store_outbox_due(f->st, 150, rows, 2, &e), 0);
	assert_int_equal(store_outbox_next(f->st, &at, &e), 1);
	assert_int_equal(at, 160);
	assert_int_equal(store_outbox_get(f->st, id, &r, &e), 0);
	assert_int_equal(r.attempts, 1);
	assert_string_equal(r.last_error, "HTTP 500");
	assert_null(r.ref);
	outbox_row_clear(&r);
}

static void
outbox_finish_is_final(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	int64_t		 sent = add(f->st, "k", "s", 100);
	int64_t		 gone = add(f->st, "k", "g", 100), at;
	int		 attempts;

	assert_int_equal(store_outbox_retry(f->st, sent, 100, "first", &e), 0);
	assert_int_equal(store_outbox_finish(f->st, sent, OUTBOX_SENT, 200, NULL,
	    &e), 0);
	assert_int_equal(store_outbox_finish(f->st, gone, OUTBOX_ABANDONED, 200,
	    "too old", &e), 0);
	assert_int_equal(state_of(f->st, sent, &attempts), OUTBOX_SENT);
	assert_int_equal(attempts, 2);
	assert_int_equal(state_of(f->st, gone, NULL), OUTBOX_ABANDONED);
	/* Finished entries are neither due nor changed again. */
	assert_int_equal(store_outbox_next(f->st, &at, &e), 0);
	assert_int_equal(store_outbox_finish(f->st, sent, OUTBOX_ABANDONED, 300,
	    "x", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_outbox_retry(f->st, gone, 300, "x", &e), -1);
	assert_int_equal(store_outbox_finish(f->st, gone, OUTBOX_PENDING, 300,
	    NULL, &e), -1);
	assert_int_equal(store_outbox_count(f->st, OUTBOX_SENT, &e), 1);
	assert_int_equal(store_outbox_count(f->st, OUTBOX_ABANDONED, &e), 1);
	assert_int_equal(store_outbox_count(f->st, OUTBOX_PENDING, &e), 0);
}

static void
outbox_entry_needs_kind_and_payload(void **state)
{
	struct tu_store		*f = *state;
	struct outbox_new	 in = { "k", "r", NULL };
	struct err		 e = {0};

	assert_int_equal(store_outbox_add(f->st, &in, 1, NULL, &e), -1);
	assert_int_equal(store_outbox_count(f->st, -1, &e), 0);
}

static int
issue(struct store *st, const char *serial, const char *txid,
    const struct outbox_new *note, struct err *e)
{
	struct tu_cert	c = { .serial = serial, .txid = txid, .outbox = note };

	return tu_cert_issue(st, &c, e);
}

static void
issuance_queues_its_notification_in_the_same_transaction(void **state)
{
	struct tu_store		*f = *state;
	struct outbox_new	 note = { "intune_success", "tx-a", "{}" };
	struct outbox_row	 rows[2];
	struct err		 e = {0};

	assert_int_equal(issue(f->st, "0A", "tx-a", &note, &e), 0);
	assert_int_equal(store_outbox_due(f->st, 1000, rows, 2, &e), 1);
	assert_string_equal(rows[0].ref, "tx-a");
	assert_int_equal(rows[0].created_at, 1000);
	outbox_row_clear(&rows[0]);
	/* A failed issuance (serial taken) queues nothing either. */
	note.ref = "tx-b";
	assert_int_equal(issue(f->st, "0A", "tx-b", &note, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(store_outbox_count(f->st, -1, &e), 1);
	/* Without an entry, none is queued. */
	assert_int_equal(issue(f->st, "0B", "tx-c", NULL, &e), 0);
	assert_int_equal(store_outbox_count(f->st, -1, &e), 1);
}

/* ---- backoff -------------------------------------------------------- */

static void
backoff_doubles_to_the_maximum_with_equal_jitter(void **state)
{
	struct outbox_policy	pol = { 2, 10, 3600, 0 };

	(void)state;
	assert_int_equal(outbox_backoff(&pol, 1, 0), 1);
	assert_int_equal(outbox_backoff(&pol, 1, 1), 2);
	assert_int_equal(outbox_backoff(&pol, 2, 0), 2);
	assert_int_equal(outbox_backoff(&pol, 2, 2), 4);
	assert_int_equal(outbox_backoff(&pol, 3, 0), 4);
	assert_int_equal(outbox_backoff(&pol, 3, 4), 8);
	assert_int_equal(outbox_backoff(&pol, 4, 0), 5);
	assert_int_equal(outbox_backoff(&pol, 4, 5), 10);
	assert_int_equal(outbox_backoff(&pol, 60, 0xffffffffu) <= 10, 1);
	assert_int_equal(outbox_backoff(&pol, 1000, 7) >= 5, 1);
	pol.retry_min = pol.retry_max = 1;
	assert_int_equal(outbox_backoff(&pol, 1, 12345), 1);
}

/* ---- the sender thread -------------------------------------------- */

/* A scripted service: fails the first `fail` calls with `code`. */
struct fake {
	pthread_mutex_t	lock;
	int		calls;
	int		fail;
	enum err_code	code;
	long		retry_after;
};

static int
fake_send(void *arg, const struct outbox_row *row, long *retry_after,
    struct err *e)
{
	struct fake	*fk = arg;
	int		 rc = 0;

	(void)row;
	pthread_mutex_lock(&fk->lock);
	if (fk->calls++ < fk->fail) {
		*retry_after = fk->retry_after;
		rc = err_set(e, fk->code, "scripted failure %d", fk->calls);
	}
	pthread_mutex_unlock(&fk->lock);
	return rc;
}

static int
fake_calls(struct fake *fk)
{
	int	n;

	pthread_mutex_lock(&fk->lock);
	n = fk->calls;
	pthread_mutex_unlock(&fk->lock);
	return n;
}

/* Waits up to ms for the entry to reach state; returns whether it did. */
static int
wait_state(struct store *st, int64_t id, enum outbox_state want, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (state_of(st, id, NULL) == want)
			return 1;
		usleep(20 * 1000);
	}
	return state_of(st, id, NULL) == want;
}

static struct outbox *
start(struct tu_store *f, struct fake *fk, int max_attempts)
{
	struct outbox_policy	 pol = { 1, 1, 3600, max_attempts };
	struct outbox		*ob;
	struct err		 e = {0};

	pthread_mutex_init(&fk->lock, NULL);
	ob = outbox_start(f->st, &pol, fake_send, fk, &e);
	assert_non_null(ob);
	return ob;
}

static void
sender_delivers_a_queued_entry_when_woken(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = {0};
	struct outbox	*ob = start(f, &fk, 0);
	int64_t		 id;

	usleep(100 * 1000);	/* the start-up pass is over */
	id = add(f->st, "k", "r", (int64_t)time(NULL));
	outbox_wake(ob);
	assert_true(wait_state(f->st, id, OUTBOX_SENT, 2000));
	outbox_stop(ob);
	assert_int_equal(fake_calls(&fk), 1);
}

static void
sender_retries_a_failure_then_delivers(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = { .fail = 1, .code = ERR_REMOTE };
	int64_t		 id = add(f->st, "k", "r", (int64_t)time(NULL));
	struct outbox	*ob = start(f, &fk, 0);
	int		 attempts;

	assert_true(wait_state(f->st, id, OUTBOX_SENT, 6000));
	outbox_stop(ob);
	assert_int_equal(state_of(f->st, id, &attempts), OUTBOX_SENT);
	assert_int_equal(attempts, 2);
}

static void
sender_gives_up_after_max_attempts(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = { .fail = 100, .code = ERR_TIMEOUT };
	int64_t		 id = add(f->st, "k", "r", (int64_t)time(NULL));
	struct outbox	*ob = start(f, &fk, 2);
	int		 attempts;

	assert_true(wait_state(f->st, id, OUTBOX_ABANDONED, 8000));
	outbox_stop(ob);
	assert_int_equal(state_of(f->st, id, &attempts), OUTBOX_ABANDONED);
	assert_int_equal(attempts, 2);
	assert_int_equal(fake_calls(&fk), 2);
}

static void
sender_gives_up_on_an_old_entry_after_a_failure(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = { .fail = 100, .code = ERR_REMOTE };
	int64_t		 id = add(f->st, "k", "r", (int64_t)time(NULL) - 7200);
	struct outbox	*ob = start(f, &fk, 0);	/* max_age 3600 */

	assert_true(wait_state(f->st, id, OUTBOX_ABANDONED, 3000));
	outbox_stop(ob);
	assert_int_equal(fake_calls(&fk), 1);
}

static void
sender_abandons_an_unreadable_entry_and_goes_on(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = { .fail = 1, .code = ERR_PARSE };
	int64_t		 bad = add(f->st, "k", "bad", (int64_t)time(NULL) - 1);
	int64_t		 good = add(f->st, "k", "good", (int64_t)time(NULL));
	struct outbox	*ob = start(f, &fk, 0);

	assert_true(wait_state(f->st, good, OUTBOX_SENT, 800));
	outbox_stop(ob);
	assert_int_equal(state_of(f->st, bad, NULL), OUTBOX_ABANDONED);
}

static void
sender_at_start_tries_every_pending_entry(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = {0};
	struct err	 e = {0};
	int64_t		 id = add(f->st, "k", "r", (int64_t)time(NULL));
	struct outbox	*ob;

	/* As a stopped daemon left it: retry due in an hour. */
	assert_int_equal(store_outbox_retry(f->st, id, (int64_t)time(NULL) +
	    3600, "HTTP 500", &e), 0);
	ob = start(f, &fk, 0);
	assert_true(wait_state(f->st, id, OUTBOX_SENT, 2000));
	outbox_stop(ob);
}

static void
sender_holds_back_for_retry_after_and_stops_promptly(void **state)
{
	struct tu_store	*f = *state;
	struct fake	 fk = { .fail = 1, .code = ERR_THROTTLED,
			    .retry_after = 30 };
	int64_t		 first = add(f->st, "k", "first", (int64_t)time(NULL));
	int64_t		 second, t0;
	struct outbox	*ob = start(f, &fk, 0);
	struct outbox_row r;
	struct err	 e = {0};

	while (fake_calls(&fk) == 0)
		usleep(10 * 1000);
	usleep(100 * 1000);
	second = add(f->st, "k", "second", (int64_t)time(NULL));
	outbox_wake(ob);
	usleep(1200 * 1000);
	/* Nothing sent while the service asked us to wait. */
	assert_int_equal(fake_calls(&fk), 1);
	assert_int_equal(state_of(f->st, second, NULL), OUTBOX_PENDING);
	assert_int_equal(store_outbox_get(f->st, first, &r, &e), 0);
	assert_true(r.next_attempt_at >= (int64_t)time(NULL) + 25);
	outbox_row_clear(&r);
	t0 = (int64_t)time(NULL);
	outbox_stop(ob);
	assert_true((int64_t)time(NULL) - t0 <= 2);
}

/* The sender's log lines are expected here: keep the TAP output clean. */
static void
quiet(void *arg, enum log_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_store_setup, \
	    tu_store_teardown)
	const struct CMUnitTest tests[] = {
		T(outbox_migration_is_schema_2_or_later),
		T(outbox_entry_is_due_at_once_and_reads_back),
		T(outbox_due_lists_pending_entries_longest_due_first),
		T(outbox_retry_counts_and_reschedules),
		T(outbox_finish_is_final),
		T(outbox_entry_needs_kind_and_payload),
		T(issuance_queues_its_notification_in_the_same_transaction),
		cmocka_unit_test(backoff_doubles_to_the_maximum_with_equal_jitter),
		T(sender_delivers_a_queued_entry_when_woken),
		T(sender_retries_a_failure_then_delivers),
		T(sender_gives_up_after_max_attempts),
		T(sender_gives_up_on_an_old_entry_after_a_failure),
		T(sender_abandons_an_unreadable_entry_and_goes_on),
		T(sender_at_start_tries_every_pending_entry),
		T(sender_holds_back_for_retry_after_and_stops_promptly),
	};
#undef T

	log_set_sink(quiet, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
