/*
 * server.h - the daemon's context: what every request and background job
 * of `scep-ca serve` shares (built by cli/serve.c).
 */
#ifndef SCEPCA_SERVER_H
#define SCEPCA_SERVER_H

#include "config.h"
#include "msft/clients.h"

struct ca;
struct scep_codec;
struct store;
struct crl_service;
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
	/* With [entra] configured (intune/wiring.c), else all NULL. */
	struct msft_clients		 msft;		/* http, tokens, graph, intune */
	struct outbox			*outbox;	/* notifications */
	struct sync_service		*sync;		/* sync/sync.h; may be NULL */
};

#endif
