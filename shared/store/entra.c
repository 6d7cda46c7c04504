/*
 * entra.c - Entra devices and users in the store, and the status
 * changes they cause (sync.h).
 *
 * A batch works in two steps inside one transaction: first every fact is
 * recorded in entra_objects and the identities it touches are noted;
 * then each certificate those identities name is decided once more from
 * the worst state of all its identities, so that a certificate whose
 * user is enabled again stays on hold while its device is disabled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
#include "store/sync.h"

static const char *const kind_names[] = { "device", "user", "managed" };
static const char *const state_names[] = { "enabled", "disabled", "deleted" };

const char *
entra_kind_name(enum entra_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

const char *
entra_state_name(enum entra_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "unknown";
}

enum entra_action
entra_decide(enum entra_state worst, enum cert_status status,
    int held_by_sync, int policy)
{
	if (status == CERT_REVOKED)
		return ENTRA_KEEP;	/* final: nothing undoes it */
	if (worst == ENTRA_DELETED && (policy & ENTRA_ON_DELETED))
		return ENTRA_REVOKE;	/* a hold of anyone's becomes final */
	if (worst == ENTRA_DELETED)
		worst = ENTRA_DISABLED;
	if (worst == ENTRA_DISABLED)
		return status == CERT_VALID && (policy & ENTRA_ON_DISABLED) ?
		    ENTRA_HOLD : ENTRA_KEEP;
	/* Enabled (or unknown): only our own holds are lifted. */
	return status == CERT_HOLD && held_by_sync ? ENTRA_RELEASE : ENTRA_KEEP;
}

/* An identity a batch touched: certificates naming it are decided again. */
struct touched {
	int	 user;		/* 0: by device ids, 1: by UPN */
	char	*ext;
};

/* A certificate changed by the batch, reported after the commit. */
struct changed {
	char			 serial[SERIAL_HEX_MAX];
	enum entra_action	 action;
	int			 reason;
	enum entra_kind		 why_kind;
	char			 why_id[256];
	enum entra_state	 why_state;
};

/* What a batch keeps while it runs. */
struct batch_run {
	const struct entra_batch *b;
	struct store_conn	*c;
	struct touched		*touched;
	size_t			 ntouched, touched_cap;
	struct changed		*changed;
	size_t			 nchanged, changed_cap;
};

static int
touch(struct batch_run *r, int user, const char *ext, struct err *e)
{
	struct touched	*t;
	size_t		 cap;

	if (ext == NULL || *ext == '\0')
		return 0;
	if (r->ntouched == r->touched_cap) {
		cap = r->touched_cap ? r->touched_cap * 2 : 16;
		if ((t = reallocarray(r->touched, cap, sizeof(*t))) == NULL)
			return err_set(e, ERR_NOMEM, "store: out of memory");
		r->touched = t;
		r->touched_cap = cap;
	}
	if ((r->touched[r->ntouched].ext = strdup(ext)) == NULL)
		return err_set(e, ERR_NOMEM, "store: out of memory");
	r->touched[r->ntouched++].user = user;
	return 0;
}

/* Steps a statement that returns nothing. */
static int
step_done(struct store_conn *c, sqlite3_stmt *s, const char *what,
    struct err *e)
{
	int	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
		    store_sql_err(c, e, what);

	store_stmt_done(s);
	return rc;
}

/* Inserts or updates the row of a fact that has an ext_id. */
static int
fact_upsert(struct batch_run *r, const struct entra_fact *f, struct err *e)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(r->c, STMT_ENTRA_UPSERT, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, kind_names[f->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->ext_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->id, -1, SQLITE_STATIC);
	if (f->enabled >= 0)
		sqlite3_bind_int(s, 4, f->enabled != 0);
	sqlite3_bind_int(s, 5, f->deleted != 0);
	sqlite3_bind_int64(s, 6, r->b->now);
	return step_done(r->c, s, "recording an Entra object", e);
}

/* Applies a fact to every row of its object id; notes their ext_ids. */
static int
fact_by_id(struct batch_run *r, const struct entra_fact *f, struct err *e)
{
	sqlite3_stmt	*s;
	int		 step = SQLITE_DONE, rc = 0;

	if ((s = store_stmt(r->c, STMT_ENTRA_UPDATE_ID, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, kind_names[f->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->id, -1, SQLITE_STATIC);
	if (f->enabled >= 0)
		sqlite3_bind_int(s, 3, f->enabled != 0);
	sqlite3_bind_int(s, 4, f->deleted != 0);
	sqlite3_bind_int64(s, 5, r->b->now);
	if (step_done(r->c, s, "recording an Entra object", e) == -1 ||
	    (s = store_stmt(r->c, STMT_ENTRA_EXT_BY_ID, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, kind_names[f->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->id, -1, SQLITE_STATIC);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = touch(r, f->kind == ENTRA_USER,
		    (const char *)sqlite3_column_text(s, 0), e);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sql_err(r->c, e, "reading Entra objects");
	store_stmt_done(s);
	return rc;
}

/* An Intune id resolved to an Entra deviceId: the rows learn it. */
static int
fact_fill(struct batch_run *r, const struct entra_fact *f, struct err *e)
{
	sqlite3_stmt	*s;

	if (f->id == NULL || *f->id == '\0')
		return 0;
	if ((s = store_stmt(r->c, STMT_ENTRA_FILL, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, f->ext_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, f->id, -1, SQLITE_STATIC);
	return step_done(r->c, s, "recording an Entra deviceId", e);
}

/* Step one for one fact: record it, note what it touches. */
static int
fact_record(struct batch_run *r, const struct entra_fact *f, struct err *e)
{
	if (f->deleted < 0)	/* nothing new: decide its certificates */
		return touch(r, f->kind == ENTRA_USER, f->ext_id, e);
	if (f->ext_id != NULL && *f->ext_id != '\0' &&
	    (fact_upsert(r, f, e) == -1 ||
	    touch(r, f->kind == ENTRA_USER, f->ext_id, e) == -1))
		return -1;
	if (f->kind == ENTRA_MANAGED)
		return fact_fill(r, f, e) == -1 ||
		    touch(r, 0, f->id, e) == -1 ? -1 : 0;
	if (f->id != NULL && *f->id != '\0' && fact_by_id(r, f, e) == -1)
		return -1;
	return 0;
}

/* One certificate a touched identity names (owned strings). */
struct cand {
	char		 serial[SERIAL_HEX_MAX];
	enum cert_status status;
	int		 ours;		/* on a hold the sync made */
	int64_t		 revoked_at;
	char		*ids[3];	/* entra, intune, upn */
};

static void
cands_free(struct cand *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].ids[0]);
		free(v[i].ids[1]);
		free(v[i].ids[2]);
	}
	free(v);
}

static int
cand_read(sqlite3_stmt *s, struct cand *k)
{
	const unsigned char	*st = sqlite3_column_text(s, 1);
	const unsigned char	*src = sqlite3_column_text(s, 2);
	int			 i;

	memset(k, 0, sizeof(*k));
	store_col_copy(s, 0, k->serial, sizeof(k->serial));
	k->status = st != NULL && strcmp((const char *)st, "hold") == 0 ?
	    CERT_HOLD : CERT_VALID;
	k->ours = k->status == CERT_HOLD && src != NULL &&
	    strcmp((const char *)src, SYNC_ACTOR_ENTRA) == 0;
	k->revoked_at = sqlite3_column_int64(s, 3);
	for (i = 0; i < 3; i++)
		if (sqlite3_column_type(s, 4 + i) != SQLITE_NULL &&
		    (k->ids[i] = store_col_strdup(s, 4 + i)) == NULL)
			return -1;
	return 0;
}

/*
 * Reads every live certificate naming t (read first, changed after: the
 * statement is done before any row changes).  Returns the count, or -1.
 */
static int
cands_read(struct batch_run *r, const struct touched *t, struct cand **out,
    size_t *n, struct err *e)
{
	sqlite3_stmt	*s;
	struct cand	*v = NULL, *nv;
	size_t		 cap = 0;
	int		 step = SQLITE_DONE, rc = 0;

	*n = 0;
	if ((s = store_stmt(r->c, t->user ? STMT_ENTRA_CERTS_USER :
	    STMT_ENTRA_CERTS_DEVICE, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, t->ext, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->b->now);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = err_set(e, ERR_NOMEM, "store: out of"
				    " memory");
				break;
			}
			v = nv;
		}
		if (cand_read(s, &v[(*n)++]) == -1)
			rc = err_set(e, ERR_NOMEM, "store: out of memory");
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_sql_err(r->c, e, "finding certificates");
	store_stmt_done(s);
	*out = v;
	return rc;
}

/* The worst state among k's identities; which identity, into ch. */
static int
cand_worst(struct batch_run *r, const struct cand *k, struct changed *ch,
    struct err *e)
{
	sqlite3_stmt	*s;
	const char	*kind;
	int		 i, step, rc = 0;

	ch->why_state = ENTRA_ENABLED;
	ch->why_kind = ENTRA_DEVICE;
	ch->why_id[0] = '\0';
	if ((s = store_stmt(r->c, STMT_ENTRA_WORST, e)) == NULL)
		return -1;
	for (i = 0; i < 3; i++)
		sqlite3_bind_text(s, i + 1, k->ids[i], -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(s, 0);
		ch->why_kind = kind == NULL ? ENTRA_DEVICE :
		    strcmp(kind, "user") == 0 ? ENTRA_USER :
		    strcmp(kind, "managed") == 0 ? ENTRA_MANAGED : ENTRA_DEVICE;
		store_col_copy(s, 1, ch->why_id, sizeof(ch->why_id));
		ch->why_state = (enum entra_state)sqlite3_column_int(s, 2);
	} else if (step != SQLITE_DONE)
		rc = store_sql_err(r->c, e, "reading Entra states");
	store_stmt_done(s);
	return rc;
}

/* Keeps a record of a change for the report. */
static int
note_change(struct batch_run *r, const struct changed *ch, struct err *e)
{
	struct changed	*v;
	size_t		 cap;

	if (r->nchanged == r->changed_cap) {
		cap = r->changed_cap ? r->changed_cap * 2 : 8;
		if ((v = reallocarray(r->changed, cap, sizeof(*v))) == NULL)
			return err_set(e, ERR_NOMEM, "store: out of memory");
		r->changed = v;
		r->changed_cap = cap;
	}
	r->changed[r->nchanged++] = *ch;
	return 0;
}

/* Decides one certificate again and applies the change. */
static int
cand_apply(struct batch_run *r, const struct cand *k, struct err *e)
{
	static const enum cert_status to[] = { CERT_VALID, CERT_REVOKED,
	    CERT_HOLD, CERT_VALID };
	static const int reason[] = { -1, REASON_CESSATION_OF_OPERATION,
	    REASON_CERTIFICATE_HOLD, -1 };
	struct changed	ch;

	memset(&ch, 0, sizeof(ch));
	if (cand_worst(r, k, &ch, e) == -1)
		return -1;
	ch.action = entra_decide(ch.why_state, k->status, k->ours,
	    r->b->policy);
	if (ch.action == ENTRA_KEEP)
		return 0;
	memcpy(ch.serial, k->serial, sizeof(ch.serial));
	ch.reason = ch.action == ENTRA_RELEASE ? REASON_REMOVE_FROM_CRL :
	    reason[ch.action];
	if (store_status_set_in(r->c, k->serial, k->status, k->revoked_at,
	    to[ch.action], reason[ch.action], SYNC_ACTOR_ENTRA, r->b->now,
	    e) == -1)
		return -1;
	return note_change(r, &ch, e);
}

/* Step two for one touched identity. */
static int
touched_apply(struct batch_run *r, const struct touched *t, struct err *e)
{
	struct cand	*v = NULL;
	size_t		 n = 0, i;
	int		 rc;

	rc = cands_read(r, t, &v, &n, e);
	for (i = 0; rc == 0 && i < n; i++)
		rc = cand_apply(r, &v[i], e);
	cands_free(v, n);
	return rc;
}

/* Both steps and the sync position, inside the open transaction. */
static int
batch_in(struct batch_run *r, struct err *e)
{
	const struct entra_batch	*b = r->b;
	size_t				 i;

	for (i = 0; i < b->n; i++)
		if (fact_record(r, &b->facts[i], e) == -1)
			return -1;
	for (i = 0; i < r->ntouched; i++)
		if (touched_apply(r, &r->touched[i], e) == -1)
			return -1;
	/* Publishers (the CRL) poll this counter to see the change. */
	if (r->nchanged > 0 &&
	    store_meta_bump_in(r->c, "revocation_generation", NULL, e) == -1)
		return -1;
	if (b->sync_name != NULL && store_sync_progress_in(r->c, b->sync_name,
	    b->delta_link, b->scan_rowid, (int64_t)r->nchanged, e) == -1)
		return -1;
	return 0;
}

static void
batch_report(const struct batch_run *r)
{
	struct entra_change	c;
	size_t			i;

	for (i = 0; r->b->report != NULL && i < r->nchanged; i++) {
		c.serial = r->changed[i].serial;
		c.action = r->changed[i].action;
		c.reason = r->changed[i].reason;
		c.why_kind = r->changed[i].why_kind;
		c.why_id = r->changed[i].why_id;
		c.why_state = r->changed[i].why_state;
		r->b->report(r->b->arg, &c);
	}
}

int
store_entra_apply(struct store *st, const struct entra_batch *b, int *changed,
    struct err *e)
{
	struct batch_run	r;
	size_t			i;
	int			ok;

	memset(&r, 0, sizeof(r));
	r.b = b;
	if (changed != NULL)
		*changed = 0;
	if ((r.c = store_conn_get(st, e)) == NULL || store_begin(r.c, e) == -1)
		return -1;
	ok = batch_in(&r, e) == 0;
	if (store_end(r.c, ok, ok ? e : NULL) == -1)
		ok = 0;
	if (ok) {
		batch_report(&r);
		if (changed != NULL)
			*changed = (int)r.nchanged;
	}
	for (i = 0; i < r.ntouched; i++)
		free(r.touched[i].ext);
	free(r.touched);
	free(r.changed);
	return ok ? 0 : -1;
}

/* DELETE FROM entra_objects WHERE kind = ... inside a transaction. */
static int
forget_kind(struct store_conn *c, enum entra_kind kind, struct err *e)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(c, STMT_ENTRA_FORGET, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, kind_names[kind], -1, SQLITE_STATIC);
	return step_done(c, s, "forgetting Entra objects", e);
}

int
store_entra_restart(struct store *st, const char *name, enum entra_kind kind,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 ok = 0;

	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	if (forget_kind(c, kind, e) == -1 || (kind == ENTRA_DEVICE &&
	    forget_kind(c, ENTRA_MANAGED, e) == -1) ||
	    (s = store_stmt(c, STMT_SYNC_RESTART, e)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (step_done(c, s, "restarting a sync", e) == -1)
		goto out;
	ok = 1;
out:
	if (store_end(c, ok, ok ? e : NULL) == -1)
		return -1;
	return ok ? 0 : -1;
}

int
store_entra_known(struct store *st, enum entra_kind kind, const char *ext_id,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 step, rc;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_ENTRA_KNOWN, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ext_id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 :
	    store_sql_err(c, e, "looking up an Entra object");
	store_stmt_done(s);
	return rc;
}

void
entra_scan_row_clear(struct entra_scan_row *r)
{
	if (r == NULL)
		return;
	free(r->a);
	free(r->b);
	memset(r, 0, sizeof(*r));
}

int
store_entra_scan(struct store *st, enum entra_kind kind, int64_t after,
    int64_t now, struct entra_scan_row *rows, int max, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 n = 0, step = SQLITE_DONE, rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, kind == ENTRA_USER ? STMT_ENTRA_SCAN_USERS :
	    STMT_ENTRA_SCAN_DEVICES, e)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, max);
	while (rc == 0 && n < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&rows[n], 0, sizeof(rows[n]));
		rows[n].rowid = sqlite3_column_int64(s, 0);
		rows[n].a = store_col_strdup(s, 1);
		rows[n].b = store_col_strdup(s, 2);
		if ((sqlite3_column_type(s, 1) != SQLITE_NULL &&
		    rows[n].a == NULL) || (sqlite3_column_type(s, 2) !=
		    SQLITE_NULL && rows[n].b == NULL))
			rc = err_set(e, ERR_NOMEM, "store: out of memory");
		n++;
	}
	if (rc == 0 && n < max && step != SQLITE_DONE)
		rc = store_sql_err(c, e, "scanning certificates");
	store_stmt_done(s);
	if (rc == -1) {
		while (n > 0)
			entra_scan_row_clear(&rows[--n]);
		return -1;
	}
	return n;
}
