/*
 * internal.h - the store's one internal header, shared by its source
 * files and by nothing outside this folder (the interface is store.h and
 * sync.h): per-thread SQLite connections and their prepared statements,
 * the sync jobs' SQL, the schema's migrations.  A second backend
 * (PostgreSQL) keeps store.h and sync.h and brings an internal header of
 * its own.
 */
#ifndef BUNDLE_STORE_INTERNAL_H
#define BUNDLE_STORE_INTERNAL_H
#include <stdint.h>

#include <sqlite3.h>

#include "base/err.h"
#include "store/store.h"

enum store_stmt_id {
	STMT_CERT_GET,
	STMT_CERT_LIST,
	STMT_CERT_COUNT,
	STMT_CERT_INSERT,
	STMT_CERT_SET_STATUS,
	STMT_CERT_CHILD,
	STMT_CERT_DESCENDANTS,
	STMT_TXN_GET,
	STMT_TXN_UPSERT_ISSUED,
	STMT_TXN_INSERT_PENDING,
	STMT_TXN_DECIDE,
	STMT_CHALLENGE_ADD,
	STMT_CHALLENGE_USABLE,
	STMT_CHALLENGE_CONSUME,
	STMT_AUDIT,
	STMT_META_GET,
	STMT_META_SET,
	STMT_OUTBOX_ADD,
	STMT_OUTBOX_GET,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_NEXT,
	STMT_OUTBOX_RETRY,
	STMT_OUTBOX_FINISH,
	STMT_OUTBOX_COUNT,
	STMT_META_BUMP,		/* crl.c */
	STMT_CRL_ENTRIES,
	STMT_CERT_STATUS,
	STMT_STATUS_PAGE,
	STMT_SYNC_GET,		/* sync.c, entra.c */
	STMT_SYNC_LIST,
	STMT_SYNC_PROGRESS,
	STMT_SYNC_RESULT,
	STMT_SYNC_RESTART,
	STMT_ENTRA_FORGET,
	STMT_ENTRA_UPSERT,
	STMT_ENTRA_UPDATE_ID,
	STMT_ENTRA_EXT_BY_ID,
	STMT_ENTRA_KNOWN,
	STMT_ENTRA_WORST,
	STMT_ENTRA_CERTS_DEVICE,
	STMT_ENTRA_CERTS_USER,
	STMT_ENTRA_FILL,
	STMT_ENTRA_SCAN_DEVICES,
	STMT_ENTRA_SCAN_USERS,
	STMT_TXN_EXPIRE_AUDIT,	/* txn.c: pending bounds */
	STMT_TXN_EXPIRE,
	STMT_TXN_PENDING_COUNT,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT__COUNT
};

/* One thread's connection; owned by the store's list. */
struct store_conn {
	struct store		*store;
	sqlite3			*db;
	sqlite3_stmt		*stmt[STMT__COUNT];	/* lazily prepared */
	struct store_conn	*next;		/* in the store's conns */
	struct store_conn	*next_idle;	/* in the store's idle list */
};

/* The calling thread's connection (opened on first use), or NULL. */
struct store_conn	*store_conn_get(struct store *st, struct err *e);

/* The prepared statement id on c (prepared on first use), or NULL. */
sqlite3_stmt		*store_stmt(struct store_conn *c, enum store_stmt_id id,
			    struct err *e);

/* Resets a statement and its bindings for the next use.  Accepts NULL. */
void			 store_stmt_done(sqlite3_stmt *s);

/* BEGIN IMMEDIATE; and COMMIT (commit != 0) or ROLLBACK. */
int			 store_begin(struct store_conn *c, struct err *e);
int			 store_end(struct store_conn *c, int commit, struct err *e);

/*
 * The store's change signal state (watch.c): made by store_open(), freed
 * (NULL accepted) by store_close() before the connections, so that the
 * last of those still removes the WAL.  store_watch_new() returns NULL
 * when out of memory; store_watch_of() the store's (store.c).
 */
struct store_watch;
struct store_watch	*store_watch_new(void);
void			 store_watch_free(struct store_watch *w);
struct store_watch	*store_watch_of(struct store *st);

/* Fills e from the connection's last error; ERR_EXISTS for constraints. */
int			 store_sql_err(struct store_conn *c, struct err *e,
			    const char *what);

int64_t			 store_now(void);
char			*store_col_strdup(sqlite3_stmt *s, int col);
void			 store_col_copy(sqlite3_stmt *s, int col, char *out,
			    size_t size);

/* Inserts a certificate row inside the caller's transaction. */
int			 store_cert_insert(struct store_conn *c,
			    const struct cert_row *r, struct err *e);

/* Queues an outbox entry inside the caller's transaction (outbox.c). */
int			 store_outbox_insert(struct store_conn *c,
			    const struct outbox_new *in, int64_t now, int64_t *id,
			    struct err *e);

/*
 * Increments the integer meta value key (1 when absent) inside the
 * caller's transaction, or as its own statement; *out (may be NULL)
 * receives the new value (crl.c).
 */
int			 store_meta_bump_in(struct store_conn *c,
			    const char *key, int64_t *out, struct err *e);

/* "valid", "revoked", "hold" → enum cert_status; -1 for anything else. */
int			 cert_status_parse(const char *s);

/*
 * Sets a certificate's status fields and writes the audit row, inside
 * the caller's transaction (which then bumps the revocation generation
 * once).  from and from_revoked_at are the row's current status and
 * date: a hold turned into a revocation keeps its first date.  A
 * revocation (but for `superseded`) also revokes, with the same reason,
 * every certificate renewed from this one, directly or not (sync.c).
 */
int			 store_status_set_in(struct store_conn *c,
			    const char *serial, enum cert_status from,
			    int64_t from_revoked_at, enum cert_status to,
			    int reason, const char *actor, int64_t now,
			    struct err *e);

/* store_sync_progress() inside the caller's transaction (sync.c). */
int			 store_sync_progress_in(struct store_conn *c,
			    const char *name, const char *delta_link,
			    int64_t scan_rowid, int64_t items, struct err *e);

/* Appends an audit row inside the caller's transaction. */
int			 store_audit_in(struct store_conn *c, int64_t at,
			    const char *actor, const char *action,
			    const char *object, const char *detail, struct err *e);

/* ---- schema (schema.c) ---------------------------------------------- */

/* SQL of the migration to `version` (1-based), or NULL past the last. */
const char	*store_migration(int version);

/* The newest schema version this build knows. */
int		 store_schema_latest(void);

/*
 * ---- the statements of the sync jobs' store functions (sync.c,
 * entra.c), as designated initializers that store.c's statement table
 * takes in whole --------------------------------------------------------
 */
#define SYNC_COLS \
	"name, delta_link, scan_rowid, last_success, last_attempt," \
	" last_error, last_error_at, items_applied, failures"

/* Certificates a device or user event may change: valid in time. */
#define ENTRA_CERT_COLS \
	"serial, status, status_source, revoked_at, entra_device_id," \
	" intune_device_id, upn"
#define ENTRA_CERT_LIVE \
	" AND status IN ('valid', 'hold') AND not_after > ?2"

#define STORE_SYNC_STATEMENTS \
	[STMT_SYNC_GET] = \
	    "SELECT " SYNC_COLS " FROM sync_state WHERE name = ?1", \
	[STMT_SYNC_LIST] = \
	    "SELECT " SYNC_COLS " FROM sync_state ORDER BY name", \
	/* Position and count; NULL arguments keep what is there. */ \
	[STMT_SYNC_PROGRESS] = \
	    "INSERT INTO sync_state (name, delta_link, scan_rowid," \
	    " items_applied) VALUES (?1, ?2, coalesce(?3, 0), ?4)" \
	    " ON CONFLICT(name) DO UPDATE SET" \
	    " delta_link = coalesce(?2, delta_link)," \
	    " scan_rowid = coalesce(?3, scan_rowid)," \
	    " items_applied = items_applied + ?4", \
	/* A run's end: ?3 NULL is a success, else the error. */ \
	[STMT_SYNC_RESULT] = \
	    "INSERT INTO sync_state (name, last_attempt, last_success," \
	    " last_error, last_error_at, failures) VALUES (?1, ?2," \
	    " iif(?3 IS NULL, ?2, NULL), ?3, iif(?3 IS NULL, NULL, ?2)," \
	    " iif(?3 IS NULL, 0, 1))" \
	    " ON CONFLICT(name) DO UPDATE SET last_attempt = ?2," \
	    " last_success = iif(?3 IS NULL, ?2, last_success)," \
	    " last_error = coalesce(?3, last_error)," \
	    " last_error_at = iif(?3 IS NULL, last_error_at, ?2)," \
	    " failures = iif(?3 IS NULL, 0, failures + 1)", \
	[STMT_SYNC_RESTART] = \
	    "UPDATE sync_state SET delta_link = NULL, scan_rowid = 0" \
	    " WHERE name = ?1", \
	[STMT_ENTRA_FORGET] = "DELETE FROM entra_objects WHERE kind = ?1", \
	/* A fact with an identifier; a NULL id or enabled keeps the old. */ \
	[STMT_ENTRA_UPSERT] = \
	    "INSERT INTO entra_objects (kind, ext_id, id, enabled, deleted," \
	    " seen_at) VALUES (?1, lower(?2), lower(?3), coalesce(?4, 1), ?5," \
	    " ?6)" \
	    " ON CONFLICT(kind, ext_id) DO UPDATE SET" \
	    " id = coalesce(excluded.id, id)," \
	    " enabled = coalesce(?4, enabled), deleted = excluded.deleted," \
	    " seen_at = excluded.seen_at", \
	/* Every row of an object: a renamed user keeps its old UPN's row. */ \
	[STMT_ENTRA_UPDATE_ID] = \
	    "UPDATE entra_objects SET enabled = coalesce(?3, enabled)," \
	    " deleted = ?4, seen_at = ?5 WHERE kind = ?1 AND id = lower(?2)", \
	[STMT_ENTRA_EXT_BY_ID] = \
	    "SELECT ext_id FROM entra_objects WHERE kind = ?1" \
	    " AND id = lower(?2)", \
	[STMT_ENTRA_KNOWN] = \
	    "SELECT 1 FROM entra_objects WHERE kind = ?1" \
	    " AND ext_id = lower(?2)", \
	/* \
	 * The worst state among a certificate's identities (2 deleted): \
	 * its devices by deviceId, and through its Intune id's mapping. \
	 */ \
	[STMT_ENTRA_WORST] = \
	    "SELECT kind, ext_id, iif(deleted, 2, iif(enabled, 0, 1)) AS sev" \
	    " FROM entra_objects WHERE" \
	    " (kind = 'device' AND ext_id IN (lower(?1), lower(?2)," \
	    " (SELECT id FROM entra_objects WHERE kind = 'managed'" \
	    " AND ext_id = lower(?2))))" \
	    " OR (kind = 'managed' AND ext_id = lower(?2))" \
	    " OR (kind = 'user' AND ext_id = lower(?3))" \
	    " ORDER BY sev DESC LIMIT 1", \
	[STMT_ENTRA_CERTS_DEVICE] = \
	    "SELECT " ENTRA_CERT_COLS " FROM certificates WHERE" \
	    " (entra_device_id = ?1 COLLATE NOCASE" \
	    " OR intune_device_id = ?1 COLLATE NOCASE" \
	    " OR intune_device_id COLLATE NOCASE IN (SELECT ext_id" \
	    " FROM entra_objects WHERE kind = 'managed' AND id = lower(?1)))" \
	    ENTRA_CERT_LIVE, \
	[STMT_ENTRA_CERTS_USER] = \
	    "SELECT " ENTRA_CERT_COLS " FROM certificates WHERE" \
	    " upn = ?1 COLLATE NOCASE" ENTRA_CERT_LIVE, \
	/* An Intune id resolved: the rows learn their Entra deviceId. */ \
	[STMT_ENTRA_FILL] = \
	    "UPDATE certificates SET entra_device_id = ?2" \
	    " WHERE intune_device_id = ?1 COLLATE NOCASE" \
	    " AND entra_device_id IS NULL", \
	[STMT_ENTRA_SCAN_DEVICES] = \
	    "SELECT rowid, entra_device_id, intune_device_id" \
	    " FROM certificates" \
	    " WHERE rowid > ?1 AND (entra_device_id IS NOT NULL" \
	    " OR intune_device_id IS NOT NULL)" ENTRA_CERT_LIVE \
	    " ORDER BY rowid LIMIT ?3", \
	[STMT_ENTRA_SCAN_USERS] = \
	    "SELECT rowid, upn, NULL FROM certificates" \
	    " WHERE rowid > ?1 AND upn IS NOT NULL" ENTRA_CERT_LIVE \
	    " ORDER BY rowid LIMIT ?3",

#endif
