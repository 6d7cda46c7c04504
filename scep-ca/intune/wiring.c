/*
 * wiring.c - the daemon's Microsoft cloud clients (made by
 * shared/msft/clients.c, held in the four members of struct scep_ctx) and
 * the outbox sender that delivers Intune notifications, made at start
 * when [entra] is configured.
 */
#include <stdlib.h>

#include "base/log.h"
#include "intune/intune_ca.h"
#include "intune/outbox.h"
#include "msft/clients.h"
#include "msft/conf.h"
#include "sync/sync.h"

int
cloud_start(struct scep_ctx *ctx, struct err *e)
{
	const struct scep_conf	*conf = ctx->conf;
	struct outbox_policy	 pol;

	if (conf->entra == NULL)
		return 0;
	if (msft_clients_new(&ctx->msft, conf->entra, MSFT_CLIENTS_INTUNE,
	    e) == -1)
		return -1;
	pol = (struct outbox_policy){ conf->notify_retry_min,
	    conf->notify_retry_max, conf->notify_max_age,
	    conf->notify_max_attempts };
	if ((ctx->outbox = outbox_start(ctx->store, &pol, intune_outbox_send,
	    ctx->msft.intune, e)) == NULL)
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

	if (ctx->msft.graph == NULL)
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
	ctx->outbox = NULL;
	msft_clients_free(&ctx->msft);
}
