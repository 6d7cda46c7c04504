/*
 * libFuzzer target: the plain-request fast path (scep-ca/revocation/ocsp_req.c)
 * against OpenSSL.  Whenever ocsp_req_simple() accepts an input,
 * d2i_OCSP_REQUEST() must accept all of it as one request without
 * extensions or signature, read the same CertID, and encode it back to
 * the same bytes (so there was nothing else in it either, such as a
 * requestorName); any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "revocation/ocsp_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* p..p+n lies within der..der+len. */
static int
inside(const unsigned char *p, size_t n, const unsigned char *der,
    size_t len)
{
	return p >= der && n <= len && (size_t)(p - der) <= len - n;
}

static int
same(const unsigned char *p, size_t n, const ASN1_STRING *s)
{
	return (size_t)ASN1_STRING_length(s) == n &&
	    memcmp(ASN1_STRING_get0_data(s), p, n) == 0;
}

/* 1 when OpenSSL's CertID is the one r describes. */
static int
same_cert_id(OCSP_CERTID *id, const struct ocsp_simple_req *r)
{
	ASN1_OCTET_STRING	*nh, *kh;
	ASN1_OBJECT		*md;
	ASN1_INTEGER		*serial;
	const unsigned char	*sn = r->serial;
	size_t			 sn_len = r->serial_len;

	if (!OCSP_id_get0_info(&nh, &md, &kh, &serial, id))
		return 0;
	/* OpenSSL keeps the magnitude, without DER's sign octet. */
	if (sn_len > 1 && sn[0] == 0) {
		sn++;
		sn_len--;
	}
	return OBJ_obj2nid(md) == r->nid &&
	    same(r->name_hash, r->name_hash_len, nh) &&
	    same(r->key_hash, r->key_hash_len, kh) &&
	    ASN1_STRING_type(serial) == V_ASN1_INTEGER &&
	    same(sn, sn_len, serial);
}

/* 1 when OpenSSL reads der (all len bytes) as r says. */
static int
openssl_agrees(const unsigned char *der, size_t len,
    const struct ocsp_simple_req *r)
{
	const unsigned char	*p = der;
	unsigned char		*again = NULL;
	OCSP_REQUEST		*req;
	OCSP_ONEREQ		*one;
	int			 n, ok = 0;

	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (OCSP_request_onereq_count(req) != 1 ||
	    OCSP_REQUEST_get_ext_count(req) != 0 ||
	    OCSP_request_is_signed(req))
		goto out;
	one = OCSP_request_onereq_get0(req, 0);
	if (OCSP_ONEREQ_get_ext_count(one) != 0 ||
	    !same_cert_id(OCSP_onereq_get0_id(one), r))
		goto out;
	/* Strict DER read back as the same DER: nothing went unseen. */
	if ((n = i2d_OCSP_REQUEST(req, &again)) < 0 || (size_t)n != len ||
	    memcmp(again, der, len) != 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(again);
	OCSP_REQUEST_free(req);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_simple_req	r;

	if (ocsp_req_simple(data, size, &r) == 0)
		return 0;
	if (!inside(r.name_hash, r.name_hash_len, data, size) ||
	    !inside(r.key_hash, r.key_hash_len, data, size) ||
	    !inside(r.serial, r.serial_len, data, size) ||
	    !openssl_agrees(data, size, &r))
		abort();
	ERR_clear_error();
	return 0;
}
