/*
 * server.c - the libmicrohttpd glue: one request object per HTTP request,
 * body accumulation, injected faults (latency, error answers, dropped
 * connections), the request log tests read back, one log line per request.
 *
 * Threading: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so
 * an injected latency sleeps in its own connection's thread and never
 * stalls the others; the state is shared under its mutex (state.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "base/encode.h"
#include "base/log.h"
#include "fake.h"
#include "state.h"

/* One HTTP request in flight; owned by libmicrohttpd's con_cls slot. */
struct fe_conn_req {
	struct fe_req		req;
	int			started;
	int			too_large;
	enum fe_area		area;
	int			has_fault;
	struct fe_fault_hit	fault;
	struct timespec		t0;
};

static void
fe_conn_req_free(struct fe_conn_req *cr)
{
	struct fe_req	*r;

	if (cr == NULL)
		return;
	r = &cr->req;
	free(r->raw_uri);
	free(r->raw_path);
	free(r->path);
	free(r->decoded_uri);
	fe_params_free(r->params, r->nparams);
	buf_free(&r->body);
	free(r->authorization);
	free(r->api_version);
	free(r->client_request_id);
	free(r->content_type);
	free(cr);
}

/* Called by libmicrohttpd with the raw request-target, before parsing. */
static void *
fe_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct fe_conn_req	*cr;

	(void)cls;
	(void)conn;
	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		return NULL;
	if ((cr->req.raw_uri = strdup(uri)) == NULL) {
		free(cr);
		return NULL;
	}
	return cr;
}

static void
fe_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	fe_conn_req_free(*con_cls);
	*con_cls = NULL;
}

/* Copies header name of conn, or leaves NULL.  Returns 0 or -1. */
static int
fe_header_dup(struct MHD_Connection *conn, const char *name, char **out)
{
	const char	*v;

	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	if (v == NULL)
		return 0;
	return (*out = strdup(v)) == NULL ? -1 : 0;
}

/* Splits raw_uri into path and query and decodes both.  Returns 0/-1. */
static int
fe_req_parse_uri(struct fe_req *r)
{
	const char	*q = strchr(r->raw_uri, '?');
	size_t		 plen = q != NULL ? (size_t)(q - r->raw_uri) :
			    strlen(r->raw_uri);

	if ((r->raw_path = strndup(r->raw_uri, plen)) == NULL)
		return -1;
	/* One decoding only: "%27" becomes "'", "+" stays "+" in a path. */
	if ((r->path = fe_pct_decode(r->raw_path, plen, 0)) == NULL)
		return -1;
	if ((r->decoded_uri = fe_pct_decode(r->raw_uri, strlen(r->raw_uri),
	    0)) == NULL)
		return -1;
	if (q != NULL && fe_params_parse(q + 1, strlen(q + 1), &r->params,
	    &r->nparams) == -1)
		return -1;
	return 0;
}

/* First call for a request: headers are in, the body is not. */
static int
fe_begin(struct fe_ctx *ctx, struct MHD_Connection *conn,
    struct fe_conn_req *cr, const char *method)
{
	struct fe_req	*r = &cr->req;

	clock_gettime(CLOCK_MONOTONIC, &cr->t0);
	snprintf(r->method, sizeof(r->method), "%s", method);
	if (fe_req_parse_uri(r) == -1 || uuid_v4(r->request_id) == -1)
		return -1;
	if (fe_header_dup(conn, "Authorization", &r->authorization) == -1 ||
	    fe_header_dup(conn, "api-version", &r->api_version) == -1 ||
	    fe_header_dup(conn, "client-request-id",
	    &r->client_request_id) == -1 ||
	    fe_header_dup(conn, "Content-Type", &r->content_type) == -1)
		return -1;
	cr->area = fe_route_area(r->path);
	/* Faults hit every Microsoft path, never the admin API. */
	if (cr->area != FE_AREA_ADMIN)
		cr->has_fault = fe_fault_take(ctx, r->path, &cr->fault);
	cr->started = 1;
	return 0;
}

/* Sleeps ms milliseconds, cut short when the server stops. */
static void
fe_sleep_ms(struct fe_ctx *ctx, int ms)
{
	struct timespec	slice = { 0, 10 * 1000 * 1000 };

	for (; ms > 0 && !atomic_load(&ctx->stopping); ms -= 10)
		nanosleep(&slice, NULL);
}

static long
fe_elapsed_ms(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Logs one line and, for Microsoft paths, records the call for tests;
 * status -1 is a connection dropped by a fault.
 */
static void
fe_account(struct fe_ctx *ctx, const struct fe_conn_req *cr, int status)
{
	const struct fe_req	*r = &cr->req;
	char			 now[21];
	json_t			*rec;

	if (status == -1)
		log_info(FE_LOG, "%s %s -> connection dropped by fault (%ld ms)",
		    r->method, r->raw_uri, fe_elapsed_ms(&cr->t0));
	else
		log_info(FE_LOG, "%s %s -> %d (%ld ms)", r->method, r->raw_uri,
		    status, fe_elapsed_ms(&cr->t0));
	if (cr->area == FE_AREA_ADMIN)
		return;
	time_iso8601(time(NULL), now);
	rec = json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s?, s:s, s:b}",
	    "method", r->method, "path", r->raw_uri, "decoded",
	    r->decoded_uri, "status", status, "client_request_id",
	    r->client_request_id, "api_version", r->api_version, "time", now,
	    "fault", cr->has_fault);
	fe_state_lock(ctx->st);
	fe_state_record(ctx->st->requests, rec);
	fe_state_unlock(ctx->st);
}

/* Hands resp to libmicrohttpd.  Returns an MHD result. */
static enum MHD_Result
fe_send(struct MHD_Connection *conn, struct fe_resp *resp)
{
	struct MHD_Response	*mr;
	enum MHD_Result		 ret;
	size_t			 i;

	mr = MHD_create_response_from_buffer(resp->body.len,
	    resp->body.data != NULL ? resp->body.data : (void *)"",
	    MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	if (resp->content_type != NULL)
		MHD_add_response_header(mr, "Content-Type", resp->content_type);
	for (i = 0; i < resp->nhdr; i++)
		MHD_add_response_header(mr, resp->hdr_name[i],
		    resp->hdr_value[i]);
	ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static void
fe_resp_clear(struct fe_resp *resp)
{
	size_t	i;

	buf_free(&resp->body);
	for (i = 0; i < resp->nhdr; i++) {
		free(resp->hdr_name[i]);
		free(resp->hdr_value[i]);
	}
}

/* Last call for a request: the body is in; answer it. */
static enum MHD_Result
fe_finish(struct fe_ctx *ctx, struct MHD_Connection *conn,
    struct fe_conn_req *cr)
{
	struct fe_resp	 resp = {0};
	enum MHD_Result	 ret;

	if (cr->has_fault && cr->fault.latency_ms > 0)
		fe_sleep_ms(ctx, cr->fault.latency_ms);
	if (cr->has_fault && cr->fault.status == -1) {
		/* A dropped connection: no status line at all. */
		fe_account(ctx, cr, -1);
		return MHD_NO;
	}
	if (cr->too_large)
		fe_admin_error(&resp, 413, "request body over %d bytes",
		    FE_MAX_BODY);
	else if (cr->has_fault && cr->fault.status > 0) {
		fe_fault_respond(ctx, &cr->req, &resp, cr->area, &cr->fault);
		fe_route_headers(&cr->req, &resp, cr->area);
	} else
		fe_route(ctx, &cr->req, &resp);
	if (resp.status == 0)
		resp.status = 500;
	ret = fe_send(conn, &resp);
	fe_account(ctx, cr, resp.status);
	fe_resp_clear(&resp);
	return ret;
}

static enum MHD_Result
fe_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct fe_ctx		*ctx = cls;
	struct fe_conn_req	*cr = *con_cls;

	(void)version;
	if (cr == NULL) {
		/* The URI callback ran out of memory; try once more. */
		if ((cr = fe_uri_log(NULL, url, conn)) == NULL)
			return MHD_NO;
		*con_cls = cr;
	}
	if (!cr->started)
		return fe_begin(ctx, conn, cr, method) == 0 ? MHD_YES : MHD_NO;
	if (*upload_data_size > 0) {
		if (cr->req.body.len + *upload_data_size > FE_MAX_BODY)
			cr->too_large = 1;
		else if (buf_append(&cr->req.body, upload_data,
		    *upload_data_size) == -1)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return fe_finish(ctx, conn, cr);
}

static void __attribute__((format(printf, 2, 0)))
fe_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	line[512];
	size_t	n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn(FE_LOG, "httpd: %s", line);
}

/* Fills ss with cfg's address.  Returns its length, or 0 if malformed. */
static socklen_t
fe_sockaddr(const struct fe_config *cfg, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (cfg->ipv6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->port);
		if (inet_pton(AF_INET6, cfg->host, &in6->sin6_addr) != 1)
			return 0;
		return sizeof(*in6);
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons(cfg->port);
	if (inet_pton(AF_INET, cfg->host, &in4->sin_addr) != 1)
		return 0;
	return sizeof(*in4);
}

void *
fe_server_start(struct fe_ctx *ctx, const char *tls_cert_pem,
    const char *tls_key_pem)
{
	struct sockaddr_storage	 ss;
	struct MHD_Daemon	*d;
	unsigned int		 flags;
	int			 tls = tls_cert_pem != NULL;

	if (fe_sockaddr(ctx->cfg, &ss) == 0) {
		log_err(FE_LOG, "bad listen address %s", ctx->cfg->listen);
		return NULL;
	}
	flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	if (ctx->cfg->ipv6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	/*
	 * libmicrohttpd stops reading options at the first MHD_OPTION_END,
	 * so without TLS the two certificate options are never looked at.
	 */
	d = MHD_start_daemon(flags, ctx->cfg->port, NULL, NULL, fe_access, ctx,
	    MHD_OPTION_EXTERNAL_LOGGER, fe_mhd_log, NULL,	/* first */
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_URI_LOG_CALLBACK, fe_uri_log, ctx,
	    MHD_OPTION_NOTIFY_COMPLETED, fe_completed, ctx,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	    tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem,
	    MHD_OPTION_END);
	if (d == NULL)
		log_err(FE_LOG, "cannot serve on %s", ctx->cfg->listen);
	return d;
}

void
fe_server_stop(void *server)
{
	if (server != NULL)
		MHD_stop_daemon(server);
}
