/* stepup-check.c: does a record id prove a user's identity? Asks the same
 * function the sensitive endpoints use (rv_account_stepup, logto-spec 6.1),
 * against the store of $REVERIFY_CONFIG. Prints "verified" (exit 0) or
 * "denied" (exit 1); 2 on a usage or store error. Not installed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "rv-account.h"
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

	(void)st;
	if ((rc = rv_account_stepup(txn, c->req, c->user, NULL, err)) < 0)
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
	struct rv_req req;
	struct check c;
	char *env[2];
	int rc = 2;

	if (argc != 3 || getenv("REVERIFY_CONFIG") == NULL) {
		fprintf(stderr, "usage: REVERIFY_CONFIG=FILE stepup-check USER_ID RECORD_ID\n");
		return 2;
	}
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
	c.req = &req;
	c.user = argv[1];
	c.ok = false;
	if (rv_store_txn(st, false, body, &c, &err) == 0) {
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
