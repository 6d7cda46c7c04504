/*
 * store.c - the SQLite certificate store: connections, migrations and the
 * certificate queries.  Transactions, challenges, audit and meta live in
 * store_txn.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "store_conn.h"
#include "store_sync_sql.h"

/*
 * A store hands each thread its own connection through a pthread key; the
 * list of connections (guarded by lock) lets store_close() close them all.
 */
struct store {
	char			*path;
	int			 flags;
	pthread_key_t		 key;
	pthread_mutex_t		 lock;	/* guards conns, idle, nidle */
	struct store_conn	*conns;	/* every open connection */
	struct store_conn	*idle;	/* left by threads that ended */
	int			 nidle;
	/*
	 * Held from BEGIN to COMMIT by this process's writers.  They queue
	 * here in microseconds instead of in SQLite's busy handler, which
	 * sleeps a millisecond or more per collision.  Other processes (the
	 * admin commands) still meet the busy timeout.
	 */
	pthread_mutex_t		 write_lock;
};

#define CERT_COLS \
	"serial, issuer, subject, san, entra_device_id, intune_device_id, upn," \
	" not_before, not_after, issued_at, status, revoked_at, reason," \
	" status_source, sha1, sha256, der, profile, transaction_id, key_hash," \
	" renewed_from"

#define OUTBOX_COLS \
	"id, kind, ref, payload, state, created_at, attempts, next_attempt_at," \
	" last_error, done_at"

/* Every statement the store runs, prepared once per connection. */
static const char *const statements[STMT__COUNT] = {
	[STMT_CERT_GET] = "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1",
	[STMT_CERT_LIST] =
	    "SELECT serial, issuer, subject, san, entra_device_id,"
	    " intune_device_id, upn, not_before, not_after, issued_at, status,"
	    " revoked_at, reason, status_source, sha1, sha256, NULL, profile,"
	    " transaction_id, key_hash, renewed_from FROM certificates"
	    " WHERE ?1 IS NULL OR status = ?1 ORDER BY issued_at, rowid",
	[STMT_CERT_COUNT] =
	    "SELECT count(*) FROM certificates WHERE ?1 IS NULL OR status = ?1",
	[STMT_CERT_INSERT] =
	    "INSERT INTO certificates (" CERT_COLS ") VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
	    " ?19, ?20, ?21)",
	[STMT_CERT_SET_STATUS] =
	    "UPDATE certificates SET status = ?2, revoked_at = ?3, reason = ?4,"
	    " status_source = ?5 WHERE serial = ?1",
	[STMT_TXN_GET] =
	    "SELECT id, profile, state, csr, key_hash, subject, serial,"
	    " created_at, updated_at, renewal_of, signer_hash"
	    " FROM transactions WHERE id = ?1",
	/*
	 * A transaction is answered once; a pending or approved one gets its
	 * certificate, and a renewal signed by the certificate a transaction
	 * produced may reuse its transactionID (clients that derive it from
	 * the key do).
	 */
	[STMT_TXN_UPSERT_ISSUED] =
	    "INSERT INTO transactions (id, profile, state, csr, key_hash,"
	    " subject, serial, renewal_of, signer_hash, created_at, updated_at)"
	    " VALUES (?1, ?2, 'issued', ?3, ?4, ?5, ?6, ?7, ?9, ?8, ?8)"
	    " ON CONFLICT(id) DO UPDATE SET state = 'issued', serial = ?6,"
	    " csr = ?3, key_hash = ?4, subject = ?5, renewal_of = ?7,"
	    " signer_hash = ?9, updated_at = ?8"
	    " WHERE transactions.state IN ('pending', 'approved')"
	    " OR (?7 IS NOT NULL AND transactions.serial = ?7)",
	[STMT_TXN_INSERT_PENDING] =
	    "INSERT INTO transactions (id, profile, state, csr, key_hash,"
	    " subject, renewal_of, signer_hash, created_at, updated_at)"
	    " VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?8, ?7, ?7)",
	[STMT_TXN_DECIDE] =
	    "UPDATE transactions SET state = ?2, updated_at = ?3"
	    " WHERE id = ?1 AND state = 'pending'",
	[STMT_CHALLENGE_ADD] =
	    "INSERT INTO challenges (hash, profile, created_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[STMT_CHALLENGE_USABLE] =
	    "SELECT 1 FROM challenges WHERE hash = ?1 AND used_at IS NULL"
	    " AND expires_at > ?2 AND (profile IS NULL OR profile = ?3)",
	[STMT_CHALLENGE_CONSUME] =
	    "UPDATE challenges SET used_at = ?2 WHERE hash = ?1"
	    " AND used_at IS NULL AND expires_at > ?2"
	    " AND (profile IS NULL OR profile = ?3)",
	[STMT_AUDIT] =
	    "INSERT INTO audit (at, actor, action, object, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[STMT_META_SET] =
	    "INSERT INTO meta (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[STMT_OUTBOX_ADD] =
	    "INSERT INTO outbox (kind, ref, payload, created_at,"
	    " next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?4)",
	[STMT_OUTBOX_GET] = "SELECT " OUTBOX_COLS " FROM outbox WHERE id = ?1",
	[STMT_OUTBOX_DUE] =
	    "SELECT " OUTBOX_COLS " FROM outbox WHERE state = 'pending'"
	    " AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
	[STMT_OUTBOX_NEXT] =
	    "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
	[STMT_OUTBOX_RETRY] =
	    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2,"
	    " last_error = ?3 WHERE id = ?1 AND state = 'pending'",
	[STMT_OUTBOX_FINISH] =
	    "UPDATE outbox SET attempts = attempts + 1, state = ?2,"
	    " done_at = ?3, last_error = coalesce(?4, last_error)"
	    " WHERE id = ?1 AND state = 'pending'",
	[STMT_OUTBOX_COUNT] =
	    "SELECT count(*) FROM outbox WHERE ?1 IS NULL OR state = ?1",
	[STMT_META_BUMP] =
	    "INSERT INTO meta (key, value) VALUES (?1, 1)"
	    " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
	    " RETURNING CAST(value AS INTEGER)",
	/* Served by the partial index certificates_not_valid. */
	[STMT_CRL_ENTRIES] =
	    "SELECT serial, status, revoked_at, reason FROM certificates"
	    " WHERE status <> 'valid' AND not_after >= ?1",
	[STMT_CERT_STATUS] =
	    "SELECT status, revoked_at, reason FROM certificates WHERE serial = ?1",
	STORE_SYNC_STATEMENTS		/* store_sync.c, store_entra.c */
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
};

static const char *const status_names[] = { "valid", "revoked", "hold" };

const char *
cert_status_name(enum cert_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

static int
cert_status_parse(const char *s)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, status_names[i]) == 0)
			return i;
	return -1;
}

int
store_sql_err(struct store_conn *c, struct err *e, const char *what)
{
	int	code = sqlite3_extended_errcode(c->db);

	if (code == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(e, ERR_EXISTS, "store: %s: %s (%s)", what,
		    STORE_DUPLICATE_KEY, sqlite3_errmsg(c->db));
	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return err_set(e, ERR_EXISTS, "store: %s: %s", what,
		    sqlite3_errmsg(c->db));
	return err_set(e, ERR_STORE, "store: %s: %s", what,
	    sqlite3_errmsg(c->db));
}

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}

static void
store_conn_free(struct store_conn *c)
{
	int	i;

	if (c == NULL)
		return;
	for (i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	free(c);
}

/* Connections kept for the next threads (a thread per HTTP connection). */
#define STORE_IDLE_MAX	32

/*
 * Thread exit: the thread's connection waits for the next thread (no
 * transaction is ever left open between calls), or is closed when enough
 * already wait.
 */
static void
store_conn_destroy(void *arg)
{
	struct store_conn	*c = arg, **pp;
	struct store		*st = c->store;

	pthread_mutex_lock(&st->lock);
	if (st->nidle < STORE_IDLE_MAX) {
		c->next_idle = st->idle;
		st->idle = c;
		st->nidle++;
		pthread_mutex_unlock(&st->lock);
		return;
	}
	for (pp = &st->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	store_conn_free(c);
}

static int
store_exec(struct store_conn *c, const char *sql, struct err *e)
{
	char	*msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, ERR_STORE, "store: %s", msg ? msg : "exec failed");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
store_user_version(struct store_conn *c, int *version, struct err *e)
{
	sqlite3_stmt	*s = NULL;
	int		 rc = -1;

	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		store_sql_err(c, e, "reading the schema version");
		goto out;
	}
	*version = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Brings the schema up to date, each step in its own transaction. */
static int
store_migrate(struct store_conn *c, struct err *e)
{
	char	 sql[64];
	int	 version, latest = store_schema_latest();

	if (store_user_version(c, &version, e) == -1)
		return -1;
	if (version > latest)
		return err_set(e, ERR_STORE, "store: schema version %d is newer"
		    " than this program knows (%d)", version, latest);
	while (version < latest) {
		if (store_exec(c, "BEGIN IMMEDIATE", e) == -1)
			return -1;
		/* Another process may have migrated meanwhile. */
		if (store_user_version(c, &version, e) == -1 ||
		    (version < latest &&
		    (store_exec(c, store_migration(version + 1), e) == -1 ||
		    (snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    version + 1), store_exec(c, sql, e)) == -1))) {
			store_exec(c, "ROLLBACK", NULL);
			return -1;
		}
		if (store_exec(c, "COMMIT", e) == -1)
			return -1;
		if (version < latest)
			log_debug("store", "migrated %s to schema %d",
			    c->store->path, ++version);
	}
	return 0;
}

static struct store_conn *
store_conn_open(struct store *st, struct err *e)
{
	struct store_conn	*c;
	int			 oflags, i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_set(e, ERR_NOMEM, "store: out of memory");
		return NULL;
	}
	c->store = st;
	/* One connection per thread: SQLite's own mutexes are not needed. */
	oflags = SQLITE_OPEN_NOMUTEX | ((st->flags & STORE_RDONLY) ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	    ((st->flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(st->path, &c->db, oflags, NULL) != SQLITE_OK) {
		err_set(e, ERR_STORE, "store: cannot open %s: %s", st->path,
		    c->db ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(c->db, 10000);
	sqlite3_extended_result_codes(c->db, 1);
	/*
	 * WAL lets the RADIUS module read while scep-ca writes.  FULL syncs
	 * every commit before it returns; NORMAL leaves that to store_flush()
	 * (see STORE_SYNC_FULL in store.h).
	 */
	if (!(st->flags & STORE_RDONLY) &&
	    store_exec(c, (st->flags & STORE_SYNC_FULL) ?
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;" :
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", e) == -1)
		goto fail;
	/*
	 * Reads through a shared mapping: no read() per page, and the page
	 * cache is the OS's, shared by every connection and process.
	 */
	if (store_exec(c, "PRAGMA foreign_keys = ON; PRAGMA mmap_size = 268435456;",
	    e) == -1)
		goto fail;
	for (i = 0; i < STMT__COUNT; i++)
		c->stmt[i] = NULL;	/* prepared lazily by store_stmt() */
	return c;
fail:
	store_conn_free(c);
	return NULL;
}

struct store_conn *
store_conn_get(struct store *st, struct err *e)
{
	struct store_conn	*c;

	if ((c = pthread_getspecific(st->key)) != NULL)
		return c;
	/* A connection another thread left: statements and cache are warm. */
	pthread_mutex_lock(&st->lock);
	if ((c = st->idle) != NULL) {
		st->idle = c->next_idle;
		st->nidle--;
	}
	pthread_mutex_unlock(&st->lock);
	if (c != NULL) {
		pthread_setspecific(st->key, c);
		return c;
	}
	if ((c = store_conn_open(st, e)) == NULL)
		return NULL;
	pthread_mutex_lock(&st->lock);
	c->next = st->conns;
	st->conns = c;
	pthread_mutex_unlock(&st->lock);
	pthread_setspecific(st->key, c);
	return c;
}

sqlite3_stmt *
store_stmt(struct store_conn *c, enum store_stmt_id id, struct err *e)
{
	if (c->stmt[id] == NULL &&
	    sqlite3_prepare_v3(c->db, statements[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL) != SQLITE_OK) {
		store_sql_err(c, e, "preparing a statement");
		return NULL;
	}
	return c->stmt[id];
}

void
store_stmt_done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

int
store_begin(struct store_conn *c, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc;

	pthread_mutex_lock(&c->store->write_lock);
	if ((s = store_stmt(c, STMT_BEGIN, e)) == NULL) {
		pthread_mutex_unlock(&c->store->write_lock);
		return -1;
	}
	rc = sqlite3_step(s);
	store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		pthread_mutex_unlock(&c->store->write_lock);
		return store_sql_err(c, e, "begin");
	}
	return 0;
}

int
store_end(struct store_conn *c, int commit, struct err *e)
{
	sqlite3_stmt	*s = store_stmt(c, commit ? STMT_COMMIT : STMT_ROLLBACK, e);
	int		 rc = s != NULL ? sqlite3_step(s) : SQLITE_ERROR;

	store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		store_sql_err(c, e, commit ? "commit" : "rollback");
		/* Leave no half-open transaction behind. */
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&c->store->write_lock);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct store *
store_open(const char *path, int flags, struct err *e)
{
	struct store		*st;
	struct store_conn	*c;
	int			 version;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		free(st);
		err_set(e, ERR_NOMEM, "store: out of memory");
		return NULL;
	}
	st->flags = flags;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->write_lock, NULL);
	if (pthread_key_create(&st->key, store_conn_destroy) != 0) {
		pthread_mutex_destroy(&st->lock);
		pthread_mutex_destroy(&st->write_lock);
		free(st->path);
		free(st);
		err_set(e, ERR_NOMEM, "store: no thread key");
		return NULL;
	}
	if ((c = store_conn_get(st, e)) == NULL)
		goto fail;
	if (flags & STORE_RDONLY) {
		if (store_user_version(c, &version, e) == -1)
			goto fail;
		if (version < 1) {
			err_set(e, ERR_STORE, "store: %s is not a scep-ca store",
			    path);
			goto fail;
		}
	} else if (store_migrate(c, e) == -1)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	struct store_conn	*c, *next;

	if (st == NULL)
		return;
	pthread_key_delete(st->key);
	for (c = st->conns; c != NULL; c = next) {
		next = c->next;
		store_conn_free(c);
	}
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->write_lock);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

int
store_schema_version(struct store *st, struct err *e)
{
	struct store_conn	*c = store_conn_get(st, e);
	int			 v;

	if (c == NULL || store_user_version(c, &v, e) == -1)
		return -1;
	return v;
}

int
store_ping(struct store *st, struct err *e)
{
	return store_schema_version(st, e) < 1 ? -1 : 0;
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

char *
store_col_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char	*t = sqlite3_column_text(s, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}

void
store_col_copy(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char	*t = sqlite3_column_text(s, col);

	snprintf(out, size, "%s", t != NULL ? (const char *)t : "");
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

int
store_cert_insert(struct store_conn *c, const struct cert_row *r, struct err *e)
{
	sqlite3_stmt	*s;
	int		 rc = 0;

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
	sqlite3_stmt		*s = NULL;
	char			 detail[128];
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
	if (!same) {
		if ((s = store_stmt(c, STMT_CERT_SET_STATUS, e)) == NULL)
			goto out;
		sqlite3_bind_text(s, 1, cur.serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, cert_status_name(to), -1, SQLITE_STATIC);
		if (to == CERT_VALID) {
			sqlite3_bind_null(s, 3);
			sqlite3_bind_null(s, 4);
		} else {
			/* A hold turned into revocation keeps its first date. */
			sqlite3_bind_int64(s, 3, cur.status != CERT_VALID ?
			    cur.revoked_at : now);
			sqlite3_bind_int(s, 4, reason);
		}
		sqlite3_bind_text(s, 5, actor, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_sql_err(c, e, "changing a status");
			goto out;
		}
		snprintf(detail, sizeof(detail), "%s -> %s (%s)",
		    cert_status_name(cur.status), cert_status_name(to),
		    to == CERT_VALID ? "released" : crl_reason_name(reason));
		if (store_audit_in(c, now, actor, "status", cur.serial, detail,
		    e) == -1)
			goto out;
		/* Publishers (CRL) poll this counter to see the change. */
		if (store_meta_bump_in(c, "revocation_generation", NULL, e) == -1)
			goto out;
	}
	rc = 0;
	if (changed != NULL)
		*changed = !same;
out:
	store_stmt_done(s);
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
