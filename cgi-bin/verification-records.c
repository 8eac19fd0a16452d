/* verification-records.c: GET /api/verifications and
 * DELETE /api/verifications/:id: list and revoke the caller's own records
 * (DESIGN.md deviation 7); the list shows handles, DELETE takes a handle
 * or an id */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-records.h"
#include "rv-store.h"

/* First-party only, even to read: what step-ups a user made is no third
 * party's business (issue 14, F1). */
static int
get_records(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_store *st;
	json_t *list;

	if (rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_records_list(st, req->caller, &list, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, list);
}

static int
delete_record(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_store *st;

	if (rv_auth_require_first_party(req->caller, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_records_revoke(st, req->caller, rv_req_path_param(req, "id"), err) < 0)
		return -1;
	return rv_resp_empty(resp, 204);
}

static const struct rv_route routes[] = {
	{ "GET", "/api/verifications", get_records, 0, NULL },
	{ "DELETE", "/api/verifications/:id", delete_record, 0, rv_records_ref_ok },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-records",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
