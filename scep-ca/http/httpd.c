/*
 * httpd.c - the HTTP face of scep-ca on libmicrohttpd: SCEP
 * operations (RFC 8894 §4) on every profile path and any path ending in
 * pkiclient.exe, the CRL, OCSP, /healthz and /ca.crt, all in one route
 * table (routes[] below).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/encode.h"
#include "base/log.h"
#include "ca/ca.h"
#include "enroll/enroll.h"
#include "http/conns.h"
#include "http/httpd.h"
#include "revocation/crl.h"
#include "revocation/ocsp.h"
#include "scep/msg.h"
#include "store/store.h"

#define HTTP_MAX_LOOPS	64
#define HTTP_MAX_ARGS	32	/* SCEP needs 2 (operation, message) */
#define HTTP_FD_RESERVE	256	/* store, SQLite, curl, CRL files, loops */
#define HTTP_MAX_CONNS	16384	/* default cap: 32 KiB of MHD pool each */

/*
 * The server: one listening socket, an acceptor thread dealing each new
 * connection to the next of `nloops` libmicrohttpd event loops (one
 * thread each, epoll).  Dealing round-robin spreads even a few keep-alive
 * clients over every core (libmicrohttpd's own thread pool lets whichever
 * worker wakes first take them all), while each loop still serves many
 * connections without a thread apiece.  ctx is shared read-only by the
 * loops; inflight counts requests being handled, so a stop can drain.
 */
struct http_server {
	struct MHD_Daemon	*mhd[HTTP_MAX_LOOPS];
	int			 nloops;
	int			 listen_fd;
	pthread_t		 acceptor;
	int			 acceptor_started;
	atomic_int		 stopping;
	struct scep_ctx		*ctx;
	size_t			 max_body;
	atomic_int		 inflight;
	int			 max_conns;	/* below the descriptor limit */
	struct http_conns	*conns;		/* open connections per address */
	atomic_uint		 refused;	/* connections over a limit */
	struct ocsp_responder	*ocsp;		/* answers /ocsp; may be NULL */
};

/*
 * Per-request state, owned by MHD's *con_cls until completion: made by
 * on_uri() when the query string is refused, else by on_request().  conn,
 * url and method are set by route() for the handler it calls.
 */
struct request {
	struct buf		 body;
	int			 started;	/* on_request() has seen it */
	int			 too_large;
	int			 too_many_args;
	struct MHD_Connection	*conn;
	const char		*url;
	const char		*method;	/* GET or POST */
};

static const char caps[] =
	"POSTPKIOperation\nRenewal\nSHA-1\nSHA-256\nSHA-512\nAES\nDES3\n"
	"SCEPStandard\n";

/* Queues a response with a copy of the bytes.  Returns MHD's result. */
static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, const char *type,
    const void *data, size_t len)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(len, (void *)data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_respond(struct MHD_Connection *conn, unsigned status, const char *type,
    const void *data, size_t len)
{
	return respond(conn, status, type, data, len);
}

enum MHD_Result
http_error(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char	line[512];
	int	n = snprintf(line, sizeof(line), "%s\n", text);

	return respond(conn, status, "text/plain; charset=utf-8", line,
	    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* GET|POST ...?operation=PKIOperation: decode, run, answer a CertRep. */
static enum MHD_Result
do_pkioperation(struct http_server *s, struct request *rq,
    const struct profile_conf *p)
{
	struct MHD_Connection	*conn = rq->conn;
	const char		*msg;
	struct buf		 der = {0}, reply = {0};
	struct err		 e = {0};
	enum MHD_Result		 ret;

	if (strcmp(rq->method, MHD_HTTP_METHOD_POST) == 0) {
		if (rq->body.len == 0)
			return http_error(conn, MHD_HTTP_BAD_REQUEST,
			    "empty PKIOperation body");
		if (buf_set(&der, rq->body.data, rq->body.len) == -1)
			return MHD_NO;
	} else {
		msg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
		    "message");
		if (msg == NULL || *msg == '\0')
			return http_error(conn, MHD_HTTP_BAD_REQUEST,
			    "PKIOperation by GET needs message=");
		if (strlen(msg) > s->max_body * 4 / 3 + 8 ||
		    b64_decode_lenient(&der, msg, strlen(msg)) == -1) {
			buf_free(&der);
			return http_error(conn, MHD_HTTP_BAD_REQUEST,
			    "message= is not base64");
		}
	}
	if (enroll_pkioperation(s->ctx, p, der.data, der.len, &reply, &e) == 0)
		ret = respond(conn, MHD_HTTP_OK, "application/x-pki-message",
		    reply.data, reply.len);
	else
		ret = http_error(conn, (unsigned)err_http_status(e.code), e.msg);
	buf_free(&der);
	buf_free(&reply);
	return ret;
}

static enum MHD_Result
do_getcacert(struct http_server *s, struct MHD_Connection *conn)
{
	struct buf	 out = {0};
	struct err	 e = {0};
	enum MHD_Result	 ret;

	if (scep_ca_certs_encode(s->ctx->ca, &out, &e) == -1)
		ret = http_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, e.msg);
	else
		ret = respond(conn, MHD_HTTP_OK, "application/x-x509-ca-ra-cert",
		    out.data, out.len);
	buf_free(&out);
	return ret;
}

/*
 * The SCEP operations of RFC 8894 §4 on the profile
 * conf_profile_for_path() picks for the path.
 */
static enum MHD_Result
route_scep(struct http_server *s, struct request *rq)
{
	const struct profile_conf	*p;
	const char			*op;

	if ((p = conf_profile_for_path(s->ctx->conf, rq->url)) == NULL)
		return http_error(rq->conn, MHD_HTTP_NOT_FOUND, "no such path");
	op = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    "operation");
	if (op == NULL)
		return http_error(rq->conn, MHD_HTTP_BAD_REQUEST, "missing"
		    " operation=");
	if (strcasecmp(op, "PKIOperation") == 0)
		return do_pkioperation(s, rq, p);
	if (strcmp(rq->method, MHD_HTTP_METHOD_GET) != 0)
		return http_error(rq->conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "use GET");
	if (strcasecmp(op, "GetCACaps") == 0)
		return respond(rq->conn, MHD_HTTP_OK, "text/plain", caps,
		    sizeof(caps) - 1);
	if (strcasecmp(op, "GetCACert") == 0)
		return do_getcacert(s, rq->conn);
	return http_error(rq->conn, MHD_HTTP_BAD_REQUEST, "unknown operation");
}

/* The CRL service's handler (revocation/crl.h); ctx->crl NULL: none. */
static enum MHD_Result
route_crl(struct http_server *s, struct request *rq)
{
	if (s->ctx->crl == NULL)
		return http_error(rq->conn, MHD_HTTP_NOT_FOUND, "no such path");
	return crl_http(s->ctx->crl, rq->conn, rq->url, rq->method,
	    rq->body.data, rq->body.len);
}

/* The OCSP responder's handler (revocation/ocsp.h). */
static enum MHD_Result
route_ocsp(struct http_server *s, struct request *rq)
{
	if (s->ocsp == NULL)
		return http_error(rq->conn, MHD_HTTP_NOT_FOUND, "no such path");
	return ocsp_http(s->ocsp, rq->conn, rq->url, rq->method,
	    rq->body.data, rq->body.len);
}

/* 200 "ok" while the store answers, else 503. */
static enum MHD_Result
route_healthz(struct http_server *s, struct request *rq)
{
	struct err	e = {0};

	if (store_ping(s->ctx->store, &e) == -1)
		return http_error(rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    e.msg);
	return respond(rq->conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
}

/* The CA certificate as DER, for browsers and scripts. */
static enum MHD_Result
route_ca_cert(struct http_server *s, struct request *rq)
{
	unsigned char	*der = NULL;
	int		 n;
	enum MHD_Result	 ret;

	if ((n = i2d_X509(ca_cert(s->ctx->ca), &der)) <= 0)
		return http_error(rq->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot encode the CA certificate");
	ret = respond(rq->conn, MHD_HTTP_OK, "application/pkix-cert", der,
	    (size_t)n);
	OPENSSL_free(der);
	return ret;
}

enum route_match {
	ROUTE_PROFILE,	/* a [profile]'s path, exactly */
	ROUTE_EXACT,
	ROUTE_PREFIX,
	ROUTE_SUFFIX,
};

typedef enum MHD_Result (*route_fn)(struct http_server *s,
    struct request *rq);

struct route {
	enum route_match	 match;
	const char		*path;	/* NULL for ROUTE_PROFILE */
	route_fn		 fn;
};

/*
 * Every URL the server answers, tried in order: the first row that
 * matches answers.  Every path takes GET and POST (any other method,
 * HEAD included, is answered 405 before this table); the handlers narrow
 * that (SCEP: POST for PKIOperation only; CRL: GET only, after its 404
 * for another CRL's name).  Anything else is 404.
 */
static const struct route routes[] = {
	/* RFC 8894 §4.1: SCEP on each profile's own path... */
	{ ROUTE_PROFILE, NULL,			route_scep },
	/* ...and on any path ending in pkiclient.exe (clients that append
	 * it): the profile whose path it extends, else the first one. */
	{ ROUTE_SUFFIX,	"pkiclient.exe",	route_scep },
	/* GET /crl/<name>.crl: the current CRL. */
	{ ROUTE_PREFIX,	"/crl/",		route_crl },
	/* RFC 6960 A.1: POST /ocsp, GET /ocsp/<base64 request>. */
	{ ROUTE_EXACT,	"/ocsp",		route_ocsp },
	{ ROUTE_PREFIX,	"/ocsp/",		route_ocsp },
	{ ROUTE_EXACT,	"/healthz",		route_healthz },
	{ ROUTE_EXACT,	"/ca.crt",		route_ca_cert },
};

/* Whether url is one that row r answers. */
static int
route_matches(const struct http_server *s, const struct route *r,
    const char *url)
{
	const struct profile_conf	*p;
	size_t				 n = strlen(url), plen;

	switch (r->match) {
	case ROUTE_PROFILE:
		p = conf_profile_for_path(s->ctx->conf, url);
		return p != NULL && strcmp(p->path, url) == 0;
	case ROUTE_EXACT:
		return strcmp(url, r->path) == 0;
	case ROUTE_PREFIX:
		return strncmp(url, r->path, strlen(r->path)) == 0;
	case ROUTE_SUFFIX:
		plen = strlen(r->path);
		return n >= plen && strcmp(url + n - plen, r->path) == 0;
	}
	return 0;
}

/* Refuses what the limits cut off, then hands the request to its row. */
static enum MHD_Result
route(struct http_server *s, struct MHD_Connection *conn, const char *url,
    const char *method, struct request *rq)
{
	size_t	i;

	if (rq->too_many_args)
		return http_error(conn, MHD_HTTP_URI_TOO_LONG,
		    "too many query arguments");
	if (rq->too_large)
		return http_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return http_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and POST");
	rq->conn = conn;
	rq->url = url;
	rq->method = method;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (route_matches(s, &routes[i], url))
			return routes[i].fn(s, rq);
	return http_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
}

/* Collects the body (bounded by max_body), then routes. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_server	*s = cls;
	struct request		*rq = *con_cls;
	const char		*cl;

	(void)version;
	if (rq == NULL || !rq->started) {
		if (rq == NULL && (rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->started = 1;
		atomic_fetch_add(&s->inflight, 1);
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > s->max_body)
			rq->too_large = 1;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!rq->too_large && rq->body.len + *upload_size > s->max_body)
			rq->too_large = 1;
		if (!rq->too_large &&
		    buf_append(&rq->body, upload, *upload_size) == -1)
			return MHD_NO;
		*upload_size = 0;	/* consumed (or dropped when too large) */
		return MHD_YES;
	}
	return route(s, conn, url, method, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	struct http_server	*s = cls;
	struct request		*rq = *con_cls;

	(void)conn;
	(void)code;
	if (rq == NULL)
		return;
	if (rq->started)
		atomic_fetch_sub(&s->inflight, 1);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/*
 * Sees the request target before libmicrohttpd splits its query string.
 * libmicrohttpd keeps each argument in the connection's 32 KiB pool and,
 * when the pool runs out there, holds the connection without answering
 * until the timeout; so a query of more than HTTP_MAX_ARGS arguments is
 * cut off here (uri points into the connection's own read buffer, which
 * libmicrohttpd parses next) and the request answered 414 by route().
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request	*rq;
	char		*query;
	const char	*p;
	int		 n = 1;

	(void)cls;
	(void)conn;
	if ((query = strchr(uri, '?')) == NULL)
		return NULL;
	for (p = query + 1; *p != '\0' && n <= HTTP_MAX_ARGS; p++)
		n += *p == '&';
	if (n <= HTTP_MAX_ARGS)
		return NULL;
	query[1] = '\0';
	if ((rq = calloc(1, sizeof(*rq))) != NULL)
		rq->too_many_args = 1;
	return rq;
}

/* Counts a refused connection; logs the 1st, 2nd, 4th, 8th... */
static void
note_refused(struct http_server *s)
{
	unsigned	n = atomic_fetch_add(&s->refused, 1) + 1;

	if ((n & (n - 1)) == 0)
		log_warn("http", "%u connection(s) refused so far: the total"
		    " (%d) or per-address limit was reached", n, s->max_conns);
}

/*
 * Counts each connection against the limits when its loop starts it, and
 * releases it when it closes.  One over a limit (the acceptor's quick
 * check can race with other connections) is shut down at once.
 */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server		*s = cls;
	const union MHD_ConnectionInfo	*addr, *fd;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		http_conns_release(s->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (addr != NULL &&
	    (*socket_context = http_conns_take(s->conns, addr->client_addr)) !=
	    NULL)
		return;
	note_refused(s);
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (fd != NULL)
		shutdown(fd->connect_fd, SHUT_RDWR);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	line[512];
	size_t	n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warn("http", "%s", line);
}

int
http_parse_listen(const char *listen, struct sockaddr_storage *ss,
    struct err *e)
{
	struct addrinfo	 hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
			    .ai_socktype = SOCK_STREAM }, *res = NULL;
	char		 host[256];
	const char	*colon = strrchr(listen, ':');
	size_t		 hlen;

	if (colon == NULL || colon == listen || colon[1] == '\0')
		return err_set(e, ERR_CONFIG, "listen address '%s' is not"
		    " HOST:PORT", listen);
	hlen = (size_t)(colon - listen);
	if (listen[0] == '[' && hlen >= 2 && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return err_set(e, ERR_CONFIG, "listen address too long");
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL)
		return err_set(e, ERR_CONFIG, "listen address '%s' is not a"
		    " numeric HOST:PORT", listen);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* The listening socket on addr; -1 with e set. */
static int
listen_on(const struct sockaddr_storage *ss, const char *listen_text,
    struct err *e)
{
	socklen_t	len = ss->ss_family == AF_INET6 ?
			    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int		fd, one = 1;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (const struct sockaddr *)ss, len) == -1 ||
	    listen(fd, 256) == -1) {
		err_set(e, ERR_IO, "http: cannot listen on %s (%s)", listen_text,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Accepts connections and deals them to the event loops in turn. */
static void *
acceptor_main(void *arg)
{
	struct http_server	*s = arg;
	struct sockaddr_storage	 addr;
	struct timespec		 pause = { 0, 50 * 1000 * 1000 };
	socklen_t		 len;
	unsigned		 next = 0;
	int			 fd;

	for (;;) {
		len = sizeof(addr);
		fd = accept4(s->listen_fd, (struct sockaddr *)&addr, &len,
		    SOCK_CLOEXEC);
		if (atomic_load(&s->stopping)) {
			if (fd != -1)
				close(fd);
			break;
		}
		if (fd == -1) {
			/* Out of descriptors or memory: let connections end. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				nanosleep(&pause, NULL);
			continue;
		}
		/* Over a limit: closed before it costs an event loop anything. */
		if (!http_conns_admits(s->conns, (struct sockaddr *)&addr)) {
			close(fd);
			note_refused(s);
			continue;
		}
		/* libmicrohttpd closes fd itself when it cannot take it. */
		if (MHD_add_connection(s->mhd[next++ % (unsigned)s->nloops], fd,
		    (struct sockaddr *)&addr, len) != MHD_YES)
			log_warn("http", "a connection could not be served");
	}
	return NULL;
}

/*
 * Starts one event loop: no socket of its own, fed by the acceptor.
 * Headers and the request line share a 32 KiB pool per connection: a
 * request whose headers do not fit is answered 431 (414 for the request
 * line) by libmicrohttpd at once.  The limits are counted across loops
 * (on_connection), so libmicrohttpd's own per-loop limit is only a
 * backstop.
 */
static struct MHD_Daemon *
loop_start(struct http_server *s, const struct scep_conf *conf)
{
	struct MHD_OptionItem	opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, s->max_conns, NULL },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/*
 * Raises the soft descriptor limit to the hard one (a daemon's default
 * soft limit, often 1024, is what an idle-connection flood exhausts
 * first).  Returns the limit now in force.
 */
static rlim_t
raise_nofile(void)
{
	struct rlimit	rl;
	rlim_t		was;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = was;
	}
	if (rl.rlim_cur != was)
		log_info("http", "descriptor limit raised from %llu to %llu",
		    (unsigned long long)was, (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur;
}

/*
 * The total connection limit: [http] max_connections, but always
 * HTTP_FD_RESERVE descriptors below the descriptor limit (the store,
 * SQLite, curl and the CRL need theirs when connections are at the
 * limit); by default also at most HTTP_MAX_CONNS.
 */
static int
conn_limit(const struct scep_conf *conf, rlim_t nofile)
{
	rlim_t	room;

	room = nofile > 2 * HTTP_FD_RESERVE ? nofile - HTTP_FD_RESERVE :
	    nofile / 2;
	if (room > INT32_MAX)
		room = INT32_MAX;
	if (conf->max_connections == 0)
		return room < HTTP_MAX_CONNS ? (int)room : HTTP_MAX_CONNS;
	if ((rlim_t)conf->max_connections > room) {
		log_warn("http", "max_connections = %d lowered to %d: the"
		    " descriptor limit is %llu", conf->max_connections,
		    (int)room, (unsigned long long)nofile);
		return (int)room;
	}
	return conf->max_connections;
}

struct http_server *
http_listen(const struct scep_conf *conf, struct err *e)
{
	struct http_server	*s;
	struct sockaddr_storage	 ss;

	if (http_parse_listen(conf->listen, &ss, e) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	s->listen_fd = -1;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->stopping, 0);
	atomic_init(&s->refused, 0);
	s->max_conns = conn_limit(conf, raise_nofile());
	if ((s->conns = http_conns_new(s->max_conns,
	    conf->max_connections_per_ip)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((s->listen_fd = listen_on(&ss, conf->listen, e)) == -1)
		goto fail;
	return s;
fail:
	http_stop(s, 0);
	return NULL;
}

int
http_start(struct http_server *s, struct scep_ctx *ctx,
    struct ocsp_responder *ocsp, struct err *e)
{
	const struct scep_conf	*conf = ctx->conf;
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int			 i;

	s->ctx = ctx;
	s->max_body = (size_t)conf->max_body;
	s->ocsp = ocsp;
	s->nloops = conf->threads > 0 ? conf->threads : (ncpu > 0 ? (int)ncpu : 2);
	if (s->nloops > HTTP_MAX_LOOPS)
		s->nloops = HTTP_MAX_LOOPS;
	for (i = 0; i < s->nloops; i++) {
		if ((s->mhd[i] = loop_start(s, conf)) == NULL)
			return err_set(e, ERR_INTERNAL, "http: cannot start an"
			    " event loop");
	}
	if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0)
		return err_set(e, ERR_INTERNAL, "http: cannot start the acceptor");
	s->acceptor_started = 1;
	log_info("http", "listening on %s with %d event loops, at most %d"
	    " connections (%d per address)", conf->listen, s->nloops,
	    s->max_conns, conf->max_connections_per_ip);
	return 0;
}

void
http_stop(struct http_server *s, int drain_seconds)
{
	struct timespec	pause = { 0, 20 * 1000 * 1000 };
	int		i;

	if (s == NULL)
		return;
	/* Stop accepting: shutdown() wakes the acceptor out of accept(). */
	atomic_store(&s->stopping, 1);
	if (s->listen_fd != -1)
		shutdown(s->listen_fd, SHUT_RDWR);
	if (s->acceptor_started)
		pthread_join(s->acceptor, NULL);
	if (s->listen_fd != -1)
		close(s->listen_fd);
	/* Let requests in progress finish, then close every connection. */
	for (i = 0; i < drain_seconds * 50 && atomic_load(&s->inflight) > 0; i++)
		nanosleep(&pause, NULL);
	if (atomic_load(&s->inflight) > 0)
		log_warn("http", "%d requests still running at shutdown",
		    atomic_load(&s->inflight));
	for (i = 0; i < s->nloops; i++)
		if (s->mhd[i] != NULL)
			MHD_stop_daemon(s->mhd[i]);
	http_conns_free(s->conns);
	free(s);
}
