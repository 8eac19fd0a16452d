/* lockout.c: reverify-admin user unlock and unlock: lifting a lockout */
#include "config.h"
#include "admin.h"

#include <string.h>

#include <jansson.h>

#include "rv-ident.h"
#include "rv-lockout.h"
#include "rv-store.h"

/* ---- user unlock, unlock --email/--phone -------------------------------- */

struct unlock_ctx {
	const char *user;	/* user unlock: the user id, else NULL */
	const char *kind;	/* "user", "email", "phone" */
	const char *value;	/* what the operator named */
	char key[65];
	char streak[65];	/* user unlock: the account's consecutive failures */
	char factors[3][65];	/* user unlock: the second factors' pools */
	int found;		/* user unlock: 1 the user exists */
	int lifted;		/* 1 a block was lifted */
};

static int
unlock_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct unlock_ctx *c = vctx;
	char hash[65];
	json_t *f;
	int rc;

	c->found = 1;
	if (c->user != NULL) {
		struct rv_user u;

		rv_user_init(&u);
		c->found = rv_store_user_get(txn, c->user, false, &u, err);
		rv_user_release(&u);
		if (c->found != 1)
			return c->found < 0 ? -1 : 0;
	}
	if ((c->lifted = rv_lockout_lift(txn, c->key, err)) < 0)
		return -1;
	/* the user's consecutive failures are forgotten too (3.2.2: a
	 * locked account is recovered, not waited out) */
	if (c->user != NULL && (rc = rv_lockout_streak_clear(txn, c->streak, err)) != 0) {
		if (rc < 0)
			return -1;
		c->lifted = 1;
	}
	/* and the pools of the second factors (issue 20) */
	for (size_t i = 0; c->user != NULL && i < 3; i++) {
		if ((rc = rv_lockout_lift(txn, c->factors[i], err)) < 0)
			return -1;
		c->lifted |= rc;
	}
	if (c->lifted == 0)
		return 0;
	/* identifiers in the trail only as keyed hashes, as on the routes */
	f = json_pack("{s:s, s:s}", "by", "admin", "kind", c->kind);
	if (c->user == NULL) {
		rv_store_mac_hex(st, "audit", c->value, hash);
		json_object_set_new(f, "recipient", json_string(hash));
	}
	rc = rv_store_audit(txn, "lockout.lifted", c->user, f, err);
	json_decref(f);
	return rc;
}

static int
unlock(struct admin *a, struct unlock_ctx *c)
{
	if (rv_store_txn(a->st, unlock_body, c, &a->err) < 0)
		return fail_err(&a->err);
	if (c->found != 1)
		return fail("no user '%s'", c->user);
	if (c->lifted)
		note(a, "lifted the block of %s '%s'", c->kind, c->value);
	else
		note(a, "nothing to do: %s '%s' is not blocked", c->kind, c->value);
	return EXIT_OK;
}

int
cmd_user_unlock(struct admin *a, int argc, char **argv)
{
	struct unlock_ctx c;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.user = c.value = argv[optind];
	c.kind = "user";
	if (!rv_user_id_valid(c.user))
		return fail("no user '%s'", c.user);
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_lockout_key(a->st, RV_LOCKOUT_USER, c.user, NULL, c.key);
	rv_lockout_key(a->st, RV_LOCKOUT_ACCOUNT, c.user, NULL, c.streak);
	rv_lockout_key(a->st, RV_LOCKOUT_TOTP, c.user, NULL, c.factors[0]);
	rv_lockout_key(a->st, RV_LOCKOUT_BACKUP_CODE, c.user, NULL, c.factors[1]);
	rv_lockout_key(a->st, RV_LOCKOUT_WEBAUTHN, c.user, NULL, c.factors[2]);
	return unlock(a, &c);
}

int
cmd_unlock(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "phone", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct unlock_ctx c;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		if (ch != 'e' && ch != 'p')
			return EXIT_USAGE;
		if (c.kind != NULL)
			return usage_error(a, "name one of --email and --phone, once");
		c.kind = ch == 'e' ? "email" : "phone";
		c.value = optarg;
	}
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (c.kind == NULL)
		return usage_error(a, "name an address with --email or a number with --phone");
	if (*c.kind == 'e' ? !rv_ident_email_ok(c.value) : !rv_ident_phone_ok(c.value))
		return fail("'%s' is not %s", c.value, *c.kind == 'e' ?
			    "an e-mail address" : "a phone number (1 to 32 digits)");
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_lockout_key(a->st, *c.kind == 'e' ? RV_LOCKOUT_EMAIL : RV_LOCKOUT_PHONE,
		       c.value, NULL, c.key);
	return unlock(a, &c);
}
