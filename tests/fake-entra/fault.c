/*
 * fault.c - injected faults: answers the Microsoft paths give when tests
 * ask for throttling, outages, slowness or dropped connections.
 *
 * A fault applies to non-admin paths that start with its prefix, the
 * first registered one first; it is used `count` times, or until
 * DELETE /_admin/faults when count is 0.  Its status picks the answer:
 * 0 = the normal answer (after latency_ms), -1 = the connection closed
 * without a reply, any 4xx/5xx = that status with the service's error
 * body and Retry-After when retry_after is set.
 */
#include <stdio.h>
#include <string.h>

#include "fake.h"
#include "state.h"

int
fe_fault_take(struct fe_ctx *ctx, const char *path, struct fe_fault_hit *hit)
{
	struct fe_fault	*f;
	size_t		 i;
	int		 found = 0;

	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->faults.n; i++) {
		f = ctx->st->faults.v[i];
		if (strncmp(path, f->prefix, strlen(f->prefix)) != 0)
			continue;
		hit->status = f->status;
		hit->retry_after = f->retry_after;
		hit->latency_ms = f->latency_ms;
		found = 1;
		/* count 0 = until DELETE /_admin/faults */
		if (f->remaining > 0 && --f->remaining == 0)
			fe_fault_free(fe_vec_remove(&ctx->st->faults, i));
		break;
	}
	fe_state_unlock(ctx->st);
	return found;
}

/* Graph's error code and message for an HTTP status. */
static const char *
fe_graph_code(int status, const char **msg)
{
	switch (status) {
	case 400:
		*msg = "The request is malformed or incorrect.";
		return "BadRequest";
	case 401:
		*msg = "Access token validation failure.";
		return "InvalidAuthenticationToken";
	case 403:
		*msg = "Insufficient privileges to complete the operation.";
		return "Authorization_RequestDenied";
	case 404:
		*msg = "The requested resource does not exist.";
		return "Request_ResourceNotFound";
	case 429:
		*msg = "Too many requests. Retry after the number of seconds "
		    "in the Retry-After header.";
		return "TooManyRequests";
	case 503:
		*msg = "The service is temporarily unavailable. Try again "
		    "later.";
		return "serviceNotAvailable";
	case 504:
		*msg = "The request timed out.";
		return "timeout";
	default:
		*msg = "An unspecified error has occurred.";
		return status >= 500 ? "generalException" : "UnknownError";
	}
}

/* Entra's answer for a fault on the token endpoint. */
static int
fe_fault_oauth(const struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, int status)
{
	if (status == 429)
		return fe_oauth_error(ctx, req, resp, status,
		    "temporarily_unavailable", 90055, "TenantThrottlingThreshold"
		    " - The number of requests for this tenant has exceeded the "
		    "throttling threshold. Retry after the number of seconds in "
		    "the Retry-After header.");
	if (status >= 500)
		return fe_oauth_error(ctx, req, resp, status,
		    "temporarily_unavailable", 90033, "A transient error has "
		    "occurred. Please try again.");
	return fe_oauth_error(ctx, req, resp, status, "invalid_request", 90100,
	    "The request is malformed or incorrect (injected fault).");
}

int
fe_fault_respond(const struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, enum fe_area area, const struct fe_fault_hit *hit)
{
	const char	*code, *msg;
	char		 ra[16];

	if (hit->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", hit->retry_after);
		fe_resp_header(resp, "Retry-After", ra);
	}
	if (area == FE_AREA_TOKEN)
		return fe_fault_oauth(ctx, req, resp, hit->status);
	code = fe_graph_code(hit->status, &msg);
	return fe_graph_error(req, resp, hit->status, code, "%s", msg);
}
