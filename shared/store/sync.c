/*
 * sync.c - the sync jobs' rows (sync_state) and the status changes
 * they make inside their own transactions (sync.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/sync.h"

void
sync_row_clear(struct sync_row *r)
{
	if (r == NULL)
		return;
	free(r->delta_link);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

/* Reads a row in SYNC_COLS order. */
static int
sync_row_read(sqlite3_stmt *s, struct sync_row *r)
{
	memset(r, 0, sizeof(*r));
	store_col_copy(s, 0, r->name, sizeof(r->name));
	r->delta_link = store_col_strdup(s, 1);
	r->scan_rowid = sqlite3_column_int64(s, 2);
	r->last_success = sqlite3_column_int64(s, 3);
	r->last_attempt = sqlite3_column_int64(s, 4);
	r->last_error = store_col_strdup(s, 5);
	r->last_error_at = sqlite3_column_int64(s, 6);
	r->items_applied = sqlite3_column_int64(s, 7);
	r->failures = sqlite3_column_int(s, 8);
	if ((sqlite3_column_type(s, 1) != SQLITE_NULL &&
	    r->delta_link == NULL) ||
	    (sqlite3_column_type(s, 5) != SQLITE_NULL && r->last_error == NULL))
		return -1;
	return 0;
}

int
store_sync_get(struct store *st, const char *name, struct sync_row *out,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	memset(out, 0, sizeof(*out));
	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_SYNC_GET, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		if (sync_row_read(s, out) == 0)
			rc = 0;
		else {
			sync_row_clear(out);
			err_set(e, ERR_NOMEM, "store: out of memory");
		}
	} else if (step == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "store: no sync state %s", name);
	else
		store_sql_err(c, e, "reading a sync state");
	store_stmt_done(s);
	return rc;
}

int
store_sync_list(struct store *st, store_sync_fn fn, void *arg, struct err *e)
{
	struct store_conn	*c;
	struct sync_row		 r;
	sqlite3_stmt		*s;
	int			 step, rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_SYNC_LIST, e)) == NULL)
		return -1;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (sync_row_read(s, &r) == -1) {
			sync_row_clear(&r);
			rc = err_set(e, ERR_NOMEM, "store: out of memory");
			break;
		}
		step = fn(arg, &r);
		sync_row_clear(&r);
		if (step != 0)
			break;
	}
	if (rc == 0 && step != 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sql_err(c, e, "listing sync states");
	store_stmt_done(s);
	return rc;
}

int
store_sync_progress_in(struct store_conn *c, const char *name,
    const char *link, int64_t scan_rowid, int64_t items, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if ((s = store_stmt(c, STMT_SYNC_PROGRESS, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, link, -1, SQLITE_STATIC);
	if (scan_rowid >= 0)
		sqlite3_bind_int64(s, 3, scan_rowid);
	sqlite3_bind_int64(s, 4, items);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "saving a sync position");
	store_stmt_done(s);
	return rc;
}

int
store_sync_progress(struct store *st, const char *name, const char *link,
    int64_t scan_rowid, int64_t items, struct err *e)
{
	struct store_conn	*c = store_conn_get(st, e);

	if (c == NULL)
		return -1;
	return store_sync_progress_in(c, name, link, scan_rowid, items, e);
}

int
store_sync_result(struct store *st, const char *name, int64_t now,
    const char *error, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_SYNC_RESULT, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "recording a sync result");
	store_stmt_done(s);
	return rc;
}

/* One row's status and its audit row; why (may be NULL) joins the detail. */
static int
status_write(struct store_conn *c, const char *serial, enum cert_status from,
    int64_t from_revoked_at, enum cert_status to, int reason,
    const char *actor, int64_t now, const char *why, struct err *e)
{
	sqlite3_stmt	*s;
	char		 detail[192];

	if ((s = store_stmt(c, STMT_CERT_SET_STATUS, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cert_status_name(to), -1, SQLITE_STATIC);
	if (to == CERT_VALID) {
		sqlite3_bind_null(s, 3);
		sqlite3_bind_null(s, 4);
	} else {
		sqlite3_bind_int64(s, 3, from != CERT_VALID ? from_revoked_at :
		    now);
		sqlite3_bind_int(s, 4, reason);
	}
	sqlite3_bind_text(s, 5, actor, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_stmt_done(s);
		return store_sql_err(c, e, "changing a status");
	}
	store_stmt_done(s);
	snprintf(detail, sizeof(detail), "%s -> %s (%s%s%s)",
	    cert_status_name(from), cert_status_name(to),
	    to == CERT_VALID ? "released" : crl_reason_name(reason),
	    why != NULL ? "; " : "", why != NULL ? why : "");
	return store_audit_in(c, now, actor, "status", serial, detail, e);
}

/* A certificate renewed from a revoked one, read before it is changed. */
struct descendant {
	char			serial[SERIAL_HEX_MAX];
	enum cert_status	status;
	int64_t			revoked_at;
};

/* Reads the not yet revoked descendants of serial into *out (malloc'd). */
static int
descendants_read(struct store_conn *c, const char *serial,
    struct descendant **out, size_t *n, struct err *e)
{
	sqlite3_stmt		*s;
	struct descendant	*v = NULL, *grown;
	size_t			 cap = 0;
	int			 step;

	*n = 0;
	if ((s = store_stmt(c, STMT_CERT_DESCENDANTS, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			if ((grown = reallocarray(v, cap, sizeof(*v))) == NULL)
				break;
			v = grown;
		}
		store_col_copy(s, 0, v[*n].serial, sizeof(v[*n].serial));
		v[*n].status = cert_status_parse(
		    (const char *)sqlite3_column_text(s, 1));
		v[*n].revoked_at = sqlite3_column_int64(s, 2);
		(*n)++;
	}
	store_stmt_done(s);
	if (step != SQLITE_DONE) {
		free(v);
		return step == SQLITE_ROW ? err_set(e, ERR_NOMEM,
		    "store: out of memory") : store_sql_err(c, e,
		    "reading renewed certificates");
	}
	*out = v;
	return 0;
}

/*
 * A renewal keeps its parent's identity and key holder, so a revocation
 * reaches every certificate renewed from the revoked one, with the same
 * reason.  Only `superseded` does not: it says a successor exists.
 */
static int
descendants_revoke(struct store_conn *c, const char *serial, int reason,
    const char *actor, int64_t now, struct err *e)
{
	struct descendant	*v = NULL;
	char			 why[SERIAL_HEX_MAX + 32];
	size_t			 i, n;
	int			 rc = 0;

	if (reason == REASON_SUPERSEDED)
		return 0;
	if (descendants_read(c, serial, &v, &n, e) == -1)
		return -1;
	snprintf(why, sizeof(why), "renewed from %s", serial);
	for (i = 0; i < n && rc == 0; i++)
		rc = status_write(c, v[i].serial, v[i].status, v[i].revoked_at,
		    CERT_REVOKED, reason, actor, now, why, e);
	free(v);
	return rc;
}

int
store_status_set_in(struct store_conn *c, const char *serial,
    enum cert_status from, int64_t from_revoked_at, enum cert_status to,
    int reason, const char *actor, int64_t now, struct err *e)
{
	if (status_write(c, serial, from, from_revoked_at, to, reason, actor,
	    now, NULL, e) == -1)
		return -1;
	return to == CERT_REVOKED ?
	    descendants_revoke(c, serial, reason, actor, now, e) : 0;
}

int
store_cert_revoke_once(struct store *st, const char *serial, int reason,
    const char *actor, int *changed, struct err *e)
{
	struct store_conn	*c;
	struct cert_row		 cur = {0};
	int64_t			 now = store_now();
	int			 ok = 0;

	if (changed != NULL)
		*changed = 0;
	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	if (store_cert_get(st, serial, &cur, e) == -1)
		goto out;
	/* Never touch a revocation: its reason (keyCompromise...) stands. */
	if (cur.status != CERT_REVOKED) {
		if (store_status_set_in(c, cur.serial, cur.status,
		    cur.revoked_at, CERT_REVOKED, reason, actor, now,
		    e) == -1 || store_meta_bump_in(c, "revocation_generation",
		    NULL, e) == -1)
			goto out;
		if (changed != NULL)
			*changed = 1;
	}
	ok = 1;
out:
	cert_row_clear(&cur);
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}
