/*
 * intune.c - the Intune job: revocation requests from Intune's PKI
 * connector service (reference/microsoft-apis.md §2), answered one
 * result each.
 *
 * Error codes are Intune's CARequestErrorCode (Microsoft's published
 * Intune-Resource-Access samples): 4002 ParameterDataInvalidError for a
 * serial that is not hex, 4004 CertificateNotFoundError for a serial we
 * never issued or another issuer's certificate.  A certificate revoked
 * already is a success, not 4005 ConflictError: what Intune asked for
 * holds, and a run that revoked but could not upload its results must
 * answer the same the next time.  Store trouble gives no result at all:
 * the request stays pending at Intune and comes again.
 *
 * Reason: Intune asks for revocation when a device is wiped or retired
 * or the profile is no longer assigned (CARequestRevocationScenario):
 * the certificate is no longer needed, cessationOfOperation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/encode.h"
#include "base/log.h"
#include "pki/dn.h"
#include "revocation/crl.h"
#include "sync/sync.h"

#define DOWNLOAD_MAX	100	/* maxRequests, as Microsoft's sample */
#define ROUNDS_MAX	10	/* downloads per run at most */

/*
 * Whether Intune's issuerName text names ca_name: read as RFC 4514, or
 * the other way round (the most significant RDN first, as Windows can
 * write it), compared as X.520 does (pki/dn.h).
 */
static int
issuer_matches(const X509_NAME *ca_name, const char *text)
{
	X509_NAME	*n, *rev = NULL;
	int		 same;

	if ((n = pki_name_parse(text, NULL)) == NULL)
		return 0;
	same = pki_name_equal(n, ca_name) ||
	    ((rev = pki_name_reversed(n)) != NULL &&
	    pki_name_equal(rev, ca_name));
	X509_NAME_free(rev);
	X509_NAME_free(n);
	return same;
}

/* Sets the answer's code; the caller writes the message. */
static char *
outcome(struct intune_outcome *out, int code)
{
	out->answer = 1;
	out->succeeded = code == INTUNE_REVOKE_OK;
	out->error_code = code;
	return out->message;
}

void
intune_revocation_decide(struct store *st, const X509_NAME *ca_name,
    const struct intune_revocation_request *rq, struct intune_outcome *out)
{
	const size_t	n = sizeof(out->message);
	char		serial[SERIAL_HEX_MAX];
	struct err	e = {0};

	memset(out, 0, sizeof(*out));
	if (serial_normalize(rq->serial_number, serial) == -1) {
		snprintf(outcome(out, INTUNE_REVOKE_PARAMETER_INVALID), n,
		    "serial number '%.64s' is not hexadecimal",
		    rq->serial_number);
		return;
	}
	if (rq->issuer_name != NULL && rq->issuer_name[0] != '\0' &&
	    !issuer_matches(ca_name, rq->issuer_name)) {
		snprintf(outcome(out, INTUNE_REVOKE_CERT_NOT_FOUND), n,
		    "certificate issued by '%.160s', not by this CA",
		    rq->issuer_name);
		return;
	}
	if (store_cert_revoke_once(st, serial, REASON_CESSATION_OF_OPERATION,
	    SYNC_ACTOR_INTUNE, &out->changed, &e) == -1) {
		if (e.code == ERR_NOT_FOUND)
			snprintf(outcome(out, INTUNE_REVOKE_CERT_NOT_FOUND), n,
			    "no certificate with serial %s was issued by this"
			    " CA", serial);
		else
			log_err("sync", "Intune revocation request for %s: %s",
			    serial, e.msg);
		return;
	}
	if (out->changed)
		log_info("sync", "revoked %s (cessationOfOperation): Intune"
		    " revocation request %.64s", serial, rq->request_context);
	outcome(out, INTUNE_REVOKE_OK);
}

/* Decides each request into results; returns how many to upload. */
static size_t
decide_all(struct intune_job *j, const struct intune_revocation_list *l,
    struct intune_outcome *oc, struct intune_revocation_result *res,
    int *changed)
{
	size_t	i, n = 0;

	for (i = 0; i < l->n; i++) {
		intune_revocation_decide(j->st, j->ca_name, &l->items[i],
		    &oc[i]);
		if (oc[i].changed)
			(*changed)++;
		else if (oc[i].answer && !oc[i].succeeded)
			log_warn("sync", "Intune revocation request %.64s"
			    " refused (%d): %s", l->items[i].request_context,
			    oc[i].error_code, oc[i].message);
		if (!oc[i].answer)
			continue;
		res[n].request_context = l->items[i].request_context;
		res[n].succeeded = oc[i].succeeded;
		res[n].error_code = oc[i].error_code;
		res[n].error_message = oc[i].message;
		n++;
	}
	return n;
}

/*
 * One download, decide, upload.  *more is set when Intune may hold more
 * requests.  Returns the results uploaded, or -1.
 */
static int
intune_round(struct intune_job *j, int *more, int *changed, struct err *e)
{
	struct intune_revocation_list	 l = { NULL, 0 };
	struct intune_revocation_result	*res = NULL;
	struct intune_outcome		*oc = NULL;
	size_t				 n = 0;
	int				 rc = -1;

	*more = 0;
	if (intune_revocation_download(j->ic, DOWNLOAD_MAX, &l, e) == -1)
		return -1;
	if (l.n > 0 && ((oc = calloc(l.n, sizeof(*oc))) == NULL ||
	    (res = calloc(l.n, sizeof(*res))) == NULL)) {
		err_set(e, ERR_NOMEM, "sync: out of memory");
		goto out;
	}
	n = decide_all(j, &l, oc, res, changed);
	if (*changed > 0 && j->crl != NULL)
		crl_service_changed(j->crl);
	/* The revocations are made: counted even if the upload fails. */
	if (*changed > 0 && store_sync_progress(j->st, SYNC_INTUNE_REVOCATIONS,
	    NULL, -1, (int64_t)*changed, e) == -1)
		goto out;
	if (n > 0 && intune_revocation_upload(j->ic, res, n, e) == -1)
		goto out;
	/* Requests left without an answer would only come back at once. */
	*more = l.n == DOWNLOAD_MAX && n == l.n;
	rc = (int)n;
out:
	free(res);
	free(oc);
	intune_revocation_list_free(&l);
	return rc;
}

int
intune_job_run(struct intune_job *j, int *answered, struct err *e)
{
	int	round, more = 1, n, changed, total = 0, rc = 0;
	long	ra;

	for (round = 0; round < ROUNDS_MAX && more && rc == 0; round++) {
		changed = 0;
		if ((ra = intune_client_retry_after(j->ic)) > 0)
			rc = err_set(e, ERR_THROTTLED, "intune: throttled,"
			    " retry in %ld s", ra);
		else if ((n = intune_round(j, &more, &changed, e)) == -1)
			rc = -1;
		else
			total += n;
	}
	if (answered != NULL)
		*answered = total;
	return rc;
}
