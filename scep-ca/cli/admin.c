/*
 * admin.c - the admin commands that work on the store: challenge,
 * list, show, revoke, unrevoke, approve, deny.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "base/encode.h"
#include "cli/cli.h"
#include "enroll/enroll.h"
#include "revocation/crl.h"

static const char usage_challenge[] =
"usage: scep-ca challenge --dir DIR [--ttl 1h] [--profile NAME]\n"
"Prints a new one-time challenge password (stored hashed; usable once,\n"
"until the TTL runs out: 90s, 15m, 1h, 7d).\n";
static const char usage_list[] =
"usage: scep-ca list --dir DIR [--status valid|revoked|hold]\n"
"Lists certificates: serial, status, expiry, subject.\n";
static const char usage_show[] =
"usage: scep-ca show SERIAL --dir DIR\n"
"Shows one certificate's store row and its PEM.  SERIAL is hex as\n"
"`openssl x509 -serial` prints it (any case, colons allowed).\n";
static const char usage_revoke[] =
"usage: scep-ca revoke SERIAL --dir DIR [--reason REASON]\n"
"Revokes a certificate.  REASON: unspecified (default), keyCompromise,\n"
"affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn,\n"
"or certificateHold (a hold, which unrevoke can lift).  OCSP answers\n"
"revoked at once; the CRL file is re-signed at once.\n";
static const char usage_unrevoke[] =
"usage: scep-ca unrevoke SERIAL --dir DIR\n"
"Releases a certificate on hold; the CRL file is re-signed at once.\n";
static const char usage_approve[] =
"usage: scep-ca approve TXID --dir DIR\n"
"Approves a pending request; the client gets its certificate on its next\n"
"poll.\n";
static const char usage_deny[] =
"usage: scep-ca deny TXID --dir DIR\n"
"Denies a pending request.\n";

struct admin_args {
	const char	*dir;
	const char	*arg;		/* SERIAL or TXID */
	const char	*reason;
	const char	*ttl;
	const char	*profile;
	const char	*status;
};

/* Parses --dir and friends plus at most one positional argument. */
static int
admin_parse(int argc, char **argv, int positional, struct admin_args *a,
    struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "reason", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "profile", required_argument, NULL, 'p' },
		{ "status", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': a->dir = optarg; break;
		case 'r': a->reason = optarg; break;
		case 't': a->ttl = optarg; break;
		case 'p': a->profile = optarg; break;
		case 's': a->status = optarg; break;
		default: return err_set(e, ERR_USAGE, "bad option (see --help)");
		}
	}
	if (positional && optind < argc)
		a->arg = argv[optind++];
	if (optind < argc)
		return err_set(e, ERR_USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (positional && a->arg == NULL)
		return err_set(e, ERR_USAGE, "missing argument (see --help)");
	if (a->dir == NULL)
		return err_set(e, ERR_USAGE, "--dir DIR is required");
	return 0;
}

/* Runs fn with DIR's configuration and store open. */
static int
with_store(int argc, char **argv, const char *usage, int positional,
    int (*fn)(struct admin_args *, struct scep_conf *, struct store *,
    struct err *), struct err *e)
{
	struct admin_args	 a;
	struct scep_conf	 conf;
	struct store		*st = NULL;
	int			 rc;

	if (cli_help(argc, argv, usage))
		return 0;
	if (admin_parse(argc, argv, positional, &a, e) == -1 ||
	    cli_open(a.dir, &conf, &st, e) == -1)
		return -1;
	rc = fn(&a, &conf, st, e);
	store_close(st);
	conf_free(&conf);
	return rc;
}

static int
do_challenge(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	unsigned char	 r[20];
	struct buf	 text = {0};
	char		 hash[65];
	long		 ttl = a->ttl ? cli_duration(a->ttl) : 3600;
	int		 rc = -1;

	if (ttl <= 0)
		return err_set(e, ERR_USAGE, "bad --ttl '%s' (e.g. 90s, 15m, 1h,"
		    " 7d; at most a year)", a->ttl);
	if (a->profile != NULL && conf_profile_by_name(conf, a->profile) == NULL)
		return err_set(e, ERR_USAGE, "no profile '%s'", a->profile);
	/* 160 random bits, as hex: no characters any client mangles. */
	if (RAND_bytes(r, sizeof(r)) != 1 || hex_encode(&text, r, sizeof(r), 1) == -1 ||
	    challenge_hash(text.data, text.len, hash) == -1) {
		err_set(e, ERR_INTERNAL, "cannot make a challenge");
		goto out;
	}
	if (store_challenge_add(st, hash, a->profile, (int64_t)time(NULL) + ttl,
	    e) == -1)
		goto out;
	printf("%s\n", (char *)text.data);
	rc = 0;
out:
	buf_wipe(&text);
	return rc;
}

int
cmd_challenge(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_challenge, 0, do_challenge, e);
}

static void
print_time(const char *label, int64_t t)
{
	char	s[21];

	time_iso8601((time_t)t, s);
	printf("%-18s %s\n", label, s);
}

static int
list_row(void *arg, const struct cert_row *r)
{
	char	s[21];

	(void)arg;
	time_iso8601((time_t)r->not_after, s);
	printf("%-34s %-8s %s  %s\n", r->serial, cert_status_name(r->status),
	    s, r->subject);
	return 0;
}

static int
do_list(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	int	status = -1;

	(void)conf;
	if (a->status != NULL) {
		if (strcmp(a->status, "valid") == 0)
			status = CERT_VALID;
		else if (strcmp(a->status, "revoked") == 0)
			status = CERT_REVOKED;
		else if (strcmp(a->status, "hold") == 0)
			status = CERT_HOLD;
		else
			return err_set(e, ERR_USAGE, "--status is valid, revoked"
			    " or hold");
	}
	return store_cert_list(st, status, list_row, NULL, e);
}

int
cmd_list(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_list, 0, do_list, e);
}

static void
print_field(const char *label, const char *v)
{
	if (v != NULL && *v != '\0')
		printf("%-18s %s\n", label, v);
}

static int
do_show(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	struct cert_row		 r = {0};
	const unsigned char	*p;
	X509			*x;

	(void)conf;
	if (store_cert_get(st, a->arg, &r, e) == -1)
		return -1;
	print_field("serial", r.serial);
	print_field("status", cert_status_name(r.status));
	if (r.status != CERT_VALID) {
		print_field("reason", crl_reason_name(r.reason));
		print_time("revoked_at", r.revoked_at);
		print_field("status_source", r.status_source);
	}
	print_field("subject", r.subject);
	print_field("issuer", r.issuer);
	print_field("san", r.san);
	print_field("entra_device_id", r.entra_device_id);
	print_field("intune_device_id", r.intune_device_id);
	print_field("upn", r.upn);
	print_time("not_before", r.not_before);
	print_time("not_after", r.not_after);
	print_time("issued_at", r.issued_at);
	print_field("profile", r.profile);
	print_field("transaction_id", r.transaction_id);
	print_field("renewed_from", r.renewed_from);
	print_field("sha1", r.sha1);
	print_field("sha256", r.sha256);
	p = r.der.data;
	if ((x = d2i_X509(NULL, &p, (long)r.der.len)) != NULL) {
		PEM_write_X509(stdout, x);
		X509_free(x);
	}
	cert_row_clear(&r);
	return 0;
}

int
cmd_show(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_show, 1, do_show, e);
}

/*
 * After a status change: re-signs the CRL file at once (a running daemon
 * also notices the change by itself).  The change is made either way, so
 * a failure here is a warning, not the command's failure.
 */
static void
republish(const struct scep_conf *conf, struct store *st)
{
	struct crl_blob	*b = NULL;
	struct err	 e = {0};

	if (conf->crl_dir[0] == '\0')
		return;		/* no file: the daemon publishes it */
	if (cli_crl_publish(conf, st, &b, &e) == -1)
		fprintf(stderr, "scep-ca: warning: the CRL was not re-signed"
		    " (a running daemon will): %s\n", e.msg);
	else
		printf("CRL %lld published (%zu entries)\n",
		    (long long)b->number, b->entries);
	crl_blob_release(b);
}

static int
do_revoke(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	int	reason = REASON_UNSPECIFIED, changed;

	if (a->reason != NULL && ((reason = crl_reason_parse(a->reason)) < 0 ||
	    reason == REASON_REMOVE_FROM_CRL))
		return err_set(e, ERR_USAGE, "unknown reason '%s' (see --help)",
		    a->reason);
	if (store_cert_set_status(st, a->arg, reason == REASON_CERTIFICATE_HOLD ?
	    CERT_HOLD : CERT_REVOKED, reason, "admin", 0, &changed, e) == -1)
		return -1;
	printf("%s %s (%s)\n", a->arg, changed ? (reason ==
	    REASON_CERTIFICATE_HOLD ? "on hold" : "revoked") : "unchanged",
	    crl_reason_name(reason));
	if (changed)
		republish(conf, st);
	return 0;
}

int
cmd_revoke(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_revoke, 1, do_revoke, e);
}

static int
do_unrevoke(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	int	changed;

	if (store_cert_set_status(st, a->arg, CERT_VALID, -1, "admin", 0,
	    &changed, e) == -1)
		return -1;
	printf("%s %s\n", a->arg, changed ? "released" : "unchanged (valid)");
	if (changed)
		republish(conf, st);
	return 0;
}

int
cmd_unrevoke(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_unrevoke, 1, do_unrevoke, e);
}

static int
do_approve(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	(void)conf;
	if (store_txn_decide(st, a->arg, TXN_APPROVED, "admin", e) == -1)
		return -1;
	printf("%s approved\n", a->arg);
	return 0;
}

int
cmd_approve(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_approve, 1, do_approve, e);
}

static int
do_deny(struct admin_args *a, struct scep_conf *conf, struct store *st,
    struct err *e)
{
	(void)conf;
	if (store_txn_decide(st, a->arg, TXN_DENIED, "admin", e) == -1)
		return -1;
	printf("%s denied\n", a->arg);
	return 0;
}

int
cmd_deny(int argc, char **argv, struct err *e)
{
	return with_store(argc, argv, usage_deny, 1, do_deny, e);
}
