/*
 * msft/intune.c - the Intune services a third-party CA talks to (reference
 * §2): ScepRequestValidationFEService (ScepActions/validateRequest,
 * successNotification, failureNotification; api-version 2018-02-20) and
 * PkiConnectorFEService (CertificateAuthorityRequests/
 * downloadRevocationRequests, uploadRevocationResults; api-version
 * 5019-05-05).  Every call needs an Intune-audience bearer token, the
 * api-version header and a JSON body.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/encode.h"
#include "fake.h"
#include "state.h"

#define SCEP_API	"2018-02-20"
#define PKI_API		"5019-05-05"

typedef int (*fe_intune_fn)(struct fe_ctx *, const struct fe_req *,
    struct fe_resp *, json_t *);

struct fe_intune_op {
	const char	*path;
	const char	*api_version;
	fe_intune_fn	 fn;
};

/* Answers the 400 every malformed Intune body gets. */
static int
fe_intune_bad(const struct fe_req *req, struct fe_resp *resp, const char *why)
{
	return fe_graph_error(req, resp, 400, "BadRequest", "%s", why);
}

/* {"code":code,"errorDescription":desc}, always HTTP 200. */
static int
fe_intune_answer(struct fe_resp *resp, const char *code, const char *desc)
{
	return fe_resp_json(resp, 200, json_pack("{s:s, s:s}", "code", code,
	    "errorDescription", desc));
}

/* Decides validateRequest for a decoded CSR (lock held). */
static const char *
fe_scep_decide(struct fe_state *st, const struct fe_csr *csr,
    const char **desc)
{
	struct fe_challenge	*c;

	/* A challenge Intune did not issue cannot be decrypted. */
	if ((c = fe_challenge_find(st, csr->challenge)) == NULL) {
		*desc = "The challenge could not be decrypted.";
		return "ChallengeDecryptionError";
	}
	if (c->expires <= time(NULL)) {
		*desc = "The challenge has expired.";
		return "ChallengeExpired";
	}
	if (strcmp(c->subject, csr->subject) != 0) {
		*desc = "The subject name of the certificate request does not "
		    "match the one the challenge was issued for.";
		return "SubjectNameMismatch";
	}
	*desc = "";
	return "Success";
}

/* POST ScepActions/validateRequest. */
static int
fe_scep_validate(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, json_t *body)
{
	json_t			*r = json_object_get(body, "request");
	const char		*txid = fe_json_str(r, "transactionId");
	const char		*csr_b64 = fe_json_str(r, "certificateRequest");
	const char		*caller = fe_json_str(r, "callerInfo");
	const char		*code, *desc;
	struct fe_csr		 csr;
	enum fe_csr_status	 cs;
	char			 now[21];
	int			 rc;

	if (!json_is_object(r) || txid == NULL || csr_b64 == NULL ||
	    caller == NULL)
		return fe_intune_bad(req, resp, "The request must be {\"request\":"
		    "{\"transactionId\",\"certificateRequest\",\"callerInfo\"}} "
		    "with string values.");
	cs = fe_csr_inspect(csr_b64, &csr);
	time_iso8601(time(NULL), now);
	fe_state_lock(ctx->st);
	switch (cs) {
	case FE_CSR_UNDECODABLE:
		code = "CertificateRequestDecodingFailed";
		desc = "The certificate request could not be decoded.";
		break;
	case FE_CSR_BAD_SIGNATURE:
		code = "SignatureValidationFailed";
		desc = "The certificate request signature is not valid.";
		break;
	case FE_CSR_NO_CHALLENGE:
		code = "ChallengePasswordMissing";
		desc = "The certificate request has no challenge password.";
		break;
	default:
		code = fe_scep_decide(ctx->st, &csr, &desc);
		break;
	}
	fe_state_record(ctx->st->validations, json_pack("{s:s, s:s, s:s?, "
	    "s:s, s:s?, s:s}", "transactionId", txid, "code", code, "subject",
	    csr.subject, "callerInfo", caller, "client_request_id",
	    req->client_request_id, "time", now));
	fe_state_unlock(ctx->st);
	rc = fe_intune_answer(resp, code, desc);
	fe_csr_clear(&csr);
	return rc;
}

/* 1 when every name in keys is a string member of o. */
static int
fe_has_strings(const json_t *o, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (fe_json_str(o, *keys) == NULL)
			return 0;
	return 1;
}

/* 1 when s is non-empty hex, of exactly want digits unless want is 0. */
static int
fe_is_hex(const char *s, size_t want)
{
	size_t	n = strlen(s), i;

	if (n == 0 || (want != 0 && n != want))
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Stores a notification as a record with its kind. */
static int
fe_notification_store(struct fe_ctx *ctx, const struct fe_req *req,
    const json_t *n, const char *kind)
{
	json_t	*rec = json_deep_copy(n);
	char	 now[21];

	if (rec == NULL)
		return -1;
	time_iso8601(time(NULL), now);
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "client_request_id",
	    req->client_request_id != NULL ?
	    json_string(req->client_request_id) : json_null());
	json_object_set_new(rec, "time", json_string(now));
	fe_state_lock(ctx->st);
	fe_state_record(ctx->st->notifications, rec);
	fe_state_unlock(ctx->st);
	return 0;
}

/* POST ScepActions/successNotification. */
static int
fe_scep_success(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, json_t *body)
{
	static const char *const keys[] = { "transactionId",
	    "certificateRequest", "certificateThumbprint",
	    "certificateSerialNumber", "certificateExpirationDateUtc",
	    "issuingCertificateAuthority", "callerInfo", "caConfiguration",
	    "certificateAuthority", NULL };
	json_t		*n = json_object_get(body, "notification");
	struct tm	 tm;

	if (!json_is_object(n) || !fe_has_strings(n, keys))
		return fe_intune_bad(req, resp, "The notification must carry "
		    "transactionId, certificateRequest, certificateThumbprint, "
		    "certificateSerialNumber, certificateExpirationDateUtc, "
		    "issuingCertificateAuthority, callerInfo, caConfiguration "
		    "and certificateAuthority as strings.");
	/* Thumbprint: SHA-1 hex; serial: hex; expiry: ISO 8601 UTC. */
	memset(&tm, 0, sizeof(tm));
	if (!fe_is_hex(fe_json_str(n, "certificateThumbprint"), 40) ||
	    !fe_is_hex(fe_json_str(n, "certificateSerialNumber"), 0) ||
	    strptime(fe_json_str(n, "certificateExpirationDateUtc"),
	    "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return fe_intune_bad(req, resp, "certificateThumbprint must be "
		    "40 hex digits, certificateSerialNumber hex, and "
		    "certificateExpirationDateUtc an ISO 8601 date-time.");
	if (fe_notification_store(ctx, req, n, "success") == -1)
		return -1;
	return fe_intune_answer(resp, "Success", "");
}

/* POST ScepActions/failureNotification. */
static int
fe_scep_failure(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, json_t *body)
{
	static const char *const keys[] = { "transactionId",
	    "certificateRequest", "errorDescription", "callerInfo", NULL };
	json_t	*n = json_object_get(body, "notification");

	if (!json_is_object(n) || !fe_has_strings(n, keys) ||
	    !json_is_integer(json_object_get(n, "hResult")))
		return fe_intune_bad(req, resp, "The notification must carry "
		    "transactionId, certificateRequest, errorDescription and "
		    "callerInfo as strings and hResult as an integer.");
	if (strlen(fe_json_str(n, "errorDescription")) > 255)
		return fe_intune_bad(req, resp, "errorDescription is longer "
		    "than 255 characters.");
	if (fe_notification_store(ctx, req, n, "failure") == -1)
		return -1;
	return fe_intune_answer(resp, "Success", "");
}

/* POST CertificateAuthorityRequests/downloadRevocationRequests. */
static int
fe_pki_download(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, json_t *body)
{
	json_t			*dp = json_object_get(body, "downloadParameters");
	json_t			*max = json_object_get(dp, "maxRequests");
	json_t			*iss = json_object_get(dp, "issuerName");
	json_t			*value;
	struct fe_revreq	*r;
	json_int_t		 left;
	size_t			 i;

	if (!json_is_object(dp) || !json_is_integer(max) ||
	    json_integer_value(max) < 1 ||
	    (iss != NULL && !json_is_null(iss) && !json_is_string(iss)))
		return fe_intune_bad(req, resp, "downloadParameters must carry "
		    "maxRequests (a positive integer) and issuerName (null or a "
		    "string).");
	if ((value = json_array()) == NULL)
		return -1;
	left = json_integer_value(max);
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->revreqs.n && left > 0; i++) {
		r = ctx->st->revreqs.v[i];
		/* Pending until a result for its requestContext arrives. */
		if (r->answered || (json_is_string(iss) &&
		    strcmp(json_string_value(iss), r->issuer) != 0))
			continue;
		json_array_append_new(value, json_pack("{s:s, s:s, s:s, s:s}",
		    "requestContext", r->context, "serialNumber", r->serial,
		    "issuerName", r->issuer, "caConfiguration", r->caconf));
		left--;
	}
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, json_pack("{s:o}", "value", value));
}

/* 1 when one upload result is well formed. */
static int
fe_result_ok(const json_t *r)
{
	const char	*code = fe_json_str(r, "errorCode");
	size_t		 i;

	if (!json_is_object(r) || fe_json_str(r, "requestContext") == NULL ||
	    !json_is_boolean(json_object_get(r, "succeeded")) ||
	    fe_json_str(r, "errorMessage") == NULL || code == NULL ||
	    *code == '\0')
		return 0;
	/* reference §2: errorCode is a numeric string ("0", "4000"...). */
	for (i = 0; code[i] != '\0'; i++)
		if (!isdigit((unsigned char)code[i]))
			return 0;
	return 1;
}

/* Stores one valid result and answers its request (lock held). */
static void
fe_result_store(struct fe_state *st, json_t *r, const char *now)
{
	const char		*ctx_id = fe_json_str(r, "requestContext");
	struct fe_revreq	*q;
	json_t			*rec = json_deep_copy(r);
	int			 known = 0;
	size_t			 i;

	for (i = 0; i < st->revreqs.n; i++) {
		q = st->revreqs.v[i];
		if (strcmp(q->context, ctx_id) == 0) {
			q->answered = 1;
			known = 1;
		}
	}
	if (rec == NULL)
		return;
	json_object_set_new(rec, "known", json_boolean(known));
	json_object_set_new(rec, "time", json_string(now));
	fe_state_record(st->revresults, rec);
}

/* POST CertificateAuthorityRequests/uploadRevocationResults. */
static int
fe_pki_upload(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, json_t *body)
{
	json_t	*results = json_object_get(body, "results"), *r;
	char	 now[21];
	size_t	 i;

	if (!json_is_array(results))
		return fe_intune_bad(req, resp, "The body must be "
		    "{\"results\":[...]}.");
	json_array_foreach(results, i, r)
		if (!fe_result_ok(r))
			return fe_intune_bad(req, resp, "Each result must carry "
			    "requestContext (string), succeeded (boolean), "
			    "errorCode (numeric string) and errorMessage "
			    "(string).");
	time_iso8601(time(NULL), now);
	fe_state_lock(ctx->st);
	json_array_foreach(results, i, r)
		fe_result_store(ctx->st, r, now);
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, json_pack("{s:b}", "value", 1));
}

static const struct fe_intune_op fe_intune_ops[] = {
	{ "/intune/scep/ScepActions/validateRequest", SCEP_API,
	    fe_scep_validate },
	{ "/intune/scep/ScepActions/successNotification", SCEP_API,
	    fe_scep_success },
	{ "/intune/scep/ScepActions/failureNotification", SCEP_API,
	    fe_scep_failure },
	{ "/intune/pki/CertificateAuthorityRequests/downloadRevocationRequests",
	    PKI_API, fe_pki_download },
	{ "/intune/pki/CertificateAuthorityRequests/uploadRevocationResults",
	    PKI_API, fe_pki_upload },
};

/* Answers 401 unless req carries a live Intune token.  1 when answered. */
static int
fe_intune_auth(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const char	*msg;

	switch (fe_bearer_check(ctx, req, FE_AUD_INTUNE)) {
	case FE_BEARER_OK:
		return 0;
	case FE_BEARER_MISSING:
		msg = "Authorization header with a bearer token is required.";
		break;
	case FE_BEARER_EXPIRED:
		msg = "The access token has expired.";
		break;
	case FE_BEARER_WRONG_AUD:
		msg = "The access token audience is not this service.";
		break;
	default:
		msg = "The access token is not valid.";
		break;
	}
	fe_resp_header(resp, "WWW-Authenticate", "Bearer");
	return fe_graph_error(req, resp, 401, "Unauthorized", "%s", msg) == -1 ?
	    -1 : 1;
}

/* The header checks every Intune operation shares.  1 when answered. */
static int
fe_intune_headers(const struct fe_req *req, struct fe_resp *resp,
    const struct fe_intune_op *op)
{
	if (strcmp(req->method, "POST") != 0)
		return fe_graph_error(req, resp, 405, "MethodNotAllowed",
		    "The requested resource does not support http method "
		    "'%s'.", req->method) == -1 ? -1 : 1;
	/* reference §2: api-version is a header, not a query parameter. */
	if (req->api_version == NULL ||
	    strcmp(req->api_version, op->api_version) != 0)
		return fe_graph_error(req, resp, 400, "BadRequest", "The "
		    "api-version header must be '%s' (got '%s').",
		    op->api_version, req->api_version != NULL ?
		    req->api_version : "(none)") == -1 ? -1 : 1;
	if (req->content_type == NULL ||
	    !fe_starts_with(req->content_type, "application/json"))
		return fe_graph_error(req, resp, 415, "UnsupportedMediaType",
		    "Content-Type must be application/json.") == -1 ? -1 : 1;
	return 0;
}

int
fe_intune_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const struct fe_intune_op	*op = NULL;
	json_t				*body;
	size_t				 i;
	int				 rc;

	for (i = 0; i < sizeof(fe_intune_ops) / sizeof(fe_intune_ops[0]); i++)
		if (strcmp(req->path, fe_intune_ops[i].path) == 0)
			op = &fe_intune_ops[i];
	if (op == NULL)
		return fe_graph_error(req, resp, 404, "NotFound", "No Intune "
		    "operation at '%s'.", req->path);
	if ((rc = fe_intune_auth(ctx, req, resp)) != 0 ||
	    (rc = fe_intune_headers(req, resp, op)) != 0)
		return rc == -1 ? -1 : 0;
	if ((body = fe_json_body(req)) == NULL)
		return fe_intune_bad(req, resp, "The body is not a JSON object.");
	rc = op->fn(ctx, req, resp, body);
	json_decref(body);
	return rc;
}
