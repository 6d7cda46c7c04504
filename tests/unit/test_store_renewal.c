/*
 * Unit tests for renewals in the store (shared/store/cert.c,
 * store/sync.c): a certificate is renewed once and only while it is
 * valid, and a revocation reaches every certificate renewed from the
 * revoked one, whichever path revokes it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/sync.h"
#include "test_util.h"

#define P	"0A000000000000000000000000000001"
#define C1	"0A000000000000000000000000000002"
#define C2	"0A000000000000000000000000000003"
#define G	"0A000000000000000000000000000004"

/* A store holding P, its child C1 and its grandchild G. */
static int
setup(void **state)
{
	struct tu_store	*f;
	struct err	 e = {0};
	struct tu_cert	 p = { .serial = P }, c = { .serial = C1,
	    .renewed_from = P }, g = { .serial = G, .renewed_from = C1 };

	tu_store_setup(state);
	f = *state;
	assert_int_equal(tu_cert_issue(f->st, &p, &e), 0);
	assert_int_equal(tu_cert_issue(f->st, &c, &e), 0);
	assert_int_equal(tu_cert_issue(f->st, &g, &e), 0);
	return 0;
}

/* "status reason" of a certificate. */
static const char *
status_of(struct store *st, const char *serial, char *buf, size_t len)
{
	struct cert_row	r = {0};
	struct err	e = {0};

	assert_int_equal(store_cert_get(st, serial, &r, &e), 0);
	snprintf(buf, len, "%s %d", cert_status_name(r.status), r.reason);
	cert_row_clear(&r);
	return buf;
}

static void
renewal_of_a_renewed_certificate_is_refused(void **state)
{
	struct tu_store	*f = *state;
	struct tu_cert	 c = { .serial = C2, .renewed_from = P };
	struct err	 e = {0};

	assert_int_equal(tu_cert_issue(f->st, &c, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_non_null(strstr(e.msg, "renewed already"));
	assert_int_equal(store_cert_count(f->st, -1, &e), 3);
	e = (struct err){0};
	assert_int_equal(store_txn_get(f->st, "tx-" C2, &(struct txn_row){0},
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

static void
renewal_of_a_held_certificate_is_refused(void **state)
{
	struct tu_store	*f = *state;
	struct tu_cert	 c = { .serial = C2, .renewed_from = G };
	struct err	 e = {0};

	assert_int_equal(store_cert_set_status(f->st, G, CERT_HOLD, -1, "test",
	    0, NULL, &e), 0);
	assert_int_equal(tu_cert_issue(f->st, &c, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_int_equal(store_cert_count(f->st, -1, &e), 3);
}

static void
key_compromise_reaches_every_descendant(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];
	int		 changed = 0;

	assert_int_equal(store_cert_set_status(f->st, P, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "admin", 0, &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_string_equal(status_of(f->st, C1, b, sizeof(b)), "revoked 1");
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "revoked 1");
}

static void
a_held_descendant_is_revoked_too(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];

	assert_int_equal(store_cert_set_status(f->st, G, CERT_HOLD, -1, "entra",
	    0, NULL, &e), 0);
	assert_int_equal(store_cert_set_status(f->st, P, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "admin", 0, NULL, &e), 0);
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "revoked 1");
}

static void
intune_revocation_reaches_descendants(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];
	int		 changed = 0;

	assert_int_equal(store_cert_revoke_once(f->st, P,
	    REASON_CESSATION_OF_OPERATION, "intune", &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_string_equal(status_of(f->st, C1, b, sizeof(b)), "revoked 5");
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "revoked 5");
}

static void
revoking_a_child_leaves_the_parent(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];

	assert_int_equal(store_cert_set_status(f->st, C1, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "admin", 0, NULL, &e), 0);
	assert_string_equal(status_of(f->st, P, b, sizeof(b)), "valid -1");
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "revoked 1");
}

static void
superseded_and_hold_do_not_cascade(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];

	assert_int_equal(store_cert_set_status(f->st, C1, CERT_HOLD, -1,
	    "admin", 0, NULL, &e), 0);
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "valid -1");
	assert_int_equal(store_cert_set_status(f->st, P, CERT_REVOKED,
	    REASON_SUPERSEDED, "admin", 0, NULL, &e), 0);
	assert_string_equal(status_of(f->st, C1, b, sizeof(b)), "hold 6");
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "valid -1");
}

static void
a_cycle_in_the_store_ends(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 b[32];
	sqlite3		*db;

	/* A hand-edited store: the root claims to be renewed from G. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE certificates SET"
	    " renewed_from = '" G "' WHERE serial = '" P "'", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_cert_set_status(f->st, C1, CERT_REVOKED,
	    REASON_KEY_COMPROMISE, "admin", 0, NULL, &e), 0);
	assert_string_equal(status_of(f->st, P, b, sizeof(b)), "revoked 1");
	assert_string_equal(status_of(f->st, G, b, sizeof(b)), "revoked 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, tu_store_teardown)
		T(renewal_of_a_renewed_certificate_is_refused),
		T(renewal_of_a_held_certificate_is_refused),
		T(key_compromise_reaches_every_descendant),
		T(a_held_descendant_is_revoked_too),
		T(intune_revocation_reaches_descendants),
		T(revoking_a_child_leaves_the_parent),
		T(superseded_and_hold_do_not_cascade),
		T(a_cycle_in_the_store_ends),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
