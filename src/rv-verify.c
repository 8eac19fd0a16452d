/* rv-verify.c: the verification flows behind /api/verifications */
#include "config.h"
#include "rv-verify.h"

#include <stdlib.h>
#include <string.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-lockout.h"
#include "rv-log.h"
#include "rv-password.h"
#include "rv-pwnorm.h"
#include "rv-store.h"
#include "rv-util.h"

struct pw_ctx {
	const struct rv_conf *conf;
	const struct rv_caller *c;
	char user_id[RV_ID_MAX + 1];
	char lockout[65];
	char streak[65];	/* the account's consecutive failures */
	char *hash;		/* the hash we verified against (malloc'd) */
	char *new_hash;		/* its replacement, or NULL */
	const char *action;	/* of the new record, or NULL */
	int matched;		/* 1 right, 0 wrong */
	long long blocked_until;
	enum { PW_OK, PW_WRONG, PW_BLOCKED } outcome;
	struct rv_record *rec;
};

/* first transaction: the user, and a block already in force */
static int
pw_load(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct pw_ctx *p = vctx;
	struct rv_user u;
	int rc;

	rv_user_init(&u);
	if (rv_account_user(txn, p->c, false, &u, err) < 0)
		return -1;
	rv_strlcpy(p->user_id, u.id, sizeof(p->user_id));
	rv_lockout_key(st, RV_LOCKOUT_USER, u.id, NULL, p->lockout);
	rv_lockout_key(st, RV_LOCKOUT_ACCOUNT, u.id, NULL, p->streak);
	free(p->hash);
	p->hash = u.password_hash ? rv_xstrdup(u.password_hash) : NULL;
	rv_user_release(&u);
	rc = rv_lockout_check2(txn, p->lockout, p->streak, &p->blocked_until, err);
	if (rc < 0)
		return -1;
	p->outcome = rc == 1 ? PW_BLOCKED : PW_OK;
	return 0;
}

static int
pw_audit(struct rv_txn *txn, const struct pw_ctx *p, const char *event,
	 struct rv_err *err)
{
	json_t *f = json_pack("{s:s}", "client", p->c->client_id);
	int rc = rv_store_audit(txn, event, p->user_id, f, err);

	json_decref(f);
	return rc;
}

/* second transaction: the decision, the failure count or the record */
static int
pw_decide(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct pw_ctx *p = vctx;
	long long now = rv_store_now();
	struct rv_record *r = p->rec;
	bool streak;
	int rc;

	if (!p->matched) {
		rc = rv_lockout_fail2(txn, p->conf, p->lockout, p->streak,
				      &p->blocked_until, &streak, err);
		if (rc < 0)
			return -1;
		p->outcome = rc > 0 ? PW_BLOCKED : PW_WRONG;
		/* the trail records each counted failure and the start of a
		 * block, not every refused attempt during one (an attacker
		 * must not be able to fill the disk with audit entries) */
		if (rc == 1)
			return 0;
		return pw_audit(txn, p, streak ? "lockout.consecutive" :
				rc == 2 ? "lockout.started" :
				"verify.password.failed", err);
	}
	/* a block that came while we were hashing wins over a right
	 * password (5.1) */
	if ((rc = rv_lockout_check2(txn, p->lockout, p->streak, &p->blocked_until,
				    err)) != 0) {
		if (rc < 0)
			return -1;
		p->outcome = PW_BLOCKED;
		return 0;
	}
	/* a success: the failures before it no longer count (3.2.2) */
	if (rv_lockout_streak_reset(txn, p->streak, err) < 0)
		return -1;
	if (p->new_hash != NULL) {
		struct rv_user u;
		int got;

		rv_user_init(&u);
		/* only if nobody changed the password meanwhile; a failed read
		 * (a deadlock above all) ends the body, so that the runner
		 * retries: going on after it made the record's put fail with
		 * EINVAL, a 503 (t6000, 64 concurrent step-ups with rehash) */
		if ((got = rv_store_user_get(txn, p->user_id, true, &u, err)) < 0) {
			rv_user_release(&u);
			return got;
		}
		if (got == 1 &&
		    u.password_hash != NULL && strcmp(u.password_hash, p->hash) == 0) {
			free(u.password_hash);
			u.password_hash = rv_xstrdup(p->new_hash);
			u.password_updated_at = now;
			if (rv_store_user_put(txn, &u, err) < 0) {
				rv_user_release(&u);
				return -1;
			}
			if (pw_audit(txn, p, "user.password_rehashed", err) < 0) {
				rv_user_release(&u);
				return -1;
			}
		}
		rv_user_release(&u);
	}
	rv_record_init(r);
	if (rv_random_id(r->id, RV_RECORD_ID_LEN, err) < 0)
		return -1;
	r->type = RV_RECORD_PASSWORD;
	rv_strlcpy(r->owner, p->user_id, sizeof(r->owner));
	rv_strlcpy(r->creator, p->user_id, sizeof(r->creator));
	rv_strlcpy(r->identifier, p->user_id, sizeof(r->identifier));
	rv_account_bind(r, p->c);
	if (p->action != NULL)
		rv_strlcpy(r->action, p->action, sizeof(r->action));
	r->verified = true;
	r->created_at = r->verified_at = now;
	r->expires_at = now + p->conf->ver_record_ttl * 1000;
	if (rv_account_record_add(txn, p->conf, r, err) < 0)
		return -1;
	p->outcome = PW_OK;
	return pw_audit(txn, p, "verify.password.ok", err);
}

int
rv_verify_password(struct rv_store *st, const struct rv_conf *conf,
		   const struct rv_caller *c, const char *password, size_t len,
		   const char *action, struct rv_record *rec_r, struct rv_err *err)
{
	struct pw_ctx p;
	char *nfkc = NULL;
	size_t nfkc_len = 0;
	bool two, raw_only = false;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.c = c;
	p.rec = rec_r;
	p.action = action;
	/* a body problem, before anything else (2.1) */
	if (rv_pwnorm(password, len, &nfkc, &nfkc_len, err) < 0)
		return -1;
	two = nfkc_len != len || memcmp(nfkc, password, len) != 0;
	if (rv_store_txn(st, pw_load, &p, err) < 0)
		goto out;
	if (p.outcome == PW_BLOCKED) {
		rv_log_info("user '%s': password attempt while blocked", p.user_id);
		rc = rv_lockout_error(p.blocked_until, err);
		goto out;
	}
	/* the expensive part, outside any transaction */
	if (p.hash == NULL) {
		/* as many hashes as a user with a password would cost */
		rv_password_decoy(conf);
		if (two)
			rv_password_decoy(conf);
		p.matched = 0;
	} else {
		struct rv_err herr;

		rv_err_init(&herr);
		p.matched = rv_password_verify_forms(password, len, nfkc, nfkc_len,
						     p.hash, conf, &raw_only, &herr);
		if (p.matched < 0) {
			/* a store problem; to the client like a wrong password */
			rv_log_warnx("user '%s': unusable password hash: %s",
				     p.user_id, herr.msg);
			p.matched = 0;
		}
		rv_err_release(&herr);
		/* a hash of the raw bytes (imported) is replaced by one of the
		 * NFKC form, so that the next step-up needs one try */
		if (p.matched == 1 &&
		    (raw_only || rv_password_needs_rehash(p.hash, conf)) &&
		    rv_password_hash(nfkc, nfkc_len, conf, &p.new_hash, err) < 0) {
			rv_log_warnx("rehash failed: %s", err->msg);
			rv_err_release(err);
			p.new_hash = NULL;
		}
	}
	if (rv_store_txn(st, pw_decide, &p, err) < 0)
		goto out;
	switch (p.outcome) {
	case PW_OK:
		rc = 0;
		break;
	case PW_BLOCKED:
		rc = rv_lockout_error(p.blocked_until, err);
		break;
	case PW_WRONG:
		rc = rv_err_set(err, "session.invalid_credentials",
				"wrong password for user '%s'", p.user_id);
		break;
	}
out:
	rv_pwnorm_free(&nfkc, nfkc_len);
	if (p.hash != NULL) {
		rv_wipe(p.hash, strlen(p.hash));
		free(p.hash);
	}
	if (p.new_hash != NULL) {
		rv_wipe(p.new_hash, strlen(p.new_hash));
		free(p.new_hash);
	}
	return rc;
}
