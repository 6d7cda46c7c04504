/*
 * msg.h - SCEP pkiMessages (RFC 8894 §3): decoding requests and
 * encoding CertReps and GetCACert answers.
 *
 * A request is handled in three steps, so that each failure gets the
 * answer RFC 8894 wants: scep_req_parse() reads the outer SignedData and
 * its SCEP attributes (failure: HTTP 400, no CertRep can be formed);
 * scep_req_verify() checks the digest algorithm and the signature
 * (failure: CertRep FAILURE badAlg/badMessageCheck); scep_req_open()
 * decrypts the pkiEnvelope and parses its content by message type.
 *
 * Thread-safety: a struct scep_codec is read-only after scep_codec_new()
 * and may be shared; a struct scep_req belongs to one request.
 */
#ifndef SCEPCA_SCEP_MSG_H
#define SCEPCA_SCEP_MSG_H

#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "ca/ca.h"

/* messageType values, RFC 8894 §3.2.1.2. */
enum scep_msg_type {
	SCEP_MSG_CERTREP = 3,
	SCEP_MSG_RENEWALREQ = 17,
	SCEP_MSG_PKCSREQ = 19,
	SCEP_MSG_CERTPOLL = 20,		/* GetCertInitial */
	SCEP_MSG_GETCERT = 21,
	SCEP_MSG_GETCRL = 22,
};

/* pkiStatus values, RFC 8894 §3.2.1.3. */
enum scep_pki_status {
	SCEP_STATUS_SUCCESS = 0,
	SCEP_STATUS_FAILURE = 2,
	SCEP_STATUS_PENDING = 3,
};

#define SCEP_TXID_MAX	256
#define SCEP_NONCE_MIN	8
#define SCEP_NONCE_MAX	64

struct scep_codec;

/* A decoded request.  Every pointer is owned; scep_req_free() frees. */
/*
 * A decoded request.  Its X.509 objects (p7, signer, csr) are PARSE-ONLY:
 * they were decoded in the codec's library context, which has OpenSSL's
 * null provider and no algorithms, so that decoding skips OpenSSL 3's
 * costly generic public-key decoder.  Names, extensions, serials and
 * encodings read from them as usual; anything that would fetch an
 * algorithm from their context must not be done on them.  The rule has
 * three doors, all here: keys come as signer_key and csr_key (decoded in
 * the default context), a signature is verified with one of those keys
 * (X509_REQ_verify_ex(csr, csr_key, NULL, NULL)), and a certificate to
 * verify or compare cryptographically is copied out with
 * scep_req_signer_copy().
 */
struct scep_req {
	const struct scep_codec *codec;	/* borrowed */
	PKCS7		*p7;		/* the whole pkiMessage */
	int		 type;		/* messageType */
	char		 txid[SCEP_TXID_MAX + 1];
	ASN1_TYPE	*txid_raw;	/* echoed as received */
	unsigned char	 nonce[SCEP_NONCE_MAX];	/* senderNonce */
	size_t		 nonce_len;	/* 0: none sent */
	X509		*signer;	/* NULL when not in the message */
	EVP_PKEY	*signer_key;	/* read by scep_req_verify() */
	const EVP_MD	*md;		/* signerInfo digest, once verified */
	int		 cipher_nid;	/* pkiEnvelope content encryption */
	struct buf	 content;	/* decrypted pkiEnvelope content */
	X509_REQ	*csr;		/* PKCSReq, RenewalReq */
	EVP_PKEY	*csr_key;	/* the CSR's public key */
	X509_NAME	*issuer;	/* CertPoll, GetCert, GetCRL */
	X509_NAME	*subject;	/* CertPoll */
	ASN1_INTEGER	*serial;	/* GetCert, GetCRL */
};

/* What a CertRep says.  Borrowed pointers. */
struct scep_rep {
	enum scep_pki_status	 status;
	int			 fail_info;	/* SCEP_FAIL_*, FAILURE only */
	const char		*fail_text;	/* failInfoText, may be NULL */
	X509			*cert;		/* SUCCESS with a certificate */
	X509_CRL		*crl;		/* SUCCESS for GetCRL */
};

/* Creates the codec (SCEP attribute OIDs).  NULL with e on failure. */
struct scep_codec	*scep_codec_new(struct err *e);
void			 scep_codec_free(struct scep_codec *c);

/*
 * Parses the outer SignedData: message type, transactionID, senderNonce,
 * signer certificate.  Returns 0, or -1 with e set when the message is
 * too broken to answer with a CertRep.
 */
int	scep_req_parse(const struct scep_codec *c, const unsigned char *der,
	    size_t len, struct scep_req *req, struct err *e);

/* The largest RSA key accepted from the network (profiles may lower it). */
#define SCEP_MAX_RSA_BITS	8192
/* RSA public exponents from the network have at most this many bits. */
#define SCEP_RSA_E_MAX_BITS	64

/*
 * Bounds a key that came from the network, before any RSA or EC operation
 * with it: RSA with a modulus of at most max_rsa_bits (<= 0 or over
 * SCEP_MAX_RSA_BITS means SCEP_MAX_RSA_BITS) and an odd public exponent
 * 3 <= e < 2^SCEP_RSA_E_MAX_BITS, or EC on the named curve P-256 or P-384.
 * Anything else, explicit curve parameters included, is refused.  what
 * names the key in the message ("the signer's").  Returns 0, or -1 with
 * ERR_BAD_ALG (failInfo badAlg).
 */
int	scep_key_check(const EVP_PKEY *key, const char *what, int max_rsa_bits,
	    struct err *e);

/*
 * Verifies the signerInfo: reads the signer certificate's key and bounds
 * it with scep_key_check() (ERR_BAD_ALG) before anything else uses it;
 * the digest algorithm is allowed (MD5 only with allow_legacy),
 * messageDigest matches the content, the signature checks with that key
 * over the signed attributes as sent.  Sets req->signer_key and req->md.
 */
int	scep_req_verify(const struct scep_codec *c, struct scep_req *req,
	    int allow_legacy, int max_rsa_bits, struct err *e);

/*
 * Decrypts the pkiEnvelope with our RA (or CA) key and parses its content
 * for the message type: the CSR, IssuerAndSubject or IssuerAndSerial.
 * The CSR's key is bounded by scep_key_check() with max_rsa_bits
 * (ERR_BAD_ALG); its self-signature is not checked here.  DES-CBC and a
 * missing IV only with allow_legacy.
 */
int	scep_req_open(struct scep_req *req, struct ca *ca, int allow_legacy,
	    int max_rsa_bits, struct err *e);

/*
 * Parses a DER PKCS#10 request (parse-only, see struct scep_req) and reads
 * its public key with pki_pubkey_decode() (not bounded: callers with a
 * request from the network apply scep_key_check()).  The request's
 * objects must not be used for anything that fetches algorithms except
 * through the key.  Returns 0, or -1 with ERR_PARSE, or ERR_BAD_ALG for a
 * key of a type pki_pubkey_decode() does not read.
 */
int	scep_csr_parse(const struct scep_codec *c, const unsigned char *der,
	    size_t len, X509_REQ **csr, EVP_PKEY **key, struct err *e);

/* Frees everything req owns and zeroes it.  Accepts NULL. */
void	scep_req_free(struct scep_req *req);

/*
 * The signer's certificate decoded again in the default library context,
 * fit for X509_verify() and the like (see struct scep_req).  The caller
 * frees it.  NULL when there is no signer or on failure.
 */
X509	*scep_req_signer_copy(const struct scep_req *req);

/*
 * Encodes a CertRep for req, signed by the RA with the request's digest;
 * on SUCCESS the certificate (or CRL) goes in a degenerate PKCS#7
 * encrypted to the requester with the request's content cipher.
 */
int	scep_rep_encode(const struct scep_codec *c, struct ca *ca,
	    const struct scep_req *req, const struct scep_rep *rep,
	    struct buf *out, struct err *e);

/*
 * Encodes the GetCACert answer: a degenerate certs-only PKCS#7 with the
 * RA, the CA and the chain above it.
 */
int	scep_ca_certs_encode(struct ca *ca, struct buf *out, struct err *e);

/* Printable name of a message type ("PKCSReq"...). */
const char	*scep_msg_type_name(int type);

/* 1 when a content-encryption cipher can be used for replies. */
int	scep_cipher_usable(int nid);

#endif
