/*
 * httpd.h - scep-ca's HTTP server (libmicrohttpd, one event loop
 * per CPU fed by an acceptor thread).
 *
 * SCEP profiles are routed by path (config.h); other services (CRL,
 * OCSP...) register a route by path prefix.  A route's handler runs on a
 * worker thread and must be thread-safe.  Connections are bounded in
 * total (below the descriptor limit) and per client address; a query of
 * more than 32 arguments is answered 414, headers over 32 KiB 431.
 */
#ifndef SCEPCA_SCEP_HTTP_H
#define SCEPCA_SCEP_HTTP_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "base/err.h"
#include "server.h"

#define HTTP_MAX_ROUTES	8

/* Answers one request (GET or POST; body may be empty). */
typedef enum MHD_Result (*http_route_fn)(void *arg,
    struct MHD_Connection *conn, const char *url, const char *method,
    const unsigned char *body, size_t body_len);

struct http_route {
	const char	*prefix;	/* "/crl/", "/ocsp" */
	http_route_fn	 fn;
	void		*arg;
};

struct http_server;

/*
 * Binds conf->listen (before privileges are dropped: the port may be
 * below 1024), after raising the descriptor soft limit to the hard limit;
 * the connection limits come from conf and that limit.  Serves nothing
 * until http_start().  NULL with e set when the address cannot be used.
 */
struct http_server	*http_listen(const struct scep_conf *conf,
			    struct err *e);

/*
 * Starts serving on s with ctx->conf->threads event loops (0: one per
 * CPU).  routes (copied) add paths beside the SCEP profiles.  Returns 0,
 * or -1 with e set (then http_stop() s).
 */
int			 http_start(struct http_server *s,
			    struct scep_ctx *ctx, const struct http_route *routes,
			    int nroutes, struct err *e);

/*
 * Stops accepting, waits up to drain_seconds for requests in progress,
 * then stops and frees.  Accepts NULL.
 */
void			 http_stop(struct http_server *s, int drain_seconds);

/* Parses "HOST:PORT" / "[v6]:PORT" (numeric only). */
int			 http_parse_listen(const char *listen,
			    struct sockaddr_storage *ss, struct err *e);

/* Queues a response with a copy of the bytes and no-store caching. */
enum MHD_Result		 http_respond(struct MHD_Connection *conn,
			    unsigned status, const char *type,
			    const void *data, size_t len);

/* Queues a one-line text/plain error. */
enum MHD_Result		 http_error(struct MHD_Connection *conn,
			    unsigned status, const char *text);

#endif
