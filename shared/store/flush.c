/*
 * flush.c - getting commits onto the disk when the store does not
 * sync each one (STORE_SYNC_FULL unset): an fdatasync of the write-ahead
 * log, by hand or every few milliseconds from a thread.
 *
 * Why: with every commit synced, a SCEP enrollment waits for the disk
 * (about a millisecond here), which halves the throughput of lock-step
 * clients.  Unsynced commits still reach the OS before the reply leaves,
 * so a crash of scep-ca loses nothing; the flusher bounds what an OS crash
 * or a power loss can take to the last interval's commits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/worker.h"
#include "store/internal.h"
#include "store/store.h"

/* The flusher checkpoints the WAL about this often (milliseconds). */
#define CHECKPOINT_EVERY_MS	1000

/* The thread's state: read-only but for the worker. */
struct store_flusher {
	struct store	*st;
	int		 interval_ms;
	struct worker	 worker;
};

int
store_flush(struct store *st, struct err *e)
{
	char	path[4096];
	int	fd, rc = 0;

	/* fdatasync works on any descriptor of the file: the WAL's inode. */
	if ((size_t)snprintf(path, sizeof(path), "%s-wal", store_path(st)) >=
	    sizeof(path))
		return err_set(e, ERR_IO, "store: path too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : err_set(e, ERR_IO, "store: cannot"
		    " open %s: %s", path, strerror(errno));
	if (fdatasync(fd) == -1)
		rc = err_set(e, ERR_IO, "store: cannot sync %s: %s", path,
		    strerror(errno));
	close(fd);
	return rc;
}

/*
 * Copies the WAL into the database now and then, so that the automatic
 * checkpoint (every 1000 pages) seldom falls to a request's commit.
 */
static void
flusher_checkpoint(struct store *st)
{
	struct store_conn	*c = store_conn_get(st, NULL);

	if (c != NULL)
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
}

static void *
flusher_main(void *arg)
{
	struct store_flusher	*f = arg;
	struct err		 e = {0};
	int			 stop = 0, failing = 0, since = 0;

	while (!stop) {
		/* After the stop too: nothing is left unsynced. */
		stop = worker_sleep(&f->worker, f->interval_ms) ==
		    WORKER_STOPPED;
		if ((since += f->interval_ms) >= CHECKPOINT_EVERY_MS) {
			flusher_checkpoint(f->st);
			since = 0;
		}
		/* Log the first failure of a run, not every interval. */
		if (store_flush(f->st, &e) == -1) {
			if (!failing)
				log_err("store", "%s", e.msg);
			failing = 1;
		} else
			failing = 0;
	}
	return NULL;
}

struct store_flusher *
store_flusher_start(struct store *st, int interval_ms, struct err *e)
{
	struct store_flusher	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	f->st = st;
	f->interval_ms = interval_ms > 0 ? interval_ms : 100;
	worker_init(&f->worker);
	if (worker_start(&f->worker, flusher_main, f) == -1) {
		worker_destroy(&f->worker);
		free(f);
		err_set(e, ERR_INTERNAL, "store: cannot start the flusher");
		return NULL;
	}
	return f;
}

void
store_flusher_stop(struct store_flusher *f)
{
	if (f == NULL)
		return;
	worker_stop(&f->worker);	/* it flushes once more on its way out */
	worker_destroy(&f->worker);
	free(f);
}
