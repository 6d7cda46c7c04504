/*
 * scepreq.c - a SCEP client for integration tests (RFC 8894), independent
 * of scep-ca: GetCACert, then one pkiMessage (PKCSReq, RenewalReq,
 * CertPoll, GetCert, GetCRL; optionally broken on purpose), the reply
 * checked thoroughly, and one parseable line on stdout:
 *
 *   status=SUCCESS serial=0A1B... cipher=aes-128-cbc digest=sha256
 *   status=FAILURE failInfo=badRequest digest=sha256
 *   status=PENDING digest=sha256
 *   status=INVALID            (a CertRep that fails a check; why on stderr)
 *   http=413                  (an answer that is not a CertRep)
 *
 * Exit 0 only when the reply was a well-formed CertRep and, for SUCCESS,
 * the certificate (or CRL) came out of it; with --http-only, whenever an
 * HTTP answer arrived.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/encode.h"
#include "scephttp_lib.h"
#include "scepmsg_lib.h"

#define MAX_SANS	16
#define MAX_EXTS	4
#define DEFAULT_SID	"S-1-5-21-3623811015-3361044348-30300820-1013"

/* The command line. */
struct opts {
	const char		*url, *ca_out, *challenge, *subject;
	const char		*key, *keygen, *key_out, *txid;
	const char		*signer_cert, *signer_key, *out;
	const char		*save_request, *send_file, *save_reply;
	const char		*get_cert, *sid;
	const EVP_CIPHER	*cipher;
	const EVP_MD		*md;
	enum scepmsg_hostile	 hostile;
	enum scephttp_b64	 b64;
	int			 get, challenge_utf8, renewal, poll, get_crl;
	int			 http_only, caps, verbose, rep_flags;
	struct scepmsg_san	 sans[MAX_SANS];
	size_t			 n_sans;
	struct scepmsg_ext	 exts[MAX_EXTS];
	struct buf		 ext_der[MAX_EXTS];
	size_t			 n_exts;
};

/* Everything one run holds; freed in ctx_free(). */
struct ctx {
	struct opts		 o;
	struct scephttp		*http;
	STACK_OF(X509)		*cacerts;
	EVP_PKEY		*key;		/* the key being certified */
	X509_REQ		*csr;
	X509			*signer;	/* signs the request */
	EVP_PKEY		*signer_key;	/* decrypts the reply */
	ASN1_INTEGER		*serial;	/* GetCert */
	struct scepmsg_req	*req;
	int			 req_unknown;	/* --send-file we cannot read */
	struct scepmsg_rep	*rep;
	struct scephttp_reply	 reply;
	struct err		 e;
};

enum {
	OPT_CA_OUT = 256, OPT_CHALLENGE_UTF8, OPT_KEYGEN, OPT_KEY_OUT,
	OPT_SAN_URI, OPT_SAN_UPN, OPT_SAN_DNS, OPT_SAN_EMAIL, OPT_SID_EXT,
	OPT_SID, OPT_EXT, OPT_SIGNER_CERT, OPT_SIGNER_KEY, OPT_RENEWAL,
	OPT_POLL, OPT_GET_CERT, OPT_GET_CRL, OPT_HOSTILE, OPT_SAVE_REQUEST,
	OPT_SEND_FILE, OPT_SAVE_REPLY, OPT_HTTP_ONLY, OPT_B64, OPT_CAPS,
	OPT_ECHOED_NONCE,
};

static const struct option longopts[] = {
	{ "url",		required_argument, NULL, 'u' },
	{ "get",		no_argument,	   NULL, 'g' },
	{ "b64-variant",	required_argument, NULL, OPT_B64 },
	{ "ca-out",		required_argument, NULL, OPT_CA_OUT },
	{ "caps",		no_argument,	   NULL, OPT_CAPS },
	{ "challenge",		required_argument, NULL, 'c' },
	{ "challenge-utf8",	no_argument,	   NULL, OPT_CHALLENGE_UTF8 },
	{ "subject",		required_argument, NULL, 's' },
	{ "key",		required_argument, NULL, 'k' },
	{ "keygen",		required_argument, NULL, OPT_KEYGEN },
	{ "key-out",		required_argument, NULL, OPT_KEY_OUT },
	{ "san-uri",		required_argument, NULL, OPT_SAN_URI },
	{ "san-upn",		required_argument, NULL, OPT_SAN_UPN },
	{ "san-dns",		required_argument, NULL, OPT_SAN_DNS },
	{ "san-email",		required_argument, NULL, OPT_SAN_EMAIL },
	{ "add-sid-ext",	no_argument,	   NULL, OPT_SID_EXT },
	{ "sid",		required_argument, NULL, OPT_SID },
	{ "ext",		required_argument, NULL, OPT_EXT },
	{ "cipher",		required_argument, NULL, 'C' },
	{ "digest",		required_argument, NULL, 'd' },
	{ "txid",		required_argument, NULL, 't' },
	{ "signer-cert",	required_argument, NULL, OPT_SIGNER_CERT },
	{ "signer-key",		required_argument, NULL, OPT_SIGNER_KEY },
	{ "renewal",		no_argument,	   NULL, OPT_RENEWAL },
	{ "poll",		no_argument,	   NULL, OPT_POLL },
	{ "get-cert",		required_argument, NULL, OPT_GET_CERT },
	{ "get-crl",		no_argument,	   NULL, OPT_GET_CRL },
	{ "hostile",		required_argument, NULL, OPT_HOSTILE },
	{ "out",		required_argument, NULL, 'o' },
	{ "save-request",	required_argument, NULL, OPT_SAVE_REQUEST },
	{ "send-file",		required_argument, NULL, OPT_SEND_FILE },
	{ "save-reply",		required_argument, NULL, OPT_SAVE_REPLY },
	{ "http-only",		no_argument,	   NULL, OPT_HTTP_ONLY },
	{ "allow-echoed-nonce",	no_argument,	   NULL, OPT_ECHOED_NONCE },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	int	i;

	fputs("usage: scepreq --url URL [options]\n"
	    "  --get [--b64-variant encoded|raw|urlsafe|nopad|urlsafe-nopad]\n"
	    "                        PKIOperation by GET (default POST)\n"
	    "  --caps                print GetCACaps on one line and exit\n"
	    "  --ca-out FILE         save the GetCACert certificates (PEM)\n"
	    "  --challenge S [--challenge-utf8]   challengePassword\n"
	    "  --subject DN          \"/CN=x/O=y\" or \"CN=x,O=y\" (default /CN=scepreq)\n"
	    "  --key FILE | --keygen rsa:2048|rsa:1024|ec:p256   [--key-out FILE]\n"
	    "  --san-dns D --san-email E --san-uri U --san-upn U  (repeatable)\n"
	    "  --add-sid-ext [--sid SID]   Microsoft SID extension\n"
	    "  --ext OID:HEXDER      any extension (repeatable)\n"
	    "  --cipher aes128|aes192|aes256|3des   --digest sha1|sha256|sha512\n"
	    "  --txid ID             transactionID (default: hex SHA-1 of the key)\n"
	    "  --signer-cert C --signer-key K   sign with an existing certificate\n"
	    "  --renewal             RenewalReq (17) instead of PKCSReq (19)\n"
	    "  --poll                CertPoll (20) for --subject and --key\n"
	    "  --get-cert SERIAL     GetCert (21)     --get-crl  GetCRL (22) of --signer-cert\n"
	    "  --out FILE            save the issued certificate (PEM)\n"
	    "  --save-request F  --send-file F  --save-reply F   (DER)\n"
	    "  --http-only           report the HTTP status only\n"
	    "  --allow-echoed-nonce  accept a CertRep senderNonce equal to ours\n"
	    "                        (micromdm); the line then ends quirk=echoed-nonce\n"
	    "  --hostile KIND        break the request on purpose:\n", f);
	for (i = 1; i < SCEPMSG_HOSTILE__COUNT; i++)
		fprintf(f, "      %-20s %s\n", scepmsg_hostile_name(i),
		    scepmsg_hostile_help(i));
}

/* Records one SAN option. */
static int
opt_san(struct opts *o, enum scepmsg_san_kind kind, const char *value)
{
	if (o->n_sans == MAX_SANS)
		return -1;
	o->sans[o->n_sans].kind = kind;
	o->sans[o->n_sans++].value = value;
	return 0;
}

/* Records one extension, from "OID:HEXDER" or the SID extension. */
static int
opt_ext(struct opts *o, const char *oid, const char *hex, const char *sid)
{
	struct buf	*der = &o->ext_der[o->n_exts];

	if (o->n_exts == MAX_EXTS)
		return -1;
	if (sid != NULL ? scepmsg_sid_ext_der(sid, der, NULL) == -1 :
	    hex_decode(der, hex) == -1 || der->len == 0)
		return -1;
	o->exts[o->n_exts].oid = oid;
	o->exts[o->n_exts].der = der->data;
	o->exts[o->n_exts++].len = der->len;
	return 0;
}

/* Handles the options that take a parsed value. Returns 0 or -1. */
static int
opt_value(struct opts *o, int c, char *arg)
{
	char	*colon;

	switch (c) {
	case 'C':
		return (o->cipher = scepmsg_cipher_by_name(arg)) ? 0 : -1;
	case 'd':
		return (o->md = scepmsg_md_by_name(arg)) ? 0 : -1;
	case OPT_HOSTILE:
		return scepmsg_hostile_parse(arg, &o->hostile);
	case OPT_B64:
		return scephttp_b64_parse(arg, &o->b64);
	case OPT_SAN_URI:	return opt_san(o, SCEPMSG_SAN_URI, arg);
	case OPT_SAN_UPN:	return opt_san(o, SCEPMSG_SAN_UPN, arg);
	case OPT_SAN_DNS:	return opt_san(o, SCEPMSG_SAN_DNS, arg);
	case OPT_SAN_EMAIL:	return opt_san(o, SCEPMSG_SAN_EMAIL, arg);
	case OPT_EXT:
		if ((colon = strchr(arg, ':')) == NULL)
			return -1;
		*colon = '\0';		/* arg keeps the OID for exts[] */
		if (opt_ext(o, arg, colon + 1, NULL) == 0)
			return 0;
		*colon = ':';
		return -1;
	default:
		return -1;
	}
}

/* Stores a string option.  Returns 0, or -1 when c is not one. */
static int
opt_string(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'u':		o->url = arg; break;
	case 'c':		o->challenge = arg; break;
	case 's':		o->subject = arg; break;
	case 'k':		o->key = arg; break;
	case 't':		o->txid = arg; break;
	case 'o':		o->out = arg; break;
	case OPT_CA_OUT:	o->ca_out = arg; break;
	case OPT_KEYGEN:	o->keygen = arg; break;
	case OPT_KEY_OUT:	o->key_out = arg; break;
	case OPT_SID:		o->sid = arg; break;
	case OPT_SIGNER_CERT:	o->signer_cert = arg; break;
	case OPT_SIGNER_KEY:	o->signer_key = arg; break;
	case OPT_GET_CERT:	o->get_cert = arg; break;
	case OPT_SAVE_REQUEST:	o->save_request = arg; break;
	case OPT_SEND_FILE:	o->send_file = arg; break;
	case OPT_SAVE_REPLY:	o->save_reply = arg; break;
	default:		return -1;
	}
	return 0;
}

/* Stores a flag option.  Returns 0, or -1 when c is not one. */
static int
opt_flag(struct opts *o, int c)
{
	switch (c) {
	case 'g':		o->get = 1; break;
	case 'v':		o->verbose = 1; break;
	case OPT_CHALLENGE_UTF8: o->challenge_utf8 = 1; break;
	case OPT_SID_EXT:	o->sid = o->sid ? o->sid : DEFAULT_SID; break;
	case OPT_RENEWAL:	o->renewal = 1; break;
	case OPT_POLL:		o->poll = 1; break;
	case OPT_GET_CRL:	o->get_crl = 1; break;
	case OPT_HTTP_ONLY:	o->http_only = 1; break;
	case OPT_CAPS:		o->caps = 1; break;
	case OPT_ECHOED_NONCE:
		o->rep_flags |= SCEPMSG_REP_ALLOW_ECHOED_NONCE;
		break;
	default:		return -1;
	}
	return 0;
}

/* Parses argv into o.  Returns 0, 1 for --help, or -1. */
static int
opts_parse(struct opts *o, int argc, char **argv)
{
	int	c;

	o->subject = "/CN=scepreq";
	while ((c = getopt_long(argc, argv, "u:gc:s:k:C:d:t:o:vh", longopts,
	    NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (opt_flag(o, c) == 0 || opt_string(o, c, optarg) == 0)
			continue;
		if (c == '?')
			return -1;	/* getopt said why */
		if (opt_value(o, c, optarg) == -1) {
			fprintf(stderr, "scepreq: bad value '%s'; see --help\n",
			    optarg);
			return -1;
		}
	}
	if (o->sid != NULL && opt_ext(o, "1.3.6.1.4.1.311.25.2", NULL,
	    o->sid) == -1)
		return -1;
	if (o->url == NULL || optind != argc) {
		fprintf(stderr, "scepreq: --url is required; see --help\n");
		return -1;
	}
	if (o->signer_cert != NULL && o->signer_key == NULL && o->key == NULL) {
		fprintf(stderr, "scepreq: --signer-cert needs --signer-key\n");
		return -1;
	}
	if ((o->renewal || o->get_crl) &&
	    (o->signer_cert == NULL || o->signer_key == NULL)) {
		fprintf(stderr, "scepreq: --renewal and --get-crl need "
		    "--signer-cert and --signer-key\n");
		return -1;
	}
	return 0;
}

/* Complains on stderr with the error's detail; returns -1. */
static int
fail(struct ctx *c, const char *what)
{
	fprintf(stderr, "scepreq: %s: %s\n", what, c->e.msg);
	return -1;
}

/* GetCACaps, printed on one line. */
static int
do_caps(struct ctx *c)
{
	size_t	i;

	if (scephttp_get(c->http, "GetCACaps", NULL, &c->reply, &c->e) == -1)
		return fail(c, "GetCACaps");
	/* One capability a line, RFC 8894 §3.5.2: join them with commas. */
	while (c->reply.body.len > 0 &&
	    strchr("\r\n", c->reply.body.data[c->reply.body.len - 1]) != NULL)
		c->reply.body.len--;
	for (i = 0; i < c->reply.body.len; i++)
		if (c->reply.body.data[i] == '\n' || c->reply.body.data[i] == '\r')
			c->reply.body.data[i] = ',';
	printf("http=%ld caps=%s\n", c->reply.status, buf_cstr(&c->reply.body));
	return c->reply.status == 200 ? 0 : -1;
}

/* GetCACert: the certificates requests are encrypted to and checked by. */
static int
do_cacert(struct ctx *c)
{
	if (scephttp_get(c->http, "GetCACert", NULL, &c->reply, &c->e) == -1)
		return fail(c, "GetCACert");
	if (c->reply.status != 200) {
		printf("http=%ld\n", c->reply.status);
		fprintf(stderr, "scepreq: GetCACert answered HTTP %ld\n",
		    c->reply.status);
		return -1;
	}
	if ((c->cacerts = scepmsg_cacert_parse(c->reply.content_type,
	    c->reply.body.data, c->reply.body.len, &c->e)) == NULL)
		return fail(c, "GetCACert");
	if (c->o.verbose)
		fprintf(stderr, "scepreq: GetCACert: %s, %d certificate(s)\n",
		    c->reply.content_type, sk_X509_num(c->cacerts));
	if (c->o.ca_out != NULL &&
	    scepmsg_write_certs(c->o.ca_out, c->cacerts, &c->e) == -1)
		return fail(c, "--ca-out");
	return 0;
}

/* Loads or makes the key being certified. */
static int
load_key(struct ctx *c)
{
	if (c->o.key != NULL && c->o.keygen == NULL)
		c->key = scepmsg_read_key(c->o.key, &c->e);
	else
		c->key = scepmsg_keygen(c->o.keygen ? c->o.keygen : "rsa:2048",
		    &c->e);
	if (c->key == NULL)
		return fail(c, "key");
	if (c->o.key_out != NULL &&
	    scepmsg_write_key(c->o.key_out, c->key, &c->e) == -1)
		return fail(c, "--key-out");
	return 0;
}

/* Makes the CSR, for PKCSReq and RenewalReq. */
static int
make_csr(struct ctx *c)
{
	struct scepmsg_csr_spec	spec = {
		.subject = c->o.subject, .challenge = c->o.challenge,
		.challenge_utf8 = c->o.challenge_utf8,
		.sans = c->o.sans, .n_sans = c->o.n_sans,
		.exts = c->o.exts, .n_exts = c->o.n_exts, .md = c->o.md,
	};

	if ((c->csr = scepmsg_csr_new(c->key, &spec, &c->e)) == NULL)
		return fail(c, "CSR");
	return 0;
}

/* The signer: the given certificate, or a self-signed one for the key. */
static int
load_signer(struct ctx *c)
{
	X509_NAME	*name = NULL;

	if (c->o.signer_cert != NULL) {
		if ((c->signer = scepmsg_read_cert(c->o.signer_cert,
		    &c->e)) == NULL ||
		    (c->signer_key = scepmsg_read_key(c->o.signer_key ?
		    c->o.signer_key : c->o.key, &c->e)) == NULL)
			return fail(c, "signer");
		return 0;
	}
	if ((name = scepmsg_name_parse(c->o.subject, &c->e)) == NULL)
		return fail(c, "--subject");
	c->signer = scepmsg_selfsigned_new(c->key, name, &c->e);
	X509_NAME_free(name);
	if (c->signer == NULL)
		return fail(c, "signer");
	EVP_PKEY_up_ref(c->key);	/* signer_key holds its own reference */
	c->signer_key = c->key;
	return 0;
}

/* Picks the messageType from the options. */
static int
message_type(const struct opts *o)
{
	if (o->poll)
		return SCEP_MT_CERTPOLL;
	if (o->get_cert != NULL)
		return SCEP_MT_GETCERT;
	if (o->get_crl)
		return SCEP_MT_GETCRL;
	return o->renewal ? SCEP_MT_RENEWALREQ : SCEP_MT_PKCSREQ;
}

/* Fills the issuer, subject or serial that CertPoll/GetCert/GetCRL name. */
static int
fill_query(struct ctx *c, struct scepmsg_spec *spec, X509_NAME **subject)
{
	BIGNUM	*bn = NULL;

	spec->issuer = X509_get_subject_name(scepmsg_cacert_ca(c->cacerts));
	if (spec->type == SCEP_MT_CERTPOLL) {
		if ((*subject = scepmsg_name_parse(c->o.subject, &c->e)) == NULL)
			return fail(c, "--subject");
		spec->subject = *subject;
	} else if (spec->type == SCEP_MT_GETCERT) {
		if (!BN_hex2bn(&bn, c->o.get_cert) ||
		    (c->serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
			BN_free(bn);
			fprintf(stderr, "scepreq: bad --get-cert serial\n");
			return -1;
		}
		BN_free(bn);
		spec->serial = c->serial;
	} else {
		spec->issuer = X509_get_issuer_name(c->signer);
		spec->serial = X509_get0_serialNumber(c->signer);
	}
	return 0;
}

/* Builds the pkiMessage the options describe. */
static int
build_request(struct ctx *c)
{
	struct scepmsg_spec	 spec = {
		.type = message_type(&c->o), .cipher = c->o.cipher,
		.md = c->o.md, .txid = c->o.txid, .hostile = c->o.hostile,
		.recipient = scepmsg_cacert_recipient(c->cacerts),
	};
	X509_NAME		*subject = NULL;
	int			 rc = -1;

	if (load_key(c) == -1 || load_signer(c) == -1)
		goto out;
	if (spec.type == SCEP_MT_PKCSREQ || spec.type == SCEP_MT_RENEWALREQ) {
		if (make_csr(c) == -1)
			goto out;
		spec.csr = c->csr;
	} else if (fill_query(c, &spec, &subject) == -1)
		goto out;
	spec.signer_cert = c->signer;
	spec.signer_key = c->signer_key;
	if ((c->req = scepmsg_req_build(&spec, &c->e)) == NULL) {
		fail(c, "building the request");
		goto out;
	}
	if (c->o.verbose)
		fprintf(stderr, "scepreq: messageType %d transactionID %s, "
		    "%zu bytes\n", spec.type, c->req->txid, c->req->der.len);
	rc = 0;
out:
	X509_NAME_free(subject);
	return rc;
}

/* Loads a pkiMessage made elsewhere (--send-file). */
static int
load_request(struct ctx *c)
{
	struct buf	der = {0};

	if (buf_read_file(&der, c->o.send_file, 1u << 20) == -1) {
		perror(c->o.send_file);
		return -1;
	}
	c->req = scepmsg_req_parse(der.data, der.len, &c->e);
	if (c->req == NULL) {	/* a broken file is still sent, unchecked */
		c->req_unknown = 1;
		c->req = calloc(1, sizeof(*c->req));
	}
	if (c->req == NULL || buf_set(&c->req->der, der.data, der.len) == -1) {
		buf_free(&der);
		return -1;
	}
	buf_free(&der);
	/* The reply is decrypted with the key the caller names, if any. */
	if (c->o.signer_key != NULL || c->o.key != NULL) {
		if ((c->signer_key = scepmsg_read_key(c->o.signer_key ?
		    c->o.signer_key : c->o.key, &c->e)) == NULL)
			return fail(c, "key");
		c->key = c->signer_key;
		EVP_PKEY_up_ref(c->key);	/* both fields own one */
	}
	return 0;
}

/* Writes a whole buffer to a file.  Returns 0 or -1. */
static int
write_file(const char *path, const void *p, size_t n)
{
	FILE	*f;
	int	 rc = 0;

	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	if (n > 0 && fwrite(p, 1, n, f) != n)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == -1)
		perror(path);
	return rc;
}

/* Sends the request by POST or GET. */
static int
send_request(struct ctx *c)
{
	int	rc;

	if (c->o.save_request != NULL && write_file(c->o.save_request,
	    c->req->der.data, c->req->der.len) == -1)
		return -1;
	if (c->o.get)
		rc = scephttp_get_pkiop(c->http, c->req->der.data,
		    c->req->der.len, c->o.b64, &c->reply, &c->e);
	else
		rc = scephttp_post_pkiop(c->http, c->req->der.data,
		    c->req->der.len, &c->reply, &c->e);
	if (rc == -1) {
		printf("http=0\n");
		return fail(c, "PKIOperation");
	}
	if (c->o.save_reply != NULL && write_file(c->o.save_reply,
	    c->reply.body.data, c->reply.body.len) == -1)
		return -1;
	return 0;
}

/* Checks that the issued certificate was signed by the CA. */
static int
check_issued(struct ctx *c, X509 *cert)
{
	X509	*ca = scepmsg_cacert_ca(c->cacerts);

	if (X509_check_issued(ca, cert) != X509_V_OK ||
	    X509_verify(cert, X509_get0_pubkey(ca)) != 1) {
		fprintf(stderr, "scepreq: the issued certificate is not "
		    "signed by the GetCACert CA\n");
		return -1;
	}
	return 0;
}

/* Saves what a SUCCESS delivered and prints its serial. */
static int
report_certs(struct ctx *c, STACK_OF(X509) *certs, STACK_OF(X509_CRL) *crls)
{
	STACK_OF(X509)	*one = NULL;
	X509		*cert;
	char		 serial[SERIAL_HEX_MAX];
	int		 rc = -1;

	if (c->req->type == SCEP_MT_GETCRL) {
		if (sk_X509_CRL_num(crls) < 1)
			return fail(c, "GetCRL reply holds no CRL");
		printf(" crls=%d", sk_X509_CRL_num(crls));
		return 0;
	}
	cert = c->req->type == SCEP_MT_GETCERT ? sk_X509_value(certs, 0) :
	    scepmsg_certs_find_key(certs, c->key);
	if (cert == NULL) {
		fprintf(stderr, "scepreq: no certificate for our key in the "
		    "reply (%d certificates)\n", sk_X509_num(certs));
		return -1;
	}
	if (check_issued(c, cert) == -1 ||
	    scepmsg_serial_hex(cert, serial, sizeof(serial)) == -1)
		return -1;
	printf(" serial=%s", serial);
	if (c->o.out != NULL) {
		if ((one = sk_X509_new_null()) == NULL || !sk_X509_push(one, cert))
			goto out;
		if (scepmsg_write_certs(c->o.out, one, &c->e) == -1) {
			fail(c, "--out");
			goto out;
		}
	}
	rc = 0;
out:
	sk_X509_free(one);
	return rc;
}

/* Decrypts a SUCCESS reply and extracts what it carries. */
static int
open_success(struct ctx *c)
{
	struct scepmsg_legacy	*legacy = NULL;
	STACK_OF(X509)		*certs = NULL;
	STACK_OF(X509_CRL)	*crls = NULL;
	int			 rc = -1;

	if (c->signer_key == NULL) {
		fprintf(stderr, "scepreq: no key to decrypt the reply\n");
		return -1;
	}
	/* Single DES needs the legacy provider; load it only then. */
	if (strcmp(c->rep->cipher, "des-cbc") == 0 &&
	    (legacy = scepmsg_legacy_new(&c->e)) == NULL) {
		fail(c, "legacy provider");
		goto out;
	}
	if (scepmsg_rep_open(c->rep, c->signer_key, c->signer,
	    scepmsg_legacy_ctx(legacy), &certs, &crls, &c->e) == -1) {
		fail(c, "CertRep");
		goto out;
	}
	rc = report_certs(c, certs, crls);
out:
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	scepmsg_legacy_free(legacy);
	return rc;
}

/* Checks the reply and prints the result line. */
static int
check_reply(struct ctx *c)
{
	char	name[256];
	int	rc = 0;

	if (c->reply.status != 200 ||
	    strcmp(c->reply.content_type, "application/x-pki-message") != 0) {
		printf("http=%ld\n", c->reply.status);
		fprintf(stderr, "scepreq: not a CertRep: HTTP %ld, %s, %zu "
		    "bytes\n", c->reply.status, c->reply.content_type,
		    c->reply.body.len);
		return -1;
	}
	if ((c->rep = scepmsg_rep_parse(c->reply.body.data, c->reply.body.len,
	    c->cacerts, c->req_unknown ? NULL : c->req, c->o.rep_flags,
	    &c->e)) == NULL) {
		printf("status=INVALID\n");
		return fail(c, "CertRep");
	}
	printf("status=%s", scepmsg_status_name(c->rep->status));
	if (c->rep->status == SCEP_STATUS_FAILURE)
		printf(" failInfo=%s", err_fail_info_name(c->rep->fail_info));
	if (c->rep->status == SCEP_STATUS_SUCCESS)
		rc = open_success(c);
	if (c->rep->cipher[0] != '\0')
		printf(" cipher=%s", c->rep->cipher);
	printf(" digest=%s%s\n", c->rep->digest,
	    c->rep->nonce_echoed ? " quirk=echoed-nonce" : "");
	if (c->rep->fail_text[0] != '\0')
		fprintf(stderr, "scepreq: failInfoText: %s\n", c->rep->fail_text);
	if (c->o.verbose)
		fprintf(stderr, "scepreq: reply signed by %s with %s\n",
		    X509_NAME_oneline(X509_get_subject_name(c->rep->signer),
		    name, sizeof(name)), c->rep->sigalg);
	return rc;
}

/* One whole run: GetCACert, request, reply. */
static int
run(struct ctx *c)
{
	if ((c->http = scephttp_new(c->o.url, &c->e)) == NULL)
		return fail(c, "HTTP");
	if (c->o.caps)
		return do_caps(c);
	if (do_cacert(c) == -1)
		return -1;
	if ((c->o.send_file ? load_request(c) : build_request(c)) == -1 ||
	    send_request(c) == -1)
		return -1;
	if (c->o.http_only) {
		printf("http=%ld\n", c->reply.status);
		return 0;
	}
	return check_reply(c);
}

static void
ctx_free(struct ctx *c)
{
	size_t	i;

	scephttp_free(c->http);
	sk_X509_pop_free(c->cacerts, X509_free);
	EVP_PKEY_free(c->key);
	EVP_PKEY_free(c->signer_key);
	X509_REQ_free(c->csr);
	X509_free(c->signer);
	ASN1_INTEGER_free(c->serial);
	scepmsg_req_free(c->req);
	scepmsg_rep_free(c->rep);
	scephttp_reply_reset(&c->reply);
	for (i = 0; i < MAX_EXTS; i++)
		buf_free(&c->o.ext_der[i]);
}

int
main(int argc, char **argv)
{
	struct ctx	c;
	int		rc;

	memset(&c, 0, sizeof(c));
	signal(SIGPIPE, SIG_IGN);
	if ((rc = opts_parse(&c.o, argc, argv)) != 0) {
		if (rc == 1)
			usage(stdout);
		ctx_free(&c);
		return rc == 1 ? 0 : 2;
	}
	if (scephttp_global_init() == -1) {
		fprintf(stderr, "scepreq: cannot initialise libcurl\n");
		return 1;
	}
	rc = run(&c) == 0 ? 0 : 1;
	ctx_free(&c);
	scephttp_global_cleanup();
	return rc;
}
