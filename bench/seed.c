/* seed.c: bench users, tokens and code records, written through the
 * library (reverify-admin makes one user per process: too slow for a
 * million)
 *
 * Usage: bench/seed CONFIG users PREFIX N [PASSWORD]
 *            N users PREFIX1..PREFIXN (e-mail PREFIXi@bench.test), the
 *            password hashed once with the configured scheme and shared;
 *            prints "id TAB token TAB email" lines (tokens from
 *            <auth local-key>, 1 day); existing users are kept
 *        bench/seed CONFIG codes TOKENS PER-USER right|wrong
 *            PER-USER fresh e-mail code records for each user of TOKENS
 *            (lines as printed by users), the user's lockout window
 *            cleared; prints one verify request a line for bench/list.lua
 *        bench/seed CONFIG rsa-key
 *            writes an RSA 2048 signing key to <auth local-key> and its
 *            public half as <auth jwks> (RS256 tokens: the common case,
 *            and a verify about 50x cheaper than ES384); before init
 *        bench/seed CONFIG growth N
 *            N users and N code records that expire at once, then purge;
 *            prints the store's size and log files at each step (JSON)
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjose/cjose.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-lockout.h"
#include "rv-mint.h"
#include "rv-password.h"
#include "rv-store.h"
#include "rv-util.h"

#define BATCH 500

static struct rv_conf conf;
static struct rv_store *st;
static struct rv_err err;

static void
die(const char *what)
{
	fprintf(stderr, "seed: %s: %s\n", what, err.msg);
	exit(1);
}

/* a purge of nothing checkpoints the log when due, as a worker's
 * opportunistic purge does: the log files it no longer needs go */
static void
checkpoint_now_and_then(void)
{
	static int calls;

	if (++calls % 20 == 0 && rv_store_purge(st, 1, NULL, &err) < 0)
		die("checkpoint");
}

/* ---- users ---------------------------------------------------------- */

struct users_ctx {
	const char *prefix, *hash;
	long from, to;
};

static int
users_body(struct rv_store *s, struct rv_txn *txn, void *p, struct rv_err *e)
{
	struct users_ctx *c = p;
	long i;

	(void)s;
	for (i = c->from; i < c->to; i++) {
		struct rv_user u;
		int rc;

		rv_user_init(&u);
		snprintf(u.id, sizeof(u.id), "%s%ld", c->prefix, i);
		if ((rc = rv_store_user_get(txn, u.id, false, &u, e)) != 0) {
			rv_user_release(&u);
			if (rc < 0)
				return -1;
			continue;
		}
		u.username = rv_xasprintf("%s%ld", c->prefix, i);
		u.email = rv_xasprintf("%s%ld@bench.test", c->prefix, i);
		u.name = rv_xasprintf("Bench User %ld", i);
		u.password_hash = c->hash != NULL ? rv_xstrdup(c->hash) : NULL;
		u.created_at = u.updated_at = u.password_updated_at = rv_store_now();
		rc = rv_store_user_put(txn, &u, e);
		rv_user_release(&u);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void
make_users(const char *prefix, long n, const char *password)
{
	struct users_ctx c = { prefix, NULL, 1, 1 };
	char *hash = NULL;

	if (password != NULL &&
	    rv_password_hash(password, strlen(password), &conf, &hash, &err) < 0)
		die("hash");
	c.hash = hash;
	while (c.from <= n) {
		c.to = c.from + BATCH > n + 1 ? n + 1 : c.from + BATCH;
		if (rv_store_txn(st, users_body, &c, &err) < 0)
			die("users");
		c.from = c.to;
		checkpoint_now_and_then();
	}
	free(hash);
}

static int
cmd_users(const char *prefix, long n, const char *password)
{
	long i;

	make_users(prefix, n, password);
	for (i = 1; i <= n; i++) {
		char id[RV_ID_MAX + 1], *tok;

		snprintf(id, sizeof(id), "%s%ld", prefix, i);
		if (rv_auth_mint(conf.auth_local_key, conf.auth_issuer,
				 conf.auth_audience, id, "demo-app",
				 "openid profile email phone", NULL, 86400, &tok, &err) < 0)
			die("token");
		printf("%s\t%s\t%s@bench.test\n", id, tok, id);
		free(tok);
	}
	return 0;
}

/* ---- code records ------------------------------------------------------ */

struct code_user {
	char id[RV_ID_MAX + 1];
	char *token, *email;
};

struct codes_ctx {
	struct code_user *u;
	long n;
	int per;
	bool right;
	FILE *out;
};

static int
codes_body(struct rv_store *s, struct rv_txn *txn, void *p, struct rv_err *e)
{
	struct codes_ctx *c = p;
	long long now = rv_store_now();
	struct rv_window w;
	char key[65];
	int k;

	/* a fresh lockout window: the bench's wrong guesses start at zero */
	memset(&w, 0, sizeof(w));
	w.expires_at = now + 1000;
	rv_lockout_key(s, RV_LOCKOUT_EMAIL, c->u->email, NULL, key);
	if (rv_store_window_put(txn, key, &w, e) < 0)
		return -1;
	for (k = 0; k < c->per; k++) {
		struct rv_record r;
		unsigned char rnd;
		char code[7];

		rv_record_init(&r);
		if (rv_random_id(r.id, RV_RECORD_ID_LEN, e) < 0 ||
		    rv_random_bytes(&rnd, 1, e) < 0)
			return -1;
		snprintf(code, sizeof(code), "%06d", 100000 + rnd * 3000);
		r.type = RV_RECORD_EMAIL_CODE;
		rv_strlcpy(r.owner, c->u->id, sizeof(r.owner));
		rv_strlcpy(r.creator, c->u->id, sizeof(r.creator));
		rv_strlcpy(r.identifier, c->u->email, sizeof(r.identifier));
		rv_strlcpy(r.template_type, "UserPermissionValidation",
			   sizeof(r.template_type));
		rv_strlcpy(r.client_id, "demo-app", sizeof(r.client_id));
		r.created_at = r.code_sent_at = now;
		r.expires_at = now + conf.ver_record_ttl * 1000;
		r.has_code = true;
		rv_hmac_sha256(rv_store_pepper(s), 32, r.id, strlen(r.id), code,
			       strlen(code), r.code_mac);
		if (rv_store_record_put(txn, &r, e) < 0)
			return -1;
		/* a wrong code differs in its first digit (never 0) */
		if (!c->right)
			code[0] = code[0] == '9' ? '1' : (char)(code[0] + 1);
		fprintf(c->out,
			"POST\t/api/verifications/verification-code/verify\t%s\t"
			"{\"identifier\":{\"type\":\"email\",\"value\":\"%s\"},"
			"\"verificationId\":\"%s\",\"code\":\"%s\"}\n",
			c->u->token, c->u->email, r.id, code);
	}
	return 0;
}

static int
cmd_codes(const char *tokens, int per, bool right)
{
	struct codes_ctx c = { NULL, 0, per, right, stdout };
	FILE *f = fopen(tokens, "r");
	char line[4096];

	if (f == NULL) {
		perror(tokens);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct code_user u;
		char *tab1 = strchr(line, '\t'), *tab2;

		if (tab1 == NULL || (tab2 = strchr(tab1 + 1, '\t')) == NULL)
			continue;
		*tab1 = *tab2 = '\0';
		tab2[strcspn(tab2 + 1, "\n") + 1] = '\0';
		rv_strlcpy(u.id, line, sizeof(u.id));
		u.token = tab1 + 1;
		u.email = tab2 + 1;
		c.u = &u;
		if (rv_store_txn(st, codes_body, &c, &err) < 0)
			die("codes");
	}
	fclose(f);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- an RSA key ------------------------------------------------------- */

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		perror(path);
		return -1;
	}
	return 0;
}

static int
cmd_rsa_key(void)
{
	static const uint8_t e[] = { 0x01, 0x00, 0x01 };
	cjose_err cerr;
	cjose_jwk_t *jwk = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &cerr);
	char *priv, *pub, *text;
	int rc;

	if (jwk == NULL || !cjose_jwk_set_kid(jwk, "bench-rs256", 11, &cerr) ||
	    (priv = cjose_jwk_to_json(jwk, true, &cerr)) == NULL ||
	    (pub = cjose_jwk_to_json(jwk, false, &cerr)) == NULL) {
		fprintf(stderr, "seed: rsa key: %s\n", cerr.message);
		return 1;
	}
	text = rv_xasprintf("%.*s,\"use\":\"sig\",\"alg\":\"RS256\"}\n",
			    (int)strlen(priv) - 1, priv);
	rc = write_file(conf.auth_local_key, text);
	free(text);
	text = rv_xasprintf("{\"keys\":[%.*s,\"use\":\"sig\",\"alg\":\"RS256\"}]}\n",
			    (int)strlen(pub) - 1, pub);
	if (rc == 0)
		rc = write_file(conf.auth_jwks, text);
	free(text);
	free(priv);
	free(pub);
	cjose_jwk_release(jwk);
	return rc == 0 ? 0 : 1;
}

/* ---- growth ------------------------------------------------------------ */

static long long
dir_bytes(const char *dir, int *logs_r)
{
	struct dirent *d;
	long long sum = 0;
	DIR *dp = opendir(dir);

	*logs_r = 0;
	if (dp == NULL)
		return -1;
	/* cppcheck-suppress readdirCalled ; readdir_r() is the deprecated one */
	while ((d = readdir(dp)) != NULL) {
		char path[4096];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			sum += (long long)sb.st_blocks * 512;
			if (strncmp(d->d_name, "log.", 4) == 0)
				(*logs_r)++;
		}
	}
	closedir(dp);
	return sum;
}

static void
show(const char *step, double secs)
{
	struct rv_store_stats s;
	int logs;
	long long b = dir_bytes(conf.store_home, &logs);

	if (rv_store_stats(st, &s, &err) < 0)
		die("stats");
	printf("{\"step\":\"%s\",\"seconds\":%.1f,\"storeBytes\":%lld,\"logFiles\":%d,"
	       "\"users\":%lld,\"records\":%lld,\"liveRecords\":%lld}\n",
	       step, secs, b, logs, s.users, s.records, s.live_records);
	fflush(stdout);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct grow_ctx {
	long from, to, users;
};

static int
grow_body(struct rv_store *s, struct rv_txn *txn, void *p, struct rv_err *e)
{
	struct grow_ctx *c = p;
	long long now = rv_store_now();
	long i;

	for (i = c->from; i < c->to; i++) {
		struct rv_record r;

		rv_record_init(&r);
		if (rv_random_id(r.id, RV_RECORD_ID_LEN, e) < 0)
			return -1;
		r.type = RV_RECORD_EMAIL_CODE;
		snprintf(r.owner, sizeof(r.owner), "g%ld", 1 + i % c->users);
		rv_strlcpy(r.creator, r.owner, sizeof(r.creator));
		snprintf(r.identifier, sizeof(r.identifier), "%s@bench.test", r.owner);
		rv_strlcpy(r.template_type, "UserPermissionValidation",
			   sizeof(r.template_type));
		rv_strlcpy(r.client_id, "demo-app", sizeof(r.client_id));
		r.created_at = r.code_sent_at = now;
		r.expires_at = now + 1;		/* expired a moment later */
		r.has_code = true;
		rv_hmac_sha256(rv_store_pepper(s), 32, r.id, strlen(r.id), "000000", 6,
			       r.code_mac);
		if (rv_store_record_put(txn, &r, e) < 0)
			return -1;
	}
	return 0;
}

static int
cmd_growth(long n)
{
	struct grow_ctx c = { 0, 0, n };
	double t0 = mono();
	long purged = 0, total = 0;

	show("start", 0);
	make_users("g", n, NULL);
	show("users", mono() - t0);
	t0 = mono();
	while (c.from < n) {
		c.to = c.from + BATCH > n ? n : c.from + BATCH;
		if (rv_store_txn(st, grow_body, &c, &err) < 0)
			die("records");
		c.from = c.to;
		checkpoint_now_and_then();
	}
	show("records", mono() - t0);
	t0 = mono();
	usleep(10000);
	/* as reverify-admin purge does it */
	if (rv_store_purge(st, 0, &purged, &err) < 0)
		die("purge");
	total = purged;
	show("purged", mono() - t0);
	fprintf(stderr, "seed: purged %ld records\n", total);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: seed CONFIG users PREFIX N [PASSWORD] | "
				"codes TOKENS PER-USER right|wrong | growth N\n");
		return 2;
	}
	rv_err_init(&err);
	if (rv_conf_load(argv[1], &conf, &err) < 0)
		die("config");
	if (strcmp(argv[2], "rsa-key") == 0) {
		umask(077);
		return cmd_rsa_key();
	}
	if (rv_store_open(&conf, false, &st, &err) < 0)
		die("store");
	if (strcmp(argv[2], "users") == 0 && argc >= 5)
		rc = cmd_users(argv[3], atol(argv[4]), argc > 5 ? argv[5] : NULL);
	else if (strcmp(argv[2], "codes") == 0 && argc == 6)
		rc = cmd_codes(argv[3], atoi(argv[4]), strcmp(argv[5], "right") == 0);
	else if (strcmp(argv[2], "growth") == 0 && argc == 4)
		rc = cmd_growth(atol(argv[3]));
	else
		fprintf(stderr, "seed: bad arguments (see the source)\n");
	rv_store_close(&st);
	rv_conf_release(&conf);
	return rc;
}
