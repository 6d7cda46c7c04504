/*
 * init.c - `scep-ca init`: a new CA directory with its keys,
 * configuration and empty store.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "pki/pki.h"

static const char usage[] =
"usage: scep-ca init --dir DIR [--subject \"CN=...\"] [--key rsa:3072|ec:p256]\n"
"                    [--days N] [--challenge SECRET | --challenge-file F]\n"
"                    [--import-ca CERT KEY [--key-passphrase-file F]]\n"
"                    [--ra-key rsa:2048] [--listen HOST:PORT]\n"
"Creates DIR/{ca.crt,ca.key,ra.crt,ra.key,ocsp.crt,ocsp.key,store.db,\n"
"scep-ca.conf}; refuses to overwrite.  --challenge sets a static challenge (kept in DIR/challenge.secret,\n"
"mode 0600); without it the default profile uses one-time challenges\n"
"(`scep-ca challenge`).  --import-ca makes an existing issuing CA (and the\n"
"chain after it in CERT) serve SCEP instead of creating a root.\n";

struct init_opts {
	const char		*dir;
	const char		*challenge;
	const char		*challenge_file;
	const char		*passphrase_file;
	const char		*listen;
	struct ca_create_opts	 ca;
};

static int
parse(int argc, char **argv, struct init_opts *o, struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "subject", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "days", required_argument, NULL, 'D' },
		{ "challenge", required_argument, NULL, 'c' },
		{ "challenge-file", required_argument, NULL, 'C' },
		{ "import-ca", required_argument, NULL, 'i' },
		{ "import-key", required_argument, NULL, 'K' },
		{ "key-passphrase-file", required_argument, NULL, 'p' },
		{ "ra-key", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	char	*end;
	int	 ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->dir = optarg; break;
		case 's': o->ca.subject = optarg; break;
		case 'k': o->ca.key_spec = optarg; break;
		case 'D':
			o->ca.days = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o->ca.days < 1 || o->ca.days > 36500)
				return err_set(e, ERR_USAGE, "--days wants 1..36500");
			break;
		case 'c': o->challenge = optarg; break;
		case 'C': o->challenge_file = optarg; break;
		case 'i':
			o->ca.import_cert = optarg;
			/* `--import-ca CERT KEY`: the key is the next word. */
			if (optind < argc && argv[optind][0] != '-')
				o->ca.import_key = argv[optind++];
			break;
		case 'K': o->ca.import_key = optarg; break;
		case 'p': o->passphrase_file = optarg; break;
		case 'r': o->ca.ra_key_spec = optarg; break;
		case 'l': o->listen = optarg; break;
		default:
			return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (optind < argc)
		return err_set(e, ERR_USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (o->dir == NULL)
		return err_set(e, ERR_USAGE, "--dir DIR is required");
	if ((o->ca.import_cert == NULL) != (o->ca.import_key == NULL))
		return err_set(e, ERR_USAGE, "--import-ca needs CERT and KEY");
	if (o->challenge != NULL && o->challenge_file != NULL)
		return err_set(e, ERR_USAGE, "--challenge or --challenge-file,"
		    " not both");
	return 0;
}

/* Makes DIR (0700) if missing; refuses a DIR with a config or store. */
static int
prepare_dir(const char *dir, struct err *e)
{
	/* Everything undo() may remove must be absent now. */
	static const char *const taken[] = { "scep-ca.conf", "store.db",
	    "store.db-wal", "store.db-shm", "challenge.secret", "ca.crt",
	    "ca.key", "ra.crt", "ra.key", "chain.pem", "ocsp.crt", "ocsp.key" };
	char	path[4096];
	size_t	i;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return err_set(e, ERR_IO, "cannot create %s: %s", dir,
		    strerror(errno));
	for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, taken[i]);
		if (access(path, F_OK) == 0)
			return err_set(e, ERR_EXISTS, "%s already exists; refusing"
			    " to overwrite", path);
	}
	return 0;
}

/* Writes DIR/challenge.secret (0600) from --challenge or a file. */
static int
write_challenge(const struct init_opts *o, struct err *e)
{
	struct buf	 secret = {0};
	char		 path[4096];
	int		 rc = -1;

	if (o->challenge_file != NULL) {
		if (buf_read_file(&secret, o->challenge_file, 4096) == -1) {
			err_set(e, ERR_IO, "cannot read %s: %s", o->challenge_file,
			    strerror(errno));
			goto out;
		}
	} else if (buf_append_str(&secret, o->challenge) == -1)
		goto out;
	while (secret.len > 0 && (secret.data[secret.len - 1] == '\n' ||
	    secret.data[secret.len - 1] == '\r'))
		secret.len--;
	if (secret.len < 8) {
		err_set(e, ERR_USAGE, "the challenge must have at least 8"
		    " characters");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/challenge.secret", o->dir);
	rc = file_write_atomic(path, secret.data, secret.len, 0600, e);
out:
	buf_wipe(&secret);
	return rc;
}

/* After a failure, removes whatever init made (DIR was checked fresh). */
static void
undo(const char *dir)
{
	static const char *const made[] = { "ca.crt", "ca.key", "ra.crt",
	    "ra.key", "chain.pem", "ocsp.crt", "ocsp.key", "challenge.secret",
	    "scep-ca.conf", "store.db", "store.db-wal", "store.db-shm" };
	char	path[4096];
	size_t	i;

	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
}

int
cmd_init(int argc, char **argv, struct err *e)
{
	struct init_opts	 o = {0};
	struct conf_initial	 ci = {0};
	struct store		*st = NULL;
	char			*pass = NULL, path[4096];
	int			 rc = -1;

	if (cli_help(argc, argv, usage))
		return 0;
	if (parse(argc, argv, &o, e) == -1 || prepare_dir(o.dir, e) == -1)
		return -1;
	if (o.passphrase_file != NULL &&
	    cli_passphrase(o.passphrase_file, &pass, e) == -1)
		return -1;
	o.ca.import_passphrase = pass;
	if ((o.challenge || o.challenge_file) && write_challenge(&o, e) == -1)
		goto out;
	if (ca_create(o.dir, &o.ca, e) == -1)
		goto out;
	ci.challenge_mode = o.challenge || o.challenge_file ? "static" : "one-time";
	ci.secret_file = o.challenge || o.challenge_file ? "challenge.secret" : NULL;
	ci.passphrase_file = pass != NULL && *pass != '\0' ? o.passphrase_file : NULL;
	ci.listen = o.listen;
	snprintf(path, sizeof(path), "%s/scep-ca.conf", o.dir);
	if (conf_write_initial(path, &ci, e) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/store.db", o.dir);
	if ((st = store_open(path, STORE_CREATE | STORE_SYNC_FULL, e)) == NULL ||
	    store_audit(st, "admin", "init", NULL, o.ca.import_cert ?
	    "imported CA" : "new CA", e) == -1)
		goto out;
	printf("created a CA in %s (challenge: %s)\n", o.dir, ci.challenge_mode);
	rc = 0;
out:
	store_close(st);
	if (rc == -1)
		undo(o.dir);
	cli_passphrase_free(pass);
	return rc;
}
