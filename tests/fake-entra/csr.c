/*
 * csr.c - looks inside a PKCS#10 certificate request (RFC 2986) the way
 * Intune's validateRequest must: decode it, check its self-signature, read
 * its subject and its challengePassword attribute (RFC 2985 §5.4.1).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "base/encode.h"
#include "base/log.h"
#include "fake.h"

void
fe_csr_clear(struct fe_csr *c)
{
	free(c->challenge);
	free(c->subject);
	c->challenge = c->subject = NULL;
}

/* The subject as `openssl req -noout -subject -nameopt RFC2253` prints it. */
static char *
fe_csr_subject(X509_REQ *req)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *out = NULL;
	long	 n;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, X509_REQ_get_subject_name(req), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(bio, &data)) >= 0)
		out = strndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

/*
 * The challengePassword value.  RFC 2985 makes it a DirectoryString;
 * clients send PrintableString or UTF8String, some IA5String.
 */
static char *
fe_csr_challenge(X509_REQ *req)
{
	X509_ATTRIBUTE		*attr;	/* get: owned by req */
	ASN1_TYPE		*at;	/* get0 */
	const ASN1_STRING	*s;
	int			 idx;

	idx = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
	if (idx < 0 || (attr = X509_REQ_get_attr(req, idx)) == NULL ||
	    (at = X509_ATTRIBUTE_get0_type(attr, 0)) == NULL)
		return NULL;
	if (at->type != V_ASN1_PRINTABLESTRING &&
	    at->type != V_ASN1_UTF8STRING && at->type != V_ASN1_IA5STRING)
		return NULL;
	s = at->value.asn1_string;
	if (s->length <= 0 || memchr(s->data, '\0', (size_t)s->length) != NULL)
		return NULL;
	return strndup((const char *)ASN1_STRING_get0_data(s),
	    (size_t)s->length);
}

enum fe_csr_status
fe_csr_inspect(const char *b64, struct fe_csr *out)
{
	struct buf		 der = {0};
	const unsigned char	*p;
	X509_REQ		*req = NULL;
	EVP_PKEY		*pk;	/* get0 */
	enum fe_csr_status	 st = FE_CSR_UNDECODABLE;

	memset(out, 0, sizeof(*out));
	if (b64_decode_lenient(&der, b64, strlen(b64)) == -1 || der.len == 0)
		goto out;
	p = der.data;
	/* One whole DER structure, nothing after it. */
	if ((req = d2i_X509_REQ(NULL, &p, (long)der.len)) == NULL ||
	    p != der.data + der.len)
		goto out;
	out->subject = fe_csr_subject(req);
	st = FE_CSR_BAD_SIGNATURE;
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pk) != 1)
		goto out;
	st = FE_CSR_NO_CHALLENGE;
	if ((out->challenge = fe_csr_challenge(req)) == NULL)
		goto out;
	st = out->subject != NULL ? FE_CSR_OK : FE_CSR_UNDECODABLE;
out:
	if (st != FE_CSR_OK)
		log_openssl(LOGL_DEBUG, FE_LOG, "csr");
	X509_REQ_free(req);
	buf_free(&der);
	return st;
}
