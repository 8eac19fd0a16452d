/* rv-store.c: the Berkeley DB store: users, records, limits, audit */
#include "config.h"
#include "rv-store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

#define FORMAT_VERSION 1
#define MAX_TRIES 8
#define LOCK_TIMEOUT_US 2000000		/* a lock held by a dead process */
#define PEPPER_LEN 32
#define KEY_LEN 32		/* pepper and audit key */

struct rv_store {
	DB_ENV *env;
	DB *users, *users_username, *users_email, *users_phone;
	DB *records, *records_user, *records_exp;
	DB *limits, *limits_exp;
	DB *audit;
	unsigned char pepper[PEPPER_LEN];
	unsigned char audit_key[KEY_LEN];
	bool audit_keyed;	/* audit_key was read */
	char *home;
	char *pepper_path;
	char *audit_key_path;	/* NULL: <audit key> is empty */
	long cache_kib;
	bool sync_users, sync_records, sync_limits;
	bool panicked;		/* a call answered DB_RUNRECOVERY */
};

struct rv_txn {
	struct rv_store *st;
	DB_TXN *t;
	int dbret;		/* the last Berkeley DB error seen */
};

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
static int
db_fail(struct rv_txn *txn, int ret, const char *what, struct rv_err *err)
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

static int
load_json(const DBT *v, json_t **j_r, struct rv_err *err)
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

static char *
dump_json(json_t *j, size_t *len_r)
{
	char *s = json_dumps(j, JSON_COMPACT);

	RV_ASSERT(s != NULL);
	*len_r = strlen(s);
	return s;
}

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static long long
jint(json_t *j, const char *key)
{
	return (long long)json_integer_value(json_object_get(j, key));
}

static char *
jdup(json_t *j, const char *key)
{
	const char *s = jstr(j, key);

	return s ? rv_xstrdup(s) : NULL;
}

static void
set_str(json_t *j, const char *key, const char *v)
{
	json_object_set_new(j, key, v ? json_string(v) : json_null());
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	rv_strlcpy(dst, src ? src : "", size);
}

/* ---- index keys --------------------------------------------------------- */

static char *
fold(const char *s)
{
	char *f = rv_xstrdup(s), *p;

	for (p = f; *p; p++)
		*p = rv_ascii_lower(*p);
	return f;
}

char *
rv_store_fold(enum rv_user_key key, const char *value)
{
	return key == RV_USER_KEY_PHONE ? rv_xstrdup(value) : fold(value);
}

/*
 * Secondary key callbacks: the key is made from the JSON value. Berkeley
 * DB calls one callback per index with the same value (and again with
 * the old value on a replace), so the last value parsed is kept: a put of
 * a record parsed its JSON four times, and jansson's parse was half of
 * the instructions of a code verify (callgrind). The bytes are compared
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

static long long
be64(const unsigned char *p)
{
	long long v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- open and close -------------------------------------------------------- */

/* Closes the handles. In a panicked environment (another process died
 * and one of us ran recovery) every call but this would answer
 * DB_RUNRECOVERY and leave its handle allocated: DB_NOPANIC lets the
 * closes free them, and DB_NOSYNC keeps the stale cache out of the files. */
static void
close_dbs(struct rv_store *st)
{
	DB **dbs[] = {
		&st->users_username, &st->users_email, &st->users_phone,
		&st->records_user, &st->records_exp, &st->limits_exp,
		&st->users, &st->records, &st->limits, &st->audit,
	};
	u_int32_t flags = 0, id;
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
		st->env->set_flags(st->env, DB_NOPANIC, 1);
		flags = DB_NOSYNC;
	}
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if (*dbs[i] != NULL) {
			(*dbs[i])->close(*dbs[i], flags);
			*dbs[i] = NULL;
		}
	if (st->env != NULL) {
		st->env->close(st->env, 0);
		st->env = NULL;
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
		return db_fail(NULL, ret, file, err);
	if (dbflags && (ret = db->set_flags(db, dbflags)) != 0) {
		db->close(db, 0);
		return db_fail(NULL, ret, file, err);
	}
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
		       DB_AUTO_COMMIT | (create ? DB_CREATE : 0), 0600);
	if (ret != 0) {
		db->close(db, 0);
		if (ret == ENOENT)
			return rv_err_set(err, RV_E_UNAVAILABLE,
					  "store: '%s/%s' does not exist: run reverify-admin init",
					  st->home, file);
		return db_fail(NULL, ret, file, err);
	}
	*db_r = db;
	return 0;
}

/*
 * With DB_CREATE, associate() fills an EMPTY secondary by walking the whole
 * primary. users-phone.db stays empty while no user has a phone, so every
 * open (every FastCGI worker start, every CGI request) walked all users,
 * and at 50 k users the walk ran out of locks. The indexes are kept by
 * every write since the store was created, so only init asks for it.
 */
static int
associate(DB *primary, DB *secondary,
	  int (*cb)(DB *, const DBT *, const DBT *, DBT *), bool create,
	  struct rv_err *err)
{
	int ret = primary->associate(primary, NULL, secondary, cb,
				     create ? DB_CREATE : 0);

	return ret ? db_fail(NULL, ret, "associate", err) : 0;
}

static int
open_env(struct rv_store *st, bool create, struct rv_err *err)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER;
	int ret;

	if ((ret = db_env_create(&st->env, 0)) != 0)
		return db_fail(NULL, ret, "db_env_create", err);
	st->env->set_errcall(st->env, env_errcall);
	st->env->set_cachesize(st->env, 0, (u_int32_t)st->cache_kib * 1024, 1);
	st->env->set_lk_detect(st->env, DB_LOCK_DEFAULT);
	st->env->set_timeout(st->env, LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT);
	st->env->set_lg_max(st->env, 4 * 1024 * 1024);
	st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 1);
	ret = st->env->open(st->env, st->home, flags, 0600);
	if (ret != 0) {
		int rc = db_fail(NULL, ret, "cannot open the environment", err);

		st->env->close(st->env, 0);
		st->env = NULL;
		return rc;
	}
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

/*
 * A key file (the pepper, the audit key) holds 64 hex digits and maybe a
 * newline. It is opened with O_NOFOLLOW and refused when its mode has a
 * bit of forbid; the text read is wiped. With create, a missing file is
 * made (0600) with a random key. With missing_r non-NULL, a missing file
 * is no error: *missing_r is set and out is left alone.
 */
static int
load_key_file(const char *path, const char *what, mode_t forbid,
	      const char *chmod_hint, bool create, bool *missing_r,
	      unsigned char out[KEY_LEN], struct rv_err *err)
{
	char buf[80];
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create) {
		unsigned char key[KEY_LEN];
		char hex[2 * KEY_LEN + 2];

		if (rv_random_bytes(key, sizeof(key), err) < 0)
			return -1;
		rv_hex(key, sizeof(key), hex);
		rv_wipe(key, sizeof(key));
		hex[sizeof(hex) - 2] = '\n';
		hex[sizeof(hex) - 1] = '\0';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) ||
		    fsync(fd) != 0) {
			int e = errno;

			rv_wipe(hex, sizeof(hex));
			if (fd >= 0)
				close(fd);
			return rv_err_set(err, RV_E_INTERNAL,
					  "cannot write the %s '%s': %s", what, path,
					  strerror(e));
		}
		rv_wipe(hex, sizeof(hex));
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0 && errno == ENOENT && missing_r != NULL) {
		*missing_r = true;
		return 0;
	}
	if (fd < 0)
		return rv_err_set(err, RV_E_UNAVAILABLE,
				  "cannot open the %s '%s': %s%s", what, path,
				  strerror(errno),
				  errno == ENOENT ? " (run reverify-admin init)" : "");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & forbid)) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL, "the %s '%s' must not be %s",
				  what, path, chmod_hint);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (rv_unhex(buf, out, KEY_LEN) < 0) {
		rv_wipe(buf, sizeof(buf));
		return rv_err_set(err, RV_E_INTERNAL,
				  "the %s '%s' must hold 64 hex digits", what, path);
	}
	rv_wipe(buf, sizeof(buf));
	return 0;
}

static int
load_pepper(struct rv_store *st, bool create, struct rv_err *err)
{
	return load_key_file(st->pepper_path, "pepper file", S_IROTH | S_IWOTH,
			     "readable by others (chmod 600)", create, NULL,
			     st->pepper, err);
}

/* The audit key: none when <audit key> is empty; a missing file is a
 * warning (the chain goes on unkeyed, as before 0.2). With create, a
 * missing file is made, when its directory exists (reverify-admin init
 * then insists on it: rv_store_audit_keyed). */
static int
load_audit_key(struct rv_store *st, bool create, struct rv_err *err)
{
	const char *slash;
	bool missing = false;

	if (st->audit_key_path == NULL)
		return 0;
	if (create && (slash = strrchr(st->audit_key_path, '/')) != NULL) {
		char *dir = rv_xasprintf("%.*s", (int)(slash - st->audit_key_path),
					 st->audit_key_path);
		struct stat sb;

		if (*dir != '\0' && stat(dir, &sb) != 0)
			create = false;
		free(dir);
	}
	if (load_key_file(st->audit_key_path, "audit key file",
			  S_IRWXG | S_IRWXO,
			  "readable or writable by group or others (chmod 600)",
			  create, &missing, st->audit_key, err) < 0)
		return -1;
	if (missing) {
		rv_log_warnx("the audit key file '%s' is missing: audit entries are "
			     "chained without a key (run reverify-admin init)",
			     st->audit_key_path);
		return 0;
	}
	st->audit_keyed = true;
	return 0;
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
	if (load_pepper(st, create, err) < 0 || load_audit_key(st, create, err) < 0 ||
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
	free(st->home);
	free(st->pepper_path);
	free(st->audit_key_path);
	free(st);
	*stp = NULL;
}

const unsigned char *
rv_store_pepper(const struct rv_store *st)
{
	return st->pepper;
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

void
rv_store_mac_hex(const struct rv_store *st, const char *kind,
		 const char *value, char out[65])
{
	unsigned char mac[32];
	struct rv_buf b = RV_BUF_INIT;

	rv_buf_addstr(&b, kind);
	rv_buf_addch(&b, '\0');
	rv_buf_addstr(&b, value);
	rv_hmac_sha256(st->pepper, sizeof(st->pepper), b.buf, b.len, NULL, 0, mac);
	rv_hex(mac, sizeof(mac), out);
	rv_buf_release_secret(&b);
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
				db_fail(&txn, ret, "commit", err);
			} else {
				txn.t->abort(txn.t);
			}
		} else {
			txn.dbret = ret;
			db_fail(&txn, ret, "txn_begin", err);
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
	int rc = txn_run(st, sync, body, ctx, err);

	idx_memo_release();
	return rc;
}

/* ---- generic get/put --------------------------------------------------- */

static int
get_json(struct rv_txn *txn, DB *db, const void *key, size_t klen, bool rmw,
	 json_t **j_r, struct rv_err *err)
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
		return db_fail(txn, ret, "get", err);
	ret = load_json(&v, j_r, err);
	free(v.data);
	return ret < 0 ? -1 : 1;
}

static int
put_json(struct rv_txn *txn, DB *db, const void *key, size_t klen, json_t *j,
	 u_int32_t flags, struct rv_err *err)
{
	DBT k, v;
	size_t len;
	char *s;
	int ret;

	s = dump_json(j, &len);
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
		return db_fail(txn, ret, "put", err);
	return 0;
}

static int
del_key(struct rv_txn *txn, DB *db, const void *key, size_t klen,
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
		return db_fail(txn, ret, "del", err);
	return 1;
}

/* ---- users ----------------------------------------------------------------- */

void
rv_user_init(struct rv_user *u)
{
	memset(u, 0, sizeof(*u));
}

void
rv_user_release(struct rv_user *u)
{
	free(u->username);
	free(u->email);
	free(u->phone);
	free(u->name);
	free(u->avatar);
	if (u->password_hash != NULL) {
		rv_wipe(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
	}
	rv_user_init(u);
}

bool
rv_user_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n]; n++)
		if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= 'A' && id[n] <= 'Z') ||
		      (id[n] >= '0' && id[n] <= '9') || id[n] == '_' || id[n] == '-'))
			return false;
	return n > 0 && n <= RV_ID_MAX;
}

static void
user_from_json(json_t *j, struct rv_user *u)
{
	rv_user_init(u);
	copy_str(u->id, sizeof(u->id), jstr(j, "id"));
	u->username = jdup(j, "username");
	u->email = jdup(j, "email");
	u->phone = jdup(j, "phone");
	u->name = jdup(j, "name");
	u->avatar = jdup(j, "avatar");
	u->password_hash = jdup(j, "passwordHash");
	u->created_at = jint(j, "createdAt");
	u->updated_at = jint(j, "updatedAt");
	u->password_updated_at = jint(j, "passwordUpdatedAt");
	u->last_sign_in_at = jint(j, "lastSignInAt");
	u->suspended = json_is_true(json_object_get(j, "suspended"));
}

static json_t *
user_to_json(const struct rv_user *u)
{
	json_t *j = json_object();

	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	set_str(j, "id", u->id);
	set_str(j, "username", u->username);
	set_str(j, "email", u->email);
	set_str(j, "phone", u->phone);
	set_str(j, "name", u->name);
	set_str(j, "avatar", u->avatar);
	set_str(j, "passwordHash", u->password_hash);
	json_object_set_new(j, "createdAt", json_integer(u->created_at));
	json_object_set_new(j, "updatedAt", json_integer(u->updated_at));
	json_object_set_new(j, "passwordUpdatedAt", json_integer(u->password_updated_at));
	json_object_set_new(j, "lastSignInAt", json_integer(u->last_sign_in_at));
	json_object_set_new(j, "suspended", json_boolean(u->suspended));
	return j;
}

int
rv_store_user_get(struct rv_txn *txn, const char *id, bool rmw,
		  struct rv_user *u, struct rv_err *err)
{
	json_t *j;
	int rc;

	if (!rv_user_id_valid(id))
		return 0;
	rc = get_json(txn, txn->st->users, id, strlen(id), rmw, &j, err);
	if (rc == 1) {
		user_from_json(j, u);
		json_decref(j);
	}
	return rc;
}

static int
user_by_index(struct rv_txn *txn, DB *idx, const char *value, bool lower,
	      struct rv_user *u, struct rv_err *err)
{
	char *key;
	DBT k, pk, v;
	json_t *j;
	int ret, rc;

	if (value == NULL || *value == '\0' || strlen(value) > 1024)
		return 0;
	key = lower ? fold(value) : rv_xstrdup(value);
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.size = (u_int32_t)strlen(key);
	pk.flags = DB_DBT_MALLOC;
	v.flags = DB_DBT_MALLOC;
	ret = idx->pget(idx, txn->t, &k, &pk, &v, 0);
	free(key);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return db_fail(txn, ret, "index lookup", err);
	free(pk.data);
	rc = load_json(&v, &j, err);
	free(v.data);
	if (rc < 0)
		return -1;
	user_from_json(j, u);
	json_decref(j);
	return 1;
}

int
rv_store_user_by_username(struct rv_txn *txn, const char *username,
			  struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_username, username, true, u, err);
}

int
rv_store_user_by_email(struct rv_txn *txn, const char *email,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_email, email, true, u, err);
}

int
rv_store_user_by_phone(struct rv_txn *txn, const char *phone,
		       struct rv_user *u, struct rv_err *err)
{
	return user_by_index(txn, txn->st->users_phone, phone, false, u, err);
}

/* Is value (as the index folds it) held by a user other than id? */
static int
taken(struct rv_txn *txn, DB *idx, const char *value, bool lower,
      const char *id, struct rv_err *err)
{
	struct rv_user other;
	int rc;

	if (value == NULL || *value == '\0')
		return 0;
	rv_user_init(&other);
	rc = user_by_index(txn, idx, value, lower, &other, err);
	if (rc == 1)
		rc = strcmp(other.id, id) != 0;
	rv_user_release(&other);
	return rc;
}

int
rv_store_user_put(struct rv_txn *txn, const struct rv_user *u,
		  struct rv_err *err)
{
	struct rv_store *st = txn->st;
	json_t *j;
	int rc;

	if (!rv_user_id_valid(u->id))
		return rv_err_set(err, RV_E_INVALID_INPUT, "bad user id");
	if ((rc = taken(txn, st->users_username, u->username, true, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.username_already_in_use",
						"username taken");
	if ((rc = taken(txn, st->users_email, u->email, true, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.email_already_in_use",
						"e-mail taken");
	if ((rc = taken(txn, st->users_phone, u->phone, false, u->id, err)) != 0)
		return rc < 0 ? rc : rv_err_set(err, "user.phone_already_in_use",
						"phone taken");
	j = user_to_json(u);
	rc = put_json(txn, st->users, u->id, strlen(u->id), j, 0, err);
	json_decref(j);
	if (rc == 1)	/* a secondary key clash we did not see: a race lost */
		return rv_err_set(err, "user.email_already_in_use",
				  "unique index clash");
	/* a suspended user has no live step-up (issue 14, F3): whatever
	 * suspends, suspends in the transaction that drops the records */
	if (rc == 0 && u->suspended &&
	    rv_store_record_del_user(txn, u->id, NULL, err) < 0)
		return -1;
	return rc;
}

int
rv_store_user_del(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	int rc;

	if (!rv_user_id_valid(id))
		return 0;
	rc = del_key(txn, txn->st->users, id, strlen(id), err);
	if (rc != 1)
		return rc;
	/* the user's records go with the user (logto-spec 3.1: cascade) */
	return rv_store_record_del_user(txn, id, NULL, err) < 0 ? -1 : 1;
}

int
rv_store_user_each(struct rv_txn *txn,
		   int (*fn)(const struct rv_user *u, void *ctx), void *ctx,
		   struct rv_err *err)
{
	DBC *c;
	DBT k, v;
	int ret, rc = 0;

	if ((ret = txn->st->users->cursor(txn->st->users, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (rc == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		struct rv_user u;
		json_t *j;

		if (load_json(&v, &j, err) < 0) {
			rc = -1;
			break;
		}
		user_from_json(j, &u);
		json_decref(j);
		rc = fn(&u, ctx);
		rv_user_release(&u);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return db_fail(txn, ret, "cursor", err);
	return rc;
}

/* ---- records ---------------------------------------------------------------- */

static const char *const record_types[] = {
	"Password", "EmailVerificationCode", "PhoneVerificationCode",
};

const char *
rv_record_type_name(enum rv_record_type t)
{
	return (unsigned)t < 3 ? record_types[t] : "Unknown";
}

void
rv_record_init(struct rv_record *r)
{
	memset(r, 0, sizeof(*r));
	r->uses_left = -1;
}

static int
record_from_json(json_t *j, struct rv_record *r, struct rv_err *err)
{
	const char *type = jstr(j, "type"), *code = jstr(j, "code");
	int i;

	rv_record_init(r);
	for (i = 0; i < 3; i++)
		if (type && strcmp(type, record_types[i]) == 0)
			break;
	if (i == 3)
		return rv_err_set(err, RV_E_INTERNAL, "store: record of unknown type");
	r->type = (enum rv_record_type)i;
	copy_str(r->id, sizeof(r->id), jstr(j, "id"));
	copy_str(r->owner, sizeof(r->owner), jstr(j, "owner"));
	copy_str(r->creator, sizeof(r->creator), jstr(j, "creator"));
	copy_str(r->identifier, sizeof(r->identifier), jstr(j, "identifier"));
	copy_str(r->template_type, sizeof(r->template_type), jstr(j, "templateType"));
	copy_str(r->client_id, sizeof(r->client_id), jstr(j, "clientId"));
	copy_str(r->sid, sizeof(r->sid), jstr(j, "sid"));
	copy_str(r->action, sizeof(r->action), jstr(j, "action"));
	r->verified = json_is_true(json_object_get(j, "verified"));
	r->created_at = jint(j, "createdAt");
	r->expires_at = jint(j, "expiresAt");
	r->verified_at = jint(j, "verifiedAt");
	r->code_sent_at = jint(j, "codeSentAt");
	r->tries = (int)jint(j, "tries");
	r->uses_left = json_is_integer(json_object_get(j, "usesLeft")) ?
		       (int)jint(j, "usesLeft") : -1;
	r->has_code = code != NULL && rv_unhex(code, r->code_mac, RV_MAC_LEN) == 0;
	return 0;
}

static json_t *
record_to_json(const struct rv_record *r)
{
	json_t *j = json_object();
	char hex[2 * RV_MAC_LEN + 1];

	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	set_str(j, "id", r->id);
	set_str(j, "type", rv_record_type_name(r->type));
	set_str(j, "owner", r->owner);
	set_str(j, "creator", r->creator);
	set_str(j, "identifier", r->identifier);
	set_str(j, "templateType", r->template_type);
	set_str(j, "clientId", r->client_id);
	if (r->sid[0] != '\0')
		set_str(j, "sid", r->sid);
	set_str(j, "action", r->action);
	json_object_set_new(j, "verified", json_boolean(r->verified));
	json_object_set_new(j, "createdAt", json_integer(r->created_at));
	json_object_set_new(j, "expiresAt", json_integer(r->expires_at));
	json_object_set_new(j, "verifiedAt", json_integer(r->verified_at));
	json_object_set_new(j, "codeSentAt", json_integer(r->code_sent_at));
	json_object_set_new(j, "tries", json_integer(r->tries));
	if (r->uses_left >= 0)
		json_object_set_new(j, "usesLeft", json_integer(r->uses_left));
	if (r->has_code) {
		rv_hex(r->code_mac, RV_MAC_LEN, hex);
		set_str(j, "code", hex);
	}
	return j;
}

static bool
record_id_valid(const char *id)
{
	return id != NULL && strlen(id) == RV_RECORD_ID_LEN &&
	       strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") == RV_RECORD_ID_LEN;
}

int
rv_store_record_get(struct rv_txn *txn, const char *id, bool rmw,
		    struct rv_record *r, struct rv_err *err)
{
	json_t *j;
	int rc;

	if (!record_id_valid(id))
		return 0;
	rc = get_json(txn, txn->st->records, id, RV_RECORD_ID_LEN, rmw, &j, err);
	if (rc != 1)
		return rc;
	rc = record_from_json(j, r, err);
	json_decref(j);
	if (rc < 0)
		return -1;
	/* expired = missing (logto-spec 3.4), against our clock */
	return r->expires_at > rv_store_now() ? 1 : 0;
}

int
rv_store_record_put(struct rv_txn *txn, const struct rv_record *r,
		    struct rv_err *err)
{
	json_t *j;
	int rc;

	RV_ASSERT(record_id_valid(r->id));
	j = record_to_json(r);
	rc = put_json(txn, txn->st->records, r->id, RV_RECORD_ID_LEN, j, 0, err);
	json_decref(j);
	return rc;
}

int
rv_store_record_del(struct rv_txn *txn, const char *id, struct rv_err *err)
{
	if (!record_id_valid(id))
		return 0;
	return del_key(txn, txn->st->records, id, RV_RECORD_ID_LEN, err);
}

long
rv_store_record_del_user(struct rv_txn *txn, const char *user,
			 const char *keep, struct rv_err *err)
{
	DBC *c;
	DBT k, pk, v;
	long n = 0;
	int ret;

	if (!rv_user_id_valid(user))
		return 0;
	if ((ret = txn->st->records_user->cursor(txn->st->records_user, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	k.data = (void *)user;
	k.size = (u_int32_t)strlen(user);
	/* through the owner index until none is left: no cap (F8) */
	ret = c->pget(c, &k, &pk, &v, DB_SET | DB_RMW);
	while (ret == 0) {
		if (keep == NULL || pk.size != strlen(keep) ||
		    memcmp(pk.data, keep, pk.size) != 0) {
			if ((ret = c->del(c, 0)) != 0)
				break;
			n++;
		}
		ret = c->pget(c, &k, &pk, &v, DB_NEXT_DUP | DB_RMW);
	}
	c->close(c);
	if (ret != DB_NOTFOUND)
		return db_fail(txn, ret, "delete records", err);
	return n;
}

int
rv_store_record_each_user(struct rv_txn *txn, const char *user,
			  int (*fn)(const struct rv_record *r, void *ctx),
			  void *ctx, struct rv_err *err)
{
	DBC *c;
	DBT k, pk, v;
	long long now = rv_store_now();
	int ret, rc = 0;

	if (!rv_user_id_valid(user))
		return 0;
	if ((ret = txn->st->records_user->cursor(txn->st->records_user, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	k.data = (void *)user;
	k.size = (u_int32_t)strlen(user);
	for (ret = c->pget(c, &k, &pk, &v, DB_SET); rc == 0 && ret == 0;
	     ret = c->pget(c, &k, &pk, &v, DB_NEXT_DUP)) {
		struct rv_record r;
		json_t *j;

		if (load_json(&v, &j, err) < 0) {
			rc = -1;
			break;
		}
		rc = record_from_json(j, &r, err);
		json_decref(j);
		if (rc == 0 && r.expires_at > now)
			rc = fn(&r, ctx);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return db_fail(txn, ret, "cursor", err);
	return rc;
}

/* ---- limits -------------------------------------------------------------- */

int
rv_store_window_get(struct rv_txn *txn, const char *key, struct rv_window *w,
		    struct rv_err *err)
{
	json_t *j, *ev;
	size_t i;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = get_json(txn, txn->st->limits, key, strlen(key), true, &j, err);
	if (rc != 1)
		return rc;
	ev = json_object_get(j, "events");
	for (i = 0; i < json_array_size(ev) && w->n < RV_WINDOW_MAX; i++)
		w->events[w->n++] = (long long)json_integer_value(json_array_get(ev, i));
	w->blocked_until = jint(j, "blockedUntil");
	w->expires_at = jint(j, "expiresAt");
	json_decref(j);
	return 1;
}

int
rv_store_window_put(struct rv_txn *txn, const char *key,
		    const struct rv_window *w, struct rv_err *err)
{
	json_t *j = json_object(), *ev = json_array();
	int i, rc;

	for (i = 0; i < w->n; i++)
		json_array_append_new(ev, json_integer(w->events[i]));
	json_object_set_new(j, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(j, "events", ev);
	json_object_set_new(j, "blockedUntil", json_integer(w->blocked_until));
	json_object_set_new(j, "expiresAt", json_integer(w->expires_at));
	rc = put_json(txn, txn->st->limits, key, strlen(key), j, 0, err);
	json_decref(j);
	return rc;
}

/* ---- audit ------------------------------------------------------------------ */

/*
 * audit.db: key = sequence number, 8 bytes big endian, value = an entry.
 * The key 0 (never a sequence number) holds the prune anchor: the
 * sequence number and hash of the last entry pruned, so that the chain
 * goes on verifying from there.
 */
#define AUDIT_MAC "hmac-sha256"
#define AUDIT_PRUNE_CHUNK 100	/* deletions per transaction, as PURGE_CHUNK */

static void
seq_key(long long seq, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		key[i] = (unsigned char)(seq & 0xff);
}

/*
 * The hash of an entry covers its canonical form (sorted keys, compact)
 * without "hash"; the entry holds the hash of the one before as "prev".
 * An entry with "mac":"hmac-sha256" is hashed with HMAC-SHA256 under the
 * audit key (key non-NULL), one without it with plain SHA-256 (entries
 * written before 0.2, or without a key). "mac" is covered by the hash.
 */
static void
entry_hash(json_t *entry, const unsigned char *key, char out[65])
{
	json_t *copy = json_deep_copy(entry);
	unsigned char h[32];
	char *s;

	json_object_del(copy, "hash");
	s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	RV_ASSERT(s != NULL);
	if (key != NULL)
		rv_hmac_sha256(key, KEY_LEN, s, strlen(s), NULL, 0, h);
	else
		rv_sha256(s, strlen(s), h);
	rv_hex(h, sizeof(h), out);
	free(s);
	json_decref(copy);
}

/* The tail of the chain: *seq_r and prev[65] (0 and 64 zeros when empty);
 * the cursor's read is write-locked when rmw, so that appends are
 * serialised. */
static int
audit_tail(struct rv_txn *txn, bool rmw, long long *seq_r, char prev[65],
	   struct rv_err *err)
{
	DB *db = txn->st->audit;
	json_t *last;
	DBC *c;
	DBT k, v;
	int ret;

	*seq_r = 0;
	memset(prev, '0', 64);
	prev[64] = '\0';
	if ((ret = db->cursor(db, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "audit cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	ret = c->get(c, &k, &v, DB_LAST | (rmw ? DB_RMW : 0));
	if (ret == 0) {
		if (k.size != 8 || load_json(&v, &last, err) < 0) {
			c->close(c);
			return rv_err_set(err, RV_E_INTERNAL, "store: corrupt audit tail");
		}
		/* only the anchor left: the chain goes on from it */
		*seq_r = be64(k.data) == 0 ? jint(last, "seq") : be64(k.data);
		copy_str(prev, 65, jstr(last, "hash"));
		json_decref(last);
	} else if (ret != DB_NOTFOUND) {
		c->close(c);
		return db_fail(txn, ret, "audit tail", err);
	}
	c->close(c);
	return 0;
}

int
rv_store_audit(struct rv_txn *txn, const char *event, const char *user,
	       json_t *fields, struct rv_err *err)
{
	struct rv_store *st = txn->st;
	unsigned char key[8];
	char prev[65], hash[65];
	long long seq;
	const char *fk;
	json_t *entry, *fv;
	int rc;

	if (audit_tail(txn, true, &seq, prev, err) < 0)
		return -1;
	seq++;
	entry = json_object();
	json_object_set_new(entry, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(entry, "seq", json_integer(seq));
	json_object_set_new(entry, "ts", json_integer(rv_store_now()));
	set_str(entry, "event", event);
	set_str(entry, "user", user);
	if (st->audit_keyed)
		set_str(entry, "mac", AUDIT_MAC);
	if (fields != NULL)
		json_object_foreach(fields, fk, fv)
			if (json_object_get(entry, fk) == NULL)
				json_object_set(entry, fk, fv);
	set_str(entry, "prev", prev);
	entry_hash(entry, st->audit_keyed ? st->audit_key : NULL, hash);
	set_str(entry, "hash", hash);
	seq_key(seq, key);
	rc = put_json(txn, st->audit, key, sizeof(key), entry, DB_NOOVERWRITE, err);
	if (rc == 0) {
		char *line = json_dumps(entry, JSON_COMPACT);

		rv_log_info("audit: %s", line ? line : event);
		free(line);
	} else if (rc == 1) {
		rc = rv_err_set(err, RV_E_INTERNAL, "store: audit sequence clash");
	}
	json_decref(entry);
	return rc;
}

bool
rv_store_audit_keyed(const struct rv_store *st)
{
	return st->audit_keyed;
}

struct audit_head {
	long long seq;
	char hash[65];
};

static int
audit_head_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct audit_head *h = vctx;

	(void)st;
	return audit_tail(txn, false, &h->seq, h->hash, err);
}

int
rv_store_audit_head(struct rv_store *st, long long *seq_r, char hash[65],
		    struct rv_err *err)
{
	struct audit_head h;

	if (rv_store_txn(st, false, audit_head_body, &h, err) < 0)
		return -1;
	*seq_r = h.seq;
	memcpy(hash, h.hash, 65);
	return 0;
}

struct audit_walk {
	int (*fn)(json_t *entry, void *ctx);
	void *ctx;
	long long from;		/* 0: the anchor first, when there is one */
	int result;		/* what fn returned to stop the walk */
};

static int
audit_walk_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct audit_walk *w = vctx;
	unsigned char key[8];
	DBC *c;
	DBT k, v;
	int ret, rc = 0;
	u_int32_t op;

	(void)st;
	if ((ret = txn->st->audit->cursor(txn->st->audit, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "audit cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	seq_key(w->from, key);
	k.data = key;
	k.size = 8;
	op = DB_SET_RANGE;
	while (rc == 0 && (ret = c->get(c, &k, &v, op)) == 0) {
		json_t *j;

		op = DB_NEXT;
		if (load_json(&v, &j, err) < 0) {
			rc = -1;
			break;
		}
		json_object_set_new(j, "_key", json_integer(k.size == 8 ? be64(k.data) : -1));
		rc = w->fn(j, w->ctx);
		json_decref(j);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return db_fail(txn, ret, "audit cursor", err);
	if (rc < 0)
		return -1;
	/* a stop asked by fn is not a failure of the transaction */
	w->result = rc;
	return 0;
}

static int
audit_walk(struct rv_store *st, long long from,
	   int (*fn)(json_t *entry, void *ctx), void *ctx, struct rv_err *err)
{
	struct audit_walk w = { fn, ctx, from, 0 };

	if (rv_store_txn(st, false, audit_walk_body, &w, err) < 0)
		return -1;
	return w.result;
}

int
rv_store_audit_each(struct rv_store *st, long long from,
		    int (*fn)(json_t *entry, void *ctx), void *ctx,
		    struct rv_err *err)
{
	return audit_walk(st, from < 1 ? 1 : from, fn, ctx, err);
}

#define CHECK_BROKEN 1
#define CHECK_NOKEY 2

struct audit_check {
	struct rv_audit_check *c;
	const unsigned char *key;	/* NULL: no audit key loaded */
	long long expect, last_key, covered;
	long long cutoff;		/* prune: entries older than this (ms) */
	bool seen_keyed, cut_done;
	char prev[65];
	char why[192];
};

static void
check_reset(struct audit_check *ac)
{
	struct rv_audit_check *c = ac->c;

	c->count = c->keyed = c->unkeyed = 0;
	c->bad_seq = c->first_seq = c->last_seq = 0;
	c->anchor_seq = c->anchor_ts = c->cut_seq = 0;
	c->head_found = false;
	memset(c->last_hash, '0', 64);
	c->last_hash[64] = '\0';
	c->anchor_hash[0] = c->cut_hash[0] = '\0';
	ac->expect = 1;
	ac->last_key = -1;
	ac->covered = 0;
	ac->seen_keyed = ac->cut_done = false;
	memset(ac->prev, '0', 64);
	ac->prev[64] = '\0';
	ac->why[0] = '\0';
}

static int
check_broken(struct audit_check *ac, long long seq, const char *why)
{
	ac->c->bad_seq = seq;
	snprintf(ac->why, sizeof(ac->why), "entry %lld: %s", seq, why);
	return CHECK_BROKEN;
}

static int
audit_check_entry(json_t *e, void *vctx)
{
	struct audit_check *ac = vctx;
	struct rv_audit_check *c = ac->c;
	const char *hash = jstr(e, "hash"), *prev = jstr(e, "prev");
	const char *mac = jstr(e, "mac"), *event = jstr(e, "event");
	long long key = jint(e, "_key");
	char want[65];

	if (key <= ac->last_key)	/* the walk was retried: start again */
		check_reset(ac);
	ac->last_key = key;
	json_object_del(e, "_key");
	if (key == 0) {
		/* the prune anchor: the chain goes on from the entry it names */
		if (hash == NULL || strlen(hash) != 64 || jint(e, "seq") < 1)
			return check_broken(ac, 0, "corrupt prune anchor");
		c->anchor_seq = jint(e, "seq");
		c->anchor_ts = jint(e, "ts");
		rv_strlcpy(c->anchor_hash, hash, sizeof(c->anchor_hash));
		rv_strlcpy(ac->prev, hash, sizeof(ac->prev));
		rv_strlcpy(c->last_hash, hash, sizeof(c->last_hash));
		c->last_seq = c->anchor_seq;
		ac->expect = c->anchor_seq + 1;
		return 0;
	}
	if (key != ac->expect || jint(e, "seq") != key)
		return check_broken(ac, ac->expect, "sequence gap or mismatch");
	if (prev == NULL || strcmp(prev, ac->prev) != 0) {
		char why[80];

		if (c->anchor_seq > 0 && key == c->anchor_seq + 1)
			rv_strlcpy(why, "prev does not match the prune anchor", sizeof(why));
		else
			snprintf(why, sizeof(why), "prev does not match the hash of entry %lld",
				 key - 1);
		return check_broken(ac, key, why);
	}
	if (mac == NULL) {
		/* a chain that was keyed stays keyed: an unkeyed entry after a
		 * keyed one was rewritten, or written without the key */
		if (ac->seen_keyed)
			return check_broken(ac, key, "not keyed, after keyed entries");
		entry_hash(e, NULL, want);
		c->unkeyed++;
	} else if (strcmp(mac, AUDIT_MAC) == 0) {
		if (ac->key == NULL) {
			c->bad_seq = key;
			snprintf(ac->why, sizeof(ac->why),
				 "entry %lld is keyed, but no audit key is loaded "
				 "(<audit key>)", key);
			return CHECK_NOKEY;
		}
		entry_hash(e, ac->key, want);
		ac->seen_keyed = true;
		c->keyed++;
	} else {
		return check_broken(ac, key, "unknown mac");
	}
	if (hash == NULL || strcmp(hash, want) != 0)
		return check_broken(ac, key, "content does not match its hash");
	if (event != NULL && strcmp(event, "audit.pruned") == 0 &&
	    jint(e, "anchorSeq") > ac->covered)
		ac->covered = jint(e, "anchorSeq");
	if (c->head_seq == key) {
		if (strcmp(hash, c->head_hash) != 0)
			return check_broken(ac, key, "does not match the expected head");
		c->head_found = true;
	}
	if (ac->cutoff > 0 && !ac->cut_done) {
		if (jint(e, "ts") < ac->cutoff) {
			c->cut_seq = key;
			rv_strlcpy(c->cut_hash, hash, sizeof(c->cut_hash));
		} else {
			ac->cut_done = true;
		}
	}
	if (c->first_seq == 0)
		c->first_seq = key;
	c->last_seq = key;
	rv_strlcpy(c->last_hash, hash, sizeof(c->last_hash));
	rv_strlcpy(ac->prev, hash, sizeof(ac->prev));
	c->count++;
	ac->expect++;
	return 0;
}

static int
audit_check(struct rv_store *st, struct rv_audit_check *c, long long cutoff,
	    struct rv_err *err)
{
	struct audit_check ac;
	int rc;

	memset(&ac, 0, sizeof(ac));
	ac.c = c;
	ac.key = st->audit_keyed ? st->audit_key : NULL;
	ac.cutoff = cutoff;
	check_reset(&ac);
	if ((rc = audit_walk(st, 0, audit_check_entry, &ac, err)) < 0)
		return -1;
	if (rc == CHECK_NOKEY)
		return rv_err_set(err, RV_E_INTERNAL, "cannot check the audit chain: %s",
				  ac.why);
	if (rc == 0 && c->anchor_seq > ac.covered)
		rc = check_broken(&ac, c->anchor_seq,
				  "the prune anchor is not covered by an audit.pruned entry");
	if (rc == 0 && c->head_seq > 0 && !c->head_found) {
		if (c->head_seq > c->last_seq) {
			char why[120];

			snprintf(why, sizeof(why),
				 "missing: the chain ends at entry %lld, before the "
				 "expected head %lld", c->last_seq, c->head_seq);
			rc = check_broken(&ac, c->last_seq + 1, why);
		} else if (c->head_seq == c->anchor_seq) {
			if (strcmp(c->head_hash, c->anchor_hash) != 0)
				rc = check_broken(&ac, c->head_seq,
						  "does not match the expected head");
			else
				c->head_found = true;
		} else {
			return rv_err_set(err, RV_E_INTERNAL,
					  "cannot check the expected head %lld: it was "
					  "pruned (the chain starts after entry %lld)",
					  c->head_seq, c->anchor_seq);
		}
	}
	if (rc == CHECK_BROKEN) {
		rv_err_set(err, RV_E_INTERNAL, "audit chain broken: %s", ac.why);
		return 0;
	}
	return 1;
}

int
rv_store_audit_check(struct rv_store *st, struct rv_audit_check *c,
		     struct rv_err *err)
{
	return audit_check(st, c, 0, err);
}

int
rv_store_audit_verify(struct rv_store *st, long long *count_r,
		      long long *bad_seq_r, struct rv_err *err)
{
	struct rv_audit_check c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = audit_check(st, &c, 0, err);
	*count_r = c.count;
	*bad_seq_r = c.bad_seq;
	return rc;
}

/* ---- audit prune ---- */

struct prune_audit {
	long long upto;		/* delete entries up to this sequence number */
	long max, done;
};

/* Deletes at most p->max entries from the start of the chain, up to
 * p->upto, and moves the anchor to the last one, in one transaction. */
static int
prune_audit_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		 struct rv_err *err)
{
	struct prune_audit *p = vctx;
	unsigned char key[8];
	char hash[65] = "";
	long long last = 0;
	json_t *anchor;
	DBC *c;
	DBT k, v;
	int ret, rc;
	long n = 0;
	u_int32_t op = DB_SET_RANGE;

	p->done = 0;
	if ((ret = st->audit->cursor(st->audit, txn->t, &c, 0)) != 0)
		return db_fail(txn, ret, "audit cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	seq_key(1, key);
	k.data = key;
	k.size = 8;
	while (n < p->max && (ret = c->get(c, &k, &v, op | DB_RMW)) == 0) {
		json_t *j;

		op = DB_NEXT;
		if (k.size != 8 || be64(k.data) > p->upto)
			break;
		if (load_json(&v, &j, err) < 0) {
			c->close(c);
			return -1;
		}
		last = be64(k.data);
		copy_str(hash, sizeof(hash), jstr(j, "hash"));
		json_decref(j);
		if ((ret = c->del(c, 0)) != 0)
			break;
		n++;
	}
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		return db_fail(txn, ret, "audit prune", err);
	if (n == 0)
		return 0;
	anchor = json_object();
	json_object_set_new(anchor, "v", json_integer(FORMAT_VERSION));
	json_object_set_new(anchor, "anchor", json_true());
	json_object_set_new(anchor, "seq", json_integer(last));
	set_str(anchor, "hash", hash);
	json_object_set_new(anchor, "ts", json_integer(rv_store_now()));
	seq_key(0, key);
	rc = put_json(txn, st->audit, key, sizeof(key), anchor, 0, err);
	json_decref(anchor);
	if (rc != 0)
		return -1;
	p->done = n;
	return 0;
}

struct prune_note {
	long long count, upto, before;
	const char *hash;
};

static int
prune_note_body(struct rv_store *st, struct rv_txn *txn, void *vctx,
		struct rv_err *err)
{
	struct prune_note *n = vctx;
	json_t *f = json_pack("{s:I, s:I, s:s, s:I}", "count", (json_int_t)n->count,
			      "anchorSeq", (json_int_t)n->upto, "anchorHash", n->hash,
			      "before", (json_int_t)n->before);
	int rc;

	(void)st;
	RV_ASSERT(f != NULL);
	rc = rv_store_audit(txn, "audit.pruned", NULL, f, err);
	json_decref(f);
	return rc;
}

int
rv_store_audit_prune(struct rv_store *st, long long before_ms,
		     void (*progress)(long long done, long long total, void *ctx),
		     void *ctx, long long *pruned_r, struct rv_err *err)
{
	struct rv_audit_check c;
	struct prune_note note;
	struct prune_audit p;
	long long total = 0;
	int rc;

	*pruned_r = 0;
	memset(&c, 0, sizeof(c));
	/* entries that do not verify are evidence: never delete them */
	if ((rc = audit_check(st, &c, before_ms > 0 ? before_ms : 1, err)) < 0)
		return -1;
	if (rc == 0) {
		char why[sizeof(err->msg)];

		rv_strlcpy(why, err->msg, sizeof(why));
		return rv_err_set(err, RV_E_INTERNAL, "%s: not pruning", why);
	}
	if (c.cut_seq == 0)
		return 0;
	/* the prune is in the chain before anything goes, with the anchor
	 * it will leave: an anchor up to there is then covered */
	note.count = c.cut_seq - c.first_seq + 1;
	note.upto = c.cut_seq;
	note.before = before_ms;
	note.hash = c.cut_hash;
	if (rv_store_txn(st, st->sync_users, prune_note_body, &note, err) < 0)
		return -1;
	p.upto = c.cut_seq;
	do {
		p.max = AUDIT_PRUNE_CHUNK;
		if (rv_store_txn(st, st->sync_users, prune_audit_body, &p, err) < 0) {
			*pruned_r = total;
			return -1;
		}
		total += p.done;
		if (progress != NULL && p.done > 0)
			progress(total, note.count, ctx);
	} while (p.done == p.max);
	*pruned_r = total;
	if (st->env != NULL)
		st->env->txn_checkpoint(st->env, 1024, 5, 0);
	return 0;
}

/* at most this many deletions per transaction: a purge of a large
 * backlog in one transaction ran out of Berkeley DB's lock table (and
 * 1000 deletions still did, on a store of a million records) */
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
		return db_fail(txn, ret, "purge cursor", err);
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
		return db_fail(txn, ret, "purge", err);
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
		return db_fail(txn, ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL;	/* keys only */
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0)
		if (live_after < 0 || (k.size >= 8 && be64(k.data) > live_after))
			(*n_r)++;
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : db_fail(txn, ret, "cursor", err);
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
