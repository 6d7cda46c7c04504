/*
 * server.h - the daemon's context: what every request and background job
 * of `scep-ca serve` shares (built by cli/serve.c).
 */
#ifndef SCEPCA_SERVER_H
#define SCEPCA_SERVER_H

#include "config.h"

struct ca;
struct scep_codec;
struct store;
struct crl_service;
struct entra_token_client;
struct graph_client;
struct http_client;
struct intune_client;
struct outbox;
struct sync_service;

/*
 * What every request shares.  Read-only once the server runs; each
 * member is thread-safe (see its header), so worker threads share it.
 */
struct scep_ctx {
	const struct scep_conf	*conf;
	struct ca		*ca;
	struct store		*store;
	struct scep_codec	*codec;
	const char		*public_url;	/* resolved, no trailing '/' */
	struct crl_service	*crl;		/* GetCRL; NULL: not served */
	/* With [entra] configured (intune/wiring.c), else NULL. */
	struct http_client		*http;
	struct entra_token_client	*tokens;
	struct graph_client		*graph;
	struct intune_client		*intune;
	struct outbox			*outbox;	/* notifications */
	struct sync_service		*sync;		/* sync/sync.h; may be NULL */
};

#endif
