/*
 * outbox.h - the background sender of the store's outbox (store/store.h): one
 * thread that delivers queued notifications through a send function,
 * retries failures with exponential backoff and jitter, honours the
 * service's Retry-After, and gives up after a maximum age or number of
 * attempts.
 *
 * It wakes when outbox_wake() says an entry was queued, when the next
 * retry is due, and at start, when every pending entry is tried at once:
 * a restart delivers what an earlier run left.
 *
 * Thread-safety: outbox_wake() may be called from any thread at any time
 * between outbox_start() and outbox_stop(); outbox_stop() from one thread
 * once.  The send function runs on the sender thread only.
 */
#ifndef SCEPCA_OUTBOX_H
#define SCEPCA_OUTBOX_H

#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* Entries read from the store per pass. */
#define OUTBOX_BATCH	32

/* How failures are retried.  Seconds. */
struct outbox_policy {
	int	retry_min;	/* delay after the first failure */
	int	retry_max;	/* longest delay */
	int	max_age;	/* older: given up at its next failure */
	int	max_attempts;	/* given up after this many; 0: none */
};

/*
 * Delivers one entry.  Returns 0 when delivered; -1 with e filled when
 * not: ERR_PARSE or ERR_USAGE say the entry itself is unusable (given up
 * at once), anything else is retried.  *retry_after (0 when unset)
 * receives the seconds the service asked us to hold back.
 */
typedef int (*outbox_send_fn)(void *arg, const struct outbox_row *row,
    long *retry_after, struct err *e);

struct outbox;

/*
 * Starts the sender thread on st (borrowed: it must outlive the sender).
 * send(arg, ...) delivers entries.  Returns NULL with e filled.
 */
struct outbox	*outbox_start(struct store *st,
		    const struct outbox_policy *pol, outbox_send_fn send,
		    void *arg, struct err *e);

/* Tells the sender an entry was queued.  Accepts NULL. */
void		 outbox_wake(struct outbox *ob);

/*
 * Stops the sender (a delivery in progress finishes first, bounded by the
 * send function's own timeout), joins its thread and frees it.  Entries
 * not delivered stay queued for the next start.  Accepts NULL.
 */
void		 outbox_stop(struct outbox *ob);

/*
 * The delay before retry number `failures` (1 = after the first
 * failure): retry_min doubled per failure up to retry_max, then a random
 * part taken off ("equal jitter": between half and all of it), at least
 * 1 s: backoff_delay() (base/backoff.h) with pol's numbers.  rnd is a
 * random number.  Exposed for tests.
 */
int64_t		 outbox_backoff(const struct outbox_policy *pol,
		    int failures, uint32_t rnd);

#endif
