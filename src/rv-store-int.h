/* rv-store-int.h: the store's inside: the handle, the transaction, and the
 * table of calls a backend (Berkeley DB, PostgreSQL) fills */
#ifndef RV_STORE_INT_H
#define RV_STORE_INT_H

/*
 * Only the rv-store*.c files include this; everyone else has the contract
 * in rv-store.h. The store is two layers, as OpenSMTPD's table backends
 * and Dovecot's sql drivers are:
 *
 *   rv-store.c, -users.c, -records.c, -audit.c, -keys.c   the front: the
 *	contract, the transaction runner (retries, reset, durability), the
 *	JSON documents, folding, expiry against our clock, the audit chain,
 *	the pepper and the audit key
 *   rv-store-bdb.c, rv-store-pg.c                          the backends:
 *	documents by key in four tables, with the locking the contract asks
 *
 * A backend stores each value as the JSON text the front gives it (the
 * "v" in it is the format version) and never looks inside, except where
 * Berkeley DB builds its secondary indexes from it. The front gives the
 * columns a backend may index beside the text (struct rv_cols).
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rv-store.h"
#include "rv-util.h"

struct rv_conf;
struct rv_err;

#define FORMAT_VERSION 1	/* the "v" of every stored JSON value */
#define PEPPER_LEN 32
#define KEY_LEN 32		/* pepper and audit key */

enum rv_table {
	RV_T_USERS = 1,
	RV_T_RECORDS = 2,
	RV_T_LIMITS = 4,
	RV_T_AUDIT = 8,
};

/*
 * What a failed backend call means for the transaction runner. Every
 * failed call sets txn->fault (and err) and dooms the transaction: the
 * body returns -1 at once, and nothing is committed.
 */
enum rv_store_fault {
	RV_FAULT_NONE,
	RV_FAULT_RETRY,		/* lost a deadlock or a lock wait: run the body again */
	RV_FAULT_RESET,		/* the backend must reopen (recovery, a lost
				   connection before COMMIT), then run it again */
	RV_FAULT_UNKNOWN,	/* lost during COMMIT: the outcome is unknown; 503,
				   never a blind retry */
	RV_FAULT_FAIL,		/* anything else: err says what (503 or 500) */
};

struct rv_store_backend;

struct rv_store {
	const struct rv_store_backend *be;
	void *h;		/* the backend's */
	unsigned char pepper[PEPPER_LEN];
	unsigned char audit_key[KEY_LEN];
	bool audit_keyed;	/* audit_key was read */
	char *pepper_path;
	char *audit_key_path;	/* NULL: <audit key> is empty */
	bool sync_users, sync_records, sync_limits;
};

struct rv_txn {
	struct rv_store *st;
	void *tx;		/* the backend's */
	unsigned wrote;		/* the RV_T_* written: durability at commit */
	enum rv_store_fault fault;
};

/* What a backend may index beside a document. */
struct rv_cols {
	const char *ukey[3];	/* users: the folded username, e-mail, phone
				   (enum rv_user_key order), NULL when unset */
	const char *uid;	/* records: the owner, or the creator of an
				   unowned record */
	long long expires_at;	/* records, limits: epoch ms */
};

/* A walk's callback: key and document (borrowed); non-zero stops it. */
typedef int rv_doc_fn(const char *key, const char *doc, size_t len, void *ctx);
typedef int rv_audit_doc_fn(long long seq, const char *doc, size_t len, void *ctx);

/*
 * A backend. Documents returned in *doc_r are malloc'd, NUL-terminated,
 * and the caller's to wipe and free. Lookups return 1 found, 0 absent,
 * -1 failed (txn->fault and err set).
 */
struct rv_store_backend {
	const char *name;	/* as in <store backend> */
	int (*open)(const struct rv_conf *conf, bool create, void **h_r,
		    struct rv_err *err);
	void (*close)(void *h);
	/* after RV_FAULT_RESET: reopen; 0, or -1 with err */
	int (*reset)(void *h, struct rv_err *err);

	int (*begin)(struct rv_txn *txn, struct rv_err *err);
	/* sync: the commit must be durable before it returns */
	int (*commit)(struct rv_txn *txn, bool sync, struct rv_err *err);
	void (*abort)(struct rv_txn *txn);

	/* users, records and limits by key. for_update: lock the key for a
	 * write later in the transaction; on RV_T_LIMITS even an absent key
	 * (the first of two racing writers waits for the other) */
	int (*get)(struct rv_txn *txn, enum rv_table t, const char *key,
		   bool for_update, char **doc_r, size_t *len_r,
		   struct rv_err *err);
	/* a user by a unique key, already folded */
	int (*find)(struct rv_txn *txn, int ukey, const char *folded,
		    char **doc_r, size_t *len_r, struct rv_err *err);
	/* Inserts or replaces. 0 written; 1 a unique key of another user
	 * holds it (*clash_r: which, -1 unknown); -1 failed */
	int (*put)(struct rv_txn *txn, enum rv_table t, const char *key,
		   const struct rv_cols *cols, const char *doc, size_t len,
		   int *clash_r, struct rv_err *err);
	int (*del)(struct rv_txn *txn, enum rv_table t, const char *key,
		   struct rv_err *err);	/* 1 deleted, 0 absent, -1 */
	/* every user in id order (bytewise) */
	int (*each_user)(struct rv_txn *txn, rv_doc_fn *fn, void *ctx,
			 struct rv_err *err);
	/* every window with its key, in key order */
	int (*each_window)(struct rv_txn *txn, rv_doc_fn *fn, void *ctx,
			   struct rv_err *err);
	/* the records of uid (struct rv_cols), expired or not; for_update
	 * locks them as a set (a second for_update walk of uid waits, then
	 * sees what the first wrote) */
	int (*each_record)(struct rv_txn *txn, const char *uid, bool for_update,
			   rv_doc_fn *fn, void *ctx, struct rv_err *err);

	/* The audit chain's head: the last sequence number and hash written
	 * (the anchor's when every entry was pruned; 0 and 64 zeros when
	 * none). for_update serialises appends, also on an empty chain. */
	int (*audit_head)(struct rv_txn *txn, bool for_update, long long *seq_r,
			  char hash_r[65], struct rv_err *err);
	/* appends entry seq (head + 1) with its hash: 0 or -1 */
	int (*audit_append)(struct rv_txn *txn, long long seq, const char *hash,
			    const char *doc, size_t len, struct rv_err *err);
	/* entries from seq from on, in order; seq 0 is the prune anchor */
	int (*audit_each)(struct rv_txn *txn, long long from, bool for_update,
			  rv_audit_doc_fn *fn, void *ctx, struct rv_err *err);
	int (*audit_del)(struct rv_txn *txn, long long seq, struct rv_err *err);
	int (*audit_anchor)(struct rv_txn *txn, const char *doc, size_t len,
			    struct rv_err *err);

	/* deletes at most max entries of t (records or limits) that expired
	 * at now, oldest first; *done_r the count */
	int (*purge)(struct rv_txn *txn, enum rv_table t, long long now,
		     long max, long *done_r, struct rv_err *err);
	int (*stats)(struct rv_txn *txn, long long now,
		     struct rv_store_stats *s, struct rv_err *err);

	/* optional (NULL: nothing to do / not with this backend) */
	int (*ping)(void *h, struct rv_err *err);	/* a round trip */
	void (*idle)(void *h);	/* after a purge or a prune */
	int (*backup)(void *h, const char *dir, struct rv_err *err);
	int (*recover)(const struct rv_conf *conf, struct rv_err *err);
	/* brings the schema to this program's version; *from_r, *to_r */
	int (*migrate)(void *h, int *from_r, int *to_r, struct rv_err *err);
};

extern const struct rv_store_backend rv_store_bdb;
#ifdef HAVE_PGSQL
extern const struct rv_store_backend rv_store_pg;
#endif

/* ---- rv-store.c: documents ---- */

/* A stored document: a JSON object with "v" = FORMAT_VERSION; 0, or -1
 * with err (500). */
int rv_store_load_json(const char *doc, size_t len, json_t **j_r,
		       struct rv_err *err);
/* Compact JSON text of j, malloc'd (never NULL). */
char *rv_store_dump_json(json_t *j, size_t *len_r);
/* dump and put through the backend: 0, 1 (a clash, *clash_r), -1 */
int rv_store_put_json(struct rv_txn *txn, enum rv_table t, const char *key,
		      const struct rv_cols *cols, json_t *j, int *clash_r,
		      struct rv_err *err);
/* frees a document the backend returned, wiped */
void rv_store_doc_free(char *doc, size_t len);
/* A backend call failed: marks the transaction, returns -1. */
int rv_store_fail(struct rv_txn *txn, enum rv_store_fault f);

/* ---- rv-store-keys.c ---- */

/* Reads (with create: makes) the pepper file; 0, or -1 with err. */
int rv_store_load_pepper(struct rv_store *st, bool create,
			 struct rv_err *err);
/* Reads the audit key file, if <audit key> names one; 0, or -1 with err. */
int rv_store_load_audit_key(struct rv_store *st, bool create,
			    struct rv_err *err);

/* ---- the reader of stored documents (rv-store-doc.c) ---- */

#define RV_DOC_MAX 64		/* members of one document */

enum rv_doc_type { RV_DOC_STRING, RV_DOC_INT, RV_DOC_TRUE, RV_DOC_FALSE,
		   RV_DOC_NULL, RV_DOC_NESTED /* val: its JSON text */ };

struct rv_doc_member {
	const char *key, *val;	/* into the document's bytes (or own) */
	size_t klen, vlen;	/* val: a string's contents, undecoded */
	enum rv_doc_type type;
	bool esc;		/* the string has escapes */
	bool kesc;		/* the key has escapes */
	long long num;
};

struct rv_doc {
	size_t n;
	struct rv_doc_member m[RV_DOC_MAX];
	char *own;		/* jansson's dump, when the bytes needed it */
	char *raw;		/* the bytes, when rv_store_get_doc read them */
	size_t rawlen;
};

/*
 * A stored document (doc[len], which must outlive d) as members; its "v"
 * must be FORMAT_VERSION. 0, or -1 with err (RV_E_INTERNAL) when it is
 * not a JSON object of strings, integers, booleans, nulls, arrays and
 * objects. Release it
 * with rv_store_doc_release().
 */
int rv_store_doc_parse(const char *doc, size_t len, struct rv_doc *d,
		       struct rv_err *err);
void rv_store_doc_release(struct rv_doc *d);
/* get through the backend and read: 1 (d filled; the caller releases
 * it), 0 (absent), -1 (err; a document that does not read dooms the
 * transaction) */
int rv_store_get_doc(struct rv_txn *txn, enum rv_table t, const char *key,
		     bool for_update, struct rv_doc *d, struct rv_err *err);
const struct rv_doc_member *rv_store_doc_get(const struct rv_doc *d,
					     const char *key);
/* a string member, decoded and malloc'd; NULL when absent or not a string */
char *rv_store_doc_dup(const struct rv_doc *d, const char *key);
/* a string member into dst[size] (cut to fit; "" when absent) */
void rv_store_doc_copy(const struct rv_doc *d, const char *key, char *dst,
		       size_t size);
/* an integer member; 0 when absent or not an integer */
long long rv_store_doc_int(const struct rv_doc *d, const char *key);
bool rv_store_doc_true(const struct rv_doc *d, const char *key);
/* the elements of an array member into out[max] (0 for one that is not
 * an integer, as json_integer_value); how many */
size_t rv_store_doc_ints(const struct rv_doc *d, const char *key,
			 long long *out, size_t max);
/* a string member that is there and not empty */
bool rv_store_doc_has_str(const struct rv_doc *d, const char *key);

/* a user's second factors in its document (rv-store-factors.c): the
 * "mfa" member's text into u (0, or -1 when it does not read), and the
 * member to write (NULL: none) */
int rv_store_factors_read(const char *text, size_t len, struct rv_user *u);
json_t *rv_store_factors_json(const struct rv_user *u);

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

#endif
