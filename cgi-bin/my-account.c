/* my-account.c: GET /api/my-account (logto-spec 6.4) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-change.h"
#include "rv-store.h"

struct get_ctx {
	const struct rv_caller *caller;
	struct rv_user user;
};

/* A read: the user is copied out, and the answer written after the
 * transaction, straight into the body (issue 17) */
static int
load(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct get_ctx *g = vctx;

	(void)st;
	rv_user_release(&g->user);	/* a retried transaction reads it again */
	return rv_account_user(txn, g->caller, false, &g->user, err) < 0 ? -1 : 0;
}

/* No step-up and no first-party check: third-party apps may read (8.1.7). */
static int
get_my_account(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct get_ctx g;
	struct rv_store *st;
	int rc = -1;

	g.caller = req->caller;
	rv_user_init(&g.user);
	if ((st = rv_main_store(err)) != NULL && rv_store_txn(st, load, &g, err) == 0) {
		rv_account_profile_write(&g.user, req->caller, req->conf,
					 rv_resp_json_body(resp, 200));
		rc = 0;
	}
	rv_user_release(&g.user);
	return rc;
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
