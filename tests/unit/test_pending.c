/*
 * Unit tests for requests waiting for manual approval: the bounds and the
 * expiry of pending transactions (shared/store/txn.c) and the CSR copy the
 * store keeps of them (scep-ca/enroll/authorize.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "enroll/enroll.h"
#include "scep/msg.h"
#include "store/internal.h"
#include "store/store.h"
#include "test_util.h"

#define SECRET	"s3cret-challenge-value"


/* Runs sql on the store file with the sqlite3 library; asserts it works. */
static void
db_exec(const char *path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The integer the query's first row starts with. */
static int64_t
db_int(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*s;
	int64_t		 v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Adds a pending request id for key on profile under lim. */
static int
add(struct store *st, const char *id, const char *profile, const char *key,
    const struct pending_limits *lim, const char *challenge, struct err *e)
{
	struct txn_row	t = {0};
	int		rc;

	t.id = (char *)id;
	t.profile = (char *)profile;
	t.key_hash = (char *)key;
	t.subject = "CN=device";
	buf_set(&t.csr, "CSR", 3);
	err_clear(e);
	rc = store_txn_add_pending(st, &t, challenge, lim, e);
	buf_free(&t.csr);
	return rc;
}

/* How the store looks, in the counts a refusal must not change. */
struct snapshot {
	int64_t	txns, audit, used;
};

static void
snap(const char *path, struct snapshot *s)
{
	s->txns = db_int(path, "SELECT count(*) FROM transactions");
	s->audit = db_int(path, "SELECT count(*) FROM audit");
	s->used = db_int(path, "SELECT count(*) FROM challenges"
	    " WHERE used_at IS NOT NULL");
}

static void
pending_requests_are_bounded_per_profile(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 3 };
	struct err		 e = {0};
	char			 id[16], key[16];
	int			 i;

	/* Each request with a key of its own, as an attacker would. */
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(add(f->st, id, "manual", key, &lim, NULL, &e), 0);
	}
	assert_int_equal(add(f->st, "t3", "manual", "k3", &lim, NULL, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_non_null(strstr(e.msg, "profile manual has 3 pending requests"
	    " (pending_max)"));
	/* Another profile has a bound of its own. */
	assert_int_equal(add(f->st, "t4", "other", "k4", &lim, NULL, &e), 0);
	/* A decision frees a place. */
	assert_int_equal(store_txn_decide(f->st, "t0", TXN_DENIED, "admin", &e),
	    0);
	assert_int_equal(add(f->st, "t3", "manual", "k3", &lim, NULL, &e), 0);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"
	    " WHERE state = 'pending' AND profile = 'manual'"), 3);
}

static void
pending_requests_are_bounded_per_key(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 100,
		.max_per_key = 1 };
	struct err		 e = {0};

	assert_int_equal(add(f->st, "a1", "manual", "ka", &lim, NULL, &e), 0);
	assert_int_equal(add(f->st, "a2", "manual", "ka", &lim, NULL, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_non_null(strstr(e.msg, "this key already has 1 pending request"));
	/* Other keys, and the same key on another profile, still get in. */
	assert_int_equal(add(f->st, "b1", "manual", "kb", &lim, NULL, &e), 0);
	assert_int_equal(add(f->st, "a3", "other", "ka", &lim, NULL, &e), 0);
	/* Once decided, the key may ask again. */
	assert_int_equal(store_txn_decide(f->st, "a1", TXN_APPROVED, "admin",
	    &e), 0);
	assert_int_equal(add(f->st, "a2", "manual", "ka", &lim, NULL, &e), 0);
	lim.max_per_key = 2;
	assert_int_equal(add(f->st, "a4", "manual", "ka", &lim, NULL, &e), 0);
	assert_int_equal(add(f->st, "a5", "manual", "ka", &lim, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "2 pending requests (pending_max_per_key)"));
}

static void
refused_pending_request_changes_nothing(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 1, .ttl = 3600 };
	struct snapshot		 before, after;
	struct err		 e = {0};
	char			 hash[65];

	assert_int_equal(add(f->st, "p1", "manual", "k1", &lim, NULL, &e), 0);
	/* An expired request the refused one's transaction deletes, then rolls back. */
	assert_int_equal(add(f->st, "old", "other", "k9", &lim, NULL, &e), 0);
	db_exec(f->path, "UPDATE transactions SET expires_at = 1"
	    " WHERE id = 'old'");
	assert_int_equal(challenge_hash("otc", 3, hash), 0);
	assert_int_equal(store_challenge_add(f->st, hash, NULL,
	    (int64_t)time(NULL) + 3600, &e), 0);
	snap(f->path, &before);
	assert_int_equal(add(f->st, "p2", "manual", "k2", &lim, hash, &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	snap(f->path, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"
	    " WHERE id = 'p2'"), 0);
	/* The one-time challenge was not consumed. */
	assert_int_equal(store_challenge_usable(f->st, hash, "manual", &e), 1);
}

static void
expired_pending_requests_are_dropped_and_audited(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 2, .ttl = 600 };
	struct txn_row		 t = {0};
	struct err		 e = {0};
	int64_t			 now = (int64_t)time(NULL);

	assert_int_equal(add(f->st, "e1", "manual", "k1", &lim, NULL, &e), 0);
	assert_int_equal(add(f->st, "e2", "manual", "k2", &lim, NULL, &e), 0);
	/* Each request expires ttl seconds after it arrived. */
	assert_in_range(db_int(f->path, "SELECT expires_at - created_at"
	    " FROM transactions WHERE id = 'e1'"), 600, 600);
	assert_in_range(db_int(f->path, "SELECT expires_at FROM transactions"
	    " WHERE id = 'e1'"), now + 600, now + 605);
	assert_int_equal(add(f->st, "e3", "manual", "k3", &lim, NULL, &e), -1);
	/* e1's time is up: it no longer counts, and goes. */
	db_exec(f->path, "UPDATE transactions SET created_at = created_at - 601,"
	    " expires_at = expires_at - 601 WHERE id = 'e1'");
	assert_int_equal(add(f->st, "e3", "manual", "k3", &lim, NULL, &e), 0);
	assert_int_equal(store_txn_get(f->st, "e1", &t, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM audit"
	    " WHERE action = 'expired' AND object = 'e1'"), 1);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM audit"
	    " WHERE action = 'expired'"), 1);
	/* Its key may ask again. */
	lim.max_per_profile = 3;
	assert_int_equal(add(f->st, "e4", "manual", "k1", &lim, NULL, &e), 0);
}

static void
expired_pending_request_cannot_be_decided(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 2, .ttl = 600 };
	struct txn_row		 t = {0};
	struct err		 e = {0};

	assert_int_equal(add(f->st, "x1", "manual", "k1", &lim, NULL, &e), 0);
	db_exec(f->path, "UPDATE transactions SET expires_at = 1000"
	    " WHERE id = 'x1'");
	assert_int_equal(store_txn_decide(f->st, "x1", TXN_APPROVED, "admin",
	    &e), -1);
	assert_int_equal(e.code, ERR_BAD_REQUEST);
	assert_non_null(strstr(e.msg, "expired"));
	assert_int_equal(store_txn_decide(f->st, "x1", TXN_DENIED, "admin",
	    &e), -1);
	assert_int_equal(store_txn_get(f->st, "x1", &t, &e), 0);
	assert_int_equal(t.state, TXN_PENDING);
	txn_row_clear(&t);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM audit"
	    " WHERE actor = 'admin'"), 0);
}

static void
pending_request_without_ttl_never_expires(void **state)
{
	struct tu_store		*f = *state;
	struct pending_limits	 lim = { .max_per_profile = 5 };
	struct err		 e = {0};

	assert_int_equal(add(f->st, "n1", "manual", "k1", &lim, NULL, &e), 0);
	assert_int_equal(add(f->st, "n2", "manual", "k2", NULL, NULL, &e), 0);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"
	    " WHERE expires_at IS NULL"), 2);
	db_exec(f->path, "UPDATE transactions SET created_at = 1");
	assert_int_equal(add(f->st, "n3", "manual", "k3", &lim, NULL, &e), 0);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"),
	    3);
	assert_int_equal(store_txn_decide(f->st, "n1", TXN_APPROVED, "admin",
	    &e), 0);
}

/* The schema version that brings pending expiry. */
static int
expiry_version(void)
{
	int	v;

	for (v = 1; v <= store_schema_latest(); v++)
		if (strstr(store_migration(v), "ADD COLUMN expires_at") != NULL)
			return v;
	fail_msg("no migration adds transactions.expires_at");
	return -1;
}

/* A store from before pending expiry with requests, opened by this code. */
static void
migration_gives_pending_requests_the_default_ttl(void **state)
{
	struct tu_store	*f = *state;
	struct err	 e = {0};
	char		 sql[512];
	int		 v = expiry_version();

	assert_int_equal(add(f->st, "m1", "manual", "k1", NULL, NULL, &e), 0);
	assert_int_equal(add(f->st, "m2", "manual", "k2", NULL, NULL, &e), 0);
	store_close(f->st);
	snprintf(sql, sizeof(sql), "DROP INDEX transactions_pending;"
	    "DROP INDEX transactions_pending_expiry;"
	    "ALTER TABLE transactions DROP COLUMN expires_at;"
	    "UPDATE transactions SET created_at = 1000 WHERE id = 'm1';"
	    "UPDATE transactions SET state = 'denied' WHERE id = 'm2';"
	    "PRAGMA user_version = %d;", v - 1);
	db_exec(f->path, sql);
	f->st = store_open(f->path, STORE_CREATE, &e);
	assert_non_null(f->st);
	assert_int_equal(store_schema_version(f->st, &e), store_schema_latest());
	assert_int_equal(db_int(f->path, "SELECT expires_at FROM transactions"
	    " WHERE id = 'm1'"), 1000 + 604800);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"
	    " WHERE id = 'm2' AND expires_at IS NULL"), 1);
	/* m1 was due long ago: the next pending request drops it. */
	assert_int_equal(add(f->st, "m3", "manual", "k3", NULL, NULL, &e), 0);
	assert_int_equal(db_int(f->path, "SELECT count(*) FROM transactions"
	    " WHERE id = 'm1'"), 0);
}

/* Counting reads the pending rows only, not every transaction. */
static void
pending_counts_read_the_partial_indexes(void **state)
{
	struct tu_store	*f = *state;
	sqlite3		*db;
	sqlite3_stmt	*s;
	const char	*const q[] = {
		"SELECT 1 FROM transactions WHERE state = 'pending'"
		" AND profile = 'p' LIMIT 10",
		"SELECT count(*) FROM transactions WHERE state = 'pending'"
		" AND profile = 'p' AND key_hash = 'k'",
		"DELETE FROM transactions WHERE state = 'pending'"
		" AND expires_at <= 5",
	};
	char		 plan[512];
	size_t		 i;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		snprintf(plan, sizeof(plan), "EXPLAIN QUERY PLAN %s", q[i]);
		assert_int_equal(sqlite3_prepare_v2(db, plan, -1, &s, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		snprintf(plan, sizeof(plan), "%s", sqlite3_column_text(s, 3));
		sqlite3_finalize(s);
		assert_non_null(strstr(plan, "INDEX transactions_pending"));
	}
	sqlite3_close(db);
}

/* ---- the CSR copy the store keeps -------------------------------------- */

/*
 * Turns the attribute type OID 1.2.840.113549.1.9.<arc> in der into
 * challengePassword (1.2.840.113549.1.9.7): OpenSSL will not add the same
 * attribute twice, a client can send it twice.
 */
static void
oid_to_challenge(struct buf *der, unsigned char arc)
{
	unsigned char	 oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
		0x0d, 0x01, 0x09, arc };
	unsigned char	*p;

	p = memmem(der->data, der->len, oid, sizeof(oid));
	assert_non_null(p);
	p[sizeof(oid) - 1] = 0x07;
}

/*
 * A signed CSR with SANs and n (0 to 3) challengePassword attributes, as
 * DER; the signature does not cover the second and third.
 */
static void
make_csr(int n, struct buf *der)
{
	static const char *const	 others[] = { "1.2.840.113549.1.9.2",
		"1.2.840.113549.1.9.8" };
	EVP_PKEY			*key;
	X509_REQ			*req;
	X509_NAME			*name;
	X509_EXTENSION			*ext;
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	unsigned char			*p = NULL;
	int				 i, len;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(key);
	req = X509_REQ_new();
	name = X509_REQ_get_subject_name(req);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"device-1", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Example", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (n > 0)
		assert_int_equal(X509_REQ_add1_attr_by_NID(req,
		    NID_pkcs9_challengePassword, MBSTRING_ASC,
		    (const unsigned char *)SECRET, -1), 1);
	for (i = 1; i < n; i++)
		assert_int_equal(X509_REQ_add1_attr_by_txt(req, others[i - 1],
		    V_ASN1_UTF8STRING, (const unsigned char *)SECRET,
		    (int)strlen(SECRET)), 1);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    "DNS:device.example.com,URI:IntuneDeviceId://1234");
	assert_non_null(ext);
	sk_X509_EXTENSION_push(exts, ext);
	assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	assert_true((len = i2d_X509_REQ(req, &p)) > 0);
	assert_int_equal(buf_set(der, p, (size_t)len), 0);
	OPENSSL_free(p);
	if (n > 1)
		oid_to_challenge(der, 0x02);
	if (n > 2)
		oid_to_challenge(der, 0x08);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

/* The DER of an extension list, to compare two. */
static void
exts_der(X509_REQ *req, struct buf *out)
{
	STACK_OF(X509_EXTENSION)	*exts = X509_REQ_get_extensions(req);
	unsigned char			*p = NULL;
	int				 len;

	assert_non_null(exts);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	len = i2d_X509_EXTENSIONS(exts, &p);
	assert_true(len > 0);
	assert_int_equal(buf_set(out, p, (size_t)len), 0);
	OPENSSL_free(p);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static int
has_secret(const struct buf *b)
{
	return memmem(b->data, b->len, SECRET, strlen(SECRET)) != NULL;
}

/*
 * The request as the daemon holds it: parsed by scep_csr_parse() in the
 * parsing-only library context, then copied without its challenge, the
 * copy parsed back the way handle_poll() does.
 */
static void
strip_and_compare(int n)
{
	struct scep_codec	*codec;
	struct buf		 der = {0}, copy = {0}, given = {0};
	struct buf		 a = {0}, b = {0};
	X509_REQ		*csr, *back;
	EVP_PKEY		*key, *back_key;
	unsigned char		*pa = NULL, *pb = NULL;
	int			 la, lb;
	struct err		 e = {0};

	make_csr(n, &der);
	assert_int_equal(has_secret(&der), n > 0);
	assert_non_null(codec = scep_codec_new(&e));
	assert_int_equal(scep_csr_parse(codec, der.data, der.len, &csr, &key,
	    &e), 0);
	assert_int_equal(csr_der_without_challenge(csr, &copy, &e), 0);
	assert_false(has_secret(&copy));
	/* The caller's request is left whole. */
	assert_int_equal(X509_REQ_get_attr_count(csr), n + 1);
	assert_int_equal(csr_challenge(csr, &given), n > 0);
	if (n > 0)
		assert_memory_equal(given.data, SECRET, strlen(SECRET));
	buf_wipe(&given);
	/* Without a challenge, the copy is the request itself. */
	if (n == 0) {
		assert_int_equal(copy.len, der.len);
		assert_memory_equal(copy.data, der.data, der.len);
	}
	/* The copy: no challengePassword; subject, key and SANs kept. */
	assert_int_equal(scep_csr_parse(codec, copy.data, copy.len, &back,
	    &back_key, &e), 0);
	assert_int_equal(X509_REQ_get_attr_by_NID(back,
	    NID_pkcs9_challengePassword, -1), -1);
	assert_int_equal(X509_REQ_get_attr_count(back), 1);
	assert_int_equal(csr_challenge(back, &given), 0);
	assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(csr),
	    X509_REQ_get_subject_name(back)), 0);
	la = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(csr), &pa);
	lb = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(back), &pb);
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, (size_t)la);
	assert_int_equal(EVP_PKEY_eq(key, back_key), 1);
	exts_der(csr, &a);
	exts_der(back, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	OPENSSL_free(pa);
	OPENSSL_free(pb);
	buf_free(&a);
	buf_free(&b);
	buf_free(&der);
	buf_free(&copy);
	X509_REQ_free(csr);
	X509_REQ_free(back);
	EVP_PKEY_free(key);
	EVP_PKEY_free(back_key);
	scep_codec_free(codec);
}

static void
stored_csr_copy_has_no_challenge_password(void **state)
{
	(void)state;
	strip_and_compare(1);
}

static void
stored_csr_copy_drops_every_challenge_password(void **state)
{
	(void)state;
	strip_and_compare(3);
}

static void
stored_csr_copy_of_a_csr_without_challenge_is_the_same(void **state)
{
	(void)state;
	strip_and_compare(0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_store_setup, \
	    tu_store_teardown)
	const struct CMUnitTest tests[] = {
		T(pending_requests_are_bounded_per_profile),
		T(pending_requests_are_bounded_per_key),
		T(refused_pending_request_changes_nothing),
		T(expired_pending_requests_are_dropped_and_audited),
		T(expired_pending_request_cannot_be_decided),
		T(pending_request_without_ttl_never_expires),
		T(migration_gives_pending_requests_the_default_ttl),
		T(pending_counts_read_the_partial_indexes),
		cmocka_unit_test(stored_csr_copy_has_no_challenge_password),
		cmocka_unit_test(stored_csr_copy_drops_every_challenge_password),
		cmocka_unit_test(stored_csr_copy_of_a_csr_without_challenge_is_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
