/*
 * store.c - the SQLite store's machinery: per-thread connections, the
 * prepared statements, migrations, transactions.  The tables' own code
 * is in cert.c (certificates), txn.c (SCEP transactions, challenges,
 * audit, meta), outbox.c, crl.c, sync.c and entra.c; the change signal
 * in watch.c.
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

#include "base/log.h"
#include "store/internal.h"
#include "store/store.h"

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
	struct store_watch	*watch;	/* store_watch_token(), watch.c */
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
	[STMT_CERT_CHILD] =
	    "SELECT serial FROM certificates WHERE renewed_from = ?1 LIMIT 1",
	/*
	 * Every certificate renewed, directly or not, from ?1 and not yet
	 * revoked.  UNION drops repeats, the depth bound ends any cycle a
	 * hand-edited store could hold.
	 */
	[STMT_CERT_DESCENDANTS] =
	    "WITH RECURSIVE d(serial, depth) AS ("
	    " SELECT serial, 1 FROM certificates WHERE renewed_from = ?1"
	    " UNION SELECT c.serial, d.depth + 1 FROM certificates c, d"
	    " WHERE c.renewed_from = d.serial AND d.depth < 64)"
	    " SELECT c.serial, c.status, c.revoked_at FROM d"
	    " JOIN certificates c ON c.serial = d.serial"
	    " WHERE c.status <> 'revoked'",
	[STMT_TXN_GET] =
	    "SELECT id, profile, state, csr, key_hash, subject, serial,"
	    " created_at, updated_at, renewal_of, signer_hash, expires_at"
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
	    " subject, renewal_of, signer_hash, created_at, updated_at,"
	    " expires_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?8, ?7, ?7,"
	    " ?9)",
	/* A request whose time is up can no longer be decided. */
	[STMT_TXN_DECIDE] =
	    "UPDATE transactions SET state = ?2, updated_at = ?3"
	    " WHERE id = ?1 AND state = 'pending'"
	    " AND (expires_at IS NULL OR expires_at > ?3)",
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
	/* By the primary key, a page at a time (store_status_page). */
	[STMT_STATUS_PAGE] =
	    "SELECT serial, status, revoked_at, reason FROM certificates"
	    " WHERE serial > ?1 AND not_after >= ?2 ORDER BY serial LIMIT ?3",
	/*
	 * Pending requests (store_txn_add_pending).  The literal
	 * state = 'pending' lets SQLite use the partial indexes of schema 5;
	 * the count per profile stops at the bound (?3), so that it costs no
	 * more than the bound allows.
	 */
	[STMT_TXN_EXPIRE_AUDIT] =
	    "INSERT INTO audit (at, actor, action, object, detail)"
	    " SELECT ?1, 'scep', 'expired', id, subject FROM transactions"
	    " WHERE state = 'pending' AND expires_at <= ?1",
	[STMT_TXN_EXPIRE] =
	    "DELETE FROM transactions WHERE state = 'pending'"
	    " AND expires_at <= ?1",
	[STMT_TXN_PENDING_COUNT] =
	    "SELECT (SELECT count(*) FROM (SELECT 1 FROM transactions"
	    " WHERE state = 'pending' AND profile = ?1 LIMIT ?3)),"
	    " (SELECT count(*) FROM transactions WHERE state = 'pending'"
	    " AND profile = ?1 AND key_hash = ?2)",
	STORE_SYNC_STATEMENTS		/* sync.c, entra.c */
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
};

int
store_sql_err(struct store_conn *c, struct err *e, const char *what)
{
	int	code = sqlite3_extended_errcode(c->db);

	if (code == SQLITE_CONSTRAINT_PRIMARYKEY) {
		err_set(e, ERR_EXISTS, "store: %s: %s (%s)", what,
		    STORE_DUPLICATE_KEY, sqlite3_errmsg(c->db));
		if (e != NULL)
			e->kind = ERR_KIND_PRIMARY_KEY;
		return -1;
	}
	if ((code & 0xff) == SQLITE_CONSTRAINT) {
		err_set(e, ERR_EXISTS, "store: %s: %s", what,
		    sqlite3_errmsg(c->db));
		if (e != NULL)
			e->kind = ERR_KIND_UNIQUE;
		return -1;
	}
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

/*
 * SQLite's memory statistics take a process-wide mutex around every
 * malloc and free, which the OCSP responder's threads were seen to
 * contend on; nothing here reads them.  sqlite3_config() only works
 * before SQLite initialises: inside a host that already uses SQLite
 * (FreeRADIUS with rlm_sql) it fails with SQLITE_MISUSE and the
 * statistics simply stay on.
 */
static void
store_sqlite_config(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *path, int flags, struct err *e)
{
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;
	struct store		*st;
	struct store_conn	*c;
	int			 version;

	pthread_once(&once, store_sqlite_config);
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL ||
	    (st->watch = store_watch_new()) == NULL) {
		if (st != NULL)
			free(st->path);
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
		store_watch_free(st->watch);
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
	/*
	 * The watch's read-only connection first: the last connection to
	 * close checkpoints and removes the WAL, which only a writer can do.
	 */
	store_watch_free(st->watch);
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

struct store_watch *
store_watch_of(struct store *st)
{
	return st->watch;
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

