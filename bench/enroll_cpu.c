/*
 * enroll_cpu - the CPU one enrollment costs inside scep-ca, without HTTP:
 * runs pre-built PKCSReq messages through enroll_pkioperation() on one
 * thread and compares with the three RSA private-key operations an
 * enrollment cannot avoid.  A profiling aid (perf record -- enroll_cpu).
 *
 * usage: enroll_cpu --dir CA_DIR [--requests N] [--keys K]
 * CA_DIR: made by `scep-ca init --challenge ...` (static challenge).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/log.h"
#include "ca/ca.h"
#include "config.h"
#include "enroll/enroll.h"
#include "scep/msg.h"
#include "store/store.h"
/* After scep-ca's headers: the tools' SCEP_STATUS_* macros equal its enum. */
#include "scepmsg_lib.h"

static double
cpu_seconds(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Microseconds of one RSA-2048 signature with the RA key, measured. */
static double
rsa_sign_us(EVP_PKEY *key)
{
	unsigned char	tbs[64] = { 1 }, sig[512];
	size_t		len;
	double		t0 = cpu_seconds();
	int		i, n = 400;

	for (i = 0; i < n; i++) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		len = sizeof(sig);
		EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, key);
		EVP_DigestSign(c, sig, &len, tbs, sizeof(tbs));
		EVP_MD_CTX_free(c);
	}
	return (cpu_seconds() - t0) / n * 1e6;
}

struct prebuilt {
	struct buf	der;
};

static int
build_requests(const char *dir, const struct profile_conf *p, int n, int nkeys,
    struct prebuilt *out, EVP_PKEY **rakey)
{
	char			 path[4096], txid[64], cn[64];
	X509			*ra;
	EVP_PKEY		**keys = calloc((size_t)nkeys, sizeof(*keys));
	X509			**signers = calloc((size_t)nkeys, sizeof(*signers));
	struct err		 e = {0};
	FILE			*f;
	int			 i;

	snprintf(path, sizeof(path), "%s/ra.crt", dir);
	if ((ra = scepmsg_read_cert(path, &e)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ra.key", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*rakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	for (i = 0; i < nkeys; i++) {
		X509_NAME *subj;

		keys[i] = scepmsg_keygen("rsa:2048", &e);
		snprintf(cn, sizeof(cn), "/CN=cpu-bench-%d", i);
		subj = scepmsg_name_parse(cn, &e);
		signers[i] = scepmsg_selfsigned_new(keys[i], subj, &e);
		X509_NAME_free(subj);
		if (keys[i] == NULL || signers[i] == NULL)
			return -1;
	}
	for (i = 0; i < n; i++) {
		struct scepmsg_csr_spec	cs = { .subject = "/CN=cpu-bench",
		    .challenge = (const char *)p->challenge_secret.data };
		struct scepmsg_spec	ms = { .type = SCEP_MT_PKCSREQ };
		struct scepmsg_req	*req;
		char			 secret[256];

		snprintf(secret, sizeof(secret), "%.*s",
		    (int)p->challenge_secret.len, p->challenge_secret.data);
		cs.challenge = secret;
		ms.csr = scepmsg_csr_new(keys[i % nkeys], &cs, &e);
		snprintf(txid, sizeof(txid), "cpu-bench-%d-%ld", i, (long)time(NULL));
		ms.signer_cert = signers[i % nkeys];
		ms.signer_key = keys[i % nkeys];
		ms.recipient = ra;
		ms.txid = txid;
		if (ms.csr == NULL || (req = scepmsg_req_build(&ms, &e)) == NULL) {
			fprintf(stderr, "enroll_cpu: %s\n", e.msg);
			return -1;
		}
		buf_set(&out[i].der, req->der.data, req->der.len);
		scepmsg_req_free(req);
		X509_REQ_free(ms.csr);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct scep_conf	 conf;
	struct scep_ctx		 ctx = {0};
	struct prebuilt		*reqs;
	struct err		 e = {0};
	EVP_PKEY		*rakey = NULL;
	const char		*dir = NULL;
	double			 t0, cpu, rsa;
	int			 ch, i, n = 300, nkeys = 8, bad = 0;

	log_set_level(LOGL_WARN);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'k': nkeys = atoi(optarg); break;
		default: return 2;
		}
	}
	if (dir == NULL || n <= 0 || nkeys <= 0) {
		fprintf(stderr, "usage: enroll_cpu --dir CA_DIR [--requests N]"
		    " [--keys K]\n");
		return 2;
	}
	if (conf_load(&conf, dir, &e) == -1 ||
	    conf.profiles[0].challenge != CHALLENGE_STATIC ||
	    (ctx.ca = ca_load(dir, NULL, &e)) == NULL ||
	    (ctx.store = store_open(conf.store, 0, &e)) == NULL ||
	    (ctx.codec = scep_codec_new(&e)) == NULL) {
		fprintf(stderr, "enroll_cpu: %s\n", e.msg[0] ? e.msg :
		    "the CA needs a static challenge");
		return 1;
	}
	ctx.conf = &conf;
	ctx.public_url = "http://127.0.0.1";
	reqs = calloc((size_t)n, sizeof(*reqs));
	if (build_requests(dir, &conf.profiles[0], n, nkeys, reqs, &rakey) == -1)
		return 1;
	rsa = rsa_sign_us(rakey);
	t0 = cpu_seconds();
	for (i = 0; i < n; i++) {
		struct buf reply = {0};

		if (enroll_pkioperation(&ctx, &conf.profiles[0], reqs[i].der.data,
		    reqs[i].der.len, &reply, &e) == -1 || reply.len < 1500)
			bad++;
		buf_free(&reply);
	}
	cpu = (cpu_seconds() - t0) / n * 1e6;
	printf("enrollments=%d failed=%d cpu_us_per_enrollment=%.0f"
	    " rsa_sign_us=%.0f rsa_share=%.0f%%\n", n, bad, cpu, rsa,
	    300.0 * rsa / cpu);
	return bad > 0;
}
