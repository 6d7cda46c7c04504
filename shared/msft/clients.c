/*
 * clients.c - the one builder of the Microsoft client chain
 * (http -> tokens -> graph -> intune), for scep-ca and rlm_entra_match.
 */
#include <stddef.h>

#include "msft/clients.h"

int
msft_clients_new(struct msft_clients *mc, const struct entra_conf *conf,
    int flags, struct err *e)
{
	struct http_client_opts	ho = {0};

	mc->http = NULL;
	mc->tokens = NULL;
	mc->graph = NULL;
	mc->intune = NULL;
	ho.ca_bundle = conf->ca_bundle;
	ho.user_agent = conf->caller_info;
	ho.max_retries = conf->max_retries;
	if ((mc->http = http_client_new(&ho, e)) == NULL ||
	    (mc->tokens = entra_token_client_new(conf, mc->http, e)) == NULL ||
	    (mc->graph = graph_client_new(conf, mc->tokens, e)) == NULL)
		goto fail;
	if ((flags & MSFT_CLIENTS_INTUNE) != 0 &&
	    (mc->intune = intune_client_new(conf, mc->tokens, mc->graph,
	    e)) == NULL)
		goto fail;
	return 0;
fail:
	msft_clients_free(mc);
	return -1;
}

void
msft_clients_free(struct msft_clients *mc)
{
	if (mc == NULL)
		return;
	/* Each client borrows the ones made before it. */
	intune_client_free(mc->intune);
	graph_client_free(mc->graph);
	entra_token_client_free(mc->tokens);
	http_client_free(mc->http);
	mc->intune = NULL;
	mc->graph = NULL;
	mc->tokens = NULL;
	mc->http = NULL;
}
