/*
 * admin.c - the test-facing admin API under /_admin/ (no auth, JSON in and
 * out): dispatch, the records tests read back (notifications, validations,
 * revocation results, requests), faults and token expiry.  The directory
 * objects are in admin_dir.c.  tests/README.md documents every endpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "state.h"

typedef int (*fe_admin_fn)(struct fe_ctx *, const struct fe_req *,
    struct fe_resp *);

struct fe_admin_route {
	const char	*path;		/* after "/_admin/" */
	const char	*method;
	fe_admin_fn	 fn;
};

/* Answers a copy of one record array. */
static int
fe_admin_list(struct fe_ctx *ctx, struct fe_resp *resp, json_t *array)
{
	json_t	*copy;

	fe_state_lock(ctx->st);
	copy = json_deep_copy(array);
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, copy);
}

static int
fe_admin_notifications(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	(void)req;
	return fe_admin_list(ctx, resp, ctx->st->notifications);
}

static int
fe_admin_validations(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	(void)req;
	return fe_admin_list(ctx, resp, ctx->st->validations);
}

static int
fe_admin_revresults(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	(void)req;
	return fe_admin_list(ctx, resp, ctx->st->revresults);
}

static int
fe_admin_requests(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	(void)req;
	return fe_admin_list(ctx, resp, ctx->st->requests);
}

static int
fe_admin_requests_clear(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	size_t	n;

	(void)req;
	fe_state_lock(ctx->st);
	n = json_array_size(ctx->st->requests);
	json_array_clear(ctx->st->requests);
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, json_pack("{s:I}", "cleared",
	    (json_int_t)n));
}

/* Reads an optional integer member; -1 when present but not an integer. */
static int
fe_opt_int(const json_t *o, const char *key, json_int_t dflt, json_int_t *out)
{
	json_t	*v = json_object_get(o, key);

	*out = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* The JSON of a stored fault. */
static json_t *
fe_fault_json(const struct fe_fault *f)
{
	return json_pack("{s:s, s:i, s:o, s:i, s:i}", "path_prefix", f->prefix,
	    "status", f->status, "retry_after", f->retry_after >= 0 ?
	    json_integer(f->retry_after) : json_null(), "latency_ms",
	    f->latency_ms, "count", f->remaining);
}

/* Validates a fault body into f.  Returns 0, or -1 with why set. */
static int
fe_fault_parse(const json_t *b, struct fe_fault *f, const char **why)
{
	const char	*prefix = fe_json_str(b, "path_prefix");
	json_int_t	 status, ra, lat, count;

	*why = "path_prefix (a string starting with '/') is required";
	if (prefix == NULL || prefix[0] != '/')
		return -1;
	*why = "status, retry_after, latency_ms and count must be integers";
	if (fe_opt_int(b, "status", 0, &status) == -1 ||
	    fe_opt_int(b, "retry_after", -1, &ra) == -1 ||
	    fe_opt_int(b, "latency_ms", 0, &lat) == -1 ||
	    fe_opt_int(b, "count", 0, &count) == -1)
		return -1;
	*why = "status must be -1 (drop), 0 (answer normally) or 400-599";
	if (status != -1 && status != 0 && (status < 400 || status > 599))
		return -1;
	*why = "retry_after, latency_ms (<= 600000) and count must not be "
	    "negative";
	if (ra < -1 || ra > 86400 || lat < 0 || lat > 600000 || count < 0 ||
	    count > 1000000)
		return -1;
	if ((f->prefix = strdup(prefix)) == NULL)
		return -1;
	f->status = (int)status;
	f->retry_after = (int)ra;
	f->latency_ms = (int)lat;
	f->remaining = (int)count;
	return 0;
}

static int
fe_admin_fault_add(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	struct fe_fault	*f = NULL;
	json_t		*b = fe_json_body(req), *out = NULL;
	const char	*why = "body is not a JSON object";
	int		 rc;

	if (b == NULL || (f = calloc(1, sizeof(*f))) == NULL ||
	    fe_fault_parse(b, f, &why) == -1) {
		rc = fe_admin_error(resp, 400, "%s", why);
		goto out;
	}
	out = fe_fault_json(f);
	fe_state_lock(ctx->st);
	rc = fe_vec_push(&ctx->st->faults, f);
	fe_state_unlock(ctx->st);
	if (rc == -1)
		goto out;
	f = NULL;
	rc = fe_resp_json(resp, 201, out);
	out = NULL;
out:
	fe_fault_free(f);
	json_decref(out);
	json_decref(b);
	return rc;
}

static int
fe_admin_fault_list(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	json_t	*a = json_array();
	size_t	 i;

	(void)req;
	if (a == NULL)
		return -1;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->faults.n; i++)
		json_array_append_new(a, fe_fault_json(ctx->st->faults.v[i]));
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, a);
}

static int
fe_admin_fault_clear(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	size_t	n;

	(void)req;
	fe_state_lock(ctx->st);
	n = ctx->st->faults.n;
	while (ctx->st->faults.n > 0)
		fe_fault_free(fe_vec_remove(&ctx->st->faults, 0));
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, json_pack("{s:I}", "cleared",
	    (json_int_t)n));
}

/* Every token issued so far expires now. */
static int
fe_admin_tokens_expire(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	struct fe_token	*t;
	time_t		 now = time(NULL);
	size_t		 i, n = 0;

	(void)req;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->tokens.n; i++) {
		t = ctx->st->tokens.v[i];
		if (t->expires > now - 1) {
			t->expires = now - 1;
			n++;
		}
	}
	fe_state_unlock(ctx->st);
	return fe_resp_json(resp, 200, json_pack("{s:I}", "expired",
	    (json_int_t)n));
}

static const struct fe_admin_route fe_admin_routes[] = {
	{ "notifications", "GET", fe_admin_notifications },
	{ "validations", "GET", fe_admin_validations },
	{ "revocationResults", "GET", fe_admin_revresults },
	{ "requests", "GET", fe_admin_requests },
	{ "requests", "DELETE", fe_admin_requests_clear },
	{ "faults", "POST", fe_admin_fault_add },
	{ "faults", "GET", fe_admin_fault_list },
	{ "faults", "DELETE", fe_admin_fault_clear },
	{ "tokens/expire", "POST", fe_admin_tokens_expire },
};

int
fe_admin_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const char	*rest = req->path + strlen("/_admin");
	size_t		 i;
	int		 rc, path_known = 0;

	if (*rest == '/')
		rest++;
	if ((rc = fe_admin_dir_handle(ctx, req, resp, rest)) != 0)
		return rc == -1 ? -1 : 0;
	for (i = 0; i < sizeof(fe_admin_routes) / sizeof(fe_admin_routes[0]);
	    i++) {
		if (strcmp(rest, fe_admin_routes[i].path) != 0)
			continue;
		path_known = 1;
		if (strcmp(req->method, fe_admin_routes[i].method) == 0)
			return fe_admin_routes[i].fn(ctx, req, resp);
	}
	if (path_known)
		return fe_admin_error(resp, 405, "%s not allowed on %s",
		    req->method, req->path);
	return fe_admin_error(resp, 404, "no admin endpoint %s", req->path);
}
