/* unit/webauthn: rv-webauthn.c against the test authenticator of
 * t/helper/authn-lib.c: registrations and assertions that pass, and each
 * check of W3C WebAuthn 7.1 and 7.2 failing alone (err->msg says which) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "helper/authn-lib.h"
#include "rv-err.h"
#include "rv-util.h"
#include "rv-webauthn.h"
#include "tap.h"

#define FAILED "session.mfa.webauthn_verification_failed"

static const char *const origins[] = { "https://app.example",
				       "http://localhost", NULL };
static struct rv_webauthn_rp rp = {
	"localhost", "Reverify test", origins, true
};
static unsigned char chal[RV_WEBAUTHN_CHALLENGE_LEN];
static char *chal_b64;

/* One check: accepted when why is NULL, else refused with 400
 * session.mfa.webauthn_verification_failed and a message naming why (so
 * that the check meant, not another, refused it). Releases err and j. */
static void
verdict(int rc, struct rv_err *err, json_t *j, const char *why,
	const char *title)
{
	bool named = why != NULL && rc == -1 && err->status == 400 &&
		     err->code != NULL && strcmp(err->code, FAILED) == 0 &&
		     strstr(err->msg, why) != NULL;

	if (why == NULL)
		ok(rc == 0, "%s", title);
	else
		ok(named, "%s: refused", title);
	if (why == NULL ? rc != 0 : !named)
		diag("got %d '%s', wanted '%s'", rc, err->msg, why ? why : "ok");
	rv_err_release(err);
	json_decref(j);
}

/* Registers payload; 0 or -1 (a credential accepted against why is
 * released). */
static int
reg_json(json_t *j, struct rv_webauthn_cred *c, const char *why,
	 const char *title)
{
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	rc = rv_webauthn_register(&rp, chal, sizeof(chal), j, c, &err);
	if (rc == 0 && why != NULL)
		rv_webauthn_cred_release(c);
	verdict(rc, &err, j, why, title);
	return rc;
}

static int
reg(const struct authn *a, const struct authn_opts *o,
    struct rv_webauthn_cred *c, const char *why, const char *title)
{
	return reg_json(authn_create(a, o), c, why, title);
}

/* Asserts payload against c; the result, *clone_r. */
static int
get_json(json_t *j, const struct rv_webauthn_cred *c, unsigned long *count_r,
	 bool *clone_r, const char *why, const char *title)
{
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	rc = rv_webauthn_assert(&rp, chal, sizeof(chal), j, c, count_r, clone_r, &err);
	verdict(rc, &err, j, why, title);
	return rc;
}

static int
get(const struct authn *a, const struct authn_opts *o,
    const struct rv_webauthn_cred *c, const char *why, const char *title)
{
	unsigned long n;
	bool clone;

	return get_json(authn_get(a, o), c, &n, &clone, why, title);
}

/* One ceremony of a: a registration when c is NULL (the credential made
 * is dropped), else an assertion for c. */
static void
ceremony(const struct authn *a, const struct authn_opts *o,
	 const struct rv_webauthn_cred *c, const char *why, const char *title)
{
	struct rv_webauthn_cred made;
	char t[100];

	snprintf(t, sizeof(t), "%s: %s", c == NULL ? "registration" : "assertion", title);
	if (c != NULL)
		get(a, o, c, why, t);
	else if (reg(a, o, &made, why, t) == 0 && why == NULL)
		rv_webauthn_cred_release(&made);
}

/* The checks of clientDataJSON and of the flags, the same in 7.1 and 7.2
 * (c: as for ceremony()). */
static void
test_common(const struct authn *a, const struct rv_webauthn_cred *c,
	    const char *fmt)
{
	struct authn_opts o;

	authn_opts_init(&o);
	o.challenge = chal_b64;
	o.fmt = fmt;
	o.count = 7;
	o.origin = "https://evil.example";
	ceremony(a, &o, c, "origin not allowed", "a wrong origin");
	o.origin = "https://app.example.";
	ceremony(a, &o, c, "origin not allowed", "an origin with a trailing dot");
	o.origin = "https://app.example";
	o.rp_id = "localhost.evil";
	ceremony(a, &o, c, "rpIdHash", "a wrong RP ID hash");
	o.rp_id = "localhost";
	o.challenge = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
	ceremony(a, &o, c, "challenge does not match", "a challenge used before (another one)");
	o.challenge = "%%%";
	ceremony(a, &o, c, "'challenge' is not base64url", "a challenge not in base64url");
	o.challenge = chal_b64;
	o.type = c == NULL ? "webauthn.get" : "webauthn.create";
	ceremony(a, &o, c, "type is not", "the other ceremony's type");
	o.type = NULL;
	o.cross_origin = true;
	ceremony(a, &o, c, "crossOrigin", "crossOrigin true");
	o.cross_origin = false;
	o.flags = AUTHN_UV;
	ceremony(a, &o, c, "flag UP", "UP missing");
	o.flags = AUTHN_UP;
	ceremony(a, &o, c, "flag UV", "UV missing when required");
	rp.require_uv = false;
	ceremony(a, &o, c, NULL, "UV missing when not required: accepted");
	rp.require_uv = true;
	o.flags = AUTHN_UP | AUTHN_UV | AUTHN_BS;
	ceremony(a, &o, c, "BS without BE", "flag BS without BE");
	o.flags = AUTHN_UP | AUTHN_UV;
	o.bad_sig = true;
	ceremony(a, &o, c, "signature invalid", "a bad signature");
}

/* A registration of a with authData ad as given (fmt none). */
static json_t *
reg_with_ad(const struct authn *a, const struct authn_opts *o,
	    const struct rv_buf *ad)
{
	struct rv_buf cd = RV_BUF_INIT, att = RV_BUF_INIT;
	json_t *j;

	authn_client_data(o, "webauthn.create", &cd);
	authn_attobj(a, o, ad, &cd, &att);
	j = authn_reg_json(a, o, &cd, &att, ad);
	rv_buf_release(&cd);
	rv_buf_release(&att);
	return j;
}

/* A registration whose attestationObject is the n bytes at p. */
static json_t *
reg_with_att(const struct authn *a, const struct authn_opts *o,
	     const void *p, size_t n)
{
	struct rv_buf cd = RV_BUF_INIT, att = RV_BUF_INIT, ad = RV_BUF_INIT;
	json_t *j;

	authn_client_data(o, "webauthn.create", &cd);
	rv_buf_add(&att, p, n);
	j = authn_reg_json(a, o, &cd, &att, &ad);
	rv_buf_release(&cd);
	rv_buf_release(&att);
	return j;
}

/* An assertion over authData ad as given, signed right. */
static json_t *
get_with_ad(const struct authn *a, const struct authn_opts *o,
	    const struct rv_buf *ad)
{
	struct rv_buf cd = RV_BUF_INIT, sig = RV_BUF_INIT;
	json_t *j;

	authn_client_data(o, "webauthn.get", &cd);
	authn_sign(a->key, ad, &cd, false, &sig);
	j = authn_get_json(a, o, &cd, ad, &sig);
	rv_buf_release(&cd);
	rv_buf_release(&sig);
	return j;
}

static void
test_options(void)
{
	static const char *const ex[] = { "AAEC", "AwQF" };
	struct rv_webauthn_cred allow[2] = { { 0 } };
	json_t *j, *p;
	char *s;

	j = rv_webauthn_creation_options(&rp, "u1", "alice", "Alice", chal,
					 sizeof(chal), ex, 2);
	is_str(json_string_value(json_object_get(json_object_get(j, "rp"), "id")),
	       "localhost", "creation: rp.id");
	is_str(json_string_value(json_object_get(json_object_get(j, "user"), "id")),
	       "dTE", "creation: user.id is base64url of the user id");
	is_str(json_string_value(json_object_get(json_object_get(j, "user"), "displayName")),
	       "Alice", "creation: user.displayName");
	is_str(json_string_value(json_object_get(j, "challenge")), chal_b64,
	       "creation: the challenge, base64url without padding");
	p = json_object_get(j, "pubKeyCredParams");
	ok(json_array_size(p) == 3 &&
	   json_integer_value(json_object_get(json_array_get(p, 0), "alg")) == -8 &&
	   json_integer_value(json_object_get(json_array_get(p, 1), "alg")) == -7 &&
	   json_integer_value(json_object_get(json_array_get(p, 2), "alg")) == -257,
	   "creation: EdDSA, ES256, RS256");
	is_int(json_integer_value(json_object_get(j, "timeout")), 300000, "creation: timeout");
	is_str(json_string_value(json_object_get(j, "attestation")), "none",
	       "creation: attestation none");
	is_str(json_string_value(json_object_get(json_array_get(
		       json_object_get(j, "excludeCredentials"), 1), "id")),
	       "AwQF", "creation: excludeCredentials");
	is_str(json_string_value(json_object_get(json_object_get(j, "authenticatorSelection"),
						 "userVerification")),
	       "required", "creation: userVerification required");
	json_decref(j);

	allow[0].cred_id = (char *)"AAEC";
	allow[0].transports = (char *)"usb nfc";
	allow[1].cred_id = (char *)"AwQF";
	rp.require_uv = false;
	j = rv_webauthn_request_options(&rp, chal, sizeof(chal), allow, 2);
	rp.require_uv = true;
	s = json_dumps(json_object_get(j, "allowCredentials"), JSON_COMPACT | JSON_SORT_KEYS);
	is_str(s, "[{\"id\":\"AAEC\",\"transports\":[\"usb\",\"nfc\"],\"type\":\"public-key\"},"
	       "{\"id\":\"AwQF\",\"type\":\"public-key\"}]", "request: allowCredentials");
	free(s);
	is_str(json_string_value(json_object_get(j, "rpId")), "localhost", "request: rpId");
	is_str(json_string_value(json_object_get(j, "userVerification")), "preferred",
	       "request: userVerification preferred");
	is_str(json_string_value(json_object_get(j, "challenge")), chal_b64, "request: challenge");
	json_decref(j);
}

static void
test_register(const struct authn *a)
{
	struct rv_webauthn_cred c;
	struct authn_opts o;
	struct rv_buf ad = RV_BUF_INIT;
	unsigned char junk[40];
	char other[60], title[80];
	int i;

	test_common(a, NULL, "packed");
	authn_opts_init(&o);
	o.challenge = chal_b64;
	RAND_bytes(junk, 32);
	{
		char *s = authn_b64(junk, 32);

		rv_strlcpy(other, s, sizeof(other));
		free(s);
	}
	o.raw_id = other;
	reg(a, &o, &c, "credential id is not rawId", "a credential id other than rawId");
	o.raw_id = NULL;
	o.fmt = "tpm";
	reg(a, &o, &c, "format not supported", "attestation format tpm");
	o.bad_sig = true;
	o.fmt = "packed-x5c";
	reg(a, &o, &c, "attestation signature invalid", "packed with x5c, a bad signature");
	o.bad_sig = false;
	o.fmt = "none";

	/* extensions the authenticator adds (credProtect), signed or not */
	for (i = 0; i < 2; i++) {
		o.fmt = i == 0 ? "none" : "packed";
		rv_buf_reset(&ad);
		authn_authdata(a, &o, true, &ad);
		ad.buf[32] |= (char)AUTHN_ED;
		authn_cbor_head(&ad, 5, 1);
		authn_cbor_text(&ad, "credProtect");
		authn_cbor_int(&ad, 2);
		snprintf(title, sizeof(title), "fmt %s with extension credProtect: accepted", o.fmt);
		if (reg_json(reg_with_ad(a, &o, &ad), &c, NULL, title) == 0)
			rv_webauthn_cred_release(&c);
	}
	o.fmt = "none";
	rv_buf_reset(&ad);
	authn_authdata(a, &o, true, &ad);
	ad.buf[32] |= (char)AUTHN_ED;
	authn_cbor_head(&ad, 5, 40);
	for (i = 0; i < 40; i++) {
		authn_cbor_int(&ad, (long long)i);
		authn_cbor_int(&ad, 0);
	}
	reg_json(reg_with_ad(a, &o, &ad), &c, "extensions are not a map",
		 "an extensions map of 40 pairs");
	rv_buf_reset(&ad);

	/* the CBOR and authData themselves */
	memset(junk, 0xff, sizeof(junk));
	reg_json(reg_with_att(a, &o, junk, sizeof(junk)), &c,
		 "not one CBOR item", "malformed CBOR");
	reg_json(reg_with_att(a, &o, "\xa3\x63" "fmt", 5), &c,
		 "not one CBOR item", "a truncated attestation object");
	reg_json(reg_with_att(a, &o, "\xbb\x00\x00\x00\x10\x00\x00\x00\x00", 9), &c,
		 "not one CBOR item", "a map claiming 2^36 pairs");
	reg_json(reg_with_att(a, &o, "\xa1\x63" "fmt\x64none", 10), &c,
		 "not a map of fmt", "a map without attStmt and authData");
	authn_authdata(a, &o, true, &ad);
	ad.len = 36;
	reg_json(reg_with_ad(a, &o, &ad), &c, "truncated (36 bytes)",
		 "authData shorter than 37 bytes");
	ad.len = 50;
	reg_json(reg_with_ad(a, &o, &ad), &c, "attested credential data truncated",
		 "attested credential data truncated");
	ad.len = 37 + 18 + 10;
	reg_json(reg_with_ad(a, &o, &ad), &c, "credential id truncated",
		 "a credential id cut short");
	rv_buf_reset(&ad);
	authn_authdata(a, &o, true, &ad);
	ad.buf[37 + 16] = (char)0xff;	/* credentialIdLength 0xff20 */
	reg_json(reg_with_ad(a, &o, &ad), &c, "out of range",
		 "credentialIdLength above 1023");
	ad.buf[37 + 16] = 0;
	ad.buf[37 + 18 + 32 + 10 + 31] ^= 1;	/* x of the P-256 key */
	reg_json(reg_with_ad(a, &o, &ad), &c, "public key unusable",
		 "a P-256 key off the curve");
	ad.buf[37 + 18 + 32 + 10 + 31] ^= 1;
	rv_buf_add(&ad, "\x00", 1);
	reg_json(reg_with_ad(a, &o, &ad), &c, "1 bytes after",
		 "a byte after the credential key");
	ad.len -= 1;
	ad.buf[32] = AUTHN_UP | AUTHN_UV;	/* AT off */
	reg_json(reg_with_ad(a, &o, &ad), &c, "missing (flag AT)",
		 "no attested credential data");
	ad.buf[32] = (char)(AUTHN_UP | AUTHN_UV | AUTHN_AT | AUTHN_ED);
	reg_json(reg_with_ad(a, &o, &ad), &c, "extensions are not CBOR",
		 "flag ED without extensions");
	rv_buf_release(&ad);
}

static void
test_assert(struct authn *a, int alg, const char *fmt)
{
	struct rv_webauthn_cred c = { 0 }, other = { 0 };
	struct authn_opts o;
	struct rv_buf ad = RV_BUF_INIT;
	unsigned long n = 99;
	bool clone = true;
	char title[80];

	authn_opts_init(&o);
	o.challenge = chal_b64;
	o.fmt = fmt;
	snprintf(title, sizeof(title), "alg %d, fmt %s: registered", alg, fmt);
	o.count = 5;
	if (reg(a, &o, &c, NULL, title) < 0)
		return;
	is_int(c.cose_alg, alg, "the key's COSE alg");
	is_int((long long)c.sign_count, 5, "the sign count");
	ok(strlen(c.aaguid) == 36 && c.aaguid[8] == '-' && strncmp(c.aaguid, "adce0002", 8) == 0,
	   "the aaguid as a UUID");
	is_str(c.transports, "internal", "the transports");
	ok(!c.backup_eligible && !c.backed_up, "flags BE and BS");

	o.count = 6;
	snprintf(title, sizeof(title), "alg %d: an assertion with a higher count", alg);
	get_json(authn_get(a, &o), &c, &n, &clone, NULL, title);
	ok(n == 6 && !clone, "the new count is 6, no clone");
	if (alg != -7 || strcmp(fmt, "none") != 0)
		goto out;	/* the rest once */

	test_common(a, &c, fmt);
	o.origin = "https://app.example";
	o.count = 7;
	get(a, &o, &c, NULL, "assertion: the other configured origin");
	o.origin = "http://localhost";

	o.count = 4;
	get_json(authn_get(a, &o), &c, &n, &clone, "not above the stored 5",
		 "assertion: a lowered count");
	ok(clone, "a lowered count reports a clone");
	o.count = 5;
	get_json(authn_get(a, &o), &c, &n, &clone, "not above", "assertion: the same count");
	ok(clone, "the same count reports a clone");
	o.count = 0;
	get_json(authn_get(a, &o), &c, &n, &clone, "not above",
		 "assertion: count 0 after 5");
	ok(clone, "count 0 after 5 reports a clone");
	c.sign_count = 0;
	get_json(authn_get(a, &o), &c, &n, &clone, NULL,
		 "assertion: count 0 and stored 0 (no counter) accepted");
	ok(n == 0 && !clone, "0 and 0: count 0, no clone");

	/* another credential's id, and the shape */
	other.cred_id = rv_xstrdup("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
	other.public_key = rv_xstrdup(c.public_key);
	other.cose_alg = c.cose_alg;
	get(a, &o, &other, "not the stored one", "assertion: another credential's id");
	rv_webauthn_cred_release(&other);
	authn_authdata(a, &o, false, &ad);
	rv_buf_add(&ad, "\x00", 1);
	get_json(get_with_ad(a, &o, &ad), &c, &n, &clone, "1 bytes after",
		 "assertion: a byte after authenticatorData");
	ad.len = 30;
	get_json(get_with_ad(a, &o, &ad), &c, &n, &clone, "truncated",
		 "assertion: authenticatorData truncated");
	rv_buf_reset(&ad);
	authn_authdata(a, &o, true, &ad);
	get_json(get_with_ad(a, &o, &ad), &c, &n, &clone, "not expected (flag AT)",
		 "assertion: attested credential data");
	rv_buf_release(&ad);
	{
		json_t *j = authn_get(a, &o);

		json_object_set_new(j, "rawId", json_string("AAAA"));
		ok(rv_webauthn_payload_id(j) == NULL, "payload id: NULL when id is not rawId");
		get_json(j, &c, &n, &clone, "not equal to rawId", "assertion: id is not rawId");
		j = authn_get(a, &o);
		is_str(rv_webauthn_payload_id(j), c.cred_id, "payload id: the credential's");
		json_object_set_new(j, "type", json_string("password"));
		get_json(j, &c, &n, &clone, "not 'public-key'", "assertion: type not public-key");
		j = authn_get(a, &o);
		json_object_set_new(json_object_get(j, "response"), "signature",
				    json_string("not base64url!"));
		get_json(j, &c, &n, &clone, "'signature' is not base64url",
			 "assertion: a signature not in base64url");
		j = json_string("x");
		get_json(j, &c, &n, &clone, "not an object", "assertion: not an object");
	}
out:
	rv_webauthn_cred_release(&c);
}

int
main(void)
{
	static const struct { int alg; const char *fmt; } kinds[] = {
		{ -7, "none" }, { -7, "packed" }, { -7, "packed-x5c" },
		{ -8, "none" }, { -8, "packed" }, { -257, "packed" },
	};
	struct authn a;
	char *rs256;
	size_t i;

	RAND_bytes(chal, sizeof(chal));
	chal_b64 = authn_b64(chal, sizeof(chal));
	is_int((long long)strlen(chal_b64), 43, "a challenge is 43 characters");
	test_options();
	if (authn_new(&a, -7) < 0)
		skip_all("no P-256 key");
	test_register(&a);
	authn_release(&a);
	rs256 = rv_xasprintf("%s/t/fixtures/webauthn/rs256.pem",
			     getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		/* RSA: a fixed key (t/fixtures/webauthn/README says why) */
		if ((kinds[i].alg == -257 ? authn_load(&a, rs256) :
		     authn_new(&a, kinds[i].alg)) < 0) {
			ok(0, "a key for alg %d", kinds[i].alg);
			continue;
		}
		test_assert(&a, kinds[i].alg, kinds[i].fmt);
		authn_release(&a);
	}
	free(rs256);
	free(chal_b64);
	return done_testing();
}
