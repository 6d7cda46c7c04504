/*
 * outbox.c - the outbox: notifications queued durably in the store
 * (Intune success and failure notifications) and delivered, retried or
 * given up by a background sender.  The store keeps rows and their
 * schedule; what a payload means is the sender's business.
 */
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/store.h"

static const char *const outbox_state_names[] = { "pending", "sent",
    "abandoned" };

const char *
outbox_state_name(enum outbox_state s)
{
	return (unsigned)s < 3 ? outbox_state_names[s] : "unknown";
}

static enum outbox_state
outbox_state_parse(const char *s)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, outbox_state_names[i]) == 0)
			return (enum outbox_state)i;
	return OUTBOX_ABANDONED;	/* never resend what we cannot read */
}

void
outbox_row_clear(struct outbox_row *r)
{
	if (r == NULL)
		return;
	free(r->kind);
	free(r->ref);
	free(r->payload);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

/* Reads a row in OUTBOX_COLS order.  Returns 0, or -1 out of memory. */
static int
outbox_row_read(sqlite3_stmt *s, struct outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->kind = store_col_strdup(s, 1);
	r->ref = store_col_strdup(s, 2);
	r->payload = store_col_strdup(s, 3);
	r->state = outbox_state_parse((const char *)sqlite3_column_text(s, 4));
	r->created_at = sqlite3_column_int64(s, 5);
	r->attempts = sqlite3_column_int(s, 6);
	r->next_attempt_at = sqlite3_column_int64(s, 7);
	r->last_error = store_col_strdup(s, 8);
	r->done_at = sqlite3_column_int64(s, 9);
	if (r->kind == NULL || r->payload == NULL) {
		outbox_row_clear(r);
		return -1;
	}
	return 0;
}

int
store_outbox_insert(struct store_conn *c, const struct outbox_new *in,
    int64_t now, int64_t *id, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if (in->kind == NULL || in->payload == NULL)
		return err_set(e, ERR_USAGE, "store: an outbox entry needs a kind"
		    " and a payload");
	if ((s = store_stmt(c, STMT_OUTBOX_ADD, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, in->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, in->payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "queuing a notification");
	else if (id != NULL)
		*id = sqlite3_last_insert_rowid(c->db);
	store_stmt_done(s);
	return rc;
}

int
store_outbox_add(struct store *st, const struct outbox_new *in, int64_t now,
    int64_t *id, struct err *e)
{
	struct store_conn	*c;
	int			 ok;

	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	ok = store_outbox_insert(c, in, now, id, e) == 0;
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}

int
store_outbox_get(struct store *st, int64_t id, struct outbox_row *out,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_GET, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		if (outbox_row_read(s, out) == 0)
			rc = 0;
		else
			err_set(e, ERR_NOMEM, "store: out of memory");
	} else if (step == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "store: no outbox entry %lld",
		    (long long)id);
	else
		store_sql_err(c, e, "outbox lookup");
	store_stmt_done(s);
	return rc;
}

int
store_outbox_due(struct store *st, int64_t now, struct outbox_row *rows,
    int max, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 n = 0, step = SQLITE_DONE;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_DUE, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if (outbox_row_read(s, &rows[n]) == -1) {
			err_set(e, ERR_NOMEM, "store: out of memory");
			goto fail;
		}
		n++;
	}
	if (n < max && step != SQLITE_DONE) {
		store_sql_err(c, e, "listing due notifications");
		goto fail;
	}
	store_stmt_done(s);
	return n;
fail:
	while (n > 0)
		outbox_row_clear(&rows[--n]);
	store_stmt_done(s);
	return -1;
}

int
store_outbox_next(struct store *st, int64_t *at, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_NEXT, e)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW)
		rc = store_sql_err(c, e, "finding the next notification");
	else if (sqlite3_column_type(s, 0) == SQLITE_NULL)
		rc = 0;
	else {
		*at = sqlite3_column_int64(s, 0);
		rc = 1;
	}
	store_stmt_done(s);
	return rc;
}

/* Runs an UPDATE of one pending row; ERR_NOT_FOUND when none changed. */
static int
outbox_update(struct store_conn *c, sqlite3_stmt *s, int64_t id,
    struct err *e)
{
	int	rc = 0;

	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "updating a notification");
	else if (sqlite3_changes(c->db) != 1)
		rc = err_set(e, ERR_NOT_FOUND, "store: outbox entry %lld is not"
		    " pending", (long long)id);
	store_stmt_done(s);
	return rc;
}

int
store_outbox_retry(struct store *st, int64_t id, int64_t next_at,
    const char *error, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_RETRY, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, next_at);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	return outbox_update(c, s, id, e);
}

int
store_outbox_finish(struct store *st, int64_t id, enum outbox_state to,
    int64_t now, const char *error, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;

	if (to != OUTBOX_SENT && to != OUTBOX_ABANDONED)
		return err_set(e, ERR_USAGE, "store: an outbox entry finishes"
		    " sent or abandoned");
	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_FINISH, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, outbox_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_text(s, 4, error, -1, SQLITE_STATIC);
	return outbox_update(c, s, id, e);
}

int64_t
store_outbox_count(struct store *st, int state, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int64_t			 n = -1;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_OUTBOX_COUNT, e)) == NULL)
		return -1;
	if (state < 0)
		sqlite3_bind_null(s, 1);
	else
		sqlite3_bind_text(s, 1, outbox_state_name(state), -1,
		    SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		store_sql_err(c, e, "counting notifications");
	store_stmt_done(s);
	return n;
}
