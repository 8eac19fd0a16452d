/* unit/auth: rv-auth.c, bearer JWT access tokens and REMOTE_USER */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv.h"
#include "rv-auth.h"
#include "fixture.h"
#include "rv-jwks.h"
#include "rv-mint.h"
#include "tap.h"

#define ISS "https://id.example/oidc"
#define AUD "https://api.example"
#define NOW 1700000000LL

static const char *dir;
static struct rv_conf conf;
static struct rv_arena arena = RV_ARENA_INIT;
static struct rv_err err;
static struct rv_caller c;

static long long clock_offset;	/* seconds after NOW */

static time_t
test_clock(void)
{
	return (time_t)(NOW + clock_offset);
}

/* A file in the test directory; caller frees. */
static char *
path_of(const char *name)
{
	return rv_xasprintf("%s/%s", dir, name);
}

static void
set_str(char **field, const char *value)
{
	free(*field);
	*field = rv_xstrdup(value);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	RV_ASSERT(f != NULL);
	fputs(text, f);
	RV_ASSERT(fclose(f) == 0);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = rv_xmalloc(65536);
	size_t n;

	RV_ASSERT(f != NULL);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *
b64(const char *s)
{
	char *out = NULL;
	size_t len;
	cjose_err cerr;

	RV_ASSERT(cjose_base64url_encode((const uint8_t *)s, strlen(s), &out,
					 &len, &cerr));
	return out;
}

/* Signs claims with jwk under the given protected header (JSON text). */
static char *
sign(const cjose_jwk_t *jwk, const char *header, const char *claims)
{
	cjose_header_t *h = json_loads(header, 0, NULL);
	cjose_jws_t *jws;
	const char *ser;
	cjose_err cerr;
	char *token;

	RV_ASSERT(h != NULL);
	jws = cjose_jws_sign(jwk, h, (const uint8_t *)claims, strlen(claims), &cerr);
	RV_ASSERT(jws != NULL && cjose_jws_export(jws, &ser, &cerr));
	token = rv_xstrdup(ser);
	cjose_jws_release(jws);
	json_decref(h);
	return token;
}

static char *
mint(const char *key, const char *iss, const char *aud, const char *sub,
     const char *client_id, const char *scope, long ttl)
{
	struct rv_err e;
	char *token = NULL;

	rv_err_init(&e);
	if (rv_auth_mint(key, iss, aud, sub, client_id, scope, NULL, ttl, &token, &e) < 0)
		rv_bug(__FILE__, __LINE__, e.msg);
	return token;
}

/* Authenticates a request with these headers/params (NULL: absent). */
static int
run(const char *authz, const char *remote_user)
{
	const char *env[3];
	char *a = NULL, *r = NULL;
	struct rv_req req;
	int n = 0, rc;

	if (authz != NULL)
		env[n++] = a = rv_xasprintf("HTTP_AUTHORIZATION=%s", authz);
	if (remote_user != NULL)
		env[n++] = r = rv_xasprintf("REMOTE_USER=%s", remote_user);
	env[n] = NULL;
	rv_err_release(&err);
	rv_req_init(&req, &arena, &conf, (char **)(uintptr_t)env, NULL, NULL);
	rc = rv_auth_caller(&req, &c, &err);
	rv_req_release(&req);
	rv_arena_reset(&arena);
	free(a);
	free(r);
	return rc;
}

static int
run_token(const char *token)
{
	char *authz = rv_xasprintf("Bearer %s", token);
	int rc = run(authz, NULL);

	free(authz);
	return rc;
}

/* Does msg hold the token, or a long part of it? */
static bool
leaks(const char *msg, const char *token)
{
	const char *p = token;

	if (strlen(token) >= 8 && strstr(msg, token) != NULL)
		return true;
	while (*p != '\0') {
		size_t n = strcspn(p, ".");

		if (n >= 16) {
			char *part = rv_xstrndup(p, n);
			bool found = strstr(msg, part) != NULL;

			free(part);
			if (found)
				return true;
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return false;
}

static int tokens_checked, tokens_leaked, challenges_missing;

/* The result of the last run() was a failure of this status, code, why. */
static int
failed(int rc, int status, const char *code, const char *why, const char *token,
       const char *title)
{
	bool good = rc < 0 && err.status == status && err.code != NULL &&
		    strcmp(err.code, code) == 0 &&
		    (why == NULL || strstr(err.msg, why) != NULL) &&
		    c.user[0] == '\0';

	if (token != NULL) {
		tokens_checked++;
		if (leaks(err.msg, token)) {
			tokens_leaked++;
			good = false;
		}
	}
	if (status == 401 && conf.auth_mode == RV_CONF_AUTH_JWT &&
	    strstr(err.headers, "WWW-Authenticate: Bearer ") == NULL) {
		challenges_missing++;
		good = false;
	}
	if (!ok(good, "%s", title))
		diag("rc %d status %d code %s msg '%s'", rc, err.status,
		     err.code ? err.code : "(null)", err.msg);
	return good;
}

static int
bad_token(const char *token, int status, const char *code, const char *why,
	  const char *title)
{
	return failed(run_token(token), status, code, why, token, title);
}

static int
unauthorized(const char *token, const char *why, const char *title)
{
	return bad_token(token, 401, "auth.unauthorized", why, title);
}

static int
good_token(const char *token, const char *title)
{
	int rc = run_token(token);

	if (!ok(rc == 0 && strcmp(c.user, "u1") == 0, "%s", title))
		diag("rc %d status %d code %s msg '%s' user '%s'", rc, err.status,
		     err.code ? err.code : "(null)", err.msg, c.user);
	return rc == 0;
}

/* Standard claims with sub u1 and scope openid, plus extra members. */
static char *
claims(long long exp, const char *extra)
{
	return rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
			    "\"sub\":\"u1\",\"scope\":\"openid\",\"exp\":%lld%s}",
			    exp, extra);
}

static int
setup_fails(const char *why, const char *title)
{
	int rc;
	bool good;

	rv_err_release(&err);
	rc = rv_auth_setup(&conf, &err);
	good = rc < 0 && err.status == 500 && strcmp(err.code, RV_E_INTERNAL) == 0 &&
	       strstr(err.msg, why) != NULL;
	if (!ok(good, "%s", title))
		diag("rc %d status %d msg '%s'", rc, err.status, err.msg);
	return good;
}

/* Writes {"keys":[k1, k2]} (k2 may be NULL) to the file name. */
static void
write_jwks(const char *path, const char *k1, const char *k2)
{
	char *text = rv_xasprintf("{\"keys\":[%s%s%s]}", k1 ? k1 : "",
				  k2 ? "," : "", k2 ? k2 : "");

	write_file(path, text);
	free(text);
}

/* Adds the public JWK of jwk to the JWKS file at path. */
static void
add_to_jwks(const char *path, const cjose_jwk_t *jwk)
{
	json_t *root = json_load_file(path, 0, NULL), *pub;
	char *text;
	cjose_err cerr;

	RV_ASSERT(root != NULL);
	text = cjose_jwk_to_json(jwk, false, &cerr);
	pub = json_loads(text, 0, NULL);
	free(text);
	RV_ASSERT(pub != NULL);
	json_array_append_new(json_object_get(root, "keys"), pub);
	RV_ASSERT(json_dump_file(root, path, 0) == 0);
	json_decref(root);
}

static void
write_private(const char *path, const cjose_jwk_t *jwk)
{
	cjose_err cerr;
	char *text = cjose_jwk_to_json(jwk, true, &cerr);

	RV_ASSERT(text != NULL);
	write_file(path, text);
	rv_wipe(text, strlen(text));
	free(text);
}

int
main(void)
{
	static const uint8_t e65537[] = { 1, 0, 1 };
	char *key_es, *jwks, *key_rsa, *key_p256, *key_other, *jwks_other, *bad;
	char *t, *t2, *cl, *text, *pub_p256, *pub_es, *priv_p256;
	cjose_jwk_t *jwk_es, *jwk_rsa, *jwk_p256, *jwk_small, *oct;
	const char *kid_es;
	char hdr[256];
	cjose_err cerr;
	struct stat st;
	json_t *root;
	int rc;

	dir = fixture_dir("auth");
	key_es = path_of("es384.jwk");
	jwks = path_of("jwks.json");
	key_rsa = path_of("rsa.jwk");
	key_p256 = path_of("p256.jwk");
	key_other = path_of("other.jwk");
	jwks_other = path_of("other.json");
	bad = path_of("bad.json");
	rv_err_init(&err);
	rv_auth_set_clock(test_clock);

	/* rv_auth_keygen */
	ok(rv_auth_keygen(key_es, jwks, false, &err) == 0, "keygen makes a P-384 key and a JWKS");
	ok(stat(key_es, &st) == 0 && (st.st_mode & 0777) == 0600, "the private key file is 0600");
	ok(stat(jwks, &st) == 0 && (st.st_mode & 0777) == 0644, "the JWKS is 0644");
	root = json_load_file(jwks, 0, NULL);
	{
		json_t *k = json_array_get(json_object_get(root, "keys"), 0);
		const char *kid = json_string_value(json_object_get(k, "kid"));

		ok(json_array_size(json_object_get(root, "keys")) == 1 &&
		   kid != NULL && strlen(kid) == 16 &&
		   strspn(kid, "0123456789abcdefghijklmnopqrstuvwxyz") == 16 &&
		   strcmp(json_string_value(json_object_get(k, "use")), "sig") == 0 &&
		   strcmp(json_string_value(json_object_get(k, "alg")), "ES384") == 0 &&
		   strcmp(json_string_value(json_object_get(k, "crv")), "P-384") == 0 &&
		   json_object_get(k, "d") == NULL,
		   "the JWKS holds the public key: 16-char kid, use sig, alg ES384, no d");
	}
	json_decref(root);
	text = read_file(key_es);
	jwk_es = cjose_jwk_import(text, strlen(text), &cerr);
	ok(jwk_es != NULL && strstr(text, "\"d\":") != NULL &&
	   strstr(text, "\"alg\":\"ES384\"") != NULL,
	   "the key file is a private JWK with alg ES384");
	rv_wipe(text, strlen(text));
	free(text);
	kid_es = cjose_jwk_get_kid(jwk_es, &cerr);
	rv_err_release(&err);
	ok(rv_auth_keygen(key_es, jwks, false, &err) < 0 && err.status == 500 &&
	   strstr(err.msg, "es384.jwk") != NULL, "keygen will not overwrite a key by default");
	root = json_load_file(jwks, 0, NULL);
	ok(json_array_size(json_object_get(root, "keys")) == 1, "and leaves the JWKS alone then");
	json_decref(root);
	rv_err_release(&err);
	ok(rv_auth_keygen(key_other, jwks_other, false, &err) == 0 &&
	   rv_auth_keygen(key_other, jwks_other, true, &err) == 0,
	   "keygen overwrites when asked");
	root = json_load_file(jwks_other, 0, NULL);
	ok(json_array_size(json_object_get(root, "keys")) == 2 && stat(key_other, &st) == 0 &&
	   (st.st_mode & 0777) == 0600, "and keeps the keys already in the JWKS");
	json_decref(root);

	/* RSA 2048 and P-256 keys from cjose, added to the JWKS */
	jwk_rsa = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &cerr);
	jwk_p256 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
	RV_ASSERT(jwk_rsa != NULL && jwk_p256 != NULL);
	cjose_jwk_set_kid(jwk_rsa, "rsa-1", 5, &cerr);
	cjose_jwk_set_kid(jwk_p256, "p256-1", 6, &cerr);
	write_private(key_rsa, jwk_rsa);
	write_private(key_p256, jwk_p256);
	add_to_jwks(jwks, jwk_rsa);
	add_to_jwks(jwks, jwk_p256);
	pub_p256 = cjose_jwk_to_json(jwk_p256, false, &cerr);
	priv_p256 = cjose_jwk_to_json(jwk_p256, true, &cerr);
	pub_es = cjose_jwk_to_json(jwk_es, false, &cerr);

	rv_conf_defaults(&conf);
	set_str(&conf.auth_jwks, jwks);
	set_str(&conf.auth_issuer, ISS);
	set_str(&conf.auth_audience, AUD);
	set_str(&conf.auth_first_party, "app-1st demo-app");
	conf.auth_leeway = 60;
	rv_err_release(&err);
	rc = rv_auth_setup(&conf, &err);
	if (!ok(rc == 0, "setup loads the JWKS of three keys"))
		diag("%s", err.msg);

	/* good tokens */
	t = mint(key_es, ISS, AUD, "u1", "app-1st", "openid profile", 3600);
	good_token(t, "a good ES384 token (P-384, Logto's default)");
	ok(strcmp(c.client_id, "app-1st") == 0 && strcmp(c.scope, "openid profile") == 0 &&
	   c.exp == NOW + 3600 && c.first_party && !c.user_is_username,
	   "the caller has client_id, scope, exp and first_party");
	ok(rv_auth_has_scope(&c, "profile") && !rv_auth_has_scope(&c, "email") &&
	   !rv_auth_has_scope(&c, "open"), "has_scope matches whole words");
	rv_err_release(&err);
	ok(rv_auth_require_first_party(&c, &err) == 0,
	   "a first-party client passes the first-party check");
	t2 = rv_xasprintf("bearer %s", t);
	failed(run(t2, NULL), 401, "auth.authorization_token_type_not_supported", NULL, t,
	       "'bearer' in lower case is not a supported type");
	free(t2);
	free(t);

	t = mint(key_p256, ISS, AUD, "u1", NULL, "openid", 600);
	good_token(t, "a good ES256 token (P-256)");
	ok(c.client_id[0] == '\0' && !c.first_party, "no client_id: not first party");
	rv_err_release(&err);
	ok(rv_auth_require_first_party(&c, &err) < 0 && err.status == 403 &&
	   strcmp(err.code, "auth.third_party_application_forbidden") == 0,
	   "no client_id fails the first-party check (403)");
	free(t);
	t = mint(key_rsa, ISS, AUD, "u1", "demo-app", "openid", 600);
	good_token(t, "a good RS256 token (RSA 2048)");
	free(t);

	/* the cache of accepted tokens (rv-auth.c, "Tokens verified before") */
	{
		enum { NTOK = 200 };
		char *tok[NTOK], sub[16];
		unsigned long h0, m0, h1, m1;
		int i, round, good = 0;

		for (i = 0; i < NTOK; i++) {
			snprintf(sub, sizeof(sub), "c%d", i);
			tok[i] = mint(key_es, ISS, AUD, sub, "demo-app", "openid", 600);
		}
		rv_auth_cache_stats(&h0, &m0);
		for (round = 0; round < 2; round++) {
			for (i = 0; i < NTOK; i++) {
				snprintf(sub, sizeof(sub), "c%d", i);
				good += run_token(tok[i]) == 0 && strcmp(c.user, sub) == 0 &&
					c.exp == NOW + 600 && c.first_party &&
					strcmp(c.client_id, "demo-app") == 0 &&
					strcmp(c.scope, "openid") == 0;
			}
		}
		rv_auth_cache_stats(&h1, &m1);
		ok(good == 2 * NTOK, "200 tokens, each twice: each gives its own caller both times");
		ok(m1 - m0 >= NTOK && h1 - h0 >= NTOK * 95 / 100,
		   "the second time comes from the cache (%lu hits, %lu misses)",
		   h1 - h0, m1 - m0);
		clock_offset = 600 + conf.auth_leeway;
		unauthorized(tok[0], "expired", "a kept token is refused once it expires");
		clock_offset = 0;
		ok(run_token(tok[1]) == 0 && strcmp(c.user, "c1") == 0,
		   "a kept token still in its time is accepted");
		set_str(&conf.auth_audience, "someone-else");
		unauthorized(tok[1], "aud", "a kept token is judged again when <auth> changes");
		set_str(&conf.auth_audience, AUD);
		for (i = 0; i < NTOK; i++)
			free(tok[i]);
	}

	/* the Authorization header */
	failed(run(NULL, NULL), 401, "auth.authorization_header_missing", NULL, NULL,
	       "no Authorization header: 401 auth.authorization_header_missing");
	is_str(err.headers, "WWW-Authenticate: Bearer realm=\"reverify\"\r\n",
	       "with WWW-Authenticate: Bearer realm=\"reverify\"");
	failed(run("", NULL), 401, "auth.authorization_header_missing", NULL, NULL,
	       "an empty Authorization header counts as missing");
	failed(run("Basic x", NULL), 401, "auth.authorization_token_type_not_supported", NULL, NULL,
	       "Basic: 401 auth.authorization_token_type_not_supported");
	text = err.data ? json_dumps(err.data, JSON_COMPACT) : NULL;
	is_str(text, "{\"supportedTypes\":[\"Bearer\"]}", "with data {\"supportedTypes\":[\"Bearer\"]}");
	free(text);
	failed(run("Bearer ", NULL), 401, "auth.unauthorized", "empty", NULL,
	       "'Bearer ' with nothing after: 401 auth.unauthorized");
	is_str(err.headers, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n",
	       "with WWW-Authenticate: Bearer error=\"invalid_token\"");
	unauthorized("garbage", "compact JWS", "garbage: 401 auth.unauthorized");
	unauthorized("a.b.c.d", "compact JWS", "four parts: 401 auth.unauthorized");
	{
		char *big = rv_xmalloc(17 * 1024 + 1);

		memset(big, 'A', 17 * 1024);
		big[17 * 1024] = '\0';
		unauthorized(big, "longer than 16384", "a 17 KiB token: 401 auth.unauthorized");
		free(big);
	}

	/* the header and the key */
	cl = claims(NOW + 600, "");
	{
		char *h, *p;

		snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\"}", kid_es);
		h = b64(hdr);
		p = b64(cl);
		t = rv_xasprintf("%s.%s.", h, p);
		unauthorized(t, "'none' is refused", "alg none (unsigned): 401");
		free(t);
		t = rv_xasprintf("%s.%s.c2ln", h, p);
		unauthorized(t, "'none' is refused", "alg none with a signature: 401");
		free(t);
		free(h);
		/* a duplicate alg: cjose would take the last one */
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES384\",\"kid\":\"%s\",\"alg\":\"none\"}", kid_es);
		h = b64(hdr);
		t = rv_xasprintf("%s.%s.c2ln", h, p);
		unauthorized(t, "not JSON (duplicate member", "a header with alg twice: 401");
		free(t);
		free(h);
		h = b64("not json");
		t = rv_xasprintf("%s.%s.c2ln", h, p);
		unauthorized(t, "not JSON", "a header that is not JSON: 401");
		free(t);
		free(h);
		free(p);
	}
	/* HMAC keyed with the public key: the classic algorithm confusion */
	text = cjose_jwk_to_json(jwk_rsa, false, &cerr);
	oct = cjose_jwk_create_oct_spec((const uint8_t *)text, strlen(text), &cerr);
	free(text);
	t = sign(oct, "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", cl);
	unauthorized(t, "'HS256' is refused", "HS256 keyed with the RSA public key: 401");
	free(t);
	cjose_jwk_release(oct);
	t = sign(jwk_es, "{\"alg\":\"ES384\",\"kid\":\"rsa-1\"}", cl);
	unauthorized(t, "does not fit key 'rsa-1' (RSA)", "ES384 header over the RSA key: 401");
	free(t);
	t = sign(jwk_rsa, "{\"alg\":\"RS256\",\"kid\":\"p256-1\"}", cl);
	unauthorized(t, "does not fit", "RS256 header over an EC key: 401");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid_es);
	t = sign(jwk_p256, hdr, cl);
	unauthorized(t, "does not fit", "ES256 header over the P-384 key (wrong curve): 401");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"kid\":\"%s\"}", kid_es);
	t = sign(jwk_rsa, hdr, cl);
	unauthorized(t, "does not fit", "PS256 header over an EC key: 401");
	free(t);
	t = sign(jwk_rsa, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", cl);
	good_token(t, "a PS256 token over the RSA key");
	free(t);
	t = mint(key_other, ISS, AUD, "u1", NULL, "openid", 600);
	unauthorized(t, "is not in the JWKS", "an unknown kid: 401");
	free(t);
	t = sign(jwk_es, "{\"alg\":\"ES384\"}", cl);
	unauthorized(t, "no kid and the JWKS has 3 keys", "no kid with three keys in the JWKS: 401");
	free(t);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES384\",\"kid\":\"%s\","
		 "\"crit\":[\"b64\"],\"b64\":true}", kid_es);
	t = sign(jwk_es, hdr, cl);
	unauthorized(t, "has crit", "a crit header: 401");
	free(t);

	/* the signature */
	t = mint(key_es, ISS, AUD, "u1", "app-1st", "openid", 600);
	{
		char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.'), *p, *forged;

		p = b64("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"admin\","
			"\"scope\":\"openid\",\"exp\":1700000600}");
		forged = rv_xasprintf("%.*s.%s%s", (int)(dot1 - t), t, p, dot2);
		unauthorized(forged, "signature does not verify", "a tampered payload: 401");
		free(forged);
		free(p);
		forged = rv_xstrdup(t);
		forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
		unauthorized(forged, "signature does not verify", "a tampered signature: 401");
		free(forged);
		forged = rv_xstrndup(t, (size_t)(dot2 + 1 - t));
		unauthorized(forged, "no signature", "a signature cut off: 401");
		free(forged);
	}
	free(t);

	/* the claims */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES384\",\"kid\":\"%s\"}", kid_es);
	t = sign(jwk_es, hdr, "[1,2]");
	unauthorized(t, "not a JSON object", "claims that are not an object: 401");
	free(t);
	t = mint(key_es, "https://evil.example/oidc", AUD, "u1", NULL, "openid", 600);
	unauthorized(t, "iss 'https://evil.example/oidc'", "a wrong iss: 401");
	free(t);
	t = mint(key_es, ISS, "https://other.example", "u1", NULL, "openid", 600);
	unauthorized(t, "aud does not name", "a wrong aud: 401");
	free(t);
	free(cl);
	cl = rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":[\"https://x.example\",\"" AUD "\"],"
			  "\"sub\":\"u1\",\"scope\":\"openid\",\"exp\":%lld}", NOW + 60);
	t = sign(jwk_es, hdr, cl);
	good_token(t, "an aud array holding the audience");
	free(t);
	free(cl);
	cl = rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":[\"https://x.example\"],"
			  "\"sub\":\"u1\",\"scope\":\"openid\",\"exp\":%lld}", NOW + 60);
	t = sign(jwk_es, hdr, cl);
	unauthorized(t, "aud does not name", "an aud array without the audience: 401");
	free(t);
	free(cl);
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", -61);
	unauthorized(t, "expired 61 s ago", "expired 61 s ago, past the 60 s leeway: 401");
	free(t);
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", -60);
	unauthorized(t, "expired 60 s ago", "expired exactly the leeway ago: 401");
	free(t);
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", -59);
	good_token(t, "expired 59 s ago, within the leeway: ok");
	free(t);
	cl = claims(NOW + 600, ",\"nbf\":1700000061");
	t = sign(jwk_es, hdr, cl);
	unauthorized(t, "not valid for another 61 s", "nbf 61 s ahead: 401");
	free(t);
	free(cl);
	cl = claims(NOW + 600, ",\"nbf\":1700000060");
	t = sign(jwk_es, hdr, cl);
	good_token(t, "nbf 60 s ahead, within the leeway: ok");
	free(t);
	free(cl);
	t = sign(jwk_es, hdr, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
		 "\"sub\":\"u1\",\"scope\":\"openid\"}");
	unauthorized(t, "no exp", "no exp: 401");
	free(t);
	t = sign(jwk_es, hdr, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
		 "\"sub\":\"u1\",\"scope\":\"openid\",\"exp\":\"1800000000\"}");
	unauthorized(t, "exp is not a date", "exp as a string: 401");
	free(t);
	cl = rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"scope\":\"openid\","
			  "\"client_id\":\"app-1st\",\"exp\":%lld}", NOW + 60);
	t = sign(jwk_es, hdr, cl);
	unauthorized(t, "no sub", "no sub (a client credentials token): 401");
	free(t);
	free(cl);
	t = mint(key_es, ISS, AUD, "", NULL, "openid", 600);
	unauthorized(t, "no sub", "an empty sub: 401");
	free(t);
	t = mint(key_es, ISS, AUD, "u\n1", NULL, "openid", 600);
	unauthorized(t, "control characters", "a sub with a newline: 401");
	free(t);
	{
		char longer[257];

		memset(longer, 'x', 256);
		longer[256] = '\0';
		t = mint(key_es, ISS, AUD, longer, NULL, "openid", 600);
		unauthorized(t, "longer than 255", "a sub of 256 bytes: 401");
		free(t);
		t = mint(key_es, ISS, AUD, "u1", longer, "openid", 600);
		unauthorized(t, "client_id is longer than 255", "a client_id of 256 bytes: 401");
		free(t);
		longer[255] = '\0';
		t = mint(key_es, ISS, AUD, longer, NULL, "openid", 600);
		rc = run_token(t);
		ok(rc == 0 && strlen(c.user) == 255, "a sub of 255 bytes is fine");
		free(t);
	}
	t = mint(key_es, ISS, AUD, "u1", "app-1st", "profile email", 600);
	bad_token(t, 403, "auth.forbidden", "lacks openid", "no openid scope: 403 auth.forbidden");
	free(t);
	t = mint(key_es, ISS, AUD, "u1", "app-1st", NULL, 600);
	bad_token(t, 403, "auth.forbidden", "lacks openid", "no scope claim at all: 403 auth.forbidden");
	free(t);
	cl = rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u1\","
			  "\"scp\":[\"openid\",\"email\"],\"exp\":%lld}", NOW + 60);
	t = sign(jwk_es, hdr, cl);
	good_token(t, "scopes as an scp array");
	ok(strcmp(c.scope, "openid email") == 0 && rv_auth_has_scope(&c, "email"),
	   "scp becomes the scope list");
	free(t);
	free(cl);

	/* first party */
	t = mint(key_es, ISS, AUD, "u1", "other-app", "openid", 600);
	good_token(t, "a third-party client is authenticated");
	rv_err_release(&err);
	rc = rv_auth_require_first_party(&c, &err);
	ok(rc < 0 && err.status == 403 &&
	   strcmp(err.code, "auth.third_party_application_forbidden") == 0 && !c.first_party,
	   "but fails the first-party check: 403 auth.third_party_application_forbidden");
	free(t);
	cl = rv_xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u1\","
			  "\"scope\":\"openid\",\"azp\":\"demo-app\",\"exp\":%lld}", NOW + 60);
	t = sign(jwk_es, hdr, cl);
	good_token(t, "a token with azp and no client_id");
	ok(strcmp(c.client_id, "demo-app") == 0 && c.first_party, "azp stands in for client_id");
	free(t);
	free(cl);
	ok(tokens_checked >= 30 && tokens_leaked == 0,
	   "err->msg never held the token (%d failures checked)", tokens_checked);
	ok(challenges_missing == 0, "every 401 in jwt mode had a WWW-Authenticate challenge");

	/* restricted algorithms */
	set_str(&conf.auth_algorithms, "ES384");
	rv_err_release(&err);
	ok(rv_auth_setup(&conf, &err) == 0,
	   "setup with algorithms ES384 only (RSA and P-256 keys skipped)");
	t = mint(key_rsa, ISS, AUD, "u1", NULL, "openid", 600);
	unauthorized(t, "'RS256' is not in <auth algorithms>", "an RS256 token then: 401");
	free(t);
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", 600);
	good_token(t, "an ES384 token still passes");
	free(t);
	set_str(&conf.auth_algorithms, "RS256 HS256");
	setup_fails("'HS256' is refused", "setup refuses HS256 in <auth algorithms>");
	set_str(&conf.auth_algorithms, "RS256 none");
	setup_fails("'none' is refused", "setup refuses none in <auth algorithms>");
	set_str(&conf.auth_algorithms, "EdDSA");
	setup_fails("'EdDSA' is not supported", "setup refuses EdDSA (not in cjose 0.6)");
	set_str(&conf.auth_algorithms, "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512");
	rv_auth_release();
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", 600);
	bad_token(t, 500, RV_E_INTERNAL, "no JWKS loaded", "without setup a token gets 500, not a pass");
	free(t);

	/* setup refusals */
	set_str(&conf.auth_jwks, bad);
	setup_fails("bad.json", "setup refuses a missing JWKS file, naming it");
	write_jwks(bad, priv_p256, NULL);
	setup_fails("has private part \"d\"", "setup refuses a JWKS with a private key");
	write_jwks(bad, NULL, NULL);
	setup_fails("has 0 keys", "setup refuses an empty JWKS");
	write_file(bad, "this is not JSON\n");
	setup_fails("is not valid JSON", "setup refuses a JWKS that is not JSON");
	write_file(bad, "{\"kty\":\"EC\"}");
	setup_fails("no \"keys\" array", "setup refuses a single JWK where a set belongs");
	write_jwks(bad, "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", NULL);
	setup_fails("private part \"k\"", "setup refuses a symmetric key");
	jwk_small = cjose_jwk_create_RSA_random(1024, e65537, sizeof(e65537), &cerr);
	RV_ASSERT(jwk_small != NULL);
	text = cjose_jwk_to_json(jwk_small, false, &cerr);
	write_jwks(bad, text, NULL);
	setup_fails("RSA with 1024 bits", "setup refuses an RSA key under 2048 bits");
	free(text);
	cjose_jwk_release(jwk_small);
	write_jwks(bad, pub_es, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}");
	setup_fails("cannot be imported", "setup refuses a broken EC key");
	/* found by t/fuzz/fuzz-jwks: cjose 0.6 asserts (aborts the process)
	 * on "=" after 1 mod 4 base64url characters */
	write_jwks(bad, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AAAAA===\"}", NULL);
	setup_fails("has a bad \"n\" (misplaced \"=\" padding)",
		    "setup refuses an RSA n cjose would abort on");
	write_jwks(bad, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA=A\",\"y\":\"AA\"}",
		   NULL);
	setup_fails("has a bad \"x\"", "setup refuses text after the padding");
	{
		json_t *jk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "e", "AQ==",
				       "n", "AAAAAA");

		ok(rv_auth_jwk_bad_member(jk) == NULL,
		   "padding at the end of a value is let through");
		json_object_set_new(jk, "e", json_string("AQ=B"));
		is_str(rv_auth_jwk_bad_member(jk), "e", "the bad member is named");
		json_decref(jk);
	}
	/* pub_p256 has a kid; make one without */
	{
		cjose_jwk_t *nokid = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);

		text = cjose_jwk_to_json(nokid, false, &cerr);
		write_jwks(bad, pub_es, text);
		setup_fails("no kid", "setup refuses a kid-less key in a set of two");
		write_jwks(bad, text, NULL);
		rv_err_release(&err);
		ok(rv_auth_setup(&conf, &err) == 0, "a single kid-less key is fine");
		t = mint(key_es, ISS, AUD, "u1", NULL, "openid", 600);
		unauthorized(t, "is not in the JWKS", "a token with a kid the kid-less set lacks: 401");
		free(t);
		free(text);
		cjose_jwk_release(nokid);
	}
	write_jwks(bad, pub_es, pub_es);
	setup_fails("used twice", "setup refuses a kid used twice");
	text = cjose_jwk_to_json(jwk_rsa, false, &cerr);
	t2 = rv_xasprintf("{\"alg\":\"ES256\",%s", text + 1);
	write_jwks(bad, t2, NULL);
	setup_fails("says alg ES256, which does not fit its RSA key",
		    "setup refuses a JWK whose alg does not fit its key");
	free(t2);
	t2 = rv_xasprintf("{\"alg\":\"RS256\",%s", text + 1);
	write_jwks(bad, t2, NULL);
	rv_err_release(&err);
	ok(rv_auth_setup(&conf, &err) == 0, "an RSA key marked alg RS256 loads");
	t = mint(key_rsa, ISS, AUD, "u1", NULL, "openid", 600);
	good_token(t, "and verifies an RS256 token");
	free(t);
	cl = claims(NOW + 600, "");
	t = sign(jwk_rsa, "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", cl);
	unauthorized(t, "does not fit key 'rsa-1' (RSA, alg RS256)",
		     "but not a PS256 token: the JWK's alg is binding");
	free(t);
	free(cl);
	free(t2);
	free(text);
	text = rv_xasprintf("{\"use\":\"enc\",%s", pub_p256 + 1);
	write_jwks(bad, text, NULL);
	setup_fails("no usable signature key", "setup refuses a JWKS of encryption keys only");
	write_jwks(bad, text, pub_es);
	rv_err_release(&err);
	ok(rv_auth_setup(&conf, &err) == 0, "an encryption key beside a signature key is skipped");
	free(text);
	t = mint(key_es, ISS, AUD, "u1", NULL, "openid", 600);
	good_token(t, "and the signature key verifies");
	free(t);
	t = mint(key_p256, ISS, AUD, "u1", NULL, "openid", 600);
	unauthorized(t, "is not in the JWKS", "but the skipped encryption key does not");
	free(t);
	set_str(&conf.auth_jwks, jwks);
	set_str(&conf.auth_issuer, "");
	setup_fails("<auth issuer> is not set", "setup refuses jwt mode without an issuer");
	set_str(&conf.auth_issuer, ISS);
	set_str(&conf.auth_audience, "");
	setup_fails("<auth audience> is not set", "setup refuses jwt mode without an audience");
	set_str(&conf.auth_audience, AUD);

	/* remote-user mode */
	conf.auth_mode = RV_CONF_AUTH_REMOTE_USER;
	set_str(&conf.auth_jwks, bad);
	unlink(bad);
	rv_err_release(&err);
	ok(rv_auth_setup(&conf, &err) == 0, "remote-user mode loads no JWKS");
	rc = run(NULL, "alice");
	ok(rc == 0 && strcmp(c.user, "alice") == 0 && !c.user_is_username && c.first_party &&
	   c.exp == 0 && c.client_id[0] == '\0' &&
	   strcmp(c.scope, "openid profile email phone custom_data identities") == 0,
	   "REMOTE_USER is the caller, first party, with the user scopes");
	conf.auth_remote_user = RV_CONF_REMOTE_USER_USERNAME;
	rc = run("Bearer ignored", "bob");
	ok(rc == 0 && strcmp(c.user, "bob") == 0 && c.user_is_username,
	   "remote-user=\"username\" marks the user as a username; Authorization is ignored");
	failed(run(NULL, NULL), 401, "auth.unauthorized", "REMOTE_USER is not set", NULL,
	       "no REMOTE_USER: 401 auth.unauthorized");
	failed(run(NULL, ""), 401, "auth.unauthorized", "REMOTE_USER is not set", NULL,
	       "an empty REMOTE_USER: 401 auth.unauthorized");
	failed(run(NULL, "a\tb"), 401, "auth.unauthorized", "control characters", NULL,
	       "a REMOTE_USER with a tab: 401 auth.unauthorized");
	failed(run(NULL, "\xc3\x28"), 401, "auth.unauthorized", "not UTF-8", NULL,
	       "a REMOTE_USER that is not UTF-8: 401 auth.unauthorized");

	rv_auth_release();
	rv_auth_set_clock(NULL);
	rv_err_release(&err);
	rv_conf_release(&conf);
	rv_arena_release(&arena);
	cjose_jwk_release(jwk_es);
	cjose_jwk_release(jwk_rsa);
	cjose_jwk_release(jwk_p256);
	free(pub_es);
	free(pub_p256);
	rv_wipe(priv_p256, strlen(priv_p256));
	free(priv_p256);
	fixture_cleanup();
	free(key_es);
	free(jwks);
	free(key_rsa);
	free(key_p256);
	free(key_other);
	free(jwks_other);
	free(bad);
	return done_testing();
}
