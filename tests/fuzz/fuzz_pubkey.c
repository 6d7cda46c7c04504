/*
 * libFuzzer target: pki_pubkey_decode() (shared/pki/pki.c), which builds RSA
 * and EC keys straight from their parameters instead of OpenSSL's generic
 * decoder, against d2i_PUBKEY().  The input is a SubjectPublicKeyInfo,
 * parsed as scep-ca parses the ones inside certificates and CSRs (in the
 * null-provider context).  Any disagreement aborts:
 *  - a key we read, OpenSSL reads too, and it is the same key;
 *  - a key we call malformed, OpenSSL cannot read either;
 *  - a key we refuse (ERR_BAD_ALG), scep_key_check() refuses as OpenSSL
 *    reads it (explicit curves, other types, moduli over 16384 bits);
 *  - scep_key_check() says the same of our key and of OpenSSL's.
 * Seeds: tests/fuzz/seeds/pubkey (every key of tests/fuzz/keys).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "pki/pki.h"
#include "scep/msg.h"
#include "scep/msg_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scep_codec *codec;

/* 1 when scep_key_check() accepts key. */
static int
bounded(const EVP_PKEY *key)
{
	return scep_key_check(key, "the", SCEP_MAX_RSA_BITS, NULL) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p = data, *q = data;
	X509_PUBKEY		*pub = NULL;
	EVP_PKEY		*ours = NULL, *ref = NULL;
	struct err		 e = {0};

	if (codec == NULL) {
		log_set_level(LOGL_ERR);
		if ((codec = scep_codec_new(NULL)) == NULL)
			abort();
	}
	if (size > 0x7fffffff)
		return 0;
	pub = (X509_PUBKEY *)scep_parse_only(codec, ASN1_ITEM_rptr(X509_PUBKEY),
	    &p, (long)size);
	ref = d2i_PUBKEY(NULL, &q, (long)size);
	if (pub == NULL) {
		if (ref != NULL)
			abort();	/* OpenSSL read what is no SPKI to us */
		goto out;
	}
	ours = pki_pubkey_decode(pub, &e);
	if (ours != NULL) {
		if (ref == NULL || p != q || EVP_PKEY_eq(ours, ref) != 1 ||
		    bounded(ours) != bounded(ref))
			abort();
	} else if (ref != NULL && p == q) {
		if (e.code != ERR_BAD_ALG || bounded(ref))
			abort();	/* refused a key the bounds accept */
	}
out:
	EVP_PKEY_free(ours);
	EVP_PKEY_free(ref);
	X509_PUBKEY_free(pub);
	ERR_clear_error();
	return 0;
}
