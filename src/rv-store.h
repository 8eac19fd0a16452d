/* rv-store.h: the store: users, records, limits, audit; one contract, two backends */
#ifndef RV_STORE_H
#define RV_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct rv_conf;
struct rv_err;

/*
 * The store: users, verification records, limit windows and the audit
 * chain, behind one contract that every backend keeps (<store backend>:
 * "bdb", a Berkeley DB environment in <store home>, the default; "pgsql",
 * a PostgreSQL database). doc/design-notes.md, "One store contract, two
 * backends", says why the contract is the one below.
 *
 * The contract:
 * - Everything happens in a transaction run by rv_store_txn: all of the
 *   body's writes or none.
 * - A read that decides a write is made with for_update: it locks what it
 *   read until the end of the transaction, so that two transactions that
 *   read-check-update one thing run one after the other. A window
 *   (rv_store_window_get) is always read so, and is locked even while it
 *   does not exist yet; so is the tail of the audit chain. A read without
 *   for_update sees committed data, which may change before the commit.
 * - A second writer of a new key (a user, a record) fails the transaction
 *   with a retry rather than overwrite: uniqueness holds.
 * - A failed store call (-1) dooms the transaction: the body returns -1
 *   at once, and nothing of it is committed. A lost deadlock, lock wait or
 *   serialisation is retried by the runner, invisibly.
 * - The store picks durability at commit from what was written (<store
 *   users-sync> for users, records-sync, limits-sync; an audit entry is
 *   as durable as the change it records).
 * - Expiry is judged against rv_store_now(), never by the database.
 *
 * Values carry "v" (the format version, so later releases can migrate).
 * Not thread-safe: one store per process, used by one thread.
 */
struct rv_store;
struct rv_txn;

#define RV_ID_MAX 64		/* user ids: 1-64 of [A-Za-z0-9_-] */
#define RV_RECORD_ID_LEN 21	/* logto-spec 3.3 */
#define RV_MAC_LEN 32		/* HMAC-SHA256 */
#define RV_WINDOW_MAX 256	/* events kept per window (<lockout max-attempts> at most) */

/*
 * A second factor of a user (issue 20; enrolled through logto-spec 6.2's
 * /api/my-account/mfa-verifications), kept in the user's document: its
 * secrets only sealed (TOTP, rv-seal.h) or as keyed hashes (backup codes).
 */
enum rv_factor_type {
	RV_FACTOR_TOTP,
	RV_FACTOR_BACKUP_CODES,
	RV_FACTOR_WEBAUTHN,
};
#define RV_FACTOR_MAX 32	/* factors per user (passkeys above all) */
#define RV_FACTOR_CODES 10	/* backup codes in a set (RV_BACKUP_CODES) */

struct rv_factor {
	char id[RV_RECORD_ID_LEN + 1];	/* [0-9a-z], like a record id */
	enum rv_factor_type type;
	long long created_at;		/* epoch ms */
	long long last_used_at;		/* epoch ms, 0: never */
	char *name;			/* WebAuthn: the user's name for it */
	char *agent;			/* WebAuthn: the User-Agent that made it */
	/* TOTP */
	char *secret;			/* rv_seal() of the key's bytes */
	long long last_step;		/* the last step used (replay), -1: none */
	/* backup codes */
	unsigned char code_mac[RV_FACTOR_CODES][RV_MAC_LEN];
	long long code_used_at[RV_FACTOR_CODES];	/* 0: unused */
	/* WebAuthn (struct rv_webauthn_cred's fields) */
	char *cred_id;			/* base64url */
	int cose_alg;
	char *public_key;		/* base64url */
	unsigned long sign_count;
	char aaguid[37];	/* the authenticator model (UUID text) */
	char *transports;
	bool backup_eligible, backed_up;
};

struct rv_user {
	char id[RV_ID_MAX + 1];
	char *username;		/* NULL when unset; all strings malloc'd */
	char *email;		/* primary e-mail as given */
	char *phone;		/* primary phone, digits */
	char *name;
	char *avatar;
	char *password_hash;	/* encoded hash (any supported scheme), or NULL */
	long long created_at;	/* epoch milliseconds */
	long long updated_at;
	long long password_updated_at;
	long long last_sign_in_at;	/* 0: never */
	bool suspended;
	struct rv_factor *factors;	/* malloc'd, nfactors of them */
	size_t nfactors;
};

enum rv_record_type {
	RV_RECORD_PASSWORD,
	RV_RECORD_EMAIL_CODE,
	RV_RECORD_PHONE_CODE,
	/* second factors (issue 20): a step-up by an authenticator app's
	 * code, a backup code, a passkey ("Passkey": ours), and the
	 * registration of a passkey ("WebAuthn", logto-spec 2.5: a new
	 * identifier, never a proof) */
	RV_RECORD_TOTP,
	RV_RECORD_BACKUP_CODE,
	RV_RECORD_PASSKEY,
	RV_RECORD_WEBAUTHN,
};
#define RV_RECORD_TYPES 7

struct rv_record {
	char id[RV_RECORD_ID_LEN + 1];
	enum rv_record_type type;
	char owner[RV_ID_MAX + 1];	/* user it proves; "" for a new identifier */
	char creator[RV_ID_MAX + 1];	/* user who asked for it (DESIGN.md deviation 1) */
	char identifier[257];	/* e-mail or phone as sent; user id for Password */
	char template_type[32];	/* UserPermissionValidation, BindNewIdentifier, BindMfa */
	char client_id[256];	/* the client of the token that created it */
	char sid[129];		/* that token's "sid" (RV_SID_MAX), or "" */
	bool verified;
	long long created_at;	/* epoch ms */
	long long expires_at;	/* epoch ms; expired = missing */
	long long verified_at;
	bool has_code;
	unsigned char code_mac[RV_MAC_LEN];	/* HMAC(pepper, id || code) */
	long long code_sent_at;
	int tries;
	char action[65];	/* "": Account API changes; else the one action
				   it serves in introspection (deviation 4) */
	/* WebAuthn and Passkey records: the challenge (base64url of
	 * RV_WEBAUTHN_CHALLENGE_LEN bytes) until verified; a verified
	 * WebAuthn record: the credential, as the factor's JSON */
	char challenge[48];
	char credential[3072];	/* "" when none (a credential id of up to
				   1023 bytes fits: W3C WebAuthn 5.1) */
};

/* A rolling window of events (sends, failures) for one keyed identifier. */
struct rv_window {
	long long events[RV_WINDOW_MAX];	/* epoch ms, oldest first */
	int n;
	long long blocked_until;	/* epoch ms, 0: not blocked */
	long long expires_at;		/* when the whole entry may be purged */
};

/* Milliseconds since the epoch (the store's clock; tests may move it). */
long long rv_store_now(void);
void rv_store_set_clock(long long (*now_ms)(void));

/*
 * Opens the store of <store backend>; with create, makes the Berkeley DB
 * environment or the PostgreSQL schema (and the home, the pepper and the
 * audit key) when missing. Errors: 503 service.unavailable for a store
 * that is missing or cannot be reached (the detail goes in err->msg),
 * 500 for a home with unsafe permissions or a schema newer than this
 * program. *st_r is set on success. A PostgreSQL store connects on open.
 */
int rv_store_open(const struct rv_conf *conf, bool create,
		  struct rv_store **st_r, struct rv_err *err);
void rv_store_close(struct rv_store **st);
/* For a long-lived worker: a thread that ends the process (status 75,
 * logged) when a store transaction has run for 15 s, which happens only
 * when it waits on a lock of a killed process in a region that recovery
 * replaced; the web server then starts a fresh worker. Once per process. */
void rv_store_watchdog(void);

/* Runs body in a transaction, commits it when body returns 0 and no store
 * call failed, aborts it otherwise. A lost deadlock, lock wait or
 * serialisation runs the body again (up to 8 times, then 503 with
 * Retry-After); a store that must reopen (Berkeley DB recovery, a lost
 * PostgreSQL connection before COMMIT) is reopened once. A commit whose
 * outcome is unknown is 503, never retried. Returns 0 or -1. */
typedef int rv_store_txn_fn(struct rv_store *st, struct rv_txn *txn,
			    void *ctx, struct rv_err *err);
int rv_store_txn(struct rv_store *st, rv_store_txn_fn *body, void *ctx,
		 struct rv_err *err);
/* Is the store there? A round trip to a database server (reconnecting
 * once), nothing for Berkeley DB. 0, or -1 with 503 and Retry-After. */
int rv_store_ping(struct rv_store *st, struct rv_err *err);
/* "bdb" or "pgsql" */
const char *rv_store_backend_name(const struct rv_store *st);

/* The secret pepper (32 bytes) from <store pepper>, read at open. */
const unsigned char *rv_store_pepper(const struct rv_store *st);

/* ---- users (inside a transaction) --------------------------------------
 * Lookups return 1 found, 0 not found, -1 error. for_update: lock it.
 * A found user is filled into *u, which must be released. */
void rv_user_init(struct rv_user *u);
void rv_user_release(struct rv_user *u);
/* A deep copy of u's factors into out (whose own are released first). */
void rv_user_copy_factors(const struct rv_user *u, struct rv_user *out);
/* The factor of u with that id / the first of that type, or NULL. */
struct rv_factor *rv_user_factor(const struct rv_user *u, const char *id);
struct rv_factor *rv_user_factor_of(const struct rv_user *u,
				    enum rv_factor_type t);
/* Appends a zeroed factor (last_step -1); NULL when u has RV_FACTOR_MAX. */
struct rv_factor *rv_user_factor_add(struct rv_user *u);
/* Removes (and wipes) the factor at f. */
void rv_user_factor_del(struct rv_user *u, struct rv_factor *f);
/* The factor's JSON (as kept in the store) and back: 0, or -1 when j is
 * not a well-formed factor. */
json_t *rv_factor_to_json(const struct rv_factor *f);
int rv_factor_from_json(json_t *j, struct rv_factor *f);
void rv_factor_release(struct rv_factor *f);
/* "Totp", "BackupCode", "WebAuthn" (Logto's names) */
const char *rv_factor_type_name(enum rv_factor_type t);
bool rv_user_id_valid(const char *id);
/* A record id: RV_RECORD_ID_LEN of [0-9a-z] (logto-spec 3.3). */
bool rv_record_id_valid(const char *id);
int rv_store_user_get(struct rv_txn *txn, const char *id, bool for_update,
		      struct rv_user *u, struct rv_err *err);
int rv_store_user_by_username(struct rv_txn *txn, const char *username,
			      struct rv_user *u, struct rv_err *err);
int rv_store_user_by_email(struct rv_txn *txn, const char *email,
			   struct rv_user *u, struct rv_err *err);
int rv_store_user_by_phone(struct rv_txn *txn, const char *phone,
			   struct rv_user *u, struct rv_err *err);
/* The unique keys of a user, and the form their indexes compare them in:
 * the username and the e-mail lowercased in ASCII, the phone as it is.
 * Caller must free() the result. */
enum rv_user_key { RV_USER_KEY_USERNAME, RV_USER_KEY_EMAIL, RV_USER_KEY_PHONE };
char *rv_store_fold(enum rv_user_key key, const char *value);
/* Inserts or replaces. A username, e-mail or phone that another user has
 * (compared as the indexes fold them) gives -1 with 422
 * user.username_already_in_use / user.email_already_in_use /
 * user.phone_already_in_use. Putting a suspended user deletes the user's
 * records in the same transaction: a suspended user has none. */
int rv_store_user_put(struct rv_txn *txn, const struct rv_user *u,
		      struct rv_err *err);
/* 1 deleted, 0 no such user, -1 error. Records owned by the user go too. */
int rv_store_user_del(struct rv_txn *txn, const char *id, struct rv_err *err);
/* Calls fn for each user in id order until it returns non-zero, which is
 * then returned. */
int rv_store_user_each(struct rv_txn *txn,
		       int (*fn)(const struct rv_user *u, void *ctx), void *ctx,
		       struct rv_err *err);

/* ---- records ------------------------------------------------------------ */
void rv_record_init(struct rv_record *r);
const char *rv_record_type_name(enum rv_record_type t);	/* "Password"... */
/* 1 found and not expired, 0 missing or expired, -1 error. */
int rv_store_record_get(struct rv_txn *txn, const char *id, bool for_update,
			struct rv_record *r, struct rv_err *err);
int rv_store_record_put(struct rv_txn *txn, const struct rv_record *r,
			struct rv_err *err);
int rv_store_record_del(struct rv_txn *txn, const char *id, struct rv_err *err);
/* Deletes every record whose owner or creator is user, expired or not,
 * but keep (a record id; NULL: none). The count deleted, or -1. */
long rv_store_record_del_user(struct rv_txn *txn, const char *user,
			      const char *keep, struct rv_err *err);
/* Each live record filed under user (its owner, or its creator when it
 * has no owner), until fn returns non-zero. for_update locks the records
 * of an existing user as a set: of two such walks of one user, the
 * second waits for the first to end and then sees what it wrote
 * (replacing older codes and the live-record cap rely on it; records are
 * made only for users that exist). rv_store_record_del_user walks so. */
int rv_store_record_each_user(struct rv_txn *txn, const char *user,
			      bool for_update,
			      int (*fn)(const struct rv_record *r, void *ctx),
			      void *ctx, struct rv_err *err);

/* ---- limits -------------------------------------------------------------
 * key is a keyed hash (hex) of what is limited, made by the caller with
 * rv_store_mac_hex(); never a clear identifier. */
int rv_store_window_get(struct rv_txn *txn, const char *key, struct rv_window *w,
			struct rv_err *err);	/* 1/0/-1; 0 leaves *w empty */
int rv_store_window_put(struct rv_txn *txn, const char *key,
			const struct rv_window *w, struct rv_err *err);
/* Each window with its key, in key order, until fn returns non-zero
 * (reverify-admin store copy). */
int rv_store_window_each(struct rv_txn *txn,
			 int (*fn)(const char *key, const struct rv_window *w,
				   void *ctx),
			 void *ctx, struct rv_err *err);
/* hex HMAC-SHA256(pepper, kind || 0 || value) into out[65]. */
void rv_store_mac_hex(const struct rv_store *st, const char *kind,
		      const char *value, char out[65]);

/* ---- audit --------------------------------------------------------------
 * Appends an event to the hash chain in the same transaction as the change
 * it records, and copies it to the log. user is a user id or NULL;
 * fields (may be NULL, borrowed) holds extra non-secret JSON fields;
 * identifiers must already be keyed hashes. */
int rv_store_audit(struct rv_txn *txn, const char *event, const char *user,
		   json_t *fields, struct rv_err *err);
/*
 * The chain is keyed when <audit key> names a readable key file: each new
 * entry then carries "mac":"hmac-sha256" and its hash is HMAC-SHA256 under
 * that key; entries without "mac" (written before 0.2, or with no key) are
 * plain SHA-256 and still verify, but not after a keyed one. A prune
 * leaves an anchor (the sequence number and hash of the last entry
 * deleted) from which the chain verifies.
 */
bool rv_store_audit_keyed(const struct rv_store *st);
/* Writes an entry of another store's chain as it is (seq 0: the prune
 * anchor), in order, after the last one copied (reverify-admin store
 * copy); the copy verifies as the original did. 0 or -1. */
int rv_store_audit_copy(struct rv_txn *txn, long long seq, json_t *entry,
			struct rv_err *err);
/* The head: the last entry's sequence number and hash (the anchor's when
 * every entry was pruned; 0 and 64 zeros for an empty chain). 0 or -1. */
int rv_store_audit_head(struct rv_store *st, long long *seq_r, char hash[65],
			struct rv_err *err);
struct rv_audit_check {
	/* in: the expected head (head_seq 0: none), e.g. one kept elsewhere */
	long long head_seq;
	char head_hash[65];
	/* out */
	long long count;		/* entries that verified */
	long long keyed, unkeyed;	/* of which HMAC-SHA256, SHA-256 */
	long long first_seq, last_seq;	/* 0 when there is none */
	char last_hash[65];		/* the head reached */
	long long anchor_seq, anchor_ts;	/* 0: never pruned */
	char anchor_hash[65];
	long long bad_seq;		/* where it broke */
	bool head_found;
	long long cut_seq;		/* (prune) */
	char cut_hash[65];
};
/*
 * Walks the chain from the anchor: 1 intact, 0 broken at c->bad_seq (a
 * description in err->msg: "audit chain broken: entry N: why"), -1 error
 * (also when keyed entries are met without the audit key, and when the
 * expected head was pruned). With an expected head, the chain must reach
 * it with that hash: a dropped tail is broken.
 */
int rv_store_audit_check(struct rv_store *st, struct rv_audit_check *c,
			 struct rv_err *err);
/* The same without an expected head: *count_r entries verified. */
int rv_store_audit_verify(struct rv_store *st, long long *count_r,
			  long long *bad_seq_r, struct rv_err *err);
/*
 * Deletes the entries written before before_ms (epoch ms) from the start
 * of the chain, 100 per transaction, and keeps the anchor.
 * The chain is checked first and a broken one is not pruned (-1). The
 * prune is itself audited first ("audit.pruned": count, anchorSeq,
 * anchorHash, before). progress (may be NULL) is called after each chunk.
 * 0 with *pruned_r entries deleted, or -1.
 */
int rv_store_audit_prune(struct rv_store *st, long long before_ms,
			 void (*progress)(long long done, long long total, void *ctx),
			 void *ctx, long long *pruned_r, struct rv_err *err);
/* Calls fn with each entry (a JSON object, its sequence number also as
 * "_key") from sequence from on; from 0 starts with the prune anchor. */
int rv_store_audit_each(struct rv_store *st, long long from,
			int (*fn)(json_t *entry, void *ctx), void *ctx,
			struct rv_err *err);

/* ---- maintenance ---------------------------------------------------------- */
/* Removes at most max expired records and windows (0: no limit), in its own
 * transactions; *purged_r gets the count. Then rv_store_idle. */
int rv_store_purge(struct rv_store *st, long max, long *purged_r,
		   struct rv_err *err);
struct rv_store_stats {
	long long users, records, live_records, windows, audit;
};
int rv_store_stats(struct rv_store *st, struct rv_store_stats *s,
		   struct rv_err *err);
/* Hot backup of a Berkeley DB environment (databases and logs) into dir,
 * created when missing; files of an earlier backup there are replaced.
 * The pepper file is not copied: keep it apart from the backups. Other
 * backends say to use their own tools (pg_dump). */
int rv_store_backup(struct rv_store *st, const char *dir, struct rv_err *err);
/* Runs normal recovery on a Berkeley DB home (no other process may have
 * it open); other backends say there is nothing to do. */
int rv_store_recover(const struct rv_conf *conf, struct rv_err *err);
/* Brings a database's schema to this program's version (*from_r, *to_r;
 * both 0 for a backend without one). */
int rv_store_migrate(struct rv_store *st, int *from_r, int *to_r,
		     struct rv_err *err);
/* Housekeeping after a batch of deletions (a Berkeley DB checkpoint). */
void rv_store_idle(struct rv_store *st);

#endif
