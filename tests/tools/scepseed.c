/*
 * scepseed.c - writes one PKCSReq pkiMessage to a file, offline, for fuzz
 * seeds and hostile-key tests: signed by any key OpenSSL can sign with
 * (RSA of any size and exponent, EC on any curve), carrying any CSR.
 *
 *   scepseed --signer-key K [--signer-cert C] [--csr-key K | --csr F.der]
 *            [--recipient C] [--challenge S] [--digest D]
 *            [--forge-recover N] --out FILE
 *
 * The signer certificate defaults to a self-signed one for the signer key;
 * the CSR to one for --csr-key (default: the signer key) with challenge S;
 * the envelope's recipient to the signer certificate (an RSA one).  With
 * --forge-recover N the signature is replaced by one whose PKCS#1 v1.5
 * recovery gives N bytes of 'A' instead of a DigestInfo: a valid RSA
 * operation of the signer key that no DigestInfo matches, the shape that
 * overflowed a fixed recovery buffer.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "scepmsg_lib.h"

struct opts {
	const char	*signer_key, *signer_cert, *csr_key, *csr, *recipient;
	const char	*challenge, *digest, *out;
	long		 forge;		/* -1: keep the real signature */
};

static const struct option longopts[] = {
	{ "signer-key",		required_argument, NULL, 'k' },
	{ "signer-cert",	required_argument, NULL, 'c' },
	{ "csr-key",		required_argument, NULL, 'K' },
	{ "csr",		required_argument, NULL, 'r' },
	{ "recipient",		required_argument, NULL, 'R' },
	{ "challenge",		required_argument, NULL, 'p' },
	{ "digest",		required_argument, NULL, 'd' },
	{ "forge-recover",	required_argument, NULL, 'f' },
	{ "out",		required_argument, NULL, 'o' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
usage(FILE *f)
{
	fputs("usage: scepseed --signer-key K [--signer-cert C]"
	    " [--csr-key K | --csr F.der]\n"
	    "    [--recipient C] [--challenge S] [--digest sha256]"
	    " [--forge-recover N] --out FILE\n", f);
	return f == stdout ? 0 : 2;
}

/* Reads a DER CSR. */
static X509_REQ *
read_csr(const char *path)
{
	X509_REQ	*req = NULL;
	BIO		*bio;

	if ((bio = BIO_new_file(path, "rb")) != NULL)
		req = d2i_X509_REQ_bio(bio, NULL);
	BIO_free(bio);
	return req;
}

/*
 * Replaces the signature of the pkiMessage in der with the raw RSA
 * private operation over 00 01 FF.. 00 || n bytes of 'A' (RFC 8017 §9.2
 * padding around a payload that is no DigestInfo).  0, or -1.
 */
static int
forge(struct buf *der, EVP_PKEY *key, size_t n)
{
	const unsigned char	*p = der->data;
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	EVP_PKEY_CTX		*ctx = NULL;
	unsigned char		*block = NULL, *sig = NULL, *out = NULL;
	size_t			 k = (size_t)EVP_PKEY_get_size(key), siglen = k;
	int			 len, rc = -1;

	if (n + 11 > k || (block = malloc(k)) == NULL ||
	    (sig = malloc(k)) == NULL)
		goto out;
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xff, k - 3 - n);
	block[k - 1 - n] = 0x00;
	memset(block + k - n, 'A', n);
	if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_sign(ctx, sig, &siglen, block, k) != 1)
		goto out;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)der->len)) == NULL ||
	    (si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0)) ==
	    NULL || !ASN1_OCTET_STRING_set(si->enc_digest, sig, (int)siglen) ||
	    (len = i2d_PKCS7(p7, &out)) <= 0)
		goto out;
	buf_reset(der);
	rc = buf_append(der, out, (size_t)len);
out:
	OPENSSL_free(out);
	PKCS7_free(p7);
	EVP_PKEY_CTX_free(ctx);
	free(block);
	free(sig);
	return rc;
}

static int
write_file(const char *path, const struct buf *b)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(b->data, 1, b->len, f) == b->len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Builds the request o describes into the file o->out. */
static int
run(const struct opts *o, struct err *e)
{
	struct scepmsg_csr_spec	 cs = { .subject = "/CN=scepseed",
	    .challenge = o->challenge };
	struct scepmsg_spec	 spec = { .type = SCEP_MT_PKCSREQ };
	struct scepmsg_req	*r = NULL;
	EVP_PKEY		*skey = NULL, *ckey = NULL;
	X509			*scert = NULL, *rcpt = NULL;
	X509_REQ		*csr = NULL;
	int			 rc = -1;

	if ((skey = scepmsg_read_key(o->signer_key, e)) == NULL ||
	    (scert = o->signer_cert ? scepmsg_read_cert(o->signer_cert, e) :
	    scepmsg_selfsigned_new(skey, NULL, e)) == NULL ||
	    (o->recipient && (rcpt = scepmsg_read_cert(o->recipient, e)) ==
	    NULL))
		goto out;
	if (o->csr != NULL)
		csr = read_csr(o->csr);
	else if (o->csr_key == NULL)
		csr = scepmsg_csr_new(skey, &cs, e);
	else if ((ckey = scepmsg_read_key(o->csr_key, e)) != NULL)
		csr = scepmsg_csr_new(ckey, &cs, e);
	if (csr == NULL) {
		err_set_ossl(e, ERR_USAGE, "no CSR");
		goto out;
	}
	spec.csr = csr;
	spec.signer_cert = scert;
	spec.signer_key = skey;
	spec.recipient = rcpt ? rcpt : scert;
	if (o->digest && (spec.md = scepmsg_md_by_name(o->digest)) == NULL) {
		err_set(e, ERR_USAGE, "unknown digest %s", o->digest);
		goto out;
	}
	if ((r = scepmsg_req_build(&spec, e)) == NULL)
		goto out;
	if (o->forge >= 0 && forge(&r->der, skey, (size_t)o->forge) == -1) {
		err_set_ossl(e, ERR_USAGE, "cannot forge a %ld-byte recovery",
		    o->forge);
		goto out;
	}
	if (write_file(o->out, &r->der) == -1) {
		err_set(e, ERR_IO, "cannot write %s", o->out);
		goto out;
	}
	rc = 0;
out:
	scepmsg_req_free(r);
	X509_REQ_free(csr);
	X509_free(rcpt);
	X509_free(scert);
	EVP_PKEY_free(ckey);
	EVP_PKEY_free(skey);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts	o = { .challenge = "seed-challenge", .forge = -1 };
	struct err	e = {0};
	int		c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.signer_key = optarg; break;
		case 'c': o.signer_cert = optarg; break;
		case 'K': o.csr_key = optarg; break;
		case 'r': o.csr = optarg; break;
		case 'R': o.recipient = optarg; break;
		case 'p': o.challenge = optarg; break;
		case 'd': o.digest = optarg; break;
		case 'f': o.forge = strtol(optarg, NULL, 10); break;
		case 'o': o.out = optarg; break;
		case 'h': return usage(stdout);
		default: return usage(stderr);
		}
	}
	if (o.signer_key == NULL || o.out == NULL || optind != argc)
		return usage(stderr);
	if (run(&o, &e) == -1) {
		fprintf(stderr, "scepseed: %s\n", e.msg);
		return 1;
	}
	return 0;
}
