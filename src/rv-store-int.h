/* rv-store-int.h: what the rv-store*.c files share: handle, txn, helpers */
#ifndef RV_STORE_INT_H
#define RV_STORE_INT_H

/*
 * Only the rv-store*.c files include this; everyone else has the contract
 * in rv-store.h. The store is split by concept: rv-store.c is the Berkeley
 * DB engine (environment, handles and index callbacks, open and close,
 * the transaction runner, the JSON get/put/del of a key, purge, stats,
 * backup and recovery), rv-store-keys.c the pepper and the audit key,
 * rv-store-users.c, rv-store-records.c (records and limit windows) and
 * rv-store-audit.c the record kinds. The kinds still walk Berkeley DB
 * cursors themselves; everything else of Berkeley DB stays in rv-store.c,
 * so that putting the engine behind a backend table (a struct of engine
 * calls in struct rv_store, for a second backend next to Berkeley DB)
 * moves one file and the cursor walks.
 */

#include <stdbool.h>
#include <stddef.h>

#include <db.h>
#include <jansson.h>

#include "rv-util.h"

struct rv_err;

#define FORMAT_VERSION 1	/* the "v" of every stored JSON value */
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

/* ---- rv-store.c: the engine ---- */

/* Maps a Berkeley DB error to err: deadlocks and lock timeouts become
 * RV_STORE_RETRY for the transaction runner, the rest 503 with
 * Retry-After. Records ret in txn (may be NULL). */
int rv_store_db_fail(struct rv_txn *txn, int ret, const char *what,
		     struct rv_err *err);

/* A stored value: a JSON object with "v" = FORMAT_VERSION; 0, or -1 with
 * err (500). */
int rv_store_load_json(const DBT *v, json_t **j_r, struct rv_err *err);
/* Compact JSON text of j, malloc'd (never NULL). */
char *rv_store_dump_json(json_t *j, size_t *len_r);

/* The value of key in db: 1 found (*j_r a new reference), 0 absent, -1
 * (or RV_STORE_RETRY) with err. rmw: lock for a later write. */
int rv_store_get_json(struct rv_txn *txn, DB *db, const void *key,
		      size_t klen, bool rmw, json_t **j_r,
		      struct rv_err *err);
/* Puts j at key (flags: 0 or DB_NOOVERWRITE): 0 written, 1 the key exists
 * (DB_NOOVERWRITE), -1 (or RV_STORE_RETRY) with err. */
int rv_store_put_json(struct rv_txn *txn, DB *db, const void *key,
		      size_t klen, json_t *j, u_int32_t flags,
		      struct rv_err *err);
/* 1 deleted, 0 absent, -1 (or RV_STORE_RETRY) with err. */
int rv_store_del_key(struct rv_txn *txn, DB *db, const void *key,
		     size_t klen, struct rv_err *err);

/* ---- rv-store-keys.c ---- */

/* Reads (with create: makes) the pepper file; 0, or -1 with err. */
int rv_store_load_pepper(struct rv_store *st, bool create,
			 struct rv_err *err);
/* Reads the audit key file, if <audit key> names one; 0, or -1 with err. */
int rv_store_load_audit_key(struct rv_store *st, bool create,
			    struct rv_err *err);

/* ---- small helpers of the JSON values and keys ---- */

static inline const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static inline long long
jint(json_t *j, const char *key)
{
	return (long long)json_integer_value(json_object_get(j, key));
}

static inline char *
jdup(json_t *j, const char *key)
{
	const char *s = jstr(j, key);

	return s ? rv_xstrdup(s) : NULL;
}

static inline void
set_str(json_t *j, const char *key, const char *v)
{
	json_object_set_new(j, key, v ? json_string(v) : json_null());
}

static inline void
copy_str(char *dst, size_t size, const char *src)
{
	rv_strlcpy(dst, src ? src : "", size);
}

/* ASCII lower case, for the case-insensitive indexes; malloc'd. */
static inline char *
fold(const char *s)
{
	char *f = rv_xstrdup(s), *p;

	for (p = f; *p; p++)
		*p = rv_ascii_lower(*p);
	return f;
}

/* A big-endian 64-bit key prefix (expiry and audit sequence keys). */
static inline long long
be64(const unsigned char *p)
{
	long long v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
