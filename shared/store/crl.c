/*
 * crl.c - what revocation publishing reads from the store: the CRL
 * entries, the CRL number, the revocation generation, and one
 * certificate's status for OCSP.  Each query reads only the columns it
 * needs, so a CRL of 100 000 entries or an OCSP lookup stays cheap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

/* Meta keys (the `meta` table). */
#define META_CRL_NUMBER		"crl_number"
#define META_REVOCATION_GEN	"revocation_generation"

/* "revoked" / "hold" (anything else counts as revoked: never "good"). */
static enum cert_status
status_of(const unsigned char *text)
{
	if (text != NULL && strcmp((const char *)text, "valid") == 0)
		return CERT_VALID;
	if (text != NULL && strcmp((const char *)text, "hold") == 0)
		return CERT_HOLD;
	return CERT_REVOKED;
}

int
store_meta_bump_in(struct store_conn *c, const char *key, int64_t *out,
    struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = -1;

	if ((s = store_stmt(c, STMT_META_BUMP, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_sql_err(c, e, "incrementing a counter");
		goto out;
	}
	if (out != NULL)
		*out = sqlite3_column_int64(s, 0);
	/* Step to the end: the statement's implicit transaction commits. */
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(c, e, "incrementing a counter");
		goto out;
	}
	rc = 0;
out:
	store_stmt_done(s);
	return rc;
}

int
store_crl_number_next(struct store *st, int64_t *out, struct err *e)
{
	struct store_conn	*c;

	/* One statement: atomic, so two signers never share a number. */
	if ((c = store_conn_get(st, e)) == NULL)
		return -1;
	return store_meta_bump_in(c, META_CRL_NUMBER, out, e);
}

int
store_revocation_generation(struct store *st, int64_t *out, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_META_GET, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, META_REVOCATION_GEN, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (step == SQLITE_DONE) {
		*out = 0;	/* nothing was ever revoked */
		rc = 0;
	} else
		store_sql_err(c, e, "reading the revocation generation");
	store_stmt_done(s);
	return rc;
}

/*
 * Steps s over (serial, status, revoked_at, reason) rows, calling fn for
 * each, and resets it.  Returns the number of rows, or -1 (with e set
 * unless fn stopped the walk).
 */
static int
walk_entries(struct store_conn *c, sqlite3_stmt *s, store_crl_fn fn,
    void *arg, const char *what, struct err *e)
{
	struct crl_entry	 ent;
	int			 step, n = 0;

	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		ent.serial = (const char *)sqlite3_column_text(s, 0);
		ent.status = status_of(sqlite3_column_text(s, 1));
		ent.revoked_at = sqlite3_column_int64(s, 2);
		ent.reason = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 3);
		if (ent.serial == NULL) {
			n = err_set(e, ERR_NOMEM, "store: out of memory");
			break;
		}
		if (fn(arg, &ent) != 0) {
			n = -1;
			break;
		}
		n++;
	}
	if (n >= 0 && step != SQLITE_DONE)
		n = store_sql_err(c, e, what);
	store_stmt_done(s);
	return n;
}

int
store_crl_entries(struct store *st, int64_t expired_before, store_crl_fn fn,
    void *arg, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CRL_ENTRIES, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, expired_before);
	return walk_entries(c, s, fn, arg, "reading the CRL entries", e) < 0 ?
	    -1 : 0;
}

int
store_status_page(struct store *st, const char *after, int64_t expired_before,
    int limit, store_crl_fn fn, void *arg, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_STATUS_PAGE, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, expired_before);
	sqlite3_bind_int(s, 3, limit);
	return walk_entries(c, s, fn, arg, "reading certificate statuses", e);
}

int
store_cert_status(struct store *st, const char *serial, enum cert_status *status,
    int64_t *revoked_at, int *reason, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CERT_STATUS, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*status = status_of(sqlite3_column_text(s, 0));
		*revoked_at = sqlite3_column_int64(s, 1);
		*reason = sqlite3_column_type(s, 2) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 2);
		rc = 1;
	} else if (step == SQLITE_DONE)
		rc = 0;
	else
		store_sql_err(c, e, "certificate status lookup");
	store_stmt_done(s);
	return rc;
}
