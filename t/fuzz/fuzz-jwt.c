/* fuzz-jwt.c: bearer tokens: the compact JWS, its header and its claims
 *
 * The first byte picks how the rest becomes the Authorization header:
 *  0: the rest is the header value itself ("Bearer ..." or anything);
 *  1: the rest is the claims (JSON), signed with the JWKS's key (ES384,
 *     its kid), so that the claim checks run after a good signature;
 *  2: the rest is header JSON NUL claims JSON: signed by cjose when it
 *     can with that header, else sent with a signature that cannot verify,
 *     so that every header the fuzzer makes reaches the header checks.
 * The caller is authenticated by rv_auth_caller() against a JWKS of one
 * EC P-384 key made at start (and a second one, so that kids matter), with
 * a fixed clock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-auth.h"
#include "rv-mint.h"

#define NOW 1800000000

static struct rv_conf conf;
static cjose_jwk_t *key;
static char *kid;

static time_t
fixed_clock(void)
{
	return NOW;
}

static json_t *
load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (j == NULL) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		abort();
	}
	return j;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char key_path[4300], key2_path[4300], jwks_path[4300], *s;
	struct rv_err err;
	cjose_err cerr;
	json_t *j;

	(void)argc;
	(void)argv;
	fuzz_init();
	snprintf(key_path, sizeof(key_path), "%s/key.json", fuzz_tmpdir());
	snprintf(key2_path, sizeof(key2_path), "%s/key2.json", fuzz_tmpdir());
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", fuzz_tmpdir());
	rv_err_init(&err);
	if (rv_auth_keygen(key_path, jwks_path, false, &err) < 0 ||
	    rv_auth_keygen(key2_path, jwks_path, false, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	rv_conf_defaults(&conf);
	fuzz_set_str(&conf.auth_jwks, jwks_path);
	fuzz_set_str(&conf.auth_issuer, "https://id.example.com/oidc");
	fuzz_set_str(&conf.auth_audience, "https://api.example.com");
	fuzz_set_str(&conf.auth_first_party, "app1 app2");
	conf.auth_leeway = 60;
	rv_auth_set_clock(fixed_clock);
	if (rv_auth_setup(&conf, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	j = load_json(key_path);
	kid = rv_xstrdup(json_string_value(json_object_get(j, "kid")));
	s = json_dumps(j, JSON_COMPACT);
	if ((key = cjose_jwk_import(s, strlen(s), &cerr)) == NULL)
		abort();
	free(s);
	json_decref(j);
	return 0;
}

static char *
b64url(const void *data, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	cjose_err cerr;

	if (!cjose_base64url_encode(data, len, &out, &n, &cerr))
		abort();
	return out;
}

/* header (or NULL for the key's own) and claims -> compact JWS, malloc'd */
static char *
make_token(const char *header, const char *claims, size_t claims_len)
{
	cjose_header_t *h;
	cjose_jws_t *jws;
	cjose_err cerr;
	const char *compact = NULL;
	char *tok = NULL, *p1, *p2;
	json_error_t je;

	if (header == NULL) {
		h = json_pack("{s:s, s:s, s:s}", "alg", "ES384", "typ", "at+jwt",
			      "kid", kid);
	} else if ((h = json_loads(header, JSON_DECODE_ANY, &je)) == NULL ||
		   !json_is_object(h)) {
		json_decref(h);
		h = NULL;
	}
	if (h != NULL &&
	    (jws = cjose_jws_sign(key, h, (const uint8_t *)claims, claims_len,
				  &cerr)) != NULL) {
		if (cjose_jws_export(jws, &compact, &cerr))
			tok = rv_xstrdup(compact);
		cjose_jws_release(jws);
	}
	json_decref(h);
	if (tok != NULL || header == NULL)
		return tok;
	p1 = b64url(header, strlen(header));
	p2 = b64url(claims, claims_len);
	tok = rv_xasprintf("%s.%s.AAAA", p1, p2);
	cjose_get_dealloc()(p1);
	cjose_get_dealloc()(p2);
	return tok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_arena arena = RV_ARENA_INIT;
	struct rv_caller c;
	struct rv_req req;
	struct rv_err err;
	char *env[2] = { NULL, NULL }, *tok = NULL, *a, *b;
	const uint8_t *rest;
	size_t rest_len;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		env[0] = rv_arena_printf(&arena, "HTTP_AUTHORIZATION=%s",
					 a = fuzz_strndup(data + 1, size - 1));
		free(a);
		break;
	case 1:
		tok = make_token(NULL, (const char *)data + 1, size - 1);
		break;
	default:
		fuzz_split(data + 1, size - 1, &a, &rest, &rest_len);
		b = fuzz_strndup(rest, rest_len);
		tok = make_token(a, b, rest_len);
		free(a);
		free(b);
		break;
	}
	if (tok != NULL)
		env[0] = rv_arena_printf(&arena, "HTTP_AUTHORIZATION=Bearer %s", tok);
	free(tok);
	if (env[0] == NULL) {
		rv_arena_release(&arena);
		return 0;
	}
	rv_req_init(&req, &arena, &conf, env, NULL, NULL);
	rv_err_init(&err);
	if (rv_auth_caller(&req, &c, &err) == 0) {
		if (c.user[0] == '\0' || !rv_auth_has_scope(&c, "openid"))
			abort();
		rv_auth_require_first_party(&c, &err);
	}
	rv_err_release(&err);
	rv_req_release(&req);
	rv_arena_release(&arena);
	return 0;
}
