/*
 * http.h - the one outgoing HTTP layer (libcurl), used by every Microsoft
 * cloud client.
 *
 * One struct http_client serves a whole process.  It keeps a pool of curl
 * easy handles, so connections are reused, and shares the DNS and TLS
 * session caches between them.  Every call has a deadline that bounds the
 * whole call, retries included; 429/503 honour Retry-After; 5xx and
 * transport errors are retried with exponential backoff and jitter; TLS
 * verification is always on.  Each call carries a fresh client-request-id
 * that is logged with every retry and put in every error message.  Bearer
 * tokens and request bodies are never logged.
 *
 * Thread-safety: an http_client may be used from any number of threads at
 * once.  Create it at start-up, before threads exist (curl_global_init);
 * free it after they have stopped.
 */
#ifndef BUNDLE_HTTP_H
#define BUNDLE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/backoff.h"
#include "base/buf.h"
#include "base/err.h"

/* Responses larger than this are refused (ERR_TOO_LARGE). */
#define HTTP_RESPONSE_MAX	(4u * 1024 * 1024)

struct http_client;

/*
 * A Retry-After gate shared by the calls of one client: once a server
 * answered 429/503 with Retry-After, the calls through the same gate fail
 * at once with ERR_THROTTLED until that time has passed, instead of adding
 * to the load the server complained of.  Zero-initialise it.  Thread-safe:
 * the hold is only accessed atomically.
 */
struct http_gate {
	struct backoff_hold	 hold;	/* http_now_ms() clock */
};

struct http_client_opts {
	const char	*ca_bundle;	/* PEM file of trusted CAs; NULL: system */
	const char	*user_agent;	/* NULL: libcurl's default */
	int		 max_retries;	/* retries after the first attempt */
};

struct http_request {
	const char	*method;	/* "GET" or "POST" */
	const char	*url;		/* http:// or https:// only */
	const char	*subsys;	/* log prefix: "graph", "intune", "entra" */
	const char	*what;		/* what the call does, for messages */
	const char	*bearer;	/* access token, or NULL; never logged */
	const char	*content_type;	/* of body, or NULL */
	const void	*body;		/* POST body, or NULL; never logged */
	size_t		 body_len;
	const char	*const *headers; /* extra "Name: value", NULL-terminated */
	int64_t		 deadline_ms;	/* http_now_ms() clock; bounds retries */
	struct http_gate *gate;		/* Retry-After gate, or NULL */
};

struct http_response {
	long		 status;	/* last HTTP status; 0 if none came */
	struct buf	 body;		/* last response body */
	long		 retry_after;	/* seconds the server asked for; -1 none */
	int		 transport_error; /* the last attempt got no response */
	int		 attempts;	/* attempts made */
	char		 request_id[37]; /* client-request-id of the call */
};

/*
 * Creates a client.  opts is copied.  Returns NULL with e filled on
 * failure.
 */
struct http_client	*http_client_new(const struct http_client_opts *opts,
			    struct err *e);

/* Frees the client and its pooled connections.  Accepts NULL. */
void			 http_client_free(struct http_client *c);

/*
 * Performs req, retrying as the header says, until a final answer or the
 * deadline.  Returns 0 when an HTTP answer other than 429, 5xx arrived
 * (any 2xx, 3xx or 4xx: the caller reads resp->status and resp->body).
 * Returns -1 with e filled, and the error logged, when the call could not
 * be done: ERR_TIMEOUT (deadline passed), ERR_THROTTLED (429/503 after the
 * retries, or a Retry-After beyond the deadline: resp->retry_after says
 * how long to back off), ERR_REMOTE (5xx after the retries, transport or
 * TLS failure), ERR_TOO_LARGE, ERR_USAGE (bad URL).  With req->gate
 * closed, nothing is sent: ERR_THROTTLED at once.  resp must be
 * zero-initialised or reset; the caller frees it with http_response_free().
 */
int			 http_client_do(struct http_client *c,
			    const struct http_request *req,
			    struct http_response *resp, struct err *e);

/* Frees the body held by resp and resets it.  Accepts NULL. */
void			 http_response_free(struct http_response *resp);

/* Seconds until gate opens again (rounded up), 0 when open. */
long			 http_gate_retry_after(const struct http_gate *g);

/* Milliseconds of the monotonic clock, the clock of every deadline. */
int64_t			 http_now_ms(void);

/* Appends s percent-encoded: everything but RFC 3986 unreserved.  0/-1. */
int			 http_url_encode(struct buf *out, const char *s);

/*
 * Returns 1 when url has the same scheme, host and port as base (case
 * insensitive), so a bearer token may follow it; 0 otherwise.
 */
int			 http_url_same_origin(const char *url, const char *base);

#endif
