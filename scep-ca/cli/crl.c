/*
 * crl.c - `scep-ca crl`: signs a new CRL now, and the re-publishing
 * that `revoke` and `unrevoke` do after a change.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/encode.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "pki/pki.h"
#include "revocation/crl.h"

static const char usage[] =
"usage: scep-ca crl --dir DIR [--out F]\n"
"Signs a new CRL now (with the next CRL number) and writes it, DER, to\n"
"[crl] dir (DIR/crl/<name>.crl by default) and, with --out, to F as well\n"
"('-' for standard output).  A running daemon publishes by itself; this\n"
"is for cron jobs and web servers that serve the file.\n";

int
cli_crl_publish(const struct scep_conf *conf, struct store *st,
    struct crl_blob **out, struct err *e)
{
	struct ca	*ca = NULL;
	char		*pass = NULL;

	*out = NULL;
	if (cli_passphrase(conf->key_passphrase_file, &pass, e) == 0 &&
	    (ca = ca_load(conf->dir, pass, e)) != NULL)
		*out = crl_publish(ca, st, conf, e);
	ca_free(ca);
	cli_passphrase_free(pass);
	return *out != NULL ? 0 : -1;
}

/* Writes the CRL to --out: a file (atomically) or standard output. */
static int
write_out(const char *out, const struct crl_blob *b, struct err *e)
{
	if (strcmp(out, "-") != 0)
		return file_write_atomic(out, b->der, b->len, 0644, e);
	if (fwrite(b->der, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
		return err_set(e, ERR_IO, "cannot write to standard output: %s",
		    strerror(errno));
	return 0;
}

int
cmd_crl(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct scep_conf	 conf;
	struct store		*st = NULL;
	struct crl_blob		*b = NULL;
	const char		*dir = NULL, *out = NULL;
	char			 next[21];
	int			 ch, rc = -1;

	if (cli_help(argc, argv, usage))
		return 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'o': out = optarg; break;
		default: return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (optind < argc)
		return err_set(e, ERR_USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (cli_open(dir, &conf, &st, e) == -1)
		return -1;
	if (conf.crl_dir[0] == '\0' && out == NULL) {
		err_set(e, ERR_USAGE, "[crl] dir is empty: give --out F");
		goto out;
	}
	if (cli_crl_publish(&conf, st, &b, e) == -1 ||
	    (out != NULL && write_out(out, b, e) == -1))
		goto out;
	time_iso8601(b->next_update, next);
	/* With the CRL on standard output, the summary goes to stderr. */
	fprintf(out != NULL && strcmp(out, "-") == 0 ? stderr : stdout,
	    "CRL %lld: %zu entries, %zu bytes, signed in %.0f ms, next update"
	    " %s\n", (long long)b->number, b->entries, b->len,
	    b->sign_seconds * 1000, next);
	rc = 0;
out:
	crl_blob_release(b);
	store_close(st);
	conf_free(&conf);
	return rc;
}
