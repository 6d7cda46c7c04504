/*
 * mserr.c - error bodies in each Microsoft dialect: Entra's OAuth errors,
 * Graph's {"error":{...}} (which the Intune services also get here), and
 * the admin API's plain {"error":"..."}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/encode.h"
#include "fake.h"

int
fe_oauth_error(const struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, int status, const char *error, int code,
    const char *text)
{
	struct buf	 desc = {0};
	char		 ts[32], uri[512], corr[37];
	json_t		*j = NULL;
	int		 rc = -1;

	/* Entra echoes the caller's client-request-id as correlation id. */
	if (req->client_request_id != NULL)
		snprintf(corr, sizeof(corr), "%.36s", req->client_request_id);
	else if (uuid_v4(corr) == -1)
		goto out;
	fe_time_entra(time(NULL), ts);
	if (buf_printf(&desc, "AADSTS%d: %s\r\nTrace ID: %s\r\n"
	    "Correlation ID: %s\r\nTimestamp: %s", code, text,
	    req->request_id, corr, ts) == -1)
		goto out;
	snprintf(uri, sizeof(uri), "%s/error?code=%d", ctx->cfg->public_url,
	    code);
	j = json_pack("{s:s, s:s, s:[i], s:s, s:s, s:s, s:s}",
	    "error", error, "error_description", buf_cstr(&desc),
	    "error_codes", code, "timestamp", ts, "trace_id", req->request_id,
	    "correlation_id", corr, "error_uri", uri);
	rc = fe_resp_json(resp, status, j);
out:
	buf_free(&desc);
	return rc;
}

int
fe_graph_error(const struct fe_req *req, struct fe_resp *resp, int status,
    const char *code, const char *fmt, ...)
{
	struct buf	 msg = {0};
	va_list		 ap;
	char		 date[32];
	const char	*crid;
	json_t		*j;
	int		 rc = -1;

	va_start(ap, fmt);
	rc = buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1 || buf_cstr(&msg) == NULL)
		goto out;
	fe_time_graph(time(NULL), date);
	crid = req->client_request_id != NULL ? req->client_request_id :
	    req->request_id;
	j = json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s}}}", "error",
	    "code", code, "message", buf_cstr(&msg), "innerError",
	    "date", date, "request-id", req->request_id,
	    "client-request-id", crid);
	rc = fe_resp_json(resp, status, j);
out:
	buf_free(&msg);
	return rc;
}

int
fe_admin_error(struct fe_resp *resp, int status, const char *fmt, ...)
{
	struct buf	 msg = {0};
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == 0 && buf_cstr(&msg) != NULL)
		rc = fe_resp_json(resp, status,
		    json_pack("{s:s}", "error", buf_cstr(&msg)));
	else
		rc = -1;
	buf_free(&msg);
	return rc;
}
