/*
 * clients.h - the Microsoft client chain, made in one place for the
 * daemon and the module: one HTTP layer, the token client over it, the
 * Graph client over the tokens and, when asked, the Intune client over
 * both.
 *
 * Thread-safety: msft_clients_new() and msft_clients_free() run before
 * and after the threads that use the clients (curl_global_init, see
 * http.h); each client is thread-safe once made (see its header).
 */
#ifndef BUNDLE_MSFT_CLIENTS_H
#define BUNDLE_MSFT_CLIENTS_H

#include "base/err.h"
#include "msft/conf.h"
#include "msft/graph.h"
#include "msft/http.h"
#include "msft/intune.h"
#include "msft/token.h"

/* Flags of msft_clients_new(). */
#define MSFT_CLIENTS_INTUNE	0x1	/* make the Intune client too */

/*
 * Ownership: every client is owned by the struct and borrows the conf
 * it was made from, which must outlive it.  Each one borrows the ones
 * above it, so they are freed from the bottom up (msft_clients_free).
 */
struct msft_clients {
	struct http_client		*http;
	struct entra_token_client	*tokens;
	struct graph_client		*graph;
	struct intune_client		*intune;	/* NULL: not asked */
};

/*
 * Makes the chain into mc from the validated conf: the HTTP client (the
 * conf's ca_bundle, caller_info as User-Agent, max_retries), the token
 * client and the Graph client; with MSFT_CLIENTS_INTUNE in flags, the
 * Intune client too (the conf must then have an intune_scope).  Returns
 * 0; or -1 with e filled and every member of mc NULL.
 */
int	msft_clients_new(struct msft_clients *mc,
	    const struct entra_conf *conf, int flags, struct err *e);

/* Frees mc's clients bottom up and sets them NULL.  Accepts NULL. */
void	msft_clients_free(struct msft_clients *mc);

#endif
