/*
 * store.h - the certificate store: one SQLite file in WAL mode.
 *
 * Tables (schema versioned by PRAGMA user_version, migrated on open):
 * certificates, transactions, challenges, audit, meta, outbox; later
 * migrations add what the sync jobs need.  Writers use transactions; a
 * certificate row is committed before the reply that carries it leaves.
 *
 * Thread-safety: a struct store may be shared by any number of threads.
 * Each thread gets its own SQLite connection (and prepared statements) on
 * first use, so calls from different threads never share a connection.
 */
#ifndef BUNDLE_STORE_H
#define BUNDLE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/encode.h"
#include "base/err.h"

struct store;

/*
 * In an ERR_EXISTS message when a primary key (a serial) was taken; the
 * error's kind is then ERR_KIND_PRIMARY_KEY, which is what callers test.
 */
#define STORE_DUPLICATE_KEY	"duplicate key"

#define STORE_RDONLY	0x01	/* open read-only (the RADIUS module) */
#define STORE_CREATE	0x02	/* create the file and schema if missing */
/*
 * Sync every commit to disk before it returns (SQLite synchronous=FULL).
 * Without it (synchronous=NORMAL in WAL mode) a commit reaches the OS at
 * once, so no process crash loses it, and the disk when store_flush()
 * runs (a store_flusher does every few milliseconds) or at a checkpoint.
 */
#define STORE_SYNC_FULL	0x04

enum cert_status {
	CERT_VALID = 0,
	CERT_REVOKED,
	CERT_HOLD,
};

/* CRL reason codes, RFC 5280 §5.3.1. */
enum crl_reason {
	REASON_UNSPECIFIED = 0,
	REASON_KEY_COMPROMISE = 1,
	REASON_CA_COMPROMISE = 2,
	REASON_AFFILIATION_CHANGED = 3,
	REASON_SUPERSEDED = 4,
	REASON_CESSATION_OF_OPERATION = 5,
	REASON_CERTIFICATE_HOLD = 6,
	REASON_REMOVE_FROM_CRL = 8,
	REASON_PRIVILEGE_WITHDRAWN = 9,
	REASON_AA_COMPROMISE = 10,
};

/*
 * One row of `certificates`.  Strings are owned (malloc'd) and freed by
 * cert_row_clear(); a zeroed struct is empty.
 */
struct cert_row {
	char		 serial[SERIAL_HEX_MAX];	/* canonical hex */
	char		*issuer;		/* RFC 2253 */
	char		*subject;		/* RFC 2253 */
	char		*san;			/* "URI:..., DNS:..." text */
	char		*entra_device_id;
	char		*intune_device_id;
	char		*upn;
	int64_t		 not_before, not_after, issued_at;
	enum cert_status status;
	int64_t		 revoked_at;		/* 0 when valid */
	int		 reason;		/* enum crl_reason, -1 none */
	char		*status_source;		/* admin, entra, intune */
	char		 sha1[41], sha256[65];	/* lower-case hex thumbprints */
	struct buf	 der;
	char		*profile;
	char		*transaction_id;
	char		*key_hash;		/* hex SHA-256 of the SPKI */
	char		*renewed_from;		/* serial, or NULL */
};

void	cert_row_clear(struct cert_row *row);

enum txn_state {
	TXN_PENDING = 0,
	TXN_APPROVED,
	TXN_ISSUED,
	TXN_DENIED,
};

/* One row of `transactions` (SCEP transactionID state). */
struct txn_row {
	char		*id;
	char		*profile;
	enum txn_state	 state;
	struct buf	 csr;		/* DER PKCS#10 */
	char		*key_hash;
	char		*subject;
	char		 serial[SERIAL_HEX_MAX];	/* "" until issued */
	int64_t		 created_at, updated_at;
	char		*renewal_of;	/* serial of the signer cert, or NULL */
	char		*signer_hash;	/* hex SHA-256 of the request's signer */
	int64_t		 expires_at;	/* pending: dropped unapproved then; 0 never */
};

void	txn_row_clear(struct txn_row *row);

/*
 * Opens (and with STORE_CREATE creates and migrates) the store at path.
 * Returns the store, or NULL with e set.
 */
struct store	*store_open(const char *path, int flags, struct err *e);

/* Closes every per-thread connection.  Accepts NULL. */
void		 store_close(struct store *st);

/* The file the store was opened from (borrowed). */
const char	*store_path(const struct store *st);

/* Schema version of the open file. */
int		 store_schema_version(struct store *st, struct err *e);

/*
 * Writes what the store committed through to the disk (fdatasync of the
 * write-ahead log).  Returns 0 or -1.  Thread-safe.
 */
int		 store_flush(struct store *st, struct err *e);

struct store_flusher;

/*
 * Starts a thread that calls store_flush() every interval_ms, bounding
 * what an OS crash or power loss can take to that much of the latest
 * commits.  NULL with e set on failure.
 */
struct store_flusher *store_flusher_start(struct store *st, int interval_ms,
		    struct err *e);

/* Stops the thread after a last flush.  Accepts NULL. */
void		 store_flusher_stop(struct store_flusher *f);

/* Cheap liveness check for /healthz.  Returns 0 or -1. */
int		 store_ping(struct store *st, struct err *e);

/* ---- the change signal (watch.c) -------------------------------- */

/*
 * What a reader can watch.  An OCSP answer is reused while nothing at
 * all was committed, which a sqlite3 shell's edit of a status also
 * ends; the CRL lists statuses only, and is signed again when one
 * changes, not after every enrollment.
 */
enum store_watch_kind {
	STORE_WATCH_COMMIT = 0,		/* any commit */
	STORE_WATCH_REVOCATION,		/* a certificate's status changed */
};

/*
 * A token that changes whenever a change of that kind is committed, by
 * any connection, in this process or any other (the revoke command, a
 * sqlite3 shell), so that a reader can tell, without a read of its own,
 * that what it read earlier is still current.  The rule: read the token
 * BEFORE reading the data it guards; a later call that returns the same
 * non-zero token proves nothing of that kind was committed in between.
 * Tokens are compared for equality only.  One may also change with no
 * such commit: that only costs a read.
 *
 * Returns 0 when a change cannot be known: the caller must read, and
 * must not compare 0 with anything.  Never 0 otherwise.
 *
 * STORE_WATCH_COMMIT reads the WAL-index header SQLite keeps in the -shm
 * file: tens of nanoseconds, no lock, no system call.  It is 0 when the
 * store is not in WAL mode, is in memory, its shared memory cannot be
 * mapped, or a writer was in the middle of publishing a commit.  When
 * SQLite rebuilds the header (a writer died while writing it) and starts
 * its commit counter again, the tokens still do not repeat earlier ones.
 * The first call opens a connection of the store's own to map it.
 *
 * STORE_WATCH_REVOCATION is the revocation generation (crl.c, below),
 * bumped in the same transaction as every status change
 * (store_cert_set_status(), the sync jobs): a status edited by hand in a
 * sqlite3 shell moves only STORE_WATCH_COMMIT.  It is read again only
 * when the commit token moved, so it is as cheap while nothing is
 * committed; 0 (and a warning logged) when it cannot be read.
 *
 * Thread-safe; read-only stores work too.
 */
uint64_t	 store_watch_token(struct store *st, enum store_watch_kind kind);

/*
 * Waits until store_watch_token(st, kind) returns a non-zero token other
 * than token, or for timeout_ms.  Returns 1 when it did, or when the
 * store could not tell at the end (the caller must read); 0 when
 * nothing of that kind changed.  SQLite tells no one of a commit, so
 * this looks at the token every 50 ms; a thread that must stop promptly
 * bounds timeout_ms.  Thread-safe.
 */
int		 store_watch_wait(struct store *st, enum store_watch_kind kind,
		    uint64_t token, int timeout_ms);

/*
 * A PostgreSQL store would give the same two calls with LISTEN/NOTIFY,
 * a channel per kind (store_commit, store_revocation):
 *   - every write transaction runs NOTIFY store_commit, and one that
 *     changes a status (where the revocation generation is bumped
 *     today) NOTIFY store_revocation too.  PostgreSQL delivers a
 *     notification only when its transaction commits, once per channel
 *     and transaction, to the listeners of every process;
 *   - the store keeps one connection of its own that LISTENs on both,
 *     and a thread that waits on its socket (poll(2)) and, for each
 *     notification, advances an atomic counter per kind (never 0) and
 *     wakes the waiters (a condition variable);
 *   - store_watch_token() is an atomic load of the kind's counter,
 *     nanoseconds as now.  This process's commits advance it before they
 *     return, so its own changes are seen at once;
 *   - store_watch_wait() sleeps on that condition variable: woken by the
 *     commit itself, it costs nothing while nothing changes;
 *   - while the connection is down notifications may be lost: the token
 *     is 0 until it listens again, then the counters advance (they never
 *     go back, so no token repeats).
 * The one guarantee that weakens: another process's commit is seen when
 * its notification arrives (well under a millisecond on one host), not
 * the instant it commits as with the WAL index.  Where that matters, the
 * token reads a counter row per kind instead (one round trip).
 */

/*
 * A new outbox entry: a notification the background sender delivers.
 * Borrowed strings.
 */
struct outbox_new {
	const char	*kind;		/* "intune_success"... */
	const char	*ref;		/* a transactionID, or NULL */
	const char	*payload;	/* JSON the sender of kind reads */
};

/* What store_issue() records in one transaction. */
struct store_issue {
	const struct cert_row	*cert;
	const char		*txid;		/* SCEP transactionID */
	const unsigned char	*csr;		/* DER; not stored (see txn.c) */
	size_t			 csr_len;
	const char		*challenge_hash; /* one-time challenge to consume */
	const char		*renewal_of;	/* serial renewed, or NULL */
	const char		*signer_hash;	/* of the request's signer cert */
	const char		*actor;		/* for the audit row */
	int64_t			 now;
	const struct outbox_new	*outbox;	/* queued with it, or NULL */
};

/*
 * Records an issued certificate: consumes the one-time challenge (when
 * given; ERR_BAD_CHALLENGE if it is unknown, used or expired), inserts the
 * certificate (ERR_EXISTS on a duplicate serial), marks the transaction
 * issued, queues the outbox entry (when given) and writes an audit row,
 * all in one SQLite transaction that is committed (durably) before this
 * returns 0.  On -1 nothing is changed.
 */
int	store_issue(struct store *st, const struct store_issue *in, struct err *e);

/*
 * Looks a certificate up by serial (any case, colons allowed).  Returns 0,
 * or -1 with ERR_NOT_FOUND or another error.
 */
int	store_cert_get(struct store *st, const char *serial, struct cert_row *out,
	    struct err *e);

/* Called by store_cert_list() for each row; return non-zero to stop. */
typedef int (*store_cert_fn)(void *arg, const struct cert_row *row);

/*
 * Lists certificates in issue order.  status < 0 lists all, otherwise only
 * that status.  Rows carry no DER (der.len == 0) to keep listing cheap.
 */
int	store_cert_list(struct store *st, int status, store_cert_fn fn, void *arg,
	    struct err *e);

/*
 * Changes a certificate's status.  CERT_REVOKED needs a reason; CERT_HOLD
 * records REASON_CERTIFICATE_HOLD; CERT_VALID releases a hold (refused with
 * ERR_BAD_REQUEST for a certificate that is revoked, not held, unless
 * force).  Writes an audit row with actor and, when the row changes,
 * increments the revocation generation in the same transaction.  Returns
 * 0 or -1.  *changed (may be NULL) tells whether the row changed.
 */
int	store_cert_set_status(struct store *st, const char *serial,
	    enum cert_status status, int reason, const char *actor, int force,
	    int *changed, struct err *e);

/* Reads a transaction by SCEP transactionID.  ERR_NOT_FOUND if none. */
int	store_txn_get(struct store *st, const char *txid, struct txn_row *out,
	    struct err *e);

/* Bounds on pending requests, so that the store cannot be filled from outside. */
struct pending_limits {
	int	max_per_profile;	/* pending in row->profile; 0: no bound */
	int	max_per_key;		/* pending for row->key_hash in
					   row->profile; 0: no bound */
	int64_t	ttl;			/* s this one may wait; 0: for ever */
};

/*
 * Records a new pending transaction (manual approval), consuming the
 * one-time challenge challenge_hash (may be NULL) in the same transaction.
 * First, in that transaction, the pending requests (of any profile) whose
 * time is up are deleted, each with an audit row "expired".  With lim
 * (may be NULL) the new request is refused with ERR_BAD_REQUEST when its
 * profile or its key already has as many pending requests as allowed, and
 * expires lim->ttl seconds from now.  A refusal changes nothing in the
 * store.  ERR_EXISTS if the transactionID is known, ERR_BAD_CHALLENGE if
 * the challenge cannot be consumed.
 */
int	store_txn_add_pending(struct store *st, const struct txn_row *row,
	    const char *challenge_hash, const struct pending_limits *lim,
	    struct err *e);

/*
 * Moves a pending transaction to approved or denied (admin decision).
 * ERR_NOT_FOUND / ERR_BAD_REQUEST when it is not pending, ERR_BAD_REQUEST
 * when its time is up (the client must send a new request).
 */
int	store_txn_decide(struct store *st, const char *txid, enum txn_state to,
	    const char *actor, struct err *e);

/* Adds a one-time challenge by its hash (hex SHA-256). */
int	store_challenge_add(struct store *st, const char *hash, const char *profile,
	    int64_t expires_at, struct err *e);

/*
 * Tells whether a one-time challenge could be consumed now (exists, unused,
 * unexpired, for this profile).  Returns 1 yes, 0 no, -1 error.
 */
int	store_challenge_usable(struct store *st, const char *hash,
	    const char *profile, struct err *e);

/* Appends an audit row. */
int	store_audit(struct store *st, const char *actor, const char *action,
	    const char *object, const char *detail, struct err *e);

/* Counts certificates (status < 0: all).  Returns the count or -1. */
int64_t	store_cert_count(struct store *st, int status, struct err *e);

/* Reads/writes a value in `meta`.  get: ERR_NOT_FOUND when absent. */
int	store_meta_get(struct store *st, const char *key, struct buf *out,
	    struct err *e);
int	store_meta_set(struct store *st, const char *key, const char *value,
	    struct err *e);

/* ---- outbox (outbox.c) ----------------------------------------- */

enum outbox_state {
	OUTBOX_PENDING = 0,	/* to send, at next_attempt_at */
	OUTBOX_SENT,		/* delivered */
	OUTBOX_ABANDONED,	/* given up after too many attempts or too long */
};

/* One row of `outbox`.  Strings are owned; outbox_row_clear() frees. */
struct outbox_row {
	int64_t			 id;
	char			*kind;
	char			*ref;		/* may be NULL */
	char			*payload;
	enum outbox_state	 state;
	int64_t			 created_at;
	int			 attempts;	/* sending attempts made */
	int64_t			 next_attempt_at;
	char			*last_error;	/* may be NULL */
	int64_t			 done_at;	/* 0 while pending */
};

void	outbox_row_clear(struct outbox_row *row);
const char *outbox_state_name(enum outbox_state s);

/*
 * Queues an entry, due at once (next_attempt_at = now), in its own
 * transaction.  *id (may be NULL) receives its id.  Returns 0 or -1.
 */
int	store_outbox_add(struct store *st, const struct outbox_new *in,
	    int64_t now, int64_t *id, struct err *e);

/* Reads one entry by id.  ERR_NOT_FOUND when there is none. */
int	store_outbox_get(struct store *st, int64_t id, struct outbox_row *out,
	    struct err *e);

/*
 * Fills rows (up to max) with the pending entries due at `now`, the
 * longest-due first.  Returns how many (the caller clears each), or -1.
 */
int	store_outbox_due(struct store *st, int64_t now, struct outbox_row *rows,
	    int max, struct err *e);

/*
 * Puts the earliest next_attempt_at of the pending entries in *at.
 * Returns 1, 0 when nothing is pending, or -1.
 */
int	store_outbox_next(struct store *st, int64_t *at, struct err *e);

/*
 * After a failed attempt: counts it, records error and reschedules the
 * entry at next_at.  ERR_NOT_FOUND if it is not pending.
 */
int	store_outbox_retry(struct store *st, int64_t id, int64_t next_at,
	    const char *error, struct err *e);

/*
 * After a final attempt: counts it and marks the entry OUTBOX_SENT, or
 * OUTBOX_ABANDONED with error (NULL keeps the last one).  ERR_NOT_FOUND
 * if it is not pending.
 */
int	store_outbox_finish(struct store *st, int64_t id, enum outbox_state to,
	    int64_t now, const char *error, struct err *e);

/* Counts entries in a state (state < 0: all).  The count, or -1. */
int64_t	store_outbox_count(struct store *st, int state, struct err *e);

/* ---- revocation publishing (crl.c) ------------------------------ */

/*
 * The revocation generation: a counter in `meta` that
 * store_cert_set_status() increments in the same transaction as every
 * status change; STORE_WATCH_REVOCATION's token stands on it (publishers
 * watch that, not this).  *out is 0 before the first change.  Returns
 * 0 or -1.
 */
int	store_revocation_generation(struct store *st, int64_t *out,
	    struct err *e);

/*
 * Increments the CRL number kept in `meta` (RFC 5280 §5.2.3) in one
 * atomic statement and puts the new value in *out (1 the first time), so
 * numbers only grow, whichever process signs.  Returns 0 or -1.
 */
int	store_crl_number_next(struct store *st, int64_t *out, struct err *e);

/* One CRL entry, borrowed for the duration of a store_crl_fn call. */
struct crl_entry {
	const char		*serial;	/* canonical hex */
	enum cert_status	 status;	/* CERT_REVOKED or CERT_HOLD */
	int64_t			 revoked_at;
	int			 reason;	/* enum crl_reason, -1 none */
};

/* Called for each entry; non-zero stops the walk. */
typedef int (*store_crl_fn)(void *arg, const struct crl_entry *ent);

/*
 * Walks the revoked and held certificates that expire at or after
 * expired_before (older ones may leave the CRL, RFC 5280 §3.3), reading
 * only serial, status, date and reason.  Returns 0, or -1 (with e set
 * unless fn stopped the walk).
 */
int	store_crl_entries(struct store *st, int64_t expired_before,
	    store_crl_fn fn, void *arg, struct err *e);

/*
 * Walks, in serial order, up to limit certificates (valid or not) whose
 * serial sorts after `after` ("" for the first page) and that expire at
 * or after expired_before: what the OCSP responder pre-produces answers
 * for.  Pages keep each read transaction short.  Returns the number of
 * rows walked (fewer than limit: the last page), or -1 (with e set unless
 * fn stopped the walk).
 */
int	store_status_page(struct store *st, const char *after,
	    int64_t expired_before, int limit, store_crl_fn fn, void *arg,
	    struct err *e);

/*
 * The status of one certificate for OCSP, by canonical hex serial (as
 * serial_normalize() makes it).  Returns 1 and fills the outputs when the
 * certificate is known, 0 when it is not, -1 on error.
 */
int	store_cert_status(struct store *st, const char *serial,
	    enum cert_status *status, int64_t *revoked_at, int *reason,
	    struct err *e);

const char	*cert_status_name(enum cert_status s);
const char	*txn_state_name(enum txn_state s);

/* Parses a CRL reason name ("keyCompromise", ...) or number.  -1 if bad. */
int		 crl_reason_parse(const char *s);
const char	*crl_reason_name(int reason);

#endif
