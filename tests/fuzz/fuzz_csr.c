/*
 * libFuzzer target: scep_csr_parse() (the PKCS#10 request parsed in the
 * null-provider context, its key read by pki_pubkey_decode()) against
 * d2i_X509_REQ() in the default context.  Any disagreement aborts:
 *  - a CSR we read, OpenSSL reads whole, encodes to the same bytes and
 *    gives the same key;
 *  - its self-signature verifies for us (X509_REQ_verify_ex() with our
 *    key, as policy_check_csr() does) exactly when it verifies for
 *    OpenSSL, once scep_key_check() has let the key through;
 *  - a CSR OpenSSL reads whole, we read too, unless we refuse its key
 *    (ERR_BAD_ALG) and scep_key_check() refuses OpenSSL's copy of it.
 * Seeds: tests/fuzz/seeds/csr (CSRs for every key of tests/fuzz/keys).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "scep/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scep_codec *codec;

/* 1 when both requests encode to the same DER. */
static int
same_der(X509_REQ *a, X509_REQ *b)
{
	unsigned char	*da = NULL, *db = NULL;
	int		 na, nb, same;

	na = i2d_X509_REQ(a, &da);
	nb = i2d_X509_REQ(b, &db);
	same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*q = data;
	X509_REQ		*csr = NULL, *ref = NULL;
	EVP_PKEY		*key = NULL, *rkey;
	struct err		 e = {0};
	int			 whole;

	if (codec == NULL) {
		log_set_level(LOGL_ERR);
		if ((codec = scep_codec_new(NULL)) == NULL)
			abort();
	}
	if (size > 0x7fffffff)
		return 0;
	ref = d2i_X509_REQ(NULL, &q, (long)size);
	whole = ref != NULL && q == data + size;
	rkey = whole ? X509_REQ_get0_pubkey(ref) : NULL;	/* get0 */
	if (scep_csr_parse(codec, data, size, &csr, &key, &e) == 0) {
		if (!whole || rkey == NULL || !same_der(csr, ref) ||
		    EVP_PKEY_eq(key, rkey) != 1)
			abort();
		if (scep_key_check(key, "the CSR's", SCEP_MAX_RSA_BITS,
		    NULL) == 0 &&
		    (X509_REQ_verify_ex(csr, key, NULL, NULL) == 1) !=
		    (X509_REQ_verify(ref, rkey) == 1))
			abort();
	} else if (rkey != NULL && (e.code != ERR_BAD_ALG ||
	    scep_key_check(rkey, "the CSR's", SCEP_MAX_RSA_BITS, NULL) == 0))
		abort();
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	X509_REQ_free(ref);
	ERR_clear_error();
	return 0;
}
