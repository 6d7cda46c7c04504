/*
 * txn.c - SCEP transactions, issuance, one-time challenges, audit
 * and meta values in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

static const char *const txn_names[] = { "pending", "approved", "issued", "denied" };

const char *
txn_state_name(enum txn_state s)
{
	return (unsigned)s < 4 ? txn_names[s] : "unknown";
}

static enum txn_state
txn_state_parse(const char *s)
{
	int	i;

	for (i = 0; i < 4; i++)
		if (s != NULL && strcmp(s, txn_names[i]) == 0)
			return (enum txn_state)i;
	return TXN_DENIED;
}

void
txn_row_clear(struct txn_row *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->profile);
	free(r->key_hash);
	free(r->subject);
	free(r->renewal_of);
	free(r->signer_hash);
	buf_free(&r->csr);
	memset(r, 0, sizeof(*r));
}

int
store_audit_in(struct store_conn *c, int64_t at, const char *actor,
    const char *action, const char *object, const char *detail, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if ((s = store_stmt(c, STMT_AUDIT, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, object, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "writing the audit log");
	store_stmt_done(s);
	return rc;
}

int
store_audit(struct store *st, const char *actor, const char *action,
    const char *object, const char *detail, struct err *e)
{
	struct store_conn	*c = store_conn_get(st, e);

	if (c == NULL)
		return -1;
	return store_audit_in(c, store_now(), actor, action, object, detail, e);
}

/* Consumes a one-time challenge inside the caller's transaction. */
static int
challenge_consume(struct store_conn *c, const char *hash, const char *profile,
    int64_t now, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if ((s = store_stmt(c, STMT_CHALLENGE_CONSUME, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, profile, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "consuming a challenge");
	else if (sqlite3_changes(c->db) != 1)
		rc = err_set(e, ERR_BAD_CHALLENGE, "challenge unknown, used or"
		    " expired");
	store_stmt_done(s);
	return rc;
}

/* Marks the transaction issued (inserting it when new). */
static int
txn_mark_issued(struct store_conn *c, const struct store_issue *in,
    struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if ((s = store_stmt(c, STMT_TXN_UPSERT_ISSUED, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, in->txid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->cert->profile, -1, SQLITE_STATIC);
	sqlite3_bind_null(s, 3);	/* the CSR is kept only while pending */
	sqlite3_bind_text(s, 4, in->cert->key_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, in->cert->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, in->cert->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, in->renewal_of, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, in->now);
	sqlite3_bind_text(s, 9, in->signer_hash, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "recording the transaction");
	else if (sqlite3_changes(c->db) != 1)
		rc = err_set(e, ERR_EXISTS, "store: transaction %s was already"
		    " answered", in->txid);
	store_stmt_done(s);
	return rc;
}

int
store_issue(struct store *st, const struct store_issue *in, struct err *e)
{
	struct store_conn	*c;
	int			 ok = 0;

	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	if (in->challenge_hash != NULL && challenge_consume(c,
	    in->challenge_hash, in->cert->profile, in->now, e) == -1)
		goto out;
	/*
	 * The certificate row is the record of the issuance (when, profile,
	 * transaction); the audit table keeps the decisions people and sync
	 * jobs take.  Fewer pages per commit keep enrollment cheap.
	 */
	if (store_cert_insert(c, in->cert, e) == -1 ||
	    txn_mark_issued(c, in, e) == -1)
		goto out;
	/* The notification of this issuance commits with it, or not at all. */
	if (in->outbox != NULL &&
	    store_outbox_insert(c, in->outbox, in->now, NULL, e) == -1)
		goto out;
	ok = 1;
out:
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}

int
store_txn_get(struct store *st, const char *txid, struct txn_row *r,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_TXN_GET, e)) == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	sqlite3_bind_text(s, 1, txid, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		r->id = store_col_strdup(s, 0);
		r->profile = store_col_strdup(s, 1);
		r->state = txn_state_parse((const char *)sqlite3_column_text(s, 2));
		r->key_hash = store_col_strdup(s, 4);
		r->subject = store_col_strdup(s, 5);
		store_col_copy(s, 6, r->serial, sizeof(r->serial));
		r->created_at = sqlite3_column_int64(s, 7);
		r->updated_at = sqlite3_column_int64(s, 8);
		r->renewal_of = store_col_strdup(s, 9);
		r->signer_hash = store_col_strdup(s, 10);
		r->expires_at = sqlite3_column_int64(s, 11);
		if (r->id == NULL || r->key_hash == NULL || buf_set(&r->csr,
		    sqlite3_column_blob(s, 3),
		    (size_t)sqlite3_column_bytes(s, 3)) == -1) {
			txn_row_clear(r);
			err_set(e, ERR_NOMEM, "store: out of memory");
		} else
			rc = 0;
	} else if (step == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "store: no transaction %s", txid);
	else
		store_sql_err(c, e, "transaction lookup");
	store_stmt_done(s);
	return rc;
}

/*
 * Deletes the pending requests whose time is up, each with an audit row,
 * inside the caller's transaction.  An expired request leaves no CSR
 * behind; a poll for it then finds no transaction.
 */
static int
pending_expire(struct store_conn *c, int64_t now, struct err *e)
{
	static const enum store_stmt_id	 ids[] = { STMT_TXN_EXPIRE_AUDIT,
		STMT_TXN_EXPIRE };
	sqlite3_stmt			*s;
	size_t				 i;
	int				 rc = 0;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]) && rc == 0; i++) {
		if ((s = store_stmt(c, ids[i], e)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, now);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = store_sql_err(c, e, "dropping expired requests");
		store_stmt_done(s);
	}
	return rc;
}

/*
 * Refuses a request when its key or its profile already has as many
 * pending requests as lim allows.  A client can make a new key for each
 * request: the bound per profile is what keeps the store from filling,
 * the one per key keeps a single client from taking all of it.
 */
static int
pending_check(struct store_conn *c, const struct txn_row *r,
    const struct pending_limits *lim, struct err *e)
{
	sqlite3_stmt	*s;
	long long	 in_profile, for_key;
	int		 rc = -1;

	if ((s = store_stmt(c, STMT_TXN_PENDING_COUNT, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, r->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->key_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, lim->max_per_profile > 0 ?
	    lim->max_per_profile : -1);		/* -1: no LIMIT */
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_sql_err(c, e, "counting pending requests");
		goto out;
	}
	in_profile = sqlite3_column_int64(s, 0);
	for_key = sqlite3_column_int64(s, 1);
	if (lim->max_per_key > 0 && for_key >= lim->max_per_key)
		err_set(e, ERR_BAD_REQUEST, "this key already has %lld pending"
		    " request%s (pending_max_per_key)", for_key,
		    for_key == 1 ? "" : "s");
	else if (lim->max_per_profile > 0 && in_profile >= lim->max_per_profile)
		err_set(e, ERR_BAD_REQUEST, "profile %s has %lld pending requests"
		    " (pending_max)", r->profile, in_profile);
	else
		rc = 0;
out:
	store_stmt_done(s);
	return rc;
}

int
store_txn_add_pending(struct store *st, const struct txn_row *r,
    const char *challenge_hash, const struct pending_limits *lim,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s = NULL;
	int64_t			 now = store_now();
	int			 ok = 0;

	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	/*
	 * Expired requests go first: they count against no bound.  A refusal
	 * rolls their removal back too (a refusal changes nothing); the next
	 * request accepted removes them.
	 */
	if (pending_expire(c, now, e) == -1 ||
	    (lim != NULL && pending_check(c, r, lim, e) == -1))
		goto out;
	if (challenge_hash != NULL &&
	    challenge_consume(c, challenge_hash, r->profile, now, e) == -1)
		goto out;
	if ((s = store_stmt(c, STMT_TXN_INSERT_PENDING, e)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->profile, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, r->csr.data, (int)r->csr.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->key_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->renewal_of, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	sqlite3_bind_text(s, 8, r->signer_hash, -1, SQLITE_STATIC);
	if (lim != NULL && lim->ttl > 0)
		sqlite3_bind_int64(s, 9, now + lim->ttl);
	else
		sqlite3_bind_null(s, 9);	/* waits for ever */
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(c, e, "recording a pending request");
		goto out;
	}
	if (store_audit_in(c, now, "scep", "pending", r->id, r->subject, e) == -1)
		goto out;
	ok = 1;
out:
	store_stmt_done(s);
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}

int
store_txn_decide(struct store *st, const char *txid, enum txn_state to,
    const char *actor, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s = NULL;
	struct txn_row		 cur = {0};
	int			 ok = 0;
	int64_t			 now = store_now();

	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	if (store_txn_get(st, txid, &cur, e) == -1)
		goto out;
	if (cur.state != TXN_PENDING) {
		err_set(e, ERR_BAD_REQUEST, "transaction %s is %s, not pending",
		    txid, txn_state_name(cur.state));
		goto out;
	}
	if ((s = store_stmt(c, STMT_TXN_DECIDE, e)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, txid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, txn_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(c, e, "deciding a transaction");
		goto out;
	}
	if (sqlite3_changes(c->db) != 1) {
		err_set(e, ERR_BAD_REQUEST, "transaction %s expired unapproved"
		    " (pending_ttl): the client must send a new request", txid);
		goto out;
	}
	if (store_audit_in(c, now, actor, txn_state_name(to), txid,
	    cur.subject, e) == -1)
		goto out;
	ok = 1;
out:
	store_stmt_done(s);
	txn_row_clear(&cur);
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}

int
store_challenge_add(struct store *st, const char *hash, const char *profile,
    int64_t expires_at, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CHALLENGE_ADD, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, profile, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, store_now());
	sqlite3_bind_int64(s, 4, expires_at);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "adding a challenge");
	store_stmt_done(s);
	return rc;
}

int
store_challenge_usable(struct store *st, const char *hash, const char *profile,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CHALLENGE_USABLE, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, store_now());
	sqlite3_bind_text(s, 3, profile, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		rc = 1;
	else if (step == SQLITE_DONE)
		rc = 0;
	else
		rc = store_sql_err(c, e, "challenge lookup");
	store_stmt_done(s);
	return rc;
}

int
store_meta_get(struct store *st, const char *key, struct buf *out,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	const unsigned char	*v;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_META_GET, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		v = sqlite3_column_text(s, 0);
		if (buf_set(out, v ? v : (const unsigned char *)"",
		    v ? (size_t)sqlite3_column_bytes(s, 0) : 0) == 0 &&
		    buf_cstr(out) != NULL)
			rc = 0;
		else
			err_set(e, ERR_NOMEM, "store: out of memory");
	} else if (step == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "store: no meta value %s", key);
	else
		store_sql_err(c, e, "meta lookup");
	store_stmt_done(s);
	return rc;
}

int
store_meta_set(struct store *st, const char *key, const char *value,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_META_SET, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "writing a meta value");
	store_stmt_done(s);
	return rc;
}
