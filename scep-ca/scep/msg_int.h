/*
 * msg_int.h - internals shared by request.c (requests) and
 * reply.c (replies).
 */
#ifndef SCEPCA_SCEP_MSG_INT_H
#define SCEPCA_SCEP_MSG_INT_H

#include <openssl/pkcs7.h>
#include <openssl/provider.h>

/* SCEP signed attributes, RFC 8894 §3.2.1. */
enum scep_attr {
	SCEP_ATTR_MESSAGE_TYPE,
	SCEP_ATTR_PKI_STATUS,
	SCEP_ATTR_FAIL_INFO,
	SCEP_ATTR_SENDER_NONCE,
	SCEP_ATTR_RECIPIENT_NONCE,
	SCEP_ATTR_TRANSACTION_ID,
	SCEP_ATTR_FAIL_INFO_TEXT,
	SCEP_ATTR__COUNT
};

/*
 * Ownership: everything is owned by the codec.  parse_ctx is a library
 * context holding only OpenSSL's null provider: certificates and CSRs
 * parsed in it skip OpenSSL 3.0's costly generic public-key decoder (their
 * keys are read with pki_pubkey_decode() instead).  Nothing else may use
 * it: it has no algorithms.
 */
struct scep_codec {
	ASN1_OBJECT	*oid[SCEP_ATTR__COUNT];
	OSSL_LIB_CTX	*parse_ctx;
	OSSL_PROVIDER	*null_provider;
};

/* The first signerInfo of a SignedData (borrowed), or NULL. */
PKCS7_SIGNER_INFO	*scep_signer_info(PKCS7 *p7);

/* The eContent of a SignedData (borrowed), or NULL. */
const ASN1_OCTET_STRING	*scep_content(PKCS7 *p7);

#endif
