/*
 * sync.h - the daemon's revocation sync jobs, run by one background
 * thread when [entra] is configured:
 *
 *   Entra (entra.c): follows Graph change tracking (delta) on
 *     devices and users, and looks up directly the devices and users that
 *     new certificate rows name; a deleted one has its certificates
 *     revoked (cessationOfOperation), a disabled one held
 *     (certificateHold), released when enabled again (store/sync.h says
 *     exactly what).  Every [entra] sync_interval seconds.
 *   Intune (msft/intune.c): downloads Intune's revocation requests,
 *     revokes the certificates we issued, uploads one result per
 *     request.  Every [entra] revocation_poll_interval seconds, when a
 *     profile uses challenge = intune.
 *
 * Positions and health live in the store (sync_state), so a restart
 * resumes where the last run stopped and `scep-ca status` can tell.
 *
 * Thread-safety: sync_start() and sync_stop() from the thread that
 * starts and stops the server; the jobs run on the sync thread only.
 * The *_job_run() functions are exposed for tests and run on the
 * caller's thread.
 */
#ifndef SCEPCA_SYNC_H
#define SCEPCA_SYNC_H

#include <stdatomic.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "base/err.h"
#include "msft/intune.h"
#include "server.h"
#include "status/cache.h"
#include "store/store.h"
#include "store/sync.h"

struct crl_service;

/* What the thread runs; an interval of 0 leaves that job out. */
struct sync_opts {
	int	entra_interval;		/* s */
	int	policy;			/* ENTRA_ON_* */
	int	intune_interval;	/* s */
};

struct sync_service;

/*
 * Starts the thread on ctx (its store, graph, intune and crl must
 * outlive it).  Both jobs run at once, then on their intervals.
 * Returns NULL with e filled.
 */
struct sync_service	*sync_start(struct scep_ctx *ctx,
			    const struct sync_opts *o, struct err *e);

/*
 * Stops the thread (a Graph or Intune call in progress finishes first,
 * bounded by [entra] timeout), joins it and frees it.  Accepts NULL.
 */
void			 sync_stop(struct sync_service *s);

/*
 * intune/wiring.c: starts the sync thread in ctx->sync when [entra] is
 * configured and a job is enabled (after crl_service_start()).  0, or -1
 * with e filled.  cloud_stop_sync() stops it (before the CRL service
 * stops); cloud_stop() calls it too.
 */
int	cloud_start_sync(struct scep_ctx *ctx, struct err *e);
void	cloud_stop_sync(struct scep_ctx *ctx);

/* ---- the Entra job (entra.c) ------------------------------------- */

struct entra_job {
	struct store		*st;
	struct status_source	 src;		/* Graph, or a test directory */
	int			 policy;	/* ENTRA_ON_* */
	struct crl_service	*crl;		/* told of changes, or NULL */
	const atomic_int	*stop;		/* ends a long scan, or NULL */
};

/*
 * One run for kind: a deltaLink first if the job has none
 * ($deltaToken=latest: no full read of the directory), then the changes
 * since the saved deltaLink, then direct lookups of the devices (or
 * users) that certificate rows added since the last run name.  A
 * refused deltaLink starts the job over (every identity looked up
 * again).  *changed (may be NULL) counts certificates changed.  Returns
 * 0, or -1 with e filled (ERR_THROTTLED while Graph holds us back);
 * what was applied before a failure stays applied.
 */
int	entra_job_run(struct entra_job *j, enum graph_kind kind, int *changed,
	    struct err *e);

/* ---- the Intune job (msft/intune.c) ----------------------------------- */

/* Error codes of uploadRevocationResults (Intune's CARequestErrorCode). */
#define INTUNE_REVOKE_OK			0
#define INTUNE_REVOKE_PARAMETER_INVALID		4002
#define INTUNE_REVOKE_CERT_NOT_FOUND		4004

/* What to answer to one revocation request. */
struct intune_outcome {
	int	answer;		/* 0: no result (store trouble): asked again */
	int	succeeded;
	int	error_code;	/* INTUNE_REVOKE_* */
	char	message[256];
	int	changed;	/* the certificate was revoked now */
};

/*
 * Decides and carries out one request: a serial we issued (and, when
 * the request names an issuer, issued by ca_name, in either RDN order)
 * is revoked (cessationOfOperation; a revocation already there stands)
 * and succeeds; a serial that is not hex fails with 4002; an unknown
 * serial or another issuer's with 4004.
 */
void	intune_revocation_decide(struct store *st, const X509_NAME *ca_name,
	    const struct intune_revocation_request *rq,
	    struct intune_outcome *out);

struct intune_job {
	struct store		*st;
	struct intune_client	*ic;
	const X509_NAME		*ca_name;	/* the CA's subject */
	struct crl_service	*crl;		/* may be NULL */
};

/*
 * One run: downloads pending requests (100 at a time, a few rounds at
 * most), decides each, uploads the results.  A failed upload leaves the
 * requests pending at Intune: the next run gets them again and, the
 * revocations being done, answers them the same.  *answered (may be
 * NULL) counts results uploaded; the job's "changes applied" in
 * sync_state count certificates revoked.  Returns 0, or -1 with e filled.
 */
int	intune_job_run(struct intune_job *j, int *answered, struct err *e);

#endif
