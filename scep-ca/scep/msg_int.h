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
 * Ownership: everything is owned by the codec.  parse_ctx is the
 * parse-only library context of struct scep_req (msg.h): only
 * scep_parse_only() decodes in it.
 */
struct scep_codec {
	ASN1_OBJECT	*oid[SCEP_ATTR__COUNT];
	OSSL_LIB_CTX	*parse_ctx;
	OSSL_PROVIDER	*null_provider;
};

/*
 * Decodes one item of type it from *pp (len bytes at most) in the codec's
 * parse-only context, advancing *pp as d2i does.  NULL on failure.
 */
ASN1_VALUE	*scep_parse_only(const struct scep_codec *c, const ASN1_ITEM *it,
		    const unsigned char **pp, long len);

/* The first signerInfo of a SignedData (borrowed), or NULL. */
PKCS7_SIGNER_INFO	*scep_signer_info(PKCS7 *p7);

/* The eContent of a SignedData (borrowed), or NULL. */
const ASN1_OCTET_STRING	*scep_content(PKCS7 *p7);

#endif
