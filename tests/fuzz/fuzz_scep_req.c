/*
 * libFuzzer target: a pkiMessage as scep-ca reads it from the network
 * (parse, signature check), and its PKCS#10 content as a CSR.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "base/log.h"
#include "enroll/issue.h"
#include "scep/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scep_codec *codec;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_req	 req;
	struct err	 e = {0};
	X509_REQ	*csr = NULL;
	EVP_PKEY	*key = NULL;
	struct profile_conf p = { .key_mask = KEY_RSA | KEY_EC_P256,
	    .rsa_min_bits = 2048, .allow_legacy = 1 };

	if (codec == NULL) {
		log_set_level(LOGL_ERR);
		codec = scep_codec_new(&e);
	}
	if (scep_req_parse(codec, data, size, &req, &e) == 0)
		scep_req_verify(codec, &req, 1, SCEP_MAX_RSA_BITS, &e);
	scep_req_free(&req);
	/* As parse_content() and enroll/enroll.c: bounded, then verified. */
	if (scep_csr_parse(codec, data, size, &csr, &key, &e) == 0 &&
	    scep_key_check(key, "the CSR's", SCEP_MAX_RSA_BITS, &e) == 0)
		policy_check_csr(&p, csr, key, &e);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return 0;
}
