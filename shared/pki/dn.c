/*
 * dn.c - distinguished names: RFC 4514 text in, X.520 comparison by
 * OpenSSL's canonical encoding, RFC 4514 text out.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "base/buf.h"
#include "base/encode.h"
#include "pki/dn.h"

/* The string types a "#" value may have (RFC 4514 §2.4). */
#define DN_HEX_TYPES	(B_ASN1_UTF8STRING | B_ASN1_PRINTABLESTRING | \
			    B_ASN1_IA5STRING | B_ASN1_T61STRING | \
			    B_ASN1_VISIBLESTRING | B_ASN1_NUMERICSTRING | \
			    B_ASN1_BMPSTRING | B_ASN1_UNIVERSALSTRING)

/* RFC 4514 §3's keywords and the ones Windows (Intune) prints. */
static const struct {
	const char	*keyword;
	int		 nid;
} dn_keywords[] = {
	{ "CN",			NID_commonName },
	{ "L",			NID_localityName },
	{ "ST",			NID_stateOrProvinceName },
	{ "O",			NID_organizationName },
	{ "OU",			NID_organizationalUnitName },
	{ "C",			NID_countryName },
	{ "STREET",		NID_streetAddress },
	{ "DC",			NID_domainComponent },
	{ "UID",		NID_userId },
	{ "E",			NID_pkcs9_emailAddress },
	{ "S",			NID_stateOrProvinceName },
	{ "T",			NID_title },
	{ "G",			NID_givenName },
	{ "I",			NID_initials },
	{ "SN",			NID_surname },
	{ "SERIALNUMBER",	NID_serialNumber },
};

char *
pki_name_text(const X509_NAME *name)
{
	BIO	*bio;
	BUF_MEM	*mem;
	char	*s = NULL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	/* The form `openssl x509 -nameopt RFC2253` prints, UTF-8 kept. */
	if (X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		BIO_get_mem_ptr(bio, &mem);
		if ((s = malloc(mem->length + 1)) != NULL) {
			memcpy(s, mem->data, mem->length);
			s[mem->length] = '\0';
		}
	}
	BIO_free(bio);
	return s;
}

/* Whether c ends a value: '/' in the OpenSSL form, ',' or '+' else. */
static int
dn_is_end(char c, int slash)
{
	if (c == '\0')
		return 1;
	return slash ? c == '/' : c == ',' || c == '+';
}

static int
dn_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* The object a type names: a keyword in any case, OpenSSL's, an OID. */
static ASN1_OBJECT *
dn_object(const char *type)
{
	size_t	i;

	for (i = 0; i < sizeof(dn_keywords) / sizeof(dn_keywords[0]); i++)
		if (strcasecmp(type, dn_keywords[i].keyword) == 0)
			return OBJ_nid2obj(dn_keywords[i].nid);
	if (strncasecmp(type, "OID.", 4) == 0)
		type += 4;
	return OBJ_txt2obj(type, 0);
}

/* Reads "TYPE =" at *pp into a new object; *pp is left after the '='. */
static ASN1_OBJECT *
dn_type(const char **pp, int slash, struct err *e)
{
	const char	*start = *pp, *end;
	char		 type[128];
	ASN1_OBJECT	*obj;

	while (*start == ' ')
		start++;
	for (end = start; *end != '=' && !dn_is_end(*end, slash); end++)
		;
	if (*end != '=') {
		err_set(e, ERR_USAGE, "bad name component '%.64s' (want"
		    " TYPE=value)", start);
		return NULL;
	}
	*pp = end + 1;
	while (end > start && end[-1] == ' ')
		end--;
	if (end == start || (size_t)(end - start) >= sizeof(type)) {
		err_set(e, ERR_USAGE, "bad name component '%.64s' (want"
		    " TYPE=value)", start);
		return NULL;
	}
	memcpy(type, start, (size_t)(end - start));
	type[end - start] = '\0';
	if ((obj = dn_object(type)) == NULL)
		err_set(e, ERR_USAGE, "unknown name attribute '%s'", type);
	return obj;
}

/*
 * Reads a value at *pp up to the next unescaped separator into v,
 * unescaped, unescaped spaces at either end dropped.  *hex is set when it
 * is "#" and hex.  Returns 0, or -1 with e set.
 */
/*
 * The byte the escape at *pp stands for: "\XX" (RFC 4514 §2.4 hexpair,
 * not in the OpenSSL form) or "\" and one character.  *pp is left on the
 * escape's last character.
 */
static unsigned char
dn_escape(const char **pp, int slash)
{
	const char	*p = *pp;
	int		 hi = dn_hexval(p[1]), lo = -1;

	if (hi != -1 && !slash)
		lo = dn_hexval(p[2]);
	if (lo != -1) {
		*pp = p + 2;
		return (unsigned char)(hi << 4 | lo);
	}
	*pp = p + 1;
	return (unsigned char)p[1];
}

/*
 * Reads a value at *pp up to the next unescaped separator into v,
 * unescaped, unescaped spaces at either end dropped.  *hex is set when it
 * is "#" and hex.  Returns 0, or -1 with e set.
 */
static int
dn_value(const char **pp, int slash, struct buf *v, int *hex,
    struct err *e)
{
	const char	*p = *pp;
	size_t		 keep = 0;
	unsigned char	 c;
	int		 escaped;

	while (*p == ' ')
		p++;
	if ((*hex = !slash && *p == '#'))
		p++;
	for (; !dn_is_end(*p, slash); p++) {
		c = (unsigned char)*p;
		if ((escaped = c == '\\')) {
			if (p[1] == '\0')
				return err_set(e, ERR_USAGE, "name ends in '\\'");
			c = dn_escape(&p, slash);
		}
		if (buf_append(v, &c, 1) == -1)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (c != ' ' || escaped)
			keep = v->len;
	}
	v->len = keep;
	*pp = p;
	return 0;
}

/* The DER of a "#" value, one of DN_HEX_TYPES, as an entry's value. */
static X509_NAME_ENTRY *
dn_hex_entry(const ASN1_OBJECT *obj, struct buf *v, struct err *e)
{
	struct buf		 der = {0};
	const unsigned char	*p;
	ASN1_TYPE		*t = NULL;
	X509_NAME_ENTRY		*ne = NULL;
	char			*hex;

	if ((hex = buf_cstr(v)) == NULL || hex_decode(&der, hex) == -1 ||
	    der.len == 0 || der.len > LONG_MAX) {
		err_set(e, ERR_USAGE, "name value '#%.64s' is not hex",
		    hex ? hex : "");
		goto out;
	}
	p = der.data;
	if ((t = d2i_ASN1_TYPE(NULL, &p, (long)der.len)) == NULL ||
	    p != der.data + der.len ||
	    (ASN1_tag2bit(t->type) & DN_HEX_TYPES) == 0) {
		err_set(e, ERR_USAGE, "name value '#%.64s' is not the BER of"
		    " a string", hex);
		goto out;
	}
	if ((ne = X509_NAME_ENTRY_create_by_OBJ(NULL, obj, t->type,
	    t->value.asn1_string->data, t->value.asn1_string->length)) == NULL)
		err_set(e, ERR_USAGE, "name value '#%.64s' does not fit its"
		    " attribute", hex);
out:
	ASN1_TYPE_free(t);
	buf_free(&der);
	return ne;
}

/* An entry of obj with value v; NULL with e set. */
static X509_NAME_ENTRY *
dn_entry(const ASN1_OBJECT *obj, struct buf *v, int hex, struct err *e)
{
	X509_NAME_ENTRY	*ne;
	unsigned char	*utf8 = NULL;
	const char	*text;
	int		 n;

	if (hex)
		ne = dn_hex_entry(obj, v, e);
	else if (v->len == 0 || v->len > INT_MAX) {
		err_set(e, ERR_USAGE, "empty name value");
		return NULL;
	} else if ((ne = X509_NAME_ENTRY_create_by_OBJ(NULL, obj,
	    MBSTRING_UTF8, v->data, (int)v->len)) == NULL) {
		text = buf_cstr(v);
		err_set(e, ERR_USAGE, "name value '%.64s' does not fit its"
		    " attribute (UTF-8, length)", text ? text : "");
	}
	if (ne == NULL)
		return NULL;
	/* A NUL byte would cut the name short wherever it is printed. */
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
	if (n < 0 || memchr(utf8, '\0', (size_t)n) != NULL) {
		err_set(e, ERR_USAGE, "name value is not text or holds a NUL byte");
		X509_NAME_ENTRY_free(ne);
		ne = NULL;
	}
	OPENSSL_free(utf8);
	return ne;
}

/* Reads one "TYPE=value" at *pp into a new RDN (set 0) or the last (-1). */
static int
dn_ava(X509_NAME *name, const char **pp, int slash, int set, struct err *e)
{
	struct buf	 v = {0};
	ASN1_OBJECT	*obj;
	X509_NAME_ENTRY	*ne = NULL;
	int		 hex, rc = -1;

	if ((obj = dn_type(pp, slash, e)) == NULL)
		return -1;
	if (dn_value(pp, slash, &v, &hex, e) == -1 ||
	    (ne = dn_entry(obj, &v, hex, e)) == NULL)
		goto out;
	/* X509_NAME_add_entry() adds a copy. */
	if (!X509_NAME_add_entry(name, ne, -1, set)) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	X509_NAME_ENTRY_free(ne);
	ASN1_OBJECT_free(obj);
	buf_free(&v);
	return rc;
}

/* Adds the RDNs of s to name in the order written. */
static int
dn_parse_rdns(X509_NAME *name, const char *s, int slash, struct err *e)
{
	const char	*p = s + slash;
	const char	 sep = slash ? '/' : ',';
	int		 set;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == sep) {
			p++;		/* an empty RDN */
			continue;
		}
		if (*p == '\0')
			break;
		for (set = 0;; set = -1) {
			if (dn_ava(name, &p, slash, set, e) == -1)
				return -1;
			if (slash || *p != '+')
				break;
			p++;		/* the next value of this RDN */
		}
		if (*p == sep)
			p++;
	}
	return 0;
}

X509_NAME *
pki_name_parse(const char *s, struct err *e)
{
	X509_NAME	*name = NULL, *rev = NULL;
	int		 slash = s[0] == '/';

	/* Every refusal has its own message: OpenSSL's queue is left as is. */
	ERR_set_mark();
	if ((name = X509_NAME_new()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (dn_parse_rdns(name, s, slash, e) == -1)
		goto out;
	if (X509_NAME_entry_count(name) == 0) {
		err_set(e, ERR_USAGE, "empty name '%.64s'", s);
		goto out;
	}
	/* RFC 4514 §2.1 writes the most significant RDN last. */
	if (!slash) {
		if ((rev = pki_name_reversed(name)) == NULL)
			err_set(e, ERR_NOMEM, "out of memory");
		X509_NAME_free(name);
		name = rev;
	} else if (i2d_X509_NAME(name, NULL) <= 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	ERR_pop_to_mark();
	return name;
out:
	ERR_pop_to_mark();
	X509_NAME_free(name);
	return NULL;
}

int
pki_name_equal(const X509_NAME *a, const X509_NAME *b)
{
	int	cmp;

	if (a == NULL || b == NULL)
		return 0;
	/* -2 when a name cannot be encoded: then it equals nothing. */
	ERR_set_mark();
	cmp = X509_NAME_cmp(a, b);
	ERR_pop_to_mark();
	return cmp == 0;
}

X509_NAME *
pki_name_reversed(const X509_NAME *name)
{
	X509_NAME		*rev;
	const X509_NAME_ENTRY	*ne;
	int			 i, n = X509_NAME_entry_count(name), same;

	if ((rev = X509_NAME_new()) == NULL)
		return NULL;
	/*
	 * Entry by entry from the last, so the values of a multi-valued RDN
	 * turn too, as X509_NAME_print_ex() turns them for RFC 4514.
	 */
	for (i = n - 1; i >= 0; i--) {
		ne = X509_NAME_get_entry(name, i);
		same = i < n - 1 && X509_NAME_ENTRY_set(ne) ==
		    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i + 1));
		if (!X509_NAME_add_entry(rev, ne, -1, same ? -1 : 0))
			goto fail;
	}
	/* Encoded now, so comparing it later writes nothing (dn.h). */
	if (i2d_X509_NAME(rev, NULL) <= 0)
		goto fail;
	return rev;
fail:
	X509_NAME_free(rev);
	return NULL;
}
