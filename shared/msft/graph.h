/*
 * graph.h - Microsoft Graph: live status of Entra devices and users,
 * Intune managed devices, change tracking (delta), and the discovery of
 * the Intune service URIs (reference/microsoft-apis.md §2, §4).
 *
 * Thread-safety: a graph_client may be used from any number of threads at
 * once.  The discovery cache is guarded by a mutex; everything else is
 * read-only after graph_client_new().  Every call is bounded by the
 * conf's timeout (each page, for delta).
 */
#ifndef BUNDLE_GRAPH_H
#define BUNDLE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "msft/conf.h"
#include "msft/token.h"

#define GRAPH_ID_MAX		128	/* object ids, deviceIds (GUIDs) */
#define GRAPH_UPN_MAX		256	/* Entra allows 113 */
#define GRAPH_STATE_MAX		64	/* complianceState */
#define GRAPH_URI_MAX		512	/* discovered service URIs */
#define GRAPH_DELTA_PAGES_MAX	100000	/* pages in one delta run */

/* The Intune services found by discovery. */
enum graph_service {
	GRAPH_SVC_SCEP = 0,	/* ScepRequestValidationFEService */
	GRAPH_SVC_PKI,		/* PkiConnectorFEService */
};

enum graph_kind {
	GRAPH_DEVICES = 0,
	GRAPH_USERS,
};

/* Entra device (GET /devices(deviceId='...')).  found = 0: 404. */
struct graph_device {
	int	found;
	char	id[GRAPH_ID_MAX];		/* object id */
	char	device_id[GRAPH_ID_MAX];	/* deviceId */
	int	account_enabled;
};

/* Intune managed device (GET /deviceManagement/managedDevices/{id}). */
struct graph_managed_device {
	int	found;
	char	id[GRAPH_ID_MAX];
	char	azure_ad_device_id[GRAPH_ID_MAX];	/* "" when absent */
	char	compliance_state[GRAPH_STATE_MAX];	/* "" when absent */
};

/* Entra user (GET /users/{id|upn}). */
struct graph_user {
	int	found;
	char	id[GRAPH_ID_MAX];
	char	upn[GRAPH_UPN_MAX];
	int	account_enabled;
};

/* Discovered Intune service URIs, without trailing slash. */
struct graph_endpoints {
	char	scep[GRAPH_URI_MAX];	/* "" when not listed */
	char	pki[GRAPH_URI_MAX];
};

/*
 * One object of a delta page.  Strings live as long as the callback runs.
 * A changed object carries its id and the selected properties that
 * changed; absent ones are NULL / -1.  removed: the object is gone
 * ("@removed", reason "changed" = soft-deleted or "deleted"; both mean
 * gone for us).
 */
struct graph_delta_object {
	enum graph_kind	 kind;
	const char	*id;
	const char	*device_id;		/* devices; NULL when absent */
	const char	*upn;			/* users; NULL when absent */
	int		 account_enabled;	/* 1, 0, or -1 when absent */
	int		 removed;
	const char	*removed_reason;	/* NULL unless removed */
};

/* Receives each delta object.  Returns 0 to go on, -1 to stop the run. */
typedef int (*graph_delta_fn)(void *arg, const struct graph_delta_object *o);

/* The links a delta page ends with (owned, NULL when absent). */
struct graph_delta_links {
	char	*next_link;
	char	*delta_link;
};

struct graph_client;

/*
 * Makes a Graph client.  conf (validated) and tokens are borrowed and
 * must outlive it.  Returns NULL with e filled on failure.
 */
struct graph_client	*graph_client_new(const struct entra_conf *conf,
			    struct entra_token_client *tokens, struct err *e);

/* Frees the client.  Accepts NULL. */
void			 graph_client_free(struct graph_client *g);

/*
 * Seconds Graph asked us to hold back (429/503 Retry-After), 0 when calls
 * may go.  Until then every call fails at once with ERR_THROTTLED.
 */
long			 graph_client_retry_after(const struct graph_client *g);

/*
 * Looks up a device by its Entra deviceId (a GUID; anything else is
 * refused with ERR_PARSE before any request).  Returns 0 with out->found
 * 1 or 0 (404: deleted or never existed), or -1 with e filled.
 */
int			 graph_device_get(struct graph_client *g,
			    const char *device_id, struct graph_device *out,
			    struct err *e);

/* As graph_device_get(), for an Intune managed device id (a GUID). */
int			 graph_managed_device_get(struct graph_client *g,
			    const char *id, struct graph_managed_device *out,
			    struct err *e);

/*
 * Looks up a user by object id (GUID) or userPrincipalName (percent-
 * encoded into the URL).  Returns 0 with out->found set, or -1.
 */
int			 graph_user_get(struct graph_client *g,
			    const char *id_or_upn, struct graph_user *out,
			    struct err *e);

/*
 * The three lookups above with a deadline (http_now_ms() clock) instead
 * of the conf's timeout from now, so that several calls made for one
 * RADIUS login share one bound; 0 means the conf's timeout from now.
 */
int			 graph_device_get_by(struct graph_client *g,
			    const char *device_id, int64_t deadline_ms,
			    struct graph_device *out, struct err *e);
int			 graph_managed_device_get_by(struct graph_client *g,
			    const char *id, int64_t deadline_ms,
			    struct graph_managed_device *out, struct err *e);
int			 graph_user_get_by(struct graph_client *g,
			    const char *id_or_upn, int64_t deadline_ms,
			    struct graph_user *out, struct err *e);

/*
 * Runs one delta round for kind: from link (a deltaLink saved from an
 * earlier round) or, when link is NULL, from the start, or with latest
 * set from now on ($deltaToken=latest: no initial full read).  Follows
 * @odata.nextLink pages (same origin as graph_base only), calls fn for
 * every object, and on success stores the new deltaLink in *delta_link
 * (the caller frees it) and returns 0.  Returns -1 with e filled on
 * failure; *resync is then 1 when the server refused the link (HTTP 400
 * or 410): the caller must start again from the start.
 */
int			 graph_delta_run(struct graph_client *g,
			    enum graph_kind kind, const char *link, int latest,
			    graph_delta_fn fn, void *arg, char **delta_link,
			    int *resync, struct err *e);

/*
 * Returns the Intune service URIs, from the cache or by discovery
 * (servicePrincipals/appId=0000000a-.../endpoints), within deadline_ms
 * (http_now_ms() clock; 0: the conf's timeout from now).  Discovered URIs
 * must be https (http only when graph_base is http, for tests).  Returns
 * 0, or -1 with e filled.
 */
int			 graph_intune_endpoints_get(struct graph_client *g,
			    int64_t deadline_ms, struct graph_endpoints *out,
			    struct err *e);

/*
 * Drops the discovery cache, so the next call discovers again.  The
 * Intune client calls it after a connection failure to a discovered host.
 */
void			 graph_intune_endpoints_forget(struct graph_client *g);

/* ---- JSON decoding, no network (exposed for tests and fuzzing) ---- */

/*
 * Each parser takes a Graph answer body and returns 0, or -1 with
 * ERR_PARSE: not JSON, a required field missing or of the wrong type, or
 * a string longer than its field.
 */
int	graph_json_parse_device(const char *json, size_t len,
	    struct graph_device *out, struct err *e);
int	graph_json_parse_managed_device(const char *json, size_t len,
	    struct graph_managed_device *out, struct err *e);
int	graph_json_parse_user(const char *json, size_t len,
	    struct graph_user *out, struct err *e);
int	graph_json_parse_endpoints(const char *json, size_t len,
	    struct graph_endpoints *out, struct err *e);

/*
 * Parses one delta page: calls fn for each object of "value", fills links
 * (the caller frees both strings).  Returns 0, or -1 (ERR_PARSE, or
 * ERR_INTERNAL when fn stopped the run).
 */
int	graph_json_parse_delta_page(const char *json, size_t len,
	    enum graph_kind kind, graph_delta_fn fn, void *arg,
	    struct graph_delta_links *links, struct err *e);

/* Frees and clears both links.  Accepts NULL. */
void	graph_delta_links_free(struct graph_delta_links *links);

/*
 * Describes a Graph error body {"error":{"code","message"}} as
 * "code: message" in out; code alone into code when not NULL.
 */
void	graph_json_error(const char *json, size_t len, char *out,
	    size_t outlen, char *code, size_t codelen);

/* Returns 1 when s is a GUID (8-4-4-4-12 hex digits), else 0. */
int	graph_guid_valid(const char *s);

#endif
