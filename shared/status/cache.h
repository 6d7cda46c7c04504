/*
 * cache.h - the Entra status cache: what Entra ID says of devices
 * (by Entra deviceId and by object id) and users (by object id and by
 * userPrincipalName, case-insensitive), and which Entra deviceId an Intune
 * managed device id stands for.
 *
 * Kept fresh by a background thread that follows Graph change tracking
 * (delta queries on devices, and on users when asked), so a login usually
 * finds a current answer in memory.  A miss, or an entry older than the
 * caller's max_age, makes a live lookup bounded by the caller's deadline;
 * concurrent lookups for one key share one call (single-flight).  "Not
 * found" (404) is cached too, as "deleted".
 *
 * The cache reports facts: a state and how old it is, or that Graph could
 * not be asked together with the last known state.  What to do with them
 * (fail open, fail closed) is the caller's decision (entra_match.h).
 *
 * Thread-safety: a status_cache may be used from any number of threads at
 * once.  Each table has a reader-writer lock: lookups of a warm entry take
 * it shared and allocate nothing; the delta thread and live lookups take
 * it exclusively for the few instructions of an update, never across a
 * network call.
 */
#ifndef BUNDLE_STATUS_CACHE_H
#define BUNDLE_STATUS_CACHE_H

#include <stdint.h>

#include "base/err.h"
#include "msft/graph.h"

/* Longest key (a UPN); longer ones are refused. */
#define STATUS_KEY_MAX		GRAPH_UPN_MAX

enum status_state {
	STATUS_UNKNOWN = 0,	/* never seen, or seen without accountEnabled */
	STATUS_ENABLED,
	STATUS_DISABLED,
	STATUS_DELETED,		/* 404, or "@removed" in delta */
};

/*
 * Where live lookups and change tracking come from: Graph in production
 * (status_source_graph), a small in-process directory in unit tests.
 * Every function may be called from several threads at once and must
 * return by deadline_ms (http_now_ms() clock).  They return as their
 * msft/graph.h counterparts: 0 with out->found set, or -1 with e filled.
 */
struct status_source {
	void	*arg;
	int	(*device_get)(void *arg, const char *device_id,
		    int64_t deadline_ms, struct graph_device *out,
		    struct err *e);
	int	(*managed_get)(void *arg, const char *id, int64_t deadline_ms,
		    struct graph_managed_device *out, struct err *e);
	int	(*user_get)(void *arg, const char *id_or_upn,
		    int64_t deadline_ms, struct graph_user *out,
		    struct err *e);
	/* As graph_delta_run(). */
	int	(*delta_run)(void *arg, enum graph_kind kind, const char *link,
		    int latest, graph_delta_fn fn, void *fn_arg,
		    char **delta_link, int *resync, struct err *e);
	/* Seconds the service asked us to hold back (Retry-After), or 0. */
	long	(*retry_after)(void *arg);
};

/* Fills src with the Graph client g (borrowed: it must outlive src's use). */
void	status_source_graph(struct status_source *src, struct graph_client *g);

/* How the delta thread starts a chain of rounds. */
enum status_initial_sync {
	STATUS_SYNC_FULL = 0,	/* read every device (and user) first */
	STATUS_SYNC_LATEST,	/* $deltaToken=latest: changes from now on */
};

struct status_cache_opts {
	int64_t			 delta_interval_ms;	/* between rounds */
	int			 track_users;	/* also follow users/delta */
	enum status_initial_sync initial_sync;
	/*
	 * After a live lookup found Graph unreachable, later lookups that
	 * would need Graph fail at once for this long (0: 2000 ms), so that
	 * during an outage logins do not each wait for a timeout; any
	 * successful call (delta round or lookup) lifts it.
	 */
	int64_t			 breaker_ms;
	/* Clock of every age (ms); NULL: http_now_ms().  For unit tests. */
	int64_t			(*clock)(void *arg);
	void			*clock_arg;
};

/* One lookup's bounds. */
struct status_query {
	int64_t	deadline_ms;	/* http_now_ms() clock: last moment to wait */
	int64_t	max_age_ms;	/* an answer at most this old is used as is */
	int	force_live;	/* ask Graph even for a fresh entry (strict) */
};

/* What a lookup found. */
struct status_answer {
	enum status_state state;	/* last known when graph_failed */
	int64_t		 age_ms;	/* how old state is; 0 for a live answer */
	int		 live;		/* this lookup (or its flight) asked Graph */
	int		 graph_failed;	/* Graph was needed and could not answer */
	char		 device_id[GRAPH_ID_MAX]; /* the Entra deviceId resolved */
	struct err	 err;		/* why, when graph_failed */
};

/* Counters for logs and tests (read without locks: approximate). */
struct status_cache_stats {
	uint64_t	hits;		/* answered from memory */
	uint64_t	live_calls;	/* Graph lookups made */
	uint64_t	coalesced;	/* lookups that joined another's flight */
	uint64_t	delta_rounds;	/* successful delta rounds */
	uint64_t	delta_failures;
	uint64_t	resyncs;	/* chains restarted after a refused link */
	size_t		devices, users, managed;	/* entries held */
};

struct status_cache;

/*
 * Makes an empty cache over src (copied; src->arg is borrowed and must
 * outlive the cache).  Does not start the delta thread.  Returns NULL
 * with e filled on failure.
 */
struct status_cache	*status_cache_new(const struct status_cache_opts *opts,
			    const struct status_source *src, struct err *e);

/*
 * Stops the delta thread if it runs (waiting for a round in progress,
 * which is bounded by the source's timeouts) and frees the cache.
 * Accepts NULL.
 */
void			 status_cache_free(struct status_cache *c);

/* Starts the delta thread.  Returns 0, or -1 with e filled. */
int			 status_cache_start(struct status_cache *c,
			    struct err *e);

/* Stops the delta thread (joins it).  Idempotent. */
void			 status_cache_stop(struct status_cache *c);

/*
 * Runs one delta round for each tracked kind, in the calling thread (what
 * the delta thread does every interval).  Returns 0 when every round
 * succeeded, -1 otherwise (e holds the last error).  For tests and tools.
 */
int			 status_cache_sync_once(struct status_cache *c,
			    struct err *e);

/*
 * Status of the device with Entra deviceId device_id.  Always returns 0:
 * the answer (a) says whether Graph failed.
 */
int			 status_cache_device(struct status_cache *c,
			    const char *device_id, const struct status_query *q,
			    struct status_answer *a);

/*
 * Status of the device an IntuneDeviceId:// value names: an Entra
 * deviceId, or an Intune managed device id resolved to its Entra deviceId
 * through managedDevices/{id}.azureADDeviceId (reference/microsoft-apis.md
 * §3: deviceId is tried first).  a->device_id is the deviceId used.  A
 * managed id that is not known to Intune, or that has no Entra device, is
 * STATUS_DELETED.  The mapping of a managed id never changes, so a found
 * one is kept; a 404 is asked again after max_age.
 */
int			 status_cache_device_any(struct status_cache *c,
			    const char *id, const struct status_query *q,
			    struct status_answer *a);

/* Status of a user by userPrincipalName (any case) or object id. */
int			 status_cache_user(struct status_cache *c,
			    const char *upn_or_id, const struct status_query *q,
			    struct status_answer *a);

/* Fills st with the cache's counters. */
void			 status_cache_stats(struct status_cache *c,
			    struct status_cache_stats *st);

/* "enabled", "disabled", "deleted", "unknown". */
const char		*status_state_name(enum status_state s);

#endif
