/*
 * intune.h - the Intune third-party CA API (reference/microsoft-apis.md
 * §2): SCEP request validation, success and failure notifications, and
 * revocation requests.
 *
 * Service URIs come from Graph discovery (graph.h); a transport failure to
 * a discovered host drops the discovery cache so the next call discovers
 * again.  Every call: POST {uri}/<path> with an Intune bearer token,
 * Content-Type: application/json, a fresh client-request-id and the
 * api-version header.
 *
 * Thread-safety: an intune_client may be used from any number of threads
 * at once; its only mutable state is an atomic Retry-After gate.
 */
#ifndef BUNDLE_INTUNE_H
#define BUNDLE_INTUNE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "msft/conf.h"
#include "msft/graph.h"
#include "msft/token.h"

#define INTUNE_API_VERSION_SCEP		"2018-02-20"
#define INTUNE_API_VERSION_PKI		"5019-05-05"
#define INTUNE_CODE_MAX			128
#define INTUNE_DESC_MAX			1024
#define INTUNE_ERROR_DESC_MAX		255	/* failureNotification */

/* Intune's answer to validateRequest. */
struct intune_validation {
	int	success;			/* code is exactly "Success" */
	char	code[INTUNE_CODE_MAX];
	char	description[INTUNE_DESC_MAX];	/* errorDescription */
};

/* What successNotification reports about an issued certificate. */
struct intune_success {
	const char		*transaction_id;	/* SCEP transactionID */
	const unsigned char	*csr_der;		/* the PKCS#10 */
	size_t			 csr_len;
	const unsigned char	*cert_der;		/* the issued certificate */
	size_t			 cert_len;
	const char		*issuing_ca;	/* NULL: the certificate's issuer */
	const char		*ca_configuration;	/* NULL: "" */
	const char		*certificate_authority;	/* NULL: "" */
};

/* What failureNotification reports. */
struct intune_failure {
	const char		*transaction_id;
	const unsigned char	*csr_der;
	size_t			 csr_len;
	int32_t			 hresult;	/* e.g. (int32_t)0x80004005 */
	const char		*description;	/* clipped to 255 bytes */
};

/* One revocation request downloaded from Intune (strings owned). */
struct intune_revocation_request {
	char	*request_context;
	char	*serial_number;
	char	*issuer_name;		/* NULL when Intune sent none */
	char	*ca_configuration;	/* NULL when Intune sent none */
};

struct intune_revocation_list {
	struct intune_revocation_request	*items;
	size_t					 n;
};

/* One result to upload for a revocation request. */
struct intune_revocation_result {
	const char	*request_context;
	int		 succeeded;
	int		 error_code;	/* 0 none, 4000-4007 permanent, 4100-4103 retryable */
	const char	*error_message;	/* NULL: "" */
};

struct intune_client;

/*
 * Makes an Intune client.  conf (validated; it must have an intune_scope),
 * tokens and graph are borrowed and must outlive it.  Returns NULL with e
 * filled.
 */
struct intune_client	*intune_client_new(const struct entra_conf *conf,
			    struct entra_token_client *tokens,
			    struct graph_client *graph, struct err *e);

/* Frees the client.  Accepts NULL. */
void			 intune_client_free(struct intune_client *ic);

/*
 * Seconds Intune asked us to hold back (429/503 Retry-After), 0 when calls
 * may go.  Until then every call fails at once with ERR_THROTTLED; the
 * caller keeps its notifications queued and retries later.
 */
long			 intune_client_retry_after(const struct intune_client *ic);

/*
 * Asks Intune whether the CSR (DER) of SCEP transaction transaction_id
 * may be issued.  Returns 0 with out filled when Intune answered: only
 * out->success means go.  Returns -1 with e filled when no answer could
 * be had (HTTP error, transport, timeout, malformed answer): the caller
 * must not issue either.
 */
int			 intune_scep_validate(struct intune_client *ic,
			    const char *transaction_id,
			    const unsigned char *csr_der, size_t csr_len,
			    struct intune_validation *out, struct err *e);

/* Sends successNotification.  Returns 0, or -1 with e filled. */
int			 intune_scep_notify_success(struct intune_client *ic,
			    const struct intune_success *n, struct err *e);

/* Sends failureNotification.  Returns 0, or -1 with e filled. */
int			 intune_scep_notify_failure(struct intune_client *ic,
			    const struct intune_failure *n, struct err *e);

/*
 * Downloads up to max_requests pending revocation requests into out (the
 * caller frees it with intune_revocation_list_free()).  Returns 0, or -1.
 */
int			 intune_revocation_download(struct intune_client *ic,
			    int max_requests, struct intune_revocation_list *out,
			    struct err *e);

/* Uploads n results; Intune must answer {"value":true}.  0, or -1. */
int			 intune_revocation_upload(struct intune_client *ic,
			    const struct intune_revocation_result *results,
			    size_t n, struct err *e);

/* Frees the items of a list and empties it.  Accepts NULL. */
void			 intune_revocation_list_free(
			    struct intune_revocation_list *l);

/* ---- JSON encoding and decoding, no network (exposed for tests) ---- */

/* Each encoder appends one request body to out: 0, or -1 with e filled. */
int	intune_json_validate_request(const char *transaction_id,
	    const unsigned char *csr_der, size_t csr_len,
	    const char *caller_info, struct buf *out, struct err *e);
/* Computes thumbprint (SHA-1, upper-case hex), serial and expiry itself. */
int	intune_json_success_notification(const struct intune_success *n,
	    const char *caller_info, struct buf *out, struct err *e);
int	intune_json_failure_notification(const struct intune_failure *n,
	    const char *caller_info, struct buf *out, struct err *e);
int	intune_json_download_request(int max_requests, struct buf *out,
	    struct err *e);
int	intune_json_upload_results(const struct intune_revocation_result *r,
	    size_t n, struct buf *out, struct err *e);

/* Decoders: 0, or -1 with ERR_PARSE. */
int	intune_json_parse_validation(const char *json, size_t len,
	    struct intune_validation *out, struct err *e);
int	intune_json_parse_revocations(const char *json, size_t len,
	    struct intune_revocation_list *out, struct err *e);
int	intune_json_parse_upload(const char *json, size_t len, struct err *e);

/*
 * Appends s to out, at most max bytes, cut on a UTF-8 character boundary,
 * with each byte that is not valid UTF-8 replaced by '?'.  0, or -1.
 */
int	intune_text_clip(const char *s, size_t max, struct buf *out);

#endif
