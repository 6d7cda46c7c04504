/*
 * msft/graph.c - the Microsoft Graph paths the product reads (reference §2
 * discovery, §4 devices, users, managed devices); delta.c owns change
 * tracking.  Every call needs a bearer token with the Graph audience.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fake.h"
#include "state.h"

#define INTUNE_APP_ID	"0000000a-0000-0000-c000-000000000000"
#define GRAPH_APP_ID	"00000003-0000-0000-c000-000000000000"
#define GRAPH_CTYPE	"application/json;odata.metadata=minimal;" \
			"odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

/* Answers 401 unless req carries a live Graph token.  1 when answered. */
static int
fe_graph_auth(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const char	*msg;
	char		 hdr[512];

	switch (fe_bearer_check(ctx, req, FE_AUD_GRAPH)) {
	case FE_BEARER_OK:
		return 0;
	case FE_BEARER_MISSING:
		msg = "Access token is empty.";
		break;
	case FE_BEARER_EXPIRED:
		msg = "Lifetime validation failed, the token is expired.";
		break;
	case FE_BEARER_WRONG_AUD:
		msg = "Access token validation failure. Invalid audience.";
		break;
	default:
		msg = "Access token validation failure.";
		break;
	}
	/* RFC 6750 §3: a 401 names the scheme; Graph adds where to log in. */
	snprintf(hdr, sizeof(hdr), "Bearer realm=\"\", authorization_uri=\""
	    "%s/common/oauth2/authorize\", client_id=\"" GRAPH_APP_ID "\"",
	    ctx->cfg->public_url);
	fe_resp_header(resp, "WWW-Authenticate", hdr);
	return fe_graph_error(req, resp, 401, "InvalidAuthenticationToken",
	    "%s", msg) == -1 ? -1 : 1;
}

/* Answers an entity with its @odata.context, or a 400 for a bad $select. */
static int
fe_graph_entity(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, enum fe_kind kind, const void *obj,
    const char *set)
{
	const char	*select = fe_query(req, "$select");
	char		 context[1024];
	json_t		*j, *e;

	if (select != NULL && *select != '\0')
		snprintf(context, sizeof(context), "%s/v1.0/$metadata#%s(%s)"
		    "/$entity", ctx->cfg->public_url, set, select);
	else
		snprintf(context, sizeof(context), "%s/v1.0/$metadata#%s"
		    "/$entity", ctx->cfg->public_url, set);
	/* "@odata.context" leads, as in Graph's answers. */
	j = json_pack("{s:s}", "@odata.context", context);
	e = fe_entity_json(kind, obj, select);
	if (j == NULL || e == NULL || json_object_update(j, e) == -1) {
		json_decref(j);
		json_decref(e);
		return -1;
	}
	json_decref(e);
	resp->content_type = GRAPH_CTYPE;
	return fe_resp_json(resp, 200, j);
}

/* Answers 400 for a $select naming a property kind lacks.  1 if so. */
static int
fe_graph_select_bad(const struct fe_req *req, struct fe_resp *resp,
    enum fe_kind kind, const char *type)
{
	char	bad[128];

	if (fe_select_check(kind, fe_query(req, "$select"), bad,
	    sizeof(bad)) == 0)
		return 0;
	return fe_graph_error(req, resp, 400, "BadRequest", "Parsing OData "
	    "Select and Expand failed: Could not find a property named '%s' on "
	    "type 'microsoft.graph.%s'.", bad, type) == -1 ? -1 : 1;
}

static int
fe_not_found(const struct fe_req *req, struct fe_resp *resp, const char *id)
{
	return fe_graph_error(req, resp, 404, "Request_ResourceNotFound",
	    "Resource '%s' does not exist or one of its queried "
	    "reference-property objects are not present.", id);
}

/*
 * Parses an OData key "name='value'" at s (after the '(' or '/'), name in
 * any case, '' standing for a quote inside the value (OData ABNF).  Without
 * quotes the value ends at ')' or '/'.  Returns 0 with the value in out and
 * *end just past it, or -1.
 */
static int
fe_odata_key(const char *s, const char *name, char *out, size_t outlen,
    const char **end)
{
	size_t	n = strlen(name), o = 0;
	int	quoted;

	if (strncasecmp(s, name, n) != 0 || s[n] != '=')
		return -1;
	s += n + 1;
	if ((quoted = *s == '\''))
		s++;
	for (; *s != '\0'; s++) {
		if (quoted && s[0] == '\'' && s[1] == '\'')
			s++;
		else if (quoted ? *s == '\'' : (*s == ')' || *s == '/'))
			break;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *s;
	}
	if (quoted && *s++ != '\'')
		return -1;
	out[o] = '\0';
	*end = s;
	return o > 0 ? 0 : -1;
}

/* GET servicePrincipals/appId=.../endpoints: the Intune service URIs. */
static int
fe_graph_discovery(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *appid)
{
	static const char *const names[][2] = {
		{ "ScepRequestValidationFEService", "scep" },
		{ "PkiConnectorFEService", "pki" },
		{ "StatelessAppMetadataFEService", "appmetadata" },
		{ "DeviceHealthMonitoringFEService", "health" },
		{ "IntuneEnrollmentService", "enrollment" },
	};
	const char	*pub = ctx->cfg->public_url;
	char		 uri[1024], id[16];
	json_t		*value, *j;
	size_t		 i;

	if (strcasecmp(appid, INTUNE_APP_ID) != 0)
		return fe_not_found(req, resp, appid);
	if ((value = json_array()) == NULL)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(uri, sizeof(uri), "%s/intune/%s", pub, names[i][1]);
		snprintf(id, sizeof(id), "%zu", i + 1);
		json_array_append_new(value, json_pack("{s:s, s:n, s:s, s:s, "
		    "s:s, s:s, s:s}", "id", id, "deletedDateTime", "capability",
		    "IntuneService", "providerId", "", "providerName",
		    names[i][0], "providerResourceId", "", "uri", uri));
	}
	snprintf(uri, sizeof(uri), "%s/v1.0/$metadata#servicePrincipals"
	    "(appId='" INTUNE_APP_ID "')/endpoints", pub);
	j = json_pack("{s:s, s:o}", "@odata.context", uri, "value", value);
	resp->content_type = GRAPH_CTYPE;
	return fe_resp_json(resp, 200, j);
}

/* servicePrincipals/appId=X/endpoints or servicePrincipals(appId='X')/... */
static int
fe_graph_sp(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *rest)
{
	char		 appid[128];
	const char	*end;

	if (*rest != '/' && *rest != '(')
		return 0;
	if (fe_odata_key(rest + 1, "appId", appid, sizeof(appid), &end) == -1)
		return 0;
	if (*rest == '(' && *end++ != ')')
		return 0;
	if (strcasecmp(end, "/endpoints") != 0)
		return 0;
	return fe_graph_discovery(ctx, req, resp, appid) == -1 ? -1 : 1;
}

/* Parses "$filter=deviceId eq 'X'".  Returns 0 with X, or -1. */
static int
fe_filter_device_id(const char *f, char *out, size_t outlen)
{
	const char	*end;
	char		 key[256];

	while (*f == ' ')
		f++;
	if (strncasecmp(f, "deviceId", 8) != 0)
		return -1;
	for (f += 8; *f == ' '; f++)
		;
	if (strncasecmp(f, "eq", 2) != 0 || f[2] != ' ')
		return -1;
	for (f += 2; *f == ' '; f++)
		;
	/* Reuse the key parser on "deviceId='X'". */
	snprintf(key, sizeof(key), "deviceId=%s", f);
	if (fe_odata_key(key, "deviceId", out, outlen, &end) == -1)
		return -1;
	while (*end == ' ')
		end++;
	return *end == '\0' ? 0 : -1;
}

/* GET /v1.0/devices[?$filter=deviceId eq 'X']: a collection. */
static int
fe_graph_device_list(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const char		*filter = fe_query(req, "$filter");
	const char		*select = fe_query(req, "$select");
	char			 id[256], context[512];
	struct fe_device	*d;
	json_t			*value;
	size_t			 i;

	if (filter != NULL && fe_filter_device_id(filter, id, sizeof(id)) == -1)
		return fe_graph_error(req, resp, 400, "Request_UnsupportedQuery",
		    "Unsupported or invalid query filter clause specified for "
		    "resource 'Device': '%s'.", filter);
	if ((value = json_array()) == NULL)
		return -1;
	fe_state_lock(ctx->st);
	for (i = 0; i < ctx->st->devices.n; i++) {
		d = ctx->st->devices.v[i];
		if (d->gone != FE_LIVE ||
		    (filter != NULL && strcasecmp(d->device_id, id) != 0))
			continue;
		json_array_append_new(value, fe_entity_json(FE_KIND_DEVICE, d,
		    select));
	}
	fe_state_unlock(ctx->st);
	snprintf(context, sizeof(context), "%s/v1.0/$metadata#devices",
	    ctx->cfg->public_url);
	resp->content_type = GRAPH_CTYPE;
	return fe_resp_json(resp, 200, json_pack("{s:s, s:o}",
	    "@odata.context", context, "value", value));
}

/* /devices(deviceId='X') when by_device_id, else /devices/{object id}. */
static int
fe_graph_device(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *key, int by_device_id)
{
	struct fe_device	*d;
	int			 rc;

	fe_state_lock(ctx->st);
	d = by_device_id ? fe_device_find(ctx->st, key) :
	    fe_device_find_id(ctx->st, key);
	if (d == NULL || d->gone != FE_LIVE)
		rc = fe_not_found(req, resp, key);
	else
		rc = fe_graph_entity(ctx, req, resp, FE_KIND_DEVICE, d,
		    "devices");
	fe_state_unlock(ctx->st);
	return rc;
}

/* Everything under /v1.0/devices. */
static int
fe_graph_devices(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *rest)
{
	char		 key[256];
	const char	*end;
	int		 rc;

	if ((rc = fe_graph_select_bad(req, resp, FE_KIND_DEVICE, "device")))
		return rc;
	if (*rest == '\0')
		return fe_graph_device_list(ctx, req, resp);
	if (strcmp(rest, "/delta") == 0 || strcmp(rest, "/delta()") == 0 ||
	    strcmp(rest, "/microsoft.graph.delta") == 0 ||
	    strcmp(rest, "/microsoft.graph.delta()") == 0)
		return fe_delta_handle(ctx, req, resp, 0);
	if (*rest == '(' &&
	    fe_odata_key(rest + 1, "deviceId", key, sizeof(key), &end) == 0 &&
	    strcmp(end, ")") == 0)
		return fe_graph_device(ctx, req, resp, key, 1);
	if (*rest == '/' && rest[1] != '\0' && strchr(rest + 1, '/') == NULL)
		return fe_graph_device(ctx, req, resp, rest + 1, 0);
	return fe_graph_error(req, resp, 400, "BadRequest", "Resource not found "
	    "for the segment '%s'.", rest + 1);
}

/* Everything under /v1.0/users. */
static int
fe_graph_users(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *rest)
{
	struct fe_user	*u;
	int		 rc;

	if ((rc = fe_graph_select_bad(req, resp, FE_KIND_USER, "user")))
		return rc;
	if (strcmp(rest, "/delta") == 0 || strcmp(rest, "/delta()") == 0 ||
	    strcmp(rest, "/microsoft.graph.delta") == 0 ||
	    strcmp(rest, "/microsoft.graph.delta()") == 0)
		return fe_delta_handle(ctx, req, resp, 1);
	if (*rest != '/' || rest[1] == '\0' || strchr(rest + 1, '/') != NULL)
		return fe_graph_error(req, resp, 400, "BadRequest", "Resource "
		    "not found for the segment 'users%s'.", rest);
	fe_state_lock(ctx->st);
	u = fe_user_find(ctx->st, rest + 1);
	/* Soft-deleted users are 404 too (reference §4). */
	if (u == NULL || u->gone != FE_LIVE)
		rc = fe_not_found(req, resp, rest + 1);
	else
		rc = fe_graph_entity(ctx, req, resp, FE_KIND_USER, u, "users");
	fe_state_unlock(ctx->st);
	return rc;
}

/* GET /v1.0/deviceManagement/managedDevices/{id}. */
static int
fe_graph_managed(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp, const char *id)
{
	struct fe_mdev	*m;
	int		 rc;

	if ((rc = fe_graph_select_bad(req, resp, FE_KIND_MDEV,
	    "managedDevice")))
		return rc;
	if (*id == '\0' || strchr(id, '/') != NULL)
		return fe_graph_error(req, resp, 400, "BadRequest", "Resource "
		    "not found for the segment '%s'.", id);
	fe_state_lock(ctx->st);
	if ((m = fe_mdev_find(ctx->st, id)) == NULL)
		/* Intune's own 404 code, not the directory's. */
		rc = fe_graph_error(req, resp, 404, "ResourceNotFound",
		    "Resource not found: managedDevice '%s'.", id);
	else
		rc = fe_graph_entity(ctx, req, resp, FE_KIND_MDEV, m,
		    "deviceManagement/managedDevices");
	fe_state_unlock(ctx->st);
	return rc;
}

int
fe_graph_handle(struct fe_ctx *ctx, const struct fe_req *req,
    struct fe_resp *resp)
{
	const char	*p = req->path + strlen("/v1.0");
	int		 rc;

	if ((rc = fe_graph_auth(ctx, req, resp)) != 0)
		return rc == -1 ? -1 : 0;
	if (strcmp(req->method, "GET") != 0)
		return fe_graph_error(req, resp, 405, "Request_BadRequest",
		    "Specified HTTP method is not allowed for the request "
		    "target.");
	if (strncmp(p, "/servicePrincipals", 18) == 0 &&
	    (rc = fe_graph_sp(ctx, req, resp, p + 18)) != 0)
		return rc == -1 ? -1 : 0;
	if (strncmp(p, "/devices", 8) == 0 &&
	    (p[8] == '\0' || p[8] == '/' || p[8] == '('))
		return fe_graph_devices(ctx, req, resp, p + 8);
	if (strncmp(p, "/users", 6) == 0 && (p[6] == '\0' || p[6] == '/'))
		return fe_graph_users(ctx, req, resp, p + 6);
	if (strncmp(p, "/deviceManagement/managedDevices/", 33) == 0)
		return fe_graph_managed(ctx, req, resp, p + 33);
	return fe_graph_error(req, resp, 400, "BadRequest", "Resource not found "
	    "for the segment '%s'.", p + 1);
}
