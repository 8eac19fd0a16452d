/* verification-code-verify.c: POST /api/verifications/verification-code/verify
 * (logto-spec 2.3) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-code.h"
#include "rv-store.h"

static int
post_verify(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *value, *id, *code;
	struct rv_store *st;
	bool email;

	/* any string is a code to the guard; "" fails later (2.3) */
	if (rv_code_identifier(req->json, &email, &value, err) < 0 ||
	    rv_json_str(req->json, "verificationId", true, 0, 256, &id, err) < 0 ||
	    rv_json_str(req->json, "code", true, 0, 256, &code, err) < 0 ||
	    rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_code_verify(st, req->conf, req->caller, email, value, id, code, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, json_pack("{s:s}", "verificationRecordId", id));
}

static const struct rv_route routes[] = {
	{ "POST", "/api/verifications/verification-code/verify", post_verify, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-code-verify",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
