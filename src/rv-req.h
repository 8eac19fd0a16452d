/* rv-req.h: one request, from FastCGI or CGI: params, headers, query, body */
#ifndef RV_REQ_H
#define RV_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "rv-buf.h"

struct rv_arena;
struct rv_caller;
struct rv_conf;
struct rv_err;

#define RV_REQ_MAX_PARAMS 4

/* Reads up to n bytes of body; returns the count, 0 at the end, -1 on error. */
typedef ssize_t rv_req_read_fn(void *ctx, char *buf, size_t n);

/*
 * Everything here lives exactly as long as the request: strings point into
 * the server's environment (valid until FCGX_Finish_r) or into the arena.
 * rv_req_init() derives what the request is (id, method, query, language,
 * path) once, before any route is looked at; rv_main() adds the route's
 * parameters and the caller; handlers only read it.
 */
struct rv_req {
	struct rv_arena *arena;
	const struct rv_conf *conf;
	char **env;			/* NAME=value, NULL-terminated */
	const char *method;		/* "GET", "POST"...; "" if none */
	const char *path;		/* below the base path, no query */
	bool outside;			/* the URI is not below the base path
					   (path is then "") */
	const char *query;		/* raw query string, "" if none */
	const char *id;			/* request id, for logs and X-Request-Id */
	const char *lang;		/* language of messages: NULL until
					   rv_req_lang() */
	struct {
		const char *name;	/* from the route pattern (":id" -> "id") */
		const char *value;	/* arena */
	} params[RV_REQ_MAX_PARAMS];
	int nparams;
	const char *pattern;		/* of the route chosen, or NULL */
	struct rv_buf body;		/* raw body (wiped after the request) */
	json_t *json;			/* parsed body object, or NULL */
	struct rv_caller *caller;	/* set by an endpoint's gate (arena) */
	rv_req_read_fn *read;
	void *read_ctx;
};

/* Sets up req over env (body source read/read_ctx) and derives the
 * request: id (a sane X-Request-Id, else 16 random characters), method,
 * query and path (rv_req_route_path; outside set when it is not below the
 * base path). The language waits for rv_req_lang(). */
void rv_req_init(struct rv_req *req, struct rv_arena *arena,
		 const struct rv_conf *conf, char **env,
		 rv_req_read_fn *read, void *read_ctx);
/* The language of the request's messages and templates (?locale=,
 * Accept-Language, conf's fallback; logto-spec 1.2), negotiated on the
 * first call: most answers need none, and negotiation loads the message
 * catalogs of a CGI process (rv_setup_defer). */
const char *rv_req_lang(struct rv_req *req);
/* Frees the body and the parsed JSON; the arena is the caller's. */
void rv_req_release(struct rv_req *req);

/* A CGI/FastCGI parameter ("REQUEST_METHOD"), or NULL. */
const char *rv_req_param(const struct rv_req *req, const char *name);
/* A request header by its HTTP name ("Authorization", "logto-verification-id"),
 * or NULL; looked up as HTTP_AUTHORIZATION etc. */
const char *rv_req_header(const struct rv_req *req, const char *name);
/* The first value of a query parameter, percent-decoded into the arena, or
 * NULL when absent. A value that decodes to invalid UTF-8 or a NUL is
 * treated as absent. */
const char *rv_req_query(const struct rv_req *req, const char *name);
/* A path parameter of the matched route, or NULL. */
const char *rv_req_path_param(const struct rv_req *req, const char *name);

/*
 * Reads the body (at most conf->http_max_body bytes) and, for a route that
 * takes JSON, checks the Content-Type and parses it into req->json.
 * Errors: 413 request.payload_too_large, 415 request.unsupported_media_type,
 * 400 guard.invalid_input.
 */
int rv_req_read_body(struct rv_req *req, bool json, struct rv_err *err);

/* Works out the route path from REQUEST_URI, or SCRIPT_NAME + PATH_INFO,
 * minus the configured base path; NULL when it is not below it. */
const char *rv_req_route_path(struct rv_req *req);

#endif
