/*
 * cli.c - helpers every command uses: opening DIR, secrets, durations,
 * --help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/provider.h>

#include "cli/cli.h"
#include "pki/pki.h"

int
cli_open(const char *dir, struct scep_conf *conf, struct store **st,
    struct err *e)
{
	*st = NULL;
	if (dir == NULL)
		return err_set(e, ERR_USAGE, "--dir DIR is required");
	if (conf_load(conf, dir, e) == -1)
		return -1;
	/* An admin's change is synced at once: nothing flushes it later. */
	if ((*st = store_open(conf->store, STORE_SYNC_FULL, e)) == NULL) {
		conf_free(conf);
		return -1;
	}
	return 0;
}

int
cli_passphrase(const char *file, char **out, struct err *e)
{
	struct buf	 b = {0};
	const char	*env = getenv("SCEP_CA_KEY_PASSPHRASE");

	*out = NULL;
	if (file != NULL && *file != '\0') {
		if (pki_check_private_mode(file, e) == -1)
			return -1;
		if (buf_read_file(&b, file, 4096) == -1)
			return err_set(e, ERR_CONFIG, "cannot read %s: %s", file,
			    strerror(errno));
		while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
		    b.data[b.len - 1] == '\r'))
			b.len--;
		if ((*out = buf_steal(&b, NULL)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		return 0;
	}
	if (env != NULL && (*out = strdup(env)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

void
cli_passphrase_free(char *p)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

long
cli_duration(const char *s)
{
	char	*end;
	long	 n, mult = 1;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || n <= 0)
		return -1;
	switch (*end) {
	case '\0': case 's':	mult = 1; break;
	case 'm':		mult = 60; break;
	case 'h':		mult = 3600; break;
	case 'd':		mult = 86400; break;
	default:		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > 366L * 86400 / mult)
		return -1;
	return n * mult;
}

int
cli_help(int argc, char **argv, const char *usage)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		}
	}
	return 0;
}

int
cli_load_legacy(struct cli_providers *p, struct err *e)
{
	/*
	 * Loading one provider explicitly disables the implicit default, so
	 * both are loaded.
	 */
	if ((p->legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL ||
	    (p->deflt = OSSL_PROVIDER_load(NULL, "default")) == NULL) {
		cli_unload_legacy(p);
		return err_set_ossl(e, ERR_CONFIG, "OpenSSL's legacy provider"
		    " (needed for DES and MD5) cannot be loaded");
	}
	return 0;
}

void
cli_unload_legacy(struct cli_providers *p)
{
	if (p->legacy != NULL)
		OSSL_PROVIDER_unload(p->legacy);
	if (p->deflt != NULL)
		OSSL_PROVIDER_unload(p->deflt);
	p->legacy = p->deflt = NULL;
}
