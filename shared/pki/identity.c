/*
 * identity.c - device and user identity found in certificates: by a
 * configurable mapping from SANs and subject attributes, or from the SAN
 * text FreeRADIUS publishes; and the refusal of names that hold a NUL
 * byte, which C strings would cut short.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/identity.h"

int
identity_valid(const char *s)
{
	size_t	n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && strchr("-_.@+", s[n]) == NULL)
			return 0;
	return n > 0 && n < 128;
}

/*
 * Copies n bytes of s into out if they form a valid identifier (and out
 * is still empty).  Returns 1 when copied, 0 when not, -1 when the bytes
 * hold a NUL: "alice@x\0.evil" must not become "alice@x".
 */
static int
set_field(char *out, size_t outlen, const char *s, size_t n)
{
	char	tmp[256];

	if (memchr(s, '\0', n) != NULL)
		return -1;
	if (n == 0 || n >= sizeof(tmp) || n >= outlen || out[0] != '\0')
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!identity_valid(tmp))
		return 0;
	memcpy(out, tmp, n + 1);
	return 1;
}

/* The text of a SAN otherName UPN, or NULL. */
static const ASN1_STRING *
san_upn(const GENERAL_NAME *gn)
{
	const OTHERNAME	*on = gn->d.otherName;
	const ASN1_TYPE	*v = on->value;

	if (OBJ_obj2nid(on->type_id) != NID_ms_upn || v == NULL ||
	    (v->type != V_ASN1_UTF8STRING && v->type != V_ASN1_IA5STRING &&
	    v->type != V_ASN1_PRINTABLESTRING))
		return NULL;
	return v->value.asn1_string;
}

/*
 * Tries one SAN entry against a source; fills out when it matches.
 * Returns -1 when the entry's value holds a NUL, else 0.
 */
static int
from_san(const struct identity_source *src, const GENERAL_NAME *gn,
    char *out, size_t outlen)
{
	const ASN1_STRING	*s = NULL;
	size_t			 plen = strlen(src->prefix);

	switch (src->kind) {
	case IDSRC_SAN_URI_PREFIX:
		s = gn->type == GEN_URI ? gn->d.uniformResourceIdentifier : NULL;
		if (s == NULL || (size_t)s->length <= plen ||
		    strncasecmp((const char *)s->data, src->prefix, plen) != 0)
			return 0;
		return set_field(out, outlen, (const char *)s->data + plen,
		    (size_t)s->length - plen) == -1 ? -1 : 0;
	case IDSRC_SAN_UPN:
		s = gn->type == GEN_OTHERNAME ? san_upn(gn) : NULL;
		break;
	case IDSRC_SAN_EMAIL:
		s = gn->type == GEN_EMAIL ? gn->d.rfc822Name : NULL;
		break;
	case IDSRC_SAN_DNS:
		s = gn->type == GEN_DNS ? gn->d.dNSName : NULL;
		break;
	case IDSRC_SUBJECT:
		return 0;
	}
	if (s != NULL && s->length > 0 && set_field(out, outlen,
	    (const char *)s->data, (size_t)s->length) == -1)
		return -1;
	return 0;
}

/*
 * A subject attribute as UTF-8 into out.  Returns -1 when a value it
 * reads holds a NUL (also one a BMPString encodes), else 0.
 */
static int
from_subject(X509 *x, int nid, char *out, size_t outlen)
{
	X509_NAME	*name = X509_get_subject_name(x);	/* get0 */
	X509_NAME_ENTRY	*ne;
	unsigned char	*utf8 = NULL;
	int		 i = -1, n, rc = 0;

	while (rc == 0 && out[0] == '\0' &&
	    (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0) {
		ne = X509_NAME_get_entry(name, i);
		if ((n = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(ne))) > 0 &&
		    set_field(out, outlen, (const char *)utf8, (size_t)n) == -1)
			rc = -1;
		OPENSSL_free(utf8);
		utf8 = NULL;
	}
	return rc;
}

/*
 * Fills one field from the first source of rule that gives a value.
 * Returns -1 when a value it read held a NUL, else 0.
 */
static int
from_rule(X509 *x, const GENERAL_NAMES *names,
    const struct identity_rule *rule, char *out, size_t outlen)
{
	int	s, i;

	for (s = 0; s < rule->n && out[0] == '\0'; s++) {
		if (rule->src[s].kind == IDSRC_SUBJECT) {
			if (from_subject(x, rule->src[s].nid, out, outlen) == -1)
				return -1;
			continue;
		}
		for (i = 0; i < sk_GENERAL_NAME_num(names) && out[0] == '\0'; i++)
			if (from_san(&rule->src[s], sk_GENERAL_NAME_value(names,
			    i), out, outlen) == -1)
				return -1;
	}
	return 0;
}

int
identity_from_cert_map(X509 *x, const struct identity_map *m,
    struct cert_identity *id)
{
	GENERAL_NAMES	*names;
	int		 rc = 0;

	memset(id, 0, sizeof(*id));
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (from_rule(x, names, &m->intune_device_id, id->intune_device_id,
	    sizeof(id->intune_device_id)) == -1 ||
	    from_rule(x, names, &m->entra_device_id, id->entra_device_id,
	    sizeof(id->entra_device_id)) == -1 ||
	    from_rule(x, names, &m->upn, id->upn, sizeof(id->upn)) == -1) {
		memset(id, 0, sizeof(*id));
		rc = -1;
	}
	GENERAL_NAMES_free(names);
	ERR_clear_error();	/* an absent or odd SAN is no error here */
	return rc;
}

int
identity_from_cert(X509 *x, struct cert_identity *id)
{
	struct identity_map	m;

	identity_map_default(&m);
	return identity_from_cert_map(x, &m, id);
}

/* ---- NUL bytes --------------------------------------------------------- */

/*
 * Refuses a string value (of a name attribute or a SAN entry) holding a
 * NUL, read as UTF-8 so that a BMPString's zero octets do not count.
 */
static int
text_check(const ASN1_STRING *s, const char *what, struct err *e)
{
	unsigned char	*utf8 = NULL;
	int		 n;

	if ((n = ASN1_STRING_to_UTF8(&utf8, s)) < 0) {
		ERR_clear_error();
		return err_set(e, ERR_BAD_REQUEST, "identity: %s cannot be read "
		    "as text", what);
	}
	if (memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		return err_set(e, ERR_BAD_REQUEST, "identity: NUL byte in %s",
		    what);
	}
	OPENSSL_free(utf8);
	return 0;
}

/* Every attribute value of a name. */
static int
name_check(const X509_NAME *name, const char *where, struct err *e)
{
	const X509_NAME_ENTRY	*ne;
	char			 what[96];
	int			 i;

	for (i = 0; i < X509_NAME_entry_count(name); i++) {
		ne = X509_NAME_get_entry(name, i);
		snprintf(what, sizeof(what), "the %s's %s", where,
		    OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne))));
		if (text_check(X509_NAME_ENTRY_get_data(ne), what, e) == -1)
			return -1;
	}
	return 0;
}

/* Every SAN entry that is text: names, URIs, text otherNames. */
static int
san_check(const GENERAL_NAMES *names, struct err *e)
{
	const GENERAL_NAME	*gn;
	const ASN1_TYPE		*v;
	int			 i, rc = 0;

	for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(names); i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		switch (gn->type) {
		case GEN_EMAIL:
			rc = text_check(gn->d.rfc822Name, "a SAN email", e);
			break;
		case GEN_DNS:
			rc = text_check(gn->d.dNSName, "a SAN DNS name", e);
			break;
		case GEN_URI:
			rc = text_check(gn->d.uniformResourceIdentifier,
			    "a SAN URI", e);
			break;
		case GEN_DIRNAME:
			rc = name_check(gn->d.directoryName, "SAN directoryName",
			    e);
			break;
		case GEN_OTHERNAME:
			v = gn->d.otherName->value;
			/* The string types; others are not read as text. */
			if (v != NULL && (ASN1_tag2bit(v->type) &
			    (B_ASN1_DIRECTORYSTRING | B_ASN1_IA5STRING |
			    B_ASN1_VISIBLESTRING)))
				rc = text_check(v->value.asn1_string,
				    "a SAN otherName", e);
			break;
		default:		/* IP addresses, OIDs: not text */
			break;
		}
	}
	return rc;
}

/* The subject and the SAN extension (found in exts) of a CSR or cert. */
static int
names_check(const X509_NAME *subject, const STACK_OF(X509_EXTENSION) *exts,
    struct err *e)
{
	GENERAL_NAMES	*names;
	int		 crit = -1, rc;

	if (subject != NULL && name_check(subject, "subject", e) == -1)
		return -1;
	names = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (names == NULL && crit != -1) {
		ERR_clear_error();
		/* -2: more than one SAN extension; else one we cannot read. */
		return err_set(e, ERR_BAD_REQUEST, "identity: %s",
		    crit == -2 ? "more than one SAN extension" :
		    "unreadable SAN extension");
	}
	rc = san_check(names, e);
	GENERAL_NAMES_free(names);
	return rc;
}

int
identity_req_check(X509_REQ *req, struct err *e)
{
	STACK_OF(X509_EXTENSION)	*exts;
	int				 rc;

	exts = X509_REQ_get_extensions(req);	/* get1; NULL: none */
	ERR_clear_error();
	rc = names_check(X509_REQ_get_subject_name(req), exts, e);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

int
identity_cert_check(X509 *x, struct err *e)
{
	return names_check(X509_get_subject_name(x), X509_get0_extensions(x),
	    e);
}

/* Parses one source ("san_uri:IntuneDeviceId"). */
static int
source_parse(const char *tok, struct identity_source *src, struct err *e)
{
	const char	*arg = strchr(tok, ':');
	size_t		 klen = arg != NULL ? (size_t)(arg - tok) : strlen(tok);

	memset(src, 0, sizeof(*src));
	if (arg != NULL)
		arg++;
#define KIND(k)	(klen == sizeof(k) - 1 && strncasecmp(tok, k, klen) == 0)
	if (KIND("san_upn") && arg == NULL)
		src->kind = IDSRC_SAN_UPN;
	else if (KIND("san_email") && arg == NULL)
		src->kind = IDSRC_SAN_EMAIL;
	else if (KIND("san_dns") && arg == NULL)
		src->kind = IDSRC_SAN_DNS;
	else if ((KIND("san_uri") || KIND("san_uri_prefix")) && arg != NULL &&
	    *arg != '\0' && snprintf(src->prefix, sizeof(src->prefix), "%s%s",
	    arg, KIND("san_uri") ? "://" : "") < (int)sizeof(src->prefix))
		src->kind = IDSRC_SAN_URI_PREFIX;
	else if (KIND("subject") && arg != NULL &&
	    (src->nid = OBJ_txt2nid(arg)) != NID_undef)
		src->kind = IDSRC_SUBJECT;
	else {
		ERR_clear_error();	/* OBJ_txt2nid() of an unknown name */
		return err_set(e, ERR_CONFIG, "bad identity source '%.80s'"
		    " (san_uri:SCHEME, san_uri_prefix:PREFIX, san_upn,"
		    " san_email, san_dns, subject:ATTR or none)", tok);
	}
#undef KIND
	return 0;
}

int
identity_rule_parse(const char *text, struct identity_rule *out,
    struct err *e)
{
	char	 copy[512], *tok, *save = NULL;
	int	 none = 0;

	memset(out, 0, sizeof(*out));
	if (snprintf(copy, sizeof(copy), "%s", text) >= (int)sizeof(copy))
		return err_set(e, ERR_CONFIG, "identity source list too long");
	for (tok = strtok_r(copy, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		if (strcasecmp(tok, "none") == 0) {
			none = 1;
			continue;
		}
		if (out->n == IDENTITY_SOURCES_MAX)
			return err_set(e, ERR_CONFIG, "at most %d identity sources",
			    IDENTITY_SOURCES_MAX);
		if (source_parse(tok, &out->src[out->n], e) == -1)
			return -1;
		out->n++;
	}
	if (none && out->n > 0)
		return err_set(e, ERR_CONFIG, "identity source 'none' goes alone");
	if (!none && out->n == 0)
		return err_set(e, ERR_CONFIG, "empty identity source list (say"
		    " none)");
	return 0;
}

void
identity_map_default(struct identity_map *m)
{
	/* The defaults are constant text that parses: no error to handle. */
	identity_rule_parse(IDENTITY_DEFAULT_INTUNE_DEVICE_ID,
	    &m->intune_device_id, NULL);
	identity_rule_parse(IDENTITY_DEFAULT_ENTRA_DEVICE_ID,
	    &m->entra_device_id, NULL);
	identity_rule_parse(IDENTITY_DEFAULT_UPN, &m->upn, NULL);
}

/*
 * The SAN text fields, as OpenSSL's i2v_GENERAL_NAME() prints them
 * ("othername:UPN:" is what OpenSSL 1.1 printed).
 */
static const struct san_text_field {
	const char	*prefix;
	size_t		 off, size;	/* of the field in struct cert_identity */
} san_text_fields[] = {
	{ "URI:" INTUNE_DEVICE_URI, offsetof(struct cert_identity,
	    intune_device_id), sizeof(((struct cert_identity *)0)->intune_device_id) },
	{ "othername: UPN::", offsetof(struct cert_identity, upn),
	    sizeof(((struct cert_identity *)0)->upn) },
	{ "othername:UPN:", offsetof(struct cert_identity, upn),
	    sizeof(((struct cert_identity *)0)->upn) },
};

int
identity_from_san_text(const char *text, struct cert_identity *id)
{
	const struct san_text_field	*f;
	const char			*p = text;
	char				*out;
	size_t				 n, plen, i;

	memset(id, 0, sizeof(*id));
	while (*p != '\0') {
		p += strspn(p, " ,");
		n = strcspn(p, ",");
		for (i = 0; i < sizeof(san_text_fields) /
		    sizeof(san_text_fields[0]); i++) {
			f = &san_text_fields[i];
			plen = strlen(f->prefix);
			if (n < plen || strncasecmp(p, f->prefix, plen) != 0)
				continue;
			/*
			 * A second candidate for a field (which a ", URI:..."
			 * inside a DNS name or email would make), or one that
			 * is no plain identifier: the text cannot be read.
			 */
			out = (char *)id + f->off;
			if (out[0] != '\0' ||
			    set_field(out, f->size, p + plen, n - plen) != 1)
				goto ambiguous;
		}
		p += n;
	}
	return 0;
ambiguous:
	memset(id, 0, sizeof(*id));
	return -1;
}
