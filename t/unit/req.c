/* unit/req: rv-req.c and rv_main_serve(), the pipeline without a server */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-xml.h"
#include "tap.h"

struct src {
	const char *data;
	size_t len, pos;
};

static ssize_t
src_read(void *ctx, char *buf, size_t n)
{
	struct src *s = ctx;
	size_t left = s->len - s->pos;

	if (n > left)
		n = left;
	if (n > 3)
		n = 3;		/* short reads on purpose */
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int
h_echo(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *v;

	if (rv_json_str(req->json, "v", true, 1, 100, &v, err) < 0)
		return -1;
	return rv_resp_json(resp, 201, json_pack("{s:s, s:s}", "v", v, "id",
		rv_req_path_param(req, "id") ? rv_req_path_param(req, "id") : ""));
}

static int
h_get(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return rv_resp_empty(resp, 204);
}

static int
h_fail(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return rv_err_set(err, RV_E_INTERNAL, "secret detail");
}

static const struct rv_route routes[] = {
	{ "GET", "/api/thing", h_get, 0, NULL },
	{ "POST", "/api/thing", h_echo, RV_ROUTE_JSON, NULL },
	{ "DELETE", "/api/thing/:id", h_get, 0, NULL },
	{ "POST", "/api/thing/:id/echo", h_echo, RV_ROUTE_JSON, NULL },
	{ "GET", "/api/fail", h_fail, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
static const struct rv_endpoint ep = { .name = "test", .routes = routes };

static struct rv_conf conf;
static struct rv_arena arena = RV_ARENA_INIT;
static struct rv_resp resp;
static bool head;

/* env: NULL-terminated list of "NAME=value" */
static void
serve(const char **env, const char *body)
{
	struct src s = { body ? body : "", body ? strlen(body) : 0, 0 };
	struct rv_req req;

	rv_resp_release(&resp);
	rv_req_init(&req, &arena, &conf, (char **)(uintptr_t)env, src_read, &s);
	rv_main_serve(&ep, &req, &resp, &head);
	rv_req_release(&req);
	rv_arena_reset(&arena);
}

static bool
has(const char *needle)
{
	return strstr(resp.body.buf, needle) != NULL ||
	       strstr(resp.headers.buf, needle) != NULL;
}

int
main(void)
{
	struct rv_err err;

	rv_xml_init();
	rv_err_init(&err);
	rv_conf_defaults(&conf);
	rv_i18n_init(NULL, &err);
	rv_resp_init(&resp);

	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/thing", NULL }, NULL);
	is_int(resp.status, 204, "GET on a route");
	ok(has("Access-Control-Allow-Origin: *"), "CORS * without an Origin (logto-spec 8.1.5 AI-1)");

	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/thing/?x=1", NULL }, NULL);
	is_int(resp.status, 204, "one trailing slash and a query are fine");

	serve((const char *[]){ "REQUEST_METHOD=HEAD", "SCRIPT_NAME=/api/thing", NULL }, NULL);
	ok(resp.status == 204 && head, "HEAD is served by the GET route, without a body");

	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/nothing", NULL }, NULL);
	ok(resp.status == 404 && has("\"code\":\"request.not_found\""), "unknown path: 404 JSON");

	serve((const char *[]){ "REQUEST_METHOD=PUT", "REQUEST_URI=/api/thing", NULL }, NULL);
	ok(resp.status == 405 && has("\"code\":\"request.method_not_allowed\""),
	   "wrong method: 405 JSON");
	ok(has("Allow: GET, HEAD, POST, OPTIONS\r\n"), "405 lists the allowed methods");

	serve((const char *[]){ "REQUEST_METHOD=OPTIONS", "REQUEST_URI=/api/thing",
			  "HTTP_ORIGIN=https://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST",
			  "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=authorization, content-type", NULL }, NULL);
	ok(resp.status == 204 && has("Access-Control-Allow-Origin: https://app.example") &&
	   has("Access-Control-Allow-Headers: authorization, content-type"),
	   "a CORS preflight is answered");

	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json", "CONTENT_LENGTH=10", NULL }, "{\"v\":\"ok\"}");
	ok(resp.status == 201 && has("{\"v\":\"ok\",\"id\":\"\"}"), "a JSON body reaches the handler");

	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing/abc-1/echo",
			  "CONTENT_TYPE=application/json; charset=UTF-8", "CONTENT_LENGTH=9", NULL },
	      "{\"v\":\"x\"}");
	ok(resp.status == 201 && has("\"id\":\"abc-1\""), "path parameters are captured");

	serve((const char *[]){ "REQUEST_METHOD=DELETE", "REQUEST_URI=/api/thing/a.b", NULL }, NULL);
	is_int(resp.status, 404, "a parameter outside [A-Za-z0-9_-] does not match");
	serve((const char *[]){ "REQUEST_METHOD=DELETE", "REQUEST_URI=/api/thing/..%2f", NULL }, NULL);
	is_int(resp.status, 404, "path traversal in a parameter does not match");

	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=9", NULL }, "{\"v\":\"x\"}");
	ok(resp.status == 415 && has("request.unsupported_media_type"), "wrong Content-Type: 415");
	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json; charset=latin1", "CONTENT_LENGTH=9", NULL },
	      "{\"v\":\"x\"}");
	is_int(resp.status, 415, "a charset other than UTF-8: 415");
	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/merge-patch+json", "CONTENT_LENGTH=9", NULL },
	      "{\"v\":\"x\"}");
	is_int(resp.status, 201, "application/...+json is JSON");

	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing", NULL }, NULL);
	ok(resp.status == 400 && has("guard.invalid_input") && has("\"details\":"),
	   "no body: the missing field is reported as guard.invalid_input");

	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json", "CONTENT_LENGTH=99999999", NULL }, "{}");
	ok(resp.status == 413 && has("request.payload_too_large") && has("65536 bytes"),
	   "a body over the limit: 413 without reading it");
	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json", "CONTENT_LENGTH=20", NULL }, "{}");
	ok(resp.status == 400 && has("guard.invalid_input"), "a body shorter than its length: 400");
	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json", "CONTENT_LENGTH=abc", NULL }, "{}");
	is_int(resp.status, 400, "a bad CONTENT_LENGTH: 400");
	serve((const char *[]){ "REQUEST_METHOD=POST", "REQUEST_URI=/api/thing",
			  "CONTENT_TYPE=application/json", "CONTENT_LENGTH=5", NULL }, "{\"v\":");
	ok(resp.status == 400 && has("\"details\":\"Invalid JSON"), "malformed JSON: 400 with details");

	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/fail",
			  "HTTP_ACCEPT_LANGUAGE=de", NULL }, NULL);
	ok(resp.status == 500 && has("\"code\":\"internal_error\"") && !has("secret detail"),
	   "a 500 keeps its detail out of the response");

	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/nothing",
			  "HTTP_ACCEPT_LANGUAGE=ja", NULL }, NULL);
	ok(resp.status == 404 && has("\"code\":\"request.not_found\"") && !has("There is no such"),
	   "Accept-Language changes the message, not the code");
	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/nothing?locale=fr", "QUERY_STRING=locale=fr",
			  "HTTP_ACCEPT_LANGUAGE=ja", NULL }, NULL);
	{
		const char *fr = rv_i18n_message("fr", "request.not_found");

		ok(fr != NULL && has(fr), "?locale= wins over Accept-Language");
	}

	free(conf.http_base_path);
	conf.http_base_path = strdup("/auth");
	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/auth/api/thing", NULL }, NULL);
	is_int(resp.status, 204, "a base path is stripped");
	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/api/thing", NULL }, NULL);
	is_int(resp.status, 404, "a path outside the base path is not found");
	serve((const char *[]){ "REQUEST_METHOD=GET", "REQUEST_URI=/authx/api/thing", NULL }, NULL);
	is_int(resp.status, 404, "the base path must end at a slash");

	rv_resp_release(&resp);
	rv_arena_release(&arena);
	rv_conf_release(&conf);
	rv_i18n_release();
	return done_testing();
}
