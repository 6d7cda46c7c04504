/*
 * issue.c - issuance policy checks and certificate building.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "enroll/issue.h"
#include "pki/dn.h"
#include "pki/identity.h"
#include "pki/pki.h"

int
issue_random_serial(X509 *x, struct err *e)
{
	unsigned char	 r[16];
	BIGNUM		*bn = NULL;
	int		 rc = -1;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return err_set_ossl(e, ERR_INTERNAL, "no randomness");
	/*
	 * Positive (top bit clear) and exactly 16 bytes (first byte non-zero),
	 * so every serial prints as 32 hex digits.
	 */
	r[0] &= 0x7f;
	if (r[0] == 0)
		r[0] = 0x01;
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rc = 0;
	else
		err_set_ossl(e, ERR_INTERNAL, "cannot set a serial");
	BN_free(bn);
	return rc;
}

int
issue_add_ext(X509 *x, X509 *issuer, int nid, const char *value,
    struct err *e)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return err_set_ossl(e, ERR_INTERNAL, "cannot build %s = %s",
		    OBJ_nid2sn(nid), value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : err_set_ossl(e, ERR_INTERNAL, "cannot add %s",
	    OBJ_nid2sn(nid));
}

/* The signature digest of the CSR must not be a broken one. */
static int
check_csr_digest(const struct profile_conf *p, X509_REQ *req, struct err *e)
{
	int	md_nid = NID_undef, pk_nid;

	if (!OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid,
	    &pk_nid))
		return err_set(e, ERR_BAD_ALG, "unknown CSR signature algorithm");
	if ((md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2) &&
	    !p->allow_legacy)
		return err_set(e, ERR_BAD_ALG, "the CSR is signed with %s;"
		    " the profile does not allow legacy algorithms",
		    OBJ_nid2sn(md_nid));
	return 0;
}

static int
check_key(const struct profile_conf *p, EVP_PKEY *key, struct err *e)
{
	char	curve[64] = "";
	int	bits = EVP_PKEY_get_bits(key);

	if (EVP_PKEY_is_a(key, "RSA")) {
		if ((p->key_mask & KEY_RSA) && bits >= p->rsa_min_bits)
			return 0;
		return err_set(e, ERR_POLICY, "RSA-%d key refused (profile %s"
		    " accepts %s)", bits, p->name, p->key_types);
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		EVP_PKEY_get_utf8_string_param(key, "group", curve,
		    sizeof(curve), NULL);
		if (((p->key_mask & KEY_EC_P256) && strcmp(curve, "prime256v1") == 0) ||
		    ((p->key_mask & KEY_EC_P384) && strcmp(curve, "secp384r1") == 0))
			return 0;
		return err_set(e, ERR_POLICY, "EC key on curve %s refused"
		    " (profile %s accepts %s)", curve[0] ? curve : "?", p->name,
		    p->key_types);
	}
	return err_set(e, ERR_POLICY, "%s key refused (profile %s accepts %s)",
	    EVP_PKEY_get0_type_name(key), p->name, p->key_types);
}

/* Refuses the SID extension and SID SAN URIs (a known spoofing path). */
static int
check_no_sid(STACK_OF(X509_EXTENSION) *exts, struct err *e)
{
	ASN1_OBJECT		*sid = OBJ_txt2obj(OID_MS_SID_EXTENSION, 1);
	X509_EXTENSION		*ext;
	GENERAL_NAMES		*names = NULL;
	GENERAL_NAME		*gn;
	int			 i, rc = 0;

	for (i = 0; i < sk_X509_EXTENSION_num(exts) && rc == 0; i++) {
		ext = sk_X509_EXTENSION_value(exts, i);
		if (sid != NULL &&
		    OBJ_cmp(X509_EXTENSION_get_object(ext), sid) == 0)
			rc = err_set(e, ERR_POLICY, "the CSR carries the SID"
			    " security extension (%s)", OID_MS_SID_EXTENSION);
	}
	names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(names) && rc == 0; i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type == GEN_URI && gn->d.uniformResourceIdentifier->length >=
		    (int)strlen(SAN_URI_SID_PREFIX) &&
		    strncasecmp((char *)gn->d.uniformResourceIdentifier->data,
		    SAN_URI_SID_PREFIX, strlen(SAN_URI_SID_PREFIX)) == 0)
			rc = err_set(e, ERR_POLICY, "the CSR asks for a SID in a"
			    " SAN URI");
	}
	GENERAL_NAMES_free(names);
	ASN1_OBJECT_free(sid);
	ERR_clear_error();
	return rc;
}

int
policy_check_csr(const struct profile_conf *p, X509_REQ *req, EVP_PKEY *key,
    struct err *e)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	int				 rc = -1;

	if (check_csr_digest(p, req, e) == -1)
		goto out;
	/* With the key, in the default context: req is parse-only (scep/msg.h). */
	if (X509_REQ_verify_ex(req, key, NULL, NULL) != 1) {
		err_set_ossl(e, ERR_BAD_SIGNATURE, "the CSR's self-signature"
		    " does not verify");
		goto out;
	}
	if (check_key(p, key, e) == -1)
		goto out;
	exts = X509_REQ_get_extensions(req);
	ERR_clear_error();
	/* "alice@x\0.evil" would be stored and matched as "alice@x". */
	if (check_no_sid(exts, e) == -1 || identity_req_check(req, e) == -1)
		goto out;
	rc = 0;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* Is the RDN type of entry listed in the profile's copy_subject? */
static int
rdn_copied(const struct profile_conf *p, const X509_NAME_ENTRY *ent)
{
	const char	*sn, *ln, *s = p->copy_subject;
	size_t		 n;

	if (strcasecmp(s, "all") == 0)
		return 1;
	sn = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ent)));
	ln = OBJ_nid2ln(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ent)));
	while (*s != '\0') {
		s += strspn(s, " ,");
		n = strcspn(s, " ,");
		if (n > 0 && ((sn && strlen(sn) == n && strncasecmp(s, sn, n) == 0) ||
		    (ln && strlen(ln) == n && strncasecmp(s, ln, n) == 0)))
			return 1;
		s += n;
	}
	return 0;
}

X509_NAME *
issue_subject(const struct profile_conf *p, X509_REQ *req)
{
	const X509_NAME	*src = X509_REQ_get_subject_name(req);
	X509_NAME	*dst;
	int		 i, set, last_set = -1;

	if ((dst = X509_NAME_new()) == NULL)
		return NULL;
	for (i = 0; i < X509_NAME_entry_count(src); i++) {
		const X509_NAME_ENTRY *ent = X509_NAME_get_entry(src, i);

		if (!rdn_copied(p, ent))
			continue;
		/* A multi-valued RDN stays one RDN (-1: join the last). */
		set = X509_NAME_ENTRY_set(ent);
		if (!X509_NAME_add_entry(dst, ent, -1, set == last_set ? -1 : 0)) {
			X509_NAME_free(dst);
			return NULL;
		}
		last_set = set;
	}
	return dst;
}

/* Which copy_san bit a general name falls under (0: never copied). */
static int
san_kind(const GENERAL_NAME *gn)
{
	switch (gn->type) {
	case GEN_DNS:	return SAN_DNS;
	case GEN_EMAIL:	return SAN_EMAIL;
	case GEN_URI:	return SAN_URI;
	case GEN_IPADD:	return SAN_IP;
	case GEN_OTHERNAME:
		return OBJ_obj2nid(gn->d.otherName->type_id) == NID_ms_upn ?
		    SAN_UPN : 0;
	default:	return 0;
	}
}

/* The CSR's SANs that the profile lets through (NULL if none/error). */
static GENERAL_NAMES *
build_san(const struct profile_conf *p, X509_REQ *req)
{
	STACK_OF(X509_EXTENSION)	*exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES			*in, *out = NULL;
	GENERAL_NAME			*gn;
	int				 i;

	in = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	ERR_clear_error();
	for (i = 0; i < sk_GENERAL_NAME_num(in); i++) {
		gn = sk_GENERAL_NAME_value(in, i);
		if (!(san_kind(gn) & p->san_mask))
			continue;
		if ((out == NULL && (out = GENERAL_NAMES_new()) == NULL) ||
		    !sk_GENERAL_NAME_push(out, GENERAL_NAME_dup(gn)))
			break;
	}
	GENERAL_NAMES_free(in);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return out;
}

/* Is gn one of names? */
static int
san_listed(const GENERAL_NAMES *names, GENERAL_NAME *gn)
{
	int	i;

	for (i = 0; i < sk_GENERAL_NAME_num(names); i++)
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(names, i), gn) == 0)
			return 1;
	return 0;
}

/* The SAN of an issued certificate (NULL: none). */
static GENERAL_NAMES *
cert_san(X509 *x)
{
	GENERAL_NAMES	*names;

	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	ERR_clear_error();
	return names;
}

int
issue_renewal_check(const struct profile_conf *p, X509_REQ *req,
    X509 *parent, struct err *e)
{
	X509_NAME	*subject = issue_subject(p, req);
	GENERAL_NAMES	*asked = build_san(p, req), *had = cert_san(parent);
	int		 i, rc = 0;

	if (subject == NULL ||
	    !pki_name_equal(subject, X509_get_subject_name(parent)))
		rc = err_set(e, ERR_BAD_REQUEST, "renewal: the subject differs"
		    " from the renewed certificate's");
	for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(asked); i++)
		if (!san_listed(had, sk_GENERAL_NAME_value(asked, i)))
			rc = err_set(e, ERR_BAD_REQUEST, "renewal: the CSR asks"
			    " for a SAN the renewed certificate does not have");
	X509_NAME_free(subject);
	GENERAL_NAMES_free(asked);
	GENERAL_NAMES_free(had);
	return rc;
}

/* Sets notBefore/notAfter: now-5 min (clock skew) .. now+days, ≤ CA. */
static int
set_validity(X509 *x, const struct issue_params *ip)
{
	ASN1_TIME	*na;
	int64_t		 end = ip->now + (int64_t)ip->validity_days * 86400;

	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -300,
	    &(time_t){ (time_t)ip->now }) ||
	    (na = ASN1_TIME_set(NULL, (time_t)end)) == NULL)
		return -1;
	if (ASN1_TIME_compare(na, X509_get0_notAfter(ip->ca_cert)) > 0)
		ASN1_TIME_free(na), na = ASN1_TIME_dup(X509_get0_notAfter(ip->ca_cert));
	if (na == NULL || !X509_set1_notAfter(x, na)) {
		ASN1_TIME_free(na);
		return -1;
	}
	ASN1_TIME_free(na);
	return 0;
}

/* Key usage, EKU, key identifiers, CRL and OCSP URLs. */
static int
add_extensions(X509 *x, const struct issue_params *ip, EVP_PKEY *key,
    struct err *e)
{
	char	url[1024];

	if (issue_add_ext(x, ip->ca_cert, NID_basic_constraints,
	    "critical,CA:FALSE", e) == -1 ||
	    issue_add_ext(x, ip->ca_cert, NID_key_usage,
	    EVP_PKEY_is_a(key, "RSA") ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature,keyAgreement", e) == -1 ||
	    issue_add_ext(x, ip->ca_cert, NID_ext_key_usage,
	    ip->profile->eku, e) == -1 ||
	    issue_add_ext(x, ip->ca_cert, NID_subject_key_identifier, "hash",
	    e) == -1 ||
	    issue_add_ext(x, ip->ca_cert, NID_authority_key_identifier,
	    "keyid:always", e) == -1)
		return -1;
	if (ip->public_url == NULL || ip->public_url[0] == '\0')
		return 0;
	snprintf(url, sizeof(url), "URI:%s/crl/%s.crl", ip->public_url,
	    ip->ca_name);
	if (issue_add_ext(x, ip->ca_cert, NID_crl_distribution_points, url,
	    e) == -1)
		return -1;
	snprintf(url, sizeof(url), "OCSP;URI:%s/ocsp,caIssuers;URI:%s/ca.crt",
	    ip->public_url, ip->public_url);
	return issue_add_ext(x, ip->ca_cert, NID_info_access, url, e);
}

/* Adds the filtered SANs; critical when the subject is empty. */
static int
add_san(X509 *x, GENERAL_NAMES *san, int subject_empty, struct err *e)
{
	if (san == NULL)
		return subject_empty ? err_set(e, ERR_POLICY, "the certificate"
		    " would name nobody: empty subject and no SAN passes the"
		    " policy") : 0;
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, san, subject_empty,
	    X509V3_ADD_DEFAULT))
		return err_set_ossl(e, ERR_INTERNAL, "cannot add the SAN");
	return 0;
}

X509 *
issue_build(const struct issue_params *ip, X509_REQ *req, EVP_PKEY *key,
    struct err *e)
{
	X509		*x = NULL;
	X509_NAME	*subject = NULL;
	GENERAL_NAMES	*san = NULL;

	/* A renewal keeps its parent's identity, whatever the CSR says. */
	if (ip->parent != NULL) {
		subject = X509_NAME_dup(X509_get_subject_name(ip->parent));
		san = cert_san(ip->parent);
	} else {
		subject = issue_subject(ip->profile, req);
		san = build_san(ip->profile, req);
	}
	if (subject == NULL || key == NULL || (x = X509_new()) == NULL) {
		err_set_ossl(e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (!X509_set_version(x, 2) || issue_random_serial(x, e) == -1 ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ip->ca_cert)) ||
	    pki_pubkey_copy(X509_get_X509_PUBKEY(x),
	    X509_REQ_get_X509_PUBKEY(req)) == -1 || set_validity(x, ip) == -1) {
		if (e != NULL && e->code == ERR_OK)
			err_set_ossl(e, ERR_INTERNAL, "cannot build the certificate");
		goto fail;
	}
	if (add_san(x, san, X509_NAME_entry_count(subject) == 0, e) == -1 ||
	    add_extensions(x, ip, key, e) == -1)
		goto fail;
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	return x;
fail:
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	X509_free(x);
	return NULL;
}
