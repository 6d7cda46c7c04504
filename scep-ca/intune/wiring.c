/*
 * wiring.c - the daemon's Microsoft cloud clients (shared/msft/http.h,
 * msft/token.h, msft/graph.h, msft/intune.h) and the outbox sender that delivers
 * Intune notifications, made at start when [entra] is configured.
 */
#include <stdlib.h>

#include "base/log.h"
#include "intune/intune_ca.h"
#include "intune/outbox.h"
#include "msft/conf.h"
#include "msft/graph.h"
#include "msft/http.h"
#include "msft/intune.h"
#include "msft/token.h"
#include "sync/sync.h"

int
cloud_start(struct scep_ctx *ctx, struct err *e)
{
	const struct scep_conf	*conf = ctx->conf;
	struct http_client_opts	 ho = {0};
	struct outbox_policy	 pol;

	if (conf->entra == NULL)
		return 0;
	ho.ca_bundle = conf->entra->ca_bundle;
	ho.user_agent = conf->entra->caller_info;
	ho.max_retries = conf->entra->max_retries;
	if ((ctx->http = http_client_new(&ho, e)) == NULL ||
	    (ctx->tokens = entra_token_client_new(conf->entra, ctx->http,
	    e)) == NULL ||
	    (ctx->graph = graph_client_new(conf->entra, ctx->tokens,
	    e)) == NULL ||
	    (ctx->intune = intune_client_new(conf->entra, ctx->tokens,
	    ctx->graph, e)) == NULL)
		goto fail;
	pol = (struct outbox_policy){ conf->notify_retry_min,
	    conf->notify_retry_max, conf->notify_max_age,
	    conf->notify_max_attempts };
	if ((ctx->outbox = outbox_start(ctx->store, &pol, intune_outbox_send,
	    ctx->intune, e)) == NULL)
		goto fail;
	log_info("intune", "Microsoft cloud %s, tenant %s, Graph %s;"
	    " notifications retried from %d s to %d s, for %d s at most",
	    entra_cloud_name(conf->entra->cloud), conf->entra->tenant,
	    conf->entra->graph_base, pol.retry_min, pol.retry_max, pol.max_age);
	return 0;
fail:
	cloud_stop(ctx);
	return -1;
}

int
cloud_start_sync(struct scep_ctx *ctx, struct err *e)
{
	const struct scep_conf	*conf = ctx->conf;
	struct sync_opts	 o = {0};
	int			 i;

	if (ctx->graph == NULL)
		return 0;
	if (conf->entra_revoke_mask != 0) {
		o.entra_interval = conf->entra_sync_interval;
		o.policy = conf->entra_revoke_mask;
	}
	/* Intune asks to revoke only what it was told of: Intune mode. */
	for (i = 0; i < conf->nprofiles; i++)
		if (conf->profiles[i].challenge == CHALLENGE_INTUNE)
			o.intune_interval = conf->revocation_poll_interval;
	if (o.entra_interval == 0 && o.intune_interval == 0)
		return 0;
	if ((ctx->sync = sync_start(ctx, &o, e)) == NULL)
		return -1;
	if (o.entra_interval > 0)
		log_info("sync", "Entra devices and users followed every %d s"
		    " (revoke_on = %s)", o.entra_interval,
		    conf->entra_revoke_on);
	if (o.intune_interval > 0)
		log_info("sync", "Intune revocation requests polled every %d s",
		    o.intune_interval);
	return 0;
}

void
cloud_stop_sync(struct scep_ctx *ctx)
{
	sync_stop(ctx->sync);
	ctx->sync = NULL;
}

void
cloud_stop(struct scep_ctx *ctx)
{
	/* The sync jobs and the sender first: they use the clients. */
	cloud_stop_sync(ctx);
	outbox_stop(ctx->outbox);
	intune_client_free(ctx->intune);
	graph_client_free(ctx->graph);
	entra_token_client_free(ctx->tokens);
	http_client_free(ctx->http);
	ctx->outbox = NULL;
	ctx->intune = NULL;
	ctx->graph = NULL;
	ctx->tokens = NULL;
	ctx->http = NULL;
}
