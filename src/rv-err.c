/* rv-err.c: the error struct and the table of API error codes */
#include "config.h"
#include "rv-err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rv-util.h"

#undef rv_err_set	/* the analyzer's macro (rv-err.h): here is the function */

/*
 * Every error we may answer with: the name a call site passes, the code on
 * the wire and its status, one status per name. Logto's codes and statuses
 * come from logto-spec 1.4 (and 2, 5, 6 for where each is raised). Where
 * one wire code goes out with two statuses, each status has a name of its
 * own, "code:why" (auth.unauthorized is 400 or 401 depending on the route,
 * 6.2). Every code here has a message in each catalog under conf/locale
 * (t/unit/i18n checks it).
 */
#define E(code, status)		{ code, code, status }
#define V(name, code, status)	{ name, code, status }

static const struct rv_err_code codes[] = {
	/* request pipeline: ours, except guard.invalid_input (1.3) */
	E("guard.invalid_input", 400),
	E("request.not_found", 404),
	E("request.method_not_allowed", 405),
	E("request.unsupported_media_type", 415),
	E("request.payload_too_large", 413),
	E("internal_error", 500),
	E("service.unavailable", 503),
	/* authentication (7) */
	E("auth.authorization_header_missing", 401),
	E("auth.authorization_token_type_not_supported", 401),
	E("auth.unauthorized", 401),
	/* the route's own scope is missing (6.2: EP-1, EP-11, EP-17, EP-22) */
	V(RV_E_SCOPE, "auth.unauthorized", 400),
	E("auth.forbidden", 403),
	E("auth.third_party_application_forbidden", 403),
	E("entity.not_found", 404),
	/* account center (1.2, 6.2) */
	E("account_center.not_enabled", 400),
	E("account_center.field_not_editable", 400),
	E("account_center.field_not_enabled", 400),
	/* records (3, 6.1) */
	E("verification_record.not_found", 400),
	/* DELETE /api/verifications/:id, ours: a resource that is not there */
	V(RV_E_NO_RECORD, "verification_record.not_found", 404),
	E("verification_record.permission_denied", 401),
	/* ours: a valid proof of a kind <step-up-policy> refuses for the change */
	E("verification_record.proof_not_accepted", 401),
	/* codes (2.3, 4.4) */
	E("verification_code.not_found", 400),
	E("verification_code.code_mismatch", 400),
	E("verification_code.expired", 400),
	E("verification_code.exceed_max_try", 400),
	E("verification_code.email_mismatch", 400),
	E("verification_code.phone_mismatch", 400),
	/* passwords and lockout (2.1, 5.1, 6.5) */
	E("session.invalid_credentials", 422),
	E("session.verification_blocked_too_many_attempts", 400),
	E("user.suspended", 401),
	E("password.rejected", 422),
	E("user.same_password", 422),
	/* sending (4.8, 5.2); connector.general is 502/503 here (DESIGN.md) */
	E("request.message_rate_limited", 429),
	E("connector.not_found", 501),
	E("connector.general", 502),
	/* a failure that may pass (EX_TEMPFAIL, a timeout): with Retry-After */
	V(RV_E_DELIVERY_LATER, "connector.general", 503),
	E("connector.template_not_found", 400),
	E("connector.invalid_config", 400),
	E("connector.rate_limit_exceeded", 429),
	E("connector.usage_limit_exceeded", 429),
	/* ours: a number outside <delivery sms-prefixes>, refused like an
	 * address outside the e-mail policy (422, 5.3) */
	E("reverify.phone_not_allowed", 422),
	/* e-mail policy (5.3) */
	E("session.email_blocklist.invalid_email", 400),
	E("session.email_blocklist.email_subaddressing_not_allowed", 422),
	E("session.email_blocklist.email_not_allowed", 422),
	E("session.email_blocklist.disposable_email_validation_failed", 500),
	/* account changes (6.5-6.7) */
	E("user.email_already_in_use", 422),
	E("user.phone_already_in_use", 422),
	E("user.username_already_in_use", 422),
	/* reverify-admin user add --id, import */
	E("user.id_already_in_use", 422),
	E("user.last_sign_in_method_required", 400),
	/* second factors (6.7, 8.1.9; issue 20) */
	E("user.totp_secret_invalid", 400),
	E("session.mfa.invalid_totp_code", 400),
	E("user.totp_already_in_use", 422),
	E("session.mfa.invalid_backup_code", 400),
	E("session.mfa.backup_code_can_not_be_alone", 422),
	E("user.backup_code_already_in_use", 422),
	E("session.mfa.webauthn_verification_failed", 400),
	E("session.mfa.mfa_factor_not_enabled", 400),
	/* ours: a step-up by a factor the user has not enrolled */
	E("verification_record.factor_not_enrolled", 400),
};

const struct rv_err_code *
rv_err_codes(size_t *n_r)
{
	*n_r = sizeof(codes) / sizeof(codes[0]);
	return codes;
}

int
rv_err_status(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, code) == 0)
			return codes[i].status;
	return 0;
}

static const struct rv_err_code *
lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, name) == 0)
			return &codes[i];
	return NULL;
}

void
rv_err_init(struct rv_err *err)
{
	memset(err, 0, sizeof(*err));
}

void
rv_err_release(struct rv_err *err)
{
	if (err->data != NULL)
		json_decref(err->data);
	rv_err_init(err);
}

int
rv_err_set(struct rv_err *err, const char *name, const char *fmt, ...)
{
	const struct rv_err_code *c;
	va_list ap;

	if (err == NULL)
		return -1;
	/* a name missing from the table is our bug: t/unit/err walks every
	 * call site's name; at run time it is a 500, never a wrong 4xx */
	c = lookup(name);
	err->status = c != NULL ? c->status : 500;
	err->code = c != NULL ? c->code : RV_E_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
add_var(struct rv_err *err, const char *name)
{
	int i;

	for (i = 0; i < err->nvars; i++)
		if (strcmp(err->vars[i].name, name) == 0)
			return i;
	RV_ASSERT(err->nvars < RV_ERR_MAX_VARS);
	err->vars[err->nvars].name = name;
	return err->nvars++;
}

void
rv_err_var(struct rv_err *err, const char *name, const char *fmt, ...)
{
	va_list ap;
	int i;

	if (err == NULL)
		return;
	i = add_var(err, name);
	va_start(ap, fmt);
	vsnprintf(err->vars[i].value, sizeof(err->vars[i].value), fmt, ap);
	va_end(ap);
	err->vars[i].minutes = false;
}

void
rv_err_var_minutes(struct rv_err *err, const char *name, long minutes)
{
	int i;

	if (err == NULL)
		return;
	i = add_var(err, name);
	snprintf(err->vars[i].value, sizeof(err->vars[i].value), "%ld",
		 minutes);
	err->vars[i].minutes = true;
}

void
rv_err_header(struct rv_err *err, const char *name, const char *fmt, ...)
{
	char value[640];
	size_t len;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	RV_ASSERT(strpbrk(value, "\r\n") == NULL);
	len = strlen(err->headers);
	snprintf(err->headers + len, sizeof(err->headers) - len, "%s: %s\r\n",
		 name, value);
}

void
rv_err_details(struct rv_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
}

const char *
rv_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
