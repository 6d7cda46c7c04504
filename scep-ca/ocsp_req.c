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

#include "ocsp_req.h"

/* Identifier octets (X.690 §8.1.2): universal, low tag numbers only. */
#define DER_INTEGER	0x02
#define DER_OCTETS	0x04	/* primitive: the constructed form is BER */
#define DER_NULL	0x05
#define DER_OID		0x06
#define DER_SEQUENCE	0x30

/* Unread DER: [p, end). */
struct der {
	const unsigned char	*p, *end;
};

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
 * Reads a definite length in the fewest octets (X.690 §10.1).  Two
 * octets are plenty: a plain request is under 256 bytes.
 * 0, or -1 for the indefinite form, a non-minimal or truncated length.
 */
static int
der_length(struct der *c, size_t *len)
{
	size_t	n;

	if (c->p == c->end)
		return -1;
	if (*c->p < 0x80) {
		*len = *c->p++;
		return 0;
	}
	n = *c->p++ & 0x7f;
	if (n == 0 || n > 2 || (size_t)(c->end - c->p) < n || c->p[0] == 0)
		return -1;
	*len = n == 1 ? c->p[0] : (size_t)c->p[0] << 8 | c->p[1];
	c->p += n;
	/* Below 128 the short form is the only DER one. */
	return *len < 0x80 ? -1 : 0;
}

/*
 * Reads the next element, which must have identifier octet tag, moving c
 * past it and setting *in to its contents.  0, or -1.
 */
static int
der_next(struct der *c, unsigned char tag, struct der *in)
{
	size_t	len;

	if (c->p == c->end || *c->p != tag)
		return -1;
	c->p++;
	if (der_length(c, &len) == -1 || (size_t)(c->end - c->p) < len)
		return -1;
	in->p = c->p;
	in->end = c->p + len;
	c->p += len;
	return 0;
}

/* Like der_next(), but the element must also be all that is left of c. */
static int
der_only(struct der *c, unsigned char tag, struct der *in)
{
	if (der_next(c, tag, in) == -1 || c->p != c->end)
		return -1;
	return 0;
}

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
