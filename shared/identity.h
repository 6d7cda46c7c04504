/*
 * identity.h - who a device certificate belongs to: the Intune device id,
 * Entra deviceId and user principal name that Intune profiles put into
 * SCEP certificates (reference/microsoft-apis.md §3).  Thread-safe.
 */
#ifndef BUNDLE_IDENTITY_H
#define BUNDLE_IDENTITY_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"

/* SAN URI scheme Microsoft's NAC convention uses for the device id. */
#define INTUNE_DEVICE_URI	"IntuneDeviceId://"

struct cert_identity {
	char	intune_device_id[128];	/* "" when absent */
	char	entra_device_id[128];
	char	upn[256];
};

/*
 * Reads the identity from a certificate's SANs: URI IntuneDeviceId://<id>
 * and the UPN otherName (1.3.6.1.4.1.311.20.2.3).  Fields not found stay
 * empty; values that are not plain identifiers are ignored.
 */
void	identity_from_cert(X509 *x, struct cert_identity *id);

/*
 * The same from the SAN as text, as OpenSSL prints it and FreeRADIUS
 * publishes it: "URI:IntuneDeviceId://..., othername: UPN::alice@x, ...".
 */
void	identity_from_san_text(const char *text, struct cert_identity *id);

/*
 * Identity mapping: where each identity field comes from in a
 * certificate, as a list of sources tried in order ("san_uri:
 * IntuneDeviceId, subject:CN"); the first that holds a valid identifier
 * (identity_valid()) wins.  Source syntax:
 *   san_uri:SCHEME         a SAN URI SCHEME://<id> (scheme in any case)
 *   san_uri_prefix:PREFIX  a SAN URI PREFIX<id> (prefix in any case)
 *   san_upn                the UPN otherName (1.3.6.1.4.1.311.20.2.3)
 *   san_email | san_dns    the first rfc822Name / dNSName
 *   subject:ATTR           a subject attribute (CN, OU, serialNumber, OID)
 *   none                   never recorded (alone)
 */
#define IDENTITY_SOURCES_MAX	4
#define IDENTITY_PREFIX_MAX	64

/* Defaults (Intune's NAC convention). */
#define IDENTITY_DEFAULT_INTUNE_DEVICE_ID	"san_uri:IntuneDeviceId"
#define IDENTITY_DEFAULT_ENTRA_DEVICE_ID	"none"
#define IDENTITY_DEFAULT_UPN			"san_upn"

enum identity_source_kind {
	IDSRC_SAN_URI_PREFIX = 0,
	IDSRC_SAN_UPN,
	IDSRC_SAN_EMAIL,
	IDSRC_SAN_DNS,
	IDSRC_SUBJECT,
};

struct identity_source {
	enum identity_source_kind kind;
	char			prefix[IDENTITY_PREFIX_MAX];	/* SAN URI */
	int			nid;			/* subject attribute */
};

/* The sources of one field; n == 0: the field is never recorded. */
struct identity_rule {
	struct identity_source	src[IDENTITY_SOURCES_MAX];
	int			n;
};

/* A whole mapping.  Plain data: copy it, share it read-only. */
struct identity_map {
	struct identity_rule	intune_device_id;
	struct identity_rule	entra_device_id;
	struct identity_rule	upn;
};

/*
 * Parses a source list (syntax above) into out.  Returns 0, or -1 with
 * ERR_CONFIG saying which source is wrong.
 */
int	identity_rule_parse(const char *text, struct identity_rule *out,
	    struct err *e);

/* Fills m with the defaults (IDENTITY_DEFAULT_*). */
void	identity_map_default(struct identity_map *m);

/*
 * Reads the identity from a certificate by the mapping m.  Fields no
 * source fills stay empty.  identity_from_cert() is this with the
 * default mapping.
 */
void	identity_from_cert_map(X509 *x, const struct identity_map *m,
	    struct cert_identity *id);

/*
 * 1 when s is a safe identifier for a URL or a store key: 1..127 chars of
 * letters, digits, '-', '_', '.', '@', '+'.
 */
int	identity_valid(const char *s);

#endif
