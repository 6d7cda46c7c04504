/*
 * libFuzzer target: an OCSP request as scep-ca's responder reads it from
 * the network (RFC 6960).  Whatever the input, the answer must be a
 * well-formed OCSPResponse.  The responder runs on a throw-away CA and an
 * in-memory store made on the first call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "base/log.h"
#include "ca/ca.h"
#include "config.h"
#include "revocation/ocsp.h"
#include "server.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char			 dir[64];
static struct scep_conf		 conf;
static struct scep_ctx		 ctx;
static struct ocsp_responder	*responder;

/* Removes the throw-away CA directory at exit. */
static void
cleanup(void)
{
	static const char *const files[] = { "ca.crt", "ca.key", "ra.crt",
	    "ra.key", "ocsp.crt", "ocsp.key" };
	char	path[128];
	size_t	i;

	ocsp_responder_stop(responder);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void
init(void)
{
	struct ca_create_opts	o = { .key_spec = "ec:p256" };
	struct err		e = {0};

	log_set_level(LOGL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/fuzz_ocsp.XXXXXX");
	if (mkdtemp(dir) == NULL || ca_create(dir, &o, &e) == -1 ||
	    (ctx.ca = ca_load(dir, NULL, &e)) == NULL ||
	    (ctx.store = store_open(":memory:", STORE_CREATE, &e)) == NULL)
		abort();
	conf.dir = dir;
	conf.ocsp_next_update = 600;
	conf.ocsp_signer = "delegated";
	conf.ocsp_signer_key = "ec:p256";
	conf.ocsp_signer_days = 30;
	conf.ocsp_cache_entries = 64;
	conf.ocsp_cache_seconds = 60;
	ctx.conf = &conf;
	if ((responder = ocsp_responder_start(&ctx, &e)) == NULL)
		abort();
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf		 out = {0};
	struct ocsp_info	 info;
	const unsigned char	*p;
	OCSP_RESPONSE		*resp;

	if (responder == NULL)
		init();
	if (ocsp_answer(responder, data, size, time(NULL), &out, &info) == 0) {
		p = out.data;
		if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)out.len)) == NULL ||
		    OCSP_response_status(resp) != (int)info.status)
			abort();
		OCSP_RESPONSE_free(resp);
	}
	buf_free(&out);
	ERR_clear_error();
	return 0;
}
