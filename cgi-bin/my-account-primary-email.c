/* my-account-primary-email.c: POST and DELETE /api/my-account/primary-email
 * (logto-spec 6.6) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-change.h"

static int
post_primary(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	if (rv_change_primary(req, true, err) < 0)
		return -1;
	return rv_resp_empty(resp, 204);
}

static int
delete_primary(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	if (rv_change_remove_primary(req, true, err) < 0)
		return -1;
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "POST", "/api/my-account/primary-email", post_primary, RV_ROUTE_JSON, NULL },
	{ "DELETE", "/api/my-account/primary-email", delete_primary, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "my-account-primary-email",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE | RV_NEED_TEMPLATES,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
