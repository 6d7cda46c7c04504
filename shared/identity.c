/*
 * identity.c - device and user identity found in certificates: by a
 * configurable mapping from SANs and subject attributes, or from the SAN
 * text FreeRADIUS publishes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "identity.h"

int
identity_valid(const char *s)
{
	size_t	n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && strchr("-_.@+", s[n]) == NULL)
			return 0;
	return n > 0 && n < 128;
}

/* Copies n bytes of s into out if they form a valid identifier. */
static void
set_field(char *out, size_t outlen, const char *s, size_t n)
{
	char	tmp[256];

	if (n == 0 || n >= sizeof(tmp) || n >= outlen || out[0] != '\0')
		return;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (identity_valid(tmp))
		memcpy(out, tmp, n + 1);
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

/* Tries one SAN entry against a source; fills out when it matches. */
static void
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
			return;
		set_field(out, outlen, (const char *)s->data + plen,
		    (size_t)s->length - plen);
		return;
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
		return;
	}
	if (s != NULL && s->length > 0)
		set_field(out, outlen, (const char *)s->data, (size_t)s->length);
}

/* A subject attribute as UTF-8 into out. */
static void
from_subject(X509 *x, int nid, char *out, size_t outlen)
{
	X509_NAME	*name = X509_get_subject_name(x);	/* get0 */
	X509_NAME_ENTRY	*ne;
	unsigned char	*utf8 = NULL;
	int		 i = -1, n;

	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0 &&
	    out[0] == '\0') {
		ne = X509_NAME_get_entry(name, i);
		if ((n = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(ne))) > 0)
			set_field(out, outlen, (const char *)utf8, (size_t)n);
		OPENSSL_free(utf8);
		utf8 = NULL;
	}
}

/* Fills one field from the first source of rule that gives a value. */
static void
from_rule(X509 *x, const GENERAL_NAMES *names,
    const struct identity_rule *rule, char *out, size_t outlen)
{
	int	s, i;

	for (s = 0; s < rule->n && out[0] == '\0'; s++) {
		if (rule->src[s].kind == IDSRC_SUBJECT) {
			from_subject(x, rule->src[s].nid, out, outlen);
			continue;
		}
		for (i = 0; i < sk_GENERAL_NAME_num(names) && out[0] == '\0'; i++)
			from_san(&rule->src[s], sk_GENERAL_NAME_value(names, i),
			    out, outlen);
	}
}

void
identity_from_cert_map(X509 *x, const struct identity_map *m,
    struct cert_identity *id)
{
	GENERAL_NAMES	*names;

	memset(id, 0, sizeof(*id));
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	from_rule(x, names, &m->intune_device_id, id->intune_device_id,
	    sizeof(id->intune_device_id));
	from_rule(x, names, &m->entra_device_id, id->entra_device_id,
	    sizeof(id->entra_device_id));
	from_rule(x, names, &m->upn, id->upn, sizeof(id->upn));
	GENERAL_NAMES_free(names);
	ERR_clear_error();	/* an absent or odd SAN is no error here */
}

void
identity_from_cert(X509 *x, struct cert_identity *id)
{
	struct identity_map	m;

	identity_map_default(&m);
	identity_from_cert_map(x, &m, id);
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

void
identity_from_san_text(const char *text, struct cert_identity *id)
{
	static const char	 upn1[] = "othername: UPN::", upn2[] = "othername:UPN:";
	const char		*p = text, *v;
	size_t			 n;

	memset(id, 0, sizeof(*id));
	while (p != NULL && *p != '\0') {
		p += strspn(p, " ,");
		n = strcspn(p, ",");
		if (strncasecmp(p, "URI:" INTUNE_DEVICE_URI, 4 + strlen(INTUNE_DEVICE_URI)) == 0) {
			v = p + 4 + strlen(INTUNE_DEVICE_URI);
			set_field(id->intune_device_id, sizeof(id->intune_device_id),
			    v, n - (size_t)(v - p));
		} else if (strncasecmp(p, upn1, sizeof(upn1) - 1) == 0) {
			v = p + sizeof(upn1) - 1;
			set_field(id->upn, sizeof(id->upn), v, n - (size_t)(v - p));
		} else if (strncasecmp(p, upn2, sizeof(upn2) - 1) == 0) {
			v = p + sizeof(upn2) - 1;
			set_field(id->upn, sizeof(id->upn), v, n - (size_t)(v - p));
		}
		p += n;
	}
}
