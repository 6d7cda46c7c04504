/*
 * Unit tests for the Entra status cache (shared/status/cache.c,
 * status/delta.c) over an in-process directory (fake_directory.h): cache
 * hits and ages, negative caching, delta changes, resync, Retry-After,
 * the breaker, Intune id resolution, users, single-flight, the thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_directory.h"
#include "msft/http.h"

#define DEV_A	"11111111-1111-4111-8111-111111111111"	/* deviceId */
#define OBJ_A	"aaaaaaaa-0000-4000-8000-00000000000a"	/* its object id */
#define DEV_B	"22222222-2222-4222-8222-222222222222"
#define OBJ_B	"bbbbbbbb-0000-4000-8000-00000000000b"
#define MAN_A	"33333333-3333-4333-8333-333333333333"	/* Intune id of A */
#define NOBODY	"44444444-4444-4444-8444-444444444444"
#define USR_1	"55555555-5555-4555-8555-555555555555"
#define USR_2	"66666666-6666-4666-8666-666666666666"

struct fixture {
	struct fake_dir		 d;
	struct status_cache	*c;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	fd_init(&f->d);
	fd_add_device(&f->d, OBJ_A, DEV_A, 1);
	fd_add_device(&f->d, OBJ_B, DEV_B, 0);
	fd_add_managed(&f->d, MAN_A, DEV_A);
	fd_add_user(&f->d, USR_1, "Alice@Example.com", 1);
	fd_add_user(&f->d, USR_2, "bob@example.com", 0);
	f->c = fd_cache(&f->d, 1, STATUS_SYNC_FULL);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	status_cache_free(f->c);
	free(f);
	return 0;
}

/* A query allowing 60 s of age and 2 s of waiting. */
static struct status_query
query(int strict)
{
	struct status_query	q = { http_now_ms() + 2000, 60000, strict };

	return q;
}

static struct status_answer
device(struct fixture *f, const char *id, int strict)
{
	struct status_query	q = query(strict);
	struct status_answer	a;

	assert_int_equal(status_cache_device(f->c, id, &q, &a), 0);
	return a;
}

static struct status_answer
device_any(struct fixture *f, const char *id)
{
	struct status_query	q = query(0);
	struct status_answer	a;

	assert_int_equal(status_cache_device_any(f->c, id, &q, &a), 0);
	return a;
}

static struct status_answer
user(struct fixture *f, const char *upn)
{
	struct status_query	q = query(0);
	struct status_answer	a;

	assert_int_equal(status_cache_user(f->c, upn, &q, &a), 0);
	return a;
}

static void
sync_ok(struct fixture *f)
{
	struct err	e;

	assert_int_equal(status_cache_sync_once(f->c, &e), 0);
}

/* ---- lookups and ages ---------------------------------------------------- */

static void
miss_asks_graph_then_answers_from_memory(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = device(f, DEV_A, 0);
	assert_int_equal(a.state, STATUS_ENABLED);
	assert_true(a.live);
	assert_int_equal(f->d.n_device, 1);
	a = device(f, "11111111-1111-4111-8111-111111111111", 0);
	assert_int_equal(a.state, STATUS_ENABLED);
	assert_false(a.live);
	assert_int_equal(f->d.n_device, 1);
	a = device(f, DEV_B, 0);
	assert_int_equal(a.state, STATUS_DISABLED);
	assert_string_equal(a.device_id, DEV_B);
}

static void
device_id_compares_case_insensitively(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(device(f, DEV_A, 0).state, STATUS_ENABLED);
	assert_false(device(f, "11111111-1111-4111-8111-111111111111",
	    0).live);
	assert_int_equal(f->d.n_device, 1);
}

static void
entry_older_than_max_age_is_asked_again(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	device(f, DEV_A, 0);
	fd_advance(&f->d, 30000);
	a = device(f, DEV_A, 0);
	assert_false(a.live);
	assert_int_equal(a.age_ms, 30000);
	fd_advance(&f->d, 31000);
	f->d.dev[0].enabled = 0;
	a = device(f, DEV_A, 0);
	assert_true(a.live);
	assert_int_equal(a.state, STATUS_DISABLED);
	assert_int_equal(f->d.n_device, 2);
}

static void
strict_asks_graph_every_time(void **state)
{
	struct fixture	*f = *state;

	assert_true(device(f, DEV_A, 1).live);
	assert_true(device(f, DEV_A, 1).live);
	assert_int_equal(f->d.n_device, 2);
}

static void
not_found_is_cached_as_deleted(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = device(f, NOBODY, 0);
	assert_int_equal(a.state, STATUS_DELETED);
	assert_true(a.live);
	a = device(f, NOBODY, 0);
	assert_int_equal(a.state, STATUS_DELETED);
	assert_false(a.live);
	assert_int_equal(f->d.n_device, 1);
}

static void
id_that_is_not_a_guid_is_deleted_without_a_call(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(device(f, "not-a-guid", 0).state, STATUS_DELETED);
	assert_int_equal(device_any(f, "x'/../users").state,
	    STATUS_DELETED);
	assert_int_equal(user(f, "no-at-sign").state, STATUS_DELETED);
	assert_int_equal(f->d.n_device + f->d.n_managed + f->d.n_user, 0);
}

/* ---- change tracking ------------------------------------------------------ */

static void
full_sync_fills_the_cache(void **state)
{
	struct fixture		*f = *state;
	struct status_cache_stats st;

	sync_ok(f);
	assert_false(f->d.last_latest);
	assert_int_equal(device(f, DEV_A, 0).state, STATUS_ENABLED);
	assert_int_equal(device(f, DEV_B, 0).state, STATUS_DISABLED);
	assert_int_equal(user(f, "alice@example.com").state, STATUS_ENABLED);
	assert_int_equal(user(f, USR_2).state, STATUS_DISABLED);
	assert_int_equal(f->d.n_device + f->d.n_user, 0);
	status_cache_stats(f->c, &st);
	assert_int_equal(st.devices, 2);
	assert_int_equal(st.users, 2);
	assert_int_equal(st.live_calls, 0);
	assert_int_equal(st.hits, 4);
}

static void
latest_initial_sync_reads_nothing(void **state)
{
	struct fixture	*f = *state;

	status_cache_free(f->c);
	f->c = fd_cache(&f->d, 0, STATUS_SYNC_LATEST);
	sync_ok(f);
	assert_true(f->d.last_latest);
	assert_true(device(f, DEV_A, 0).live);
}

static void
delta_disable_by_object_id_reaches_the_entry(void **state)
{
	struct fixture	*f = *state;

	sync_ok(f);
	/* A change carries the object id and what changed only. */
	fd_change(&f->d, GRAPH_DEVICES, OBJ_A, NULL, 0, NULL);
	sync_ok(f);
	assert_int_equal(device(f, DEV_A, 0).state, STATUS_DISABLED);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_A, NULL, 1, NULL);
	sync_ok(f);
	assert_int_equal(device(f, DEV_A, 0).state, STATUS_ENABLED);
	assert_int_equal(f->d.n_device, 0);
}

static void
delta_change_without_account_enabled_keeps_the_state(void **state)
{
	struct fixture	*f = *state;

	sync_ok(f);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_B, DEV_B, -1, NULL);
	fd_change(&f->d, GRAPH_USERS, USR_2, NULL, -1, NULL);
	sync_ok(f);
	assert_int_equal(device(f, DEV_B, 0).state, STATUS_DISABLED);
	assert_int_equal(user(f, "bob@example.com").state, STATUS_DISABLED);
	assert_int_equal(f->d.n_device + f->d.n_user, 0);
}

static void
delta_removed_marks_deleted(void **state)
{
	struct fixture	*f = *state;

	sync_ok(f);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_A, NULL, -1, "deleted");
	fd_change(&f->d, GRAPH_USERS, USR_1, NULL, -1, "changed");
	sync_ok(f);
	assert_int_equal(device(f, DEV_A, 0).state, STATUS_DELETED);
	assert_int_equal(user(f, "ALICE@example.com").state, STATUS_DELETED);
	assert_int_equal(f->d.n_device + f->d.n_user, 0);
}

static void
delta_of_unknown_object_without_key_is_ignored(void **state)
{
	struct fixture		*f = *state;
	struct status_cache_stats st;

	sync_ok(f);
	fd_change(&f->d, GRAPH_DEVICES, "99999999-0000-4000-8000-000000000009",
	    NULL, 0, NULL);
	sync_ok(f);
	status_cache_stats(f->c, &st);
	assert_int_equal(st.devices, 2);
}

static void
new_object_in_delta_is_cached(void **state)
{
	struct fixture	*f = *state;

	sync_ok(f);
	fd_change(&f->d, GRAPH_DEVICES, "77777777-0000-4000-8000-000000000007",
	    NOBODY, 1, NULL);
	sync_ok(f);
	assert_int_equal(device(f, NOBODY, 0).state, STATUS_ENABLED);
	assert_int_equal(f->d.n_device, 0);
}

static void
user_rename_moves_the_upn(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	sync_ok(f);
	f->d.usr[0].exists = 1;
	snprintf(f->d.usr[0].upn, sizeof(f->d.usr[0].upn), "alice.new@example.com");
	fd_change(&f->d, GRAPH_USERS, USR_1, "alice.new@example.com", -1, NULL);
	sync_ok(f);
	a = user(f, "alice.new@example.com");
	assert_int_equal(a.state, STATUS_ENABLED);
	assert_false(a.live);
	/* The old name is no longer anybody's: Graph says 404. */
	a = user(f, "alice@example.com");
	assert_true(a.live);
	assert_int_equal(a.state, STATUS_DELETED);
}

static void
synced_entries_stay_fresh(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	sync_ok(f);
	device(f, NOBODY, 0);		/* a negative entry, after the chain */
	fd_advance(&f->d, 120000);
	sync_ok(f);
	fd_advance(&f->d, 1000);
	a = device(f, DEV_A, 0);
	assert_false(a.live);
	assert_int_equal(a.age_ms, 1000);
	a = device(f, NOBODY, 0);
	assert_false(a.live);
	assert_int_equal(a.age_ms, 1000);
	assert_int_equal(f->d.n_device, 1);
}

static void
failed_delta_lets_entries_age(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;
	struct err		 e;

	sync_ok(f);
	fd_advance(&f->d, 120000);
	f->d.fail = ERR_TIMEOUT;
	assert_int_equal(status_cache_sync_once(f->c, &e), -1);
	f->d.fail = ERR_OK;
	a = device(f, DEV_A, 0);
	assert_true(a.live);
	assert_int_equal(f->d.n_device, 1);
}

static void
refused_link_reads_everything_again(void **state)
{
	struct fixture		*f = *state;
	struct status_cache_stats st;
	struct err		 e;

	status_cache_free(f->c);
	f->c = fd_cache(&f->d, 0, STATUS_SYNC_FULL);
	sync_ok(f);
	assert_false(f->d.last_had_link);
	sync_ok(f);
	assert_true(f->d.last_had_link);
	f->d.refuse_link = 1;
	fd_advance(&f->d, 120000);
	assert_int_equal(status_cache_sync_once(f->c, &e), -1);
	/* Until the new chain stands, entries age from their own time. */
	assert_true(device(f, DEV_A, 0).live);
	sync_ok(f);
	assert_false(f->d.last_had_link);
	status_cache_stats(f->c, &st);
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.delta_failures, 1);
	fd_advance(&f->d, 120000);
	sync_ok(f);
	assert_false(device(f, DEV_A, 0).live);
}

static void
retry_after_skips_delta_rounds(void **state)
{
	struct fixture	*f = *state;
	struct err	 e;

	f->d.retry_after = 5;
	assert_int_equal(status_cache_sync_once(f->c, &e), -1);
	assert_int_equal(e.code, ERR_THROTTLED);
	assert_int_equal(f->d.n_delta, 0);
	f->d.retry_after = 0;
	sync_ok(f);
	assert_int_equal(f->d.n_delta, 2);
}

static void
users_are_not_followed_unless_asked(void **state)
{
	struct fixture	*f = *state;

	status_cache_free(f->c);
	f->c = fd_cache(&f->d, 0, STATUS_SYNC_FULL);
	sync_ok(f);
	assert_int_equal(f->d.n_delta, 1);
	assert_true(user(f, "alice@example.com").live);
}

/* Inside the round (which started earlier), a live lookup sees newer news. */
static void
live_lookup_during_round(struct fake_dir *d)
{
	struct status_cache	*c = d->hook_arg;
	struct status_query	 q = { http_now_ms() + 2000, 60000, 1 };
	struct status_answer	 a;

	d->delta_hook = NULL;
	fd_advance(d, 10);
	d->dev[0].enabled = 0;
	status_cache_device(c, DEV_A, &q, &a);
	d->dev[0].enabled = 1;		/* the round's (older) view */
}

static void
older_delta_news_do_not_replace_a_live_answer(void **state)
{
	struct fixture	*f = *state;

	f->d.delta_hook = live_lookup_during_round;
	f->d.hook_arg = f->c;
	sync_ok(f);
	assert_int_equal(device(f, DEV_A, 0).state, STATUS_DISABLED);
}

/* ---- failures ------------------------------------------------------------ */

static void
graph_failure_answers_last_known_state_with_its_age(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	device(f, DEV_B, 0);
	fd_advance(&f->d, 61000);
	f->d.fail = ERR_TIMEOUT;
	a = device(f, DEV_B, 0);
	assert_true(a.graph_failed);
	assert_int_equal(a.err.code, ERR_TIMEOUT);
	assert_int_equal(a.state, STATUS_DISABLED);
	assert_int_equal(a.age_ms, 61000);
	a = device(f, NOBODY, 0);
	assert_true(a.graph_failed);
	assert_int_equal(a.state, STATUS_UNKNOWN);
}

static void
breaker_answers_at_once_after_a_failure(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	f->d.fail = ERR_REMOTE;
	assert_true(device(f, DEV_A, 0).graph_failed);
	assert_int_equal(f->d.n_device, 1);
	a = device(f, DEV_B, 0);
	assert_true(a.graph_failed);
	assert_int_equal(f->d.n_device, 1);		/* not asked */
	assert_true(user(f, "bob@example.com").graph_failed);
	assert_int_equal(f->d.n_user, 0);
	/* Lifted after its time, or by any success. */
	f->d.fail = ERR_OK;
	fd_advance(&f->d, 2001);
	assert_int_equal(device(f, DEV_B, 0).state, STATUS_DISABLED);
	f->d.fail = ERR_REMOTE;
	device(f, NOBODY, 0);
	f->d.fail = ERR_OK;
	sync_ok(f);
	assert_true(device(f, "88888888-8888-4888-8888-888888888888", 0).live);
}

static void
breaker_ignores_errors_that_are_not_graphs(void **state)
{
	struct fixture	*f = *state;

	f->d.fail = ERR_NOMEM;
	assert_true(device(f, DEV_A, 0).graph_failed);
	f->d.fail = ERR_OK;
	assert_false(device(f, DEV_B, 0).graph_failed);
}

/* ---- Intune ids ---------------------------------------------------------- */

static void
intune_id_resolves_to_its_entra_device(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = device_any(f, MAN_A);
	assert_int_equal(a.state, STATUS_ENABLED);
	assert_true(a.live);
	assert_string_equal(a.device_id, DEV_A);
	/* deviceId first (404), then managedDevices, then the device. */
	assert_int_equal(f->d.n_device, 2);
	assert_int_equal(f->d.n_managed, 1);
	a = device_any(f, MAN_A);
	assert_false(a.live);
	assert_string_equal(a.device_id, DEV_A);
	assert_int_equal(f->d.n_device + f->d.n_managed, 3);
	/* The device it stands for is followed by delta like any other. */
	sync_ok(f);
	fd_change(&f->d, GRAPH_DEVICES, OBJ_A, NULL, 0, NULL);
	sync_ok(f);
	assert_int_equal(device_any(f, MAN_A).state, STATUS_DISABLED);
	assert_int_equal(f->d.n_device + f->d.n_managed, 3);
}

static void
entra_device_id_in_intune_uri_is_used_directly(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = device_any(f, DEV_B);
	assert_int_equal(a.state, STATUS_DISABLED);
	assert_string_equal(a.device_id, DEV_B);
	assert_int_equal(f->d.n_device, 1);
	assert_int_equal(f->d.n_managed, 0);
	sync_ok(f);
	assert_false(device_any(f, DEV_A).live);
	assert_int_equal(f->d.n_device, 1);
}

static void
id_known_to_neither_is_deleted_and_cached(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = device_any(f, NOBODY);
	assert_int_equal(a.state, STATUS_DELETED);
	assert_true(a.live);
	a = device_any(f, NOBODY);
	assert_int_equal(a.state, STATUS_DELETED);
	assert_false(a.live);
	assert_int_equal(f->d.n_device + f->d.n_managed, 2);
	/* The negative Intune answer is asked again after max_age. */
	fd_advance(&f->d, 61000);
	assert_true(device_any(f, NOBODY).live);
}

static void
intune_device_without_entra_device_is_deleted(void **state)
{
	struct fixture	*f = *state;

	fd_add_managed(&f->d, NOBODY, "");
	assert_int_equal(device_any(f, NOBODY).state, STATUS_DELETED);
}

static void
intune_lookup_failure_is_graph_unavailable(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	f->d.fail = ERR_THROTTLED;
	a = device_any(f, MAN_A);
	assert_true(a.graph_failed);
	assert_int_equal(a.state, STATUS_UNKNOWN);
}

/* ---- users --------------------------------------------------------------- */

static void
user_by_upn_any_case_and_by_id(void **state)
{
	struct fixture		*f = *state;
	struct status_answer	 a;

	a = user(f, "ALICE@example.COM");
	assert_int_equal(a.state, STATUS_ENABLED);
	assert_true(a.live);
	assert_false(user(f, "alice@example.com").live);
	assert_false(user(f, USR_1).live);
	assert_int_equal(f->d.n_user, 1);
	assert_int_equal(user(f, "carol@example.com").state, STATUS_DELETED);
	assert_int_equal(user(f, "carol@example.com").state, STATUS_DELETED);
	assert_int_equal(f->d.n_user, 2);
}

/* ---- single-flight ------------------------------------------------------- */

struct burst {
	struct fixture		*f;
	int64_t			 deadline_ms;
	struct status_answer	 a;
};

static void *
burst_lookup(void *arg)
{
	struct burst		*b = arg;
	struct status_query	 q = { b->deadline_ms, 60000, 0 };

	status_cache_device(b->f->c, DEV_A, &q, &b->a);
	return NULL;
}

static void
concurrent_lookups_share_one_call(void **state)
{
	struct fixture		*f = *state;
	struct burst		 b[8];
	pthread_t		 t[8];
	struct status_cache_stats st;
	int			 i;

	f->d.delay_ms = 200;
	for (i = 0; i < 8; i++) {
		b[i].f = f;
		b[i].deadline_ms = http_now_ms() + 5000;
		assert_int_equal(pthread_create(&t[i], NULL, burst_lookup,
		    &b[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(b[i].a.state, STATUS_ENABLED);
		assert_false(b[i].a.graph_failed);
	}
	assert_int_equal(f->d.n_device, 1);
	status_cache_stats(f->c, &st);
	assert_int_equal(st.live_calls, 1);
	assert_int_equal(st.coalesced, 7);
}

static void
follower_stops_waiting_at_its_deadline(void **state)
{
	struct fixture	*f = *state;
	struct burst	 lead = { f, 0, {0} }, follow = { f, 0, {0} };
	pthread_t	 t;
	int64_t		 start;

	f->d.delay_ms = 600;
	lead.deadline_ms = http_now_ms() + 5000;
	assert_int_equal(pthread_create(&t, NULL, burst_lookup, &lead), 0);
	fd_sleep_ms(50);
	start = http_now_ms();
	follow.deadline_ms = start + 100;
	burst_lookup(&follow);
	assert_true(http_now_ms() - start < 450);
	assert_true(follow.a.graph_failed);
	assert_int_equal(follow.a.err.code, ERR_TIMEOUT);
	pthread_join(t, NULL);
	assert_int_equal(lead.a.state, STATUS_ENABLED);
	assert_int_equal(f->d.n_device, 1);
}

/* ---- the thread ---------------------------------------------------------- */

static void
delta_thread_follows_changes_until_stopped(void **state)
{
	struct fixture		*f = *state;
	struct status_cache_stats st;
	struct err		 e;
	int			 i;

	assert_int_equal(status_cache_start(f->c, &e), 0);
	assert_int_equal(status_cache_start(f->c, &e), 0);	/* idempotent */
	for (i = 0; i < 200; i++) {
		status_cache_stats(f->c, &st);
		if (st.delta_rounds >= 6)
			break;
		fd_sleep_ms(10);
	}
	assert_true(st.delta_rounds >= 6);
	status_cache_stop(f->c);
	status_cache_stats(f->c, &st);
	fd_sleep_ms(60);
	{
		struct status_cache_stats st2;

		status_cache_stats(f->c, &st2);
		assert_int_equal(st2.delta_rounds, st.delta_rounds);
	}
	status_cache_stop(f->c);				/* idempotent */
}

static void
state_names(void **state)
{
	(void)state;
	assert_string_equal(status_state_name(STATUS_ENABLED), "enabled");
	assert_string_equal(status_state_name(STATUS_DISABLED), "disabled");
	assert_string_equal(status_state_name(STATUS_DELETED), "deleted");
	assert_string_equal(status_state_name(STATUS_UNKNOWN), "unknown");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(miss_asks_graph_then_answers_from_memory),
		T(device_id_compares_case_insensitively),
		T(entry_older_than_max_age_is_asked_again),
		T(strict_asks_graph_every_time),
		T(not_found_is_cached_as_deleted),
		T(id_that_is_not_a_guid_is_deleted_without_a_call),
		T(full_sync_fills_the_cache),
		T(latest_initial_sync_reads_nothing),
		T(delta_disable_by_object_id_reaches_the_entry),
		T(delta_change_without_account_enabled_keeps_the_state),
		T(delta_removed_marks_deleted),
		T(delta_of_unknown_object_without_key_is_ignored),
		T(new_object_in_delta_is_cached),
		T(user_rename_moves_the_upn),
		T(synced_entries_stay_fresh),
		T(failed_delta_lets_entries_age),
		T(refused_link_reads_everything_again),
		T(retry_after_skips_delta_rounds),
		T(users_are_not_followed_unless_asked),
		T(older_delta_news_do_not_replace_a_live_answer),
		T(graph_failure_answers_last_known_state_with_its_age),
		T(breaker_answers_at_once_after_a_failure),
		T(breaker_ignores_errors_that_are_not_graphs),
		T(intune_id_resolves_to_its_entra_device),
		T(entra_device_id_in_intune_uri_is_used_directly),
		T(id_known_to_neither_is_deleted_and_cached),
		T(intune_device_without_entra_device_is_deleted),
		T(intune_lookup_failure_is_graph_unavailable),
		T(user_by_upn_any_case_and_by_id),
		T(concurrent_lookups_share_one_call),
		T(follower_stops_waiting_at_its_deadline),
		T(delta_thread_follows_changes_until_stopped),
		cmocka_unit_test(state_names),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
