/*
 * identity.h - who a device certificate belongs to: the Intune device id,
 * Entra deviceId and user principal name that Intune profiles put into
 * SCEP certificates (reference/microsoft-apis.md §3).  Thread-safe.
 */
#ifndef BUNDLE_IDENTITY_H
#define BUNDLE_IDENTITY_H

#include <openssl/x509.h>

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
 * 1 when s is a safe identifier for a URL or a store key: 1..127 chars of
 * letters, digits, '-', '_', '.', '@', '+'.
 */
int	identity_valid(const char *s);

#endif
