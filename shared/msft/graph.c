/*
 * graph.c - Microsoft Graph lookups, delta rounds and Intune service
 * discovery (reference/microsoft-apis.md §2, §4).
 *
 * Identifiers that come from certificates are checked (GUIDs) or
 * percent-encoded before they reach a URL, so a quote or a slash in a SAN
 * can never change which resource is asked for.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "msft/graph.h"
#include "msft/http.h"

/* Intune's first-party application (reference §2). */
#define GRAPH_INTUNE_APP_ID	"0000000a-0000-0000-c000-000000000000"
/* Discovered URIs are re-read at least this often. */
#define GRAPH_DISCOVERY_TTL_MS	(24LL * 3600 * 1000)

/*
 * Thread-safety: the discovery cache (endpoints, have_endpoints,
 * endpoints_at) is guarded by lock; gate is atomic; conf and tokens are
 * read-only here (tokens is thread-safe itself).
 */
struct graph_client {
	const struct entra_conf		*conf;		/* borrowed */
	struct entra_token_client	*tokens;	/* borrowed */
	pthread_mutex_t			 lock;
	struct graph_endpoints		 endpoints;
	int				 have_endpoints;
	int64_t				 endpoints_at;
	struct http_gate		 gate;		/* atomic itself */
};

struct graph_client *
graph_client_new(const struct entra_conf *conf,
    struct entra_token_client *tokens, struct err *e)
{
	struct graph_client	*g;

	if (!conf->validated) {
		err_set(e, ERR_CONFIG, "graph: configuration not validated");
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		err_set(e, ERR_NOMEM, "graph: out of memory");
		return NULL;
	}
	g->conf = conf;
	g->tokens = tokens;
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

long
graph_client_retry_after(const struct graph_client *g)
{
	return http_gate_retry_after(&g->gate);
}

void
graph_client_free(struct graph_client *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int
graph_guid_valid(const char *s)
{
	static const char	form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t			i;

	for (i = 0; form[i] != '\0'; i++) {
		if (form[i] == '-' ? s[i] != '-' :
		    strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == 0)
			return 0;
	}
	return s[i] == '\0';
}

/* GET url with a Graph token; the answer in resp.  0, or -1 (e set). */
static int
graph_get_by(struct graph_client *g, const char *url, const char *what,
    int64_t deadline_ms, struct http_response *resp, struct err *e)
{
	struct http_request	req = {0};

	req.method = "GET";
	req.url = url;
	req.subsys = "graph";
	req.what = what;
	req.deadline_ms = deadline_ms;
	req.gate = &g->gate;
	return entra_token_http_do(g->tokens, g->conf->graph_scope, &req, resp,
	    e);
}

/* GET url within the conf's timeout from now. */
static int
graph_get(struct graph_client *g, const char *url, const char *what,
    struct http_response *resp, struct err *e)
{
	return graph_get_by(g, url, what, http_now_ms() + g->conf->timeout_ms,
	    resp, e);
}

/* Sets e (and logs) for an answer that is not the one expected. */
static int
graph_fail_status(const char *what, const struct http_response *resp,
    struct err *e)
{
	char	why[256];

	graph_json_error((char *)resp->body.data, resp->body.len, why,
	    sizeof(why), NULL, 0);
	log_err("graph", "%s: HTTP %ld: %s (client-request-id %s)", what,
	    resp->status, why, resp->request_id);
	return err_set(e, resp->status == 401 || resp->status == 403 ?
	    ERR_AUTH : ERR_REMOTE, "graph: %s: HTTP %ld: %.200s "
	    "(client-request-id %s)", what, resp->status, why,
	    resp->request_id);
}

/*
 * Whether a 404 says "no such object" (Request_ResourceNotFound, or the
 * ResourceNotFound that Intune paths give), not a wrong URL.
 */
static int
graph_is_not_found(const struct http_response *resp)
{
	char	why[8], code[64];
	size_t	n;

	if (resp->status != 404)
		return 0;
	graph_json_error((char *)resp->body.data, resp->body.len, why,
	    sizeof(why), code, sizeof(code));
	n = strlen(code);
	return n >= 8 && strcasecmp(code + n - 8, "NotFound") == 0;
}

/* Parses a 200 answer into out. */
typedef int (*graph_parse_fn)(const char *, size_t, void *, struct err *);

/*
 * Fetches one object: GET url, 200 → parse into out and *found = 1,
 * 404 not-found → *found = 0.  Returns 0, or -1 (e set).
 */
static int
graph_object_get(struct graph_client *g, const char *url, const char *what,
    int64_t deadline_ms, graph_parse_fn parse, void *out, int *found,
    struct err *e)
{
	struct http_response	resp = {0};
	int			rc = -1;

	*found = 0;
	if (graph_get_by(g, url, what, deadline_ms, &resp, e) == -1)
		goto out;
	if (graph_is_not_found(&resp)) {
		rc = 0;
		goto out;
	}
	if (resp.status != 200) {
		graph_fail_status(what, &resp, e);
		goto out;
	}
	if (parse((char *)resp.body.data, resp.body.len, out, e) == -1) {
		log_err("graph", "%s: %s (client-request-id %s)", what,
		    e != NULL ? e->msg : "bad answer", resp.request_id);
		goto out;
	}
	*found = 1;
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

static int
graph_parse_device_cb(const char *j, size_t n, void *out, struct err *e)
{
	return graph_json_parse_device(j, n, out, e);
}

static int
graph_parse_managed_cb(const char *j, size_t n, void *out, struct err *e)
{
	return graph_json_parse_managed_device(j, n, out, e);
}

static int
graph_parse_user_cb(const char *j, size_t n, void *out, struct err *e)
{
	return graph_json_parse_user(j, n, out, e);
}

int
graph_device_get(struct graph_client *g, const char *device_id,
    struct graph_device *out, struct err *e)
{
	return graph_device_get_by(g, device_id, 0, out, e);
}

/* A deadline of 0 means the conf's timeout from now. */
static int64_t
graph_deadline(const struct graph_client *g, int64_t deadline_ms)
{
	return deadline_ms != 0 ? deadline_ms :
	    http_now_ms() + g->conf->timeout_ms;
}

/*
 * GETs one object named by a GUID, at <graph_base><pre><id><post>; parse
 * fills out.  *found is 0 on a 404.  Returns 0 or -1.
 */
static int
graph_get_by_guid(struct graph_client *g, const char *what, const char *pre,
    const char *id, const char *post, int64_t deadline_ms,
    int (*parse)(const char *, size_t, void *, struct err *), void *out,
    int *found, struct err *e)
{
	struct buf	url = {0};
	char		lookup[64];
	int		rc = -1;

	*found = 0;
	snprintf(lookup, sizeof(lookup), "%s lookup", what);
	if (!graph_guid_valid(id))
		return err_set(e, ERR_PARSE, "graph: %s id '%.64s' is not a GUID",
		    what, id);
	/* A GUID needs no escaping in the URL. */
	if (buf_printf(&url, "%s%s%s%s", g->conf->graph_base, pre, id, post) ==
	    -1) {
		err_set(e, ERR_NOMEM, "graph: out of memory");
		goto out;
	}
	rc = graph_object_get(g, buf_cstr(&url), lookup,
	    graph_deadline(g, deadline_ms), parse, out, found, e);
out:
	buf_free(&url);
	return rc;
}

int
graph_device_get_by(struct graph_client *g, const char *device_id,
    int64_t deadline_ms, struct graph_device *out, struct err *e)
{
	int	found, rc;

	memset(out, 0, sizeof(*out));
	/* Alternate key form (reference §4). */
	rc = graph_get_by_guid(g, "device", "/v1.0/devices(deviceId='", device_id,
	    "')?$select=id,deviceId,accountEnabled", deadline_ms,
	    graph_parse_device_cb, out, &found, e);
	out->found = found;
	return rc;
}

int
graph_managed_device_get(struct graph_client *g, const char *id,
    struct graph_managed_device *out, struct err *e)
{
	return graph_managed_device_get_by(g, id, 0, out, e);
}

int
graph_managed_device_get_by(struct graph_client *g, const char *id,
    int64_t deadline_ms, struct graph_managed_device *out, struct err *e)
{
	int	found, rc;

	memset(out, 0, sizeof(*out));
	rc = graph_get_by_guid(g, "managed device",
	    "/v1.0/deviceManagement/managedDevices/", id,
	    "?$select=id,azureADDeviceId,complianceState", deadline_ms,
	    graph_parse_managed_cb, out, &found, e);
	out->found = found;
	return rc;
}

/* A UPN fit for a URL once encoded: printable, one '@', bounded. */
static int
graph_upn_valid(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n >= GRAPH_UPN_MAX || strchr(s, '@') == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Appends the user's path: /users/{id}, /users/{upn encoded}. */
static int
graph_user_path(struct buf *url, const char *id_or_upn)
{
	struct buf	quoted = {0};
	const char	*p;
	int		rc = -1;

	if (graph_guid_valid(id_or_upn))
		return buf_printf(url, "/users/%s", id_or_upn);
	if (id_or_upn[0] != '$')
		return buf_append_str(url, "/users/") == -1 ? -1 :
		    http_url_encode(url, id_or_upn);
	/* A UPN starting with '$' must be a quoted key: users('$x@y'), with
	 * quotes doubled (OData key syntax), then encoded. */
	for (p = id_or_upn; *p != '\0'; p++)
		if (buf_append(&quoted, p, 1) == -1 ||
		    (*p == '\'' && buf_append(&quoted, "'", 1) == -1))
			goto out;
	if (buf_append_str(url, "/users('") == -1 ||
	    http_url_encode(url, buf_cstr(&quoted)) == -1 ||
	    buf_append_str(url, "')") == -1)
		goto out;
	rc = 0;
out:
	buf_free(&quoted);
	return rc;
}

int
graph_user_get(struct graph_client *g, const char *id_or_upn,
    struct graph_user *out, struct err *e)
{
	return graph_user_get_by(g, id_or_upn, 0, out, e);
}

int
graph_user_get_by(struct graph_client *g, const char *id_or_upn,
    int64_t deadline_ms, struct graph_user *out, struct err *e)
{
	struct buf	url = {0};
	int		found = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (!graph_guid_valid(id_or_upn) && !graph_upn_valid(id_or_upn))
		return err_set(e, ERR_PARSE, "graph: '%.64s' is neither a user "
		    "id nor a UPN", id_or_upn);
	if (buf_append_str(&url, g->conf->graph_base) == -1 ||
	    buf_append_str(&url, "/v1.0") == -1 ||
	    graph_user_path(&url, id_or_upn) == -1 ||
	    buf_append_str(&url, "?$select=id,userPrincipalName,"
	    "accountEnabled") == -1) {
		err_set(e, ERR_NOMEM, "graph: out of memory");
		goto out;
	}
	rc = graph_object_get(g, buf_cstr(&url), "user lookup",
	    graph_deadline(g, deadline_ms), graph_parse_user_cb, out, &found, e);
	out->found = found;
out:
	buf_free(&url);
	return rc;
}

/* Builds the first URL of a delta round. */
static int
graph_delta_first_url(struct graph_client *g, enum graph_kind kind,
    int latest, struct buf *url)
{
	return buf_printf(url, "%s/v1.0/%s/delta?$select=%s%s",
	    g->conf->graph_base, kind == GRAPH_DEVICES ? "devices" : "users",
	    kind == GRAPH_DEVICES ? "id,deviceId,accountEnabled" :
	    "id,userPrincipalName,accountEnabled",
	    latest ? "&$deltaToken=latest" : "");
}

/*
 * Fetches and parses one delta page.  Returns 0 with links filled, or -1;
 * *refused is set when the server turned the link down (400/410).
 */
static int
graph_delta_page(struct graph_client *g, const char *url, enum graph_kind kind,
    graph_delta_fn fn, void *arg, struct graph_delta_links *links,
    int *refused, struct err *e)
{
	struct http_response	resp = {0};
	int			rc = -1;

	if (graph_get(g, url, "delta", &resp, e) == -1)
		goto out;
	if (resp.status == 400 || resp.status == 410) {
		*refused = 1;
		graph_fail_status("delta link refused, full sync needed",
		    &resp, e);
		goto out;
	}
	if (resp.status != 200) {
		graph_fail_status("delta", &resp, e);
		goto out;
	}
	if (graph_json_parse_delta_page((char *)resp.body.data, resp.body.len,
	    kind, fn, arg, links, e) == -1) {
		log_err("graph", "delta: %s (client-request-id %s)",
		    e != NULL ? e->msg : "bad page", resp.request_id);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* Moves the next URL of a round into url: 1 more pages, 0 done, -1. */
static int
graph_delta_next(struct graph_client *g, struct graph_delta_links *links,
    struct buf *url, char **delta_link, struct err *e)
{
	const char	*next = links->next_link != NULL ? links->next_link :
			    links->delta_link;

	if (next == NULL)
		return err_set(e, ERR_PARSE, "graph: delta page has neither "
		    "@odata.nextLink nor @odata.deltaLink");
	/* The token must never follow a link to another host. */
	if (!http_url_same_origin(next, g->conf->graph_base))
		return err_set(e, ERR_REMOTE, "graph: delta link '%.80s' is "
		    "not on %s", next, g->conf->graph_base);
	if (links->next_link == NULL) {
		*delta_link = links->delta_link;
		links->delta_link = NULL;
		return 0;
	}
	buf_reset(url);
	return buf_append_str(url, next) == -1 ?
	    err_set(e, ERR_NOMEM, "graph: out of memory") : 1;
}

int
graph_delta_run(struct graph_client *g, enum graph_kind kind,
    const char *link, int latest, graph_delta_fn fn, void *arg,
    char **delta_link, int *resync, struct err *e)
{
	struct graph_delta_links	links = { NULL, NULL };
	struct buf			url = {0};
	int				pages, more, rc = -1;

	*delta_link = NULL;
	*resync = 0;
	if ((link != NULL ? buf_append_str(&url, link) :
	    graph_delta_first_url(g, kind, latest, &url)) == -1) {
		err_set(e, ERR_NOMEM, "graph: out of memory");
		goto out;
	}
	if (!http_url_same_origin(buf_cstr(&url), g->conf->graph_base)) {
		*resync = 1;
		err_set(e, ERR_USAGE, "graph: saved delta link is not on %s",
		    g->conf->graph_base);
		goto out;
	}
	for (pages = 0; pages < GRAPH_DELTA_PAGES_MAX; pages++) {
		graph_delta_links_free(&links);
		if (graph_delta_page(g, buf_cstr(&url), kind, fn, arg, &links,
		    resync, e) == -1)
			goto out;
		if ((more = graph_delta_next(g, &links, &url, delta_link,
		    e)) <= 0) {
			rc = more;
			goto out;
		}
	}
	err_set(e, ERR_REMOTE, "graph: delta did not end after %d pages",
	    GRAPH_DELTA_PAGES_MAX);
out:
	graph_delta_links_free(&links);
	buf_free(&url);
	return rc;
}

/* Discovered URIs must be https, unless Graph itself is plain http (tests). */
static int
graph_endpoints_check(const struct graph_client *g,
    const struct graph_endpoints *ep, struct err *e)
{
	int	plain = strncasecmp(g->conf->graph_base, "http://", 7) == 0;
	const char *const uris[] = { ep->scep, ep->pki };
	size_t	i;

	for (i = 0; i < 2; i++) {
		if (uris[i][0] == '\0' ||
		    strncasecmp(uris[i], "https://", 8) == 0 ||
		    (plain && strncasecmp(uris[i], "http://", 7) == 0))
			continue;
		return err_set(e, ERR_REMOTE, "graph: discovered Intune URI "
		    "'%.80s' is not https", uris[i]);
	}
	return 0;
}

static int
graph_endpoints_fetch(struct graph_client *g, int64_t deadline_ms,
    struct graph_endpoints *out, struct err *e)
{
	struct http_response	resp = {0};
	struct buf		url = {0};
	int			rc = -1;

	if (buf_printf(&url, "%s/v1.0/servicePrincipals/appId=%s/endpoints",
	    g->conf->graph_base, GRAPH_INTUNE_APP_ID) == -1) {
		err_set(e, ERR_NOMEM, "graph: out of memory");
		goto out;
	}
	if (graph_get_by(g, buf_cstr(&url), "Intune service discovery",
	    deadline_ms, &resp, e) == -1)
		goto out;
	if (resp.status != 200) {
		graph_fail_status("Intune service discovery", &resp, e);
		goto out;
	}
	if (graph_json_parse_endpoints((char *)resp.body.data, resp.body.len,
	    out, e) == -1 || graph_endpoints_check(g, out, e) == -1) {
		log_err("graph", "Intune service discovery: %s "
		    "(client-request-id %s)", e != NULL ? e->msg : "bad answer",
		    resp.request_id);
		goto out;
	}
	log_info("graph", "Intune services: validation %s, PKI connector %s",
	    out->scep[0] ? out->scep : "(none)", out->pki[0] ? out->pki :
	    "(none)");
	rc = 0;
out:
	buf_free(&url);
	http_response_free(&resp);
	return rc;
}

int
graph_intune_endpoints_get(struct graph_client *g, int64_t deadline_ms,
    struct graph_endpoints *out, struct err *e)
{
	int	cached;

	if (deadline_ms == 0)
		deadline_ms = http_now_ms() + g->conf->timeout_ms;
	pthread_mutex_lock(&g->lock);
	cached = g->have_endpoints &&
	    http_now_ms() - g->endpoints_at < GRAPH_DISCOVERY_TTL_MS;
	if (cached)
		*out = g->endpoints;
	pthread_mutex_unlock(&g->lock);
	if (cached)
		return 0;
	/* Two threads may discover at once; both store the same answer. */
	if (graph_endpoints_fetch(g, deadline_ms, out, e) == -1)
		return -1;
	pthread_mutex_lock(&g->lock);
	g->endpoints = *out;
	g->have_endpoints = 1;
	g->endpoints_at = http_now_ms();
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void
graph_intune_endpoints_forget(struct graph_client *g)
{
	pthread_mutex_lock(&g->lock);
	if (g->have_endpoints)
		log_info("graph", "Intune service discovery cache dropped");
	g->have_endpoints = 0;
	pthread_mutex_unlock(&g->lock);
}
