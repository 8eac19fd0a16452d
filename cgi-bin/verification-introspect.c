/* verification-introspect.c: POST /api/verifications/introspect: may a
 * relying service (payments, payroll) trust record X as a step-up of user
 * U? In the spirit of RFC 7662 (DESIGN.md deviation 7). Authenticated with
 * a service credential (HTTP Basic, <introspection clients>), never with a
 * user token. */
#include "config.h"
#include "rv.h"
#include "rv-auth.h"
#include "rv-records.h"

static int
post_introspect(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_records_query q;
	struct rv_store *st;
	json_t *answer;

	if (rv_records_intro_parse(req->json, &q, err) < 0 ||
	    (st = rv_main_store(err)) == NULL ||
	    rv_records_introspect(st, req->conf, req->caller->client_id, &q,
				  &answer, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, answer);
}

static const struct rv_route routes[] = {
	{ "POST", "/api/verifications/introspect", post_introspect, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-introspect",
	.routes = routes,
	.needs = RV_NEED_STORE,
	.setup = rv_records_intro_setup,
	.teardown = rv_records_intro_teardown,
	.gate = rv_records_intro_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
