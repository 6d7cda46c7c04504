/*
 * ocsp_req.c - recognises the plain RFC 5019 OCSP request in strict DER
 * (X.690 §10) without allocating; see ocsp_req.h.
 *
 * The checks are deliberately narrower than DER allows: whatever is
 * accepted here OpenSSL's d2i_OCSP_REQUEST() accepts too and reads the
 * same way (tests/fuzz/fuzz_ocsp_fast.c checks it), so the responder
 * answers the same whichever parser read the request.
 */
#include <string.h>

#include <openssl/obj_mac.h>

#include "revocation/der.h"
#include "revocation/ocsp_req.h"

/* The CertID hash algorithms of the plain case, by OID content octets. */
static const struct {
	int		 nid;
	size_t		 md_len;
	size_t		 oid_len;
	unsigned char	 oid[9];
} hashes[] = {
	/* 1.3.14.3.2.26 */
	{ NID_sha1, 20, 5, { 0x2b, 0x0e, 0x03, 0x02, 0x1a } },
	/* 2.16.840.1.101.3.4.2.1 to .3 (RFC 5754 §2) */
	{ NID_sha256, 32, 9,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 } },
	{ NID_sha384, 48, 9,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 } },
	{ NID_sha512, 64, 9,
	    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03 } },
};

/*
 * Reads the hashAlgorithm AlgorithmIdentifier (RFC 5280 §4.1.1.2): one of
 * the hashes[] OIDs, parameters absent or NULL (RFC 5754 §2 allows
 * both).  Returns its hashes[] index, or -1.
 */
static int
hash_alg(struct der *c)
{
	struct der	alg, oid, param;
	size_t		i, len;

	if (der_next(c, DER_SEQUENCE, &alg) == -1 ||
	    der_next(&alg, DER_OID, &oid) == -1)
		return -1;
	if (alg.p != alg.end && (der_only(&alg, DER_NULL, &param) == -1 ||
	    param.p != param.end))
		return -1;
	len = (size_t)(oid.end - oid.p);
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (len == hashes[i].oid_len &&
		    memcmp(oid.p, hashes[i].oid, len) == 0)
			return (int)i;
	return -1;
}

/* Reads an OCTET STRING of exactly len octets.  0, or -1. */
static int
octets(struct der *c, size_t len, const unsigned char **p, size_t *plen)
{
	struct der	v;

	if (der_next(c, DER_OCTETS, &v) == -1 || (size_t)(v.end - v.p) != len)
		return -1;
	*p = v.p;
	*plen = len;
	return 0;
}

/*
 * Reads a certificate serial number: a positive INTEGER (RFC 5280
 * §4.1.2.2) in the fewest octets (X.690 §8.3.2).  0, or -1.
 */
static int
serial(struct der *c, const unsigned char **p, size_t *plen)
{
	struct der	v;
	size_t		len;

	if (der_next(c, DER_INTEGER, &v) == -1)
		return -1;
	len = (size_t)(v.end - v.p);
	if (len == 0 || len > OCSP_SIMPLE_SERIAL_MAX || (v.p[0] & 0x80))
		return -1;
	/* A leading zero only to keep the next octet's high bit positive;
	 * a lone zero is zero, not a serial. */
	if (v.p[0] == 0 && (len == 1 || v.p[1] < 0x80))
		return -1;
	*p = v.p;
	*plen = len;
	return 0;
}

/* Reads CertID's four fields (RFC 6960 §4.1.1), all of c.  0, or -1. */
static int
cert_id(struct der *c, struct ocsp_simple_req *r)
{
	size_t	md_len;
	int	h;

	if ((h = hash_alg(c)) == -1)
		return -1;
	md_len = hashes[h].md_len;
	if (octets(c, md_len, &r->name_hash, &r->name_hash_len) == -1 ||
	    octets(c, md_len, &r->key_hash, &r->key_hash_len) == -1 ||
	    serial(c, &r->serial, &r->serial_len) == -1 || c->p != c->end)
		return -1;
	r->nid = hashes[h].nid;
	return 0;
}

int
ocsp_req_simple(const unsigned char *der, size_t len,
    struct ocsp_simple_req *out)
{
	struct der		c, req, tbs, list, one, id;
	struct ocsp_simple_req	r;

	if (der == NULL)
		return 0;
	c.p = der;
	c.end = der + len;
	/*
	 * Each level holds exactly one element, which leaves out the
	 * optionalSignature, TBSRequest's version [0], requestorName [1] and
	 * requestExtensions [2] (a nonce), a second Request and
	 * singleRequestExtensions [0] (RFC 6960 §4.1.1).
	 */
	if (der_only(&c, DER_SEQUENCE, &req) == -1 ||
	    der_only(&req, DER_SEQUENCE, &tbs) == -1 ||
	    der_only(&tbs, DER_SEQUENCE, &list) == -1 ||
	    der_only(&list, DER_SEQUENCE, &one) == -1 ||
	    der_only(&one, DER_SEQUENCE, &id) == -1 ||
	    cert_id(&id, &r) == -1)
		return 0;
	*out = r;
	return 1;
}
