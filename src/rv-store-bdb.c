/* rv-store-bdb.c: the Berkeley DB backend of the store */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <db.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

/*
 * One transactional environment per site, under <store home>, shared by
 * every FastCGI and CGI process of the site and by reverify-admin
 * (DB_INIT_TXN|DB_INIT_LOCK|DB_INIT_LOG|DB_INIT_MPOOL, DB_REGISTER|
 * DB_RECOVER: the first process to open it after a crash recovers it).
 * Full transactions, not CDS (STYLE.md 4.8): reads are degree 3 (read
 * locks held to commit), and a for_update read takes a write lock
 * (DB_RMW), which in a B-tree also covers an absent key's place.
 *
 * Databases, all B-trees of the front's JSON documents:
 *   users.db     user id -> user; unique secondary indexes on the folded
 *                username, e-mail and phone, built from the document
 *   records.db   record id -> record; secondary indexes by user
 *                (duplicates) and by expiry (for purge)
 *   limits.db    keyed hash -> window; a secondary index by expiry
 *   audit.db     sequence number (8 bytes, big endian) -> entry; key 0
 *                holds the prune anchor
 * The secondary keys come from the documents (the files of 0.1 have them
 * so), not from struct rv_cols.
 */

#define LOCK_TIMEOUT_US 2000000		/* a lock held by a dead process */

struct bdb {
	DB_ENV *env;
	DB *users, *users_username, *users_email, *users_phone;
	DB *records, *records_user, *records_exp;
	DB *limits, *limits_exp;
	DB *audit;
	char *home;
	long cache_kib;
	bool panicked;		/* a call answered DB_RUNRECOVERY */
};

#define H(txn) ((struct bdb *)(txn)->st->h)
#define T(txn) ((DB_TXN *)(txn)->tx)

static void
env_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env;
	(void)prefix;
	rv_log_warnx("store: %s", msg);
}

/* A Berkeley DB error: deadlocks and lock timeouts are retried, a panic
 * reopens the environment, the rest is 503. */
static int
fail(struct rv_txn *txn, struct bdb *b, int ret, const char *what,
     struct rv_err *err)
{
	enum rv_store_fault f = RV_FAULT_FAIL;

	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED) {
		f = RV_FAULT_RETRY;
	} else if (ret == DB_RUNRECOVERY) {
		f = RV_FAULT_RESET;
		if (b != NULL)
			b->panicked = true;
	}
	rv_err_set(err, RV_E_UNAVAILABLE, "store: %s: %s", what, db_strerror(ret));
	if (f != RV_FAULT_RETRY)	/* the answer, when it is the last */
		rv_err_header(err, "Retry-After", "5");
	return txn != NULL ? rv_store_fail(txn, f) : -1;
}

/* ---- index keys ------------------------------------------------------------ */

/*
 * Secondary key callbacks: the key is made from the JSON value. Berkeley
 * DB calls one callback per index with the same value (and again with
 * the old value on a replace), so the last value parsed is kept rather
 * than parsed again for each (doc/performance.md). The bytes are compared
 * in full; the copy is wiped when replaced and at the end of every
 * transaction (a user's value holds its password hash; security review
 * F13).
 */
static struct {
	char *data;
	size_t size;
	bool ok;
	struct rv_doc d;	/* into data */
} idx_memo;

static void
idx_memo_release(void)
{
	if (idx_memo.data != NULL) {
		rv_store_doc_release(&idx_memo.d);
		rv_wipe(idx_memo.data, idx_memo.size);
		free(idx_memo.data);
	}
	memset(&idx_memo, 0, sizeof(idx_memo));
}

/* the value's members, or NULL when it is not a document */
static const struct rv_doc *
idx_parse(const DBT *val)
{
	struct rv_err err;

	if (idx_memo.data != NULL && idx_memo.size == val->size &&
	    memcmp(idx_memo.data, val->data, val->size) == 0)
		return idx_memo.ok ? &idx_memo.d : NULL;
	idx_memo_release();
	idx_memo.data = rv_xmalloc(val->size > 0 ? val->size : 1);
	memcpy(idx_memo.data, val->data, val->size);
	idx_memo.size = val->size;
	rv_err_init(&err);
	idx_memo.ok = rv_store_doc_parse(idx_memo.data, idx_memo.size,
					 &idx_memo.d, &err) == 0;
	rv_err_release(&err);
	return idx_memo.ok ? &idx_memo.d : NULL;
}

static void
set_skey(DBT *sk, void *data, size_t size)
{
	memset(sk, 0, sizeof(*sk));
	sk->data = data;
	sk->size = (u_int32_t)size;
	sk->flags = DB_DBT_APPMALLOC;
}

static int
index_from(const DBT *val, const char *field, enum rv_user_key ukey, DBT *sk)
{
	const struct rv_doc *d = idx_parse(val);
	char *s, *k;

	if (d == NULL || !rv_store_doc_has_str(d, field))
		return DB_DONOTINDEX;
	s = rv_store_doc_dup(d, field);
	k = rv_store_fold(ukey, s);
	free(s);
	set_skey(sk, k, strlen(k));
	return 0;
}

static int
idx_username(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "username", RV_USER_KEY_USERNAME, sk);
}

static int
idx_email(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "email", RV_USER_KEY_EMAIL, sk);
}

static int
idx_phone(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	(void)db, (void)k;
	return index_from(v, "phone", RV_USER_KEY_PHONE, sk);
}

/* records by user: the owner, or the creator of an unowned record */
static int
idx_record_user(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	const struct rv_doc *d = idx_parse(v);
	const char *field = "owner";
	char *key;

	(void)db, (void)k;
	if (d == NULL)
		return DB_DONOTINDEX;
	if (!rv_store_doc_has_str(d, field))
		field = "creator";
	if (!rv_store_doc_has_str(d, field))
		return DB_DONOTINDEX;
	key = rv_store_doc_dup(d, field);
	set_skey(sk, key, strlen(key));
	return 0;
}

static void
put_be64(long long v, unsigned char key[8])
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		key[i] = (unsigned char)(v & 0xff);
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

/* by expiry: 8 bytes big-endian milliseconds, then the primary key, so
 * that a cursor walks entries oldest first */
static int
idx_expiry(DB *db, const DBT *k, const DBT *v, DBT *sk)
{
	const struct rv_doc *d = idx_parse(v);
	unsigned char *key;

	(void)db;
	if (d == NULL)
		return DB_DONOTINDEX;
	key = rv_xmalloc(8 + k->size);
	put_be64(rv_store_doc_int(d, "expiresAt"), key);
	memcpy(key + 8, k->data, k->size);
	set_skey(sk, key, 8 + k->size);
	return 0;
}

/* ---- open and close -------------------------------------------------------- */

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
close_dbs(struct bdb *b)
{
	DB **dbs[] = {
		&b->users_username, &b->users_email, &b->users_phone,
		&b->records_user, &b->records_exp, &b->limits_exp,
		&b->users, &b->records, &b->limits, &b->audit,
	};
	u_int32_t id;
	size_t i;

	/* a panic that no call of ours has seen yet: probe for it */
	if (!b->panicked && b->env != NULL) {
		int ret = b->env->lock_id(b->env, &id);

		if (ret == DB_RUNRECOVERY)
			b->panicked = true;
		else if (ret == 0)
			b->env->lock_id_free(b->env, id);
	}
	if (b->panicked && b->env != NULL) {
		struct grave *g = rv_xcalloc(1, sizeof(*g));

		RV_ASSERT(sizeof(dbs) / sizeof(dbs[0]) == sizeof(g->dbs) / sizeof(g->dbs[0]));
		for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
			g->dbs[i] = *dbs[i];
			*dbs[i] = NULL;
		}
		g->env = b->env;
		g->next = graveyard;
		graveyard = g;
		b->env = NULL;
		b->panicked = false;
		rv_log_warnx("store: the handles of the panicked environment are "
			     "left open (a close could wait forever)");
		return;
	}
	/* DB_NOSYNC: the log, not the database files, makes a commit last
	 * (recovery replays it); a close that flushed each file cost a CGI
	 * request ten fdatasync calls, a GET too (issue 17) */
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		if (*dbs[i] != NULL) {
			(*dbs[i])->close(*dbs[i], DB_NOSYNC);
			*dbs[i] = NULL;
		}
	if (b->env != NULL) {
		DB_ENV *env = b->env;

		b->env = NULL;
		env->close(env, 0);
	}
	b->panicked = false;
}

static int
open_db(struct bdb *b, DB **db_r, const char *file, u_int32_t dbflags,
	bool create, struct rv_err *err)
{
	DB *db;
	int ret;

	if ((ret = db_create(&db, b->env, 0)) != 0)
		return fail(NULL, b, ret, file, err);
	if (dbflags && (ret = db->set_flags(db, dbflags)) != 0) {
		db->close(db, 0);
		return fail(NULL, b, ret, file, err);
	}
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
		       DB_AUTO_COMMIT | (create ? DB_CREATE : 0), 0600);
	if (ret != 0) {
		db->close(db, 0);
		if (ret == ENOENT)
			return rv_err_set(err, RV_E_UNAVAILABLE,
					  "store: '%s/%s' does not exist: run reverify-admin init",
					  b->home, file);
		return fail(NULL, b, ret, file, err);
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
associate(struct bdb *b, DB *primary, DB *secondary,
	  int (*cb)(DB *, const DBT *, const DBT *, DBT *), bool create,
	  struct rv_err *err)
{
	int ret = primary->associate(primary, NULL, secondary, cb,
				     create ? DB_CREATE : 0);

	return ret ? fail(NULL, b, ret, "associate", err) : 0;
}

static int
open_env(struct bdb *b, bool create, struct rv_err *err)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |
			  DB_INIT_MPOOL | DB_REGISTER | DB_RECOVER;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0)
		return fail(NULL, b, ret, "db_env_create", err);
	env->set_errcall(env, env_errcall);
	env->set_cachesize(env, 0, (u_int32_t)b->cache_kib * 1024, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, LOCK_TIMEOUT_US, DB_SET_LOCK_TIMEOUT);
	env->set_lg_max(env, 4 * 1024 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	/* commits write the log without flushing it: bdb_commit flushes
	 * when what was written asks for it, and the transactions Berkeley
	 * DB makes itself (a database's open, DB_AUTO_COMMIT) need no flush:
	 * they were ten fdatasync calls per CGI request (issue 17) */
	env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1);
	ret = env->open(env, b->home, flags, 0600);
	if (ret != 0) {
		int rc = fail(NULL, b, ret, "cannot open the environment", err);

		env->close(env, 0);
		return rc;
	}
	b->env = env;
	if (open_db(b, &b->users, "users.db", 0, create, err) < 0 ||
	    open_db(b, &b->users_username, "users-username.db", 0, create, err) < 0 ||
	    open_db(b, &b->users_email, "users-email.db", 0, create, err) < 0 ||
	    open_db(b, &b->users_phone, "users-phone.db", 0, create, err) < 0 ||
	    open_db(b, &b->records, "records.db", 0, create, err) < 0 ||
	    open_db(b, &b->records_user, "records-user.db",
		    DB_DUP | DB_DUPSORT, create, err) < 0 ||
	    open_db(b, &b->records_exp, "records-expiry.db", 0, create, err) < 0 ||
	    open_db(b, &b->limits, "limits.db", 0, create, err) < 0 ||
	    open_db(b, &b->limits_exp, "limits-expiry.db", 0, create, err) < 0 ||
	    open_db(b, &b->audit, "audit.db", 0, create, err) < 0)
		goto fail;
	if (associate(b, b->users, b->users_username, idx_username, create, err) < 0 ||
	    associate(b, b->users, b->users_email, idx_email, create, err) < 0 ||
	    associate(b, b->users, b->users_phone, idx_phone, create, err) < 0 ||
	    associate(b, b->records, b->records_user, idx_record_user, create, err) < 0 ||
	    associate(b, b->records, b->records_exp, idx_expiry, create, err) < 0 ||
	    associate(b, b->limits, b->limits_exp, idx_expiry, create, err) < 0)
		goto fail;
	/* what init created is on disk before it says so */
	if (create && (ret = env->log_flush(env, NULL)) != 0) {
		fail(NULL, b, ret, "log flush", err);
		goto fail;
	}
	return 0;
fail:
	close_dbs(b);
	return -1;
}

static void
bdb_close(void *h)
{
	struct bdb *b = h;

	if (b == NULL)
		return;
	close_dbs(b);
	idx_memo_release();
	free(b->home);
	free(b);
}

static int
bdb_open(const struct rv_conf *conf, bool create, void **h_r, struct rv_err *err)
{
	struct bdb *b = rv_xcalloc(1, sizeof(*b));

	b->home = rv_xstrdup(conf->store_home);
	b->cache_kib = (long)conf->store_cache_kib;
	if (open_env(b, create, err) < 0) {
		bdb_close(b);
		return -1;
	}
	*h_r = b;
	return 0;
}

/* another process crashed and one of us recovered the environment:
 * reopen it */
static int
bdb_reset(void *h, struct rv_err *err)
{
	struct bdb *b = h;

	rv_log_info("store: reopening after recovery");
	b->panicked = true;
	close_dbs(b);
	return open_env(b, false, err);
}

/* ---- transactions ------------------------------------------------------------- */

/*
 * The Berkeley DB transaction begins with the first call that needs one
 * (issue 17): a write, a read for update, a walk or an index lookup. A
 * plain get by key before it runs without one and sees committed data,
 * which is what the contract promises it (rv-store.h), as PostgreSQL's
 * statements without BEGIN do; a body of plain gets (GET /api/my-account)
 * begins and commits nothing. An index lookup stays in the transaction:
 * the unique-key check before a user put (rv-store-users.c, taken) holds
 * its read lock to the commit, so that two puts of one e-mail deadlock
 * and one is retried and refused with 422; without it the second put
 * failed in Berkeley DB ("non-unique secondary key", EINVAL, a 503;
 * t/unit/store-contract's race). What comes after the begin is in the
 * transaction.
 */
static int
begin_now(struct rv_txn *txn, struct rv_err *err)
{
	struct bdb *b = H(txn);
	DB_TXN *t;
	int ret;

	if (txn->tx != NULL)
		return 0;
	if ((ret = b->env->txn_begin(b->env, NULL, &t, 0)) != 0)
		return fail(txn, b, ret, "txn_begin", err);
	txn->tx = t;
	return 0;
}

static int
bdb_begin(struct rv_txn *txn, struct rv_err *err)
{
	struct bdb *b = H(txn);

	/* a reopen failed earlier: try again */
	if (b->env == NULL && open_env(b, false, err) < 0)
		return rv_store_fail(txn, RV_FAULT_FAIL);
	txn->tx = NULL;
	return 0;
}

/*
 * A synced commit writes the commit record, releases the locks, and only
 * then flushes the log. Every audit append holds the chain's tail until
 * its commit: with the flush inside the commit, appends ran one fsync at
 * a time. The answer still waits for the flush, so what a client is told
 * is on disk; a transaction that read this one's writes in the meantime
 * commits later in the log, so no flush makes it durable without this
 * one (early lock release, as group-committing logs do).
 */
static int
bdb_commit(struct rv_txn *txn, bool sync, struct rv_err *err)
{
	struct bdb *b = H(txn);
	DB_TXN *t = T(txn);
	int ret;

	txn->tx = NULL;
	ret = t != NULL ? t->commit(t, DB_TXN_WRITE_NOSYNC) : 0;	/* plain reads */
	idx_memo_release();
	if (ret != 0)
		return fail(txn, b, ret, "commit", err);
	if (sync && (ret = b->env->log_flush(b->env, NULL)) != 0) {
		/* committed, but maybe not on disk: never run again */
		rv_err_set(err, RV_E_UNAVAILABLE, "store: log flush: %s",
			   db_strerror(ret));
		rv_err_header(err, "Retry-After", "5");
		if (ret == DB_RUNRECOVERY)
			b->panicked = true;
		return rv_store_fail(txn, RV_FAULT_UNKNOWN);
	}
	return 0;
}

static void
bdb_abort(struct rv_txn *txn)
{
	DB_TXN *t = T(txn);

	txn->tx = NULL;
	if (t != NULL)
		t->abort(t);
	idx_memo_release();
}

/* ---- documents by key ---------------------------------------------------- */

static DB *
table_db(struct bdb *b, enum rv_table t)
{
	switch (t) {
	case RV_T_USERS: return b->users;
	case RV_T_RECORDS: return b->records;
	case RV_T_LIMITS: return b->limits;
	case RV_T_AUDIT: return b->audit;
	}
	RV_ASSERT(0);
	return NULL;
}

static void
dbt_key(DBT *k, const void *key, size_t len)
{
	memset(k, 0, sizeof(*k));
	k->data = (void *)key;
	k->size = (u_int32_t)len;
}

/* a NUL-terminated, malloc'd copy of a DBT's bytes (a key, a document) */
static char *
dbt_str(const DBT *k)
{
	char *s = rv_xmalloc(k->size + 1);

	memcpy(s, k->data, k->size);
	s[k->size] = '\0';
	return s;
}

/* the document in a malloc'd DBT, NUL-terminated for the caller */
static void
take_doc(DBT *v, char **doc_r, size_t *len_r)
{
	*doc_r = dbt_str(v);
	*len_r = v->size;
	rv_wipe(v->data, v->size);
	free(v->data);
}

static int
bdb_get(struct rv_txn *txn, enum rv_table t, const char *key, bool for_update,
	char **doc_r, size_t *len_r, struct rv_err *err)
{
	DB *db = table_db(H(txn), t);
	DBT k, v;
	int ret;

	dbt_key(&k, key, strlen(key));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	if (for_update && begin_now(txn, err) < 0)
		return -1;
	ret = db->get(db, T(txn), &k, &v, for_update ? DB_RMW : 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return fail(txn, H(txn), ret, "get", err);
	take_doc(&v, doc_r, len_r);
	return 1;
}

static int
bdb_find(struct rv_txn *txn, int ukey, const char *folded, char **doc_r,
	 size_t *len_r, struct rv_err *err)
{
	struct bdb *b = H(txn);
	DB *idx = ukey == RV_USER_KEY_USERNAME ? b->users_username :
		  ukey == RV_USER_KEY_EMAIL ? b->users_email : b->users_phone;
	DBT k, pk, v;
	int ret;

	dbt_key(&k, folded, strlen(folded));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	pk.flags = DB_DBT_MALLOC;
	v.flags = DB_DBT_MALLOC;
	if (begin_now(txn, err) < 0)
		return -1;
	ret = idx->pget(idx, T(txn), &k, &pk, &v, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return fail(txn, b, ret, "index lookup", err);
	free(pk.data);
	take_doc(&v, doc_r, len_r);
	return 1;
}

static int
bdb_put(struct rv_txn *txn, enum rv_table t, const char *key,
	const struct rv_cols *cols, const char *doc, size_t len, int *clash_r,
	struct rv_err *err)
{
	DB *db = table_db(H(txn), t);
	DBT k, v;
	int ret;

	(void)cols;	/* the secondaries are built from doc */
	dbt_key(&k, key, strlen(key));
	dbt_key(&v, doc, len);
	if (begin_now(txn, err) < 0)
		return -1;
	ret = db->put(db, T(txn), &k, &v, 0);
	if (ret == DB_KEYEXIST) {	/* a unique secondary */
		if (clash_r != NULL)
			*clash_r = -1;
		return 1;
	}
	return ret ? fail(txn, H(txn), ret, "put", err) : 0;
}

static int
bdb_del(struct rv_txn *txn, enum rv_table t, const char *key,
	struct rv_err *err)
{
	DB *db = table_db(H(txn), t);
	DBT k;
	int ret;

	dbt_key(&k, key, strlen(key));
	if (begin_now(txn, err) < 0)
		return -1;
	ret = db->del(db, T(txn), &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	return ret ? fail(txn, H(txn), ret, "del", err) : 1;
}


/* every key and document of db, in key order */
static int
each_doc(struct rv_txn *txn, DB *db, rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	DBC *c;
	DBT k, v;
	int ret, rc = 0;

	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = db->cursor(db, T(txn), &c, 0)) != 0)
		return fail(txn, H(txn), ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (rc == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		char *key = dbt_str(&k), *d = dbt_str(&v);

		rc = fn(key, d, v.size, ctx);
		rv_store_doc_free(d, v.size);
		free(key);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return fail(txn, H(txn), ret, "cursor", err);
	return rc;
}

static int
bdb_each_user(struct rv_txn *txn, rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	return each_doc(txn, H(txn)->users, fn, ctx, err);
}

static int
bdb_each_window(struct rv_txn *txn, rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	return each_doc(txn, H(txn)->limits, fn, ctx, err);
}

static int
bdb_each_record(struct rv_txn *txn, const char *uid, bool for_update,
		rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	DB *idx = H(txn)->records_user;
	u_int32_t rmw = for_update ? DB_RMW : 0;
	DBC *c;
	DBT k, pk, v;
	int ret, rc = 0;

	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = idx->cursor(idx, T(txn), &c, 0)) != 0)
		return fail(txn, H(txn), ret, "cursor", err);
	dbt_key(&k, uid, strlen(uid));
	memset(&pk, 0, sizeof(pk));
	memset(&v, 0, sizeof(v));
	for (ret = c->pget(c, &k, &pk, &v, DB_SET | rmw); rc == 0 && ret == 0;
	     ret = c->pget(c, &k, &pk, &v, DB_NEXT_DUP | rmw)) {
		char *id = dbt_str(&pk), *d = dbt_str(&v);

		rc = fn(id, d, v.size, ctx);
		rv_store_doc_free(d, v.size);
		free(id);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return fail(txn, H(txn), ret, "cursor", err);
	return rc;
}

/* ---- audit ------------------------------------------------------------------ */

static int
bdb_audit_head(struct rv_txn *txn, bool for_update, long long *seq_r,
	       char hash_r[65], struct rv_err *err)
{
	DB *db = H(txn)->audit;
	struct rv_doc last;
	DBC *c;
	DBT k, v;
	int ret, rc;

	*seq_r = 0;
	memset(hash_r, '0', 64);
	hash_r[64] = '\0';
	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = db->cursor(db, T(txn), &c, 0)) != 0)
		return fail(txn, H(txn), ret, "audit cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	/* a write lock on the last entry (or the empty tree) serialises
	 * appends */
	ret = c->get(c, &k, &v, DB_LAST | (for_update ? DB_RMW : 0));
	if (ret == 0) {
		/* read before the cursor closes: last points into v */
		rc = k.size == 8 ? rv_store_doc_parse(v.data, v.size, &last, err) : -1;
		if (rc == 0) {
			/* only the anchor left: the chain goes on from it */
			*seq_r = be64(k.data) == 0 ? rv_store_doc_int(&last, "seq") :
						     be64(k.data);
			rv_store_doc_copy(&last, "hash", hash_r, 65);
			rv_store_doc_release(&last);
		}
		c->close(c);
		if (rc < 0) {
			rv_err_set(err, RV_E_INTERNAL, "store: corrupt audit tail");
			return rv_store_fail(txn, RV_FAULT_FAIL);
		}
		return 0;
	}
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : fail(txn, H(txn), ret, "audit tail", err);
}

static int
audit_put(struct rv_txn *txn, long long seq, const char *doc, size_t len,
	  u_int32_t flags, struct rv_err *err)
{
	DB *db = H(txn)->audit;
	unsigned char key[8];
	DBT k, v;
	int ret;

	put_be64(seq, key);
	dbt_key(&k, key, 8);
	dbt_key(&v, doc, len);
	if (begin_now(txn, err) < 0)
		return -1;
	ret = db->put(db, T(txn), &k, &v, flags);
	if (ret == DB_KEYEXIST) {
		rv_err_set(err, RV_E_INTERNAL, "store: audit sequence clash");
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	return ret ? fail(txn, H(txn), ret, "audit put", err) : 0;
}

static int
bdb_audit_append(struct rv_txn *txn, long long seq, const char *hash,
		 const char *doc, size_t len, struct rv_err *err)
{
	(void)hash;	/* the tail's document holds it */
	return audit_put(txn, seq, doc, len, DB_NOOVERWRITE, err);
}

static int
bdb_audit_anchor(struct rv_txn *txn, const char *doc, size_t len,
		 struct rv_err *err)
{
	return audit_put(txn, 0, doc, len, 0, err);
}

static int
bdb_audit_each(struct rv_txn *txn, long long from, bool for_update,
	       rv_audit_doc_fn *fn, void *ctx, struct rv_err *err)
{
	DB *db = H(txn)->audit;
	unsigned char key[8];
	u_int32_t op = DB_SET_RANGE;
	DBC *c;
	DBT k, v;
	int ret, rc = 0;

	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = db->cursor(db, T(txn), &c, 0)) != 0)
		return fail(txn, H(txn), ret, "audit cursor", err);
	put_be64(from, key);
	dbt_key(&k, key, 8);
	memset(&v, 0, sizeof(v));
	while (rc == 0 &&
	       (ret = c->get(c, &k, &v, op | (for_update ? DB_RMW : 0))) == 0) {
		char *d = dbt_str(&v);

		op = DB_NEXT;
		rc = fn(k.size == 8 ? be64(k.data) : -1, d, v.size, ctx);
		free(d);
	}
	c->close(c);
	if (rc == 0 && ret != DB_NOTFOUND)
		return fail(txn, H(txn), ret, "audit cursor", err);
	return rc;
}

static int
bdb_audit_del(struct rv_txn *txn, long long seq, struct rv_err *err)
{
	DB *db = H(txn)->audit;
	unsigned char key[8];
	DBT k;
	int ret;

	put_be64(seq, key);
	dbt_key(&k, key, 8);
	if (begin_now(txn, err) < 0)
		return -1;
	ret = db->del(db, T(txn), &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	return ret ? fail(txn, H(txn), ret, "audit del", err) : 1;
}

/* ---- maintenance ------------------------------------------------------------- */

static int
bdb_purge(struct rv_txn *txn, enum rv_table t, long long now, long max,
	  long *done_r, struct rv_err *err)
{
	struct bdb *b = H(txn);
	DB *idx = t == RV_T_LIMITS ? b->limits_exp : b->records_exp;
	DBC *c;
	DBT k, v;
	int ret;
	long n = 0;

	*done_r = 0;
	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = idx->cursor(idx, T(txn), &c, 0)) != 0)
		return fail(txn, b, ret, "purge cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((max == 0 || n < max) &&
	       (ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) == 0) {
		if (k.size < 8 || be64(k.data) > now)
			break;
		if ((ret = c->del(c, 0)) != 0)	/* deletes the primary too */
			break;
		n++;
	}
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		return fail(txn, b, ret, "purge", err);
	*done_r = n;
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
	if (begin_now(txn, err) < 0)
		return -1;
	if ((ret = db->cursor(db, T(txn), &c, DB_READ_COMMITTED)) != 0)
		return fail(txn, H(txn), ret, "cursor", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_PARTIAL;	/* keys only */
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0)
		if (live_after < 0 || (k.size >= 8 && be64(k.data) > live_after))
			(*n_r)++;
	c->close(c);
	return ret == DB_NOTFOUND ? 0 : fail(txn, H(txn), ret, "cursor", err);
}

static int
bdb_stats(struct rv_txn *txn, long long now, struct rv_store_stats *s,
	  struct rv_err *err)
{
	struct bdb *b = H(txn);

	if (count_db(txn, b->users, &s->users, -1, err) < 0 ||
	    count_db(txn, b->records, &s->records, -1, err) < 0 ||
	    count_db(txn, b->records_exp, &s->live_records, now, err) < 0 ||
	    count_db(txn, b->limits, &s->windows, -1, err) < 0 ||
	    count_db(txn, b->audit, &s->audit, 0, err) < 0)
		return -1;
	return 0;
}

/* checkpoint when 1 MiB of log or 5 minutes have passed; log files no
 * longer needed are then removed (DB_LOG_AUTO_REMOVE) */
static void
bdb_idle(void *h)
{
	struct bdb *b = h;

	if (b->env != NULL)
		b->env->txn_checkpoint(b->env, 1024, 5, 0);
}

static int
bdb_backup(void *h, const char *dir, struct rv_err *err)
{
	struct bdb *b = h;
	int ret;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return rv_err_set(err, RV_E_INTERNAL, "cannot create '%s': %s",
				  dir, strerror(errno));
	ret = b->env->backup(b->env, dir, DB_CREATE | DB_EXCL | DB_BACKUP_CLEAN);
	if (ret != 0)
		return rv_err_set(err, RV_E_INTERNAL, "backup to '%s' failed: %s",
				  dir, db_strerror(ret));
	return 0;
}

static int
bdb_recover(const struct rv_conf *conf, struct rv_err *err)
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

const struct rv_store_backend rv_store_bdb = {
	.name = "bdb",
	.open = bdb_open,
	.close = bdb_close,
	.reset = bdb_reset,
	.begin = bdb_begin,
	.commit = bdb_commit,
	.abort = bdb_abort,
	.get = bdb_get,
	.find = bdb_find,
	.put = bdb_put,
	.del = bdb_del,
	.each_user = bdb_each_user,
	.each_window = bdb_each_window,
	.each_record = bdb_each_record,
	.audit_head = bdb_audit_head,
	.audit_append = bdb_audit_append,
	.audit_each = bdb_audit_each,
	.audit_del = bdb_audit_del,
	.audit_anchor = bdb_audit_anchor,
	.purge = bdb_purge,
	.stats = bdb_stats,
	.idle = bdb_idle,
	.backup = bdb_backup,
	.recover = bdb_recover,
	.migrate = NULL,
};
