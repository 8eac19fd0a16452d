/* unit/store: the Berkeley DB store itself: its home and files, the audit
 * chain against tampering with audit.db (keyed chain, head, prune),
 * recovery after SIGKILL, backup and recover. The contract of rv-store.h,
 * on either backend, is t/unit/store-contract's. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <db.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-store.h"
#include "rv-util.h"
#include "fixture.h"
#include "tap.h"

static const char *dir;
static struct rv_conf conf;
static long long fake_now;

static long long
clock_fake(void)
{
	return fake_now;
}

static struct rv_store *
open_store(bool create)
{
	struct rv_store *st = NULL;
	struct rv_err err;

	rv_err_init(&err);
	if (rv_store_open(&conf, create, &st, &err) < 0)
		diag("open: %s", err.msg);
	rv_err_release(&err);
	return st;
}

/* ---- small transaction bodies ---- */

struct user_op {
	struct rv_user u;
	const char *key;
	int rc;
	int (*lookup)(struct rv_txn *, const char *, struct rv_user *, struct rv_err *);
};

static int
put_body(struct rv_store *st, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct user_op *op = ctx;

	return rv_store_user_put(txn, &op->u, err);
}

static int
lookup_body(struct rv_store *st, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	struct user_op *op = ctx;

	rv_user_release(&op->u);
	op->rc = op->lookup(txn, op->key, &op->u, err);
	return op->rc < 0 ? -1 : 0;
}

static int
get_by_id(struct rv_txn *txn, const char *id, struct rv_user *u, struct rv_err *err)
{
	return rv_store_user_get(txn, id, false, u, err);
}

/* the user found by lookup/key, or "" */
static const char *
find(struct rv_store *st,
     int (*lookup)(struct rv_txn *, const char *, struct rv_user *, struct rv_err *),
     const char *key)
{
	static char id[RV_ID_MAX + 1];
	struct user_op op;
	struct rv_err err;

	memset(&op, 0, sizeof(op));
	op.lookup = lookup;
	op.key = key;
	rv_err_init(&err);
	id[0] = '\0';
	if (rv_store_txn(st, lookup_body, &op, &err) == 0 && op.rc == 1)
		rv_strlcpy(id, op.u.id, sizeof(id));
	rv_user_release(&op.u);
	rv_err_release(&err);
	return id;
}

/* puts a user; returns the error code or "" */
static const char *
put(struct rv_store *st, const char *id, const char *username,
    const char *email, const char *phone)
{
	static char code[64];
	struct user_op op;
	struct rv_err err;

	memset(&op, 0, sizeof(op));
	rv_strlcpy(op.u.id, id, sizeof(op.u.id));
	op.u.username = username ? strdup(username) : NULL;
	op.u.email = email ? strdup(email) : NULL;
	op.u.phone = phone ? strdup(phone) : NULL;
	op.u.password_hash = strdup("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA");
	op.u.created_at = op.u.updated_at = rv_store_now();
	rv_err_init(&err);
	code[0] = '\0';
	if (rv_store_txn(st, put_body, &op, &err) < 0)
		rv_strlcpy(code, err.code ? err.code : "?", sizeof(code));
	rv_user_release(&op.u);
	rv_err_release(&err);
	return code;
}

/* Writes the pages that the shared cache holds into the database files
 * (a store closes without: the log makes its commits last), then removes
 * the regions, so that a raw open sees the files as they are. */
static void
drop_regions(void)
{
	DB_ENV *env;

	db_env_create(&env, 0);
	if (env->open(env, conf.store_home, DB_INIT_TXN | DB_INIT_LOCK |
		      DB_INIT_LOG | DB_INIT_MPOOL, 0600) == 0)
		env->memp_sync(env, NULL);
	env->close(env, 0);
	db_env_create(&env, 0);
	env->remove(env, conf.store_home, DB_FORCE);
}

/* the transactions begun in the environment so far, by anyone */
static unsigned long
txn_begins(void)
{
	DB_ENV *env;
	DB_TXN_STAT *ts;
	unsigned long n = 0;

	db_env_create(&env, 0);
	if (env->open(env, conf.store_home, DB_JOINENV, 0) == 0 &&
	    env->txn_stat(env, &ts, 0) == 0) {
		n = ts->st_nbegins;
		free(ts);
	}
	env->close(env, 0);
	return n;
}

/* A body of plain gets begins no Berkeley DB transaction (issue 17); an
 * index lookup (the unique-key check holds its lock), a read for update
 * or a write does, once */
static void
test_lazy_txn(struct rv_store *st)
{
	unsigned long before;

	is_str(put(st, "lazy", "lazy", "lazy@example.com", NULL), "", "setup: a user");
	before = txn_begins();
	is_str(find(st, get_by_id, "lazy"), "lazy", "a plain get finds the user");
	is_int((long long)(txn_begins() - before), 0, "... and begins no transaction");
	before = txn_begins();
	is_str(find(st, rv_store_user_by_email, "LAZY@example.com"), "lazy",
	       "an index lookup finds the user");
	is_int((long long)(txn_begins() - before), 1, "... in a transaction");
	before = txn_begins();
	is_str(put(st, "lazy", "lazy2", NULL, NULL), "", "a write");
	is_int((long long)(txn_begins() - before), 1, "... begins one");
	is_str(find(st, rv_store_user_by_username, "lazy2"), "lazy", "... and is read back");
}

static int
audit_body(struct rv_store *st, struct rv_txn *txn, void *ctx, struct rv_err *err)
{
	return rv_store_audit(txn, ctx, "u1", NULL, err);
}

static void
test_audit(struct rv_store **stp)
{
	struct rv_err err;
	long long count, bad;
	char path[256];
	DB *db;
	DBT k, v;
	unsigned char key[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	char *p;

	rv_err_init(&err);
	for (int i = 0; i < 5; i++)
		rv_store_txn(*stp, audit_body, (void *)"test.event", &err);
	ok(rv_store_audit_verify(*stp, &count, &bad, &err) == 1 && count == 5,
	   "five audit entries chain correctly");
	rv_store_close(stp);

	/* tamper with entry 2 behind the store's back; first drop the shared
	 * regions, whose cache would still hold the old page */
	drop_regions();
	snprintf(path, sizeof(path), "%s/audit.db", conf.store_home);
	db_create(&db, NULL, 0);
	if (!ok(db->open(db, NULL, path, NULL, DB_BTREE, 0, 0) == 0, "audit.db opens raw")) {
		db->close(db, 0);
		*stp = open_store(false);
		return;
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.size = 8;
	v.flags = DB_DBT_MALLOC;
	p = db->get(db, NULL, &k, &v, 0) == 0 ? strstr(v.data, "test.event") : NULL;
	ok(p != NULL, "entry 2 holds the event");
	if (p != NULL)
		memcpy(p, "test.EVENT", 10);
	db->put(db, NULL, &k, &v, 0);
	free(v.data);
	db->close(db, 0);

	*stp = open_store(false);
	if (!ok(rv_store_audit_verify(*stp, &count, &bad, &err) == 0 && bad == 2 && count == 1,
		"a changed entry breaks the chain at that entry"))
		diag("bad %lld count %lld: %s", bad, count, err.msg);
	ok(strstr(err.msg, "entry 2") != NULL, "the report names the entry");
	rv_err_release(&err);
}

/* ---- the keyed chain, the head and prune (security review F10, F11) ---- */

static DB *raw_db;

/* Closes the store and opens audit.db behind its back (the shared
 * regions go first: their cache would still hold the old pages). */
static bool
raw_open(struct rv_store **stp)
{
	char path[300];

	rv_store_close(stp);
	drop_regions();
	snprintf(path, sizeof(path), "%s/audit.db", conf.store_home);
	db_create(&raw_db, NULL, 0);
	if (raw_db->open(raw_db, NULL, path, NULL, DB_BTREE, 0, 0) != 0) {
		raw_db->close(raw_db, 0);
		raw_db = NULL;
		return false;
	}
	return true;
}

static void
raw_close(struct rv_store **stp)
{
	if (raw_db != NULL)
		raw_db->close(raw_db, 0);
	raw_db = NULL;
	*stp = open_store(false);
}

static void
raw_key(long long seq, unsigned char key[8], DBT *k)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (unsigned char)(seq & 0xff);
	memset(k, 0, sizeof(*k));
	k->data = key;
	k->size = 8;
}

/* the entry's stored text (malloc'd), or NULL */
static char *
raw_get(long long seq)
{
	unsigned char key[8];
	DBT k, v;
	char *s;

	raw_key(seq, key, &k);
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	if (raw_db->get(raw_db, NULL, &k, &v, 0) != 0)
		return NULL;
	s = rv_xasprintf("%.*s", (int)v.size, (char *)v.data);
	free(v.data);
	return s;
}

static void
raw_put(long long seq, const char *s)
{
	unsigned char key[8];
	DBT k, v;

	raw_key(seq, key, &k);
	memset(&v, 0, sizeof(v));
	v.data = (void *)s;
	v.size = (u_int32_t)strlen(s);
	raw_db->put(raw_db, NULL, &k, &v, 0);
}

static void
raw_del(long long seq)
{
	unsigned char key[8];
	DBT k;

	raw_key(seq, key, &k);
	raw_db->del(raw_db, NULL, &k, 0);
}

/* What an attacker without the key can do: rewrite an entry and hash it,
 * and the one after, with plain SHA-256 (keeping or dropping "mac"). */
static void
forge(long long seq, bool drop_mac)
{
	char hash[65] = "";

	for (long long i = seq; i <= seq + 1; i++) {
		char *s = raw_get(i), *out;
		json_t *j = s ? json_loads(s, 0, NULL) : NULL;
		unsigned char h[32];

		free(s);
		if (j == NULL)
			return;
		if (i == seq)
			json_object_set_new(j, "event", json_string("forged.event"));
		else
			json_object_set_new(j, "prev", json_string(hash));
		if (drop_mac)
			json_object_del(j, "mac");
		json_object_del(j, "hash");
		out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		rv_sha256(out, strlen(out), h);
		rv_hex(h, sizeof(h), hash);
		free(out);
		json_object_set_new(j, "hash", json_string(hash));
		out = json_dumps(j, JSON_COMPACT);
		raw_put(i, out);
		free(out);
		json_decref(j);
	}
}

static int
check(struct rv_store *st, long long head_seq, const char *head_hash,
      struct rv_audit_check *c, struct rv_err *err)
{
	memset(c, 0, sizeof(*c));
	c->head_seq = head_seq;
	if (head_hash != NULL)
		rv_strlcpy(c->head_hash, head_hash, sizeof(c->head_hash));
	rv_err_release(err);
	return rv_store_audit_check(st, c, err);
}

static void
add_entries(struct rv_store *st, int n)
{
	struct rv_err err;

	rv_err_init(&err);
	for (int i = 0; i < n; i++)
		rv_store_txn(st, audit_body, (void *)"test.event", &err);
	rv_err_release(&err);
}

static long long prune_calls;

static void
count_progress(long long done, long long total, void *ctx)
{
	(void)done;
	(void)total;
	(void)ctx;
	prune_calls++;
}

static void
test_audit_keyed(void)
{
	struct rv_store *st;
	struct rv_audit_check c;
	struct rv_err err;
	struct stat sb;
	char h6[65], h8[65], h3[65], *e5, *e6, *s;
	long long seq, n, head;
	int rc;

	rv_err_init(&err);
	free(conf.store_home);
	conf.store_home = rv_xasprintf("%s/keyed", dir);
	free(conf.audit_key);
	conf.audit_key = rv_xstrdup("");
	fake_now = 1000000;
	rv_store_set_clock(clock_fake);

	/* a store of before 0.2: no key, plain SHA-256 */
	st = open_store(true);
	if (!ok(st != NULL && !rv_store_audit_keyed(st), "a store without <audit key> is unkeyed"))
		return;
	add_entries(st, 3);
	rv_store_close(&st);

	free(conf.audit_key);
	conf.audit_key = rv_xasprintf("%s/audit.key", dir);
	st = open_store(false);
	ok(st != NULL && !rv_store_audit_keyed(st),
	   "a missing key file is no error: the chain goes on unkeyed");
	rv_store_close(&st);
	st = open_store(true);
	ok(st != NULL && rv_store_audit_keyed(st), "init makes the audit key");
	if (st == NULL)
		return;
	ok(stat(conf.audit_key, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	   "the audit key file is 0600");
	add_entries(st, 3);
	rc = check(st, 0, NULL, &c, &err);
	if (!ok(rc == 1 && c.count == 6 && c.unkeyed == 3 && c.keyed == 3,
		"an old unkeyed chain still verifies and goes on keyed"))
		diag("rc %d count %lld: %s", rc, c.count, err.msg);

	/* the head */
	ok(rv_store_audit_head(st, &head, h6, &err) == 0 && head == 6 && strlen(h6) == 64,
	   "the head is the last entry");
	ok(check(st, 6, h6, &c, &err) == 1 && c.head_found, "the chain reaches the expected head");
	h3[0] = '\0';
	ok(check(st, 6, "0000000000000000000000000000000000000000000000000000000000000000",
		 &c, &err) == 0 && c.bad_seq == 6, "a head with another hash is found out");

	/* attacks on the raw file */
	if (!ok(raw_open(&st), "audit.db opens raw"))
		return;
	e5 = raw_get(5);
	e6 = raw_get(6);
	raw_del(6);
	raw_close(&st);
	ok(check(st, 0, NULL, &c, &err) == 1 && c.count == 5,
	   "without a head a dropped tail goes unseen");
	rc = check(st, 6, h6, &c, &err);
	if (!ok(rc == 0 && c.bad_seq == 6 && strstr(err.msg, "before the expected head 6"),
		"with the head a dropped tail is found out"))
		diag("rc %d: %s", rc, err.msg);

	raw_open(&st);
	raw_put(6, e6);
	forge(5, false);
	raw_close(&st);
	rc = check(st, 6, h6, &c, &err);
	if (!ok(rc == 0 && c.bad_seq == 5, "an entry rewritten with plain SHA-256 hashes is found out"))
		diag("rc %d bad %lld: %s", rc, c.bad_seq, err.msg);

	raw_open(&st);
	forge(5, true);
	raw_close(&st);
	rc = check(st, 0, NULL, &c, &err);
	if (!ok(rc == 0 && c.bad_seq == 5 && strstr(err.msg, "not keyed"),
		"an entry stripped of its mac (a downgrade) is found out"))
		diag("rc %d bad %lld: %s", rc, c.bad_seq, err.msg);

	raw_open(&st);
	raw_put(5, e5);
	raw_put(6, e6);
	raw_close(&st);
	ok(check(st, 6, h6, &c, &err) == 1, "the restored chain verifies");

	/* keyed entries need the key */
	rv_store_close(&st);
	s = conf.audit_key;
	conf.audit_key = rv_xstrdup("");
	st = open_store(false);
	rc = check(st, 0, NULL, &c, &err);
	ok(rc < 0 && strstr(err.msg, "no audit key") != NULL,
	   "keyed entries without the key cannot be checked");
	rv_store_close(&st);
	free(conf.audit_key);
	conf.audit_key = s;
	chmod(conf.audit_key, 0640);
	ok(rv_store_open(&conf, false, &st, &err) < 0 && strstr(err.msg, "group or others"),
	   "an audit key file readable by the group is refused");
	chmod(conf.audit_key, 0600);
	st = open_store(false);
	if (st == NULL)
		return;

	/* prune: 1-6 are old, 7-8 new */
	fake_now = 2000000;
	add_entries(st, 2);
	rv_store_audit_head(st, &head, h8, &err);
	{
		raw_open(&st);
		s = raw_get(3);
		json_t *j = s ? json_loads(s, 0, NULL) : NULL;

		rv_strlcpy(h3, j ? json_string_value(json_object_get(j, "hash")) : "", sizeof(h3));
		json_decref(j);
		free(s);
		raw_close(&st);
	}
	rc = rv_store_audit_prune(st, 1500000, NULL, NULL, &n, &err);
	if (!ok(rc == 0 && n == 6, "prune deletes the six old entries"))
		diag("rc %d n %lld: %s", rc, n, err.msg);
	rc = check(st, 8, h8, &c, &err);
	if (!ok(rc == 1 && c.anchor_seq == 6 && c.first_seq == 7 && c.count == 3,
		"after the prune the chain verifies from the anchor"))
		diag("rc %d anchor %lld first %lld count %lld: %s", rc, c.anchor_seq,
		     c.first_seq, c.count, err.msg);
	ok(check(st, 6, h6, &c, &err) == 1, "the anchor is a head that still checks");
	ok(check(st, 3, h3, &c, &err) < 0 && strstr(err.msg, "pruned"),
	   "a head older than the anchor cannot be checked");
	ok(rv_store_audit_head(st, &seq, h3, &err) == 0 && seq == 9, "the prune is entry 9");
	add_entries(st, 1);
	ok(check(st, 0, NULL, &c, &err) == 1 && c.last_seq == 10, "the chain goes on after a prune");

	/* an anchor moved further than any audit.pruned says */
	raw_open(&st);
	free(e6);
	e6 = raw_get(0);
	s = raw_get(7);
	{
		json_t *j = s ? json_loads(s, 0, NULL) : NULL, *a = json_object();
		char *out;

		json_object_set_new(a, "v", json_integer(1));
		json_object_set_new(a, "anchor", json_true());
		json_object_set_new(a, "seq", json_integer(7));
		json_object_set(a, "hash", json_object_get(j, "hash"));
		json_object_set_new(a, "ts", json_integer(fake_now));
		out = json_dumps(a, JSON_COMPACT);
		raw_put(0, out);
		raw_del(7);
		free(out);
		json_decref(a);
		json_decref(j);
	}
	raw_close(&st);
	rc = check(st, 0, NULL, &c, &err);
	if (!ok(rc == 0 && strstr(err.msg, "not covered"),
		"an anchor past what the prunes said is found out"))
		diag("rc %d: %s", rc, err.msg);
	rc = rv_store_audit_prune(st, fake_now + 1, NULL, NULL, &n, &err);
	ok(rc < 0 && strstr(err.msg, "not pruning") && n == 0, "a broken chain is not pruned");
	raw_open(&st);
	raw_put(0, e6);
	raw_put(7, s);
	raw_close(&st);
	free(s);
	free(e5);
	free(e6);

	/* a prune of many entries goes in chunks */
	fake_now = 3000000;
	add_entries(st, 250);
	rv_store_audit_head(st, &head, h8, &err);
	fake_now = 4000000;
	prune_calls = 0;
	rc = rv_store_audit_prune(st, 3500000, count_progress, NULL, &n, &err);
	if (!ok(rc == 0 && n == head - 6, "a long prune deletes every old entry"))
		diag("rc %d n %lld head %lld: %s", rc, n, head, err.msg);
	ok(prune_calls == 3, "it went in three chunks, each reported");
	rc = check(st, head, h8, &c, &err);
	if (!ok(rc == 1 && c.anchor_seq == head && c.count == 1,
		"the chain verifies from the new anchor"))
		diag("rc %d anchor %lld count %lld: %s", rc, c.anchor_seq, c.count, err.msg);
	{
		struct rv_store_stats stats;

		ok(rv_store_stats(st, &stats, &err) == 0 && stats.audit == 1,
		   "stats does not count the anchor");
	}
	rv_store_set_clock(NULL);
	rv_store_close(&st);
	rv_err_release(&err);
}

/* A child commits users in a loop and reports each commit that returned;
 * it is killed with SIGKILL in the middle. The next open recovers the
 * environment (DB_REGISTER) and every reported commit is there. */
static void
test_kill(void)
{
	int fds[2], status, missing = 0, got = 0;
	pid_t pid;
	FILE *in;
	char line[64];
	struct rv_store *st;

	if (pipe(fds) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct rv_store *w = open_store(false);
		char id[32];
		FILE *out = fdopen(fds[1], "w");

		close(fds[0]);
		setvbuf(out, NULL, _IOLBF, 0);
		for (int i = 0; i < 100000; i++) {
			snprintf(id, sizeof(id), "k%d", i);
			if (put(w, id, NULL, NULL, NULL)[0] == '\0')
				fprintf(out, "%s\n", id);
		}
		_exit(0);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	/* let it commit a while, then kill it mid-loop */
	while (got < 150 && fgets(line, sizeof(line), in) != NULL)
		got++;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer was killed");
	st = open_store(false);
	ok(st != NULL, "the store opens after the kill (recovery ran)");
	if (st == NULL)
		return;
	/* every id reported before the kill, and those still in the pipe */
	got = 0;
	fclose(in);
	in = NULL;
	for (int i = 0; i < 150; i++) {
		char id[32];

		snprintf(id, sizeof(id), "k%d", i);
		if (find(st, get_by_id, id)[0] == '\0')
			missing++;
		got++;
	}
	is_int(missing, 0, "every committed write survived the SIGKILL");
	is_str(put(st, "after", NULL, NULL, NULL), "", "the store takes writes again");
	rv_store_close(&st);
}

int
main(void)
{
	struct rv_store *st;
	struct rv_err err;
	struct stat sb;
	char path[256];

	if (strcmp(fixture_backend(), "bdb") != 0)
		skip_all("Berkeley DB's own (its files, audit.db tampered with, recovery "
			 "after SIGKILL, backup); t/unit/store-contract runs the store's "
			 "contract on %s", fixture_backend());
	dir = fixture_dir("store");
	rv_conf_defaults(&conf);
	free(conf.store_home);
	conf.store_home = rv_xasprintf("%s/home", dir);
	free(conf.audit_key);	/* the first chain is unkeyed, as before 0.2 */
	conf.audit_key = rv_xstrdup("");
	rv_err_init(&err);

	ok(rv_store_open(&conf, false, &st, &err) < 0 && err.status == 503 &&
	   strstr(err.msg, "reverify-admin init") != NULL,
	   "a missing home is 503, telling what to run");
	rv_err_release(&err);
	st = open_store(true);
	ok(st != NULL, "init creates the store");
	if (st == NULL)
		return done_testing();
	stat(conf.store_home, &sb);
	is_int(sb.st_mode & 0777, 0700, "the home is 0700");
	snprintf(path, sizeof(path), "%s/pepper", conf.store_home);
	stat(path, &sb);
	is_int(sb.st_mode & 0777, 0600, "the pepper file is 0600");
	snprintf(path, sizeof(path), "%s/users.db", conf.store_home);
	stat(path, &sb);
	is_int(sb.st_mode & 0077, 0, "database files are private");
	test_lazy_txn(st);
	test_audit(&st);
	rv_store_close(&st);
	test_kill();

	chmod(conf.store_home, 0777);
	ok(rv_store_open(&conf, false, &st, &err) < 0 &&
	   strstr(err.msg, "writable by anyone") != NULL,
	   "a world-writable home is refused");
	rv_err_release(&err);
	chmod(conf.store_home, 0700);

	st = open_store(false);
	snprintf(path, sizeof(path), "%s/backup", dir);
	ok(st && rv_store_backup(st, path, &err) == 0, "a hot backup is written");
	snprintf(path, sizeof(path), "%s/backup/users.db", dir);
	ok(access(path, R_OK) == 0, "the backup holds users.db");
	rv_store_close(&st);
	ok(rv_store_recover(&conf, &err) == 0, "recovery runs on a closed store");
	test_audit_keyed();
	rv_conf_release(&conf);
	fixture_cleanup();
	return done_testing();
}
