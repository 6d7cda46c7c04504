/*
 * intune.c - calls of the Intune third-party CA API: validation,
 * notifications, revocation requests (reference/microsoft-apis.md §2).
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "msft/http.h"
#include "msft/intune.h"

/* Read-only after intune_client_new() but for the atomic gate. */
struct intune_client {
	const struct entra_conf		*conf;		/* borrowed */
	struct entra_token_client	*tokens;	/* borrowed */
	struct graph_client		*graph;		/* borrowed */
	struct http_gate		 gate;
};

/* Where one operation goes. */
struct intune_op {
	enum graph_service	 service;
	const char		*path;		/* below the service URI */
	const char		*api_version;	/* header, not a query */
	const char		*what;		/* for messages */
};

static const struct intune_op op_validate = { GRAPH_SVC_SCEP,
    "ScepActions/validateRequest", INTUNE_API_VERSION_SCEP,
    "validateRequest" };
static const struct intune_op op_success = { GRAPH_SVC_SCEP,
    "ScepActions/successNotification", INTUNE_API_VERSION_SCEP,
    "successNotification" };
static const struct intune_op op_failure = { GRAPH_SVC_SCEP,
    "ScepActions/failureNotification", INTUNE_API_VERSION_SCEP,
    "failureNotification" };
static const struct intune_op op_download = { GRAPH_SVC_PKI,
    "CertificateAuthorityRequests/downloadRevocationRequests",
    INTUNE_API_VERSION_PKI, "downloadRevocationRequests" };
static const struct intune_op op_upload = { GRAPH_SVC_PKI,
    "CertificateAuthorityRequests/uploadRevocationResults",
    INTUNE_API_VERSION_PKI, "uploadRevocationResults" };

struct intune_client *
intune_client_new(const struct entra_conf *conf,
    struct entra_token_client *tokens, struct graph_client *graph,
    struct err *e)
{
	struct intune_client	*ic;

	if (!conf->validated) {
		err_set(e, ERR_CONFIG, "intune: configuration not validated");
		return NULL;
	}
	if (conf->intune_scope == NULL) {
		err_set(e, ERR_CONFIG, "intune: set intune_scope: no default "
		    "is known for cloud %s", entra_cloud_name(conf->cloud));
		return NULL;
	}
	if ((ic = calloc(1, sizeof(*ic))) == NULL) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		return NULL;
	}
	ic->conf = conf;
	ic->tokens = tokens;
	ic->graph = graph;
	return ic;
}

long
intune_client_retry_after(const struct intune_client *ic)
{
	return http_gate_retry_after(&ic->gate);
}

void
intune_client_free(struct intune_client *ic)
{
	free(ic);
}

/* Builds {uri}/{path} for op from discovery.  0, or -1. */
static int
intune_op_url(struct intune_client *ic, const struct intune_op *op,
    int64_t deadline_ms, struct buf *url, struct err *e)
{
	struct graph_endpoints	ep;
	const char		*uri;

	if (graph_intune_endpoints_get(ic->graph, deadline_ms, &ep, e) == -1)
		return -1;
	uri = op->service == GRAPH_SVC_SCEP ? ep.scep : ep.pki;
	if (uri[0] == '\0')
		return err_set(e, ERR_REMOTE, "intune: discovery lists no %s",
		    op->service == GRAPH_SVC_SCEP ?
		    "ScepRequestValidationFEService" : "PkiConnectorFEService");
	if (buf_printf(url, "%s/%s", uri, op->path) == -1)
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	return 0;
}

/* Sets e (and logs) for a non-2xx answer. */
static int
intune_fail_status(const struct intune_op *op, const struct http_response *r,
    struct err *e)
{
	char	why[256];

	graph_json_error((char *)r->body.data, r->body.len, why, sizeof(why),
	    NULL, 0);
	log_err("intune", "%s: HTTP %ld: %s (client-request-id %s)", op->what,
	    r->status, why, r->request_id);
	return err_set(e, r->status == 401 || r->status == 403 ? ERR_AUTH :
	    ERR_REMOTE, "intune: %s: HTTP %ld: %.200s (client-request-id %s)",
	    op->what, r->status, why, r->request_id);
}

/*
 * POSTs body to op's URI with an Intune token.  Returns 0 with a 2xx
 * answer in resp, or -1 with e filled.  A transport failure drops the
 * discovery cache: the service may have moved (reference §2).
 */
static int
intune_post(struct intune_client *ic, const struct intune_op *op,
    const struct buf *body, struct http_response *resp, struct err *e)
{
	struct http_request	 req = {0};
	struct buf		 url = {0}, hdr = {0};
	const char		*headers[2] = { NULL, NULL };
	int			 rc = -1;

	req.deadline_ms = http_now_ms() + ic->conf->timeout_ms;
	if (intune_op_url(ic, op, req.deadline_ms, &url, e) == -1)
		goto out;
	if (buf_printf(&hdr, "api-version: %s", op->api_version) == -1) {
		err_set(e, ERR_NOMEM, "intune: out of memory");
		goto out;
	}
	headers[0] = buf_cstr(&hdr);
	req.method = "POST";
	req.url = buf_cstr(&url);
	req.subsys = "intune";
	req.what = op->what;
	req.content_type = "application/json";
	req.body = body->data;
	req.body_len = body->len;
	req.headers = headers;
	req.gate = &ic->gate;
	if (entra_token_http_do(ic->tokens, ic->conf->intune_scope, &req, resp,
	    e) == -1) {
		if (resp->transport_error)
			graph_intune_endpoints_forget(ic->graph);
		goto out;
	}
	if (resp->status < 200 || resp->status > 299) {
		intune_fail_status(op, resp, e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&url);
	buf_free(&hdr);
	return rc;
}

/* Logs a malformed answer with its request id; e already says what. */
static int
intune_bad_answer(const struct intune_op *op, const struct http_response *r,
    const struct err *e)
{
	log_err("intune", "%s: %s (client-request-id %s)", op->what,
	    e != NULL ? e->msg : "malformed answer", r->request_id);
	return -1;
}

int
intune_scep_validate(struct intune_client *ic, const char *transaction_id,
    const unsigned char *csr_der, size_t csr_len,
    struct intune_validation *out, struct err *e)
{
	struct http_response	resp = {0};
	struct buf		body = {0};
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (intune_json_validate_request(transaction_id, csr_der, csr_len,
	    ic->conf->caller_info, &body, e) == -1 ||
	    intune_post(ic, &op_validate, &body, &resp, e) == -1)
		goto out;
	if (intune_json_parse_validation((char *)resp.body.data, resp.body.len,
	    out, e) == -1) {
		intune_bad_answer(&op_validate, &resp, e);
		goto out;
	}
	if (!out->success)
		log_info("intune", "validateRequest refused transaction %.64s: "
		    "%s: %.200s (client-request-id %s)", transaction_id,
		    out->code, out->description, resp.request_id);
	rc = 0;
out:
	buf_free(&body);
	http_response_free(&resp);
	return rc;
}

/* Sends a notification body built by the caller. */
static int
intune_notify(struct intune_client *ic, const struct intune_op *op,
    const struct buf *body, struct err *e)
{
	struct http_response	resp = {0};
	int			rc;

	rc = intune_post(ic, op, body, &resp, e);
	http_response_free(&resp);
	return rc;
}

int
intune_scep_notify_success(struct intune_client *ic,
    const struct intune_success *n, struct err *e)
{
	struct buf	body = {0};
	int		rc = -1;

	if (intune_json_success_notification(n, ic->conf->caller_info, &body,
	    e) == 0)
		rc = intune_notify(ic, &op_success, &body, e);
	buf_free(&body);
	return rc;
}

int
intune_scep_notify_failure(struct intune_client *ic,
    const struct intune_failure *n, struct err *e)
{
	struct buf	body = {0};
	int		rc = -1;

	if (intune_json_failure_notification(n, ic->conf->caller_info, &body,
	    e) == 0)
		rc = intune_notify(ic, &op_failure, &body, e);
	buf_free(&body);
	return rc;
}

int
intune_revocation_download(struct intune_client *ic, int max_requests,
    struct intune_revocation_list *out, struct err *e)
{
	struct http_response	resp = {0};
	struct buf		body = {0};
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (max_requests < 1)
		return err_set(e, ERR_USAGE, "intune: maxRequests must be > 0");
	if (intune_json_download_request(max_requests, &body, e) == -1 ||
	    intune_post(ic, &op_download, &body, &resp, e) == -1)
		goto out;
	if (intune_json_parse_revocations((char *)resp.body.data,
	    resp.body.len, out, e) == -1) {
		intune_bad_answer(&op_download, &resp, e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	http_response_free(&resp);
	return rc;
}

int
intune_revocation_upload(struct intune_client *ic,
    const struct intune_revocation_result *results, size_t n, struct err *e)
{
	struct http_response	resp = {0};
	struct buf		body = {0};
	int			rc = -1;

	if (intune_json_upload_results(results, n, &body, e) == -1 ||
	    intune_post(ic, &op_upload, &body, &resp, e) == -1)
		goto out;
	if (intune_json_parse_upload((char *)resp.body.data, resp.body.len,
	    e) == -1) {
		intune_bad_answer(&op_upload, &resp, e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&body);
	http_response_free(&resp);
	return rc;
}
