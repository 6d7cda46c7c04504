/*
 * entra_match.h - the EAP-TLS decision of rlm_entra_match, without
 * FreeRADIUS: a client certificate (serial, issuer, SAN text) against the
 * CA's store and the Entra status cache.
 *
 * In this order:
 *   1. the certificate is known to the store by serial, and its issuer is
 *      the store row's (serials are random 128-bit numbers, so the serial
 *      is the key and the issuer a guard); unknown: refused, or with
 *      unknown = pass left to the rest of the policy (see below);
 *   2. not revoked, not on hold, not expired (the store's notAfter);
 *   3. identity: the store row's Entra deviceId, Intune device id and UPN
 *      (recorded at issuance); for an unknown certificate the SAN text;
 *   4. Entra ID: the device (Entra deviceId; an IntuneDeviceId value is
 *      tried as a deviceId, then as an Intune managed device id) must exist
 *      and be enabled; with check_user, the user (UPN) too;
 *   5. when Graph cannot answer: fail = closed refuses; fail = open uses the
 *      last known state if it is at most fail_open_max_age old.
 *
 * Unknown certificates with unknown = pass: when their SAN names a device
 * (IntuneDeviceId://) or, with check_user, a user, Entra ID is still
 * checked and a disabled or deleted one is refused: such a certificate
 * comes from a CA the server trusts, and a device Entra ID disabled must
 * not get in through another CA either.  Otherwise the result is "pass"
 * and the rest of the policy decides.
 *
 * A certificate whose store row names no device (no IntuneDeviceId in its
 * SAN at issuance) is accepted on the store's word alone; check_user
 * without a UPN checks no user.  Without a cache (no Entra application
 * configured) only steps 1-2 run.
 *
 * Thread-safety: entra_match_decide() may run in any number of threads
 * at once over one context (the store and the cache are thread-safe).
 */
#ifndef BUNDLE_ENTRA_MATCH_H
#define BUNDLE_ENTRA_MATCH_H

#include <stdint.h>

#include "entra_conf.h"
#include "err.h"
#include "status_cache.h"
#include "store.h"

/*
 * Results, numbered as the VALUEs of Entra-Match-Result in
 * raddb-examples/dictionary.
 */
#define ENTRA_MATCH_RESULTS(X)						\
	X(EM_ACCEPT,		1,	"accept")			\
	X(EM_REVOKED,		2,	"revoked")			\
	X(EM_EXPIRED,		3,	"expired")			\
	X(EM_UNKNOWN_CERT,	4,	"unknown-cert")			\
	X(EM_DEVICE_DISABLED,	5,	"device-disabled")		\
	X(EM_DEVICE_DELETED,	6,	"device-deleted")		\
	X(EM_USER_DISABLED,	7,	"user-disabled")		\
	X(EM_USER_DELETED,	8,	"user-deleted")			\
	X(EM_GRAPH_UNAVAILABLE,	9,	"graph-unavailable")		\
	X(EM_PASS,		10,	"pass")				\
	X(EM_ERROR,		11,	"error")

enum entra_match_result {
#define EM_ENUM(name, value, text) name = value,
	ENTRA_MATCH_RESULTS(EM_ENUM)
#undef EM_ENUM
};

#define EM_RESULT_MIN	EM_ACCEPT
#define EM_RESULT_MAX	EM_ERROR

struct entra_match_policy {
	int	unknown_pass;		/* unknown = pass (else reject) */
	int	check_user;
	int	strict;			/* ask Graph on every login */
	int	fail_open;		/* fail = open (else closed) */
	int64_t	max_age_ms;
	int64_t	fail_open_max_age_ms;
};

/* What a decision runs over; all borrowed. */
struct entra_match_ctx {
	struct store		*store;		/* opened read-only */
	struct status_cache	*cache;		/* NULL: no Entra check */
	struct entra_match_policy policy;
};

/* The client certificate, as FreeRADIUS gives it. */
struct entra_match_cert {
	const char	*serial;	/* hex, any case, colons allowed */
	const char	*issuer;	/* "/C=../CN=.." or RFC 2253; NULL: absent */
	const char	*san;		/* SAN as text, or NULL */
};

/* The decision and what it was based on, for the reply and the log. */
struct entra_match_verdict {
	enum entra_match_result	 result;
	char			 reason[160];	/* for Reply-Message */
	char			 detail[400];	/* for the log: ids, ages, errors */
	int			 known;		/* the store knows the certificate */
	const char		*identity_from;	/* "store", "san" or NULL */
	char			 device_id[GRAPH_ID_MAX]; /* Entra deviceId checked */
	char			 upn[GRAPH_UPN_MAX];	/* user checked */
	int			 graph_asked;	/* a live Graph lookup ran */
	int			 fail_open_used; /* on a last known state */
};

/*
 * Decides about one certificate at now (Unix seconds), waiting for Graph
 * until deadline_ms at most (http_now_ms() clock).  Fills v and returns
 * v->result.  EM_ERROR: the store could not be read (refuse).
 */
enum entra_match_result	entra_match_decide(const struct entra_match_ctx *ctx,
			    const struct entra_match_cert *cert, int64_t now,
			    int64_t deadline_ms, struct entra_match_verdict *v);

/*
 * The engine: everything one module instance holds — the store opened
 * read-only, the Microsoft cloud clients, the status cache and its delta
 * thread — behind one call per login.  Thread-safe like its parts.
 */
struct entra_match_engine;

struct entra_match_engine_opts {
	const char		*store_path;
	/*
	 * A validated conf (entra_conf_validate), which the engine takes
	 * over (also on failure); NULL: no Entra check, the store only.
	 */
	struct entra_conf	*conf;
	struct entra_match_policy policy;
	int64_t			 timeout_ms;	/* per login, for Graph */
	int64_t			 delta_interval_ms;
	int			 start_delta;	/* start the delta thread */
};

/*
 * Opens the store read-only, makes the clients and the cache and, with
 * start_delta, starts the delta thread.  Returns NULL with e filled (one
 * line naming what failed) on failure.
 */
struct entra_match_engine *entra_match_engine_new(
			    const struct entra_match_engine_opts *o,
			    struct err *e);

/* Stops the delta thread and frees everything.  Accepts NULL. */
void		 entra_match_engine_free(struct entra_match_engine *eng);

/* entra_match_decide() now, with the engine's timeout from now. */
enum entra_match_result	entra_match_engine_decide(
			    struct entra_match_engine *eng,
			    const struct entra_match_cert *cert,
			    struct entra_match_verdict *v);

/* The engine's cache (NULL without Entra), for counters. */
struct status_cache	*entra_match_engine_cache(struct entra_match_engine *eng);

/* "accept", "revoked"... as in the dictionary; "?" when out of range. */
const char	*entra_match_result_name(enum entra_match_result r);

/*
 * Whether two distinguished names in text are the same name.  Each may be
 * in OpenSSL's one-line form ("/C=US/O=x/CN=y", what FreeRADIUS puts in
 * TLS-Client-Cert-Issuer; bytes escaped as \xHH) or RFC 2253 ("CN=y,O=x,
 * C=US", what the store holds; backslash escapes).  Attribute types compare
 * case-insensitively, values case-insensitively (ASCII) with white space
 * folded, as X509_NAME_cmp()'s canonical form does.  Returns 1 or 0 (also
 * for names it cannot read).
 */
int		 entra_match_name_equal(const char *a, const char *b);

#endif
