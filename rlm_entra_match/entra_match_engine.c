/*
 * entra_match_engine.c - what one rlm_entra_match instance holds: the
 * store (read-only), the stored certificates' texts, the HTTP, token and
 * Graph clients, the status cache and its delta thread, assembled from a
 * validated entra_conf.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entra_match.h"
#include "msft/clients.h"

/*
 * Stored certificates whose texts are kept (about 300 bytes each): a
 * certificate decoded again costs about 100 us, once per login of a
 * device whose slot another device took since.
 */
#define ENGINE_TEXT_SLOTS	16384

/* Ownership: everything here is owned; freed in reverse order of making. */
struct entra_match_engine {
	struct store			*store;
	struct entra_match_text_cache	*texts;
	struct entra_conf		*conf;
	struct msft_clients		 clients;	/* no Intune */
	struct status_cache		*cache;
	struct entra_match_ctx		 ctx;
	int64_t				 timeout_ms;
};

void
entra_match_engine_free(struct entra_match_engine *eng)
{
	if (eng == NULL)
		return;
	status_cache_free(eng->cache);		/* joins the delta thread */
	msft_clients_free(&eng->clients);
	entra_conf_free(eng->conf);
	entra_match_text_cache_free(eng->texts);
	store_close(eng->store);
	free(eng);
}

/* Makes the Graph clients and the cache from eng->conf. */
static int
engine_cloud_new(struct entra_match_engine *eng,
    const struct entra_match_engine_opts *o, struct err *e)
{
	struct status_cache_opts	 co;
	struct status_source		 src;

	if (msft_clients_new(&eng->clients, eng->conf, 0, e) == -1)
		return -1;
	memset(&co, 0, sizeof(co));
	co.delta_interval_ms = o->delta_interval_ms;
	co.track_users = o->policy.check_user;
	co.initial_sync = STATUS_SYNC_FULL;
	status_source_graph(&src, eng->clients.graph);
	if ((eng->cache = status_cache_new(&co, &src, e)) == NULL)
		return -1;
	if (o->start_delta && status_cache_start(eng->cache, e) == -1)
		return -1;
	return 0;
}

struct entra_match_engine *
entra_match_engine_new(const struct entra_match_engine_opts *o,
    struct err *e)
{
	struct entra_match_engine	*eng;

	if ((eng = calloc(1, sizeof(*eng))) == NULL) {
		entra_conf_free(o->conf);
		err_set(e, ERR_NOMEM, "entra_match: out of memory");
		return NULL;
	}
	eng->conf = o->conf;
	eng->timeout_ms = o->timeout_ms;
	if (o->delta_interval_ms <= 0 || o->timeout_ms <= 0) {
		err_set(e, ERR_USAGE, "entra_match: bad timeout or interval");
		goto fail;
	}
	if ((eng->store = store_open(o->store_path, STORE_RDONLY, e)) == NULL ||
	    (eng->texts = entra_match_text_cache_new(ENGINE_TEXT_SLOTS,
	    e)) == NULL)
		goto fail;
	if (eng->conf != NULL && engine_cloud_new(eng, o, e) == -1)
		goto fail;
	eng->ctx.store = eng->store;
	eng->ctx.cache = eng->cache;
	eng->ctx.texts = eng->texts;
	eng->ctx.policy = o->policy;
	return eng;
fail:
	entra_match_engine_free(eng);
	return NULL;
}

enum entra_match_result
entra_match_engine_decide(struct entra_match_engine *eng,
    const struct entra_match_cert *cert, struct entra_match_verdict *v)
{
	return entra_match_decide(&eng->ctx, cert, (int64_t)time(NULL),
	    http_now_ms() + eng->timeout_ms, v);
}

struct status_cache *
entra_match_engine_cache(struct entra_match_engine *eng)
{
	return eng->cache;
}
