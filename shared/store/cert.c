/*
 * cert.c - the certificates table: rows, lookups, listing, status
 * changes (revocation, hold, release), CRL reason names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "store/internal.h"
#include "store/store.h"

static const char *const status_names[] = { "valid", "revoked", "hold" };

const char *
cert_status_name(enum cert_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

int
cert_status_parse(const char *s)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

/* ---- certificates ---------------------------------------------------- */

void
cert_row_clear(struct cert_row *r)
{
	if (r == NULL)
		return;
	free(r->issuer);
	free(r->subject);
	free(r->san);
	free(r->entra_device_id);
	free(r->intune_device_id);
	free(r->upn);
	free(r->status_source);
	free(r->profile);
	free(r->transaction_id);
	free(r->key_hash);
	free(r->renewed_from);
	buf_free(&r->der);
	memset(r, 0, sizeof(*r));
}

static int
cert_row_read(sqlite3_stmt *s, struct cert_row *r)
{
	int	st;

	memset(r, 0, sizeof(*r));
	store_col_copy(s, 0, r->serial, sizeof(r->serial));
	r->issuer = store_col_strdup(s, 1);
	r->subject = store_col_strdup(s, 2);
	r->san = store_col_strdup(s, 3);
	r->entra_device_id = store_col_strdup(s, 4);
	r->intune_device_id = store_col_strdup(s, 5);
	r->upn = store_col_strdup(s, 6);
	r->not_before = sqlite3_column_int64(s, 7);
	r->not_after = sqlite3_column_int64(s, 8);
	r->issued_at = sqlite3_column_int64(s, 9);
	st = cert_status_parse((const char *)sqlite3_column_text(s, 10));
	r->status = st < 0 ? CERT_REVOKED : (enum cert_status)st;
	r->revoked_at = sqlite3_column_int64(s, 11);
	r->reason = sqlite3_column_type(s, 12) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, 12);
	r->status_source = store_col_strdup(s, 13);
	store_col_copy(s, 14, r->sha1, sizeof(r->sha1));
	store_col_copy(s, 15, r->sha256, sizeof(r->sha256));
	if (sqlite3_column_type(s, 16) == SQLITE_BLOB &&
	    buf_set(&r->der, sqlite3_column_blob(s, 16),
	    (size_t)sqlite3_column_bytes(s, 16)) == -1)
		return -1;
	r->profile = store_col_strdup(s, 17);
	r->transaction_id = store_col_strdup(s, 18);
	r->key_hash = store_col_strdup(s, 19);
	r->renewed_from = store_col_strdup(s, 20);
	if (r->issuer == NULL || r->subject == NULL || r->profile == NULL)
		return -1;
	return 0;
}

static int
store_cert_get_by(struct store *st, enum store_stmt_id id, const char *key,
    struct cert_row *out, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int			 rc = -1, step;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, id, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		if (cert_row_read(s, out) == -1) {
			cert_row_clear(out);
			err_set(e, ERR_NOMEM, "store: out of memory");
		} else
			rc = 0;
	} else if (step == SQLITE_DONE)
		err_set(e, ERR_NOT_FOUND, "store: no certificate %s", key);
	else
		store_sql_err(c, e, "certificate lookup");
	store_stmt_done(s);
	return rc;
}

int
store_cert_get(struct store *st, const char *serial, struct cert_row *out,
    struct err *e)
{
	char	norm[SERIAL_HEX_MAX];

	if (serial_normalize(serial, norm) == -1)
		return err_set(e, ERR_USAGE, "store: '%s' is not a hex serial",
		    serial);
	return store_cert_get_by(st, STMT_CERT_GET, norm, out, e);
}

static void
bind_status(sqlite3_stmt *s, int col, int status)
{
	if (status < 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_text(s, col, cert_status_name(status), -1,
		    SQLITE_STATIC);
}

int
store_cert_list(struct store *st, int status, store_cert_fn fn, void *arg,
    struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	struct cert_row		 row;
	int			 step, rc = 0;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CERT_LIST, e)) == NULL)
		return -1;
	bind_status(s, 1, status);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (cert_row_read(s, &row) == -1) {
			cert_row_clear(&row);
			rc = err_set(e, ERR_NOMEM, "store: out of memory");
			break;
		}
		step = fn(arg, &row);
		cert_row_clear(&row);
		if (step != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE &&
	    step != 0 && step != 1)
		rc = store_sql_err(c, e, "listing certificates");
	store_stmt_done(s);
	return rc;
}

int64_t
store_cert_count(struct store *st, int status, struct err *e)
{
	struct store_conn	*c;
	sqlite3_stmt		*s;
	int64_t			 n = -1;

	if ((c = store_conn_get(st, e)) == NULL ||
	    (s = store_stmt(c, STMT_CERT_COUNT, e)) == NULL)
		return -1;
	bind_status(s, 1, status);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		store_sql_err(c, e, "counting certificates");
	store_stmt_done(s);
	return n;
}

/* Binds the certificate columns in CERT_COLS order. */
static void
bind_cert(sqlite3_stmt *s, const struct cert_row *r)
{
	sqlite3_bind_text(s, 1, r->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->san ? r->san : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->entra_device_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->intune_device_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->upn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, r->not_before);
	sqlite3_bind_int64(s, 9, r->not_after);
	sqlite3_bind_int64(s, 10, r->issued_at);
	sqlite3_bind_text(s, 11, cert_status_name(r->status), -1, SQLITE_STATIC);
	if (r->status == CERT_VALID) {
		sqlite3_bind_null(s, 12);
		sqlite3_bind_null(s, 13);
	} else {
		sqlite3_bind_int64(s, 12, r->revoked_at);
		sqlite3_bind_int(s, 13, r->reason);
	}
	sqlite3_bind_text(s, 14, r->status_source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 15, r->sha1, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 16, r->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 17, r->der.data, (int)r->der.len, SQLITE_STATIC);
	sqlite3_bind_text(s, 18, r->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 19, r->transaction_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 20, r->key_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 21, r->renewed_from, -1, SQLITE_STATIC);
}

/*
 * A renewal's parent, checked inside the transaction that records the
 * child, so that two renewals racing on two threads or nodes cannot both
 * pass: the parent must still be valid and must not have a child yet.
 */
static int
renewal_parent_ok(struct store_conn *c, const char *parent, struct err *e)
{
	sqlite3_stmt	*s;
	char		 child[SERIAL_HEX_MAX] = "";
	const char	*status = NULL;
	int		 step, rc = -1;

	if ((s = store_stmt(c, STMT_CERT_STATUS, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, parent, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) == SQLITE_ROW)
		status = (const char *)sqlite3_column_text(s, 0);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sql_err(c, e, "reading a renewed certificate");
	else if (status == NULL || strcmp(status, "valid") != 0)
		rc = err_set(e, ERR_BAD_REQUEST, "store: renewed certificate %s"
		    " is %s", parent, status != NULL ? status : "unknown");
	else
		rc = 0;
	store_stmt_done(s);
	if (rc == -1 || (s = store_stmt(c, STMT_CERT_CHILD, e)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, parent, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) == SQLITE_ROW)
		store_col_copy(s, 0, child, sizeof(child));
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_sql_err(c, e, "reading renewals");
	else if (child[0] != '\0')
		rc = err_set(e, ERR_BAD_REQUEST, "store: certificate %s was"
		    " renewed already (as %s)", parent, child);
	store_stmt_done(s);
	return rc;
}

int
store_cert_insert(struct store_conn *c, const struct cert_row *r, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

	if (r->renewed_from != NULL &&
	    renewal_parent_ok(c, r->renewed_from, e) == -1)
		return -1;
	if ((s = store_stmt(c, STMT_CERT_INSERT, e)) == NULL)
		return -1;
	bind_cert(s, r);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_sql_err(c, e, "inserting a certificate");
	store_stmt_done(s);
	return rc;
}

/* Decides the new status fields; -1 when the change is not allowed. */
static int
status_change_allowed(const struct cert_row *cur, enum cert_status to,
    int force, struct err *e)
{
	if (to == CERT_VALID && cur->status == CERT_REVOKED && !force)
		return err_set(e, ERR_BAD_REQUEST, "store: %s is revoked (%s),"
		    " not on hold; only a hold can be released", cur->serial,
		    crl_reason_name(cur->reason));
	if (to == CERT_HOLD && cur->status == CERT_REVOKED && !force)
		return err_set(e, ERR_BAD_REQUEST, "store: %s is already"
		    " revoked", cur->serial);
	return 0;
}

int
store_cert_set_status(struct store *st, const char *serial,
    enum cert_status to, int reason, const char *actor, int force,
    int *changed, struct err *e)
{
	struct store_conn	*c;
	struct cert_row		 cur = {0};
	int			 rc = -1, same;
	int64_t			 now = store_now();

	if (changed != NULL)
		*changed = 0;
	if (to == CERT_HOLD)
		reason = REASON_CERTIFICATE_HOLD;
	if ((c = store_conn_get(st, e)) == NULL || store_begin(c, e) == -1)
		return -1;
	if (store_cert_get(st, serial, &cur, e) == -1 ||
	    status_change_allowed(&cur, to, force, e) == -1)
		goto out;
	same = cur.status == to && (to == CERT_VALID || cur.reason == reason);
	/* Publishers (CRL) poll the generation to see the change. */
	if (!same && (store_status_set_in(c, cur.serial, cur.status,
	    cur.revoked_at, to, reason, actor, now, e) == -1 ||
	    store_meta_bump_in(c, "revocation_generation", NULL, e) == -1))
		goto out;
	rc = 0;
	if (changed != NULL)
		*changed = !same;
out:
	if (store_end(c, rc == 0, rc == 0 ? e : NULL) == -1)
		rc = -1;
	cert_row_clear(&cur);
	return rc;
}

static const char *const reason_names[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

int
crl_reason_parse(const char *s)
{
	char	*end;
	long	 n;
	size_t	 i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (reason_names[i] != NULL && strcasecmp(s, reason_names[i]) == 0)
			return (int)i;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < 0 || n > 10 || n == 7)
		return -1;
	return (int)n;
}

const char *
crl_reason_name(int reason)
{
	if (reason < 0 || (size_t)reason >= sizeof(reason_names) /
	    sizeof(reason_names[0]) || reason_names[reason] == NULL)
		return "none";
	return reason_names[reason];
}
