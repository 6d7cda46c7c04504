/*
 * cache_int.h - internals shared by cache.c (tables,
 * lookups, single-flight) and delta.c (the delta thread).
 */
#ifndef BUNDLE_STATUS_CACHE_INT_H
#define BUNDLE_STATUS_CACHE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "base/backoff.h"
#include "base/worker.h"
#include "status/cache.h"

/*
 * One device, user, or Intune mapping.  Entries are never removed while
 * the cache lives (a deleted object stays as a negative entry); strings
 * are owned.  Every field is guarded by its table's lock.
 */
struct sc_entry {
	struct sc_entry		*next_all;	/* every entry of the table */
	struct sc_entry		*next_id;	/* chain in by_id */
	struct sc_entry		*next_key;	/* chain in by_key */
	char			*id;		/* object id; NULL: unknown */
	char			*key;		/* deviceId / UPN; NULL: none */
	char			*target;	/* managed: azureADDeviceId */
	uint32_t		 hid, hkey;
	enum status_state	 state;
	int64_t			 seen_ms;	/* when this state was true */
};

/*
 * A table with two chained hash indexes over the same entries: by object
 * id and by key (deviceId for devices, lower-case UPN for users; the
 * managed table uses only by_id).  lock guards everything but the two
 * sync times, which are atomics written by the delta thread.
 */
struct sc_table {
	pthread_rwlock_t	 lock;
	struct sc_entry		**by_id;
	struct sc_entry		**by_key;
	struct sc_entry		*all;
	size_t			 nbuckets;	/* a power of two */
	size_t			 count;
	int64_t			 chain_ms;	/* first round of the delta chain; 0: none */
	int64_t			 synced_ms;	/* start of the last good round */
};

/* An update of one entry (keys already normalised). */
struct sc_update {
	const char		*id;		/* NULL: not given */
	const char		*key;
	const char		*target;
	int			 state;		/* enum status_state, or -1: unchanged */
	int64_t			 seen_ms;
	int			 need_key;	/* do not create an entry without key */
};

/* Delta state of one kind, owned by whoever holds sync_lock. */
struct sc_sync {
	enum graph_kind		 kind;
	struct sc_table		*table;
	char			*link;		/* deltaLink of the chain; NULL: none */
	int			 failures;	/* rounds failed in a row */
};

struct sc_flight;

/*
 * The cache.  opts and src are read-only after status_cache_new();
 * tables lock themselves; flights are guarded by flight_lock; the sync
 * states by sync_lock; the worker (the delta thread) and the breaker
 * are thread-safe themselves; counters are atomics.
 */
struct status_cache {
	struct status_cache_opts opts;
	struct status_source	 src;
	struct sc_table		 devices, users, managed;

	pthread_mutex_t		 flight_lock;
	struct sc_flight	*flights;

	pthread_mutex_t		 sync_lock;
	struct sc_sync		 sync[2];	/* devices, users */

	struct worker		 worker;	/* the delta thread */

	struct backoff_hold	 breaker;	/* sc_now() clock */
	uint64_t		 n_hits, n_live, n_coalesced;
	uint64_t		 n_rounds, n_round_failures, n_resyncs;
};

/* What a read of one entry found (copied out under the read lock). */
struct sc_view {
	int			 found;
	int			 has_id;
	enum status_state	 state;
	int64_t			 seen_ms;	/* effective (cache.c, "Freshness") */
	char			 target[GRAPH_ID_MAX];
};

/* Now on the cache's clock. */
int64_t	sc_now(const struct status_cache *c);

/* Lower-cases s into out (STATUS_KEY_MAX).  Returns 0, or -1 if too long. */
int	sc_norm(const char *s, char *out);

/* Makes an empty table.  Returns 0, or -1 out of memory. */
int	sc_table_init(struct sc_table *t);

/* Frees every entry and the table's indexes.  Safe on a zeroed table. */
void	sc_table_destroy(struct sc_table *t);

/* Applies u to t (takes the write lock).  Returns 0, or -1 out of memory. */
int	sc_table_update(struct sc_table *t, const struct sc_update *u);

/*
 * Reads the entry whose key (by_key) or object id is norm into v, under
 * the read lock; allocates nothing.
 */
void	sc_table_read(struct sc_table *t, int by_key, const char *norm,
	    struct sc_view *v);

/* Entries held. */
size_t	sc_table_count(struct sc_table *t);

/* Lifts the breaker: Graph answered. */
void	sc_breaker_clear(struct status_cache *c);

/* Joins the delta thread's sync states (delta.c). */
void	sc_sync_free(struct status_cache *c);

#endif
