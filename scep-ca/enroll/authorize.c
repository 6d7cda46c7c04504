/*
 * authorize.c - the authorize step of enrollment: is this CSR's
 * challengePassword good for the profile?  One function per mode; the
 * Intune mode sends the whole CSR to Intune (intune/authorize.c).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/encode.h"
#include "enroll/enroll.h"
#include "pki/pki.h"

int
challenge_hash(const void *p, size_t n, char out[65])
{
	return pki_digest_hex(p, n, "SHA256", out, 65);
}

int
csr_challenge(X509_REQ *csr, struct buf *out)
{
	X509_ATTRIBUTE	*a;
	ASN1_TYPE	*t;
	unsigned char	*utf8 = NULL;
	int		 i, n;

	if ((i = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword,
	    -1)) < 0)
		return 0;
	a = X509_REQ_get_attr(csr, i);
	/* Some clients wrap it oddly: take the first value of the SET. */
	if ((t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL)
		return -1;
	switch (t->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
	case V_ASN1_VISIBLESTRING:
		break;
	default:
		return -1;
	}
	if ((n = ASN1_STRING_to_UTF8(&utf8, t->value.asn1_string)) < 0)
		return -1;
	i = buf_set(out, utf8, (size_t)n) == 0 ? 1 : -1;
	OPENSSL_cleanse(utf8, (size_t)n);
	OPENSSL_free(utf8);
	return i;
}

/* Zeroes the values of an attribute about to be freed. */
static void
attr_wipe(X509_ATTRIBUTE *a)
{
	ASN1_TYPE	*t;
	int		 i;

	for (i = 0; i < X509_ATTRIBUTE_count(a); i++) {
		t = X509_ATTRIBUTE_get0_type(a, i);
		/* Every type but these three holds an ASN1_STRING. */
		if (t == NULL || t->type == V_ASN1_BOOLEAN ||
		    t->type == V_ASN1_NULL || t->type == V_ASN1_OBJECT ||
		    t->value.asn1_string == NULL)
			continue;
		OPENSSL_cleanse(t->value.asn1_string->data,
		    (size_t)t->value.asn1_string->length);
	}
}

/*
 * The stripped copy is encoded from its fields, so the request's
 * self-signature no longer covers it and will not verify.  That is
 * accepted: policy_check_csr() verified the signature when the request
 * arrived, and the stored copy is only read back to issue the approved
 * request (handle_poll()), which verifies nothing again.
 *
 * csr is parse-only (scep/msg.h): it is only encoded here, which fetches
 * nothing, and the copy is decoded in the default context.
 */
int
csr_der_without_challenge(X509_REQ *csr, struct buf *out, struct err *e)
{
	X509_REQ		*copy = NULL;
	X509_ATTRIBUTE		*a;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	int			 n, i, rc = -1;

	/* A copy of our own: the caller's request stays whole. */
	if ((n = i2d_X509_REQ(csr, &der)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
	p = der;
	copy = d2i_X509_REQ(NULL, &p, n);
	OPENSSL_clear_free(der, (size_t)n);
	der = NULL;
	if (copy == NULL)
		return err_set_ossl(e, ERR_INTERNAL, "cannot copy the CSR");
	/* Every challengePassword, should a client send several. */
	while ((i = X509_REQ_get_attr_by_NID(copy, NID_pkcs9_challengePassword,
	    -1)) >= 0) {
		if ((a = X509_REQ_delete_attr(copy, i)) == NULL) {
			err_set_ossl(e, ERR_INTERNAL, "cannot remove the"
			    " challenge password");
			goto out;
		}
		attr_wipe(a);
		X509_ATTRIBUTE_free(a);
	}
	/* Encode from the fields, not from the encoding kept by d2i. */
	if (i2d_re_X509_REQ_tbs(copy, NULL) <= 0 ||
	    (n = i2d_X509_REQ(copy, &der)) <= 0) {
		err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
		goto out;
	}
	if (buf_set(out, der, (size_t)n) == -1) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	X509_REQ_free(copy);
	return rc;
}

/* Constant-time comparison with the profile's static secret. */
static int
check_static(const struct profile_conf *p, const struct buf *given,
    struct err *e)
{
	unsigned char	a[32], b[32];

	/* Hashing first makes the comparison independent of lengths. */
	if (!EVP_Digest(given->data ? given->data : (unsigned char *)"",
	    given->len, a, NULL, EVP_sha256(), NULL) ||
	    !EVP_Digest(p->challenge_secret.data, p->challenge_secret.len, b,
	    NULL, EVP_sha256(), NULL))
		return err_set(e, ERR_INTERNAL, "authorize: digest failed");
	if (CRYPTO_memcmp(a, b, sizeof(a)) != 0)
		return err_set(e, ERR_BAD_CHALLENGE, "wrong challenge password");
	return 0;
}

/* A one-time challenge must exist, be unused and unexpired. */
static int
check_one_time(struct scep_ctx *ctx, const struct profile_conf *p,
    const struct buf *given, char consume[65], struct err *e)
{
	int	usable;

	if (challenge_hash(given->data, given->len, consume) == -1)
		return err_set(e, ERR_INTERNAL, "authorize: digest failed");
	usable = store_challenge_usable(ctx->store, consume, p->name, e);
	if (usable == 1)
		return 0;
	consume[0] = '\0';
	if (usable == 0)
		return err_set(e, ERR_BAD_CHALLENGE, "one-time challenge"
		    " unknown, used or expired");
	return -1;
}

int
authorize_challenge(struct scep_ctx *ctx, const struct profile_conf *p,
    X509_REQ *csr, char consume[65], struct err *e)
{
	struct buf	given = {0};
	int		rc = -1, has;

	consume[0] = '\0';
	if (p->challenge == CHALLENGE_NONE)
		return 0;	/* manual approval decides */
	if ((has = csr_challenge(csr, &given)) <= 0) {
		err_set(e, ERR_BAD_CHALLENGE, has == 0 ? "the CSR has no"
		    " challenge password" : "malformed challenge password");
		goto out;
	}
	switch (p->challenge) {
	case CHALLENGE_STATIC:
		rc = check_static(p, &given, e);
		break;
	case CHALLENGE_ONE_TIME:
		rc = check_one_time(ctx, p, &given, consume, e);
		break;
	case CHALLENGE_INTUNE:
		/* Only Intune can read its challenge: authorize_intune(). */
		err_set(e, ERR_INTERNAL, "an Intune challenge is checked by"
		    " Intune, not here");
		break;
	default:
		err_set(e, ERR_CONFIG, "challenge mode %s is not available",
		    challenge_mode_name(p->challenge));
		break;
	}
out:
	buf_wipe(&given);
	return rc;
}
