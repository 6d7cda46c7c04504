/*
 * scepmsg_lib.h - an independent SCEP client library (RFC 8894) for the
 * integration tests and benchmarks.
 *
 * Written from the RFC with OpenSSL 3's PKCS7 API and sharing no code with
 * scep-ca/, so that one misreading of the protocol cannot hide on both
 * sides at once.  It builds pkiMessages (PKCSReq, RenewalReq, CertPoll,
 * GetCert, GetCRL), optionally broken on purpose ("hostile" knobs), parses
 * GetCACert answers and checks CertReps.
 *
 * Files: scepcsr_lib.c (keys, CSRs, signer certificates), scepmsg_lib.c
 * (pkiMessage building), scepreply_lib.c (GetCACert and CertRep parsing).
 *
 * Thread-safety: every function may be called from several threads at
 * once on distinct objects.  The SCEP attribute OIDs are registered with
 * OpenSSL once (pthread_once) on first use.
 */
#ifndef SCEPMSG_LIB_H
#define SCEPMSG_LIB_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"

/* messageType values, RFC 8894 §3.2.1.2. */
#define SCEP_MT_CERTREP		3
#define SCEP_MT_RENEWALREQ	17
#define SCEP_MT_PKCSREQ		19
#define SCEP_MT_CERTPOLL	20	/* GetCertInitial */
#define SCEP_MT_GETCERT		21
#define SCEP_MT_GETCRL		22

/* pkiStatus values, RFC 8894 §3.2.1.3. */
#define SCEP_STATUS_SUCCESS	0
#define SCEP_STATUS_FAILURE	2
#define SCEP_STATUS_PENDING	3

/* senderNonce and recipientNonce are 16 bytes, RFC 8894 §3.2.1.5. */
#define SCEPMSG_NONCE_LEN	16
#define SCEPMSG_TXID_MAX	128

/*
 * Ways to break a request on purpose, for negative tests.  Each names one
 * defect; the server must answer it with a CertRep FAILURE or an HTTP 4xx.
 */
#define SCEPMSG_HOSTILE_KINDS(X) \
	X(NONE,			"none",			"a well-formed request") \
	X(TRUNCATE,		"truncate",		"the DER cut in half") \
	X(BAD_SIGNATURE,	"bad-signature",	"one bit of the signature flipped") \
	X(WRONG_SIGNER_KEY,	"wrong-signer-key",	"signed by a key that does not match the signer certificate") \
	X(WRONG_RECIPIENT,	"wrong-recipient",	"envelope encrypted to a throw-away certificate") \
	X(UNKNOWN_TYPE,		"unknown-type",		"messageType \"99\"") \
	X(NO_TXID,		"no-txid",		"transactionID attribute left out") \
	X(NO_SENDER_NONCE,	"no-sender-nonce",	"senderNonce attribute left out") \
	X(NO_MESSAGE_TYPE,	"no-message-type",	"messageType attribute left out") \
	X(TYPE_WRONG_ASN1,	"type-wrong-asn1",	"messageType as an INTEGER, not a PrintableString") \
	X(SHORT_NONCE,		"short-nonce",		"senderNonce of 4 bytes") \
	X(BAD_CSR_SIGNATURE,	"bad-csr-signature",	"CSR self-signature corrupted") \
	X(GARBAGE_ENVELOPE,	"garbage-envelope",	"random bytes where the envelopedData belongs") \
	X(PLAIN_CSR,		"plain-csr",		"CSR signed but not encrypted") \
	X(GARBAGE_CSR,		"garbage-csr",		"random bytes encrypted where the CSR belongs") \
	X(NO_SIGNER_CERT,	"no-signer-cert",	"signer certificate left out of the signedData") \
	X(EMPTY,		"empty",		"an empty body") \
	X(GARBAGE,		"garbage",		"512 random bytes, not DER")

enum scepmsg_hostile {
#define SCEPMSG_HOSTILE_ENUM(name, text, help) SCEPMSG_HOSTILE_##name,
	SCEPMSG_HOSTILE_KINDS(SCEPMSG_HOSTILE_ENUM)
#undef SCEPMSG_HOSTILE_ENUM
	SCEPMSG_HOSTILE__COUNT
};

/* Looks up a hostile kind by its name.  Returns 0, or -1 if unknown. */
int	scepmsg_hostile_parse(const char *name, enum scepmsg_hostile *out);

/* Returns the name and the one-line description of a hostile kind. */
const char *scepmsg_hostile_name(enum scepmsg_hostile h);
const char *scepmsg_hostile_help(enum scepmsg_hostile h);

/* ---- keys, CSRs and signer certificates (scepcsr_lib.c) -------------- */

/*
 * Generates a key from "rsa:BITS", "ec:p256" or "ec:p384".
 * Returns the key (free with EVP_PKEY_free), or NULL with e set.
 */
EVP_PKEY *scepmsg_keygen(const char *spec, struct err *e);

/* Subject alternative name kinds a CSR may carry. */
enum scepmsg_san_kind {
	SCEPMSG_SAN_DNS,
	SCEPMSG_SAN_EMAIL,
	SCEPMSG_SAN_URI,	/* e.g. IntuneDeviceId://<guid> */
	SCEPMSG_SAN_UPN,	/* otherName 1.3.6.1.4.1.311.20.2.3, UTF8String */
};

struct scepmsg_san {
	enum scepmsg_san_kind	 kind;
	const char		*value;
};

/* An arbitrary extension: dotted OID and the DER of its extnValue. */
struct scepmsg_ext {
	const char		*oid;
	const unsigned char	*der;
	size_t			 len;
	int			 critical;
};

/* What goes into a CSR.  Every pointer is borrowed. */
struct scepmsg_csr_spec {
	const char		*subject;	/* "/CN=a/O=b" or "CN=a,O=b" */
	const char		*challenge;	/* NULL: no challengePassword */
	int			 challenge_utf8; /* UTF8String, else Printable */
	const struct scepmsg_san *sans;
	size_t			 n_sans;
	const struct scepmsg_ext *exts;
	size_t			 n_exts;
	const EVP_MD		*md;		/* NULL: SHA-256 */
};

/*
 * Parses a distinguished name written "/CN=a/O=b" (OpenSSL style, "\/"
 * escapes a slash) or "CN=a,O=b" ("\," escapes a comma).  An empty string
 * gives an empty name.  Returns the name (X509_NAME_free), or NULL.
 */
X509_NAME *scepmsg_name_parse(const char *s, struct err *e);

/*
 * Builds and signs a PKCS#10 request for key.  Returns it (X509_REQ_free),
 * or NULL with e set.
 */
X509_REQ *scepmsg_csr_new(EVP_PKEY *key, const struct scepmsg_csr_spec *spec,
	    struct err *e);

/*
 * Appends the DER extnValue of Microsoft's SID extension
 * (1.3.6.1.4.1.311.25.2) holding sid, e.g. "S-1-5-21-1-2-3-1001".
 * Returns 0, or -1 with e set.
 */
int	scepmsg_sid_ext_der(const char *sid, struct buf *out, struct err *e);

/*
 * Makes the temporary self-signed certificate that signs a request
 * (RFC 8894 §2.3): subject and issuer are subject (an empty name becomes
 * "CN=SCEP client"), the key is key, valid from an hour ago for a day.
 * Returns it (X509_free), or NULL with e set.
 */
X509	*scepmsg_selfsigned_new(EVP_PKEY *key, const X509_NAME *subject,
	    struct err *e);

/* Writes PEM files.  Return 0, or -1 with e set. */
int	scepmsg_write_key(const char *path, EVP_PKEY *key, struct err *e);
int	scepmsg_write_certs(const char *path, STACK_OF(X509) *certs,
	    struct err *e);

/* Reads the first PEM (or DER) key or certificate of a file, or NULL. */
EVP_PKEY *scepmsg_read_key(const char *path, struct err *e);
X509	*scepmsg_read_cert(const char *path, struct err *e);

/* ---- pkiMessage building (scepmsg_lib.c) ----------------------------- */

/* What to build.  Every pointer is borrowed. */
struct scepmsg_spec {
	int			 type;		/* SCEP_MT_* (any value if hostile) */
	X509_REQ		*csr;		/* PKCSReq, RenewalReq */
	const X509_NAME		*issuer;	/* CertPoll, GetCert, GetCRL */
	const X509_NAME		*subject;	/* CertPoll */
	const ASN1_INTEGER	*serial;	/* GetCert, GetCRL */
	X509			*signer_cert;
	EVP_PKEY		*signer_key;
	X509			*recipient;	/* from scepmsg_cacert_recipient() */
	const EVP_CIPHER	*cipher;	/* NULL: AES-128-CBC */
	const EVP_MD		*md;		/* NULL: SHA-256 */
	const char		*txid;		/* NULL: hex SHA-1 of the public key */
	enum scepmsg_hostile	 hostile;
};

/* A built request, kept to check the reply against it. */
struct scepmsg_req {
	struct buf	der;		/* the pkiMessage */
	int		type;
	char		txid[SCEPMSG_TXID_MAX];
	unsigned char	nonce[SCEPMSG_NONCE_LEN];
	size_t		nonce_len;	/* 0: the request carried none */
};

/*
 * Builds a pkiMessage (RFC 8894 §3.2): the inner content, enveloped to
 * spec->recipient, signed by spec->signer_* with the signed attributes
 * transactionID, messageType and a fresh 16-byte senderNonce.
 * Returns the request (scepmsg_req_free), or NULL with e set.
 */
struct scepmsg_req *scepmsg_req_build(const struct scepmsg_spec *spec,
	    struct err *e);

/*
 * Reads transactionID, messageType and senderNonce back from a pkiMessage
 * made elsewhere, to check the reply to it.  Does not verify it.
 * Returns the request (scepmsg_req_free), or NULL with e set.
 */
struct scepmsg_req *scepmsg_req_parse(const unsigned char *der, size_t len,
	    struct err *e);

/* Frees a request.  Accepts NULL. */
void	scepmsg_req_free(struct scepmsg_req *r);

/*
 * Upper-case hex SHA-1 of a public key (of the subjectPublicKey bits), the
 * default transactionID.  out holds 41 bytes.  Returns 0 or -1.
 */
int	scepmsg_key_txid(const X509_PUBKEY *pub, char out[41]);

/* Maps "aes128"/"aes-128-cbc", "3des", "sha256"... to OpenSSL objects. */
const EVP_CIPHER *scepmsg_cipher_by_name(const char *name);
const EVP_MD	 *scepmsg_md_by_name(const char *name);

/* ---- GetCACert and CertRep (scepreply_lib.c) ------------------------- */

/*
 * Parses a GetCACert answer (RFC 8894 §4.2.1): one DER certificate
 * (application/x-x509-ca-cert) or a degenerate certs-only PKCS#7
 * (application/x-x509-ca-ra-cert).  content_type may be NULL (guess).
 * Returns the certificates (sk_X509_pop_free(..., X509_free)), or NULL.
 */
STACK_OF(X509) *scepmsg_cacert_parse(const char *content_type,
	    const unsigned char *body, size_t len, struct err *e);

/*
 * Picks the certificate requests are encrypted to: the one whose key usage
 * names keyEncipherment (an RA), else the CA.  Returns a borrowed pointer.
 */
X509	*scepmsg_cacert_recipient(STACK_OF(X509) *certs);

/* Picks the CA certificate (the issuer of what we enroll).  Borrowed. */
X509	*scepmsg_cacert_ca(STACK_OF(X509) *certs);

/* A parsed and checked CertRep. */
struct scepmsg_rep {
	int		 status;	/* SCEP_STATUS_* */
	int		 fail_info;	/* SCEP_FAIL_*, or SCEP_FAIL_NONE */
	char		 fail_text[256]; /* failInfoText, "" when absent */
	char		 digest[32];	/* digest the reply was signed with */
	char		 sigalg[48];	/* signature algorithm in the SignerInfo */
	char		 cipher[32];	/* its content encryption, "" if none */
	char		 txid[SCEPMSG_TXID_MAX];
	unsigned char	 sender_nonce[SCEPMSG_NONCE_LEN];
	X509		*signer;	/* the CA/RA certificate that signed; up_ref */
	struct buf	 envelope;	/* pkcsPKIEnvelope DER, empty if absent */
	int		 content_present; /* signedData carried content */
	int		 nonce_echoed;	/* senderNonce == ours (allowed by flag) */
};

/*
 * Tolerates a CertRep whose senderNonce merely repeats the request's
 * (micromdm 2.1.0 does this) instead of being fresh; nonce_echoed tells.
 */
#define SCEPMSG_REP_ALLOW_ECHOED_NONCE	0x01

/*
 * Parses a CertRep (RFC 8894 §3.3.2) and checks it: a signedData with one
 * signer that is one of cacerts and whose signature verifies; messageType
 * 3; pkiStatus 0, 2 or 3; failInfo present with FAILURE; transactionID
 * equal to req's; recipientNonce equal to req's senderNonce (optional
 * when req had none); a 16-byte senderNonce of its own; with SUCCESS an
 * envelopedData content.
 * req may be NULL (no echo checks); flags: SCEPMSG_REP_*.  Returns the
 * reply (scepmsg_rep_free), or NULL with e set (the reason in e->msg).
 */
struct scepmsg_rep *scepmsg_rep_parse(const unsigned char *der, size_t len,
	    STACK_OF(X509) *cacerts, const struct scepmsg_req *req, int flags,
	    struct err *e);

/* Frees a reply.  Accepts NULL. */
void	scepmsg_rep_free(struct scepmsg_rep *r);

/*
 * A library context with the "default" and "legacy" providers, needed to
 * decrypt single-DES replies (micromdm); used only for that.
 */
struct scepmsg_legacy;
struct scepmsg_legacy *scepmsg_legacy_new(struct err *e);
OSSL_LIB_CTX *scepmsg_legacy_ctx(struct scepmsg_legacy *l);
void	scepmsg_legacy_free(struct scepmsg_legacy *l);

/*
 * Decrypts the reply's envelope with the requester's key and certificate
 * (cert may be NULL) and opens the degenerate certs-only PKCS#7 inside.
 * libctx: NULL for the default, or scepmsg_legacy_ctx() for DES.
 * On success *certs (and *crls when crls != NULL) receive its contents
 * (free with sk_X509_pop_free / sk_X509_CRL_pop_free).  Returns 0 or -1.
 */
int	scepmsg_rep_open(const struct scepmsg_rep *r, EVP_PKEY *key, X509 *cert,
	    OSSL_LIB_CTX *libctx, STACK_OF(X509) **certs,
	    STACK_OF(X509_CRL) **crls, struct err *e);

/*
 * Finds in certs the certificate whose public key is pub's (the issued
 * one).  Returns a borrowed pointer or NULL.
 */
X509	*scepmsg_certs_find_key(STACK_OF(X509) *certs, const EVP_PKEY *pub);

/* Formats a certificate's serial as upper-case hex.  Returns 0 or -1. */
int	scepmsg_serial_hex(const X509 *cert, char *out, size_t outlen);

/* Name of a pkiStatus ("SUCCESS", "FAILURE", "PENDING", "UNKNOWN"). */
const char *scepmsg_status_name(int status);

/* ---- internals shared by the three files ----------------------------- */

/* NIDs of the SCEP signed attributes (RFC 8894 §3.2.1), registered once. */
struct scepmsg_nids {
	int	message_type;
	int	pki_status;
	int	fail_info;
	int	sender_nonce;
	int	recipient_nonce;
	int	transaction_id;
	int	fail_info_text;
};

/* Returns the NIDs, registering the OIDs with OpenSSL on first call. */
const struct scepmsg_nids *scepmsg_nids(void);

/*
 * Reads the signed attribute nid of si, expected of ASN.1 type `type`.
 * Returns 1 with *out set (borrowed), 0 when absent, -1 when of another
 * type.
 */
int	scepmsg_attr_get(PKCS7_SIGNER_INFO *si, int nid, int type,
	    const ASN1_STRING **out);

#endif
