/*
 * conn.h - per-thread SQLite connections and prepared statements,
 * shared by the store's source files (not part of the public API).
 */
#ifndef BUNDLE_STORE_CONN_H
#define BUNDLE_STORE_CONN_H

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

#endif
