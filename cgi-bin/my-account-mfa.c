/* my-account-mfa.c: /api/my-account/mfa-verifications: enrol, list, rename
 * and remove second factors (logto-spec 6.2, 6.7, 8.1.9; issue 20) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-mfa.h"
#include "rv-store.h"

#define BASE "/api/my-account/mfa-verifications"

static int
get_list(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *out;

	return rv_mfa_list(req, &out, err) < 0 ? -1 : rv_resp_json(resp, 200, out);
}

static int
post_totp_secret(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *out;

	return rv_mfa_totp_generate(req, &out, err) < 0 ? -1 :
	       rv_resp_json(resp, 200, out);
}

static int
post_backup_codes(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *out;

	return rv_mfa_backup_generate(req, &out, err) < 0 ? -1 :
	       rv_resp_json(resp, 200, out);
}

static int
get_backup_codes(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *out;

	return rv_mfa_backup_codes(req, &out, err) < 0 ? -1 :
	       rv_resp_json(resp, 200, out);
}

static int
post_factor(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return rv_mfa_add(req, false, err) < 0 ? -1 : rv_resp_empty(resp, 204);
}

static int
put_totp(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return rv_mfa_add(req, true, err) < 0 ? -1 : rv_resp_empty(resp, 204);
}

static int
patch_name(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	json_t *out;

	return rv_mfa_rename(req, rv_req_path_param(req, "id"), &out, err) < 0 ?
	       -1 : rv_resp_json(resp, 200, out);
}

static int
delete_factor(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return rv_mfa_delete(req, rv_req_path_param(req, "id"), err) < 0 ? -1 :
	       rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", BASE, get_list, 0, NULL },
	{ "POST", BASE, post_factor, RV_ROUTE_JSON, NULL },
	{ "POST", BASE "/totp-secret/generate", post_totp_secret, RV_ROUTE_JSON, NULL },
	{ "POST", BASE "/backup-codes/generate", post_backup_codes, RV_ROUTE_JSON, NULL },
	{ "GET", BASE "/backup-codes", get_backup_codes, 0, NULL },
	{ "PUT", BASE "/totp", put_totp, RV_ROUTE_JSON, NULL },
	{ "PATCH", BASE "/:id/name", patch_name, RV_ROUTE_JSON, NULL },
	{ "DELETE", BASE "/:id", delete_factor, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "my-account-mfa",
	.routes = routes,
	/* the notice of a new or removed factor */
	.needs = RV_NEED_AUTH | RV_NEED_STORE | RV_NEED_TEMPLATES,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
