/* status.c: GET /api/status, for load balancers and monitoring */
#include "config.h"
#include "rv.h"
#include "rv-store.h"

static struct rv_store *store;
static const struct rv_conf *config;

/* The store may be missing at start-up (not initialised yet, a disk being
 * mounted): status starts anyway and answers 503 until it opens. */
static int
setup(const struct rv_conf *conf, struct rv_err *err)
{
	config = conf;
	if (rv_store_open(conf, false, &store, err) < 0) {
		rv_log_warnx("%s", err->msg);
		rv_err_release(err);
	}
	return 0;
}

static void
teardown(void)
{
	rv_store_close(&store);
}

static int
get_status(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	(void)req;
	if (store == NULL && rv_store_open(config, false, &store, err) < 0) {
		if (err->status != 503)
			err->status = 503, err->code = RV_E_UNAVAILABLE;
		return -1;
	}
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/status", get_status, 0 },
	{ NULL, NULL, NULL, 0 },
};

static const struct rv_endpoint ep = {
	.name = "status",
	.routes = routes,
	.setup = setup,
	.teardown = teardown,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
