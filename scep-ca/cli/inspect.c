/*
 * inspect.c - `scep-ca inspect`: decodes a pkiMessage offline with
 * DIR's keys and says what is in it, step by step, as the server would
 * see it.  For admins debugging a client, and for the tests that read
 * real clients' messages.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "enroll/enroll.h"
#include "pki/pki.h"
#include "scep/msg.h"

static const char usage[] =
"usage: scep-ca inspect --dir DIR FILE [--allow-legacy] [--csr-out F]\n"
"                       [--envelope-out F]\n"
"Decodes the pkiMessage in FILE (DER) with DIR's CA and RA keys: message\n"
"type, transactionID, signer, signature, envelope, CSR.  Exits non-zero at\n"
"the first step that fails, saying why.  --allow-legacy accepts DES and MD5\n"
"as a profile with allow_legacy = yes would.\n";

struct inspect_opts {
	const char	*dir, *file, *csr_out, *env_out;
	int		 legacy;
};

static int
parse(int argc, char **argv, struct inspect_opts *o, struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "allow-legacy", no_argument, NULL, 'l' },
		{ "csr-out", required_argument, NULL, 'c' },
		{ "envelope-out", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->dir = optarg; break;
		case 'l': o->legacy = 1; break;
		case 'c': o->csr_out = optarg; break;
		case 'E': o->env_out = optarg; break;
		default: return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (optind + 1 != argc || o->dir == NULL)
		return err_set(e, ERR_USAGE, "want --dir DIR and one FILE");
	o->file = argv[optind];
	return 0;
}

static void
print_signer(const struct scep_req *req)
{
	char	*s;

	if (req->signer == NULL) {
		printf("signer: (not in the message)\n");
		return;
	}
	s = pki_name_text(X509_get_subject_name(req->signer));
	printf("signer: %s\n", s ? s : "?");
	free(s);
}

static void
print_csr(X509_REQ *csr, EVP_PKEY *pub)
{
	struct buf	 ch = {0};
	char		*subj, key[64];
	int		 has;

	subj = pki_name_text(X509_REQ_get_subject_name(csr));
	pki_key_describe(pub, key, sizeof(key));
	has = csr_challenge(csr, &ch);
	printf("csr: subject=%s key=%s challenge=%s\n", subj ? subj : "?", key,
	    has > 0 ? "present" : has == 0 ? "absent" : "malformed");
	buf_wipe(&ch);
	free(subj);
}

/* Writes a DER blob to path.  Returns 0 or -1. */
static int
write_der(const char *path, const void *p, size_t n, struct err *e)
{
	return file_write_atomic(path, p, n, 0644, e);
}

static int
inspect(struct inspect_opts *o, struct scep_codec *codec, struct ca *ca,
    const struct buf *msg, struct err *e)
{
	struct scep_req	 req;
	unsigned char	*der = NULL;
	int		 n, rc = -1;

	if (scep_req_parse(codec, msg->data, msg->len, &req, e) == -1)
		goto out;
	printf("type: %s (%d)\ntransaction_id: %s\nsender_nonce_bytes: %zu\n",
	    scep_msg_type_name(req.type), req.type, req.txid, req.nonce_len);
	print_signer(&req);
	if (scep_req_verify(codec, &req, o->legacy, SCEP_MAX_RSA_BITS, e) == -1)
		goto out;
	printf("signature: ok (%s)\n", EVP_MD_get0_name(req.md));
	if (o->env_out != NULL) {
		const ASN1_OCTET_STRING *c = req.p7->d.sign->contents->d.data;

		if (write_der(o->env_out, c->data, (size_t)c->length, e) == -1)
			goto out;
	}
	if (scep_req_open(&req, ca, o->legacy, SCEP_MAX_RSA_BITS, e) == -1)
		goto out;
	printf("envelope: %s, %zu bytes\n", OBJ_nid2sn(req.cipher_nid),
	    req.content.len);
	if (req.csr != NULL) {
		print_csr(req.csr, req.csr_key);
		if (o->csr_out != NULL && ((n = i2d_X509_REQ(req.csr, &der)) <= 0 ||
		    write_der(o->csr_out, der, (size_t)n, e) == -1))
			goto out;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	scep_req_free(&req);
	return rc;
}

int
cmd_inspect(int argc, char **argv, struct err *e)
{
	struct inspect_opts	 o = {0};
	struct scep_conf	 conf;
	struct scep_codec	*codec = NULL;
	struct ca		*ca = NULL;
	struct buf		 msg = {0};
	struct cli_providers	 prov = {0};
	char			*pass = NULL;
	int			 rc = -1;

	if (cli_help(argc, argv, usage))
		return 0;
	if (parse(argc, argv, &o, e) == -1 || conf_load(&conf, o.dir, e) == -1)
		return -1;
	if (buf_read_file(&msg, o.file, 1 << 20) == -1) {
		err_set(e, ERR_IO, "cannot read %s: %s", o.file, strerror(errno));
		goto out;
	}
	if (cli_passphrase(conf.key_passphrase_file, &pass, e) == -1 ||
	    (ca = ca_load(conf.dir, pass, e)) == NULL ||
	    (codec = scep_codec_new(e)) == NULL)
		goto out;
	if (o.legacy && cli_load_legacy(&prov, e) == -1)
		goto out;
	rc = inspect(&o, codec, ca, &msg, e);
out:
	cli_unload_legacy(&prov);
	buf_free(&msg);
	scep_codec_free(codec);
	ca_free(ca);
	cli_passphrase_free(pass);
	conf_free(&conf);
	return rc;
}
