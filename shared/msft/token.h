/*
 * token.h - Entra ID access tokens by the OAuth 2.0 client
 * credentials grant (RFC 6749 §4.4), with a client secret or a
 * certificate assertion (RFC 7523), cached per scope.
 *
 * Thread-safety: an entra_token_client may be used from any number of
 * threads at once.  One token per scope is cached until shortly before it
 * expires; when it must be refreshed, one thread asks Entra while the
 * others wait (bounded by their own deadlines) and share its answer.
 * While a still-valid token is being refreshed early, the others keep
 * using it without waiting.
 */
#ifndef BUNDLE_ENTRA_TOKEN_H
#define BUNDLE_ENTRA_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "msft/conf.h"
#include "msft/http.h"

/* Scopes cached at once (Graph and Intune need two). */
#define ENTRA_TOKEN_SCOPES_MAX	4
/* Refresh this long before expiry at most (else 10% of the lifetime). */
#define ENTRA_TOKEN_MARGIN_MS	(300 * 1000)

struct entra_token_client;

/*
 * Makes a token client for the validated conf, loading the certificate
 * and key when the conf has them.  conf and http are borrowed: they must
 * outlive the client.  Returns NULL with e filled on failure.
 */
struct entra_token_client *entra_token_client_new(const struct entra_conf *conf,
			    struct http_client *http, struct err *e);

/* Wipes the cached tokens and frees the client.  Accepts NULL. */
void			 entra_token_client_free(struct entra_token_client *tc);

/*
 * Puts an access token for scope into token (the caller wipes it with
 * buf_wipe()), from the cache or from Entra.  expires_in, when not NULL,
 * receives the seconds the token has left.  deadline_ms (http_now_ms()
 * clock) bounds both a refresh and a wait for another thread's refresh.
 * Returns 0, or -1 with e filled: ERR_AUTH when Entra refused the
 * credentials (its error and error_description are in the message and
 * the log), ERR_TIMEOUT, ERR_REMOTE, ERR_PARSE.
 */
int			 entra_token_get(struct entra_token_client *tc,
			    const char *scope, int64_t deadline_ms,
			    struct buf *token, long *expires_in, struct err *e);

/*
 * Drops the cached token of scope if it is still `token` (the one a
 * resource server refused with 401), so the next call gets a new one.
 * Another thread's fresher token is kept.
 */
void			 entra_token_invalidate(struct entra_token_client *tc,
			    const char *scope, const char *token);

/*
 * Performs req with a bearer token for scope through the client's
 * http_client.  On 401 it invalidates the token, gets a new one and
 * retries once (reference/microsoft-apis.md §4).  Returns as
 * http_client_do(); a second 401 comes back as status 401 with 0.
 */
int			 entra_token_http_do(struct entra_token_client *tc,
			    const char *scope, const struct http_request *req,
			    struct http_response *resp, struct err *e);

/*
 * Parses a token endpoint success answer {"token_type","expires_in",
 * "access_token"}: the token into token, its lifetime into expires_in.
 * Refuses a token that is not a visible-ASCII header value.  Returns 0,
 * or -1 with ERR_PARSE.  No network; exposed for tests.
 */
int			 entra_token_json_parse(const char *json, size_t len,
			    struct buf *token, long *expires_in, struct err *e);

/*
 * Describes a token endpoint error answer {"error","error_description",
 * "error_codes"} as one line in out (never more than outlen bytes).
 * Anything unparseable gives "unparseable error answer".  No network.
 */
void			 entra_token_json_error(const char *json, size_t len,
			    char *out, size_t outlen);

#endif
