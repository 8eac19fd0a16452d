/* rv-err.h: the error struct and the table of API error codes */
#ifndef RV_ERR_H
#define RV_ERR_H

#include <stdbool.h>
#include <jansson.h>

#define RV_ERR_MAX_VARS 3

/*
 * Filled once at the failure site, read once by rv_main(), which turns it
 * into the JSON error body {"code", "message", "data"?, "details"?} and the
 * HTTP status. Handlers never print errors themselves.
 *
 * - code is a static string (a key of the catalogs, conf/locale/<lang>.xml);
 * - msg is for the log only, never sent to a client; never put a secret in it;
 * - vars fill the {{placeholders}} of the localised message;
 * - data (owned, may be NULL) is sent as "data"; details as "details";
 * - headers holds extra response header lines ("Name: value\r\n").
 */
struct rv_err {
	int status;
	const char *code;
	char msg[256];
	struct {
		const char *name;	/* static string */
		char value[96];
		bool minutes;		/* value is a count of minutes, shown as
					   a localised relative time */
	} vars[RV_ERR_MAX_VARS];
	int nvars;
	json_t *data;
	char details[512];
	char headers[1024];
};

/* Codes of our own (the Logto ones are written out at the call sites). */
#define RV_E_INTERNAL		"internal_error"
#define RV_E_INVALID_INPUT	"guard.invalid_input"
#define RV_E_NOT_FOUND		"request.not_found"
#define RV_E_METHOD		"request.method_not_allowed"
#define RV_E_MEDIA_TYPE		"request.unsupported_media_type"
#define RV_E_TOO_LARGE		"request.payload_too_large"
#define RV_E_UNAVAILABLE	"service.unavailable"
/* Names of a code's second status (rv-err.c has why) */
#define RV_E_SCOPE		"auth.unauthorized:scope"	/* 400 */
#define RV_E_NO_RECORD		"verification_record.not_found:revoke"	/* 404 */
#define RV_E_DELIVERY_LATER	"connector.general:later"	/* 503 */

void rv_err_init(struct rv_err *err);
/* Frees data and re-initialises. */
void rv_err_release(struct rv_err *err);

/*
 * Fills *err (when err is not NULL) and returns -1, so that callers can write
 * "return rv_err_set(err, "verification_record.not_found", "no record");".
 * name is a name of the table in rv-err.c, which gives the wire code and
 * the status (one status per name); a name not in it is a 500
 * internal_error. fmt is for the log.
 */
int rv_err_set(struct rv_err *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic calls, so it cannot know the -1 and
 * follows impossible "success" paths after "return rv_err_set(...)". */
#define rv_err_set(...) (rv_err_set(__VA_ARGS__), -1)
#endif
/* Adds a {{name}} value for the message; name must be a static string. */
void rv_err_var(struct rv_err *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a {{name}} that renders as "in N minutes" in the request language. */
void rv_err_var_minutes(struct rv_err *err, const char *name, long minutes);
/* Adds a response header to the error response; CR and LF are refused. */
void rv_err_header(struct rv_err *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets the "details" line (guard.invalid_input). */
void rv_err_details(struct rv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The table of every API error we answer with (logto-spec 1.4 plus our
 * own): the name call sites pass, the code on the wire, the status. */
struct rv_err_code {
	const char *name;	/* the code, or "code:why" for a second status */
	const char *code;
	int status;
};
/* Returns the table; *n_r gets its length. */
const struct rv_err_code *rv_err_codes(size_t *n_r);
/* The table's status for a name, or 0 when the name is unknown. */
int rv_err_status(const char *code);
/* The HTTP reason phrase ("Not Found"); "Unknown" when not known. */
const char *rv_http_reason(int status);

#endif
