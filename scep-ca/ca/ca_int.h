/*
 * ca_int.h - shared by ca.c and init.c only, the two files that hold
 * private keys.  Nothing else includes it.
 */
#ifndef SCEPCA_CA_INT_H
#define SCEPCA_CA_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/err.h"

/* Defaults of the delegated OCSP signer `init` makes. */
#define OCSP_SIGNER_KEY_DEFAULT		"ec:p256"
#define OCSP_SIGNER_DAYS_DEFAULT	30

/*
 * Builds and signs (with ca_key and md) a delegated OCSP signing
 * certificate for key (RFC 6960 §4.2.2.2): id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, digitalSignature, valid for days but never past
 * the CA.  NULL with e set on failure.
 */
X509	*ca_ocsp_signer_build(X509 *ca_cert, EVP_PKEY *ca_key, const EVP_MD *md,
	    EVP_PKEY *key, int days, struct err *e);

#endif
