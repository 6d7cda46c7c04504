/*
 * intune_ca.h - scep-ca's Intune mode (challenge = intune), as NDES with
 * the Intune connector or a commercial cloud CA behaves: every new
 * request is validated by Intune (validateRequest) before anything else;
 * after it, each issuance queues a successNotification and each refusal
 * of ours a failureNotification, both through the store's outbox, which
 * a background sender delivers.
 *
 * authorize.c validates, notify.c builds and sends the
 * notifications, wiring.c creates the Microsoft clients and the sender.
 *
 * Thread-safety: every function may be called from any worker thread;
 * cloud_start() and cloud_stop() only from the thread that starts and
 * stops the server, before and after the workers run.
 */
#ifndef SCEPCA_INTUNE_CA_H
#define SCEPCA_INTUNE_CA_H

#include <stdint.h>

#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "scep/msg.h"
#include "server.h"
#include "store/store.h"

#define OUTBOX_KIND_INTUNE_SUCCESS	"intune_success"
#define OUTBOX_KIND_INTUNE_FAILURE	"intune_failure"

/* HRESULTs of failureNotification (winerror.h); README.md lists them. */
#define HR_E_FAIL				((int32_t)0x80004005)
#define HR_NTE_BAD_SIGNATURE			((int32_t)0x80090006)
#define HR_CERTSRV_E_TEMPLATE_DENIED		((int32_t)0x80094012)
#define HR_CERTSRV_E_WEAK_SIGNATURE_OR_KEY	((int32_t)0x80094016)
#define HR_CERTSRV_E_KEY_LENGTH			((int32_t)0x80094811)

/*
 * Asks Intune whether the CSR of SCEP transaction txid may be issued
 * under profile p.  Returns 0 only when Intune answered "Success".  Any
 * other code is ERR_BAD_CHALLENGE with Intune's code and description in
 * e; a failed call (HTTP error, unreachable, throttled, timeout) keeps
 * the client's error code.  Either way the caller must not issue.
 */
int	authorize_intune(struct scep_ctx *ctx, const struct profile_conf *p,
	    const char *txid, X509_REQ *csr, struct err *e);

/*
 * The HRESULT reporting our refusal `why` of req's CSR under p, and its name
 * in *name: CERTSRV_E_KEY_LENGTH when the key type or size is what the
 * profile refuses, CERTSRV_E_TEMPLATE_DENIED for another policy refusal,
 * CERTSRV_E_WEAK_SIGNATURE_OR_KEY for a forbidden algorithm,
 * NTE_BAD_SIGNATURE for a bad CSR signature, E_FAIL for anything else.
 */
int32_t	intune_refusal_hresult(const struct profile_conf *p,
	    const struct scep_req *req, const struct err *why,
	    const char **name);

/*
 * Queues a failureNotification for a request Intune validated and we
 * then refused, and wakes the sender.  Trouble is logged, not returned:
 * the client gets its FAILURE either way.
 */
void	intune_report_refusal(struct scep_ctx *ctx,
	    const struct profile_conf *p, const struct scep_req *req,
	    const struct err *why);

/* A successNotification ready to be queued with its certificate row. */
struct intune_note {
	struct outbox_new	 entry;		/* points into the two below */
	struct buf		 payload;
	char			 ref[81];	/* transactionID, for logs */
};

/*
 * Fills note with the successNotification of cert, issued for the CSR
 * (DER) of transaction txid.  Free with intune_note_free().  0, or -1.
 */
int	intune_note_success(struct scep_ctx *ctx, const char *txid,
	    const unsigned char *csr, size_t csr_len, X509 *cert,
	    struct intune_note *note, struct err *e);
void	intune_note_free(struct intune_note *note);

/*
 * The outbox send function (outbox.h) of the Intune kinds; arg is the
 * struct intune_client.  Reads the payload, sends the notification.
 */
int	intune_outbox_send(void *arg, const struct outbox_row *row,
	    long *retry_after, struct err *e);

/*
 * When the configuration has an [entra] section: creates the Microsoft
 * clients in ctx (http, tokens, graph, intune) and starts the outbox
 * sender.  Call before the HTTP workers start.  0, or -1 with e filled.
 */
int	cloud_start(struct scep_ctx *ctx, struct err *e);

/* Stops the sender and frees the clients.  After the workers stopped. */
void	cloud_stop(struct scep_ctx *ctx);

#endif
