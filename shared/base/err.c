/*
 * err.c - the error table's lookups and the err_set helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "base/err.h"

static const struct {
	const char	*text;
	int		 fail_info;
	int		 http;
} table[] = {
#define ERR_ROW(name, text, fail, http) { text, fail, http },
	BUNDLE_ERRORS(ERR_ROW)
#undef ERR_ROW
};

static enum err_code
err_valid(enum err_code code)
{
	return (unsigned)code < ERR__COUNT ? code : ERR_INTERNAL;
}

const char *
err_text(enum err_code code)
{
	return table[err_valid(code)].text;
}

int
err_fail_info(enum err_code code)
{
	return table[err_valid(code)].fail_info;
}

int
err_http_status(enum err_code code)
{
	return table[err_valid(code)].http;
}

const char *
err_fail_info_name(int fail_info)
{
	switch (fail_info) {
	case SCEP_FAIL_BAD_ALG:			return "badAlg";
	case SCEP_FAIL_BAD_MESSAGE_CHECK:	return "badMessageCheck";
	case SCEP_FAIL_BAD_REQUEST:		return "badRequest";
	case SCEP_FAIL_BAD_TIME:		return "badTime";
	case SCEP_FAIL_BAD_CERT_ID:		return "badCertId";
	default:				return "none";
	}
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->kind = ERR_KIND_NONE;
	e->msg[0] = '\0';
}

static void
err_vset(struct err *e, enum err_code code, const char *fmt, va_list ap)
{
	e->code = code;
	e->kind = ERR_KIND_NONE;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_set_ossl(struct err *e, enum err_code code, const char *fmt, ...)
{
	char		 reason[160];
	unsigned long	 first;
	size_t		 len;
	va_list		 ap;

	/* Keep the first (root-cause) reason, drop the rest of the queue. */
	first = ERR_get_error();
	ERR_clear_error();
	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	if (first != 0) {
		ERR_error_string_n(first, reason, sizeof(reason));
		len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, " (%s)", reason);
	}
	return -1;
}
