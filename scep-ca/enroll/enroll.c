/*
 * enroll.c - one PKIOperation, start to end: decode, authorize (challenge
 * or renewal), policy, issue, store, encode.  Every refusal becomes a
 * CertRep FAILURE with the failInfo of its error and changes nothing in
 * the store, with one intended exception: in Intune mode a refusal of
 * ours after Intune's Success queues a failureNotification (intune/intune_ca.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "enroll/enroll.h"
#include "enroll/issue.h"
#include "intune/intune_ca.h"
#include "intune/outbox.h"
#include "pki/dn.h"
#include "pki/identity.h"
#include "pki/pki.h"
#include "revocation/crl.h"

/* The state of one PKIOperation. */
struct enroll {
	struct scep_ctx			*ctx;
	const struct profile_conf	*p;
	struct scep_req			 req;
	X509				*cert;		/* owned: the answer */
	X509_CRL			*crl;		/* owned: GetCRL's answer */
	char				 key_hash[65];	/* of the CSR key */
	char				 signer_hash[65]; /* of the signer */
	char				 renewal_of[SERIAL_HEX_MAX];
	struct cert_row			 parent_row;	/* renewal: the renewed */
	X509				*parent;	/* owned: its certificate */
	int				 renewal;	/* signed by the renewed */
	int				 pending;
	int				 intune;	/* Intune validated it */
	int				 notify;	/* Intune hears of the issue */
};

/* Tries a serial collision this many times (it never happens). */
#define ISSUE_ATTEMPTS	4

static time_t
asn1_time_to_unix(const ASN1_TIME *t)
{
	struct tm	tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/*
 * A renewal's store row names the same device and user as its parent's,
 * so that the Entra sync and the RADIUS module follow the child as they
 * follow the parent, whatever the profile's identity mapping makes of it.
 */
static void
identity_from_row(const struct cert_row *row, struct cert_identity *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->intune_device_id, sizeof(id->intune_device_id), "%s",
	    row->intune_device_id ? row->intune_device_id : "");
	snprintf(id->entra_device_id, sizeof(id->entra_device_id), "%s",
	    row->entra_device_id ? row->entra_device_id : "");
	snprintf(id->upn, sizeof(id->upn), "%s", row->upn ? row->upn : "");
}

/* Fills a store row from an issued certificate.  Strings are owned. */
static int
row_from_cert(X509 *x, const struct enroll *en, struct cert_row *r)
{
	struct cert_identity	 id;
	unsigned char		*der = NULL;
	int			 n;

	memset(r, 0, sizeof(*r));
	if (identity_from_cert_map(x, &en->p->idmap, &id) == -1)
		return -1;	/* policy_check_csr() refused such CSRs */
	if (en->parent != NULL)
		identity_from_row(&en->parent_row, &id);
	if (pki_serial_text(X509_get0_serialNumber(x), r->serial) == -1 ||
	    (r->issuer = pki_name_text(X509_get_issuer_name(x))) == NULL ||
	    (r->subject = pki_name_text(X509_get_subject_name(x))) == NULL ||
	    (r->san = pki_san_text(x)) == NULL ||
	    (r->profile = strdup(en->p->name)) == NULL ||
	    (r->transaction_id = strdup(en->req.txid)) == NULL ||
	    (r->key_hash = strdup(en->key_hash)) == NULL ||
	    (n = i2d_X509(x, &der)) <= 0 ||
	    buf_set(&r->der, der, (size_t)n) == -1 ||
	    pki_digest_hex(der, (size_t)n, "SHA1", r->sha1, sizeof(r->sha1)) == -1 ||
	    pki_digest_hex(der, (size_t)n, "SHA256", r->sha256,
	    sizeof(r->sha256)) == -1)
		goto fail;
	if ((id.intune_device_id[0] &&
	    (r->intune_device_id = strdup(id.intune_device_id)) == NULL) ||
	    (id.entra_device_id[0] &&
	    (r->entra_device_id = strdup(id.entra_device_id)) == NULL) ||
	    (id.upn[0] && (r->upn = strdup(id.upn)) == NULL) ||
	    (en->renewal_of[0] &&
	    (r->renewed_from = strdup(en->renewal_of)) == NULL))
		goto fail;
	r->not_before = asn1_time_to_unix(X509_get0_notBefore(x));
	r->not_after = asn1_time_to_unix(X509_get0_notAfter(x));
	r->issued_at = (int64_t)time(NULL);
	r->status = CERT_VALID;
	r->reason = -1;
	OPENSSL_free(der);
	return 0;
fail:
	OPENSSL_free(der);
	cert_row_clear(r);
	return -1;
}

/* Loads an issued certificate from the store by serial text. */
static X509 *
load_cert(struct scep_ctx *ctx, const char *serial, struct err *e)
{
	struct cert_row		 row = {0};
	const unsigned char	*p;
	X509			*x = NULL;

	if (store_cert_get(ctx->store, serial, &row, e) == -1)
		return NULL;
	p = row.der.data;
	if ((x = d2i_X509(NULL, &p, (long)row.der.len)) == NULL)
		err_set_ossl(e, ERR_STORE, "store: certificate %s is corrupt",
		    serial);
	cert_row_clear(&row);
	return x;
}

/*
 * Is this a renewal signed by the very certificate transaction txn
 * produced?  Clients that derive the transactionID from the key (micromdm)
 * send such renewals under the ID of the first enrollment.
 */
static int
renews_txn(const struct enroll *en, const struct txn_row *txn)
{
	char	serial[SERIAL_HEX_MAX];

	if (!en->renewal || txn->state != TXN_ISSUED || txn->signer_hash == NULL ||
	    strcmp(txn->signer_hash, en->signer_hash) == 0 ||
	    !ca_issued(en->ctx->ca, en->req.signer) ||
	    pki_serial_text(X509_get0_serialNumber(en->req.signer), serial) == -1)
		return 0;
	return strcmp(serial, txn->serial) == 0;
}

/*
 * A transactionID we have seen: the same key gets the same answer
 * (RFC 8894 §3.2.1.1); another key is refused.  Returns 1 when answered
 * from the store, 0 when the transaction is new, -1 on refusal.
 */
static int
check_replay(struct enroll *en, struct err *e)
{
	struct txn_row	txn = {0};
	int		rc = -1;

	if (store_txn_get(en->ctx->store, en->req.txid, &txn, e) == -1)
		return e->code == ERR_NOT_FOUND ? (err_clear(e), 0) : -1;
	if (strcmp(txn.key_hash, en->key_hash) != 0) {
		err_set(e, ERR_BAD_REQUEST, "transactionID %s was used before"
		    " with another key", en->req.txid);
		goto out;
	}
	if (renews_txn(en, &txn)) {
		rc = 0;		/* a new transaction under the same ID */
		goto out;
	}
	switch (txn.state) {
	case TXN_ISSUED:
		if ((en->cert = load_cert(en->ctx, txn.serial, e)) != NULL)
			rc = 1;
		break;
	case TXN_PENDING:
		/*
		 * Past pending_ttl it is as good as gone (the next new request
		 * sweeps it): a poll learns so, a resend is a new request.
		 */
		if (txn.expires_at > 0 && txn.expires_at <= (int64_t)time(NULL)) {
			if (en->req.type == SCEP_MSG_CERTPOLL)
				err_set(e, ERR_BAD_CERT_ID, "transaction %s expired"
				    " unapproved (pending_ttl)", en->req.txid);
			else
				rc = 0;
			break;
		}
		en->pending = 1;
		rc = 1;
		break;
	case TXN_APPROVED:
		rc = 0;		/* issue it now */
		break;
	case TXN_DENIED:
		err_set(e, ERR_BAD_REQUEST, "the request was denied");
		break;
	}
out:
	txn_row_clear(&txn);
	return rc;
}

/*
 * Is the request signed by a certificate this CA issued?  The signer is
 * parse-only (scep/msg.h): the signature is checked on a copy, and only
 * when the issuer name is ours.
 */
static int
signed_by_our_cert(const struct enroll *en)
{
	X509	*full;
	int	 ours;

	if (en->req.signer == NULL || !pki_name_equal(X509_get_issuer_name(
	    en->req.signer), X509_get_subject_name(ca_cert(en->ctx->ca))) ||
	    (full = scep_req_signer_copy(&en->req)) == NULL)
		return 0;
	ours = ca_issued(en->ctx->ca, full);
	X509_free(full);
	return ours;
}

/*
 * Reads the store row of the request's signer into row, when the row is
 * that very certificate (same SHA-256 thumbprint, en->signer_hash, which
 * this computes when the caller has not).  0, or -1 with row empty.
 */
static int
signer_row(struct enroll *en, struct cert_row *row)
{
	char	serial[SERIAL_HEX_MAX];

	if ((en->signer_hash[0] == '\0' && pki_cert_thumbprint(en->req.signer,
	    "SHA256", en->signer_hash, sizeof(en->signer_hash)) == -1) ||
	    pki_serial_text(X509_get0_serialNumber(en->req.signer), serial) == -1 ||
	    store_cert_get(en->ctx->store, serial, row, NULL) == -1)
		return -1;
	if (strcmp(row->sha256, en->signer_hash) != 0) {
		cert_row_clear(row);
		return -1;
	}
	return 0;
}

/*
 * Renewal (RFC 8894 §3.3.1.2): the request is signed by a certificate of
 * ours (RenewalReq, or the PKCSReq many clients send) instead of carrying
 * a challenge.  Holding that certificate's key is the whole authorization,
 * so the new certificate may be nothing more than its successor: on the
 * profile that issued it, while it is valid and close to its expiry
 * (renewal_window_days), once (the store refuses a second child in the
 * transaction that records the first), and with its identity: the subject
 * and SAN the CSR asks for must be the parent's, and the new store row
 * names the parent's device and user.  A manual-approval profile's
 * renewal needs no new approval: the parent had it, on this profile.
 */
static int
check_renewal(struct enroll *en, struct err *e)
{
	struct cert_row	*row = &en->parent_row;
	const char	*serial = row->serial;
	int		 window = en->ctx->conf->renewal_window_days;
	int64_t		 now = (int64_t)time(NULL);

	if (signer_row(en, row) == -1)
		return err_set(e, ERR_BAD_CERT_ID, "renewal: the signing"
		    " certificate is not in the store");
	if (strcmp(row->profile, en->p->name) != 0)
		return err_set(e, ERR_BAD_REQUEST, "renewal: certificate %s was"
		    " issued by profile %s, not %s", serial, row->profile,
		    en->p->name);
	if (row->status != CERT_VALID || row->not_after <= now)
		return err_set(e, ERR_BAD_REQUEST, "renewal: certificate %s is %s",
		    serial, row->status != CERT_VALID ?
		    cert_status_name(row->status) : "expired");
	if (row->not_after - now > (int64_t)window * 86400)
		return err_set(e, ERR_BAD_REQUEST, "renewal: certificate %s"
		    " expires in more than %d days (renewal_window_days)",
		    serial, window);
	if ((en->parent = load_cert(en->ctx, serial, e)) == NULL ||
	    issue_renewal_check(en->p, en->req.csr, en->parent, e) == -1)
		return -1;
	snprintf(en->renewal_of, sizeof(en->renewal_of), "%s", serial);
	return 0;
}

/* Records a request that waits for `scep-ca approve`. */
static int
record_pending(struct enroll *en, const char *consume, struct err *e)
{
	struct txn_row		 t = {0};
	struct pending_limits	 lim = { .max_per_profile = en->p->pending_max,
		.max_per_key = en->p->pending_max_per_key,
		.ttl = en->p->pending_ttl };
	int			 rc = -1;

	t.id = en->req.txid;
	t.profile = (char *)en->p->name;
	t.key_hash = en->key_hash;
	t.renewal_of = en->renewal_of[0] ? en->renewal_of : NULL;
	t.signer_hash = en->signer_hash;
	t.subject = pki_name_text(X509_REQ_get_subject_name(en->req.csr));
	if (t.subject == NULL)
		err_set(e, ERR_NOMEM, "out of memory");
	else if (csr_der_without_challenge(en->req.csr, &t.csr, e) == 0 &&
	    store_txn_add_pending(en->ctx->store, &t,
	    consume[0] ? consume : NULL, &lim, e) == 0) {
		en->pending = 1;
		rc = 0;
	}
	free(t.subject);
	buf_free(&t.csr);
	return rc;
}

/*
 * Stores an issued certificate.  In Intune mode its successNotification
 * is queued in the same transaction, so that a crash cannot lose it.
 */
static int
record_issue(struct enroll *en, const struct cert_row *row,
    const unsigned char *csr, size_t csr_len, const char *consume,
    struct err *e)
{
	struct intune_note	note;
	struct store_issue	si = { .cert = row, .txid = en->req.txid,
		.csr = csr, .csr_len = csr_len,
		.challenge_hash = consume[0] ? consume : NULL,
		.renewal_of = en->renewal_of[0] ? en->renewal_of : NULL,
		.signer_hash = en->signer_hash[0] ? en->signer_hash : NULL,
		.actor = "scep", .now = row->issued_at };
	int			rc;

	if (!en->notify)
		return store_issue(en->ctx->store, &si, e);
	if (intune_note_success(en->ctx, en->req.txid, csr, csr_len, en->cert,
	    &note, e) == -1)
		return -1;
	si.outbox = &note.entry;
	if ((rc = store_issue(en->ctx->store, &si, e)) == 0)
		outbox_wake(en->ctx->outbox);
	intune_note_free(&note);
	return rc;
}

/* Builds, signs and stores the certificate; retries a serial collision. */
static int
issue_cert(struct enroll *en, const char *consume, struct err *e)
{
	struct scep_ctx		*ctx = en->ctx;
	struct cert_row		 row;
	unsigned char		*csr = NULL;
	int			 csr_len, i, rc = -1;
	struct issue_params	 ip = {
		.profile = en->p, .ca_cert = ca_cert(ctx->ca),
		.validity_days = en->p->validity_days > 0 ?
		    en->p->validity_days : ctx->conf->validity_days,
		.public_url = ctx->public_url, .ca_name = ctx->conf->name,
		.parent = en->parent,
	};

	if ((csr_len = i2d_X509_REQ(en->req.csr, &csr)) <= 0)
		return err_set_ossl(e, ERR_INTERNAL, "cannot encode the CSR");
	for (i = 0; i < ISSUE_ATTEMPTS && rc == -1; i++) {
		X509_free(en->cert);
		ip.now = (int64_t)time(NULL);
		if ((en->cert = issue_build(&ip, en->req.csr, en->req.csr_key,
		    e)) == NULL ||
		    ca_sign_cert(ctx->ca, en->cert, e) == -1)
			break;
		if (row_from_cert(en->cert, en, &row) == -1) {
			err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		rc = record_issue(en, &row, csr, (size_t)csr_len, consume, e);
		cert_row_clear(&row);
		if (rc == -1 && e->kind != ERR_KIND_PRIMARY_KEY)
			break;
	}
	OPENSSL_free(csr);
	if (rc == -1) {
		X509_free(en->cert);
		en->cert = NULL;
	}
	return rc;
}

/*
 * Is this request a renewal (1) or a new enrollment (0)?  ours: signed by
 * a certificate this CA issued.  On an Intune profile a request carrying
 * a challenge always goes to Intune, signed by our certificate or not; a
 * renewal without one only where the profile allows signed renewals, and
 * Intune is then told of it like of any issuance.
 */
static int
renewal_path(struct enroll *en, int ours, struct err *e)
{
	struct buf	challenge = {0};
	int		has;

	if (en->req.type == SCEP_MSG_RENEWALREQ && !ours)
		return err_set(e, ERR_BAD_REQUEST, "a RenewalReq must be signed"
		    " by a certificate this CA issued");
	if (en->p->challenge != CHALLENGE_INTUNE)
		return ours;
	/* Some clients (micromdm's) send an empty challengePassword. */
	has = csr_challenge(en->req.csr, &challenge);
	if (has == 1 && challenge.len == 0)
		has = 0;
	buf_wipe(&challenge);
	if (has != 0 || !ours)
		return 0;
	if (!en->p->signed_renewal)
		return err_set(e, ERR_BAD_REQUEST, "profile %s renews only"
		    " through Intune (signed_renewal = no): the request has no"
		    " challenge", en->p->name);
	en->notify = 1;
	return 1;
}

/* One check of a PKCSReq or RenewalReq; consume gets a one-time challenge. */
typedef int (*csr_step)(struct enroll *en, char consume[65], struct err *e);

/*
 * Intune mode asks Intune before our own checks, as NDES does, so that
 * Intune hears of every refusal of ours.
 */
static int
step_intune(struct enroll *en, char consume[65], struct err *e)
{
	(void)consume;
	if (authorize_intune(en->ctx, en->p, en->req.txid, en->req.csr,
	    e) == -1)
		return -1;
	en->intune = en->notify = 1;
	return 0;
}

static int
step_policy(struct enroll *en, char consume[65], struct err *e)
{
	(void)consume;
	return policy_check_csr(en->p, en->req.csr, en->req.csr_key, e);
}

static int
step_challenge(struct enroll *en, char consume[65], struct err *e)
{
	return authorize_challenge(en->ctx, en->p, en->req.csr, consume, e);
}

static int
step_renewal(struct enroll *en, char consume[65], struct err *e)
{
	(void)consume;
	return check_renewal(en, e);
}

/*
 * The checks of each way in, in their order; the first refusal ends the
 * request.  A new request of a manual-approval profile then waits for
 * `scep-ca approve`; anything else is issued.
 */
enum csr_path { PATH_STATIC, PATH_ONE_TIME, PATH_INTUNE, PATH_NONE,
	PATH_RENEWAL, PATH__COUNT };
#define CSR_STEPS_MAX	3
static const csr_step csr_steps[PATH__COUNT][CSR_STEPS_MAX] = {
	[PATH_STATIC]	= { step_policy, step_challenge },
	[PATH_ONE_TIME]	= { step_policy, step_challenge },
	[PATH_INTUNE]	= { step_intune, step_policy },
	[PATH_NONE]	= { step_policy },	/* approval = manual decides */
	[PATH_RENEWAL]	= { step_policy, step_renewal },
};

static enum csr_path
csr_path(const struct enroll *en)
{
	if (en->renewal)
		return PATH_RENEWAL;
	switch (en->p->challenge) {
	case CHALLENGE_STATIC:		return PATH_STATIC;
	case CHALLENGE_ONE_TIME:	return PATH_ONE_TIME;
	case CHALLENGE_INTUNE:		return PATH_INTUNE;
	case CHALLENGE_NONE:		return PATH_NONE;
	}
	return PATH_STATIC;
}

/* Reads what the checks need and answers a retried transaction. */
static int
csr_prepare(struct enroll *en, struct err *e)
{
	int	renewal;

	if (en->req.nonce_len == 0)
		return err_set(e, ERR_BAD_REQUEST, "the request has no"
		    " senderNonce");
	if (en->req.signer_key == NULL ||
	    !EVP_PKEY_is_a(en->req.signer_key, "RSA"))
		return err_set(e, ERR_BAD_ALG, "the signer key is not RSA: the"
		    " reply could not be encrypted to it");
	if (pki_key_hash(X509_REQ_get_X509_PUBKEY(en->req.csr),
	    en->key_hash) == -1 || pki_cert_thumbprint(en->req.signer, "SHA256",
	    en->signer_hash, sizeof(en->signer_hash)) == -1)
		return err_set_ossl(e, ERR_PARSE, "the CSR's key cannot be read");
	if ((renewal = renewal_path(en, signed_by_our_cert(en), e)) == -1)
		return -1;
	en->renewal = renewal;
	return check_replay(en, e);
}

/* PKCSReq and RenewalReq. */
static int
handle_csr(struct enroll *en, struct err *e)
{
	const csr_step	*step;
	char		 consume[65] = "";
	int		 seen, i;

	if ((seen = csr_prepare(en, e)) != 0)
		return seen > 0 ? 0 : -1;
	step = csr_steps[csr_path(en)];
	for (i = 0; i < CSR_STEPS_MAX && step[i] != NULL; i++)
		if (step[i](en, consume, e) == -1)
			return -1;
	if (en->p->manual_approval && !en->renewal)
		return record_pending(en, consume, e);
	if (issue_cert(en, consume, e) == 0)
		return 0;
	/* The same request, answered meanwhile by another worker thread. */
	if (e->code == ERR_EXISTS) {
		en->intune = en->notify = 0;	/* that thread tells Intune */
		err_clear(e);
		if (check_replay(en, e) > 0)
			return 0;
		if (e->code == ERR_OK)
			err_set(e, ERR_BAD_REQUEST, "transaction %s was answered"
			    " meanwhile", en->req.txid);
	}
	return -1;
}

/*
 * A CertPoll (RFC 8894 §3.3.3) is answered only to the requester: it is
 * signed by the key the pending request certifies (the self-signed
 * certificate of a new enrollment) or by the certificate that signed the
 * request (a renewal).
 */
static int
poll_signer_ok(const struct enroll *en, const struct txn_row *txn)
{
	char	hash[65], thumb[65];

	if (pki_key_hash(X509_get_X509_PUBKEY(en->req.signer), hash) == 0 &&
	    strcmp(hash, txn->key_hash) == 0)
		return 1;
	return txn->signer_hash != NULL && pki_cert_thumbprint(en->req.signer,
	    "SHA256", thumb, sizeof(thumb)) == 0 &&
	    strcmp(thumb, txn->signer_hash) == 0;
}

/* CertPoll (GetCertInitial): the state of a pending transaction. */
static int
handle_poll(struct enroll *en, struct err *e)
{
	struct txn_row		 txn = {0};
	int			 rc = -1;

	if (store_txn_get(en->ctx->store, en->req.txid, &txn, e) == -1) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_BAD_CERT_ID, "no transaction %s",
			    en->req.txid);
		goto out;
	}
	if (!poll_signer_ok(en, &txn)) {
		err_set(e, ERR_BAD_REQUEST, "CertPoll for transaction %s is not"
		    " signed by its requester", en->req.txid);
		goto out;
	}
	snprintf(en->key_hash, sizeof(en->key_hash), "%s", txn.key_hash);
	if (txn.renewal_of != NULL)
		snprintf(en->renewal_of, sizeof(en->renewal_of), "%s",
		    txn.renewal_of);
	if (txn.state == TXN_APPROVED) {
		if (scep_csr_parse(en->ctx->codec, txn.csr.data, txn.csr.len,
		    &en->req.csr, &en->req.csr_key, e) == -1) {
			err_set(e, ERR_STORE, "the stored CSR is corrupt");
			goto out;
		}
		rc = issue_cert(en, "", e);
		goto out;
	}
	rc = check_replay(en, e) > 0 ? 0 : -1;
out:
	txn_row_clear(&txn);
	return rc;
}

/*
 * Is the signer a currently valid certificate of ours (in the store, not
 * revoked, held or expired)?  Returns 0, or -1 with e set.
 */
static int
signer_valid(struct enroll *en, struct err *e)
{
	struct cert_row	 row = {0};
	int		 ok;

	if (!signed_by_our_cert(en) || signer_row(en, &row) == -1)
		return err_set(e, ERR_BAD_REQUEST, "the request must be signed"
		    " by a certificate of this CA");
	ok = row.status == CERT_VALID && row.not_after > (int64_t)time(NULL);
	cert_row_clear(&row);
	return ok ? 0 : err_set(e, ERR_BAD_REQUEST, "the signing certificate"
	    " is not valid");
}

/*
 * GetCert (RFC 8894 §3.3.2): a certificate of ours by issuer and serial,
 * only to a signer that holds a valid certificate of this CA for the same
 * subject, so that the store cannot be read out by strangers.
 */
static int
handle_getcert(struct enroll *en, struct err *e)
{
	char	serial[SERIAL_HEX_MAX];

	if (!pki_name_equal(en->req.issuer,
	    X509_get_subject_name(ca_cert(en->ctx->ca))) ||
	    pki_serial_text(en->req.serial, serial) == -1)
		return err_set(e, ERR_BAD_CERT_ID, "not a certificate of this"
		    " CA");
	if (signer_valid(en, e) == -1)
		return -1;
	if ((en->cert = load_cert(en->ctx, serial, e)) == NULL) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_BAD_CERT_ID, "no certificate %s", serial);
		return -1;
	}
	if (!pki_name_equal(X509_get_subject_name(en->cert),
	    X509_get_subject_name(en->req.signer))) {
		X509_free(en->cert);
		en->cert = NULL;
		return err_set(e, ERR_BAD_CERT_ID, "certificate %s is not the"
		    " signer's", serial);
	}
	return 0;
}

/* GetCRL (RFC 8894 §3.3.4): the current CRL, for a certificate of ours. */
static int
handle_getcrl(struct enroll *en, struct err *e)
{
	struct crl_blob	*b;

	if (!pki_name_equal(en->req.issuer,
	    X509_get_subject_name(ca_cert(en->ctx->ca))))
		return err_set(e, ERR_BAD_CERT_ID, "GetCRL: not a certificate of"
		    " this CA");
	if (en->ctx->crl == NULL)
		return err_set(e, ERR_UNSUPPORTED, "GetCRL: no CRL is published");
	b = crl_service_current(en->ctx->crl);
	en->crl = crl_blob_x509(b, e);
	crl_blob_release(b);
	return en->crl != NULL ? 0 : -1;
}

/* Runs the message through its handler; 0 SUCCESS/PENDING, -1 FAILURE. */
static int
dispatch(struct enroll *en, struct err *e)
{
	int	legacy = en->p->allow_legacy;

	if (scep_req_verify(en->ctx->codec, &en->req, legacy,
	    en->p->max_rsa_bits, e) == -1)
		return -1;
	if (scep_req_open(&en->req, en->ctx->ca, legacy, en->p->max_rsa_bits,
	    e) == -1)
		return -1;
	switch (en->req.type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		return handle_csr(en, e);
	case SCEP_MSG_CERTPOLL:
		return handle_poll(en, e);
	case SCEP_MSG_GETCERT:
		return handle_getcert(en, e);
	case SCEP_MSG_GETCRL:
		return handle_getcrl(en, e);
	default:
		return err_set(e, ERR_UNSUPPORTED, "message type %d",
		    en->req.type);
	}
}

static void
log_outcome(const struct enroll *en, const struct scep_rep *rep,
    const struct err *why)
{
	/* The log module escapes what a client may have put in a string. */
	const char	*txid = en->req.txid;
	char		 serial[SERIAL_HEX_MAX] = "", *subj = NULL;

	if (rep->status == SCEP_STATUS_FAILURE) {
		log_warn("scep", "profile=%s %s txid=%s refused: %s (failInfo %s)",
		    en->p->name, scep_msg_type_name(en->req.type), txid, why->msg,
		    err_fail_info_name(rep->fail_info));
		return;
	}
	if (rep->status == SCEP_STATUS_PENDING) {
		log_info("scep", "profile=%s %s txid=%s pending approval",
		    en->p->name, scep_msg_type_name(en->req.type), txid);
		return;
	}
	if (rep->crl != NULL) {
		log_info("scep", "profile=%s GetCRL txid=%s returned the CRL",
		    en->p->name, txid);
		return;
	}
	pki_serial_text(X509_get0_serialNumber(en->cert), serial);
	subj = pki_name_text(X509_get_subject_name(en->cert));
	log_info("scep", "profile=%s %s txid=%s %s serial=%s subject=%s%s%s",
	    en->p->name, scep_msg_type_name(en->req.type), txid,
	    en->req.type == SCEP_MSG_GETCERT ? "returned" : "issued", serial,
	    subj ? subj : "?", en->renewal_of[0] ? " renewal_of=" : "",
	    en->renewal_of);
	free(subj);
}

int
enroll_pkioperation(struct scep_ctx *ctx, const struct profile_conf *p,
    const unsigned char *msg, size_t len, struct buf *reply, struct err *e)
{
	struct enroll	en = { .ctx = ctx, .p = p };
	struct scep_rep	rep = { .status = SCEP_STATUS_SUCCESS };
	struct err	why = {0};
	int		rc = -1;

	if (scep_req_parse(ctx->codec, msg, len, &en.req, e) == -1) {
		log_warn("scep", "profile=%s unreadable pkiMessage: %s", p->name,
		    e->msg);
		goto out;
	}
	if (dispatch(&en, &why) == -1) {
		rep.status = SCEP_STATUS_FAILURE;
		rep.fail_info = err_fail_info(why.code);
		if (rep.fail_info == SCEP_FAIL_NONE)	/* our own trouble */
			rep.fail_info = SCEP_FAIL_BAD_REQUEST;
		rep.fail_text = err_text(why.code);
		/* Intune validated it and we refused: Intune must hear why. */
		if (en.intune)
			intune_report_refusal(ctx, p, &en.req, &why);
	} else if (en.pending)
		rep.status = SCEP_STATUS_PENDING;
	else {
		rep.cert = en.cert;
		rep.crl = en.crl;
	}
	log_outcome(&en, &rep, &why);
	rc = scep_rep_encode(ctx->codec, ctx->ca, &en.req, &rep, reply, e);
out:
	X509_free(en.cert);
	X509_CRL_free(en.crl);
	X509_free(en.parent);
	cert_row_clear(&en.parent_row);
	scep_req_free(&en.req);
	return rc;
}
