/* status.c: GET /api/status, for load balancers and monitoring */
#include "config.h"
#include "rv.h"
#include "rv-store.h"

static int
get_status(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	/* the store may be missing (not initialised yet, a disk being
	 * mounted, a database server down): 503 until it answers */
	struct rv_store *st = rv_main_store(err);

	(void)req;
	if (st == NULL || rv_store_ping(st, err) < 0)
		return -1;
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/status", get_status, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "status",
	.routes = routes,
	.needs = RV_NEED_PROBE,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
