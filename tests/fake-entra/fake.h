/*
 * fake.h - internal interfaces of fake-entra, the project's emulator of
 * Microsoft's cloud: the Entra ID token endpoint, the Microsoft Graph paths
 * the product reads, and the Intune SCEP validation and PKI connector
 * endpoints.  Tests drive its state through an admin API under /_admin/.
 *
 * It is written from ../shared/reference/microsoft-apis.md alone and shares
 * no code with the product's Microsoft clients (only the generic buf, log
 * and encode helpers), so one misreading of the API cannot hide on both
 * sides at once.
 *
 * Layout, one file per role:
 *   main.c        command line, signals, start and stop
 *   server.c      libmicrohttpd glue: request objects, bodies, faults, logs
 *   router.c      which handler owns a path
 *   util.c        percent-decoding, query/form parameters, JSON replies
 *   mserr.c       Microsoft error bodies (Entra OAuth, Graph, Intune)
 *   state.c       the in-memory directory and records, behind one mutex
 *   token.c       POST /{tenant}/oauth2/v2.0/token and bearer checks
 *   assertion.c   client assertion (JWT) verification
 *   msft/graph.c       Graph discovery, devices, users, managed devices
 *   entity.c      Graph JSON of directory objects, $select
 *   delta.c       Graph change tracking (devices/delta, users/delta)
 *   msft/intune.c      Intune ScepActions and CertificateAuthorityRequests
 *   csr.c         PKCS#10 inspection for validateRequest
 *   fault.c       injected faults
 *   admin.c       /_admin/ dispatch, records, faults, tokens
 *   admin_dir.c   /_admin/ directory objects, challenges, revocations
 */
#ifndef FAKE_ENTRA_FAKE_H
#define FAKE_ENTRA_FAKE_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "base/buf.h"

#define FE_LOG		"fake-entra"
#define FE_MAX_BODY	(1024 * 1024)	/* bigger bodies get 413 */
#define FE_MAX_HEADERS	8

struct fe_state;

/* Command-line settings; read-only once the server runs. */
struct fe_config {
	char		 listen[128];	/* host:port as given */
	char		 host[64];	/* address without brackets */
	unsigned short	 port;
	int		 ipv6;
	char		*public_url;	/* owned; no trailing '/' */
	long		 token_lifetime;	/* seconds */
	long		 page_size;	/* objects per delta page */
	const char	*tls_cert;	/* file names, or NULL */
	const char	*tls_key;
};

/*
 * What every handler receives: the settings, the state (which carries its
 * own mutex) and the stop flag that cuts injected latency short.
 */
struct fe_ctx {
	const struct fe_config	*cfg;
	struct fe_state		*st;
	atomic_int		 stopping;
};

/* One decoded query or form parameter. */
struct fe_param {
	char	*name;
	char	*value;
};

/*
 * A request as handlers see it: no libmicrohttpd types.  Owned by
 * server.c; handlers only read it.
 */
struct fe_req {
	char		 method[16];
	char		*raw_uri;	/* as received: path?query */
	char		*raw_path;	/* path part, still percent-encoded */
	char		*path;		/* path part, percent-decoded once */
	char		*decoded_uri;	/* path?query, percent-decoded */
	struct fe_param	*params;	/* decoded query parameters */
	size_t		 nparams;
	struct buf	 body;
	char		*authorization;	/* header values, or NULL */
	char		*api_version;
	char		*client_request_id;
	char		*content_type;
	char		 request_id[37];	/* ours, sent as request-id */
};

/* A reply under construction.  Owned by server.c. */
struct fe_resp {
	int		 status;
	const char	*content_type;	/* static string */
	struct buf	 body;
	char		*hdr_name[FE_MAX_HEADERS];
	char		*hdr_value[FE_MAX_HEADERS];
	size_t		 nhdr;
};

/* Which service a path belongs to (also decides the error dialect). */
enum fe_area {
	FE_AREA_ADMIN,
	FE_AREA_TOKEN,
	FE_AREA_GRAPH,
	FE_AREA_INTUNE,
	FE_AREA_OTHER,
};

/* ---- server.c ---------------------------------------------------------- */

/*
 * Starts the HTTP(S) server on cfg's loopback address.  tls_cert_pem and
 * tls_key_pem are PEM text (both NULL for plain HTTP).  Returns an opaque
 * handle, or NULL after logging why.
 */
void	*fe_server_start(struct fe_ctx *ctx, const char *tls_cert_pem,
	    const char *tls_key_pem);

/* Stops the server, waiting for requests in flight.  Accepts NULL. */
void	 fe_server_stop(void *server);

/* ---- router.c ---------------------------------------------------------- */

/* Classifies a decoded path. */
enum fe_area	fe_route_area(const char *path);

/*
 * Adds the correlation headers each Microsoft service sends (request-id,
 * client-request-id; x-ms-request-id on the token endpoint).
 */
void	 fe_route_headers(const struct fe_req *req, struct fe_resp *resp,
	    enum fe_area area);

/* Answers a request that no fault intercepted. */
void	 fe_route(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp);

/* ---- util.c ------------------------------------------------------------ */

/*
 * Percent-decodes n bytes of s; with plus_space, '+' becomes ' ' (form
 * encoding).  Malformed escapes stay as they are.  Returns a new string,
 * or NULL when out of memory.
 */
char	*fe_pct_decode(const char *s, size_t n, int plus_space);

/*
 * Splits "a=1&b=2" into decoded parameters ('+' is a space).  Returns 0,
 * or -1 when out of memory.  Free with fe_params_free().
 */
int	 fe_params_parse(const char *s, size_t n, struct fe_param **out,
	    size_t *nout);

/* Frees what fe_params_parse() returned.  Accepts NULL. */
void	 fe_params_free(struct fe_param *p, size_t n);

/* Value of the first parameter named name (any case), or NULL. */
const char *fe_param_get(const struct fe_param *p, size_t n,
	    const char *name);

/* Value of a query parameter of req (any case), or NULL. */
const char *fe_query(const struct fe_req *req, const char *name);

/*
 * Sets resp to status with j serialised as its body (j is consumed, even
 * on failure).  Returns 0, or -1 when out of memory.
 */
int	 fe_resp_json(struct fe_resp *resp, int status, json_t *j);

/* Adds a header to resp (copied).  Returns 0, or -1. */
int	 fe_resp_header(struct fe_resp *resp, const char *name,
	    const char *value);

/* Parses req's body as a JSON object.  Returns a new reference or NULL. */
json_t	*fe_json_body(const struct fe_req *req);

/* The string member key of o, or NULL when absent or not a string. */
const char *fe_json_str(const json_t *o, const char *key);

/* Writes a random base64url token of nbytes random bytes.  Returns 0/-1. */
int	 fe_random_token(char *out, size_t outlen, size_t nbytes);

/* Formats t as Graph dates in errors: "2024-05-06T06:03:00". */
void	 fe_time_graph(time_t t, char out[32]);

/* Formats t as Entra's error timestamps: "2024-05-06 06:03:00Z". */
void	 fe_time_entra(time_t t, char out[32]);

/* 1 when s is a case-insensitive prefix match of prefix, else 0. */
int	 fe_starts_with(const char *s, const char *prefix);

/* ---- mserr.c ----------------------------------------------------------- */

/*
 * An Entra token endpoint error: {"error","error_description":"AADSTS<code>:
 * ...","error_codes":[code],"timestamp","trace_id","correlation_id",
 * "error_uri"}.  Returns 0 or -1.
 */
int	 fe_oauth_error(const struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp, int status, const char *error, int code,
	    const char *text);

/*
 * A Graph-style error: {"error":{"code","message","innerError":{"date",
 * "request-id","client-request-id"}}}, also used by the Intune services.
 * Returns 0 or -1.
 */
int	 fe_graph_error(const struct fe_req *req, struct fe_resp *resp,
	    int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* The admin API's error: {"error":"..."}.  Returns 0 or -1. */
int	 fe_admin_error(struct fe_resp *resp, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* ---- token.c ----------------------------------------------------------- */

/* Audience of an access token. */
enum fe_aud {
	FE_AUD_GRAPH = 1,
	FE_AUD_INTUNE = 2,
};

/* Outcome of a bearer check. */
enum fe_bearer {
	FE_BEARER_OK,
	FE_BEARER_MISSING,
	FE_BEARER_INVALID,
	FE_BEARER_EXPIRED,
	FE_BEARER_WRONG_AUD,
};

/* Why the token endpoint refuses a request, in Entra's terms. */
struct fe_oauth_fail {
	int		 status;	/* 400 or 401 (500 when out of memory) */
	const char	*error;		/* "invalid_client"... */
	int		 code;		/* AADSTS number */
	char		 text[768];	/* description after "AADSTSn: " */
};

/* Fills fail and returns -1, so callers can `return fe_fail(...)`. */
int	 fe_fail(struct fe_oauth_fail *fail, int status, const char *error,
	    int code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * Verifies a client assertion JWT (RFC 7523, Entra's certificate
 * credentials): signature with cert's key (PS256 or RS256), thumbprint
 * header, aud == token_url, iss == sub == client_id, time claims, and jti
 * not replayed.  cert may be NULL (the app has none).  Returns 0, or -1
 * with fail filled.
 */
int	 fe_assertion_verify(struct fe_ctx *ctx, X509 *cert,
	    const char *jwt, const char *token_url, const char *client_id,
	    struct fe_oauth_fail *fail);

/* Answers POST /{tenant}/oauth2/v2.0/token. */
int	 fe_token_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp);

/* Checks req's "Authorization: Bearer" token against audience aud. */
enum fe_bearer	fe_bearer_check(struct fe_ctx *ctx, const struct fe_req *req,
	    enum fe_aud aud);

/* ---- msft/graph.c / delta.c ------------------------------------------------- */

/* Answers /v1.0/... (bearer with Graph audience required). */
int	 fe_graph_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp);

/*
 * Answers GET /v1.0/devices/delta (users == 0) or /v1.0/users/delta
 * (users == 1); authentication already done.
 */
int	 fe_delta_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp, int users);

/* ---- entity.c ---------------------------------------------------------- */

/* Kinds of directory object Graph serves. */
enum fe_kind {
	FE_KIND_DEVICE,
	FE_KIND_USER,
	FE_KIND_MDEV,
};

/*
 * Checks a $select list (comma-separated property names, any case) for
 * kind.  Returns 0, or -1 with the first unknown name copied to bad.
 */
int	 fe_select_check(enum fe_kind kind, const char *select, char *bad,
	    size_t badlen);

/*
 * Graph JSON of obj (a struct fe_device, fe_user or fe_mdev of state.h):
 * "id" plus the selected properties, or the default set when select is
 * NULL or empty.  Known properties the emulator does not keep are null.
 * Returns a new object or NULL.
 */
json_t	*fe_entity_json(enum fe_kind kind, const void *obj,
	    const char *select);

/* ---- csr.c ------------------------------------------------------------- */

/* What a certificate request looks like to Intune's validateRequest. */
enum fe_csr_status {
	FE_CSR_OK,
	FE_CSR_UNDECODABLE,	/* not base64 of one DER PKCS#10 */
	FE_CSR_BAD_SIGNATURE,	/* self-signature does not verify */
	FE_CSR_NO_CHALLENGE,	/* no usable challengePassword */
};

/* The parts of a CSR validateRequest looks at; both owned. */
struct fe_csr {
	char	*challenge;
	char	*subject;	/* RFC 4514, as XN_FLAG_RFC2253 prints it */
};

/*
 * Decodes a base64 DER PKCS#10 (RFC 2986) and extracts its subject and
 * challengePassword (RFC 2985 §5.4.1).  Fills out on FE_CSR_OK, and the
 * subject as far as it got otherwise.  Returns the status.
 */
enum fe_csr_status	fe_csr_inspect(const char *b64, struct fe_csr *out);

/* Frees what fe_csr_inspect() filled. */
void	 fe_csr_clear(struct fe_csr *c);

/* ---- msft/intune.c ---------------------------------------------------------- */

/* Answers /intune/scep/... and /intune/pki/... */
int	 fe_intune_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp);

/* ---- fault.c ----------------------------------------------------------- */

/* An injected fault as taken for one request. */
struct fe_fault_hit {
	int	status;		/* 0 none, -1 drop, else HTTP status */
	int	retry_after;	/* seconds, or -1 for no header */
	int	latency_ms;
};

/*
 * Looks for a fault whose prefix starts path, consumes one of its uses
 * and copies it to hit.  Returns 1 when one applies, else 0.
 */
int	 fe_fault_take(struct fe_ctx *ctx, const char *path,
	    struct fe_fault_hit *hit);

/* Fills resp with the error a fault of status gives in area's dialect. */
int	 fe_fault_respond(const struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp, enum fe_area area,
	    const struct fe_fault_hit *hit);

/* ---- admin.c / admin_dir.c --------------------------------------------- */

/* Answers /_admin/... */
int	 fe_admin_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp);

/*
 * The directory part of the admin API (apps, devices, managedDevices,
 * users, challenges, revocationRequests).  rest is the path after
 * "/_admin/".  Returns 1 when it answered, 0 when the path is not its.
 */
int	 fe_admin_dir_handle(struct fe_ctx *ctx, const struct fe_req *req,
	    struct fe_resp *resp, const char *rest);

#endif
