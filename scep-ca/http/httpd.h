/*
 * httpd.h - scep-ca's HTTP server (libmicrohttpd, one event loop
 * per CPU fed by an acceptor thread).
 *
 * Every URL it answers is a row of one route table in httpd.c: the SCEP
 * profiles' paths (config.h) and any path ending in pkiclient.exe, the
 * CRL (crl_http), OCSP (ocsp_http), /healthz and /ca.crt.  A handler runs
 * on an event-loop thread and must be thread-safe.  Connections are
 * bounded in total (below the descriptor limit) and per client address;
 * a query of more than 32 arguments is answered 414, headers over 32 KiB
 * 431.
 */
#ifndef SCEPCA_SCEP_HTTP_H
#define SCEPCA_SCEP_HTTP_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "base/err.h"
#include "server.h"

struct http_server;
struct ocsp_responder;

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
 * CPU).  The CRL is ctx->crl's, OCSP answers come from ocsp; either may be
 * NULL (its paths are then 404).  Both, like ctx, must outlive s.
 * Returns 0, or -1 with e set (then http_stop() s).
 */
int			 http_start(struct http_server *s,
			    struct scep_ctx *ctx, struct ocsp_responder *ocsp,
			    struct err *e);

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
