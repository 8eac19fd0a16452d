/* pipeline.c: a test program on the real rv_main pipeline, with a JSON route
 *
 * The foundation has no endpoint that takes a body yet; this one lets the
 * CGI and e2e tiers drive every pipeline error (JSON, Content-Type, size,
 * methods) through the same code the endpoints use. Not installed.
 *   POST /api/test/echo  {"value": string 1-64}  -> 201 {"value": ...}
 *   GET  /api/test/echo                          -> 200 {"lang": ...}
 */
#include "config.h"
#include "rv.h"

static int
post_echo(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *v;

	if (rv_json_str(req->json, "value", true, 1, 64, &v, err) < 0)
		return -1;
	return rv_resp_json(resp, 201, json_pack("{s:s}", "value", v));
}

static int
get_echo(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	(void)err;
	return rv_resp_json(resp, 200, json_pack("{s:s}", "lang", rv_req_lang(req)));
}

static const struct rv_route routes[] = {
	{ "GET", "/api/test/echo", get_echo, 0, NULL },
	{ "POST", "/api/test/echo", post_echo, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "pipeline",
	.routes = routes,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
