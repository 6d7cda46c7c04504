/*
 * status.c - `scep-ca status`: how the sync jobs are doing (last
 * success, lag, failures, last error, changes applied), the outbox of
 * Intune notifications, certificates by status and the CRL file.  Reads
 * the store read-only, so it is safe while the daemon runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/encode.h"
#include "cli/cli.h"
#include "store/sync.h"

static const char usage[] =
"usage: scep-ca status --dir DIR\n"
"Shows the revocation sync jobs (entra-devices, entra-users,\n"
"intune-revocations): last success and how long ago (the lag), last\n"
"attempt, failures in a row, last error, certificate changes applied;\n"
"then the Intune notification outbox, certificates by status, and the\n"
"CRL file's number and nextUpdate.  Reads the store only.\n";

/* "4 s", "3 min 2 s", "2 h 5 min", "3 d 4 h". */
static void
fmt_span(int64_t s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, "%lld s", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lld min %lld s", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, n, "%lld h %lld min", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(out, n, "%lld d %lld h", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
}

/* "2025-06-01T10:00:00Z (4 s ago)", or "never". */
static void
fmt_when(int64_t t, int64_t now, char *out, size_t n)
{
	char	iso[21], span[32];

	if (t <= 0) {
		snprintf(out, n, "never");
		return;
	}
	time_iso8601((time_t)t, iso);
	fmt_span(now - t, span, sizeof(span));
	snprintf(out, n, "%s (%s ago)", iso, span);
}

struct jobs_seen {
	int64_t	now;
	int	n;
};

static int
print_job(void *arg, const struct sync_row *r)
{
	struct jobs_seen	*js = arg;
	char			 when[64];

	js->n++;
	printf("sync %s\n", r->name);
	fmt_when(r->last_success, js->now, when, sizeof(when));
	printf("  %-18s %s\n", "last success", when);
	fmt_when(r->last_attempt, js->now, when, sizeof(when));
	printf("  %-18s %s\n", "last attempt", when);
	printf("  %-18s %d in a row\n", "failures", r->failures);
	if (r->last_error == NULL)
		printf("  %-18s none\n", "last error");
	else {
		fmt_when(r->last_error_at, js->now, when, sizeof(when));
		printf("  %-18s %s%s: %s\n", "last error", when,
		    r->failures == 0 ? ", recovered since" : "",
		    r->last_error);
	}
	printf("  %-18s %lld\n", "changes applied",
	    (long long)r->items_applied);
	if (strcmp(r->name, SYNC_INTUNE_REVOCATIONS) != 0)
		printf("  %-18s deltaLink %s, certificates scanned to row"
		    " %lld\n", "position", r->delta_link ? "saved" : "none",
		    (long long)r->scan_rowid);
	return 0;
}

/* The sync jobs; nothing to say before schema 3 or the first run. */
static int
print_jobs(struct store *st, struct err *e)
{
	struct jobs_seen	js = { (int64_t)time(NULL), 0 };
	int			v;

	if ((v = store_schema_version(st, e)) == -1)
		return -1;
	if (v < 3) {
		printf("sync: no job has run (the daemon has not opened this"
		    " store since an upgrade)\n");
		return 0;
	}
	if (store_sync_list(st, print_job, &js, e) == -1)
		return -1;
	if (js.n == 0)
		printf("sync: no job has run yet (they run in `scep-ca serve`"
		    " with [entra] configured)\n");
	return 0;
}

/* Counts of the outbox and of certificates by status. */
static int
print_counts(struct store *st, struct err *e)
{
	int64_t	n[3];
	int	i;

	for (i = 0; i < 3; i++)
		if ((n[i] = store_outbox_count(st, i, e)) == -1)
			return -1;
	printf("%-20s pending %lld, sent %lld, abandoned %lld\n", "outbox",
	    (long long)n[OUTBOX_PENDING], (long long)n[OUTBOX_SENT],
	    (long long)n[OUTBOX_ABANDONED]);
	for (i = 0; i < 3; i++)
		if ((n[i] = store_cert_count(st, i, e)) == -1)
			return -1;
	printf("%-20s valid %lld, revoked %lld, on hold %lld\n",
	    "certificates", (long long)n[CERT_VALID],
	    (long long)n[CERT_REVOKED], (long long)n[CERT_HOLD]);
	return 0;
}

/* The CRL number of crl in decimal, into out ("?" when absent). */
static void
crl_number_text(X509_CRL *crl, char *out, size_t n)
{
	ASN1_INTEGER	*num;
	BIGNUM		*bn = NULL;
	char		*dec = NULL;

	snprintf(out, n, "?");
	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) ==
	    NULL)
		return;
	if ((bn = ASN1_INTEGER_to_BN(num, NULL)) != NULL &&
	    (dec = BN_bn2dec(bn)) != NULL)
		snprintf(out, n, "%s", dec);
	OPENSSL_free(dec);
	BN_free(bn);
	ASN1_INTEGER_free(num);
}

/* The CRL file [crl] dir/<name>.crl: number and nextUpdate. */
static void
print_crl(const struct scep_conf *conf)
{
	X509_CRL	*crl = NULL;
	BIO		*bio = NULL;
	struct tm	 tm;
	char		*path = NULL, num[64], when[64];

	if (conf->crl_dir[0] == '\0') {
		printf("%-20s no file ([crl] dir is empty)\n", "crl");
		return;
	}
	if (asprintf(&path, "%s%s%s/%s.crl", conf->crl_dir[0] == '/' ? "" :
	    conf->dir, conf->crl_dir[0] == '/' ? "" : "/", conf->crl_dir,
	    conf->name) == -1)
		return;
	if ((bio = BIO_new_file(path, "rb")) == NULL ||
	    (crl = d2i_X509_CRL_bio(bio, NULL)) == NULL) {
		printf("%-20s %s: none yet\n", "crl", path);
		goto out;
	}
	crl_number_text(crl, num, sizeof(num));
	snprintf(when, sizeof(when), "?");
	if (X509_CRL_get0_nextUpdate(crl) != NULL &&
	    ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm) == 1)
		time_iso8601(timegm(&tm), when);
	printf("%-20s %s: number %s, %d entries, next update %s\n", "crl",
	    path, num, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), when);
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	BIO_free(bio);
	free(path);
}

int
cmd_status(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct scep_conf	 conf;
	struct store		*st = NULL;
	const char		*dir = NULL;
	int			 ch, rc = -1;

	if (cli_help(argc, argv, usage))
		return 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'd')
			return err_set(e, ERR_USAGE, "bad option (see --help)");
		dir = optarg;
	}
	if (optind < argc)
		return err_set(e, ERR_USAGE, "unexpected argument '%s'",
		    argv[optind]);
	if (dir == NULL)
		return err_set(e, ERR_USAGE, "--dir DIR is required");
	if (conf_load(&conf, dir, e) == -1)
		return -1;
	if ((st = store_open(conf.store, STORE_RDONLY, e)) == NULL)
		goto out;
	if (print_jobs(st, e) == -1 || print_counts(st, e) == -1)
		goto out;
	print_crl(&conf);
	rc = 0;
out:
	store_close(st);
	conf_free(&conf);
	return rc;
}
