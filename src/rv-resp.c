/* rv-resp.c: the response: status, headers, JSON body */
#include "config.h"
#include "rv-resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rv-err.h"
#include "rv-json.h"

void
rv_resp_init(struct rv_resp *resp)
{
	resp->status = 0;
	resp->json = false;
	rv_buf_init(&resp->headers);
	rv_buf_init(&resp->body);
}

void
rv_resp_release(struct rv_resp *resp)
{
	rv_buf_release(&resp->headers);
	rv_buf_release_secret(&resp->body);
	rv_resp_init(resp);
}

void
rv_resp_reset(struct rv_resp *resp)
{
	resp->status = 0;
	resp->json = false;
	rv_buf_reset(&resp->headers);
	rv_buf_reset(&resp->body);
}

static bool
clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* "name: value" and CRLF: the headers of every answer, without printf */
static void
add_header(struct rv_buf *b, const char *name, const char *value)
{
	rv_buf_addstr(b, name);
	rv_buf_add(b, ": ", 2);
	rv_buf_addstr(b, value);
	rv_buf_add(b, "\r\n", 2);
}

int
rv_resp_header(struct rv_resp *resp, const char *name, const char *fmt, ...)
{
	char value[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value) || !clean(name) || !clean(value) ||
	    strchr(name, ':') != NULL)
		return -1;
	add_header(&resp->headers, name, value);
	return 0;
}

int
rv_resp_json(struct rv_resp *resp, int status, json_t *v)
{
	resp->status = status;
	resp->json = true;
	rv_buf_reset(&resp->body);
	rv_json_dump(v, &resp->body);
	json_decref(v);
	return 0;
}

struct rv_buf *
rv_resp_json_body(struct rv_resp *resp, int status)
{
	resp->status = status;
	resp->json = true;
	rv_buf_reset(&resp->body);
	return &resp->body;
}

int
rv_resp_empty(struct rv_resp *resp, int status)
{
	resp->status = status;
	resp->json = false;
	rv_buf_reset(&resp->body);
	return 0;
}

int
rv_resp_send(const struct rv_resp *resp, const char *request_id, bool head,
	     rv_resp_write_fn *write, void *ctx)
{
	struct rv_buf h = RV_BUF_INIT;
	int status = resp->status ? resp->status : 500;
	int rc;

	rv_buf_grow(&h, 256 + resp->headers.len +
		    (head || status == 204 || status == 304 ? 0 : resp->body.len));
	rv_buf_add(&h, "Status: ", 8);
	rv_buf_addll(&h, status);
	rv_buf_addch(&h, ' ');
	rv_buf_addstr(&h, rv_http_reason(status));
	rv_buf_add(&h, "\r\n", 2);
	if (resp->json)
		rv_buf_addstr(&h, "Content-Type: application/json; charset=utf-8\r\n");
	if (status != 204 && status != 304) {
		rv_buf_addstr(&h, "Content-Length: ");
		rv_buf_addll(&h, (long long)resp->body.len);
		rv_buf_add(&h, "\r\n", 2);
	}
	rv_buf_addstr(&h, "Cache-Control: no-store\r\n"
		      "X-Content-Type-Options: nosniff\r\n");
	if (request_id != NULL)
		add_header(&h, "X-Request-Id", request_id);
	rv_buf_add(&h, resp->headers.buf, resp->headers.len);
	rv_buf_addstr(&h, "\r\n");
	if (!head && status != 204 && status != 304)
		rv_buf_add(&h, resp->body.buf, resp->body.len);
	rc = write(ctx, h.buf, h.len);
	rv_buf_release(&h);
	return rc;
}
