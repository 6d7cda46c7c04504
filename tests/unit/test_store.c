/*
 * Unit tests for the SQLite store (shared/store*.c), on real SQLite files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "test_util.h"


static int
issue(struct store *st, const char *serial, const char *txid,
    const char *challenge, struct err *e)
{
	struct tu_cert	c = { .serial = serial, .txid = txid,
			    .challenge = challenge };

	return tu_cert_issue(st, &c, e);
}

static void
store_creates_schema_and_reopens(void **state)
{
	struct tu_store	*f = *state;
	struct store	*ro;
	struct err	 e = {0};

	assert_true(store_schema_version(f->st, &e) >= 1);
	ro = store_open(f->path, STORE_RDONLY, &e);
	assert_non_null(ro);
	assert_int_equal(store_ping(ro, &e), 0);
	store_close(ro);
}

static void
store_refuses_a_file_that_is_not_a_store(void **state)
{
	struct tu_store	*f = *state;
	char		 path[128];
	struct err	 e = {0};
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fp = fopen(path, "w");
	fputs("this is not sqlite", fp);
	fclose(fp);
	assert_null(store_open(path, STORE_RDONLY, &e));
	assert_int_equal(e.code, ERR_STORE);
}

static void
issue_then_lookup_by_any_serial_spelling(void **state)
{
	struct tu_store	*f = *state;
	struct cert_row	 r = {0};
	struct err	 e = {0};

	assert_int_equal(issue(f->st, "0A1B2C", "tx1", NULL, &e), 0);
	assert_int_equal(store_cert_get(f->st, "0a:1b:2c", &r, &e), 0);
	assert_string_equal(r.serial, "0A1B2C");
	assert_int_equal(r.status, CERT_VALID);
	assert_int_equal(r.der.len, 3);
	cert_row_clear(&r);
	assert_int_equal(store_cert_get(f->st, "A1B2C", &r, &e), 0);
	cert_row_clear(&r);
	assert_int_equal(store_cert_get(f->st, "0B", &r, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_cert_get(f->st, "zz", &r, &e), -1);
	assert_int_equal(e.code, ERR_USAGE);
}

static void
duplicate_serial_is_refused_and_changes_nothing(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};

	assert_int_equal(issue(f->st, "11", "tx1", NULL, &e), 0);
	assert_int_equal(issue(f->st, "11", "tx2", NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_non_null(strstr(e.msg, STORE_DUPLICATE_KEY));
	assert_int_equal(e.kind, ERR_KIND_PRIMARY_KEY);
	assert_int_equal(store_cert_count(f->st, -1, &e), 1);
	/* The failed transaction left no transaction row behind either. */
	{
		struct txn_row t = {0};

		assert_int_equal(store_txn_get(f->st, "tx2", &t, &e), -1);
		assert_int_equal(e.code, ERR_NOT_FOUND);
	}
}

static void
answered_transaction_is_not_answered_twice(void **state)
{
	struct tu_store	*f = *state;
	struct txn_row	 t = {0};
	struct err	 e = {0};

	assert_int_equal(issue(f->st, "21", "tx", NULL, &e), 0);
	assert_int_equal(issue(f->st, "22", "tx", NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	/* Not a taken serial: enrollment must not retry it with another. */
	assert_true(e.kind != ERR_KIND_PRIMARY_KEY);
	assert_int_equal(store_cert_count(f->st, -1, &e), 1);
	assert_int_equal(store_txn_get(f->st, "tx", &t, &e), 0);
	assert_int_equal(t.state, TXN_ISSUED);
	assert_string_equal(t.serial, "21");
	txn_row_clear(&t);
}

static void
one_time_challenge_is_consumed_once(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};

	assert_int_equal(store_challenge_add(f->st, "h1", NULL, 4000000000LL, &e), 0);
	assert_int_equal(store_challenge_usable(f->st, "h1", "default", &e), 1);
	assert_int_equal(issue(f->st, "31", "tx1", "h1", &e), 0);
	assert_int_equal(store_challenge_usable(f->st, "h1", "default", &e), 0);
	assert_int_equal(issue(f->st, "32", "tx2", "h1", &e), -1);
	assert_int_equal(e.code, ERR_BAD_CHALLENGE);
	assert_int_equal(store_cert_count(f->st, -1, &e), 1);
}

static void
expired_or_foreign_challenge_is_not_usable(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};

	assert_int_equal(store_challenge_add(f->st, "old", NULL, 10, &e), 0);
	assert_int_equal(store_challenge_usable(f->st, "old", "default", &e), 0);
	assert_int_equal(store_challenge_add(f->st, "p", "printers", 4000000000LL, &e), 0);
	assert_int_equal(store_challenge_usable(f->st, "p", "default", &e), 0);
	assert_int_equal(store_challenge_usable(f->st, "p", "printers", &e), 1);
	assert_int_equal(issue(f->st, "41", "tx", "old", &e), -1);
	assert_int_equal(e.code, ERR_BAD_CHALLENGE);
}

static void
revoke_hold_and_release_follow_rfc5280(void **state)
{
	struct tu_store	*f = *state;
	struct cert_row	 r = {0};
	struct err	 e = {0};
	int		 changed;

	assert_int_equal(issue(f->st, "51", "tx", NULL, &e), 0);
	assert_int_equal(store_cert_set_status(f->st, "51", CERT_HOLD, -1,
	    "test", 0, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(store_cert_get(f->st, "51", &r, &e), 0);
	assert_int_equal(r.status, CERT_HOLD);
	assert_int_equal(r.reason, REASON_CERTIFICATE_HOLD);
	assert_true(r.revoked_at > 0);
	cert_row_clear(&r);
	assert_int_equal(store_cert_set_status(f->st, "51", CERT_VALID, -1,
	    "test", 0, &changed, &e), 0);
	assert_true(changed);
	assert_int_equal(store_cert_set_status(f->st, "51", CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "test", 0, &changed, &e), 0);
	/* A real revocation cannot be undone. */
	assert_int_equal(store_cert_set_status(f->st, "51", CERT_VALID, -1,
	    "test", 0, &changed, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_int_equal(store_cert_set_status(f->st, "51", CERT_HOLD, -1,
	    "test", 0, &changed, &e), -1);
	assert_int_equal(store_cert_get(f->st, "51", &r, &e), 0);
	assert_int_equal(r.status, CERT_REVOKED);
	assert_int_equal(r.reason, REASON_KEY_COMPROMISE);
	cert_row_clear(&r);
	assert_int_equal(store_cert_count(f->st, CERT_REVOKED, &e), 1);
}

static void
pending_transaction_is_decided_once(void **state)
{
	struct tu_store	*f = *state;
	struct txn_row	 t = {0};
	struct err	 e = {0};

	t.id = "ptx";
	t.profile = "default";
	t.key_hash = "kh";
	t.subject = "CN=x";
	buf_set(&t.csr, "CSR", 3);
	assert_int_equal(store_txn_add_pending(f->st, &t, NULL, NULL, &e), 0);
	assert_int_equal(store_txn_add_pending(f->st, &t, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	buf_free(&t.csr);
	assert_int_equal(store_txn_decide(f->st, "ptx", TXN_APPROVED, "admin", &e), 0);
	assert_int_equal(store_txn_decide(f->st, "ptx", TXN_DENIED, "admin", &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_int_equal(store_txn_decide(f->st, "nope", TXN_DENIED, "admin", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	/* The approved transaction gets its certificate. */
	assert_int_equal(issue(f->st, "61", "ptx", NULL, &e), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_txn_get(f->st, "ptx", &t, &e), 0);
	assert_int_equal(t.state, TXN_ISSUED);
	txn_row_clear(&t);
}

static void
read_only_store_refuses_writes(void **state)
{
	struct tu_store	*f = *state;
	struct store	*ro;
	struct err	 e = {0};

	ro = store_open(f->path, STORE_RDONLY, &e);
	assert_non_null(ro);
	assert_int_equal(issue(ro, "71", "tx", NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	store_close(ro);
	assert_int_equal(store_cert_count(f->st, -1, &e), 0);
}

struct writer {
	struct store	*st;
	int		 base, n, failures;
};

static void *
write_many(void *arg)
{
	struct writer	*w = arg;
	char		 serial[16], txid[16];
	struct err	 e = {0};
	int		 i;

	for (i = 0; i < w->n; i++) {
		snprintf(serial, sizeof(serial), "%08X", w->base + i);
		snprintf(txid, sizeof(txid), "t%d", w->base + i);
		if (issue(w->st, serial, txid, NULL, &e) == -1)
			w->failures++;
	}
	return NULL;
}

static void
concurrent_writers_on_their_own_connections(void **state)
{
	struct tu_store	*f = *state;
	struct writer	 w[2] = { { f->st, 0x100000, 300, 0 },
			    { f->st, 0x200000, 300, 0 } };
	pthread_t	 t[2];
	struct err	 e = {0};
	int		 i;

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(w[0].failures + w[1].failures, 0);
	assert_int_equal(store_cert_count(f->st, -1, &e), 600);
}

static void
crl_reasons_parse_by_name_and_number(void **state)
{
	(void)state;
	assert_int_equal(crl_reason_parse("keyCompromise"), REASON_KEY_COMPROMISE);
	assert_int_equal(crl_reason_parse("CESSATIONOFOPERATION"),
	    REASON_CESSATION_OF_OPERATION);
	assert_int_equal(crl_reason_parse("6"), REASON_CERTIFICATE_HOLD);
	assert_int_equal(crl_reason_parse("7"), -1);
	assert_int_equal(crl_reason_parse("11"), -1);
	assert_int_equal(crl_reason_parse("bogus"), -1);
	assert_string_equal(crl_reason_name(1), "keyCompromise");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, \
	    tu_store_teardown)
	const struct CMUnitTest tests[] = {
		T(store_creates_schema_and_reopens),
		T(store_refuses_a_file_that_is_not_a_store),
		T(issue_then_lookup_by_any_serial_spelling),
		T(duplicate_serial_is_refused_and_changes_nothing),
		T(answered_transaction_is_not_answered_twice),
		T(one_time_challenge_is_consumed_once),
		T(expired_or_foreign_challenge_is_not_usable),
		T(revoke_hold_and_release_follow_rfc5280),
		T(pending_transaction_is_decided_once),
		T(read_only_store_refuses_writes),
		T(concurrent_writers_on_their_own_connections),
		cmocka_unit_test(crl_reasons_parse_by_name_and_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
