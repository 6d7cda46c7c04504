/*
 * rlm_entra_match.c - FreeRADIUS 3.2 module: during EAP-TLS, in the
 * check-eap-tls virtual server, looks the client certificate up in the
 * SCEP CA's store (TLS-Client-Cert-Serial + issuer) and checks the live
 * Entra ID status of its device and user, so that a deleted or disabled
 * device is refused at once.
 *
 * Shaped like the server's own modules (rlm_rest, rlm_cache): a static
 * CONF_PARSER table, the instance struct rlm_entra_match_t, validation in
 * mod_instantiate with cf_log_err_cs, mod_detach, one exported module_t.
 * Module-lifetime memory is parented to the instance (talloc), per-request
 * memory to the request.
 *
 * STATUS: this is the skeleton.  mod_authorize reads the certificate's
 * serial and issuer and logs them, and returns noop: NO DECISION IS MADE
 * YET.  The store lookup, the Entra status cache, the Graph client and the
 * decision come from shared/ and are wired in later.
 *
 * Threads: the instance is read-only after mod_instantiate, so
 * mod_authorize may run in any number of server threads at once.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

/* What to do with a certificate the CA's store does not know. */
typedef enum {
	ENTRA_UNKNOWN_REJECT = 0,
	ENTRA_UNKNOWN_PASS
} entra_unknown_t;

/* What to do when Entra ID cannot be asked (Graph down or too slow). */
typedef enum {
	ENTRA_FAIL_CLOSED = 0,
	ENTRA_FAIL_OPEN
} entra_fail_t;

/* Microsoft cloud whose login and Graph endpoints are used. */
typedef enum {
	ENTRA_MATCH_CLOUD_GLOBAL = 0,
	ENTRA_MATCH_CLOUD_USGOV,
	ENTRA_MATCH_CLOUD_DOD,
	ENTRA_MATCH_CLOUD_CHINA,
	ENTRA_MATCH_CLOUD_CUSTOM
} entra_match_cloud_t;

static const FR_NAME_NUMBER unknown_table[] = {
	{ "reject",	ENTRA_UNKNOWN_REJECT },
	{ "pass",	ENTRA_UNKNOWN_PASS },
	{ NULL,		-1 }
};

static const FR_NAME_NUMBER fail_table[] = {
	{ "closed",	ENTRA_FAIL_CLOSED },
	{ "open",	ENTRA_FAIL_OPEN },
	{ NULL,		-1 }
};

static const FR_NAME_NUMBER cloud_table[] = {
	{ "global",	ENTRA_MATCH_CLOUD_GLOBAL },
	{ "usgov",	ENTRA_MATCH_CLOUD_USGOV },
	{ "dod",	ENTRA_MATCH_CLOUD_DOD },
	{ "china",	ENTRA_MATCH_CLOUD_CHINA },
	{ "custom",	ENTRA_MATCH_CLOUD_CUSTOM },
	{ NULL,		-1 }
};

/*
 * Values of control:Entra-Match-Result, as raddb-examples/dictionary
 * defines them.  mod_instantiate checks that every one is in the
 * dictionary, so other policy can rely on them.
 */
static char const * const match_results[] = {
	"accept", "revoked", "expired", "unknown-cert", "device-disabled",
	"device-deleted", "user-disabled", "user-deleted", "graph-unavailable",
	NULL
};

/* Bounds of the numeric options (seconds). */
#define MAX_AGE_MAX		86400		/* a day */
#define FAIL_OPEN_MAX_AGE_MAX	(7 * 86400)	/* a week */
#define DELTA_INTERVAL_MAX	3600
/*
 * A login waits at most `timeout` for Graph.  NASes retransmit after a
 * few seconds and give up soon after, so a longer wait only holds a
 * server thread for an answer nobody will read.
 */
#define TIMEOUT_MAX_SEC		10

typedef struct rlm_entra_match_t {
	char const		*name;		//!< Instance name (entra_match).
	CONF_SECTION		*cs;

	/* Configuration, filled by module_config. */
	char const		*store;		//!< Store path or URL; opened read-only.
	char const		*tenant;
	char const		*client_id;
	char const		*client_secret_file;
	char const		*client_cert;
	char const		*client_key;
	char const		*cloud_str;
	char const		*login_base;
	char const		*graph_base;
	char const		*ca_bundle;
	bool			check_user;	//!< Also check the certificate's user.
	bool			strict;		//!< Always ask Graph, never the cache alone.
	char const		*unknown_str;
	char const		*fail_str;
	uint32_t		max_age;	//!< Cache entry is fresh for this long.
	uint32_t		fail_open_max_age; //!< Oldest state fail = open may use.
	struct timeval		timeout;	//!< Longest Graph wait per login.
	uint32_t		delta_interval;	//!< Graph delta polling period.

	/* Derived by mod_instantiate. */
	entra_unknown_t		unknown;
	entra_fail_t		fail;
	entra_match_cloud_t	cloud;
	DICT_ATTR const		*da_serial;	//!< TLS-Client-Cert-Serial
	DICT_ATTR const		*da_issuer;	//!< TLS-Client-Cert-Issuer
	DICT_ATTR const		*da_result;	//!< Entra-Match-Result
} rlm_entra_match_t;

static const CONF_PARSER module_config[] = {
	{ "store", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_NOT_EMPTY, rlm_entra_match_t, store),
	  "/var/lib/scep-ca/store.db" },

	/* Entra ID application (Graph access) */
	{ "tenant", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, tenant), NULL },
	{ "client_id", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, client_id), NULL },
	{ "client_secret_file", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_entra_match_t, client_secret_file), NULL },
	{ "client_cert", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_entra_match_t, client_cert), NULL },
	{ "client_key", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_entra_match_t, client_key), NULL },
	{ "cloud", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, cloud_str), "global" },
	{ "login_base", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, login_base), NULL },
	{ "graph_base", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, graph_base), NULL },
	{ "ca_bundle", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_entra_match_t, ca_bundle), NULL },

	/* Decision policy */
	{ "check_user", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_entra_match_t, check_user), "no" },
	{ "strict", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_entra_match_t, strict), "no" },
	{ "unknown", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, unknown_str), "reject" },
	{ "fail", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_entra_match_t, fail_str), "closed" },

	/* Status cache and Graph calls */
	{ "max_age", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_entra_match_t, max_age), "300" },
	{ "fail_open_max_age", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_entra_match_t, fail_open_max_age), "3600" },
	{ "timeout", FR_CONF_OFFSET(PW_TYPE_TIMEVAL, rlm_entra_match_t, timeout), "2.0" },
	{ "delta_interval", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_entra_match_t, delta_interval), "2" },

	CONF_PARSER_TERMINATOR
};

/*
 * Parses one enumerated option with its name table.  Returns the value,
 * or -1 after logging which values are allowed.
 */
static int enum_option(CONF_SECTION *conf, char const *option, char const *value,
		       FR_NAME_NUMBER const *table)
{
	FR_NAME_NUMBER const	*p;
	char			allowed[128];
	size_t			len = 0;
	int			v;

	v = fr_str2int(table, value, -1);
	if (v >= 0) return v;

	allowed[0] = '\0';
	for (p = table; p->name; p++) {
		len += snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
				p == table ? "" : " | ", p->name);
		if (len >= sizeof(allowed)) break;
	}
	cf_log_err_cs(conf, "Invalid value \"%s\" for '%s': expected %s", value, option, allowed);
	return -1;
}

/*
 * Checks that a numeric option lies in [min, max].  Returns 0, or -1
 * after logging the allowed range.
 */
static int range_option(CONF_SECTION *conf, char const *option, uint32_t value,
			uint32_t min, uint32_t max)
{
	if (value >= min && value <= max) return 0;

	cf_log_err_cs(conf, "Invalid value %u for '%s': expected %u to %u seconds",
		      value, option, min, max);
	return -1;
}

/* Checks that an optional URL option, when set, is an http(s) URL. */
static int url_option(CONF_SECTION *conf, char const *option, char const *value)
{
	if (!value) return 0;
	if (strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0) return 0;

	cf_log_err_cs(conf, "Invalid value \"%s\" for '%s': expected an http:// or https:// URL",
		      value, option);
	return -1;
}

/*
 * Checks the Entra application settings: a tenant needs a client_id and
 * exactly one credential (client_secret_file, or client_cert with
 * client_key); cloud = custom needs both base URLs.
 *
 * The full check (key file modes, secret loading, cloud presets) belongs
 * to shared/'s entra_conf_validate(), which mod_instantiate will call once
 * the Graph client is wired; these are the checks a configuration reader
 * needs named here, with the file and line of the mistake.
 */
static int entra_options_check(rlm_entra_match_t *inst, CONF_SECTION *conf)
{
	bool has_secret = inst->client_secret_file != NULL;
	bool has_cert = inst->client_cert != NULL || inst->client_key != NULL;

	if (inst->client_cert && !inst->client_key) {
		cf_log_err_cs(conf, "'client_cert' needs 'client_key'");
		return -1;
	}
	if (inst->client_key && !inst->client_cert) {
		cf_log_err_cs(conf, "'client_key' needs 'client_cert'");
		return -1;
	}
	if (has_secret && has_cert) {
		cf_log_err_cs(conf, "Set either 'client_secret_file' or 'client_cert' + 'client_key', not both");
		return -1;
	}
	if (inst->tenant) {
		if (!inst->client_id) {
			cf_log_err_cs(conf, "'tenant' is set, so 'client_id' must be set too");
			return -1;
		}
		if (!has_secret && !has_cert) {
			cf_log_err_cs(conf, "'tenant' is set, so 'client_secret_file' or "
				      "'client_cert' + 'client_key' must be set too");
			return -1;
		}
	} else if (inst->client_id || has_secret || has_cert) {
		cf_log_err_cs(conf, "Entra application settings need 'tenant'");
		return -1;
	}

	if (inst->cloud == ENTRA_MATCH_CLOUD_CUSTOM && (!inst->login_base || !inst->graph_base)) {
		cf_log_err_cs(conf, "'cloud = custom' needs both 'login_base' and 'graph_base'");
		return -1;
	}
	if (url_option(conf, "login_base", inst->login_base) < 0) return -1;
	if (url_option(conf, "graph_base", inst->graph_base) < 0) return -1;
	return 0;
}

/* Checks the cache and timing options. */
static int timing_options_check(rlm_entra_match_t *inst, CONF_SECTION *conf)
{
	if (range_option(conf, "max_age", inst->max_age, 1, MAX_AGE_MAX) < 0) return -1;
	if (range_option(conf, "fail_open_max_age", inst->fail_open_max_age,
			 inst->max_age, FAIL_OPEN_MAX_AGE_MAX) < 0) return -1;
	if (range_option(conf, "delta_interval", inst->delta_interval, 1, DELTA_INTERVAL_MAX) < 0) return -1;

	if ((inst->timeout.tv_sec == 0 && inst->timeout.tv_usec == 0) ||
	    inst->timeout.tv_sec > TIMEOUT_MAX_SEC ||
	    (inst->timeout.tv_sec == TIMEOUT_MAX_SEC && inst->timeout.tv_usec > 0)) {
		cf_log_err_cs(conf, "Invalid value %d.%06d for 'timeout': expected more than 0 and "
			      "at most %d seconds", (int) inst->timeout.tv_sec,
			      (int) inst->timeout.tv_usec, TIMEOUT_MAX_SEC);
		return -1;
	}
	return 0;
}

/*
 * Resolves the attributes the module reads and writes.  The TLS ones are
 * the server's own; Entra-Match-Result and its values come from
 * raddb-examples/dictionary.
 */
static int attributes_resolve(rlm_entra_match_t *inst, CONF_SECTION *conf)
{
	char const * const *r;

	inst->da_serial = dict_attrbyname("TLS-Client-Cert-Serial");
	inst->da_issuer = dict_attrbyname("TLS-Client-Cert-Issuer");
	if (!inst->da_serial || !inst->da_issuer) {
		cf_log_err_cs(conf, "TLS-Client-Cert-Serial/Issuer are not in the dictionary: "
			      "is this server built with TLS?");
		return -1;
	}

	inst->da_result = dict_attrbyname("Entra-Match-Result");
	if (!inst->da_result) {
		cf_log_err_cs(conf, "Attribute 'Entra-Match-Result' is not in the dictionary: "
			      "add the lines of raddb-examples/dictionary to raddb/dictionary");
		return -1;
	}
	for (r = match_results; *r; r++) {
		if (!dict_valbyname(inst->da_result->attr, inst->da_result->vendor, *r)) {
			cf_log_err_cs(conf, "Entra-Match-Result has no VALUE '%s' in the dictionary: "
				      "use the lines of raddb-examples/dictionary", *r);
			return -1;
		}
	}
	return 0;
}

/*
 * Checks every option and derives the enumerations; later also opens the
 * store read-only and starts the status cache.  Returns 0, or -1 after
 * cf_log_err_cs said what is wrong, which makes the server refuse to
 * start (and `radiusd -XC` fail).
 */
static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_entra_match_t	*inst = instance;
	int			v;

	inst->cs = conf;
	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	if ((v = enum_option(conf, "unknown", inst->unknown_str, unknown_table)) < 0) return -1;
	inst->unknown = v;
	if ((v = enum_option(conf, "fail", inst->fail_str, fail_table)) < 0) return -1;
	inst->fail = v;
	if ((v = enum_option(conf, "cloud", inst->cloud_str, cloud_table)) < 0) return -1;
	inst->cloud = v;

	if (entra_options_check(inst, conf) < 0) return -1;
	if (timing_options_check(inst, conf) < 0) return -1;
	if (attributes_resolve(inst, conf) < 0) return -1;

	if (!inst->tenant) {
		WARN("rlm_entra_match (%s): no 'tenant' set: certificates are checked against "
		     "the store only, not against Entra ID", inst->name);
	}
	return 0;
}

/*
 * Frees what talloc does not own.  Nothing yet: the store handle, the
 * status cache and its delta-polling thread will be released here.
 */
static int mod_detach(UNUSED void *instance)
{
	return 0;
}

/*
 * Called in the authorize section of the check-eap-tls virtual server,
 * after the TLS handshake verified the client certificate's chain.
 *
 * NOT YET THE DECISION: for now this only reports the serial and issuer
 * it will look up, and returns noop so the virtual server's own policy
 * decides.  Without TLS-Client-Cert-Serial (called outside EAP-TLS, or in
 * the outer authorize before the handshake finished) it does nothing.
 */
static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	rlm_entra_match_t const	*inst = instance;
	VALUE_PAIR		*serial, *issuer;

	serial = fr_pair_find_by_da(request->packet->vps, inst->da_serial, TAG_ANY);
	if (!serial) {
		RDEBUG2("No TLS-Client-Cert-Serial in the request: not an EAP-TLS "
			"certificate check, nothing to do");
		return RLM_MODULE_NOOP;
	}
	issuer = fr_pair_find_by_da(request->packet->vps, inst->da_issuer, TAG_ANY);

	RDEBUG2("Client certificate TLS-Client-Cert-Serial = %s, TLS-Client-Cert-Issuer = \"%s\"",
		serial->vp_strvalue, issuer ? issuer->vp_strvalue : "");
	RDEBUG2("Store and Entra ID checks are not wired yet: no decision made");

	return RLM_MODULE_NOOP;
}

/*
 *	The module name should be the only globally exported symbol.
 *	That is, everything else should be 'static'.
 */
extern module_t rlm_entra_match;
module_t rlm_entra_match = {
	.magic		= RLM_MODULE_INIT,
	.name		= "entra_match",
	.type		= RLM_TYPE_THREAD_SAFE,
	.inst_size	= sizeof(rlm_entra_match_t),
	.config		= module_config,
	.instantiate	= mod_instantiate,
	.detach		= mod_detach,
	.methods = {
		[MOD_AUTHORIZE]		= mod_authorize,
	},
};
