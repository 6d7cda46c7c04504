/*
 * conf.h - configuration of the Microsoft cloud clients: cloud
 * presets, tenant and application, credential, timeouts.
 *
 * Fill a conf with entra_conf_set() (one name/value at a time, as an INI
 * section or a FreeRADIUS CONF_SECTION gives them), then call
 * entra_conf_validate() once: it checks everything, resolves the cloud's
 * default URLs and scopes, and loads the client secret.  The validated
 * conf is read-only afterwards and may be shared by any number of threads;
 * it must outlive the clients made from it.
 */
#ifndef BUNDLE_ENTRA_CONF_H
#define BUNDLE_ENTRA_CONF_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

enum entra_cloud {
	ENTRA_CLOUD_GLOBAL = 0,
	ENTRA_CLOUD_USGOV,
	ENTRA_CLOUD_DOD,
	ENTRA_CLOUD_CHINA,
	ENTRA_CLOUD_CUSTOM,
};

/* Signature algorithm of the certificate client assertion. */
enum entra_assertion_alg {
	ENTRA_ALG_PS256 = 0,	/* header x5t#S256 (SHA-256 thumbprint) */
	ENTRA_ALG_RS256,	/* header x5t (SHA-1 thumbprint), older form */
};

#define ENTRA_SECRET_ENV_DEFAULT	"ENTRA_CLIENT_SECRET"
#define ENTRA_TIMEOUT_MS_DEFAULT	10000
#define ENTRA_MAX_RETRIES_DEFAULT	3
#define ENTRA_CALLER_INFO_DEFAULT	"scep-ca-bundle/1.0"

/* Global Intune resource with its trailing slash + "/.default", as MSAL. */
#define ENTRA_INTUNE_SCOPE_GLOBAL	"https://api.manage.microsoft.com//.default"

/*
 * Every string is owned (malloc'd) and NULL when unset.  Set fields with
 * entra_conf_set(); after entra_conf_validate() the URL and scope fields
 * hold their resolved values.
 */
struct entra_conf {
	enum entra_cloud	 cloud;
	char			*tenant;
	char			*client_id;
	char			*client_secret_file;	/* mode 0600 or 0400 */
	char			*client_secret_env;	/* variable name */
	char			*client_cert;		/* PEM certificate */
	char			*client_key;		/* PEM key, mode 0600/0400 */
	enum entra_assertion_alg assertion_alg;
	char			*login_base;	/* e.g. https://login.microsoftonline.com */
	char			*graph_base;	/* e.g. https://graph.microsoft.com */
	char			*graph_scope;
	char			*intune_scope;	/* NULL when the cloud has no default */
	char			*ca_bundle;	/* PEM CAs; NULL: system store */
	long			 timeout_ms;	/* bounds one whole call, retries included */
	int			 max_retries;
	char			*caller_info;	/* User-Agent and Intune callerInfo */

	/* Filled by entra_conf_validate(); wiped by entra_conf_free(). */
	struct buf		 secret;	/* client secret; empty with a certificate */
	int			 validated;
};

/* Returns a conf holding the defaults, or NULL when out of memory. */
struct entra_conf	*entra_conf_new(void);

/* Wipes the secret and frees everything.  Accepts NULL. */
void			 entra_conf_free(struct entra_conf *c);

/*
 * Sets one setting by name: cloud, tenant, client_id, client_secret_file,
 * client_secret_env, client_cert, client_key, assertion_alg (ps256|rs256),
 * login_base, graph_base, graph_scope, intune_scope, ca_bundle, timeout
 * (seconds, decimals allowed), timeout_ms, max_retries, caller_info.
 * Returns 0; or -1 with ERR_NOT_FOUND for a name it does not know (so a
 * caller can handle its own names), ERR_CONFIG for a bad value.  Never
 * takes the secret itself: it comes from a file or the environment.
 */
int			 entra_conf_set(struct entra_conf *c, const char *name,
			    const char *value, struct err *e);

/*
 * Checks the whole conf, resolves the cloud's defaults and loads the
 * client secret (from client_secret_file, else when no certificate is
 * configured from the environment variable client_secret_env, default
 * ENTRA_CLIENT_SECRET).  Returns 0, or -1 with ERR_CONFIG and one line
 * saying what is wrong.
 */
int			 entra_conf_validate(struct entra_conf *c, struct err *e);

/* Name of a cloud ("global"...), for logs. */
const char		*entra_cloud_name(enum entra_cloud cloud);

/*
 * The cloud named name (any case: "global", "usgov", "dod", "china",
 * "custom"), the names entra_conf_set() takes for cloud.  Returns 0 with
 * *cloud set, or -1 for a name it does not know.
 */
int			 entra_cloud_from_name(const char *name,
			    enum entra_cloud *cloud);

/*
 * Writes every cloud name, in enum order and separated by sep, into out
 * (always terminated when size > 0), for messages listing the allowed
 * values.  Returns the length the whole list needs, as snprintf does.
 */
size_t			 entra_cloud_names(char *out, size_t size,
			    const char *sep);

/*
 * Reads a file that holds a secret (client secret, private key) into out,
 * refusing anything but a regular file that neither group nor others may
 * read, or larger than max.  Returns 0, or -1 with ERR_CONFIG.
 */
int			 entra_secret_file_read(const char *path, size_t max,
			    struct buf *out, struct err *e);

#endif
