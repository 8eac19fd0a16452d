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
	rv_buf_addf(&resp->headers, "%s: %s\r\n", name, value);
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

	rv_buf_addf(&h, "Status: %d %s\r\n", status, rv_http_reason(status));
	if (resp->json)
		rv_buf_addstr(&h, "Content-Type: application/json; charset=utf-8\r\n");
	if (status != 204 && status != 304)
		rv_buf_addf(&h, "Content-Length: %zu\r\n", resp->body.len);
	rv_buf_addstr(&h, "Cache-Control: no-store\r\n"
		      "X-Content-Type-Options: nosniff\r\n");
	if (request_id != NULL)
		rv_buf_addf(&h, "X-Request-Id: %s\r\n", request_id);
	rv_buf_add(&h, resp->headers.buf, resp->headers.len);
	rv_buf_addstr(&h, "\r\n");
	if (!head && status != 204 && status != 304)
		rv_buf_add(&h, resp->body.buf, resp->body.len);
	rc = write(ctx, h.buf, h.len);
	rv_buf_release(&h);
	return rc;
}
