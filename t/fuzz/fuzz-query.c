/* fuzz-query.c: the request front end: query string, headers, route, body
 *
 * The input is a CGI request: the first line is the query string, the
 * second REQUEST_URI, the third REQUEST_METHOD, then header lines
 * "Name: value" (each becomes HTTP_NAME=value, or CONTENT_TYPE /
 * CONTENT_LENGTH), then an empty line and the body. It is served by
 * rv_main_serve() on a route table shaped like the endpoints' (a JSON POST,
 * a GET that reads the query, a path parameter), with CORS on, so the
 * query decoder, header lookup, Origin and preflight checks, request id,
 * route matching, method check, body reading, media type, JSON and the
 * error rendering all run as they do for a real request.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"

#define MAX_ENV 64

static struct rv_conf conf;

struct body {
	const uint8_t *p;
	size_t len;
};

static ssize_t
body_read(void *ctx, char *buf, size_t n)
{
	struct body *b = ctx;

	if (n > b->len)
		n = b->len;
	/* short reads, as from a pipe */
	if (n > 1000)
		n = 1000;
	memcpy(buf, b->p, n);
	b->p += n;
	b->len -= n;
	return (ssize_t)n;
}

static int
get_query(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *v = rv_req_query(req, "locale");
	const char *w = rv_req_query(req, "value");
	const char *h = rv_req_header(req, "logto-verification-id");

	(void)err;
	return rv_resp_json(resp, 200, json_pack("{s:s?, s:s?, s:s?, s:s}",
						 "locale", v, "value", w,
						 "header", h, "lang", rv_req_lang(req)));
}

static int
post_json(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *v;

	if (rv_json_str(req->json, "value", true, 1, 64, &v, err) < 0)
		return -1;
	return rv_resp_json(resp, 201, json_pack("{s:s}", "value", v));
}

static int
delete_id(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *id = rv_req_path_param(req, "id");

	if (id == NULL || strcmp(id, "missing") == 0)
		return rv_err_set(err, "verification_record.not_found",
				  "no record");
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/fuzz", get_query, 0, NULL },
	{ "POST", "/api/fuzz", post_json, RV_ROUTE_JSON, NULL },
	{ "DELETE", "/api/fuzz/:id", delete_id, 0, NULL },
	{ "PATCH", "/api/fuzz/:id/x", post_json, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "fuzz-query",
	.routes = routes,
};

static int
write_nothing(void *ctx, const char *data, size_t len)
{
	size_t *total = ctx;

	(void)data;
	*total += len;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rv_err err;

	(void)argc;
	(void)argv;
	fuzz_init();
	rv_err_init(&err);
	if (rv_i18n_init(NULL, &err) < 0)
		abort();
	rv_conf_defaults(&conf);
	conf.http_max_body = 4096;
	conf.http_cors = true;
	fuzz_set_str(&conf.http_base_path, "/");
	return 0;
}

/* The next line of [*p, end) as a new string; NULL at the end. */
static char *
next_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl;
	char *s;

	if (*p >= end)
		return NULL;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	s = fuzz_strndup(*p, (size_t)((nl ? nl : end) - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

/* "Name: value" -> "HTTP_NAME=value" (or CONTENT_TYPE=...), in the arena */
static char *
env_line(struct rv_arena *a, const char *line)
{
	const char *colon = strchr(line, ':'), *v;
	char *e, *o;
	size_t n;

	if (colon == NULL || colon == line)
		return NULL;
	n = (size_t)(colon - line);
	v = colon + 1;
	while (*v == ' ')
		v++;
	e = rv_arena_alloc(a, n + strlen(v) + 7);
	o = e;
	if (!((n == 12 && rv_str_iprefix(line, "content-type")) ||
	      (n == 14 && rv_str_iprefix(line, "content-length")))) {
		memcpy(o, "HTTP_", 5);
		o += 5;
	}
	for (size_t i = 0; i < n; i++) {
		char c = line[i];

		*o++ = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	*o++ = '=';
	strcpy(o, v);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct rv_arena a = RV_ARENA_INIT, *arena = &a;
	char *env[MAX_ENV + 1], *line;
	struct body body;
	struct rv_req req;
	struct rv_resp resp;
	size_t n = 0, total = 0;
	bool head = false;
	int i;

	static const char *const names[] = { "QUERY_STRING=", "REQUEST_URI=",
					     "REQUEST_METHOD=" };
	for (i = 0; i < 3; i++) {
		if ((line = next_line(&p, end)) == NULL)
			break;
		env[n++] = rv_arena_printf(arena, "%s%s", names[i], line);
		free(line);
	}
	while (n < MAX_ENV && (line = next_line(&p, end)) != NULL) {
		if (*line == '\0') {
			free(line);
			break;
		}
		if ((env[n] = env_line(arena, line)) != NULL)
			n++;
		free(line);
	}
	env[n] = NULL;
	body.p = p;
	body.len = (size_t)(end - p);

	rv_req_init(&req, arena, &conf, env, body_read, &body);
	req.query = rv_req_param(&req, "QUERY_STRING");
	if (req.query == NULL)
		req.query = "";
	rv_resp_init(&resp);
	rv_main_serve(&ep, &req, &resp, &head);
	rv_resp_send(&resp, req.id ? req.id : "fuzz", head, write_nothing, &total);
	rv_resp_release(&resp);
	rv_req_release(&req);
	rv_log_set_request_id(NULL);
	rv_arena_release(arena);
	return 0;
}
