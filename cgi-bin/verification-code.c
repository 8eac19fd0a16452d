/* verification-code.c: POST /api/verifications/verification-code (logto-spec 2.2) */
#include "config.h"

#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-code.h"
#include "rv-store.h"

static int
post_code(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	const char *value, *tpl = NULL, *action;
	struct rv_record rec;
	struct rv_store *st;
	char expires[32];
	bool email;

	/* body (only BindMfa or UserPermissionValidation), first-party (2.2.1) */
	if (rv_code_identifier(req->json, &email, &value, err) < 0 ||
	    rv_json_str(req->json, "templateType", false, 1, 64, &tpl, err) < 0 ||
	    rv_account_action_param(req->json, &action, err) < 0)
		return -1;
	if (tpl != NULL && strcmp(tpl, "BindMfa") != 0 &&
	    strcmp(tpl, "UserPermissionValidation") != 0)
		return rv_json_invalid(err, "templateType", "invalid_enum_value",
				       "Invalid enum value. Expected 'BindMfa' | 'UserPermissionValidation'");
	if (rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_code_send(st, req->conf, req->caller, email, value, tpl, action,
			 rv_req_lang(req), &rec, err) < 0)
		return -1;
	rv_iso8601_ms(rec.expires_at, expires);
	return rv_resp_json(resp, 201, json_pack("{s:s, s:s}",
		"verificationRecordId", rec.id, "expiresAt", expires));
}

static const struct rv_route routes[] = {
	{ "POST", "/api/verifications/verification-code", post_code, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-code",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE | RV_NEED_TEMPLATES,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
