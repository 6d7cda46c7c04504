/*
 * authorize.c - the authorize step of a profile with challenge =
 * intune: the challenge is opaque to us (Intune encrypted and signed it),
 * so the whole CSR goes to Intune's validateRequest and only its
 * "Success" lets the request through (reference/microsoft-apis.md §2).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "intune/intune_ca.h"
#include "msft/intune.h"

int
authorize_intune(struct scep_ctx *ctx, const struct profile_conf *p,
    const char *txid, X509_REQ *csr, struct err *e)
{
	struct intune_validation	 v;
	unsigned char			*der = NULL;
	char				 why[sizeof(e->msg)];
	int				 n, rc = -1;

	if (ctx->msft.intune == NULL)
		return err_set(e, ERR_CONFIG, "profile %s: challenge = intune but"
		    " the Intune client is not running", p->name);
	/* The DER as the client signed it (OpenSSL keeps the encoding). */
	if ((n = i2d_X509_REQ(csr, &der)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
	if (intune_scep_validate(ctx->msft.intune, txid, der, (size_t)n, &v,
	    e) == -1) {
		/* Not validated is not valid: keep the code, say so. */
		memcpy(why, e->msg, sizeof(why));
		err_set(e, e->code, "Intune validation could not be done: %.250s",
		    why);
	} else if (!v.success)
		err_set(e, ERR_BAD_CHALLENGE, "Intune refused the request: %.64s:"
		    " %.200s", v.code, v.description[0] ? v.description :
		    "(no description)");
	else
		rc = 0;
	OPENSSL_free(der);
	return rc;
}
