/*
 * cli.h - scep-ca's commands.  Each parses its own arguments and returns
 * 0 on success, or -1 with e set (main prints e as one line on stderr).
 * Only main.c exits.
 */
#ifndef SCEPCA_CLI_H
#define SCEPCA_CLI_H

#include "base/err.h"
#include "config.h"
#include "store/store.h"

int	cmd_init(int argc, char **argv, struct err *e);
int	cmd_serve(int argc, char **argv, struct err *e);
int	cmd_challenge(int argc, char **argv, struct err *e);
int	cmd_list(int argc, char **argv, struct err *e);
int	cmd_show(int argc, char **argv, struct err *e);
int	cmd_revoke(int argc, char **argv, struct err *e);
int	cmd_unrevoke(int argc, char **argv, struct err *e);
int	cmd_approve(int argc, char **argv, struct err *e);
int	cmd_deny(int argc, char **argv, struct err *e);
int	cmd_inspect(int argc, char **argv, struct err *e);
int	cmd_crl(int argc, char **argv, struct err *e);
int	cmd_status(int argc, char **argv, struct err *e);

struct crl_blob;

/*
 * Loads the CA (its passphrase as cli_passphrase() finds it) and signs a
 * new CRL into [crl] dir (crl_publish()).  *out gets the CRL with one
 * reference (crl_blob_release()).  Returns 0 or -1.
 */
int	cli_crl_publish(const struct scep_conf *conf, struct store *st,
	    struct crl_blob **out, struct err *e);

/* Loads DIR's configuration and opens its store for writing. */
int	cli_open(const char *dir, struct scep_conf *conf, struct store **st,
	    struct err *e);

/*
 * Reads the CA key passphrase: the key_passphrase_file (0600) or the
 * environment variable SCEP_CA_KEY_PASSPHRASE.  *out is NULL when neither
 * is set; free with cli_passphrase_free().
 */
int	cli_passphrase(const char *file, char **out, struct err *e);
void	cli_passphrase_free(char *p);

/* OpenSSL providers a command loaded; unload with cli_unload_legacy(). */
struct cli_providers {
	struct ossl_provider_st	*legacy;
	struct ossl_provider_st	*deflt;
};

/*
 * Loads OpenSSL's legacy provider (single DES, MD5) next to the default
 * one into p.  Returns 0 or -1.
 */
int	cli_load_legacy(struct cli_providers *p, struct err *e);

/* Unloads what cli_load_legacy() loaded.  Accepts an empty p. */
void	cli_unload_legacy(struct cli_providers *p);

/* Parses a duration: "90", "90s", "15m", "1h", "7d".  -1 if bad. */
long	cli_duration(const char *s);

/*
 * Prints usage to stdout for --help.  Returns 1 when argv asked for help
 * (the command then returns 0 at once).
 */
int	cli_help(int argc, char **argv, const char *usage);

#endif
