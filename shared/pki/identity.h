/*
 * identity.h - who a device certificate belongs to: the Intune device id,
 * Entra deviceId and user principal name that Intune profiles put into
 * SCEP certificates (reference/microsoft-apis.md §3).  Thread-safe.
 */
#ifndef BUNDLE_IDENTITY_H
#define BUNDLE_IDENTITY_H

#include <stddef.h>

#include <openssl/x509.h>

#include "base/err.h"

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
 * empty; values that are not plain identifiers are ignored.  Returns 0,
 * or -1 (every field empty) when a value it reads holds a NUL byte, as
 * identity_from_cert_map() does.
 */
int	identity_from_cert(X509 *x, struct cert_identity *id);

/*
 * The same from the SAN as text, as OpenSSL prints it and FreeRADIUS
 * publishes it: "URI:IntuneDeviceId://..., othername: UPN::alice@x, ...",
 * for certificates the store does not know.
 *
 * The text cannot tell a separator from the same characters inside a
 * value: a DNS name or an email "x, URI:IntuneDeviceId://<victim>" prints
 * as two entries.  So every piece between commas that starts like a field
 * ("URI:IntuneDeviceId://", "othername: UPN::", "othername:UPN:", in any
 * case) is a candidate, and the text names a field only when it holds
 * exactly one candidate for it and that candidate is a plain identifier
 * (identity_valid()).  Returns 0 (fields without a candidate stay empty),
 * or -1 with every field empty when a field has two candidates or an
 * unreadable one: the caller must refuse, since a hidden second name may
 * be the certificate's real one.  A single injected candidate gains
 * nothing: the module only ever refuses on what the SAN text names.
 */
int	identity_from_san_text(const char *text, struct cert_identity *id);

/*
 * Refuses a CSR (or a certificate) whose subject or SAN holds a text
 * value with a NUL byte ("alice@x\0.evil", which C strings read as
 * "alice@x"): every subject attribute, every SAN email, DNS name, URI,
 * directoryName attribute and text otherName, read as UTF-8.  Also
 * refuses a SAN extension that cannot be decoded, or more than one.
 * Returns 0, or -1 with ERR_BAD_REQUEST (SCEP failInfo badRequest) and a
 * message naming the field.
 */
int	identity_req_check(X509_REQ *req, struct err *e);
int	identity_cert_check(X509 *x, struct err *e);

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
 * default mapping.  Returns 0, or -1 with every field empty when a value
 * a source reads holds a NUL byte: the certificate must then not be
 * issued (identity_req_check() refuses its CSR earlier).
 */
int	identity_from_cert_map(X509 *x, const struct identity_map *m,
	    struct cert_identity *id);

/*
 * 1 when s is a safe identifier for a URL or a store key: 1..127 chars of
 * letters, digits, '-', '_', '.', '@', '+'.
 */
int	identity_valid(const char *s);

#endif
