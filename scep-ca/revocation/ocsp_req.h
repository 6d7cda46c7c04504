/*
 * ocsp_req.h - a fast path for the common OCSP request: the plain RFC 5019
 * request (§2.1.1), one CertID and nothing else, recognised in strict DER
 * without allocating.  Anything else is left to OpenSSL's decoder, which
 * decides whether it is valid.
 *
 * Thread-safety: stateless; callable from any thread.
 */
#ifndef SCEPCA_OCSP_REQ_H
#define SCEPCA_OCSP_REQ_H

#include <stddef.h>

/* Bounds of the plain case (SHA-512 digests; RFC 5280 §4.1.2.2 serials). */
#define OCSP_SIMPLE_HASH_MAX	64
#define OCSP_SIMPLE_SERIAL_MAX	40

/*
 * A plain RFC 5019 request (§2.1.1): one CertID and nothing else.
 * Pointers point into the caller's DER.
 */
struct ocsp_simple_req {
	int			 nid;		/* NID_sha1, _sha256, _sha384, _sha512 */
	const unsigned char	*name_hash;	/* issuerNameHash octets */
	size_t			 name_hash_len;
	const unsigned char	*key_hash;	/* issuerKeyHash octets */
	size_t			 key_hash_len;
	/* serialNumber INTEGER content octets: minimal DER, positive, so it
	 * may start with one 0x00 when the next octet is >= 0x80. */
	const unsigned char	*serial;
	size_t			 serial_len;
};

/*
 * Recognises a plain request.  der is len bytes of DER, all of which must
 * be the OCSPRequest (nothing after it).  Returns 1 and fills *out when it
 * is one OCSPRequest { TBSRequest { requestList { Request { CertID } } } }
 * (RFC 6960 §4.1.1) in strict DER with a SHA-1/256/384/512 CertID whose
 * parameters are absent or NULL, hashes of the digest's length and a
 * positive, minimally encoded serial of at most OCSP_SIMPLE_SERIAL_MAX
 * octets (so it may start with one 0x00, when the next octet is >= 0x80).
 * Returns 0 for anything else, valid or not, leaving *out untouched; the
 * caller then parses with OpenSSL.  Never reads outside der.
 */
int	ocsp_req_simple(const unsigned char *der, size_t len,
	    struct ocsp_simple_req *out);

#endif
