/*
 * source.c - the status cache's source backed by Microsoft Graph
 * (msft/graph.h): live lookups bounded by the caller's deadline, delta rounds,
 * and Graph's Retry-After gate.
 */
#include <string.h>

#include "status/cache.h"

static int
src_device_get(void *arg, const char *device_id, int64_t deadline_ms,
    struct graph_device *out, struct err *e)
{
	return graph_device_get_by(arg, device_id, deadline_ms, out, e);
}

static int
src_managed_get(void *arg, const char *id, int64_t deadline_ms,
    struct graph_managed_device *out, struct err *e)
{
	return graph_managed_device_get_by(arg, id, deadline_ms, out, e);
}

static int
src_user_get(void *arg, const char *id_or_upn, int64_t deadline_ms,
    struct graph_user *out, struct err *e)
{
	return graph_user_get_by(arg, id_or_upn, deadline_ms, out, e);
}

static int
src_delta_run(void *arg, enum graph_kind kind, const char *link, int latest,
    graph_delta_fn fn, void *fn_arg, char **delta_link, int *resync,
    struct err *e)
{
	return graph_delta_run(arg, kind, link, latest, fn, fn_arg, delta_link,
	    resync, e);
}

static long
src_retry_after(void *arg)
{
	return graph_client_retry_after(arg);
}

void
status_source_graph(struct status_source *src, struct graph_client *g)
{
	memset(src, 0, sizeof(*src));
	src->arg = g;
	src->device_get = src_device_get;
	src->managed_get = src_managed_get;
	src->user_get = src_user_get;
	src->delta_run = src_delta_run;
	src->retry_after = src_retry_after;
}
