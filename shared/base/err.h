/*
 * err.h - error codes with their text, SCEP failInfo and HTTP status.
 *
 * One X-macro table maps every error to what each protocol answers, so a
 * failure deep in a parser becomes the right CertRep failInfo or HTTP 4xx
 * without a translation table at every call site.
 */
#ifndef BUNDLE_ERR_H
#define BUNDLE_ERR_H

/* SCEP failInfo values, RFC 8894 §3.2.1.4.5. */
#define SCEP_FAIL_NONE			(-1)
#define SCEP_FAIL_BAD_ALG		0
#define SCEP_FAIL_BAD_MESSAGE_CHECK	1
#define SCEP_FAIL_BAD_REQUEST		2
#define SCEP_FAIL_BAD_TIME		3
#define SCEP_FAIL_BAD_CERT_ID		4

/*	name			text					failInfo			HTTP */
#define BUNDLE_ERRORS(X) \
	X(ERR_OK,		"no error",				SCEP_FAIL_NONE,			200) \
	X(ERR_NOMEM,		"out of memory",			SCEP_FAIL_NONE,			500) \
	X(ERR_INTERNAL,		"internal error",			SCEP_FAIL_NONE,			500) \
	X(ERR_IO,		"input/output error",			SCEP_FAIL_NONE,			500) \
	X(ERR_CONFIG,		"configuration error",			SCEP_FAIL_NONE,			500) \
	X(ERR_USAGE,		"bad usage",				SCEP_FAIL_NONE,			400) \
	X(ERR_PARSE,		"malformed input",			SCEP_FAIL_BAD_REQUEST,		400) \
	X(ERR_BAD_ALG,		"unsupported or forbidden algorithm",	SCEP_FAIL_BAD_ALG,		400) \
	X(ERR_BAD_SIGNATURE,	"integrity check failed",		SCEP_FAIL_BAD_MESSAGE_CHECK,	400) \
	X(ERR_BAD_RECIPIENT,	"message not encrypted to this CA",	SCEP_FAIL_BAD_MESSAGE_CHECK,	400) \
	X(ERR_BAD_REQUEST,	"request refused",			SCEP_FAIL_BAD_REQUEST,		400) \
	X(ERR_BAD_CHALLENGE,	"challenge password refused",		SCEP_FAIL_BAD_REQUEST,		403) \
	X(ERR_POLICY,		"refused by issuance policy",		SCEP_FAIL_BAD_REQUEST,		403) \
	X(ERR_BAD_TIME,		"time check failed",			SCEP_FAIL_BAD_TIME,		400) \
	X(ERR_BAD_CERT_ID,	"certificate not found",		SCEP_FAIL_BAD_CERT_ID,		404) \
	X(ERR_NOT_FOUND,	"not found",				SCEP_FAIL_BAD_CERT_ID,		404) \
	X(ERR_EXISTS,		"already exists",			SCEP_FAIL_BAD_REQUEST,		409) \
	X(ERR_TOO_LARGE,	"request too large",			SCEP_FAIL_BAD_REQUEST,		413) \
	X(ERR_UNSUPPORTED,	"operation not supported",		SCEP_FAIL_BAD_REQUEST,		400) \
	X(ERR_STORE,		"certificate store error",		SCEP_FAIL_NONE,			500) \
	X(ERR_AUTH,		"authentication refused",		SCEP_FAIL_NONE,			401) \
	X(ERR_REMOTE,		"remote service error",			SCEP_FAIL_BAD_REQUEST,		502) \
	X(ERR_TIMEOUT,		"remote service timed out",		SCEP_FAIL_BAD_REQUEST,		504) \
	X(ERR_THROTTLED,	"remote service throttled the call",	SCEP_FAIL_BAD_REQUEST,		503)

enum err_code {
#define ERR_ENUM(name, text, fail, http) name,
	BUNDLE_ERRORS(ERR_ENUM)
#undef ERR_ENUM
	ERR__COUNT
};

/*
 * What kind of failure a code covers, where callers must tell them apart
 * (a taken serial is retried with another, a transaction answered twice is
 * not): set by the layer that knows (the store), never found by reading
 * msg.  A store on another engine reports the same kinds.
 */
enum err_kind {
	ERR_KIND_NONE = 0,
	ERR_KIND_PRIMARY_KEY,	/* ERR_EXISTS: the row's key is taken */
	ERR_KIND_UNIQUE,	/* ERR_EXISTS: another constraint refused it */
};

/* An error: a code plus one line of detail.  Embed it; no allocation. */
struct err {
	enum err_code	code;
	enum err_kind	kind;		/* ERR_KIND_NONE unless set */
	char		msg[320];
};

/*
 * Records code and a formatted detail line in e (which may be NULL).
 * Returns -1 so that callers can write `return err_set(...)`.
 */
int		 err_set(struct err *e, enum err_code code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * As err_set(), and appends the first OpenSSL reason from the calling
 * thread's error queue, which it drains.  Returns -1.
 */
int		 err_set_ossl(struct err *e, enum err_code code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Clears e to ERR_OK. */
void		 err_clear(struct err *e);

const char	*err_text(enum err_code code);
int		 err_fail_info(enum err_code code);
int		 err_http_status(enum err_code code);

/* Name of a SCEP failInfo ("badRequest"...) for logs. */
const char	*err_fail_info_name(int fail_info);

#endif
