/*
 * graph_json.c - decoding of Graph answers, apart from the network so
 * that unit tests and fuzzers reach every branch.
 *
 * Answers are parsed strictly: duplicate keys and NUL characters are
 * refused, every string is bounded by the field it lands in, and a wrong
 * type is an error, never a default.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "msft/graph.h"

static json_t *
gj_load(const char *json, size_t len, struct err *e)
{
	json_error_t	 jerr;
	json_t		*root;

	if (json == NULL ||
	    (root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		err_set(e, ERR_PARSE, "graph: answer is not JSON");
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, ERR_PARSE, "graph: answer is not a JSON object");
		return NULL;
	}
	return root;
}

/*
 * Copies string member key of o into dst.  An absent or null member
 * leaves "" and is an error only when required.  Returns 0 or -1.
 */
static int
gj_str(json_t *o, const char *key, char *dst, size_t n, int required,
    struct err *e)
{
	json_t	*v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_set(e, ERR_PARSE, "graph: '%s' missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(e, ERR_PARSE, "graph: '%s' is not a string",
		    key);
	if (json_string_length(v) >= n)
		return err_set(e, ERR_PARSE, "graph: '%s' is too long", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Reads boolean member key: 1/0, or -1 into *out when absent. */
static int
gj_bool(json_t *o, const char *key, int *out, int required, struct err *e)
{
	json_t	*v = json_object_get(o, key);

	*out = -1;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_set(e, ERR_PARSE, "graph: '%s' missing", key);
		return 0;
	}
	if (!json_is_boolean(v))
		return err_set(e, ERR_PARSE, "graph: '%s' is not a boolean",
		    key);
	*out = json_is_true(v);
	return 0;
}

int
graph_json_parse_device(const char *json, size_t len, struct graph_device *out,
    struct err *e)
{
	json_t	*root;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = gj_load(json, len, e)) == NULL)
		return -1;
	if (gj_str(root, "id", out->id, sizeof(out->id), 1, e) == -1 ||
	    gj_str(root, "deviceId", out->device_id, sizeof(out->device_id), 1,
	    e) == -1 ||
	    gj_bool(root, "accountEnabled", &out->account_enabled, 1, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
graph_json_parse_managed_device(const char *json, size_t len,
    struct graph_managed_device *out, struct err *e)
{
	json_t	*root;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = gj_load(json, len, e)) == NULL)
		return -1;
	if (gj_str(root, "id", out->id, sizeof(out->id), 1, e) == -1 ||
	    gj_str(root, "azureADDeviceId", out->azure_ad_device_id,
	    sizeof(out->azure_ad_device_id), 0, e) == -1 ||
	    gj_str(root, "complianceState", out->compliance_state,
	    sizeof(out->compliance_state), 0, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
graph_json_parse_user(const char *json, size_t len, struct graph_user *out,
    struct err *e)
{
	json_t	*root;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = gj_load(json, len, e)) == NULL)
		return -1;
	if (gj_str(root, "id", out->id, sizeof(out->id), 1, e) == -1 ||
	    gj_str(root, "userPrincipalName", out->upn, sizeof(out->upn), 0,
	    e) == -1 ||
	    gj_bool(root, "accountEnabled", &out->account_enabled, 1, e) == -1)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Stores one discovered service entry when it is one we use. */
static int
gj_endpoint_add(json_t *item, struct graph_endpoints *out, struct err *e)
{
	json_t	*name = json_object_get(item, "providerName");
	char	*dst;
	size_t	 n;

	if (!json_is_string(name))
		return 0;
	/* Provider names are matched case-insensitively (reference §2). */
	if (strcasecmp(json_string_value(name),
	    "ScepRequestValidationFEService") == 0)
		dst = out->scep;
	else if (strcasecmp(json_string_value(name),
	    "PkiConnectorFEService") == 0)
		dst = out->pki;
	else
		return 0;
	if (gj_str(item, "uri", dst, GRAPH_URI_MAX, 1, e) == -1)
		return -1;
	for (n = strlen(dst); n > 0 && dst[n - 1] == '/'; n--)
		dst[n - 1] = '\0';
	return 0;
}

int
graph_json_parse_endpoints(const char *json, size_t len,
    struct graph_endpoints *out, struct err *e)
{
	json_t	*root, *value, *item;
	size_t	 i;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = gj_load(json, len, e)) == NULL)
		return -1;
	if (!json_is_array(value = json_object_get(root, "value"))) {
		err_set(e, ERR_PARSE, "graph: endpoints answer has no 'value' "
		    "array");
		goto out;
	}
	json_array_foreach(value, i, item) {
		if (json_is_object(item) && gj_endpoint_add(item, out, e) == -1)
			goto out;
	}
	if (out->scep[0] == '\0' && out->pki[0] == '\0') {
		err_set(e, ERR_PARSE, "graph: no Intune service among the "
		    "endpoints");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Decodes one element of a delta page's "value" and hands it to fn. */
static int
gj_delta_object(json_t *item, enum graph_kind kind, graph_delta_fn fn,
    void *arg, struct err *e)
{
	struct graph_delta_object	 o;
	char				 id[GRAPH_ID_MAX], extra[GRAPH_UPN_MAX];
	char				 reason[32];
	json_t				*removed;
	const char			*key = kind == GRAPH_DEVICES ?
					    "deviceId" : "userPrincipalName";

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	if (!json_is_object(item))
		return err_set(e, ERR_PARSE, "graph: delta item is not an "
		    "object");
	if (gj_str(item, "id", id, sizeof(id), 1, e) == -1 ||
	    gj_str(item, key, extra, kind == GRAPH_DEVICES ? GRAPH_ID_MAX :
	    sizeof(extra), 0, e) == -1 ||
	    gj_bool(item, "accountEnabled", &o.account_enabled, 0, e) == -1)
		return -1;
	o.id = id;
	if (extra[0] != '\0' && kind == GRAPH_DEVICES)
		o.device_id = extra;
	else if (extra[0] != '\0')
		o.upn = extra;
	if ((removed = json_object_get(item, "@removed")) != NULL) {
		if (!json_is_object(removed))
			return err_set(e, ERR_PARSE, "graph: '@removed' is not "
			    "an object");
		if (gj_str(removed, "reason", reason, sizeof(reason), 0,
		    e) == -1)
			return -1;
		o.removed = 1;
		o.removed_reason = reason[0] != '\0' ? reason : "deleted";
	}
	if (fn != NULL && fn(arg, &o) == -1)
		return err_set(e, ERR_INTERNAL, "graph: delta stopped by the "
		    "caller");
	return 0;
}

/* Copies an optional link member into *dst (malloc'd). */
static int
gj_link(json_t *root, const char *key, char **dst, struct err *e)
{
	json_t	*v = json_object_get(root, key);

	*dst = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 64 * 1024)
		return err_set(e, ERR_PARSE, "graph: bad '%s'", key);
	if ((*dst = strdup(json_string_value(v))) == NULL)
		return err_set(e, ERR_NOMEM, "graph: out of memory");
	return 0;
}

int
graph_json_parse_delta_page(const char *json, size_t len, enum graph_kind kind,
    graph_delta_fn fn, void *arg, struct graph_delta_links *links,
    struct err *e)
{
	json_t	*root, *value, *item;
	size_t	 i;
	int	 rc = -1;

	links->next_link = links->delta_link = NULL;
	if ((root = gj_load(json, len, e)) == NULL)
		return -1;
	if (!json_is_array(value = json_object_get(root, "value"))) {
		err_set(e, ERR_PARSE, "graph: delta page has no 'value' array");
		goto out;
	}
	/* Links first: a page with a bad link must not be half applied. */
	if (gj_link(root, "@odata.nextLink", &links->next_link, e) == -1 ||
	    gj_link(root, "@odata.deltaLink", &links->delta_link, e) == -1)
		goto out;
	json_array_foreach(value, i, item) {
		if (gj_delta_object(item, kind, fn, arg, e) == -1)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		graph_delta_links_free(links);
	json_decref(root);
	return rc;
}

void
graph_delta_links_free(struct graph_delta_links *links)
{
	if (links == NULL)
		return;
	free(links->next_link);
	free(links->delta_link);
	links->next_link = links->delta_link = NULL;
}

void
graph_json_error(const char *json, size_t len, char *out, size_t outlen,
    char *code, size_t codelen)
{
	json_error_t	 jerr;
	json_t		*root = NULL, *err, *c, *m;

	snprintf(out, outlen, "no error details");
	if (code != NULL && codelen > 0)
		code[0] = '\0';
	if (json == NULL || len == 0 ||
	    (root = json_loadb(json, len, 0, &jerr)) == NULL)
		return;
	err = json_object_get(root, "error");
	c = json_object_get(err, "code");
	m = json_object_get(err, "message");
	if (json_is_string(c)) {
		snprintf(out, outlen, "%.64s%s%.160s", json_string_value(c),
		    json_is_string(m) ? ": " : "",
		    json_is_string(m) ? json_string_value(m) : "");
		if (code != NULL && codelen > 0)
			snprintf(code, codelen, "%s", json_string_value(c));
	}
	json_decref(root);
}
