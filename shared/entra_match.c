/*
 * entra_match.c - the EAP-TLS decision (entra_match.h): store, identity,
 * Entra status, fail policy.  Pure logic over the store and the status
 * cache, so it is tested without FreeRADIUS.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "entra_match.h"
#include "identity.h"

#define DN_PARTS_MAX	32	/* RDN attributes in one name */
#define DN_CANON_MAX	2048	/* canonical text of one name */
#define DN_VALUE_MAX	512	/* one unescaped value */

/* ---- names --------------------------------------------------------------- */

/* A name as canonical "type=value" pieces, most significant first. */
struct dn_canon {
	char	buf[DN_CANON_MAX];
	size_t	len;
	size_t	off[DN_PARTS_MAX];
	int	n;
};

/* One attribute's spans in the name's text. */
struct dn_span {
	const char	*type, *value;
	size_t		 tlen, vlen;
};

static int
dn_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Unescapes a value: one-line form "\xHH"; RFC 2253 "\HH" and "\c".
 * Returns the length, or -1 when it does not fit.
 */
static int
dn_unescape(const char *s, size_t n, int rfc2253, char *out)
{
	size_t	i, o = 0, skip;
	int	hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= DN_VALUE_MAX)
			return -1;
		skip = rfc2253 ? 1 : 2;		/* "\HH" or "\xHH" */
		if (s[i] == '\\' && i + skip + 1 < n &&
		    (rfc2253 || s[i + 1] == 'x') &&
		    (hi = dn_hex((unsigned char)s[i + skip])) >= 0 &&
		    (lo = dn_hex((unsigned char)s[i + skip + 1])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += skip + 1;
		} else if (s[i] == '\\' && rfc2253 && i + 1 < n) {
			out[o++] = s[++i];
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Appends c to d's buffer.  Returns 0, or -1 when full. */
static int
dn_put(struct dn_canon *d, char c)
{
	if (d->len + 1 >= sizeof(d->buf))
		return -1;
	d->buf[d->len++] = c;
	return 0;
}

/*
 * Adds one attribute in canonical form: the type lower-cased, '=', the
 * value lower-cased (ASCII) with white space trimmed and runs folded into
 * one space.  Returns 0, or -1 when it does not fit.
 */
static int
dn_add(struct dn_canon *d, const struct dn_span *sp, int rfc2253)
{
	char	value[DN_VALUE_MAX];
	int	vlen, i, space = 0;
	size_t	t;

	if (d->n == DN_PARTS_MAX ||
	    (vlen = dn_unescape(sp->value, sp->vlen, rfc2253, value)) < 0)
		return -1;
	d->off[d->n++] = d->len;
	for (t = 0; t < sp->tlen; t++)
		if (!isspace((unsigned char)sp->type[t]) &&
		    dn_put(d, (char)tolower((unsigned char)sp->type[t])) == -1)
			return -1;
	if (dn_put(d, '=') == -1)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (isspace((unsigned char)value[i])) {
			space = 1;
			continue;
		}
		if (space && d->buf[d->len - 1] != '=' && dn_put(d, ' ') == -1)
			return -1;
		space = 0;
		if (dn_put(d, (char)tolower((unsigned char)value[i])) == -1)
			return -1;
	}
	return dn_put(d, '\0');
}

/* Whether s[0..n) reads as an attribute type: a name or a dotted OID. */
static int
dn_type_ok(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return n > 0;
}

/*
 * Splits the one-line form "/C=US/O=a/b/CN=x" into spans.  The form does
 * not escape '/', so a piece that is not "type=value" continues the value
 * before it ("O=a/b").
 */
static int
dn_split_oneline(const char *s, struct dn_span *sp, int max)
{
	const char	*p = s + 1, *end, *eq;
	int		 n = 0;

	while (*p != '\0') {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && dn_type_ok(p, (size_t)(eq - p))) {
			if (n == max)
				return -1;
			sp[n].type = p;
			sp[n].tlen = (size_t)(eq - p);
			sp[n].value = eq + 1;
			sp[n].vlen = (size_t)(end - eq - 1);
			n++;
		} else if (n > 0) {
			sp[n - 1].vlen = (size_t)(end - sp[n - 1].value);
		} else {
			return -1;
		}
		p = *end == '/' ? end + 1 : end;
	}
	return n;
}

/* Splits RFC 2253 "CN=x,O=a\,b+OU=c" at unescaped ',', ';' and '+'. */
static int
dn_split_rfc2253(const char *s, struct dn_span *sp, int max)
{
	const char	*p = s, *eq;
	int		 n = 0;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (n == max)
			return -1;
		sp[n].type = p;
		for (eq = p; *eq != '\0' && *eq != '='; eq++)
			;
		if (*eq != '=' || !dn_type_ok(p, (size_t)(eq - p)))
			return -1;
		sp[n].tlen = (size_t)(eq - p);
		sp[n].value = p = eq + 1;
		for (; *p != '\0' && *p != ',' && *p != ';' && *p != '+'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		sp[n].vlen = (size_t)(p - sp[n].value);
		n++;
		if (*p != '\0')
			p++;
	}
	return n;
}

/* Reads a name in either form into d, most significant attribute first. */
static int
dn_canon(const char *s, struct dn_canon *d)
{
	struct dn_span	sp[DN_PARTS_MAX];
	int		n, i, rfc2253 = s[0] != '/';

	memset(d, 0, sizeof(*d));
	n = rfc2253 ? dn_split_rfc2253(s, sp, DN_PARTS_MAX) :
	    dn_split_oneline(s, sp, DN_PARTS_MAX);
	if (n <= 0)
		return -1;
	/* RFC 2253 writes the most significant attribute last. */
	for (i = 0; i < n; i++)
		if (dn_add(d, &sp[rfc2253 ? n - 1 - i : i], rfc2253) == -1)
			return -1;
	return 0;
}

int
entra_match_name_equal(const char *a, const char *b)
{
	struct dn_canon	ca, cb;
	int		i;

	if (a == NULL || b == NULL || dn_canon(a, &ca) == -1 ||
	    dn_canon(b, &cb) == -1 || ca.n != cb.n)
		return 0;
	for (i = 0; i < ca.n; i++)
		if (strcmp(ca.buf + ca.off[i], cb.buf + cb.off[i]) != 0)
			return 0;
	return 1;
}

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

/* Appends to the verdict's log detail. */
static void __attribute__((format(printf, 2, 3)))
verdict_note(struct entra_match_verdict *v, const char *fmt, ...)
{
	size_t	n = strlen(v->detail);
	va_list	ap;

	if (n + 2 >= sizeof(v->detail))
		return;
	if (n > 0) {
		v->detail[n++] = ';';
		v->detail[n++] = ' ';
		v->detail[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(v->detail + n, sizeof(v->detail) - n, fmt, ap);
	va_end(ap);
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

/* A certificate the store does not know (or whose issuer differs). */
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
	identity_from_san_text(cert->san != NULL ? cert->san : "", &ci);
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

enum entra_match_result
entra_match_decide(const struct entra_match_ctx *ctx,
    const struct entra_match_cert *cert, int64_t now, int64_t deadline_ms,
    struct entra_match_verdict *v)
{
	struct cert_row		row;
	struct err		e;
	enum entra_match_result	r;

	memset(v, 0, sizeof(*v));
	memset(&row, 0, sizeof(row));
	err_clear(&e);
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
	if (!entra_match_name_equal(row.issuer, cert->issuer)) {
		verdict_note(v, "serial in the store but issued by \"%.100s\", "
		    "not \"%.100s\"", row.issuer != NULL ? row.issuer : "",
		    cert->issuer != NULL ? cert->issuer : "");
		cert_row_clear(&row);
		return em_unknown(ctx, cert, deadline_ms, v);
	}
	r = em_known(ctx, &row, now, deadline_ms, v);
	cert_row_clear(&row);
	return r;
}
