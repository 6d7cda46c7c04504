/*
 * keys.c - the bounds on keys from the network (scep_key_check, scep/msg.h):
 * a request's signer and its CSR key pass them before any RSA or EC
 * operation is done with them.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "base/err.h"
#include "scep/msg.h"

/*
 * An RSA key: modulus of at most max_bits, odd; public exponent odd,
 * 3 <= e < 2^64.  OpenSSL itself refuses e over 64 bits only when the
 * modulus is over 3072 bits (OPENSSL_RSA_MAX_PUBEXP_BITS): below that, an
 * exponent as long as the modulus would make each verification cost a
 * private-key operation.  e = 1 makes every message its own signature.
 */
static int
rsa_key_check(const EVP_PKEY *key, const char *what, int max_bits,
    struct err *e)
{
	BIGNUM	*n = NULL, *pe = NULL;
	int	 rc = -1;

	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &pe))
		err_set_ossl(e, ERR_BAD_ALG, "scep: %s RSA key is unreadable",
		    what);
	else if (BN_num_bits(n) > max_bits)
		err_set(e, ERR_BAD_ALG, "scep: %s RSA-%d key refused (at most"
		    " %d bits)", what, BN_num_bits(n), max_bits);
	else if (!BN_is_odd(n))
		err_set(e, ERR_BAD_ALG, "scep: %s RSA modulus is even", what);
	else if (!BN_is_odd(pe) || BN_num_bits(pe) < 2 ||
	    BN_num_bits(pe) > SCEP_RSA_E_MAX_BITS)
		err_set(e, ERR_BAD_ALG, "scep: %s RSA public exponent refused"
		    " (%d bits; odd, 3 to 2^%d-1 accepted)", what,
		    BN_num_bits(pe), SCEP_RSA_E_MAX_BITS);
	else
		rc = 0;
	BN_free(n);
	BN_free(pe);
	return rc;
}

/*
 * An EC key: on P-256 or P-384, named by its OID (RFC 5480 §2.1.1);
 * explicit curve parameters (which OpenSSL accepts, of any size) refused.
 */
static int
ec_key_check(const EVP_PKEY *key, const char *what, struct err *e)
{
	char	curve[64] = "", enc[32] = "";
	int	explicit = 1;

	if (!EVP_PKEY_get_int_param(key,
	    OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS, &explicit) ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING,
	    enc, sizeof(enc), NULL) || explicit ||
	    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0 ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, sizeof(curve), NULL)) {
		ERR_clear_error();
		return err_set(e, ERR_BAD_ALG, "scep: %s EC key has explicit"
		    " curve parameters (a named curve is required)", what);
	}
	if (strcmp(curve, SN_X9_62_prime256v1) != 0 &&
	    strcmp(curve, SN_secp384r1) != 0)
		return err_set(e, ERR_BAD_ALG, "scep: %s EC key on curve %s"
		    " refused (P-256 or P-384 only)", what, curve);
	return 0;
}

int
scep_key_check(const EVP_PKEY *key, const char *what, int max_rsa_bits,
    struct err *e)
{
	if (max_rsa_bits <= 0 || max_rsa_bits > SCEP_MAX_RSA_BITS)
		max_rsa_bits = SCEP_MAX_RSA_BITS;
	if (key == NULL)
		return err_set(e, ERR_BAD_ALG, "scep: %s key is unreadable",
		    what);
	if (EVP_PKEY_is_a(key, "RSA"))
		return rsa_key_check(key, what, max_rsa_bits, e);
	if (EVP_PKEY_is_a(key, "EC"))
		return ec_key_check(key, what, e);
	return err_set(e, ERR_BAD_ALG, "scep: %s %s key refused (RSA, EC"
	    " P-256 or P-384 only)", what, EVP_PKEY_get0_type_name(key));
}
