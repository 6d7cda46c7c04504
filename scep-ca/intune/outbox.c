/*
 * outbox.c - the sender thread of the store's outbox: deliver, retry with
 * backoff, give up, sleep until the next entry is due or one is queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/backoff.h"
#include "base/log.h"
#include "base/worker.h"
#include "intune/outbox.h"

/* The sender sleeps at most this long, so time jumps cannot stall it. */
#define OUTBOX_POLL_MAX	60

/*
 * The worker's wake-up and stop come from other threads; everything else
 * belongs to the sender thread.
 */
struct outbox {
	struct store		*store;		/* borrowed */
	struct outbox_policy	 pol;
	outbox_send_fn		 send;
	void			*arg;
	struct worker		 worker;
	int			 startup;	/* try everything pending */
	int			 failures;	/* in a row */
	struct backoff		 retry;		/* from pol */
	struct backoff_hold	 hold;		/* none sent before; time(NULL) */
};

/* pol's retries as a backoff policy (base/backoff.h). */
static struct backoff
outbox_retry(const struct outbox_policy *pol)
{
	struct backoff	b = { .min = pol->retry_min, .max = pol->retry_max,
			    .jitter = 1 };

	return b;
}

int64_t
outbox_backoff(const struct outbox_policy *pol, int failures, uint32_t rnd)
{
	struct backoff	b = outbox_retry(pol);

	return backoff_delay(&b, failures, -1, rnd);
}

/* The delay before retry `failures`: at least what the service asked. */
static int64_t
outbox_delay(const struct outbox *ob, int failures, long retry_after)
{
	return backoff_delay(&ob->retry, failures, retry_after,
	    backoff_random());
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
		delay = outbox_delay(ob, r->attempts + 1, retry_after);
		log_warn("outbox", "%s #%lld for %.80s failed (attempt %d), retry in"
		    " %lld s: %s", r->kind, (long long)r->id, ref,
		    r->attempts + 1, (long long)delay, why->msg);
		if (store_outbox_retry(ob->store, r->id, now + delay, why->msg,
		    &e) == -1)
			log_err("outbox", "%s", e.msg);
	}
	/* The service is in trouble: let it breathe before anything else. */
	backoff_hold_until(&ob->hold, now + outbox_delay(ob, ++ob->failures,
	    retry_after));
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
	int64_t			 now = (int64_t)time(NULL), next, held;
	int			 i, n, failed = 0;

	if ((held = backoff_hold_left(&ob->hold, now)) > 0)
		return now + held;
	n = store_outbox_due(ob->store, ob->startup ? INT64_MAX : now, rows,
	    OUTBOX_BATCH, &e);
	if (n == -1) {
		log_err("outbox", "%s", e.msg);
		return now + ob->pol.retry_min;
	}
	for (i = 0; i < n && !failed && !worker_stopping(&ob->worker); i++)
		failed = outbox_deliver(ob, &rows[i]) == -1;
	for (i = 0; i < n; i++)
		outbox_row_clear(&rows[i]);
	if (failed)
		ob->startup = 0;
	held = backoff_hold_left(&ob->hold, now);
	if (failed || held > 0)
		return now + held;
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
	int64_t	left, ms;

	/* Even with `until` past, the sleep takes a pending wake-up. */
	do {
		left = until - (int64_t)time(NULL);
		ms = left <= 0 ? 0 : 1000 * (left < OUTBOX_POLL_MAX ? left :
		    OUTBOX_POLL_MAX);
		/* Woken, stopping, or time to look at the store again. */
		if (worker_sleep(&ob->worker, ms) != WORKER_DEADLINE ||
		    left > OUTBOX_POLL_MAX)
			break;
	} while (left > 0);
	return worker_stopping(&ob->worker);
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

	if ((ob = calloc(1, sizeof(*ob))) == NULL) {
		err_set(e, ERR_NOMEM, "outbox: out of memory");
		return NULL;
	}
	ob->store = st;
	ob->pol = *pol;
	ob->retry = outbox_retry(pol);
	ob->send = send;
	ob->arg = arg;
	ob->startup = 1;
	worker_init(&ob->worker);
	if (worker_start(&ob->worker, outbox_main, ob) == -1) {
		err_set(e, ERR_INTERNAL, "outbox: cannot start the sender: %s",
		    strerror(errno));
		worker_destroy(&ob->worker);
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
	worker_wake(&ob->worker);
}

void
outbox_stop(struct outbox *ob)
{
	if (ob == NULL)
		return;
	worker_stop(&ob->worker);
	worker_destroy(&ob->worker);
	free(ob);
}
