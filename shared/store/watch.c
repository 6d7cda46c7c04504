/*
 * watch.c - the store's change signal: a token per kind of change
 * (store_watch_token) and a wait until it moves (store_watch_wait).
 * Any commit is told by the WAL-index header SQLite keeps in the -shm
 * file; a status change by the revocation generation (crl.c), read again
 * only when the first has moved.  store.h says what a PostgreSQL store
 * would do instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/log.h"
#include "store/internal.h"
#include "store/store.h"

/* How often store_watch_wait() looks at the token. */
#define WATCH_POLL_MS	50

/*
 * One per store.  A read-only connection of its own (opened on the first
 * commit token, under lock, and used by nothing else) keeps the -shm
 * file mapped; markhdr points at the WAL-index header in it.  markhdr
 * and markfailed are set once under lock, then read without it (atomic
 * loads).  lock also guards rev_mark and rev_token: the last revocation
 * token and the commit token read before it.
 */
struct store_watch {
	pthread_mutex_t		 lock;
	sqlite3			*markdb;
	const uint32_t		*markhdr;
	int			 markfailed;	/* no commit token here */
	uint64_t		 rev_mark;
	uint64_t		 rev_token;
};

struct store_watch *
store_watch_new(void)
{
	struct store_watch	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

void
store_watch_free(struct store_watch *w)
{
	if (w == NULL)
		return;
	sqlite3_close(w->markdb);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- any commit: the WAL-index header ----------------------------------- */

/*
 * The WAL-index header at the start of the -shm file, kept twice, in
 * native byte order (https://www.sqlite.org/walformat.html, "The
 * WAL-Index Header").  Fields keep SQLite's names so they can be found
 * in wal.c.
 */
struct wal_index_hdr {
	uint32_t	iVersion;
	uint32_t	unused;
	uint32_t	iChange;	/* +1 on every commit */
	uint8_t		isInit;
	uint8_t		bigEndCksum;
	uint16_t	szPage;
	uint32_t	mxFrame;	/* last committed frame of the WAL */
	uint32_t	nPage;
	uint32_t	aFrameCksum[2];
	uint32_t	aSalt[2];	/* new random aSalt[1] per WAL restart */
	uint32_t	aCksum[2];
};

#define WAL_INDEX_VERSION	3007000	/* iVersion of the only format */
#define WAL_INDEX_REGION	32768	/* SQLite's shm region size */
#define WAL_HDR_WORDS		(sizeof(struct wal_index_hdr) / 4)
#define MARK_TRIES		8	/* reads racing a header write */

_Static_assert(sizeof(struct wal_index_hdr) == 48, "WAL-index header size");

/*
 * The mark of one header.  A commit increments iChange, so the high half
 * changes with each.  The low half guards against a recovery (after a
 * process died writing the header), which restarts iChange at 0 with the
 * same salts and could give back a mark seen before: within one WAL
 * generation mxFrame only grows (every commit appends a frame), and a
 * new generation has a new random salt.  Bit 31 is set so that a mark is
 * never 0 ("unknown") without folding two headers onto one mark; that
 * bit only tells apart mxFrames 2^31 frames apart, a WAL no store grows
 * (8 TiB at 4 KiB pages; SQLite checkpoints every 1000 frames).
 */
static uint64_t
wal_index_mark(const struct wal_index_hdr *h)
{
	return (uint64_t)h->iChange << 32 |
	    ((h->aSalt[1] ^ h->mxFrame) | 1U << 31);
}

/*
 * Reads the header as SQLite's walIndexTryHdr() does: a writer stores
 * copy 2, a memory barrier, then copy 1; copy 1 read first and equal to
 * copy 2 read after a barrier was not torn.  Returns the mark, or 0.
 */
static uint64_t
wal_index_read(const uint32_t *shm)
{
	uint32_t		w1[WAL_HDR_WORDS], w2[WAL_HDR_WORDS];
	struct wal_index_hdr	h;
	size_t			i;
	int			try;

	for (try = 0; try < MARK_TRIES; try++) {
		for (i = 0; i < WAL_HDR_WORDS; i++)
			w1[i] = __atomic_load_n(&shm[i], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* Acquire: the caller reads what the mark guards after it. */
		for (i = 0; i < WAL_HDR_WORDS; i++)
			w2[i] = __atomic_load_n(&shm[WAL_HDR_WORDS + i],
			    __ATOMIC_ACQUIRE);
		if (memcmp(w1, w2, sizeof(w1)) == 0)
			break;
	}
	if (try == MARK_TRIES)
		return 0;
	memcpy(&h, w1, sizeof(h));
	if (!h.isInit || h.iVersion != WAL_INDEX_VERSION)
		return 0;
	return wal_index_mark(&h);
}

/*
 * Tells whether db is a file in WAL mode, after a first read, which is
 * what opens the WAL and maps its shared memory.
 */
static int
mark_is_wal(sqlite3 *db)
{
	sqlite3_stmt	*s = NULL;
	const char	*file = sqlite3_db_filename(db, "main");
	int		 wal = 0;

	if (file == NULL || *file == '\0')
		return 0;		/* in memory, or temporary */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
	    NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(s, 0),
		    "wal") == 0;
	sqlite3_finalize(s);
	return wal;
}

/*
 * Opens w->markdb on path and gets the -shm region 0 from SQLite's VFS
 * rather than mapping the file ourselves: SQLite keeps the region mapped
 * until the connection closes, and while a connection has the shared
 * memory open, no other one reinitialises (truncates) the file under the
 * mapping.  Called under w->lock.  Returns the header, or NULL.
 */
static const uint32_t *
mark_map(struct store_watch *w, const char *path)
{
	sqlite3_file		*fp = NULL;
	void volatile		*region = NULL;
	const sqlite3_io_methods *io;
	int			 rc;

	if (sqlite3_open_v2(path, &w->markdb, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(w->markdb, 10000);
	if (!mark_is_wal(w->markdb) ||
	    sqlite3_file_control(w->markdb, "main", SQLITE_FCNTL_FILE_POINTER,
	    &fp) != SQLITE_OK || fp == NULL || (io = fp->pMethods) == NULL ||
	    io->iVersion < 2 || io->xShmMap == NULL)
		return NULL;
	/* SQLITE_READONLY: mapped, but from a -shm we may not write. */
	rc = io->xShmMap(fp, 0, WAL_INDEX_REGION, 0, &region);
	if (rc != SQLITE_OK && rc != SQLITE_READONLY)
		return NULL;
	return (const uint32_t *)region;
}

/* The first call: maps the header, or records that there is none. */
static const uint32_t *
mark_setup(struct store_watch *w, const char *path)
{
	const uint32_t	*hdr;

	pthread_mutex_lock(&w->lock);
	hdr = w->markhdr;
	if (hdr == NULL && !w->markfailed) {
		if ((hdr = mark_map(w, path)) != NULL)
			__atomic_store_n(&w->markhdr, hdr, __ATOMIC_RELEASE);
		else {
			log_debug("store", "%s: no commit token (not in WAL"
			    " mode, or no shared memory)", path);
			sqlite3_close(w->markdb);
			w->markdb = NULL;
			__atomic_store_n(&w->markfailed, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return hdr;
}

static uint64_t
commit_token(struct store *st)
{
	struct store_watch	*w = store_watch_of(st);
	const uint32_t		*hdr = __atomic_load_n(&w->markhdr,
				    __ATOMIC_ACQUIRE);

	if (hdr == NULL &&
	    (__atomic_load_n(&w->markfailed, __ATOMIC_ACQUIRE) ||
	    (hdr = mark_setup(w, store_path(st))) == NULL))
		return 0;
	return wal_index_read(hdr);
}

/* ---- status changes: the revocation generation -------------------------- */

/*
 * The generation plus one (never 0).  While the commit token is the one
 * read before the last generation, nothing was committed since: the
 * generation is the same, and no read is needed.
 */
static uint64_t
revocation_token(struct store *st)
{
	struct store_watch	*w = store_watch_of(st);
	struct err		 e = {0};
	uint64_t		 mark, token = 0;
	int64_t			 gen;

	mark = commit_token(st);	/* first: it guards the read below */
	pthread_mutex_lock(&w->lock);
	if (mark != 0 && mark == w->rev_mark)
		token = w->rev_token;
	pthread_mutex_unlock(&w->lock);
	if (token != 0)
		return token;
	if (store_revocation_generation(st, &gen, &e) == -1) {
		log_warn("store", "cannot read the revocation generation: %s",
		    e.msg);
		return 0;
	}
	token = (uint64_t)gen + 1;
	pthread_mutex_lock(&w->lock);
	w->rev_mark = mark;
	w->rev_token = token;
	pthread_mutex_unlock(&w->lock);
	return token;
}

/* ---- the interface ------------------------------------------------------ */

static void
ts_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += ms % 1000 * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

uint64_t
store_watch_token(struct store *st, enum store_watch_kind kind)
{
	return kind == STORE_WATCH_REVOCATION ? revocation_token(st) :
	    commit_token(st);
}

int
store_watch_wait(struct store *st, enum store_watch_kind kind, uint64_t token,
    int timeout_ms)
{
	struct timespec	end, next;
	uint64_t	t;

	clock_gettime(CLOCK_MONOTONIC, &end);
	ts_add_ms(&end, timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if ((t = store_watch_token(st, kind)) != 0 && t != token)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &next);
		if (!ts_before(&next, &end))
			return t == 0;	/* cannot tell: the caller reads */
		ts_add_ms(&next, WATCH_POLL_MS);
		if (ts_before(&end, &next))
			next = end;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}
