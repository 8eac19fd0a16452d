/* rv-store.c: the Berkeley DB store: environment, transactions, maintenance */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

#define MAX_TRIES 8
#define LOCK_TIMEOUT_US 2000000		/* a lock held by a dead process */

/* ---- clock ---------------------------------------------------------------- */

static long long
real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long (*clock_fn)(void) = real_now;

long long
rv_store_now(void)
{
	return clock_fn();
}

void
rv_store_set_clock(long long (*now_ms)(void))
{
	clock_fn = now_ms ? now_ms : real_now;
}

/* ---- errors --------------------------------------------------------------- */

static void
env_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env;
	(void)prefix;
	rv_log_warnx("store: %s", msg);
}

/* Maps a Berkeley DB error to err: deadlocks and lock timeouts become
 * RV_STORE_RETRY for the transaction runner, the rest 503. */
int
rv_store_db_fail(struct rv_txn *txn, int ret, const char *what,
		 struct rv_err *err)
{
	if (txn != NULL) {
		txn->dbret = ret;
		if (ret == DB_RUNRECOVERY && txn->st != NULL)
			txn->st->panicked = true;
	}
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED) {
		rv_err_set(err, RV_E_UNAVAILABLE, "store: %s: %s", what,
			   db_strerror(ret));
		return RV_STORE_RETRY;
	}
	rv_err_set(err, RV_E_UNAVAILABLE, "store: %s: %s", what,
		   db_strerror(ret));
	rv_err_header(err, "Retry-After", "5");
	return -1;
}

/* ---- JSON values ------------------------------------------------------------ */

int
rv_store_load_json(const DBT *v, json_t **j_r, struct rv_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(v->data, v->size, 0, &je);

	if (j == NULL || !json_is_object(j)) {
		if (j != NULL)
			json_decref(j);
		return rv_err_set(err, RV_E_INTERNAL,
				  "store: corrupt value: %s", je.text);
	}
	if (json_integer_value(json_object_get(j, "v")) != FORMAT_VERSION) {
		json_decref(j);
		return rv_err_set(err, RV_E_INTERNAL,
				  "store: value of unknown format version");
	}
	*j_r = j;
	return 0;
}

char *
rv_store_dump_json(json_t *j, size_t *len_r)
{
	char *s = json_dumps(j, JSON_COMPACT);

	RV_ASSERT(s != NULL);
	*len_r = strlen(s);
	return s;
}

/* ---- index keys --------------------------------------------------------- */

char *
rv_store_fold(enum rv_user_key key, const char *value)
{
	return key == RV_USER_KEY_PHONE ? rv_xstrdup(value) : fold(value);
}

/*
 * Secondary key callbacks: the key is made from the JSON value. Berkeley
 * DB calls one callback per index with the same value (and again with
 * the old value on a replace), so the last value parsed is kept rather
 * than parsed again for each (doc/performance.md). The bytes are compared
 * in full; the copy is wiped when replaced (a user's value holds its
 * password hash).
 */
static struct {
	char *data;
	size_t size;
	json_t *j;
} idx_memo;

/* the parsed value, a new reference, or NULL */
static json_t *
idx_parse(const DBT *val)
{
	json_error_t je;
	json_t *j;

	if (idx_memo.j != NULL && idx_memo.size == val->size &&
	    memcmp(idx_memo.data, val->data, val->size) == 0)
		return json_incref(idx_memo.j);
	if ((j = json_loadb(val->data, val->size, 0, &je)) == NULL)
		return NULL;
	if (idx_memo.j != NULL) {
		json_decref(idx_memo.j);
		rv_wipe(idx_memo.data, idx_memo.size);
		free(idx_memo.data);
	}
	idx_memo.data = rv_xmalloc(val->size > 0 ? val->size : 1);
	memcpy(idx_memo.data, val->data, val->size);
	idx_memo.size = val->size;
	idx_memo.j = json_incref(j);
	return j;
}

static void
idx_memo_release(void)
{
	if (idx_memo.j != NULL) {
		json_decref(idx_memo.j);
		rv_wipe(idx_memo.data, idx_memo.size);
		free(idx_memo.data);
	}
	memset(&idx_memo, 0, sizeof(idx_memo));
}

static int
index_from(const DBT *val, const char *field, bool lower, DBT *skey)
{
	json_t *j = idx_parse(val);
	const char *s;
	char *k;

	if (j == NULL)
		return DB_DONOTINDEX;
	s = jstr(j, field);
	if (s == NULL || *s == '\0') {
		json_decref(j);
		return DB_DONOTINDEX;
	}
	k = lower ? fold(s) : rv_xstrdup(s);
	json_decref(j);
	memset(skey, 0, sizeof(*skey));
	skey->data = k;
	skey->size = (u_int32_t)strlen(k);
	skey->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
idx_username(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "username", true, sk);
}

static int
idx_email(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "email", true, sk);
}

static int
idx_phone(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "phone", false, sk);
}

/* records by user: the owner, or the creator of an unowned record */
static int
idx_record_user(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	json_t *j = idx_parse(v);
	const char *s;
	char *key;

	(void)db, (void)k;
	if (j == NULL)
		return DB_DONOTINDEX;
	s = jstr(j, "owner");
	if (s == NULL || *s == '\0')
		s = jstr(j, "creator");
	if (s == NULL || *s == '\0') {
		json_decref(j);
		return DB_DONOTINDEX;
	}
	key = rv_xstrdup(s);
	json_decref(j);
	memset(sk, 0, sizeof(*sk));
	sk->data = key;
	sk->size = (u_int32_t)strlen(key);
	sk->flags = DB_DBT_APPMALLOC;
	return 0;
}

/* by expiry: 8 bytes big-endian milliseconds, then the primary key, so
 * that a cursor walks entries oldest first */
static int
idx_expiry(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	json_t *j = idx_parse(v);
	unsigned char *key;
	long long exp;
	int i;

	(void)db;
	if (j == NULL)
		return DB_DONOTINDEX;
	exp = jint(j, "expiresAt");
	json_decref(j);
	key = rv_xmalloc(8 + k->size);
	for (i = 7; i >= 0; i--, exp >>= 8)
		key[i] = (unsigned char)(exp & 0xff);
	memcpy(key + 8, k->data, k->size);
	memset(sk, 0, sizeof(*sk));
	sk->data = key;
	sk->size = 8 + k->size;
	sk->flags = DB_DBT_APPMALLOC;
	return 0;
}

/* ---- open and close -------------------------------------------------------- */

/*
 * The watchdog of a long-lived worker. When a worker is killed while it
 * holds a lock, the next process to open the environment runs recovery,
 * which replaces the region; a worker that was already waiting on that
 * lock waits in the old region, where no detector runs any more and so no
 * lock timeout ends the wait (t6010 found such workers, deaf to SIGTERM).
 * Nothing can wake it safely (DB_NOPANIC would let it write through the
 * stale region), so a thread of the worker, which touches no Berkeley DB
 * handle, ends the process when a transaction has run for STUCK_MS, and
 * the web server starts a fresh worker (lighttpd, Apache mod_fcgid and
 * the systemd socket unit do; a bare spawn-fcgi does not).
 */
#define STUCK_MS 15000		/* far beyond MAX_TRIES lock timeouts */

static long long busy_since;	/* a transaction runs since (monotonic ms), 0 */
static bool watching;

static void *
watchdog(void *arg)
{
	long long since;

	(void)arg;
	for (;;) {
		struct timespec pause = { 1, 0 };

		nanosleep(&pause, NULL);
		since = __atomic_load_n(&busy_since, __ATOMIC_RELAXED);
		if (since != 0 && rv_mono_ms() - since > STUCK_MS) {
			/* the main thread is stuck: the log is ours alone */
			rv_log_warnx("store: a transaction is stuck for %d s "
				     "(a killed process's lock in a recovered "
				     "environment); the worker exits",
				     STUCK_MS / 1000);
			_exit(75);
		}
	}
	return NULL;
}

void
rv_store_watchdog(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (watching)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, watchdog, NULL) == 0)
		watching = true;
	else
		rv_log_warnx("store: no watchdog: %s", strerror(errno));
	pthread_attr_destroy(&attr);
}

/*
 * The handles of panicked environments, kept and never closed: after
 * another process died holding a mutex of the old region, a close (even
 * with DB_NOPANIC) waits for that mutex forever, and the worker with it
 * (t6010 found workers hung so, deaf to SIGTERM). A panic is rare (a
 * crash and a recovery); what it costs is the old handles' memory until
 * the process ends, reachable from here.
 */
struct grave {
	struct grave *next;
	DB_ENV *env;
	DB *dbs[10];
};
static struct grave *graveyard;

/* Closes the handles; those of a panicked environment (another process
 * died and one of us ran recovery) go to the graveyard instead. */
static void
close_dbs(struct rv_store *st)
{
	DB **dbs[] = {
		&st->users_username, &st->users_email, &st->users_phone,
		&st->records_user, &st->records_exp, &st->limits_exp,
		&st->users, &st->records, &st->limits, &st->audit,
	};
	u_int32_t id;
	size_t i;

	/* a panic that no call of ours has seen yet: probe for it */
	if (!st->panicked && st->env != NULL) {
		int ret = st->env->lock_id(st->env, &id);

		if (ret == DB_RUNRECOVERY)
			st->panicked = true;
		else if (ret == 0)
			st->env->lock_id_free(st->env, id);
	}
	if (st->panicked && st->env != NULL) {
		struct grave *g = rv_xcalloc(1, sizeof(*g));

		RV_ASSERT(sizeof(dbs) / sizeof(dbs[0]) == sizeof(g->dbs) / sizeof(g->dbs[0]));
		for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
			g->dbs[i] = *dbs[i];
			*dbs[i] = NULL;
		}
		g->env = st->env;
		g->next = graveyard;
		graveyard = g;
		st->env = NULL;
		st->panicked = false;
		rv_log_warnx("store: the handles of the panicked environment are "
			     "left open (a close could wait forever)");
		return;
	}
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if (*dbs[i] != NULL) {
			(*dbs[i])->close(*dbs[i], 0);
			*dbs[i] = NULL;
		}
	if (st->env != NULL) {
		DB_ENV *env = st->env;

		st->env = NULL;
		env->close(env, 0);
	}
	st->panicked = false;
}

static int
open_db(struct rv_store *st, DB **db_r, const char *file, u_int32_t dbflags,
	bool create, struct rv_err *err)
{
	DB *db;
	int ret;

	if ((ret = db_create(&db, st->env, 0)) != 0)
		return rv_store_db_fail(NULL, ret, file, err);
	if (dbflags && (ret = db->set_flags(db, dbflags)) != 0) {
		db->close(db, 0);
		return rv_store_db_fail(NULL, ret, file, err);
	}
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
		       DB_AUTO_COMMIT | (create ? DB_CREATE : 0), 0600);
	if (ret != 0) {
		db->close(db, 0);
		if (ret == ENOENT)
			return rv_err_set(err, RV_E_UNAVAILABLE,
					  "store: '%s/%s' does not exist: run reverify-admin init",
					  st->home, file);
		return rv_store_db_fail(NULL, ret, file, err);
	}
	*db_r = db;
	return 0;
}

/*
 * With DB_CREATE, associate() fills an EMPTY secondary by walking the whole
 * primary, on every open while an index is empty (users-phone.db, while no
 * user has a phone; doc/performance.md, "Growth"). The indexes are kept by
 * every write since the store was created, so only init asks for it.
 */
static int
associate(DB *primary, DB *secondary,
	  int (*cb)(DB *, const DBT *, const DBT *, DBT *), bool create,
	  struct rv_err *err)
{
	int ret = primary->associate(primary, NULL, secondary, cb,
				     create ? DB_CREATE : 0);

	return ret ? rv_store_db_fail(NULL, ret, "associate", err) : 0;
}

static int
open_env(struct rv_store *st, bool create, struct rv_err *err)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0)
		return rv_store_db_fail(NULL, ret, "db_env_create", err);
	env->set_errcall(env, env_errcall);
	env->set_cachesize(env, 0, (u_int32_t)st->cache_kib * 1024, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT);
	env->set_lg_max(env, 4 * 1024 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	ret = env->open(env, st->home, flags, 0600);
	if (ret != 0) {
		int rc = rv_store_db_fail(NULL, ret,
					  "cannot open the environment", err);

		env->close(env, 0);
		return rc;
	}
	st->env = env;
	if (open_db(st, &st->users, "users.db", 0, create, err) < 0 ||
	    open_db(st, &st->users_username, "users-username.db", 0, create, err) < 0 ||
	    open_db(st, &st->users_email, "users-email.db", 0, create, err) < 0 ||
	    open_db(st, &st->users_phone, "users-phone.db", 0, create, err) < 0 ||
	    open_db(st, &st->records, "records.db", 0, create, err) < 0 ||
	    open_db(st, &st->records_user, "records-user.db",
		    DB_DUP | DB_DUPSORT, create, err) < 0 ||
	    open_db(st, &st->records_exp, "records-expiry.db", 0, create, err) < 0 ||
	    open_db(st, &st->limits, "limits.db", 0, create, err) < 0 ||
	    open_db(st, &st->limits_exp, "limits-expiry.db", 0, create, err) < 0 ||
	    open_db(st, &st->audit, "audit.db", 0, create, err) < 0)
		goto fail;
	if (associate(st->users, st->users_username, idx_username, create, err) < 0 ||
	    associate(st->users, st->users_email, idx_email, create, err) < 0 ||
	    associate(st->users, st->users_phone, idx_phone, create, err) < 0 ||
	    associate(st->records, st->records_user, idx_record_user, create, err) < 0 ||
	    associate(st->records, st->records_exp, idx_expiry, create, err) < 0 ||
	    associate(st->limits, st->limits_exp, idx_expiry, create, err) < 0)
		goto fail;
	return 0;
fail:
	close_dbs(st);
	return -1;
}

int
rv_store_open(const struct rv_conf *conf, bool create, struct rv_store **st_r,
	      struct rv_err *err)
{
	struct rv_store *st;
	struct stat sb;

	*st_r = NULL;
	if (conf->store_home == NULL || *conf->store_home == '\0')
		return rv_err_set(err, RV_E_INTERNAL, "no <store home> configured");
	if (create && mkdir(conf->store_home, 0700) != 0 && errno != EEXIST)
		return rv_err_set(err, RV_E_INTERNAL,
				  "cannot create the store home '%s': %s",
				  conf->store_home, strerror(errno));
	if (stat(conf->store_home, &sb) != 0) {
		rv_err_set(err, RV_E_UNAVAILABLE,
			   "the store home '%s' is missing: %s%s", conf->store_home,
			   strerror(errno), errno == ENOENT ? " (run reverify-admin init)" : "");
		rv_err_header(err, "Retry-After", "30");
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return rv_err_set(err, RV_E_INTERNAL,
				  "the store home '%s' is not a directory", conf->store_home);
	if (sb.st_mode & S_IWOTH)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the store home '%s' is writable by anyone: refusing it (chmod 700)",
				  conf->store_home);
	st = rv_xcalloc(1, sizeof(*st));
	st->home = rv_xstrdup(conf->store_home);
	st->pepper_path = rv_conf_pepper_path(conf);
	if (conf->audit_key != NULL && *conf->audit_key != '\0')
		st->audit_key_path = rv_xstrdup(conf->audit_key);
	st->cache_kib = (long)conf->store_cache_kib;
	st->sync_users = conf->store_users_sync;
	st->sync_records = conf->store_records_sync;
	st->sync_limits = conf->store_limits_sync;
	if (rv_store_load_pepper(st, create, err) < 0 ||
	    rv_store_load_audit_key(st, create, err) < 0 ||
	    open_env(st, create, err) < 0) {
		rv_store_close(&st);
		return -1;
	}
	*st_r = st;
	return 0;
}

void
rv_store_close(struct rv_store **stp)
{
	struct rv_store *st = *stp;

	if (st == NULL)
		return;
	close_dbs(st);
	idx_memo_release();
	rv_wipe(st->pepper, sizeof(st->pepper));
	rv_wipe(st->audit_key, sizeof(st->audit_key));
	rv_hmac_forget();	/* the keyed copies of both */
	free(st->home);
	free(st->pepper_path);
	free(st->audit_key_path);
	free(st);
	*stp = NULL;
}

bool
rv_store_sync_users(const struct rv_store *st)
{
	return st->sync_users;
}

bool
rv_store_sync_records(const struct rv_store *st)
{
	return st->sync_records;
}

bool
rv_store_sync_limits(const struct rv_store *st)
{
	return st->sync_limits;
}

/* ---- transactions -------------------------------------------------------- */

static int
txn_run(struct rv_store *st, bool sync, rv_store_txn_fn *body, void *ctx,
	     struct rv_err *err)
{
	bool reopened = false;
	int attempt, rc, ret;

	for (attempt = 0; attempt < MAX_TRIES; attempt++) {
		struct rv_txn txn = { st, NULL, 0 };

		if (st->env == NULL) {
			/* a reopen failed earlier: try again */
			if (open_env(st, false, err) < 0)
				return -1;
		}
		ret = st->env->txn_begin(st->env, NULL, &txn.t,
					 sync ? 0 : DB_TXN_WRITE_NOSYNC);
		if (ret == 0) {
			rc = body(st, &txn, ctx, err);
			if (rc == 0) {
				ret = txn.t->commit(txn.t, 0);
				if (ret == 0)
					return 0;
				txn.t = NULL;
				txn.dbret = ret;
				rv_store_db_fail(&txn, ret, "commit", err);
			} else {
				txn.t->abort(txn.t);
			}
		} else {
			txn.dbret = ret;
			rv_store_db_fail(&txn, ret, "txn_begin", err);
			rc = -1;
		}
		if (rc == RV_STORE_RETRY || txn.dbret == DB_LOCK_DEADLOCK ||
		    txn.dbret == DB_LOCK_NOTGRANTED) {
			struct timespec pause = { 0, (long)(1 + attempt * 3) * 1000000L };

			rv_log_debug("store: transaction retried (%s)",
				     db_strerror(txn.dbret));
			rv_err_release(err);
			nanosleep(&pause, NULL);
			continue;
		}
		if (txn.dbret == DB_RUNRECOVERY && !reopened) {
			/* another process crashed and one of us recovered
			 * the environment: reopen it and go again */
			rv_log_info("store: reopening after recovery");
			reopened = true;
			st->panicked = true;
			close_dbs(st);
			rv_err_release(err);
			if (open_env(st, false, err) < 0)
				return -1;
			continue;
		}
		return -1;
	}
	rv_err_set(err, RV_E_UNAVAILABLE, "store: too busy after %d tries",
		   MAX_TRIES);
	rv_err_header(err, "Retry-After", "1");
	return -1;
}

/* The parsed value kept by idx_parse (a user's, with its password hash)
 * does not outlive the transaction: nothing of a request's JSON stays in
 * a FastCGI worker between requests (security review F13). */
int
rv_store_txn(struct rv_store *st, bool sync, rv_store_txn_fn *body, void *ctx,
	     struct rv_err *err)
{
	int rc;

	__atomic_store_n(&busy_since, rv_mono_ms(), __ATOMIC_RELAXED);
	rc = txn_run(st, sync, body, ctx, err);
	__atomic_store_n(&busy_since, 0, __ATOMIC_RELAXED);
	idx_memo_release();
	return rc;
}

/* ---- generic get/put --------------------------------------------------- */

int
rv_store_get_json(struct rv_txn *txn, DB *db, const void *key, size_t klen,
		  bool rmw, json_t **j_r, struct rv_err *err)
{
	DBT k, v;
	int ret;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_MALLOC;
	ret = db->get(db, txn->t, &k, &v, rmw ? DB_RMW : 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return rv_store_db_fail(txn, ret, "get", err);
	ret = rv_store_load_json(&v, j_r, err);
	free(v.data);
	return ret < 0 ? -1 : 1;
}

int
rv_store_put_json(struct rv_txn *txn, DB *db, const void *key, size_t klen,
		  json_t *j, u_int32_t flags, struct rv_err *err)
{
	DBT k, v;
	size_t len;
	char *s;
	int ret;

	s = rv_store_dump_json(j, &len);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = s;
	v.size = (u_int32_t)len;
	ret = db->put(db, txn->t, &k, &v, flags);
	rv_wipe(s, len);
	free(s);
	if (ret == DB_KEYEXIST)
		return 1;
	if (ret != 0)
		return rv_store_db_fail(txn, ret, "put", err);
	return 0;
}

int
rv_store_del_key(struct rv_txn *txn, DB *db, const void *key, size_t klen,
		 struct rv_err *err)
{
	DBT k;
	int ret;

	memset(&k, 0, sizeof(k));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = db->del(db, txn->t, &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return rv_store_db_fail(txn, ret, "del", err);
	return 1;
}

/* at most this many deletions per transaction: a purge must stay within
 * Berkeley DB's lock table, whatever the backlog (doc/performance.md,
 * "Growth") */
#define PURGE_CHUNK 100

/* ---- maintenance ------------------------------------------------------------- */

struct purge_ctx {
	int limits;		/* 0: records-expiry.db, 1: limits-expiry.db */
	long max, done;
	long long now;
};

static int
purge_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct purge_ctx *p = vctx;
	/* looked up here: a reopen after recovery replaces the handles */
	DB *idx = p->limits ? st->limits_exp : st->records_exp;
	DBC *c;
	DBT k, v;
	int ret;
	long n = 0;

	if ((ret = idx->cursor(idx, txn->t, &c, 0)) != 0)
		return rv_store_db_fail(txn, ret, "purge cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((p->max == 0 || n < p->max) &&
	       (ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) == 0) {
		if (k.size < 8 || be64(k.data) > p->now)
			break;
		if ((ret = c->del(c, 0)) != 0)	/* deletes the primary too */
			break;
		n++;
	}
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		return rv_store_db_fail(txn, ret, "purge", err);
	p->done = n;
	return 0;
}


int
rv_store_purge(struct rv_store *st, long max, long *purged_r, struct rv_err *err)
{
	struct purge_ctx p;
	long total = 0, left;
	int i;

	for (i = 0; i < 2; i++) {
		p.limits = i;
		p.now = rv_store_now();
		do {
			left = max ? max - total : PURGE_CHUNK;
			if (left <= 0)
				break;
			p.max = left < PURGE_CHUNK ? left : PURGE_CHUNK;
			p.done = 0;
			if (rv_store_txn(st, false, purge_body, &p, err) < 0)
				return -1;
			total += p.done;
		} while (p.done == p.max);
	}
	if (purged_r != NULL)
		*purged_r = total;
	/* checkpoint when 1 MiB of log or 5 minutes have passed; log files
	 * no longer needed are then removed (DB_LOG_AUTO_REMOVE) */
	if (st->env != NULL)
		st->env->txn_checkpoint(st->env, 1024, 5, 0);
	return 0;
}

static int
count_db(struct rv_txn *txn, DB *db, long long *n_r, long long live_after,
	 struct rv_err *err)
{
	DBC *c;
	DBT k, v;
	int ret;

	*n_r = 0;
	/* read committed: a walk over a million entries must not hold a
	 * read lock on every page (it ran out of the lock table) */
	if ((ret = db->cursor(db, txn->t, &c, DB_READ_COMMITTED)) != 0)
		return rv_store_db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL;	/* keys only */
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0)
		if (live_after < 0 || (k.size >= 8 && be64(k.data) > live_after))
			(*n_r)++;
	c->close(c);
	return ret == DB_NOTFOUND ? 0 :
	       rv_store_db_fail(txn, ret, "cursor", err);
}

static int
stats_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct rv_store_stats *s = vctx;

	if (count_db(txn, st->users, &s->users, -1, err) < 0 ||
	    count_db(txn, st->records, &s->records, -1, err) < 0 ||
	    count_db(txn, st->records_exp, &s->live_records, rv_store_now(), err) < 0 ||
	    count_db(txn, st->limits, &s->windows, -1, err) < 0 ||
	    count_db(txn, st->audit, &s->audit, 0, err) < 0)
		return -1;
	return 0;
}

int
rv_store_stats(struct rv_store *st, struct rv_store_stats *s, struct rv_err *err)
{
	memset(s, 0, sizeof(*s));
	return rv_store_txn(st, false, stats_body, s, err);
}

int
rv_store_backup(struct rv_store *st, const char *dir, struct rv_err *err)
{
	int ret;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return rv_err_set(err, RV_E_INTERNAL, "cannot create '%s': %s",
				  dir, strerror(errno));
	ret = st->env->backup(st->env, dir, DB_CREATE | DB_EXCL | DB_BACKUP_CLEAN);
	if (ret != 0)
		return rv_err_set(err, RV_E_INTERNAL, "backup to '%s' failed: %s",
				  dir, db_strerror(ret));
	return 0;
}

int
rv_store_recover(const struct rv_conf *conf, struct rv_err *err)
{
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0)
		return rv_err_set(err, RV_E_INTERNAL, "db_env_create: %s",
				  db_strerror(ret));
	env->set_errcall(env, env_errcall);
	ret = env->open(env, conf->store_home,
			DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
			DB_INIT_MPOOL | DB_RECOVER, 0600);
	env->close(env, 0);
	if (ret != 0)
		return rv_err_set(err, RV_E_INTERNAL, "recovery of '%s' failed: %s",
				  conf->store_home, db_strerror(ret));
	return 0;
}
