/* rv-mint.c: new key pairs and signed tokens, for reverify-admin and tests */
#include "config.h"
#include "rv-mint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "rv-auth.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-jwks.h"
#include "rv-util.h"

#define KEYFILE_MAX	65536

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes data to a new temporary file next to path (for a rename(2) onto
 * it) with the given mode. *tmp_r is malloc'd.
 */
static int
write_temp(const char *path, const char *data, size_t len, mode_t mode,
	   char **tmp_r, struct rv_err *err)
{
	char *tmp = rv_xasprintf("%s.XXXXXX", path);
	int fd, e;

	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot create a "
				  "file next to '%s': %s", path, strerror(e));
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot write a "
				  "file next to '%s': %s", path, strerror(e));
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return rv_err_set(err, RV_E_INTERNAL, "cannot write a "
				  "file next to '%s': %s", path, strerror(e));
	}
	*tmp_r = tmp;
	return 0;
}

/* The JWKS at path, or a new empty one when there is no file. */
static json_t *
read_jwks(const char *path, struct rv_err *err)
{
	json_error_t jerr;
	json_t *root;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return json_pack("{s:[]}", "keys");
		rv_err_set(err, RV_E_INTERNAL, "cannot open JWKS '%s': %s",
			   path, strerror(errno));
		return NULL;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' is not valid "
			   "JSON: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_array(json_object_get(root, "keys"))) {
		json_decref(root);
		rv_err_set(err, RV_E_INTERNAL, "JWKS '%s' is not a key "
			   "set (no \"keys\" array)", path);
		return NULL;
	}
	return root;
}

int
rv_auth_keygen(const char *key_path, const char *jwks_path, bool overwrite,
	       struct rv_err *err)
{
	cjose_jwk_t *jwk;
	cjose_err cerr;
	char kid[17];
	char *priv = NULL, *pub = NULL, *keyfile = NULL, *jwks_text = NULL;
	char *key_tmp = NULL, *jwks_tmp = NULL;
	json_t *jwks = NULL, *pubj = NULL;
	size_t plen = 0, klen = 0;
	int fd = -1, rc = -1, e;
	bool created = false;

	if (rv_random_id(kid, 16, err) < 0)
		return -1;
	jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, &cerr);
	if (jwk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "cannot create a "
				  "P-384 key: %s", cerr.message);
	if (!cjose_jwk_set_kid(jwk, kid, 16, &cerr) ||
	    (priv = cjose_jwk_to_json(jwk, true, &cerr)) == NULL ||
	    (pub = cjose_jwk_to_json(jwk, false, &cerr)) == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "cannot export the new "
			   "key: %s", cerr.message);
		goto out;
	}
	/*
	 * The private JWK is written from cjose's own text, with use and alg
	 * spliced in, so that the secret passes through no buffer we cannot
	 * wipe (jansson would keep copies).
	 */
	plen = strlen(priv);
	RV_ASSERT(plen > 2 && priv[plen - 1] == '}');
	keyfile = rv_xasprintf("%.*s,\"use\":\"sig\",\"alg\":\"ES384\"}\n",
			       (int)(plen - 1), priv);
	klen = strlen(keyfile);

	if ((jwks = read_jwks(jwks_path, err)) == NULL)
		goto out;
	if ((pubj = json_loads(pub, 0, NULL)) == NULL ||
	    json_object_set_new(pubj, "use", json_string("sig")) < 0 ||
	    json_object_set_new(pubj, "alg", json_string("ES384")) < 0 ||
	    json_array_append(json_object_get(jwks, "keys"), pubj) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build the JWKS");
		goto out;
	}
	jwks_text = json_dumps(jwks, JSON_INDENT(2));
	RV_ASSERT(jwks_text != NULL);

	/* the key first: without overwrite, an existing key stops us before
	 * the JWKS changes */
	if (overwrite) {
		if (write_temp(key_path, keyfile, klen, 0600, &key_tmp,
			       err) < 0)
			goto out;
	} else {
		fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
		if (fd < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot create key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
		created = true;
		if (fchmod(fd, 0600) < 0 || write_all(fd, keyfile, klen) < 0 ||
		    fsync(fd) < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot write key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
		e = close(fd);
		fd = -1;
		if (e < 0) {
			rv_err_set(err, RV_E_INTERNAL, "cannot write key "
				   "file '%s': %s", key_path, strerror(errno));
			goto out;
		}
	}
	{
		size_t jlen = strlen(jwks_text);

		jwks_text = rv_xrealloc(jwks_text, jlen + 2);
		memcpy(jwks_text + jlen, "\n", 2);
		if (write_temp(jwks_path, jwks_text, jlen + 1, 0644, &jwks_tmp,
			       err) < 0)
			goto out;
	}
	if (rename(jwks_tmp, jwks_path) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot replace JWKS "
			   "'%s': %s", jwks_path, strerror(errno));
		goto out;
	}
	free(jwks_tmp);
	jwks_tmp = NULL;
	if (key_tmp != NULL && rename(key_tmp, key_path) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot replace key file "
			   "'%s' (the JWKS already has the new key): %s",
			   key_path, strerror(errno));
		goto out;
	}
	free(key_tmp);
	key_tmp = NULL;
	created = false;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(key_path);
	if (key_tmp != NULL) {
		unlink(key_tmp);
		free(key_tmp);
	}
	if (jwks_tmp != NULL) {
		unlink(jwks_tmp);
		free(jwks_tmp);
	}
	free(jwks_text);
	json_decref(pubj);
	json_decref(jwks);
	if (keyfile != NULL) {
		rv_wipe(keyfile, klen);
		free(keyfile);
	}
	if (priv != NULL) {
		rv_wipe(priv, plen);
		free(priv);
	}
	free(pub);
	cjose_jwk_release(jwk);
	return rc;
}

/* Reads a small file into a malloc'd, NUL-terminated buffer. */
static int
read_small_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		struct rv_err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot open "
				  "'%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > max) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL, "'%s' is not a "
				  "regular file of at most %zu bytes", path,
				  max);
	}
	buf = rv_xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			close(fd);
			rv_wipe(buf, len);
			free(buf);
			return rv_err_set(err, RV_E_INTERNAL, "cannot "
					  "read '%s': %s", path, strerror(e));
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*buf_r = buf;
	*len_r = len;
	return 0;
}

int
rv_auth_mint(const char *key_path, const char *issuer, const char *audience,
	     const char *sub, const char *client_id, const char *scope,
	     const char *sid, long ttl, char **token_r, struct rv_err *err)
{
	return rv_auth_mint_claims(key_path, issuer, audience, sub, client_id,
				   scope, sid, NULL, ttl, token_r, err);
}

int
rv_auth_mint_claims(const char *key_path, const char *issuer,
		    const char *audience, const char *sub,
		    const char *client_id, const char *scope, const char *sid,
		    json_t *extra, long ttl, char **token_r, struct rv_err *err)
{
	cjose_jwk_t *jwk;
	cjose_header_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	json_t *claims = NULL;
	const char *alg, *kid, *ser, *bad;
	char *buf = NULL, *payload = NULL;
	json_t *jk;
	char jti[22];
	size_t len = 0;
	long long now;
	int rc = -1;

	RV_ASSERT(issuer != NULL && audience != NULL && sub != NULL);
	*token_r = NULL;
	if (read_small_file(key_path, KEYFILE_MAX, &buf, &len, err) < 0)
		return -1;
	jk = json_loadb(buf, len, 0, NULL);
	rv_wipe(buf, len);
	free(buf);
	if ((bad = rv_auth_jwk_bad_member(jk)) != NULL) {
		rv_json_wipe_strings(jk);
		json_decref(jk);
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' has "
				  "a bad \"%s\" (misplaced \"=\" padding)",
				  key_path, bad);
	}
	if (jk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' is "
				  "not JSON", key_path);
	jwk = cjose_jwk_import_json(jk, &cerr);
	rv_json_wipe_strings(jk);
	json_decref(jk);
	if (jwk == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "key file '%s' is "
				  "not a JWK: %s", key_path, cerr.message);
	switch (cjose_jwk_get_kty(jwk, &cerr)) {
	case CJOSE_JWK_KTY_RSA:
		alg = "RS256";
		break;
	case CJOSE_JWK_KTY_EC:
		switch (cjose_jwk_EC_get_curve(jwk, &cerr)) {
		case CJOSE_JWK_EC_P_256:
			alg = "ES256";
			break;
		case CJOSE_JWK_EC_P_384:
			alg = "ES384";
			break;
		case CJOSE_JWK_EC_P_521:
			alg = "ES512";
			break;
		default:
			alg = NULL;
			break;
		}
		break;
	default:
		alg = NULL;
		break;
	}
	if (alg == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "key file '%s' holds "
			   "neither an RSA nor a P-256/384/521 key", key_path);
		goto out;
	}
	if (rv_random_id(jti, 21, err) < 0)
		goto out;
	kid = cjose_jwk_get_kid(jwk, &cerr);
	if ((hdr = cjose_header_new(&cerr)) == NULL ||
	    !cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &cerr) ||
	    !cjose_header_set(hdr, "typ", "at+jwt", &cerr) ||
	    (kid != NULL &&
	     !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr))) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build a JWS "
			   "header: %s", cerr.message);
		goto out;
	}
	now = rv_auth_now();
	claims = json_pack("{s:s, s:s, s:s}", "iss", issuer, "aud", audience,
			   "sub", sub);
	if (claims == NULL ||
	    (client_id != NULL &&
	     json_object_set_new(claims, "client_id",
				 json_string(client_id)) < 0) ||
	    (scope != NULL &&
	     json_object_set_new(claims, "scope", json_string(scope)) < 0) ||
	    (sid != NULL &&
	     json_object_set_new(claims, "sid", json_string(sid)) < 0) ||
	    json_object_set_new(claims, "iat", json_integer(now)) < 0 ||
	    json_object_set_new(claims, "exp", json_integer(now + ttl)) < 0 ||
	    json_object_set_new(claims, "jti", json_string(jti)) < 0 ||
	    (extra != NULL && json_object_update(claims, extra) < 0) ||
	    (payload = json_dumps(claims, JSON_COMPACT)) == NULL) {
		rv_err_set(err, RV_E_INTERNAL, "cannot build the claims "
			   "(a value is not UTF-8?)");
		goto out;
	}
	if ((jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload,
				  strlen(payload), &cerr)) == NULL ||
	    !cjose_jws_export(jws, &ser, &cerr)) {
		rv_err_set(err, RV_E_INTERNAL, "cannot sign with key "
			   "file '%s' (not a private key?): %s", key_path,
			   cerr.message);
		goto out;
	}
	*token_r = rv_xstrdup(ser);
	rc = 0;
out:
	if (jws != NULL)
		cjose_jws_release(jws);
	free(payload);
	json_decref(claims);
	if (hdr != NULL)
		cjose_header_release(hdr);
	cjose_jwk_release(jwk);
	return rc;
}
