/*
 * outbox.c - the sender thread of the store's outbox: deliver, retry with
 * backoff, give up, sleep until the next entry is due or one is queued.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "base/log.h"
#include "intune/outbox.h"

/* The sender sleeps at most this long, so time jumps cannot stall it. */
#define OUTBOX_POLL_MAX	60

/*
 * lock guards stop and kicked, which other threads set; everything else
 * belongs to the sender thread.
 */
struct outbox {
	struct store		*store;		/* borrowed */
	struct outbox_policy	 pol;
	outbox_send_fn		 send;
	void			*arg;
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* CLOCK_MONOTONIC */
	int			 stop;
	int			 kicked;
	int			 startup;	/* try everything pending */
	int			 failures;	/* in a row */
	int64_t			 hold_until;	/* no sending before */
};

int64_t
outbox_backoff(const struct outbox_policy *pol, int failures, uint32_t rnd)
{
	int64_t	d = pol->retry_min > 0 ? pol->retry_min : 1;
	int	i;

	for (i = 1; i < failures && d < pol->retry_max; i++)
		d *= 2;
	if (d > pol->retry_max)
		d = pol->retry_max;
	/* Equal jitter: spreads the retries of many senders. */
	d = d - d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
	return d > 0 ? d : 1;
}

static uint32_t
outbox_random(void)
{
	uint32_t	r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)time(NULL);
	return r;
}

static int
outbox_stopping(struct outbox *ob)
{
	int	stop;

	pthread_mutex_lock(&ob->lock);
	stop = ob->stop;
	pthread_mutex_unlock(&ob->lock);
	return stop;
}

/* An entry is given up after too many attempts or when too old. */
static int
outbox_give_up(const struct outbox *ob, const struct outbox_row *r,
    int64_t now, const struct err *why)
{
	if (why->code == ERR_PARSE || why->code == ERR_USAGE)
		return 1;
	if (ob->pol.max_attempts > 0 && r->attempts + 1 >= ob->pol.max_attempts)
		return 1;
	return now - r->created_at >= ob->pol.max_age;
}

/*
 * Records a failed attempt: a retry later, or the end.  Returns 1 when
 * the service is to blame (the sender then holds back), 0 when the entry
 * itself was unusable.
 */
static int
outbox_failed(struct outbox *ob, const struct outbox_row *r, long retry_after,
    const struct err *why)
{
	struct err	e = {0};
	int64_t		now = (int64_t)time(NULL), delay;
	const char	*ref = r->ref ? r->ref : "-";

	if (outbox_give_up(ob, r, now, why)) {
		log_err("outbox", "gave up %s #%lld for %.80s after %d attempt(s)"
		    " over %lld s: %s", r->kind, (long long)r->id, ref,
		    r->attempts + 1, (long long)(now - r->created_at), why->msg);
		if (store_outbox_finish(ob->store, r->id, OUTBOX_ABANDONED, now,
		    why->msg, &e) == -1)
			log_err("outbox", "%s", e.msg);
		if (why->code == ERR_PARSE || why->code == ERR_USAGE)
			return 0;	/* the entry's fault, not the service's */
	} else {
		delay = outbox_backoff(&ob->pol, r->attempts + 1, outbox_random());
		if (retry_after > delay)
			delay = retry_after;
		log_warn("outbox", "%s #%lld for %.80s failed (attempt %d), retry in"
		    " %lld s: %s", r->kind, (long long)r->id, ref,
		    r->attempts + 1, (long long)delay, why->msg);
		if (store_outbox_retry(ob->store, r->id, now + delay, why->msg,
		    &e) == -1)
			log_err("outbox", "%s", e.msg);
	}
	/* The service is in trouble: let it breathe before anything else. */
	delay = outbox_backoff(&ob->pol, ++ob->failures, outbox_random());
	ob->hold_until = now + (retry_after > delay ? retry_after : delay);
	return 1;
}

/* Delivers one entry.  Returns 0, or -1 when the pass should end. */
static int
outbox_deliver(struct outbox *ob, const struct outbox_row *r)
{
	struct err	e = {0};
	long		retry_after = 0;

	if (ob->send(ob->arg, r, &retry_after, &e) == -1) {
		if (e.code == ERR_OK)
			err_set(&e, ERR_INTERNAL, "not delivered");
		return outbox_failed(ob, r, retry_after, &e) ? -1 : 0;
	}
	ob->failures = 0;
	log_info("outbox", "%s #%lld for %.80s delivered (attempt %d)", r->kind,
	    (long long)r->id, r->ref ? r->ref : "-", r->attempts + 1);
	if (store_outbox_finish(ob->store, r->id, OUTBOX_SENT,
	    (int64_t)time(NULL), NULL, &e) == -1) {
		log_err("outbox", "%s", e.msg);
		return -1;
	}
	return 0;
}

/*
 * One pass over the entries due (all pending ones at start-up).  Returns
 * when the sender should look again (time(NULL) clock).
 */
static int64_t
outbox_pass(struct outbox *ob)
{
	struct outbox_row	 rows[OUTBOX_BATCH];
	struct err		 e = {0};
	int64_t			 now = (int64_t)time(NULL), next;
	int			 i, n, failed = 0;

	if (now < ob->hold_until)
		return ob->hold_until;
	n = store_outbox_due(ob->store, ob->startup ? INT64_MAX : now, rows,
	    OUTBOX_BATCH, &e);
	if (n == -1) {
		log_err("outbox", "%s", e.msg);
		return now + ob->pol.retry_min;
	}
	for (i = 0; i < n && !failed && !outbox_stopping(ob); i++)
		failed = outbox_deliver(ob, &rows[i]) == -1;
	for (i = 0; i < n; i++)
		outbox_row_clear(&rows[i]);
	if (failed)
		ob->startup = 0;
	if (failed || now < ob->hold_until)
		return ob->hold_until;
	if (n == OUTBOX_BATCH)
		return now;		/* more are waiting */
	ob->startup = 0;
	if ((i = store_outbox_next(ob->store, &next, &e)) == 1)
		return next;
	if (i == -1)
		log_err("outbox", "%s", e.msg);
	return now + OUTBOX_POLL_MAX;
}

/*
 * Sleeps until `until` (time(NULL) clock), a wake-up or a stop.  Returns
 * 1 when stopping.
 */
static int
outbox_sleep(struct outbox *ob, int64_t until)
{
	struct timespec	ts;
	int64_t		left;
	int		stop;

	pthread_mutex_lock(&ob->lock);
	while (!ob->stop && !ob->kicked &&
	    (left = until - (int64_t)time(NULL)) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left < OUTBOX_POLL_MAX ? left : OUTBOX_POLL_MAX;
		if (pthread_cond_timedwait(&ob->cond, &ob->lock, &ts) ==
		    ETIMEDOUT && left > OUTBOX_POLL_MAX)
			break;		/* look at the store again */
	}
	ob->kicked = 0;
	stop = ob->stop;
	pthread_mutex_unlock(&ob->lock);
	return stop;
}

static void *
outbox_main(void *arg)
{
	struct outbox	*ob = arg;
	int64_t		 until = 0;

	while (!outbox_sleep(ob, until))
		until = outbox_pass(ob);
	return NULL;
}

struct outbox *
outbox_start(struct store *st, const struct outbox_policy *pol,
    outbox_send_fn send, void *arg, struct err *e)
{
	struct outbox		*ob;
	pthread_condattr_t	 ca;
	int			 rc;

	if ((ob = calloc(1, sizeof(*ob))) == NULL) {
		err_set(e, ERR_NOMEM, "outbox: out of memory");
		return NULL;
	}
	ob->store = st;
	ob->pol = *pol;
	ob->send = send;
	ob->arg = arg;
	ob->startup = 1;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ob->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&ob->thread, NULL, outbox_main, ob)) != 0) {
		err_set(e, ERR_INTERNAL, "outbox: cannot start the sender: %s",
		    strerror(rc));
		pthread_cond_destroy(&ob->cond);
		pthread_mutex_destroy(&ob->lock);
		free(ob);
		return NULL;
	}
	return ob;
}

void
outbox_wake(struct outbox *ob)
{
	if (ob == NULL)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->kicked = 1;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
}

void
outbox_stop(struct outbox *ob)
{
	if (ob == NULL)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stop = 1;
	pthread_cond_signal(&ob->cond);
	pthread_mutex_unlock(&ob->lock);
	pthread_join(ob->thread, NULL);
	pthread_cond_destroy(&ob->cond);
	pthread_mutex_destroy(&ob->lock);
	free(ob);
}
