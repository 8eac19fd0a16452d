/* keys.c: reverify-admin token and jwks import: minting tokens with the
 * local key, replacing the key set the programs trust */
#include "config.h"
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv-auth.h"
#include "rv-buf.h"
#include "rv-import.h"
#include "rv-jwks.h"
#include "rv-mint.h"
#include "rv-store.h"
#include "rv-util.h"

#define JWKS_FILE_MAX ((size_t)1024 * 1024)
#define TTL_DEFAULT 3600
#define TTL_MAX (366LL * 24 * 3600)

/* ---- token ------------------------------------------------------------ */

struct token_opts {
	const char *scope, *client_id, *audience, *sid, *acr;
	long ttl;
	long long auth_time;	/* 0: no auth_time claim */
	bool ttl_set, expired, any_user;
};

static int
token_opts(struct admin *a, int argc, char **argv, struct token_opts *o)
{
	static const struct option lo[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "sid", required_argument, NULL, 'S' },
		{ "audience", required_argument, NULL, 'a' },
		{ "ttl", required_argument, NULL, 't' },
		{ "expired", no_argument, NULL, 'e' },
		{ "any-user", no_argument, NULL, 'A' },
		{ "auth-time", required_argument, NULL, 'T' },
		{ "acr", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	long long ttl;
	int ch;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		switch (ch) {
		case 's': o->scope = optarg; break;
		case 'c': o->client_id = optarg; break;
		case 'S': o->sid = optarg; break;
		case 'a': o->audience = optarg; break;
		case 'e': o->expired = true; break;
		case 'A': o->any_user = true; break;
		case 'R': o->acr = optarg; break;
		case 'T':
			/* epoch seconds, or -N: N seconds ago */
			if (*optarg == '-' ?
			    rv_parse_ll(optarg + 1, 0, TTL_MAX, &ttl) < 0 :
			    rv_parse_ll(optarg, 1, 253402300799LL, &ttl) < 0)
				return usage_error(a, "--auth-time wants epoch "
						   "seconds, or -N for N seconds ago");
			o->auth_time = *optarg == '-' ? rv_auth_now() - ttl : ttl;
			break;
		case 't':
			if (rv_parse_ll(optarg, 1, TTL_MAX, &ttl) < 0)
				return usage_error(a, "--ttl wants 1 to %lld "
						   "seconds", TTL_MAX);
			o->ttl = (long)ttl;
			o->ttl_set = true;
			break;
		default: return EXIT_USAGE;
		}
	}
	if (o->expired && o->ttl_set)
		return usage_error(a, "--expired and --ttl exclude each other");
	return want_args(a, argc, argv, 1, 1);
}

/* The user must exist unless --any-user; 0 or -1 after a message. */
static int
token_subject(struct admin *a, const struct token_opts *o, const char *sub)
{
	struct rv_user u;
	const char *why;
	int rc;

	if (o->any_user) {
		why = rv_import_text_problem(sub, strlen(sub),
					     RV_IMPORT_TEXT_NO_CONTROL |
					     RV_IMPORT_TEXT_NO_SPACE, NULL);
		if (why == NULL && (*sub == '\0' || strlen(sub) > 255))
			why = "must be 1 to 255 bytes";
		return why == NULL ? 0 : error("the subject %s", why);
	}
	if (open_store(a, false) < 0 || (rc = load_user(a, sub, &u)) < 0)
		return -1;
	rv_user_release(&u);
	if (rc == 0)
		return error("no user '%s' (use --any-user to mint anyway)", sub);
	return 0;
}

int
cmd_token(struct admin *a, int argc, char **argv)
{
	struct token_opts o = {
		SCOPE_DEFAULT, NULL, NULL, NULL, NULL, TTL_DEFAULT, 0, false, false,
		false,
	};
	json_t *extra;
	const struct rv_conf *c = &a->conf;
	const char *aud, *sub;
	char *client = NULL, *token = NULL;
	int rc;

	if ((rc = token_opts(a, argc, argv, &o)) != EXIT_OK)
		return rc;
	sub = argv[optind];
	aud = o.audience ? o.audience : c->auth_audience;
	if (c->auth_local_key == NULL || *c->auth_local_key == '\0')
		return fail("no <auth local-key> configured");
	if (c->auth_issuer == NULL || *c->auth_issuer == '\0')
		return fail("no <auth issuer> configured");
	if (aud == NULL || *aud == '\0')
		return fail("no audience: configure <auth audience> or give --audience");
	if (token_subject(a, &o, sub) < 0)
		return EXIT_FAIL;
	if (o.client_id != NULL)
		client = *o.client_id ? rv_xstrdup(o.client_id) : NULL;
	else if (c->auth_first_party != NULL && *c->auth_first_party)
		client = rv_xstrndup(c->auth_first_party,
				     strcspn(c->auth_first_party, " "));
	extra = json_object();
	if (o.auth_time > 0)
		json_object_set_new(extra, "auth_time", json_integer(o.auth_time));
	if (o.acr != NULL)
		json_object_set_new(extra, "acr", json_string(o.acr));
	if (rv_auth_mint_claims(c->auth_local_key, c->auth_issuer, aud, sub, client,
				*o.scope ? o.scope : NULL, o.sid, extra,
				o.expired ? -3600 : o.ttl, &token, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		puts(token);
	free(token);
	free(client);
	json_decref(extra);
	return rc;
}

/* ---- jwks import ------------------------------------------------------ */

/* Reads a whole file ("-": stdin) of at most max bytes into b. */
static int
read_input(const char *src, size_t max, struct rv_buf *b)
{
	FILE *f = strcmp(src, "-") == 0 ? stdin : fopen(src, "re");
	char chunk[4096];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return error("cannot open '%s': %s", src, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b->len <= max)
		rv_buf_add(b, chunk, n);
	if (ferror(f))
		rc = error("cannot read '%s': %s", src, strerror(errno));
	else if (b->len > max)
		rc = error("'%s' is larger than %zu bytes", src, max);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Each key must be a public JWK that cjose can import. */
static int
check_jwk(const char *src, size_t i, json_t *jk)
{
	static const char *const private_parts[] = {
		"d", "p", "q", "dp", "dq", "qi", "oth", "k",
	};
	const char *bad;
	cjose_jwk_t *jwk;
	cjose_err cerr;
	size_t j;

	if (!json_is_object(jk))
		return error("'%s': key %zu is not an object", src, i);
	for (j = 0; j < sizeof(private_parts) / sizeof(private_parts[0]); j++)
		if (json_object_get(jk, private_parts[j]) != NULL)
			return error("'%s': key %zu has the private part \"%s\"; "
				     "import public keys only", src, i, private_parts[j]);
	if ((bad = rv_auth_jwk_bad_member(jk)) != NULL)
		return error("'%s': key %zu has a bad \"%s\" (misplaced \"=\" "
			     "padding)", src, i, bad);
	if ((jwk = cjose_jwk_import_json(jk, &cerr)) == NULL)
		return error("'%s': key %zu cannot be imported: %s", src, i,
			     cerr.message);
	cjose_jwk_release(jwk);
	return 0;
}

/* Number of keys of a valid JWKS, or -1 after a message. */
static long
check_jwks(const char *src, json_t *root)
{
	json_t *keys = json_object_get(root, "keys");
	size_t i;

	if (!json_is_object(root) || !json_is_array(keys))
		return error("'%s' is not a key set (no \"keys\" array)", src);
	if (json_array_size(keys) == 0)
		return error("'%s' has no keys", src);
	for (i = 0; i < json_array_size(keys); i++)
		if (check_jwk(src, i, json_array_get(keys, i)) < 0)
			return -1;
	return (long)json_array_size(keys);
}

/* The checks the programs make at start-up (rv_auth_setup), on the file at
 * tmp, reported as if made on src. */
static int
check_as_programs(struct admin *a, const char *tmp, const char *src)
{
	static char placeholder[] = "x";
	struct rv_conf c = a->conf;	/* shallow: never released */
	const char *at;
	int rc;

	c.auth_jwks = (char *)tmp;
	c.auth_mode = RV_CONF_AUTH_JWT;
	if (*c.auth_issuer == '\0')
		c.auth_issuer = placeholder;
	if (*c.auth_audience == '\0')
		c.auth_audience = placeholder;
	rc = rv_auth_setup(&c, &a->err);
	rv_auth_release();
	if (rc == 0)
		return 0;
	if ((at = strstr(a->err.msg, tmp)) != NULL)
		return error("%.*s%s%s", (int)(at - a->err.msg), a->err.msg, src,
			    at + strlen(tmp));
	return error_err(&a->err);
}

/* Replaces path with text through a temporary file and rename(2), 0644. */
static int
replace_file(struct admin *a, const char *path, const char *text, const char *src)
{
	char *tmp = rv_xasprintf("%s.XXXXXX", path);
	size_t len = strlen(text);
	int fd, rc = -1;

	if ((fd = mkstemp(tmp)) < 0) {
		fail("cannot create a file next to '%s': %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		fail("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
	} else if (close(fd) < 0) {
		fail("cannot write '%s': %s", tmp, strerror(errno));
	} else if (check_as_programs(a, tmp, src) == 0) {
		if (rename(tmp, path) == 0)
			rc = 0;
		else
			fail("cannot replace '%s': %s", path, strerror(errno));
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
cmd_jwks_import(struct admin *a, int argc, char **argv)
{
	struct rv_buf in = RV_BUF_INIT;
	const char *src, *path = a->conf.auth_jwks;
	json_error_t je;
	json_t *root = NULL;
	char *dumped = NULL, *text = NULL;
	long n;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	src = strcmp(argv[optind], "-") == 0 ? "(stdin)" : argv[optind];
	rc = EXIT_FAIL;
	if (path == NULL || *path == '\0') {
		fail("no <auth jwks> configured");
		goto out;
	}
	if (read_input(argv[optind], JWKS_FILE_MAX, &in) < 0)
		goto out;
	if ((root = json_loadb(in.buf, in.len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		fail("'%s' is not valid JSON: line %d: %s", src, je.line, je.text);
		goto out;
	}
	if ((n = check_jwks(src, root)) < 0)
		goto out;
	dumped = json_dumps(root, JSON_INDENT(2));
	RV_ASSERT(dumped != NULL);
	text = rv_xasprintf("%s\n", dumped);
	if (replace_file(a, path, text, src) < 0)
		goto out;
	note(a, "imported %ld key%s into '%s'", n, n == 1 ? "" : "s", path);
	rc = EXIT_OK;
out:
	free(dumped);
	free(text);
	json_decref(root);
	rv_buf_release(&in);
	return rc;
}
