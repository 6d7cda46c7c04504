/*
 * entra_match.c - the EAP-TLS decision (entra_match.h): store, same
 * certificate, renewal ancestors, identity, Entra status, fail policy.
 * Pure logic over the store and the status cache, so it is tested
 * without FreeRADIUS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "entra_match.h"
#include "pki/identity.h"

/* ---- verdicts ------------------------------------------------------------ */

const char *
entra_match_result_name(enum entra_match_result r)
{
	switch (r) {
#define EM_NAME(name, value, text) case name: return text;
	ENTRA_MATCH_RESULTS(EM_NAME)
#undef EM_NAME
	}
	return "?";
}

/*
 * Appends to the verdict's log detail, escaped (log_escape()): notes
 * carry client strings, which must not forge log lines.
 */
static void __attribute__((format(printf, 2, 3)))
verdict_note(struct entra_match_verdict *v, const char *fmt, ...)
{
	size_t	n = strlen(v->detail);
	char	note[sizeof(v->detail)];
	va_list	ap;

	if (n + 2 >= sizeof(v->detail))
		return;
	if (n > 0) {
		v->detail[n++] = ';';
		v->detail[n++] = ' ';
		v->detail[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	log_escape(v->detail + n, sizeof(v->detail) - n, note);
}

/* Sets the result with its Reply-Message.  Returns the result. */
static enum entra_match_result
verdict_set(struct entra_match_verdict *v, enum entra_match_result r,
    const char *reason)
{
	v->result = r;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	return r;
}

/* ---- Entra status -------------------------------------------------------- */

/* The identity one decision checks. */
struct em_identity {
	const char	*entra_device_id;	/* "" or NULL: none */
	const char	*intune_device_id;
	const char	*upn;
};

static int
em_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * Turns a cache answer for the device or the user into a result, applying
 * the fail policy.  Returns EM_ACCEPT when this one is in good standing.
 */
static enum entra_match_result
em_judge(const struct entra_match_policy *p, const struct status_answer *a,
    int user, const char *what, struct entra_match_verdict *v)
{
	enum status_state	st = a->state;

	v->graph_asked |= a->live;
	if (a->graph_failed) {
		if (!p->fail_open || st == STATUS_UNKNOWN ||
		    a->age_ms > p->fail_open_max_age_ms) {
			verdict_note(v, "%s: Graph unavailable (%s), last known "
			    "state %s%s", what, a->err.msg, status_state_name(st),
			    p->fail_open ? "" : ", fail = closed");
			return verdict_set(v, EM_GRAPH_UNAVAILABLE, user ?
			    "Entra ID unreachable: user status unknown" :
			    "Entra ID unreachable: device status unknown");
		}
		v->fail_open_used = 1;
		verdict_note(v, "%s: Graph unavailable (%s), fail = open on the "
		    "last known state, %.1f s old", what, a->err.msg,
		    (double)a->age_ms / 1000.0);
	}
	verdict_note(v, "%s %s (%s, %.1f s old)", what, status_state_name(st),
	    a->live ? "Graph" : "cache", (double)a->age_ms / 1000.0);
	switch (st) {
	case STATUS_ENABLED:
		return EM_ACCEPT;
	case STATUS_DISABLED:
		return user ? verdict_set(v, EM_USER_DISABLED,
		    "User disabled in Entra ID") : verdict_set(v,
		    EM_DEVICE_DISABLED, "Device disabled in Entra ID");
	case STATUS_DELETED:
		return user ? verdict_set(v, EM_USER_DELETED,
		    "User not found in Entra ID") : verdict_set(v,
		    EM_DEVICE_DELETED, "Device not found in Entra ID");
	default:
		return verdict_set(v, EM_GRAPH_UNAVAILABLE,
		    "Entra ID unreachable: status unknown");
	}
}

/* Checks the device, then the user; ok is the result when both pass. */
static enum entra_match_result
em_check_entra(const struct entra_match_ctx *ctx, const struct em_identity *id,
    int64_t deadline_ms, enum entra_match_result ok,
    struct entra_match_verdict *v)
{
	const struct entra_match_policy	*p = &ctx->policy;
	struct status_query		 q = { deadline_ms, p->max_age_ms,
					    p->strict };
	struct status_answer		 a;
	char				 what[GRAPH_ID_MAX + 16];
	enum entra_match_result		 r;

	if (ctx->cache == NULL) {
		verdict_note(v, "no Entra application configured: store only");
		return ok;
	}
	if (em_set(id->entra_device_id) || em_set(id->intune_device_id)) {
		if (em_set(id->entra_device_id))
			status_cache_device(ctx->cache, id->entra_device_id, &q,
			    &a);
		else
			status_cache_device_any(ctx->cache,
			    id->intune_device_id, &q, &a);
		snprintf(v->device_id, sizeof(v->device_id), "%s", a.device_id);
		snprintf(what, sizeof(what), "device %s", a.device_id);
		if ((r = em_judge(p, &a, 0, what, v)) != EM_ACCEPT)
			return r;
	} else {
		verdict_note(v, "no device named: device not checked");
	}
	if (p->check_user && em_set(id->upn)) {
		snprintf(v->upn, sizeof(v->upn), "%s", id->upn);
		status_cache_user(ctx->cache, id->upn, &q, &a);
		if ((r = em_judge(p, &a, 1, "user", v)) != EM_ACCEPT)
			return r;
	} else if (p->check_user) {
		verdict_note(v, "no user named: user not checked");
	}
	return ok;
}

/* ---- the decision -------------------------------------------------------- */

/* A certificate the store does not know (or not the stored one). */
static enum entra_match_result
em_unknown(const struct entra_match_ctx *ctx,
    const struct entra_match_cert *cert, int64_t deadline_ms,
    struct entra_match_verdict *v)
{
	struct cert_identity	ci;
	struct em_identity	id;

	if (!ctx->policy.unknown_pass)
		return verdict_set(v, EM_UNKNOWN_CERT,
		    "Certificate not issued by this CA");
	if (identity_from_san_text(cert->san != NULL ? cert->san : "",
	    &ci) == -1) {
		verdict_note(v, "unknown = pass, but the SAN text names a device "
		    "or user twice, or unreadably: \"%.120s\"", cert->san);
		return verdict_set(v, EM_UNKNOWN_CERT,
		    "Certificate identity ambiguous");
	}
	id.entra_device_id = NULL;
	id.intune_device_id = ci.intune_device_id;
	id.upn = ci.upn;
	verdict_set(v, EM_PASS, "Certificate not issued by this CA: left "
	    "to policy");
	if (!em_set(ci.intune_device_id) &&
	    !(ctx->policy.check_user && em_set(ci.upn))) {
		verdict_note(v, "unknown = pass, no identity in the SAN");
		return EM_PASS;
	}
	v->identity_from = "san";
	verdict_note(v, "unknown = pass, identity from the SAN");
	if (em_check_entra(ctx, &id, deadline_ms, EM_PASS, v) != EM_PASS)
		return v->result;
	return verdict_set(v, EM_PASS, "Certificate not issued by this CA: "
	    "left to policy");
}

/*
 * Follows renewed_from up from row: a certificate renewed (directly or
 * not) from one revoked for keyCompromise holds a key, or comes from a
 * holder, that is no longer trusted.  At most EM_RENEWAL_DEPTH rows; a
 * loop or a longer chain is a store the module cannot vouch for.  Rows
 * no longer in the store end the walk.  Returns EM_ACCEPT when no
 * ancestor is revoked for keyCompromise, else the verdict's result.
 */
static enum entra_match_result
em_ancestors(const struct entra_match_ctx *ctx, const struct cert_row *row,
    struct entra_match_verdict *v)
{
	char		seen[EM_RENEWAL_DEPTH + 1][SERIAL_HEX_MAX];
	char		next[SERIAL_HEX_MAX];
	struct cert_row	parent;
	struct err	e;
	int		depth, nseen = 1, i, compromised;

	snprintf(seen[0], sizeof(seen[0]), "%s", row->serial);
	snprintf(next, sizeof(next), "%s", row->renewed_from != NULL ?
	    row->renewed_from : "");
	for (depth = 1; next[0] != '\0'; depth++) {
		if (depth > EM_RENEWAL_DEPTH) {
			verdict_note(v, "renewal chain longer than %d "
			    "certificates", EM_RENEWAL_DEPTH);
			return verdict_set(v, EM_ERROR,
			    "Certificate store inconsistent");
		}
		for (i = 0; i < nseen; i++)
			if (strcasecmp(seen[i], next) == 0) {
				verdict_note(v, "renewal chain loops at %s", next);
				return verdict_set(v, EM_ERROR,
				    "Certificate store inconsistent");
			}
		memset(&parent, 0, sizeof(parent));
		err_clear(&e);
		if (store_cert_get(ctx->store, next, &parent, &e) == -1) {
			if (e.code == ERR_NOT_FOUND)
				return EM_ACCEPT;	/* purged: the walk ends */
			verdict_note(v, "%s", e.msg);
			return verdict_set(v, EM_ERROR,
			    "Certificate store unavailable");
		}
		compromised = parent.status == CERT_REVOKED &&
		    parent.reason == REASON_KEY_COMPROMISE;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", next);
		snprintf(next, sizeof(next), "%s", parent.renewed_from != NULL ?
		    parent.renewed_from : "");
		cert_row_clear(&parent);
		if (compromised) {
			verdict_note(v, "renewed from %s (%d renewal%s back), "
			    "revoked for keyCompromise", seen[nseen - 1], depth,
			    depth == 1 ? "" : "s");
			return verdict_set(v, EM_REVOKED, "Certificate renewed "
			    "from a certificate revoked for keyCompromise");
		}
	}
	return EM_ACCEPT;
}

/* A certificate the store knows: its status, then its identity. */
static enum entra_match_result
em_known(const struct entra_match_ctx *ctx, const struct cert_row *row,
    int64_t now, int64_t deadline_ms, struct entra_match_verdict *v)
{
	struct em_identity	id;

	v->known = 1;
	if (row->status == CERT_REVOKED) {
		verdict_note(v, "revoked (%s)", crl_reason_name(row->reason));
		return verdict_set(v, EM_REVOKED, "Certificate revoked");
	}
	if (row->status == CERT_HOLD) {
		verdict_note(v, "certificateHold (set by %s)",
		    row->status_source != NULL ? row->status_source : "admin");
		return verdict_set(v, EM_REVOKED, "Certificate on hold");
	}
	if (row->not_after < now) {
		verdict_note(v, "notAfter %lld is past", (long long)row->not_after);
		return verdict_set(v, EM_EXPIRED, "Certificate expired");
	}
	if (em_ancestors(ctx, row, v) != EM_ACCEPT)
		return v->result;
	id.entra_device_id = row->entra_device_id;
	id.intune_device_id = row->intune_device_id;
	id.upn = row->upn;
	v->identity_from = "store";
	verdict_set(v, EM_ACCEPT, "Certificate and device in good standing");
	if (em_check_entra(ctx, &id, deadline_ms, EM_ACCEPT, v) != EM_ACCEPT)
		return v->result;
	return verdict_set(v, EM_ACCEPT,
	    "Certificate and device in good standing");
}

/*
 * Compares one published attribute with the stored certificate's text.
 * Returns 1 when equal; else notes which differs and returns 0.
 */
static int
em_same(const char *what, const char *published, const char *stored,
    struct entra_match_verdict *v)
{
	if (published != NULL && strcmp(published, stored) == 0)
		return 1;
	verdict_note(v, "serial in the store, but %s \"%.100s\" is not the "
	    "stored certificate's \"%.100s\"", what,
	    published != NULL ? published : "(none)", stored);
	return 0;
}

/*
 * Whether the client's certificate is the stored one (entra_match.h,
 * "Same certificate"): issuer and authorityKeyIdentifier always, subject
 * and notAfter when FreeRADIUS gave them.
 */
static int
em_same_cert(const struct entra_match_cert_text *t,
    const struct entra_match_cert *cert, struct entra_match_verdict *v)
{
	if (t->aki[0] == '\0') {
		verdict_note(v, "serial in the store, but the stored certificate "
		    "has no authorityKeyIdentifier to bind it to this CA");
		return 0;
	}
	return em_same("issuer", cert->issuer, t->issuer, v) &&
	    em_same("authority key id", cert->aki, t->aki, v) &&
	    (cert->subject == NULL ||
	    em_same("subject", cert->subject, t->subject, v)) &&
	    (cert->expiration == NULL ||
	    em_same("notAfter", cert->expiration, t->expiration, v));
}

enum entra_match_result
entra_match_decide(const struct entra_match_ctx *ctx,
    const struct entra_match_cert *cert, int64_t now, int64_t deadline_ms,
    struct entra_match_verdict *v)
{
	struct entra_match_cert_text	t;
	struct cert_row			row;
	struct err			e;
	enum entra_match_result		r;

	memset(v, 0, sizeof(*v));
	memset(&row, 0, sizeof(row));
	err_clear(&e);
	if (cert->unreadable) {
		verdict_note(v, "a certificate attribute holds a NUL byte, or "
		    "the SAN text is missing while SAN entries are published");
		return verdict_set(v, EM_UNKNOWN_CERT,
		    "Certificate attributes unreadable");
	}
	if (cert->serial == NULL || store_cert_get(ctx->store, cert->serial,
	    &row, &e) == -1) {
		if (cert->serial != NULL && e.code != ERR_NOT_FOUND &&
		    e.code != ERR_USAGE) {
			verdict_note(v, "%s", e.msg);
			return verdict_set(v, EM_ERROR,
			    "Certificate store unavailable");
		}
		verdict_note(v, "serial not in the store");
		return em_unknown(ctx, cert, deadline_ms, v);
	}
	if (entra_match_cert_text(ctx->texts, &row, &t, &e) == -1) {
		verdict_note(v, "%s (serial %s)", e.msg, row.serial);
		cert_row_clear(&row);
		return verdict_set(v, EM_ERROR, "Certificate store unavailable");
	}
	if (!em_same_cert(&t, cert, v)) {
		cert_row_clear(&row);
		return em_unknown(ctx, cert, deadline_ms, v);
	}
	r = em_known(ctx, &row, now, deadline_ms, v);
	cert_row_clear(&row);
	return r;
}
