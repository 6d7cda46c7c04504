/*
 * rlm_entra_match.c - FreeRADIUS 3.2 module: during EAP-TLS, in the
 * check-eap-tls virtual server, looks the client certificate up in the
 * SCEP CA's store (TLS-Client-Cert-Serial), checks that it is the stored
 * certificate (issuer, authority key id, subject, notAfter as FreeRADIUS
 * prints them) and checks the Entra ID status of its device and user, so
 * that a deleted or disabled device is refused at its next login.
 *
 * Shaped like the server's own modules (rlm_rest, rlm_cache): a static
 * CONF_PARSER table, the instance struct rlm_entra_match_t, validation in
 * mod_instantiate with cf_log_err_cs, mod_detach, one exported module_t.
 * Module-lifetime memory is parented to the instance (talloc); the engine
 * (store, Graph clients, status cache, delta thread), which is not talloc
 * memory, is released by a talloc destructor.
 *
 * This file is glue: the decision is rlm_entra_match/entra_match.c, the cache and
 * its delta thread shared/status/cache.c and status/delta.c, all tested
 * without FreeRADIUS.
 *
 * Threads: the instance is read-only after mod_instantiate and the engine
 * is thread-safe, so mod_authorize may run in any number of server
 * threads at once.  The engine runs one thread of its own (Graph delta
 * polling), started in mod_instantiate and joined in mod_detach.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

#include "base/log.h"
#include "entra_match.h"
#include "msft/conf.h"

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

/* What the module tells Graph and Intune it is (User-Agent). */
#define ENTRA_MATCH_CALLER	"rlm_entra_match/1.0"

/*
 * Holds the engine, which is not talloc memory: freeing this (mod_detach,
 * or the instance's own free) runs the destructor that stops the delta
 * thread and releases the store and the clients.
 */
typedef struct {
	struct entra_match_engine	*engine;
} rlm_entra_match_handle_t;

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
	char const		*cloud_str;	//!< A cloud name of msft/conf.c.
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
	struct timeval		delta_interval;	//!< Graph delta polling period.

	/* Derived by mod_instantiate. */
	entra_unknown_t		unknown;
	entra_fail_t		fail;
	DICT_ATTR const		*da_serial;	//!< TLS-Client-Cert-Serial
	DICT_ATTR const		*da_issuer;	//!< TLS-Client-Cert-Issuer
	DICT_ATTR const		*da_aki;	//!< ...-X509v3-Authority-Key-Identifier
	DICT_ATTR const		*da_subject;	//!< TLS-Client-Cert-Subject
	DICT_ATTR const		*da_expiration;	//!< TLS-Client-Cert-Expiration
	DICT_ATTR const		*da_san_part[3]; //!< ...-Subject-Alt-Name-Email, -Dns, -Upn
	DICT_ATTR const		*da_san;	//!< ...-X509v3-Subject-Alternative-Name, or NULL
	DICT_ATTR const		*da_result;	//!< Entra-Match-Result
	rlm_entra_match_handle_t *handle;	//!< The engine; NULL after mod_detach.
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
	{ "delta_interval", FR_CONF_OFFSET(PW_TYPE_TIMEVAL, rlm_entra_match_t, delta_interval), "1.5" },

	CONF_PARSER_TERMINATOR
};

/* Logs that value is none of the allowed ones ("a | b") for option. */
static void enum_refuse(CONF_SECTION *conf, char const *option, char const *value,
			char const *allowed)
{
	cf_log_err_cs(conf, "Invalid value \"%s\" for '%s': expected %s", value, option, allowed);
}

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
	enum_refuse(conf, option, value, allowed);
	return -1;
}

/*
 * Checks 'cloud' against the clouds entra_conf knows (msft/conf.c), the
 * one table of their names and endpoints, before any other Entra setting
 * is looked at.  Returns 0, or -1 after logging which names are allowed.
 */
static int cloud_option(CONF_SECTION *conf, char const *value)
{
	enum entra_cloud	cloud;
	char			allowed[128];

	if (entra_cloud_from_name(value, &cloud) == 0) return 0;

	entra_cloud_names(allowed, sizeof(allowed), " | ");
	enum_refuse(conf, "cloud", value, allowed);
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

/*
 * Builds the Microsoft cloud settings from the module's options and has
 * shared/'s entra_conf_validate() check them (credential, key file modes,
 * URLs, cloud presets) and load the client secret.  Returns 0 with *out
 * set (NULL when no tenant is configured: store-only checks), or -1 after
 * logging what is wrong.
 */
static int entra_conf_build(rlm_entra_match_t *inst, CONF_SECTION *conf, struct entra_conf **out)
{
	struct {
		char const	*name;
		char const	*value;
	} const settings[] = {
		{ "tenant",		inst->tenant },
		{ "client_id",		inst->client_id },
		{ "client_secret_file",	inst->client_secret_file },
		{ "client_cert",	inst->client_cert },
		{ "client_key",		inst->client_key },
		{ "cloud",		inst->cloud_str },
		{ "login_base",		inst->login_base },
		{ "graph_base",		inst->graph_base },
		{ "ca_bundle",		inst->ca_bundle },
		{ "caller_info",	ENTRA_MATCH_CALLER },
	};
	struct entra_conf	*c;
	struct err		e;
	char			timeout_ms[32];
	size_t			i;

	*out = NULL;
	if (!inst->tenant) {
		if (inst->client_id || inst->client_secret_file || inst->client_cert || inst->client_key) {
			cf_log_err_cs(conf, "Entra application settings need 'tenant'");
			return -1;
		}
		return 0;
	}

	c = entra_conf_new();
	if (!c) {
		cf_log_err_cs(conf, "Out of memory");
		return -1;
	}
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (!settings[i].value) continue;
		if (entra_conf_set(c, settings[i].name, settings[i].value, &e) < 0) goto error;
	}
	snprintf(timeout_ms, sizeof(timeout_ms), "%ld",
		 (long) inst->timeout.tv_sec * 1000 + (long) inst->timeout.tv_usec / 1000);
	if (entra_conf_set(c, "timeout_ms", timeout_ms, &e) < 0) goto error;
	if (entra_conf_validate(c, &e) < 0) goto error;

	*out = c;
	return 0;

error:
	cf_log_err_cs(conf, "%s", e.msg);
	entra_conf_free(c);
	return -1;
}

/* Checks the cache and timing options. */
static int timing_options_check(rlm_entra_match_t *inst, CONF_SECTION *conf)
{
	if (range_option(conf, "max_age", inst->max_age, 1, MAX_AGE_MAX) < 0) return -1;
	if (range_option(conf, "fail_open_max_age", inst->fail_open_max_age,
			 inst->max_age, FAIL_OPEN_MAX_AGE_MAX) < 0) return -1;
	/*
	 * 1.5 s by default: a device disabled in Entra ID is then refused
	 * within 2 s (the poll period plus one Graph answer), at about one
	 * Graph call per 100 logins at a hundred logins a second.
	 */
	if ((inst->delta_interval.tv_sec == 0 && inst->delta_interval.tv_usec < 500000) ||
	    inst->delta_interval.tv_sec > DELTA_INTERVAL_MAX ||
	    (inst->delta_interval.tv_sec == DELTA_INTERVAL_MAX && inst->delta_interval.tv_usec > 0)) {
		cf_log_err_cs(conf, "Invalid value %d.%06d for 'delta_interval': expected 0.5 to "
			      "%d seconds", (int) inst->delta_interval.tv_sec,
			      (int) inst->delta_interval.tv_usec, DELTA_INTERVAL_MAX);
		return -1;
	}

	if ((inst->timeout.tv_sec == 0 && inst->timeout.tv_usec < 1000) ||
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
 * the server's own (dictionary.freeradius.internal);
 * TLS-Client-Cert-X509v3-Subject-Alternative-Name, Entra-Match-Result and
 * its values come from raddb-examples/dictionary.
 */
static int attributes_resolve(rlm_entra_match_t *inst, CONF_SECTION *conf)
{
	static char const *san_parts[3] = {
		"TLS-Client-Cert-Subject-Alt-Name-Email",
		"TLS-Client-Cert-Subject-Alt-Name-Dns",
		"TLS-Client-Cert-Subject-Alt-Name-Upn",
	};
	int r;
	size_t i;

	inst->da_serial = dict_attrbyname("TLS-Client-Cert-Serial");
	inst->da_issuer = dict_attrbyname("TLS-Client-Cert-Issuer");
	inst->da_aki = dict_attrbyname("TLS-Client-Cert-X509v3-Authority-Key-Identifier");
	inst->da_subject = dict_attrbyname("TLS-Client-Cert-Subject");
	inst->da_expiration = dict_attrbyname("TLS-Client-Cert-Expiration");
	for (i = 0; i < 3; i++) inst->da_san_part[i] = dict_attrbyname(san_parts[i]);
	if (!inst->da_serial || !inst->da_issuer || !inst->da_aki || !inst->da_subject ||
	    !inst->da_expiration || !inst->da_san_part[0] || !inst->da_san_part[1] ||
	    !inst->da_san_part[2]) {
		cf_log_err_cs(conf, "TLS-Client-Cert-Serial, -Issuer, -Subject, -Expiration, "
			      "-Subject-Alt-Name-* or -X509v3-Authority-Key-Identifier are not in "
			      "the dictionary: is this server built with TLS?");
		return -1;
	}

	inst->da_san = dict_attrbyname("TLS-Client-Cert-X509v3-Subject-Alternative-Name");
	if (!inst->da_san && inst->unknown == ENTRA_UNKNOWN_PASS) {
		WARN("rlm_entra_match (%s): 'unknown = pass' but TLS-Client-Cert-X509v3-Subject-Alternative-Name "
		     "is not in the dictionary: certificates from other CAs cannot be checked against "
		     "Entra ID (add the lines of raddb-examples/dictionary)", inst->name);
	}

	inst->da_result = dict_attrbyname("Entra-Match-Result");
	if (!inst->da_result) {
		cf_log_err_cs(conf, "Attribute 'Entra-Match-Result' is not in the dictionary: "
			      "add the lines of raddb-examples/dictionary to raddb/dictionary");
		return -1;
	}
	for (r = EM_RESULT_MIN; r <= EM_RESULT_MAX; r++) {
		char const *name = entra_match_result_name((enum entra_match_result) r);
		DICT_VALUE const *dv = dict_valbyname(inst->da_result->attr, inst->da_result->vendor, name);

		if (!dv || dv->value != r) {
			cf_log_err_cs(conf, "Entra-Match-Result has no VALUE '%s' %d in the dictionary: "
				      "use the lines of raddb-examples/dictionary", name, r);
			return -1;
		}
	}
	return 0;
}

/*
 * Routes shared/'s log lines (Graph client, status cache, delta thread)
 * to the server's log.  They name identifiers, never secrets.
 */
static void entra_match_log(UNUSED void *arg, enum log_level level, char const *line)
{
	log_type_t type;

	switch (level) {
	case LOGL_ERR:	type = L_ERR; break;
	case LOGL_WARN:	type = L_WARN; break;
	case LOGL_INFO:	type = L_INFO; break;
	default:	type = L_DBG; break;
	}
	radlog(type, "rlm_entra_match: %s", line);
}

/* Stops the delta thread and frees the engine (talloc destructor). */
static int _entra_match_handle_free(rlm_entra_match_handle_t *handle)
{
	entra_match_engine_free(handle->engine);
	handle->engine = NULL;
	return 0;
}

/*
 * Makes the engine: opens the store read-only, builds the Graph clients
 * and the status cache, and starts the delta thread (not when only
 * checking the configuration, -C).
 */
static int engine_start(rlm_entra_match_t *inst, CONF_SECTION *conf, struct entra_conf *ec)
{
	struct entra_match_engine_opts	o;
	struct err			e;

	memset(&o, 0, sizeof(o));
	o.store_path = inst->store;
	o.conf = ec;		/* the engine owns it from here */
	o.policy.unknown_pass = inst->unknown == ENTRA_UNKNOWN_PASS;
	o.policy.check_user = inst->check_user;
	o.policy.strict = inst->strict;
	o.policy.fail_open = inst->fail == ENTRA_FAIL_OPEN;
	o.policy.max_age_ms = (int64_t) inst->max_age * 1000;
	o.policy.fail_open_max_age_ms = (int64_t) inst->fail_open_max_age * 1000;
	o.timeout_ms = (int64_t) inst->timeout.tv_sec * 1000 + inst->timeout.tv_usec / 1000;
	o.delta_interval_ms = (int64_t) inst->delta_interval.tv_sec * 1000 +
			      inst->delta_interval.tv_usec / 1000;
	o.start_delta = !check_config;

	inst->handle = talloc_zero(inst, rlm_entra_match_handle_t);
	if (!inst->handle) {
		entra_conf_free(ec);
		cf_log_err_cs(conf, "Out of memory");
		return -1;
	}
	talloc_set_destructor(inst->handle, _entra_match_handle_free);

	inst->handle->engine = entra_match_engine_new(&o, &e);
	if (!inst->handle->engine) {
		if (e.code == ERR_STORE) {
			cf_log_err_cs(conf, "%s (the server's user needs read access to the store, "
				      "its -wal and -shm files, and search access to its directory; "
				      "scep-ca must have the store open)", e.msg);
		} else {
			cf_log_err_cs(conf, "%s", e.msg);
		}
		return -1;
	}
	return 0;
}

/*
 * Checks every option, derives the enumerations, opens the store
 * read-only and starts the status cache.  Returns 0, or -1 after
 * cf_log_err_cs said what is wrong, which makes the server refuse to
 * start (and `radiusd -XC` fail).
 */
static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_entra_match_t	*inst = instance;
	struct entra_conf	*ec;
	int			v;

	inst->cs = conf;
	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	if ((v = enum_option(conf, "unknown", inst->unknown_str, unknown_table)) < 0) return -1;
	inst->unknown = v;
	if ((v = enum_option(conf, "fail", inst->fail_str, fail_table)) < 0) return -1;
	inst->fail = v;
	if (cloud_option(conf, inst->cloud_str) < 0) return -1;

	if (timing_options_check(inst, conf) < 0) return -1;
	if (attributes_resolve(inst, conf) < 0) return -1;

	/* Process-wide, like the server's own log: set before threads exist. */
	log_set_sink(entra_match_log, NULL);
	log_set_level(rad_debug_lvl >= L_DBG_LVL_2 ? LOGL_DEBUG : LOGL_INFO);

	if (entra_conf_build(inst, conf, &ec) < 0) return -1;
	if (!ec) {
		WARN("rlm_entra_match (%s): no 'tenant' set: certificates are checked against "
		     "the store only, not against Entra ID", inst->name);
	}
	return engine_start(inst, conf, ec);
}

/* Stops the delta thread and releases the engine. */
static int mod_detach(void *instance)
{
	rlm_entra_match_t *inst = instance;

	TALLOC_FREE(inst->handle);
	return 0;
}

/*
 * The text of a certificate attribute of the request, or NULL when absent.
 * Sets *unreadable when it holds a NUL byte (FreeRADIUS turns "\\000" in
 * the certificate's text into one), which C strings would cut short.
 */
static char const *cert_attr(REQUEST *request, DICT_ATTR const *da, int *unreadable)
{
	VALUE_PAIR *vp;

	if (!da) return NULL;
	vp = fr_pair_find_by_da(request->packet->vps, da, TAG_ANY);
	if (!vp) return NULL;
	if (strlen(vp->vp_strvalue) != vp->vp_length) *unreadable = 1;
	return vp->vp_strvalue;
}

/* Sets control:Entra-Match-Result. */
static void result_set(rlm_entra_match_t const *inst, REQUEST *request, enum entra_match_result r)
{
	VALUE_PAIR *vp;

	vp = fr_pair_afrom_da(request, inst->da_result);
	if (!vp) return;
	vp->vp_integer = r;
	fr_pair_replace(&request->config, vp);
}

/*
 * Called in the authorize section of the check-eap-tls virtual server,
 * after the TLS handshake verified the client certificate's chain.
 *
 * Returns ok (accept), reject (refused: reply:Reply-Message says why),
 * noop (no client certificate in the request, or a certificate of another
 * CA with unknown = pass), or fail (the store could not be read).  Sets
 * control:Entra-Match-Result whenever it decided.
 */
static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	rlm_entra_match_t const		*inst = instance;
	VALUE_PAIR			*serial;
	struct entra_match_cert		cert;
	struct entra_match_verdict	v;
	enum entra_match_result		r;
	char const			*name;
	char				serial_log[128], issuer_log[512];
	size_t				i;

	serial = fr_pair_find_by_da(request->packet->vps, inst->da_serial, TAG_ANY);
	if (!serial) {
		RDEBUG2("No TLS-Client-Cert-Serial in the request: not an EAP-TLS "
			"certificate check, nothing to do");
		return RLM_MODULE_NOOP;
	}
	if (!inst->handle || !inst->handle->engine) return RLM_MODULE_FAIL;

	memset(&cert, 0, sizeof(cert));
	cert.serial = cert_attr(request, inst->da_serial, &cert.unreadable);
	cert.issuer = cert_attr(request, inst->da_issuer, &cert.unreadable);
	cert.aki = cert_attr(request, inst->da_aki, &cert.unreadable);
	cert.subject = cert_attr(request, inst->da_subject, &cert.unreadable);
	cert.expiration = cert_attr(request, inst->da_expiration, &cert.unreadable);
	cert.san = cert_attr(request, inst->da_san, &cert.unreadable);
	/*
	 * The server publishes each SAN entry and the whole SAN text from the
	 * same extension: entries without the text mean the text could not be
	 * made (a value ending in a backslash, say), and could have hidden a
	 * device.
	 */
	for (i = 0; inst->da_san && !cert.san && i < 3; i++) {
		if (fr_pair_find_by_da(request->packet->vps, inst->da_san_part[i], TAG_ANY)) {
			cert.unreadable = 1;
		}
	}

	/* Client strings, escaped: a certificate must not forge log lines. */
	log_escape(serial_log, sizeof(serial_log), cert.serial);
	log_escape(issuer_log, sizeof(issuer_log), cert.issuer ? cert.issuer : "");
	RDEBUG2("Client certificate TLS-Client-Cert-Serial = %s, TLS-Client-Cert-Issuer = \"%s\"",
		serial_log, issuer_log);

	r = entra_match_engine_decide(inst->handle->engine, &cert, &v);
	name = entra_match_result_name(r);
	result_set(inst, request, r);

	switch (r) {
	case EM_ACCEPT:
		RDEBUG("Accepted (%s): %s", name, v.detail);
		return RLM_MODULE_OK;

	case EM_PASS:
		RDEBUG("Not issued by this CA, left to the policy (%s): %s", name, v.detail);
		return RLM_MODULE_NOOP;

	default:
		break;
	}

	/* A refusal: why goes into the reply and, always, into the log. */
	pair_make_reply("Reply-Message", v.reason, T_OP_SET);
	RINFO("Refused (%s) certificate serial %s: %s: %s", name, serial_log, v.reason, v.detail);
	return r == EM_ERROR ? RLM_MODULE_FAIL : RLM_MODULE_REJECT;
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
