/*
 * entra_match.h - the EAP-TLS decision of rlm_entra_match, without
 * FreeRADIUS: a client certificate (the TLS-Client-Cert-* attributes)
 * against the CA's store and the Entra status cache.
 *
 * In this order:
 *   1. the certificate is known to the store by serial, and is the one
 *      the store holds: the attributes FreeRADIUS published for it equal,
 *      byte for byte, what FreeRADIUS publishes for the stored DER (see
 *      "Same certificate" below); unknown: refused, or with unknown =
 *      pass left to the rest of the policy (see below);
 *   2. not revoked, not on hold, not expired (the store's notAfter), and
 *      not renewed (renewed_from, followed up to EM_RENEWAL_DEPTH rows)
 *      from a certificate revoked for keyCompromise: such a child is
 *      refused even before scep-ca revokes it in turn;
 *   3. identity: the store row's Entra deviceId, Intune device id and UPN
 *      (recorded at issuance); for an unknown certificate the SAN text;
 *   4. Entra ID: the device (Entra deviceId; an IntuneDeviceId value is
 *      tried as a deviceId, then as an Intune managed device id) must exist
 *      and be enabled; with check_user, the user (UPN) too;
 *   5. when Graph cannot answer: fail = closed refuses; fail = open uses the
 *      last known state if it is at most fail_open_max_age old.
 *
 * Same certificate.  FreeRADIUS 3.2 gives a module no DER and no
 * canonical name of the client certificate, only text: the issuer in
 * OpenSSL's one-line form ("/C=US/O=x/CN=y"), which two different names
 * can share (a value holding "/CN=", or ending in a backslash; one
 * multi-valued RDN against several; another string type; a name cut at
 * FreeRADIUS's 1024 bytes).  So the issuer text is not read back into a
 * name at all: the stored DER is printed the way FreeRADIUS prints it
 * (entra_match_cert_text()) and the texts must be equal.  What binds the
 * certificate to our CA is the authorityKeyIdentifier: it must be
 * present and equal to the stored certificate's (ours always carry one),
 * and OpenSSL's chain verification only accepts an issuing CA whose
 * subjectKeyIdentifier equals it (X509_check_akid), which for our CA is
 * the SHA-1 of its public key, not a name.  Subject and notAfter are
 * compared too when FreeRADIUS gives them.  A CA in the server's ca_file
 * that deliberately copies our CA's name and key identifier cannot be
 * told from ours by any attribute FreeRADIUS publishes: trust only CAs
 * that would not.
 *
 * Unknown certificates with unknown = pass: when their SAN names a device
 * (IntuneDeviceId://) or, with check_user, a user, Entra ID is still
 * checked and a disabled or deleted one is refused: such a certificate
 * comes from a CA the server trusts, and a device Entra ID disabled must
 * not get in through another CA either.  SAN text that names a field
 * twice, or unreadably (identity_from_san_text()), is refused: a DNS name
 * "x, URI:IntuneDeviceId://<other>" must not hide the certificate's own
 * device.  Otherwise the result is "pass" and the rest of the policy
 * decides.
 *
 * A certificate whose store row names no device (no IntuneDeviceId in its
 * SAN at issuance) is accepted on the store's word alone; check_user
 * without a UPN checks no user.  Without a cache (no Entra application
 * configured) only steps 1-2 run.
 *
 * Client strings reach the verdict's detail escaped (log_escape()), so a
 * certificate cannot forge log lines.
 *
 * Thread-safety: entra_match_decide() may run in any number of threads
 * at once over one context (the store, the caches are thread-safe).
 */
#ifndef BUNDLE_ENTRA_MATCH_H
#define BUNDLE_ENTRA_MATCH_H

#include <stdint.h>

#include "base/err.h"
#include "msft/conf.h"
#include "status/cache.h"
#include "store/store.h"

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

/* Renewals followed back from a certificate (renewed_from). */
#define EM_RENEWAL_DEPTH	16

struct entra_match_text_cache;

/* What a decision runs over; all borrowed. */
struct entra_match_ctx {
	struct store		*store;		/* opened read-only */
	struct status_cache	*cache;		/* NULL: no Entra check */
	struct entra_match_text_cache *texts;	/* NULL: decode every time */
	struct entra_match_policy policy;
};

/*
 * The client certificate, as FreeRADIUS gives it (the TLS-Client-Cert-*
 * attributes; NULL: absent).
 */
struct entra_match_cert {
	const char	*serial;	/* -Serial: hex, any case, colons allowed */
	const char	*issuer;	/* -Issuer: "/C=../CN=.." */
	const char	*san;		/* -X509v3-Subject-Alternative-Name */
	const char	*aki;		/* -X509v3-Authority-Key-Identifier */
	const char	*subject;	/* -Subject; NULL: not compared */
	const char	*expiration;	/* -Expiration; NULL: not compared */
	/*
	 * Set by the caller when an attribute held a NUL byte (FreeRADIUS
	 * turns "\000" in a certificate's text into one) or the SAN text
	 * is missing while SAN entries were published: the certificate's
	 * text cannot be read whole, and it is refused.
	 */
	int		 unreadable;
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

/* ---- the stored certificate's texts (entra_match_cert.c) -------------- */

/* FreeRADIUS's buffers for these texts (cbtls_verify). */
#define ENTRA_MATCH_TEXT_MAX	1024

/* What FreeRADIUS 3.2 publishes for a certificate, from its DER. */
struct entra_match_cert_text {
	char	issuer[ENTRA_MATCH_TEXT_MAX];	/* TLS-Client-Cert-Issuer */
	char	subject[ENTRA_MATCH_TEXT_MAX];	/* -Subject */
	char	aki[ENTRA_MATCH_TEXT_MAX];	/* -X509v3-Authority-Key-Identifier */
	char	expiration[64];			/* -Expiration */
};

/*
 * A cache of entra_match_cert_text() results by SHA-256 thumbprint, with
 * slots entries (rounded up to a power of two; one certificate a slot).
 * NULL with e set when out of memory.  Thread-safe.
 */
struct entra_match_text_cache *entra_match_text_cache_new(size_t slots,
			    struct err *e);

/* Frees the cache.  Accepts NULL. */
void		 entra_match_text_cache_free(struct entra_match_text_cache *c);

/*
 * Fills t with the texts FreeRADIUS publishes for the certificate in
 * row->der (OpenSSL's printers, then FreeRADIUS's unquoting), from c
 * when it has them (c may be NULL).  "" for an absent AKI.  Returns 0,
 * or -1 with ERR_STORE when the DER cannot be read or printed.
 */
int		 entra_match_cert_text(struct entra_match_text_cache *c,
			    const struct cert_row *row,
			    struct entra_match_cert_text *t, struct err *e);

#endif
