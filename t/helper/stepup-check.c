/* stepup-check.c: does a record id prove a user's identity? Asks the same
 * function the sensitive endpoints use (rv_account_stepup, logto-spec 6.1),
 * against the store of $REVERIFY_CONFIG, for a request of a token of
 * CLIENT_ID (default demo-app, the test instances' first-party client) and
 * SID (default none). Prints "verified" (exit 0) or "denied" (exit 1); 2
 * on a usage or store error. Not installed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
#include "rv-auth.h"
#include "rv-store.h"
#include "rv-xml.h"

struct check {
	struct rv_req *req;
	const char *user;
	bool ok;
};

static int
body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct check *c = vctx;
	int rc;

	if ((rc = rv_account_stepup(txn, c->req, c->user, RV_CHANGE_PASSWORD, NULL, err)) < 0)
		return rc;
	c->ok = rc == 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct rv_arena arena = RV_ARENA_INIT;
	struct rv_store *st = NULL;
	struct rv_conf conf;
	struct rv_err err;
	struct rv_caller caller;
	struct rv_req req;
	struct check c;
	char *env[2];
	int rc = 2;

	if (argc < 3 || argc > 5 || getenv("REVERIFY_CONFIG") == NULL) {
		fprintf(stderr, "usage: REVERIFY_CONFIG=FILE stepup-check USER_ID RECORD_ID "
			"[CLIENT_ID [SID]]\n");
		return 2;
	}
	memset(&caller, 0, sizeof(caller));
	rv_strlcpy(caller.user, argv[1], sizeof(caller.user));
	rv_strlcpy(caller.client_id, argc > 3 ? argv[3] : "demo-app", sizeof(caller.client_id));
	rv_strlcpy(caller.sid, argc > 4 ? argv[4] : "", sizeof(caller.sid));
	rv_xml_init();
	rv_err_init(&err);
	if (rv_conf_load(getenv("REVERIFY_CONFIG"), &conf, &err) < 0 ||
	    rv_store_open(&conf, false, &st, &err) < 0) {
		fprintf(stderr, "stepup-check: %s\n", err.msg);
		goto out;
	}
	env[0] = rv_xasprintf("HTTP_LOGTO_VERIFICATION_ID=%s", argv[2]);
	env[1] = NULL;
	rv_req_init(&req, &arena, &conf, env, NULL, NULL);
	req.caller = &caller;
	c.req = &req;
	c.user = argv[1];
	c.ok = false;
	if (rv_store_txn(st, body, &c, &err) == 0) {
		puts(c.ok ? "verified" : "denied");
		rc = c.ok ? 0 : 1;
	}
	rv_req_release(&req);
	free(env[0]);
out:
	rv_store_close(&st);
	rv_arena_release(&arena);
	rv_conf_release(&conf);
	rv_err_release(&err);
	return rc;
}
