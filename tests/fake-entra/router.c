/*
 * router.c - decides which service answers a path, and adds the headers
 * every answer of that service carries.
 */
#include <string.h>

#include "base/log.h"
#include "fake.h"

/* 1 when path is "/{tenant}/oauth2/v2.0/token" with a one-segment tenant. */
static int
fe_is_token_path(const char *path)
{
	const char	*slash;

	if (path[0] != '/' || path[1] == '/' || path[1] == '\0')
		return 0;
	if ((slash = strchr(path + 1, '/')) == NULL)
		return 0;
	return strcmp(slash, "/oauth2/v2.0/token") == 0;
}

enum fe_area
fe_route_area(const char *path)
{
	if (strcmp(path, "/_admin") == 0 || strncmp(path, "/_admin/", 8) == 0)
		return FE_AREA_ADMIN;
	if (strncmp(path, "/v1.0/", 6) == 0)
		return FE_AREA_GRAPH;
	if (strncmp(path, "/intune/", 8) == 0)
		return FE_AREA_INTUNE;
	if (fe_is_token_path(path))
		return FE_AREA_TOKEN;
	return FE_AREA_OTHER;
}

void
fe_route_headers(const struct fe_req *req, struct fe_resp *resp,
    enum fe_area area)
{
	const char	*crid;

	crid = req->client_request_id != NULL ? req->client_request_id :
	    req->request_id;
	switch (area) {
	case FE_AREA_TOKEN:
		fe_resp_header(resp, "x-ms-request-id", req->request_id);
		fe_resp_header(resp, "Cache-Control", "no-store, no-cache");
		fe_resp_header(resp, "Pragma", "no-cache");
		break;
	case FE_AREA_GRAPH:
	case FE_AREA_INTUNE:
		fe_resp_header(resp, "request-id", req->request_id);
		fe_resp_header(resp, "client-request-id", crid);
		break;
	default:
		break;
	}
}

void
fe_route(struct fe_ctx *ctx, const struct fe_req *req, struct fe_resp *resp)
{
	enum fe_area	area = fe_route_area(req->path);
	int		rc;

	switch (area) {
	case FE_AREA_ADMIN:
		rc = fe_admin_handle(ctx, req, resp);
		break;
	case FE_AREA_TOKEN:
		rc = fe_token_handle(ctx, req, resp);
		break;
	case FE_AREA_GRAPH:
		rc = fe_graph_handle(ctx, req, resp);
		break;
	case FE_AREA_INTUNE:
		rc = fe_intune_handle(ctx, req, resp);
		break;
	default:
		rc = fe_graph_error(req, resp, 404, "NotFound",
		    "No service answers '%s' here.", req->path);
		break;
	}
	if (rc == -1) {
		/* Out of memory or a bug: say so plainly, never hang. */
		log_err(FE_LOG, "%s %s: handler failed", req->method,
		    req->raw_uri);
		resp->content_type = "text/plain";
		resp->status = 500;
		buf_reset(&resp->body);
		buf_append_str(&resp->body, "fake-entra: internal error\n");
	}
	if (area != FE_AREA_ADMIN)
		fe_route_headers(req, resp, area);
}
