/* rv-resp.h: the response: status, headers, JSON body */
#ifndef RV_RESP_H
#define RV_RESP_H

#include <stdbool.h>
#include <jansson.h>

#include "rv-buf.h"

struct rv_req;

struct rv_resp {
	int status;		/* 0 until a handler sets one */
	struct rv_buf headers;	/* extra "Name: value\r\n" lines */
	struct rv_buf body;	/* JSON text, or empty */
	bool json;		/* body is JSON (sets Content-Type) */
};

void rv_resp_init(struct rv_resp *resp);
void rv_resp_release(struct rv_resp *resp);
/* Empties status, headers and body, keeping the storage. */
void rv_resp_reset(struct rv_resp *resp);

/* Adds a header; refuses (-1, nothing added) a name or value with CR, LF or
 * another control character. */
int rv_resp_header(struct rv_resp *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets the status and a JSON body from v (the reference is stolen).
 * Returns 0, so a handler can "return rv_resp_json(resp, 201, obj);". */
int rv_resp_json(struct rv_resp *resp, int status, json_t *v);
/* Sets the status and an empty JSON body, and returns the body for the
 * caller to write the JSON into (an answer written without jansson). */
struct rv_buf *rv_resp_json_body(struct rv_resp *resp, int status);
/* Sets a status with no body (204). Returns 0. */
int rv_resp_empty(struct rv_resp *resp, int status);

/*
 * Writes the CGI response ("Status:" line, headers, blank line, body) via
 * write(ctx, data, len), adding the headers every response has:
 * Content-Type and Content-Length for a body, Cache-Control: no-store,
 * X-Content-Type-Options, X-Request-Id. head omits the body.
 */
typedef int rv_resp_write_fn(void *ctx, const char *data, size_t len);
int rv_resp_send(const struct rv_resp *resp, const char *request_id,
		 bool head, rv_resp_write_fn *write, void *ctx);

#endif
