/* verification-password.c: POST /api/verifications/password (logto-spec 2.1)
 * and its alias /api/verifications/password/verify (DESIGN.md deviation 6) */
#include "config.h"
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-store.h"
#include "rv-verify.h"

static int
post_password(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_record rec;
	struct rv_store *st;
	const char *password, *action;
	char expires[32];

	/* body, then first-party, then the rest (2.1); "action" is ours
	 * (deviation 4) */
	if (rv_json_str(req->json, "password", true, 1, 1024, &password, err) < 0 ||
	    rv_account_action_param(req->json, &action, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_verify_password(st, req->conf, req->caller, password,
			       strlen(password), action, &rec, err) < 0)
		return -1;
	rv_iso8601_ms(rec.expires_at, expires);
	return rv_resp_json(resp, 201, json_pack("{s:s, s:s}",
		"verificationRecordId", rec.id, "expiresAt", expires));
}

static const struct rv_route routes[] = {
	{ "POST", "/api/verifications/password", post_password, RV_ROUTE_JSON, NULL },
	{ "POST", "/api/verifications/password/verify", post_password, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-password",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
