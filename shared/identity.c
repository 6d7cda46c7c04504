/*
 * identity.c - device and user identity found in certificates.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

static void
from_uri(const ASN1_IA5STRING *uri, struct cert_identity *id)
{
	size_t	plen = strlen(INTUNE_DEVICE_URI);

	if ((size_t)uri->length > plen &&
	    strncasecmp((const char *)uri->data, INTUNE_DEVICE_URI, plen) == 0)
		set_field(id->intune_device_id, sizeof(id->intune_device_id),
		    (const char *)uri->data + plen, (size_t)uri->length - plen);
}

static void
from_othername(const OTHERNAME *on, struct cert_identity *id)
{
	const ASN1_TYPE	*v = on->value;

	if (OBJ_obj2nid(on->type_id) != NID_ms_upn || v == NULL ||
	    (v->type != V_ASN1_UTF8STRING && v->type != V_ASN1_IA5STRING &&
	    v->type != V_ASN1_PRINTABLESTRING))
		return;
	set_field(id->upn, sizeof(id->upn), (const char *)v->value.asn1_string->data,
	    (size_t)v->value.asn1_string->length);
}

void
identity_from_cert(X509 *x, struct cert_identity *id)
{
	GENERAL_NAMES	*names;
	GENERAL_NAME	*gn;
	int		 i;

	memset(id, 0, sizeof(*id));
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type == GEN_URI)
			from_uri(gn->d.uniformResourceIdentifier, id);
		else if (gn->type == GEN_OTHERNAME)
			from_othername(gn->d.otherName, id);
	}
	GENERAL_NAMES_free(names);
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
