/*
 * entra_match_cert.c - what the store's copy of a client certificate
 * (its DER) says, in the very text FreeRADIUS 3.2 publishes for a client
 * certificate during EAP-TLS, so that the module compares byte for byte
 * instead of reading names back from text; cached per certificate.
 *
 * FreeRADIUS (src/main/tls.c, cbtls_verify) makes the attributes with
 * OpenSSL's own printers into 1024-byte buffers, then fr_pair_make()
 * parses each as a double-quoted string (src/lib/value.c,
 * value_data_from_str): the same calls on the same DER, and the same
 * unquoting (fr_unquote() below), give the same bytes.
 *
 * Decoding a certificate costs about 100 us with OpenSSL 3 (its public
 * key goes through the provider decoders), several times a whole
 * decision, so the texts are kept per certificate, by its SHA-256
 * thumbprint, in a table of fixed size.
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "entra_match.h"

/* What cbtls_verify() keeps of notAfter (char buf[64]). */
#define EXPIRATION_BUF	64

/*
 * What FreeRADIUS makes of a value it parses as a double-quoted string:
 * \r \n \t \\ \" and \ddd (three digits, read as octal) are unescaped;
 * any other backslash is kept with what follows.  Returns 0, or -1 for a
 * value it refuses (a backslash at the end: no attribute at all) or one
 * that does not fit out.
 */
static int
fr_unquote(const char *in, char *out, size_t outlen)
{
	size_t		o = 0;
	unsigned	x;
	int		i;
	char		c;

	while (*in != '\0') {
		if (o + 1 >= outlen)
			return -1;
		if ((c = *in++) != '\\') {
			out[o++] = c;
			continue;
		}
		if (*in == '\0')
			return -1;
		switch (*in) {
		case 'r': c = '\r'; in++; break;
		case 'n': c = '\n'; in++; break;
		case 't': c = '\t'; in++; break;
		case '\\': case '"': c = *in++; break;
		default:
			/* sscanf(q, "%3o") once three digits were seen. */
			if (in[0] >= '0' && in[0] <= '7' && isdigit((unsigned char)
			    in[1]) && isdigit((unsigned char)in[2])) {
				for (x = 0, i = 0; i < 3 && in[i] >= '0' &&
				    in[i] <= '7'; i++)
					x = x * 8 + (unsigned)(in[i] - '0');
				c = (char)x;
				in += 3;
			}
			break;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* A name as TLS-Client-Cert-Issuer / -Subject carry it. */
static int
name_text(const X509_NAME *name, char *out, size_t outlen)
{
	char	buf[ENTRA_MATCH_TEXT_MAX];

	buf[0] = '\0';
	X509_NAME_oneline(name, buf, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	return fr_unquote(buf, out, outlen);
}

/*
 * The authorityKeyIdentifier as TLS-Client-Cert-X509v3-Authority-Key-
 * Identifier carries it; "" when the certificate has none.
 */
static int
aki_text(X509 *x, char *out, size_t outlen)
{
	X509_EXTENSION	*ext;
	BIO		*bio;
	char		 buf[ENTRA_MATCH_TEXT_MAX];
	int		 i, n;

	out[0] = '\0';
	if ((i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1)) < 0)
		return 0;
	ext = X509_get_ext(x, i);				/* get0 */
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	X509V3_EXT_print(bio, ext, 0, 0);
	n = BIO_read(bio, buf, sizeof(buf) - 1);
	BIO_free(bio);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return fr_unquote(buf, out, outlen);
}

/* Fills t from a certificate's DER.  Returns 0 or -1 with e set. */
static int
texts_from_der(const struct buf *der, struct entra_match_cert_text *t,
    struct err *e)
{
	const unsigned char	*p = der->data;
	const ASN1_TIME		*na;
	X509			*x = NULL;
	int			 rc = -1;

	memset(t, 0, sizeof(*t));
	if (der->len == 0 || der->len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)der->len)) == NULL) {
		err_set_ossl(e, ERR_STORE, "entra_match: stored certificate "
		    "unreadable");
		goto out;
	}
	na = X509_get0_notAfter(x);
	if (name_text(X509_get_issuer_name(x), t->issuer,
	    sizeof(t->issuer)) == -1 ||
	    name_text(X509_get_subject_name(x), t->subject,
	    sizeof(t->subject)) == -1 ||
	    aki_text(x, t->aki, sizeof(t->aki)) == -1 ||
	    na->length <= 0 || na->length >= EXPIRATION_BUF) {
		err_set(e, ERR_STORE, "entra_match: stored certificate has "
		    "names FreeRADIUS cannot publish");
		goto out;
	}
	memcpy(t->expiration, na->data, (size_t)na->length);
	t->expiration[na->length] = '\0';
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	return rc;
}

/* ---- the cache --------------------------------------------------------- */

/* One certificate's texts, each NUL-terminated, one after the other. */
struct text_entry {
	char	sha256[65];
	size_t	len[4];
	char	text[];
};

/*
 * Direct-mapped by the thumbprint: a certificate pushes out the one
 * before it in its slot.  Thread-safety: one mutex; entries are copied
 * out under it.
 */
struct entra_match_text_cache {
	pthread_mutex_t		 mu;
	size_t			 n;		/* a power of two */
	struct text_entry	**slot;
};

struct entra_match_text_cache *
entra_match_text_cache_new(size_t slots, struct err *e)
{
	struct entra_match_text_cache	*c;
	size_t				 n = 1;

	while (n < slots && n < (SIZE_MAX >> 1) / sizeof(c->slot[0]))
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->slot = calloc(n, sizeof(c->slot[0]))) == NULL) {
		free(c);
		err_set(e, ERR_NOMEM, "entra_match: out of memory");
		return NULL;
	}
	c->n = n;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void
entra_match_text_cache_free(struct entra_match_text_cache *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->slot[i]);
	pthread_mutex_destroy(&c->mu);
	free(c->slot);
	free(c);
}

/* The slot of a thumbprint (hex, uniformly spread). */
static size_t
slot_of(const struct entra_match_text_cache *c, const char *sha256)
{
	size_t	h = 0;
	int	i;

	for (i = 0; i < 8 && sha256[i] != '\0'; i++)
		h = h * 16 + (size_t)(sha256[i] & 0x0f) +
		    (sha256[i] > '9' ? 9 : 0);
	return h & (c->n - 1);
}

/* The four texts of t, in entry order. */
static void
text_fields(struct entra_match_cert_text *t, char *f[4], size_t size[4])
{
	f[0] = t->issuer;	size[0] = sizeof(t->issuer);
	f[1] = t->subject;	size[1] = sizeof(t->subject);
	f[2] = t->aki;		size[2] = sizeof(t->aki);
	f[3] = t->expiration;	size[3] = sizeof(t->expiration);
}

/* Copies a cached entry into t.  Returns 1 on a hit, 0 on a miss. */
static int
cache_get(struct entra_match_text_cache *c, const char *sha256,
    struct entra_match_cert_text *t)
{
	const struct text_entry	*ent;
	const char		*p;
	char			*f[4];
	size_t			 size[4];
	int			 i, hit = 0;

	text_fields(t, f, size);
	pthread_mutex_lock(&c->mu);
	ent = c->slot[slot_of(c, sha256)];
	if (ent != NULL && strcmp(ent->sha256, sha256) == 0) {
		for (i = 0, p = ent->text; i < 4; p += ent->len[i++] + 1)
			memcpy(f[i], p, ent->len[i] + 1);
		hit = 1;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* Keeps t for sha256 (nothing when out of memory: only a cost). */
static void
cache_put(struct entra_match_text_cache *c, const char *sha256,
    struct entra_match_cert_text *t)
{
	struct text_entry	*ent, *old;
	char			*f[4], *p;
	size_t			 size[4], total = 0;
	int			 i;

	text_fields(t, f, size);
	for (i = 0; i < 4; i++)
		total += strlen(f[i]) + 1;
	if ((ent = malloc(sizeof(*ent) + total)) == NULL)
		return;
	snprintf(ent->sha256, sizeof(ent->sha256), "%s", sha256);
	for (i = 0, p = ent->text; i < 4; p += ent->len[i++] + 1) {
		ent->len[i] = strlen(f[i]);
		memcpy(p, f[i], ent->len[i] + 1);
	}
	pthread_mutex_lock(&c->mu);
	old = c->slot[slot_of(c, sha256)];
	c->slot[slot_of(c, sha256)] = ent;
	pthread_mutex_unlock(&c->mu);
	free(old);
}

int
entra_match_cert_text(struct entra_match_text_cache *c,
    const struct cert_row *row, struct entra_match_cert_text *t,
    struct err *e)
{
	/* The thumbprint is the key: a row without one is not cached. */
	int	keyed = c != NULL && strlen(row->sha256) == 64;

	if (keyed && cache_get(c, row->sha256, t))
		return 0;
	if (texts_from_der(&row->der, t, e) == -1)
		return -1;
	if (keyed)
		cache_put(c, row->sha256, t);
	return 0;
}
