/* status.c: GET /api/status, for load balancers and monitoring */
#include "config.h"
#include "rv.h"

/* 204 while the program can serve; the store check joins it with the store. */
static int
get_status(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	(void)req;
	(void)err;
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/status", get_status, 0 },
	{ NULL, NULL, NULL, 0 },
};

static const struct rv_endpoint ep = {
	.name = "status",
	.routes = routes,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
