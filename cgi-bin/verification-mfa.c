/* verification-mfa.c: step-up by a second factor (ours: issue 20,
 * reverify(7) DEVIATIONS): /api/verifications/totp, .../backup-code,
 * .../web-authn/authentication(/verify); and the passkey registration of
 * logto-spec 2.5, .../web-authn/registration(/verify) */
#include "config.h"
#include "rv.h"
#include "rv-account.h"
#include "rv-mfa.h"
#include "rv-store.h"

/* 201 {verificationRecordId, expiresAt}, like the password's (2.1) */
static int
created(struct rv_resp *resp, const struct rv_record *rec)
{
	char expires[32];

	rv_iso8601_ms(rec->expires_at, expires);
	return rv_resp_json(resp, 201, json_pack("{s:s, s:s}",
		"verificationRecordId", rec->id, "expiresAt", expires));
}

static int
post_totp(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_record rec;

	return rv_mfa_verify_totp(req, &rec, err) < 0 ? -1 : created(resp, &rec);
}

static int
post_backup_code(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	struct rv_record rec;

	return rv_mfa_verify_backup(req, &rec, err) < 0 ? -1 : created(resp, &rec);
}

/* 200 {verificationRecordId, registrationOptions | authenticationOptions,
 * expiresAt} (2.5) */
static int
begin(struct rv_req *req, struct rv_resp *resp, bool registration,
      struct rv_err *err)
{
	struct rv_record rec;
	char expires[32];
	json_t *options;

	if (rv_mfa_webauthn_begin(req, registration, &rec, &options, err) < 0)
		return -1;
	rv_iso8601_ms(rec.expires_at, expires);
	return rv_resp_json(resp, 200, json_pack("{s:s, s:o, s:s}",
		"verificationRecordId", rec.id,
		registration ? "registrationOptions" : "authenticationOptions",
		options, "expiresAt", expires));
}

static int
finish(struct rv_req *req, struct rv_resp *resp, bool registration,
       struct rv_err *err)
{
	struct rv_record rec;

	if (rv_mfa_webauthn_finish(req, registration, &rec, err) < 0)
		return -1;
	return rv_resp_json(resp, 200, json_pack("{s:s}",
		"verificationRecordId", rec.id));
}

static int
post_registration(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return begin(req, resp, true, err);
}

static int
post_registration_verify(struct rv_req *req, struct rv_resp *resp,
			 struct rv_err *err)
{
	return finish(req, resp, true, err);
}

static int
post_authentication(struct rv_req *req, struct rv_resp *resp, struct rv_err *err)
{
	return begin(req, resp, false, err);
}

static int
post_authentication_verify(struct rv_req *req, struct rv_resp *resp,
			   struct rv_err *err)
{
	return finish(req, resp, false, err);
}

#define WA "/api/verifications/web-authn"
static const struct rv_route routes[] = {
	{ "POST", "/api/verifications/totp", post_totp, RV_ROUTE_JSON, NULL },
	{ "POST", "/api/verifications/backup-code", post_backup_code, RV_ROUTE_JSON, NULL },
	{ "POST", WA "/registration", post_registration, RV_ROUTE_JSON, NULL },
	{ "POST", WA "/registration/verify", post_registration_verify, RV_ROUTE_JSON, NULL },
	{ "POST", WA "/authentication", post_authentication, RV_ROUTE_JSON, NULL },
	{ "POST", WA "/authentication/verify", post_authentication_verify, RV_ROUTE_JSON, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

static const struct rv_endpoint ep = {
	.name = "verification-mfa",
	.routes = routes,
	.needs = RV_NEED_AUTH | RV_NEED_STORE,
	.gate = rv_account_gate,
};

int
main(int argc, char **argv)
{
	return rv_main(argc, argv, &ep);
}
