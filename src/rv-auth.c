/* rv-auth.c: who is calling: bearer JWT access tokens or REMOTE_USER */
#include "config.h"
#include "rv-auth.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-jwks.h"
#include "rv-req.h"
#include "rv-util.h"

/* A Logto ES384 access token is well under 1 KiB; 16 KiB leaves room for
 * providers that put groups or roles into the token. */
#define TOKEN_MAX	16384
/* NumericDate bound (year 9999): keeps exp + leeway from overflowing. */
#define TIME_MAX	253402300799LL

/* RFC 6750 3 challenges */
#define REALM		"Bearer realm=\"reverify\""
#define INVALID_TOKEN	"Bearer error=\"invalid_token\""

/* What remote-user mode grants: every user scope the routes ask for
 * (logto-spec 6.2) but the sessions and trusted-devices ones. */
static const char remote_user_scope[] =
	"openid profile email phone custom_data identities";

static time_t (*clock_fn)(void);

static int unauthorized(struct rv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void
rv_auth_set_clock(time_t (*now)(void))
{
	clock_fn = now;
}

long long
rv_auth_now(void)
{
	return (long long)(clock_fn != NULL ? clock_fn() : time(NULL));
}

/*
 * Valid UTF-8 without control characters (C0, DEL, C1): what we accept as
 * a user id, client id or scope, since they reach logs and JSON output.
 */
static bool
clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned long cp;
		size_t n, i;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		/* a NUL stops here, so we never read past the string */
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		p += n + 1;
	}
	return true;
}

/* The next word of a space-separated list, or NULL at its end. */
static const char *
next_word(const char **p, size_t *len_r)
{
	const char *w = *p;

	while (*w == ' ')
		w++;
	*len_r = strcspn(w, " ");
	*p = w + *len_r;
	return *len_r > 0 ? w : NULL;
}

/* ---- start-up: the configuration, then the key set (rv-jwks.c) ---------- */

static void token_forget(void);

void
rv_auth_release(void)
{
	token_forget();
	rv_jwks_release();
}

static int
check_algorithms(const char *list, struct rv_err *err)
{
	const char *p = list != NULL ? list : "", *w;
	size_t n, count = 0;

	while ((w = next_word(&p, &n)) != NULL) {
		char name[16];

		if (n >= sizeof(name))
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%.*s...' is not "
					  "supported", (int)sizeof(name), w);
		memcpy(name, w, n);
		name[n] = '\0';
		if (strcmp(name, "none") == 0 || strncmp(name, "HS", 2) == 0)
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%s' is refused (only "
					  "public-key signatures)", name);
		if (rv_jwks_alg(name) == NULL)
			return rv_err_set(err, RV_E_INTERNAL, "<auth "
					  "algorithms>: '%s' is not supported "
					  "(RS*, PS*, ES* only)", name);
		count++;
	}
	if (count == 0)
		return rv_err_set(err, RV_E_INTERNAL,
				  "<auth algorithms> names no algorithm");
	return 0;
}

int
rv_auth_setup(const struct rv_conf *conf, struct rv_err *err)
{
	rv_auth_release();
	if (conf->auth_mode != RV_CONF_AUTH_JWT)
		return 0;
	if (conf->auth_issuer == NULL || *conf->auth_issuer == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "<auth issuer> is "
				  "not set (required in jwt mode)");
	if (conf->auth_audience == NULL || *conf->auth_audience == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "<auth audience> "
				  "is not set (required in jwt mode)");
	if (check_algorithms(conf->auth_algorithms, err) < 0)
		return -1;
	return rv_jwks_load(conf, err);
}

/* ---- per request --------------------------------------------------------- */

/* 401 auth.unauthorized with the RFC 6750 challenge. */
static int
unauthorized(struct rv_err *err, const char *fmt, ...)
{
	char why[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	rv_err_header(err, "WWW-Authenticate", INVALID_TOKEN);
	return rv_err_set(err, "auth.unauthorized", "%s", why);
}

/* jansson's error text quotes the input ("near '...'"), which must not
 * reach the log from a token: name the kind of error only. */
static const char *
json_error_what(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_duplicate_key:
		return "duplicate member";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "NUL character";
	case json_error_end_of_input_expected:
		return "trailing data";
	case json_error_premature_end_of_input:
		return "truncated";
	default:
		return "syntax error";
	}
}

static bool
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Reads the protected header ourselves (duplicate members refused, which
 * cjose does not do) and picks the key. 0 with *k_r and *a_r, or -1.
 */
static int
pick_key(const struct rv_conf *conf, const char *token, size_t hlen,
	 const struct rv_jwks_key **k_r, const struct rv_jwks_alg **a_r,
	 struct rv_err *err)
{
	const struct rv_jwks_alg *a;
	const struct rv_jwks_key *k = NULL;
	const char *alg, *kid = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = 0, i;
	json_error_t jerr;
	cjose_err cerr;
	json_t *hdr, *v;
	char b1[48], b2[48];
	size_t nkeys;
	const struct rv_jwks_key *keys = rv_jwks_keys(&nkeys);
	int rc = -1;

	if (!cjose_base64url_decode(token, hlen, &raw, &rawlen, &cerr))
		return unauthorized(err, "token header is not base64url");
	hdr = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES,
			 &jerr);
	cjose_get_dealloc()(raw);
	if (hdr == NULL)
		return unauthorized(err, "token header is not JSON (%s at "
				    "byte %d)", json_error_what(&jerr),
				    jerr.position);
	if (!json_is_object(hdr)) {
		unauthorized(err, "token header is not a JSON object");
		goto out;
	}
	if ((alg = json_string_value(json_object_get(hdr, "alg"))) == NULL) {
		unauthorized(err, "token header has no alg");
		goto out;
	}
	if (strcmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0) {
		unauthorized(err, "token alg '%s' is refused (not a public-key "
			     "signature)", rv_str_show(alg, b1, sizeof(b1)));
		goto out;
	}
	if ((a = rv_jwks_alg(alg)) == NULL ||
	    !rv_conf_list_has(conf->auth_algorithms, a->name)) {
		unauthorized(err, "token alg '%s' is not in <auth algorithms>",
			     rv_str_show(alg, b1, sizeof(b1)));
		goto out;
	}
	/* RFC 7515 4.1.11: we understand no extension */
	if (json_object_get(hdr, "crit") != NULL) {
		unauthorized(err, "token header has crit (not supported)");
		goto out;
	}
	if ((v = json_object_get(hdr, "kid")) != NULL) {
		if (!json_is_string(v)) {
			unauthorized(err, "token kid is not a string");
			goto out;
		}
		kid = json_string_value(v);
		for (i = 0; i < nkeys && k == NULL; i++)
			if (keys[i].kid != NULL &&
			    strcmp(keys[i].kid, kid) == 0)
				k = &keys[i];
		if (k == NULL) {
			unauthorized(err, "token kid '%s' is not in the JWKS",
				     rv_str_show(kid, b1, sizeof(b1)));
			goto out;
		}
	} else if (nkeys == 1) {
		k = &keys[0];
	} else {
		unauthorized(err, "token has no kid and the JWKS has %zu keys",
			     nkeys);
		goto out;
	}
	if (!rv_jwks_alg_fits(a, k)) {
		unauthorized(err, "token alg %s does not fit key '%s' "
			     "(%s%s%s)", a->name,
			     k->kid ? rv_str_show(k->kid, b2, sizeof(b2)) : "",
			     rv_jwks_key_kind(k), k->alg ? ", alg " : "",
			     k->alg ? k->alg->name : "");
		goto out;
	}
	*k_r = k;
	*a_r = a;
	rc = 0;
out:
	json_decref(hdr);
	return rc;
}

/* Checks the compact JWS and its signature; *claims_r is the payload. */
static int
verify_token(const struct rv_conf *conf, const char *token, size_t len,
	     json_t **claims_r, struct rv_err *err)
{
	const char *dot1, *dot2, *calg;
	const struct rv_jwks_key *k = NULL;
	const struct rv_jwks_alg *a = NULL;
	cjose_jws_t *jws;
	cjose_err cerr;
	json_error_t jerr;
	uint8_t *pt = NULL;
	size_t i, ptlen = 0;
	json_t *claims;

	dot1 = memchr(token, '.', len);
	dot2 = dot1 == NULL ? NULL :
	       memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return unauthorized(err, "token is not a compact JWS (three "
				    "dot-separated parts)");
	for (i = 0; i < len; i++)
		if (token + i != dot1 && token + i != dot2 &&
		    !is_b64url(token[i]))
			return unauthorized(err, "token is not a compact JWS "
					    "(byte %zu is not base64url)", i);
	if (dot1 == token || dot2 == dot1 + 1)
		return unauthorized(err, "token is not a compact JWS (empty "
				    "header or payload)");
	if (pick_key(conf, token, (size_t)(dot1 - token), &k, &a, err) < 0)
		return -1;
	if (dot2 + 1 == token + len)
		return unauthorized(err, "token has no signature");

	if ((jws = cjose_jws_import(token, len, &cerr)) == NULL)
		return unauthorized(err, "token is not a JWS: %s",
				    cerr.message);
	/* cjose_jws_verify() goes by cjose's reading of alg: it must be ours */
	calg = json_string_value(json_object_get(cjose_jws_get_protected(jws),
						 "alg"));
	/* pick_key() set a when it returned 0; the analyzer does not follow
	 * the variadic unauthorized() to see that its other result is -1 */
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	if (calg == NULL || strcmp(calg, a->name) != 0) {
		cjose_jws_release(jws);
		return unauthorized(err, "token alg read differently by cjose");
	}
	if (!cjose_jws_verify(jws, k->jwk, &cerr)) {
		char b[48];

		cjose_jws_release(jws);
		return unauthorized(err, "token signature does not verify with "
				    "key '%s' (%s)",
				    k->kid ? rv_str_show(k->kid, b, sizeof(b)) : "",
				    a->name);
	}
	if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &cerr)) {
		cjose_jws_release(jws);
		return unauthorized(err, "token payload unreadable: %s",
				    cerr.message);
	}
	/* pt belongs to jws */
	claims = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES,
			    &jerr);
	cjose_jws_release(jws);
	if (claims == NULL)
		return unauthorized(err, "token claims are not JSON (%s at "
				    "byte %d)", json_error_what(&jerr),
				    jerr.position);
	if (!json_is_object(claims)) {
		json_decref(claims);
		return unauthorized(err, "token claims are not a JSON object");
	}
	*claims_r = claims;
	return 0;
}

/* A NumericDate claim: 1 present, 0 absent, -1 not a usable number. */
static int
time_claim(json_t *claims, const char *name, long long *t_r)
{
	json_t *v = json_object_get(claims, name);
	double d;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		*t_r = (long long)json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!(d >= -(double)TIME_MAX && d <= (double)TIME_MAX))
			return -1;
		*t_r = (long long)d;
	} else {
		return -1;
	}
	return *t_r >= -TIME_MAX && *t_r <= TIME_MAX ? 1 : -1;
}

/* Appends the words of s to the scope list, dropping those that do not
 * fit whole (a cut word could name another scope). */
static void
add_scopes(char *dst, size_t size, const char *s)
{
	size_t len = strlen(dst), n;
	const char *w;

	while ((w = next_word(&s, &n)) != NULL) {
		if (len + (len > 0) + n >= size)
			continue;
		if (len > 0)
			dst[len++] = ' ';
		memcpy(dst + len, w, n);
		len += n;
		dst[len] = '\0';
	}
}

static int
check_claims(const struct rv_conf *conf, json_t *claims, struct rv_caller *c,
	     struct rv_err *err)
{
	const char *s;
	json_t *v, *e;
	long long now = rv_auth_now(), leeway = conf->auth_leeway, exp, nbf;
	size_t i;
	bool aud_ok = false;
	char b[48];
	int r;

	if ((s = json_string_value(json_object_get(claims, "iss"))) == NULL)
		return unauthorized(err, "token has no iss");
	if (strcmp(s, conf->auth_issuer) != 0)
		return unauthorized(err, "token iss '%s' is not <auth issuer>",
				    rv_str_show(s, b, sizeof(b)));
	v = json_object_get(claims, "aud");
	if (json_is_string(v)) {
		aud_ok = strcmp(json_string_value(v), conf->auth_audience) == 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = json_string_value(e);
			if (s != NULL && strcmp(s, conf->auth_audience) == 0)
				aud_ok = true;
		}
	}
	if (!aud_ok)
		return unauthorized(err, "token aud does not name <auth "
				    "audience>");

	if ((r = time_claim(claims, "exp", &exp)) == 0)
		return unauthorized(err, "token has no exp");
	if (r < 0)
		return unauthorized(err, "token exp is not a date");
	if (exp + leeway <= now)
		return unauthorized(err, "token expired %lld s ago (leeway "
				    "%lld s)", now - exp, leeway);
	if ((r = time_claim(claims, "nbf", &nbf)) < 0)
		return unauthorized(err, "token nbf is not a date");
	if (r > 0 && nbf > now + leeway)
		return unauthorized(err, "token not valid for another %lld s "
				    "(nbf, leeway %lld s)", nbf - now, leeway);

	/* logto-spec 7: no accountId (client credentials) is a 401 */
	if ((s = json_string_value(json_object_get(claims, "sub"))) == NULL ||
	    *s == '\0')
		return unauthorized(err, "token has no sub");
	if (strlen(s) >= sizeof(c->user) || !clean_text(s))
		return unauthorized(err, "token sub is longer than 255 bytes "
				    "or has control characters");
	rv_strlcpy(c->user, s, sizeof(c->user));

	v = json_object_get(claims, "client_id");
	if (v == NULL || json_is_null(v))
		v = json_object_get(claims, "azp");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return unauthorized(err, "token client_id is not a "
					    "string");
		s = json_string_value(v);
		if (strlen(s) >= sizeof(c->client_id) || !clean_text(s))
			return unauthorized(err, "token client_id is longer "
					    "than 255 bytes or has control "
					    "characters");
		rv_strlcpy(c->client_id, s, sizeof(c->client_id));
	}

	/* the sign-in session (OpenID Connect Front-Channel Logout 1.0):
	 * a step-up record is bound to it when the token carries one */
	v = json_object_get(claims, "sid");
	if (v != NULL && !json_is_null(v)) {
		s = json_string_value(v);
		if (s == NULL || strlen(s) > RV_SID_MAX || !clean_text(s))
			return unauthorized(err, "token sid is not a string of "
					    "at most %d bytes without control "
					    "characters", RV_SID_MAX);
		rv_strlcpy(c->sid, s, sizeof(c->sid));
	}

	/* when and how the user signed in (RFC 9470 6.1, rv-policy.h) */
	if ((r = time_claim(claims, "auth_time", &c->auth_time)) < 0)
		return unauthorized(err, "token auth_time is not a date");
	if (r == 0)
		c->auth_time = 0;
	v = json_object_get(claims, "acr");
	if (v != NULL && !json_is_null(v)) {
		s = json_string_value(v);
		if (s == NULL || strlen(s) >= sizeof(c->acr) || !clean_text(s))
			return unauthorized(err, "token acr is not a string of "
					    "at most 255 bytes without control "
					    "characters");
		rv_strlcpy(c->acr, s, sizeof(c->acr));
	}

	if ((v = json_object_get(claims, "scope")) == NULL || json_is_null(v))
		v = json_object_get(claims, "scp");
	if (json_is_string(v)) {
		s = json_string_value(v);
		if (!clean_text(s))
			return unauthorized(err, "token scope has control "
					    "characters");
		add_scopes(c->scope, sizeof(c->scope), s);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = json_string_value(e);
			if (s == NULL || !clean_text(s))
				return unauthorized(err, "token scp is not a "
						    "list of scope names");
			add_scopes(c->scope, sizeof(c->scope), s);
		}
	} else if (v != NULL && !json_is_null(v)) {
		return unauthorized(err, "token scope is not a string");
	}

	c->user_is_username = false;
	c->first_party = c->client_id[0] != '\0' &&
			 rv_conf_list_has(conf->auth_first_party, c->client_id);
	c->exp = exp;
	if (!rv_auth_has_scope(c, "openid"))
		return rv_err_set(err, "auth.forbidden",
				  "token scope lacks openid");
	return 0;
}

/*
 * Tokens verified before: a client sends the same access token with many
 * requests, and its signature check (RSA or ECDSA: about 290,000
 * instructions for RS256), JWS import and claims parse are the dearest part
 * of a request (doc/performance.md, "Where the time goes"). An accepted
 * token of at most TOKEN_KEEP_MAX bytes is kept as its SHA-256 (the token
 * itself is not kept: a core dump holds no bearer token from here), with the
 * caller it gave and a hash of the settings that judged it (issuer,
 * audience, algorithms, first-party clients, leeway). The table is
 * TOKEN_SETS sets of TOKEN_WAYS entries, made on first use; the set is
 * picked by the digest, the digest compared in full in constant time. A
 * new token takes a free way of its set, else one whose token expired, else
 * the one used least recently: a worker keeps the last thousand or so
 * callers, enough for a site's active users between two token renewals.
 * A hit repeats the time checks (exp, nbf with the leeway) against the
 * clock of now. Only accepted tokens are kept; rv_auth_setup() and
 * rv_auth_release() forget them all.
 */
#define TOKEN_SETS 128
#define TOKEN_WAYS 8
#define TOKEN_KEEP_MAX 4096

struct token_entry {
	unsigned char digest[32];
	char *packed;		/* malloc'd user, client_id, sid, scope, acr,
				   each NUL-terminated; NULL: free entry */
	uint64_t judge;
	uint64_t used;		/* tick of the last hit */
	long long exp, nbf, auth_time;
	bool has_nbf, user_is_username, first_party;
};
static struct token_entry (*token_cache)[TOKEN_WAYS];
static uint64_t token_tick;
static unsigned long token_hits, token_misses;

void
rv_auth_cache_stats(unsigned long *hits, unsigned long *misses)
{
	*hits = token_hits;
	*misses = token_misses;
}

static void
token_forget(void)
{
	size_t i, w;

	if (token_cache == NULL)
		return;
	for (i = 0; i < TOKEN_SETS; i++)
		for (w = 0; w < TOKEN_WAYS; w++)
			free(token_cache[i][w].packed);
	rv_wipe(token_cache, TOKEN_SETS * sizeof(*token_cache));
	free(token_cache);
	token_cache = NULL;
}

/* FNV-1a, 64 bits */
static uint64_t
fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n-- > 0)
		h = (h ^ *p++) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

static uint64_t
token_judge(const struct rv_conf *conf)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = fnv_str(h, conf->auth_issuer);
	h = fnv_str(h, conf->auth_audience);
	h = fnv_str(h, conf->auth_first_party);
	h = fnv_str(h, conf->auth_algorithms);
	return fnv(h, &conf->auth_leeway, sizeof(conf->auth_leeway));
}

/* the set of a token's digest */
static struct token_entry *
token_set(const unsigned char digest[32])
{
	return token_cache[((size_t)digest[0] << 8 | digest[1]) % TOKEN_SETS];
}

/* copy the NUL-terminated string at *p into dst[size], move *p past it */
static void
unpack(const char **p, char *dst, size_t size)
{
	rv_strlcpy(dst, *p, size);
	*p += strlen(*p) + 1;
}

/* 1 and *c filled for a kept token still in its time, else 0 */
static int
token_cached(const struct rv_conf *conf, const unsigned char digest[32],
	     uint64_t judge, struct rv_caller *c)
{
	struct token_entry *set, *e;
	long long now;
	const char *p;
	size_t w;

	if (token_cache == NULL)
		return 0;
	set = token_set(digest);
	for (w = 0; w < TOKEN_WAYS; w++) {
		e = &set[w];
		if (e->packed != NULL && e->judge == judge &&
		    rv_memeq_secret(e->digest, digest, 32))
			break;
	}
	if (w == TOKEN_WAYS)
		return 0;
	now = rv_auth_now();
	if (e->exp + conf->auth_leeway <= now ||
	    (e->has_nbf && e->nbf > now + conf->auth_leeway))
		return 0;
	memset(c, 0, sizeof(*c));
	p = e->packed;
	unpack(&p, c->user, sizeof(c->user));
	unpack(&p, c->client_id, sizeof(c->client_id));
	unpack(&p, c->sid, sizeof(c->sid));
	unpack(&p, c->scope, sizeof(c->scope));
	unpack(&p, c->acr, sizeof(c->acr));
	c->user_is_username = e->user_is_username;
	c->first_party = e->first_party;
	c->exp = e->exp;
	c->auth_time = e->auth_time;
	e->used = ++token_tick;
	return 1;
}

static void
token_keep(const unsigned char digest[32], uint64_t judge,
	   const struct rv_caller *c, json_t *claims)
{
	struct token_entry *set, *e;
	size_t w, nu = strlen(c->user) + 1, nc = strlen(c->client_id) + 1,
	       ns = strlen(c->sid) + 1, nsc = strlen(c->scope) + 1,
	       na = strlen(c->acr) + 1;
	long long now = rv_auth_now();
	char *p;

	if (token_cache == NULL)
		token_cache = rv_xcalloc(TOKEN_SETS, sizeof(*token_cache));
	set = token_set(digest);
	e = &set[0];
	for (w = 0; w < TOKEN_WAYS; w++) {
		if (set[w].packed == NULL || set[w].exp <= now) {
			e = &set[w];
			break;
		}
		if (set[w].used < e->used)
			e = &set[w];
	}
	free(e->packed);
	e->packed = p = rv_xmalloc(nu + nc + ns + nsc + na);
	memcpy(p, c->user, nu);
	memcpy(p += nu, c->client_id, nc);
	memcpy(p += nc, c->sid, ns);
	memcpy(p += ns, c->scope, nsc);
	memcpy(p + nsc, c->acr, na);
	memcpy(e->digest, digest, 32);
	e->judge = judge;
	e->used = ++token_tick;
	e->exp = c->exp;
	e->auth_time = c->auth_time;
	e->user_is_username = c->user_is_username;
	e->first_party = c->first_party;
	e->has_nbf = time_claim(claims, "nbf", &e->nbf) > 0;
}

static int
jwt_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	uint64_t judge = 0;
	unsigned char digest[32];
	bool cache = !rv_setup_deferred();
	const char *h = rv_req_header(req, "Authorization"), *token;
	json_t *claims = NULL;
	size_t len;
	int rc;

	/* an empty header counts as missing, as in Logto (a falsy string) */
	if (h == NULL || *h == '\0') {
		rv_err_header(err, "WWW-Authenticate", REALM);
		return rv_err_set(err, "auth.authorization_header_missing",
				  "no Authorization header");
	}
	if (strncmp(h, "Bearer ", 7) != 0) {
		if (err != NULL) {
			if (err->data != NULL)
				json_decref(err->data);
			err->data = json_pack("{s:[s]}", "supportedTypes",
					      "Bearer");
		}
		rv_err_header(err, "WWW-Authenticate", INVALID_TOKEN);
		return rv_err_set(err,
				  "auth.authorization_token_type_not_supported",
				  "Authorization is not of type Bearer");
	}
	token = h + 7;
	if ((len = strnlen(token, TOKEN_MAX + 1)) > TOKEN_MAX)
		return unauthorized(err, "token longer than %d bytes",
				    TOKEN_MAX);
	if (len == 0)
		return unauthorized(err, "empty bearer token");
	if (rv_jwks_keys(NULL) == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "no JWKS loaded (rv_auth_setup not called)");
	/* a CGI process serves one request: nothing to find in the cache
	 * nor to keep there, and the token's digest would be the first
	 * digest of the process, a costly provider lookup */
	if (cache) {
		judge = token_judge(req->conf);
		rv_sha256(token, len, digest);
		if (token_cached(req->conf, digest, judge, c)) {
			token_hits++;
			return 0;
		}
		token_misses++;
	}
	if (verify_token(req->conf, token, len, &claims, err) < 0)
		return -1;
	rc = check_claims(req->conf, claims, c, err);
	if (rc == 0 && cache && len <= TOKEN_KEEP_MAX)
		token_keep(digest, judge, c, claims);
	json_decref(claims);
	return rc;
}

static int
remote_user_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	const char *u = rv_req_param(req, "REMOTE_USER");

	if (u == NULL || *u == '\0')
		return rv_err_set(err, "auth.unauthorized",
				  "REMOTE_USER is not set (is the location "
				  "protected by the web server?)");
	if (strlen(u) >= sizeof(c->user) || !clean_text(u))
		return rv_err_set(err, "auth.unauthorized",
				  "REMOTE_USER is longer than 255 bytes, not "
				  "UTF-8 or has control characters");
	rv_strlcpy(c->user, u, sizeof(c->user));
	c->user_is_username =
		req->conf->auth_remote_user == RV_CONF_REMOTE_USER_USERNAME;
	rv_strlcpy(c->scope, remote_user_scope, sizeof(c->scope));
	c->first_party = true;
	c->exp = 0;
	return 0;
}

int
rv_auth_caller(struct rv_req *req, struct rv_caller *c, struct rv_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (req->conf->auth_mode == RV_CONF_AUTH_REMOTE_USER)
		rc = remote_user_caller(req, c, err);
	else
		rc = jwt_caller(req, c, err);
	if (rc < 0)
		memset(c, 0, sizeof(*c));
	return rc;
}

bool
rv_auth_has_scope(const struct rv_caller *c, const char *scope)
{
	return rv_conf_list_has(c->scope, scope);
}

int
rv_auth_require_first_party(const struct rv_caller *c, struct rv_err *err)
{
	char b[48];

	if (c->first_party)
		return 0;
	return rv_err_set(err, "auth.third_party_application_forbidden",
			  "client '%s' is not in <auth first-party>",
			  rv_str_show(c->client_id, b, sizeof(b)));
}

