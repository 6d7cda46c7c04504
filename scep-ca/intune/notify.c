/*
 * notify.c - Intune's success and failure notifications: the
 * outbox payloads they travel in (JSON, self-contained, so a row can be
 * sent after a restart without anything else), the HRESULTs our own
 * refusals are reported with, and the send function of the outbox.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "base/encode.h"
#include "base/log.h"
#include "enroll/issue.h"
#include "intune/intune_ca.h"
#include "intune/outbox.h"
#include "msft/intune.h"

/* Our error codes and the HRESULT each is reported with. */
static const struct {
	enum err_code	 code;
	int32_t		 hr;
	const char	*name;
} hresults[] = {
	{ ERR_POLICY, HR_CERTSRV_E_TEMPLATE_DENIED, "CERTSRV_E_TEMPLATE_DENIED" },
	{ ERR_BAD_ALG, HR_CERTSRV_E_WEAK_SIGNATURE_OR_KEY,
	    "CERTSRV_E_WEAK_SIGNATURE_OR_KEY" },
	{ ERR_BAD_SIGNATURE, HR_NTE_BAD_SIGNATURE, "NTE_BAD_SIGNATURE" },
};

/*
 * Was the key what the policy refused?  The same check with every key
 * type allowed tells: if it passes then, the key was the reason.
 */
static int
key_refused(const struct profile_conf *p, const struct scep_req *req)
{
	struct profile_conf	any = *p;	/* shallow copy, only read */

	any.key_mask = KEY_RSA | KEY_EC_P256 | KEY_EC_P384;
	any.rsa_min_bits = 0;
	return policy_check_csr(&any, req->csr, req->csr_key, NULL) == 0;
}

int32_t
intune_refusal_hresult(const struct profile_conf *p,
    const struct scep_req *req, const struct err *why, const char **name)
{
	size_t	i;

	if (why->code == ERR_POLICY && req->csr != NULL &&
	    req->csr_key != NULL && key_refused(p, req)) {
		*name = "CERTSRV_E_KEY_LENGTH";
		return HR_CERTSRV_E_KEY_LENGTH;
	}
	for (i = 0; i < sizeof(hresults) / sizeof(hresults[0]); i++)
		if (hresults[i].code == why->code) {
			*name = hresults[i].name;
			return hresults[i].hr;
		}
	*name = "E_FAIL";
	return HR_E_FAIL;
}

/* A client's transactionID made fit for log lines. */
static void
safe_ref(const char *txid, char *out, size_t len)
{
	size_t	i;

	for (i = 0; txid[i] != '\0' && i + 1 < len; i++)
		out[i] = (txid[i] < 0x20 || txid[i] == 0x7f) ? '?' : txid[i];
	out[i] = '\0';
}

/* Adds key: base64(der) to o.  0, or -1. */
static int
json_set_b64(json_t *o, const char *key, const unsigned char *der,
    size_t len)
{
	struct buf	b = {0};
	int		rc = -1;

	if (b64_encode(&b, der, len) == 0 && buf_cstr(&b) != NULL)
		rc = json_object_set_new(o, key, json_string(buf_cstr(&b)));
	buf_free(&b);
	return rc;
}

/* Serialises o into payload (and frees o).  0, or -1. */
static int
json_to_payload(json_t *o, struct buf *payload, struct err *e)
{
	char	*text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	int	 rc;

	json_decref(o);
	rc = text != NULL ? buf_append_str(payload, text) : -1;
	free(text);
	return rc == 0 ? 0 : err_set(e, ERR_NOMEM, "intune: out of memory");
}

int
intune_note_success(struct scep_ctx *ctx, const char *txid,
    const unsigned char *csr, size_t csr_len, X509 *cert,
    struct intune_note *note, struct err *e)
{
	unsigned char	*der = NULL;
	json_t		*o;
	int		 n, bad;

	memset(note, 0, sizeof(*note));
	if ((n = i2d_X509(cert, &der)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the"
		    " certificate");
	o = json_pack("{s:s, s:s, s:s}", "transactionId", txid,
	    "caConfiguration", ctx->public_url,
	    "certificateAuthority", ctx->conf->name);
	bad = o == NULL || json_set_b64(o, "certificateRequest", csr,
	    csr_len) == -1 || json_set_b64(o, "certificate", der,
	    (size_t)n) == -1;
	OPENSSL_free(der);
	if (bad) {
		json_decref(o);
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	}
	if (json_to_payload(o, &note->payload, e) == -1)
		return -1;
	safe_ref(txid, note->ref, sizeof(note->ref));
	note->entry.kind = OUTBOX_KIND_INTUNE_SUCCESS;
	note->entry.ref = note->ref;
	note->entry.payload = buf_cstr(&note->payload);
	return 0;
}

void
intune_note_free(struct intune_note *note)
{
	if (note != NULL)
		buf_free(&note->payload);
}

/* Builds the failureNotification payload. */
static int
failure_payload(const char *txid, X509_REQ *csr, int32_t hr,
    const char *description, struct buf *payload, struct err *e)
{
	unsigned char	*der = NULL;
	json_t		*o;
	int		 n, bad;

	if ((n = i2d_X509_REQ(csr, &der)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
	o = json_pack("{s:s, s:I, s:s}", "transactionId", txid, "hResult",
	    (json_int_t)hr, "errorDescription", description);
	bad = o == NULL || json_set_b64(o, "certificateRequest", der,
	    (size_t)n) == -1;
	OPENSSL_free(der);
	if (bad) {
		json_decref(o);
		return err_set(e, ERR_NOMEM, "intune: out of memory");
	}
	return json_to_payload(o, payload, e);
}

/*
 * The one side effect of a refused request: in Intune mode, Intune must
 * hear of a refusal of ours, so the refusal queues an outbox row (and
 * nothing else).  README.md, "Intune", says so too.
 */
void
intune_report_refusal(struct scep_ctx *ctx, const struct profile_conf *p,
    const struct scep_req *req, const struct err *why)
{
	struct outbox_new	 entry;
	struct buf		 payload = {0};
	struct err		 e = {0};
	const char		*name;
	char			 ref[81];
	int32_t			 hr;

	hr = intune_refusal_hresult(p, req, why, &name);
	safe_ref(req->txid, ref, sizeof(ref));
	entry = (struct outbox_new){ OUTBOX_KIND_INTUNE_FAILURE, ref, NULL };
	if (failure_payload(req->txid, req->csr, hr, why->msg, &payload,
	    &e) == -1 ||
	    (entry.payload = buf_cstr(&payload)) == NULL ||
	    store_outbox_add(ctx->store, &entry, (int64_t)time(NULL), NULL,
	    &e) == -1)
		log_err("intune", "profile=%s txid=%s: cannot queue the"
		    " failureNotification: %s", p->name, ref, e.msg);
	else {
		log_info("intune", "profile=%s txid=%s: failureNotification"
		    " queued (0x%08X %s)", p->name, ref, (unsigned)hr, name);
		outbox_wake(ctx->outbox);
	}
	buf_free(&payload);
}

/* Decodes the base64 member key of o into out.  0, or -1 (ERR_PARSE). */
static int
json_get_b64(json_t *o, const char *key, struct buf *out, struct err *e)
{
	const char	*s = json_string_value(json_object_get(o, key));

	if (s == NULL || b64_decode_lenient(out, s, strlen(s)) == -1 ||
	    out->len == 0)
		return err_set(e, ERR_PARSE, "outbox: payload without a valid"
		    " %s", key);
	return 0;
}

static int
send_success(struct intune_client *ic, json_t *o, struct err *e)
{
	struct intune_success	n = {0};
	struct buf		csr = {0}, cert = {0};
	int			rc = -1;

	n.transaction_id = json_string_value(json_object_get(o,
	    "transactionId"));
	n.ca_configuration = json_string_value(json_object_get(o,
	    "caConfiguration"));
	n.certificate_authority = json_string_value(json_object_get(o,
	    "certificateAuthority"));
	if (n.transaction_id == NULL) {
		err_set(e, ERR_PARSE, "outbox: payload without transactionId");
		goto out;
	}
	if (json_get_b64(o, "certificateRequest", &csr, e) == -1 ||
	    json_get_b64(o, "certificate", &cert, e) == -1)
		goto out;
	n.csr_der = csr.data;
	n.csr_len = csr.len;
	n.cert_der = cert.data;
	n.cert_len = cert.len;
	rc = intune_scep_notify_success(ic, &n, e);
out:
	buf_free(&csr);
	buf_free(&cert);
	return rc;
}

static int
send_failure(struct intune_client *ic, json_t *o, struct err *e)
{
	struct intune_failure	 n = {0};
	struct buf		 csr = {0};
	json_t			*hr = json_object_get(o, "hResult");
	int			 rc = -1;

	n.transaction_id = json_string_value(json_object_get(o,
	    "transactionId"));
	n.description = json_string_value(json_object_get(o,
	    "errorDescription"));
	if (n.transaction_id == NULL || n.description == NULL ||
	    !json_is_integer(hr)) {
		err_set(e, ERR_PARSE, "outbox: malformed failure payload");
		goto out;
	}
	n.hresult = (int32_t)json_integer_value(hr);
	if (json_get_b64(o, "certificateRequest", &csr, e) == -1)
		goto out;
	n.csr_der = csr.data;
	n.csr_len = csr.len;
	rc = intune_scep_notify_failure(ic, &n, e);
out:
	buf_free(&csr);
	return rc;
}

int
intune_outbox_send(void *arg, const struct outbox_row *row,
    long *retry_after, struct err *e)
{
	struct intune_client	*ic = arg;
	json_error_t		 je;
	json_t			*o;
	int			 rc;

	*retry_after = 0;
	if ((o = json_loads(row->payload, 0, &je)) == NULL ||
	    !json_is_object(o)) {
		json_decref(o);
		return err_set(e, ERR_PARSE, "outbox: payload is not a JSON"
		    " object");
	}
	if (strcmp(row->kind, OUTBOX_KIND_INTUNE_SUCCESS) == 0)
		rc = send_success(ic, o, e);
	else if (strcmp(row->kind, OUTBOX_KIND_INTUNE_FAILURE) == 0)
		rc = send_failure(ic, o, e);
	else
		rc = err_set(e, ERR_USAGE, "outbox: unknown kind '%.40s'",
		    row->kind);
	json_decref(o);
	if (rc == -1 && (e->code == ERR_THROTTLED || e->code == ERR_REMOTE))
		*retry_after = intune_client_retry_after(ic);
	return rc;
}
