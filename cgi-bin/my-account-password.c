/* my-account-password.c: POST /api/my-account/password (logto-spec 6.5) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-change.h"

static int
post_password(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	if (rv_change_password(req, err) < 0)
		return -1;
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "POST", "/api/my-account/password", post_password, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "my-account-password",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE | RV_NEED_TEMPLATES | RV_NEED_PWPOLICY,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
