/*
 * backoff.h - the one "wait before asking again" policy, in two parts:
 *
 *   struct backoff: how long to wait after n failures in a row: min
 *     doubled per failure after the first, up to max, optionally with
 *     "equal jitter" (between half and all of it, at random) so that many
 *     clients do not retry in step, and how a server's own delay
 *     (Retry-After, RFC 9110 §10.2.3) combines with ours.  Success resets
 *     the count, which the caller keeps.  Used by the HTTP layer's
 *     retries, the status cache's delta rounds, the outbox and the sync
 *     jobs.
 *   struct backoff_hold: a time before which nobody asks again (a
 *     server's Retry-After, a breaker tripped by a failure), shared by
 *     threads: the HTTP layer's Retry-After gate, the status cache's
 *     breaker, the outbox sender's hold.
 *
 * Units are the caller's: the same unit (seconds or milliseconds, and
 * the same clock for a hold) in and out.
 *
 * Thread-safety: a struct backoff is read-only; a struct backoff_hold is
 * accessed only atomically, by any number of threads at once.
 */
#ifndef BUNDLE_BACKOFF_H
#define BUNDLE_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t	min;		/* after the first failure; below 1: 1 */
	int64_t	max;		/* the longest delay (before asked) */
	int	jitter;		/* equal jitter */
	int	asked_replaces;	/* a server's delay replaces ours, else
				   the longer of the two is taken */
};

/* A time before which nobody asks again.  Zero-initialise it: open. */
struct backoff_hold {
	int64_t	until;		/* the caller's clock; 0: open */
};

/*
 * The delay after `failures` failures in a row (0 and 1 both give min):
 * min doubled per failure up to max, less a random part of up to half
 * with b->jitter, at least 1.  asked is the delay the server asked for
 * (Retry-After), negative when none: it replaces the result with
 * b->asked_replaces, else the result is at least asked.  rnd is a random
 * number (backoff_random()), ignored without jitter.
 */
int64_t		 backoff_delay(const struct backoff *b, int failures,
		    int64_t asked, uint32_t rnd);

/* A random number for backoff_delay()'s jitter (OpenSSL's generator). */
uint32_t	 backoff_random(void);

/* Holds h closed until `until`, unless it is held longer already. */
void		 backoff_hold_until(struct backoff_hold *h, int64_t until);

/* How long h stays closed from now (same clock), 0 when open. */
int64_t		 backoff_hold_left(const struct backoff_hold *h, int64_t now);

/* Opens h now (the service answered again). */
void		 backoff_hold_clear(struct backoff_hold *h);

#endif
