/* my-account.c: GET /api/my-account (logto-spec 6.4) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-change.h"
#include "rv-store.h"

struct get_ctx {
	struct rv_req *req;
	const struct rv_caller *caller;
	json_t *profile;
};

static int
load(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct get_ctx *g = vctx;
	struct rv_user u;

	rv_user_init(&u);
	if (rv_account_user(txn, g->caller, false, &u, err) < 0)
		return -1;
	g->profile = rv_account_profile(&u, g->caller, g->req->conf);
	rv_user_release(&u);
	return 0;
}

/* No step-up and no first-party check: third-party apps may read (8.1.7). */
static int
get_my_account(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct get_ctx g = { req, req->caller, NULL };
	struct rv_store *st;

	if ((st = rv_main_store(err)) == NULL ||
	    rv_store_txn(st, load, &g, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, g.profile);
}

/* PATCH name, avatar, username (logto-spec 6.7, 8.1.5) */
static int
patch_my_account(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *profile;

	if (rv_change_profile(req, &profile, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, profile);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/my-account", get_my_account, 0, NULL },
	{ "PATCH", "/api/my-account", patch_my_account, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "my-account",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE | RV_NEED_TEMPLATES,	/* the UsernameChanged notice */
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
