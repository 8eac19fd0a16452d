/* rv-store-pg.c: the PostgreSQL backend of the store */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>

#include <libpq-fe.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

/*
 * libpq is loaded when a PostgreSQL store is opened, not linked: it
 * brings 19 more shared libraries (Kerberos, LDAP, GnuTLS...), which
 * doubled the start of every CGI program on Berkeley DB (5 to 10 ms,
 * doc/performance.md). The functions used are called through the
 * table below; the names stay libpq's.
 */
#define LIBPQ "libpq.so.5"

#define PQ_FUNCS(X) \
	X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) \
	X(PQsetNoticeProcessor) X(PQexec) X(PQresultStatus) X(PQclear) \
	X(PQresultErrorField) X(PQprepare) X(PQexecPrepared) \
	X(PQenterPipelineMode) X(PQexitPipelineMode) X(PQsendQueryParams) \
	X(PQsendQueryPrepared) X(PQpipelineSync) X(PQgetResult) \
	X(PQntuples) X(PQgetvalue) X(PQgetlength) X(PQcmdTuples) \
	X(PQcmdStatus) X(PQtransactionStatus)

static struct {
	void *lib;
#define PQ_SLOT(f) __typeof__(f) *f;
	PQ_FUNCS(PQ_SLOT)
#undef PQ_SLOT
} pq;

static int
pq_load(struct rv_err *err)
{
	void *lib;

	if (pq.lib != NULL)
		return 0;
	if ((lib = dlopen(LIBPQ, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "store: cannot load %s for "
				  "<store backend=\"pgsql\"> (install the Debian "
				  "package libpq5): %s", LIBPQ, dlerror());
#define PQ_SYM(f) \
	if ((*(void **)&pq.f = dlsym(lib, #f)) == NULL) { \
		dlclose(lib); \
		return rv_err_set(err, RV_E_INTERNAL, "store: %s has no %s: " \
				  "libpq 14 or later is needed", LIBPQ, #f); \
	}
	PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
	pq.lib = lib;
	return 0;
}

/* from here on, libpq's names are the table's */
#define PQ_CALL(f) (*pq.f)
#define PQconnectdbParams PQ_CALL(PQconnectdbParams)
#define PQstatus PQ_CALL(PQstatus)
#define PQerrorMessage PQ_CALL(PQerrorMessage)
#define PQfinish PQ_CALL(PQfinish)
#define PQsetNoticeProcessor PQ_CALL(PQsetNoticeProcessor)
#define PQexec PQ_CALL(PQexec)
#define PQresultStatus PQ_CALL(PQresultStatus)
#define PQclear PQ_CALL(PQclear)
#define PQresultErrorField PQ_CALL(PQresultErrorField)
#define PQprepare PQ_CALL(PQprepare)
#define PQexecPrepared PQ_CALL(PQexecPrepared)
#define PQenterPipelineMode PQ_CALL(PQenterPipelineMode)
#define PQexitPipelineMode PQ_CALL(PQexitPipelineMode)
#define PQsendQueryParams PQ_CALL(PQsendQueryParams)
#define PQsendQueryPrepared PQ_CALL(PQsendQueryPrepared)
#define PQpipelineSync PQ_CALL(PQpipelineSync)
#define PQgetResult PQ_CALL(PQgetResult)
#define PQntuples PQ_CALL(PQntuples)
#define PQgetvalue PQ_CALL(PQgetvalue)
#define PQgetlength PQ_CALL(PQgetlength)
#define PQcmdTuples PQ_CALL(PQcmdTuples)
#define PQcmdStatus PQ_CALL(PQcmdStatus)
#define PQtransactionStatus PQ_CALL(PQtransactionStatus)

/*
 * One connection per process (a FastCGI worker keeps it; a CGI process
 * opens one per request), made when the store is opened. Every statement
 * is prepared once per connection, on first use, and sent in text format.
 *
 * Transactions are READ COMMITTED with explicit locks, not SERIALIZABLE:
 * the contract's read-check-updates read with for_update (SELECT ... FOR
 * UPDATE), a window is read with an upsert that locks it even when it did
 * not exist (INSERT ... ON CONFLICT DO UPDATE), and the audit chain's
 * head is one locked row. A 64-way race on one row then waits in line as
 * it does on Berkeley DB; under SERIALIZABLE each waiter would be aborted
 * with 40001 once the row changed, and 64 racers would need up to 64
 * rounds of retries (doc/design-notes.md, "One store contract, two
 * backends"). 40001, 40P01 and 55P03 are still retried, like a Berkeley
 * DB deadlock, and a unique violation on a primary key (two creators of
 * one new key) too.
 *
 * The schema (SCHEMA below) is portable to the PostgreSQL-compatible
 * engines doc/scaling.md discusses: no sequences, triggers, advisory
 * locks or TTL; keys are folded and ids made in C.
 */

#define SCHEMA_VERSION 1

static const char SCHEMA[] =
	"CREATE TABLE rv_meta (k text PRIMARY KEY, v text NOT NULL);"
	"CREATE TABLE rv_users (id text PRIMARY KEY,"
	" username_key text CONSTRAINT rv_users_username UNIQUE,"
	" email_key text CONSTRAINT rv_users_email UNIQUE,"
	" phone_key text CONSTRAINT rv_users_phone UNIQUE,"
	" doc text NOT NULL);"
	"CREATE TABLE rv_records (id text PRIMARY KEY, uid text NOT NULL,"
	" expires_at bigint NOT NULL, doc text NOT NULL);"
	"CREATE INDEX rv_records_uid ON rv_records (uid);"
	"CREATE INDEX rv_records_expiry ON rv_records (expires_at);"
	"CREATE TABLE rv_limits (key text PRIMARY KEY, expires_at bigint NOT NULL,"
	" doc text NOT NULL);"
	"CREATE INDEX rv_limits_expiry ON rv_limits (expires_at);"
	"CREATE TABLE rv_audit (seq bigint PRIMARY KEY, doc text NOT NULL);"
	"CREATE TABLE rv_audit_head (id int PRIMARY KEY CHECK (id = 1),"
	" seq bigint NOT NULL, hash text NOT NULL);"
	"INSERT INTO rv_audit_head VALUES (1, 0,"
	" '0000000000000000000000000000000000000000000000000000000000000000');"
	"INSERT INTO rv_meta VALUES ('schema', '1');";

/* The steps from each version to the next: MIGRATIONS[v] brings v to
 * v + 1 (in one implicit transaction with the version's update). None
 * yet: version 1 is the first. */
static const char *const MIGRATIONS[SCHEMA_VERSION + 1] = { NULL };

enum stmt {
	S_USER_GET, S_USER_GET_FU, S_REC_GET, S_REC_GET_FU, S_LIM_GET,
	S_LIM_LOCK,
	S_FIND_USERNAME, S_FIND_EMAIL, S_FIND_PHONE,
	S_USER_PUT, S_REC_PUT, S_LIM_PUT, S_USER_INS, S_REC_INS,
	S_USER_DEL, S_REC_DEL, S_LIM_DEL,
	S_USER_EACH, S_LIM_EACH, S_REC_EACH, S_REC_EACH_FU, S_USER_LOCK,
	S_AUD_HEAD, S_AUD_HEAD_FU, S_AUD_APPEND, S_AUD_EACH, S_AUD_EACH_FU,
	S_AUD_DEL, S_AUD_ANCHOR,
	S_PURGE_REC, S_PURGE_LIM, S_STATS,
	S_COUNT
};

#define AUDIT_PAGE 1000		/* entries fetched per statement of a walk */
#define TXKEYS 16		/* keys remembered per transaction */

static const struct {
	const char *sql;
	int nparams;
} stmts[S_COUNT] = {
	[S_USER_GET] = { "SELECT doc FROM rv_users WHERE id = $1", 1 },
	[S_USER_GET_FU] = { "SELECT doc FROM rv_users WHERE id = $1 FOR UPDATE", 1 },
	[S_REC_GET] = { "SELECT doc FROM rv_records WHERE id = $1", 1 },
	[S_REC_GET_FU] = { "SELECT doc FROM rv_records WHERE id = $1 FOR UPDATE", 1 },
	[S_LIM_GET] = { "SELECT doc FROM rv_limits WHERE key = $1", 1 },
	/* locks the window, even one that does not exist yet: a missing key
	 * gets an empty placeholder (purged at once: expires_at 0) that the
	 * transaction holds, and the second of two racers waits for it */
	[S_LIM_LOCK] = { "INSERT INTO rv_limits (key, expires_at, doc) VALUES ($1, 0, '')"
			 " ON CONFLICT (key) DO UPDATE SET doc = rv_limits.doc"
			 " RETURNING doc", 1 },
	[S_FIND_USERNAME] = { "SELECT doc FROM rv_users WHERE username_key = $1", 1 },
	[S_FIND_EMAIL] = { "SELECT doc FROM rv_users WHERE email_key = $1", 1 },
	[S_FIND_PHONE] = { "SELECT doc FROM rv_users WHERE phone_key = $1", 1 },
	[S_USER_PUT] = { "INSERT INTO rv_users (id, username_key, email_key, phone_key, doc)"
			 " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
			 " username_key = EXCLUDED.username_key, email_key = EXCLUDED.email_key,"
			 " phone_key = EXCLUDED.phone_key, doc = EXCLUDED.doc", 5 },
	[S_REC_PUT] = { "INSERT INTO rv_records (id, uid, expires_at, doc)"
			" VALUES ($1, $2, $3::bigint, $4) ON CONFLICT (id) DO UPDATE SET"
			" uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at,"
			" doc = EXCLUDED.doc", 4 },
	/* a key this transaction found absent is inserted, never upserted: of
	 * two creators the second fails (23505, retried) instead of
	 * overwriting the first */
	[S_USER_INS] = { "INSERT INTO rv_users (id, username_key, email_key, phone_key, doc)"
			 " VALUES ($1, $2, $3, $4, $5)", 5 },
	[S_REC_INS] = { "INSERT INTO rv_records (id, uid, expires_at, doc)"
			" VALUES ($1, $2, $3::bigint, $4)", 4 },
	[S_LIM_PUT] = { "INSERT INTO rv_limits (key, expires_at, doc)"
			" VALUES ($1, $2::bigint, $3) ON CONFLICT (key) DO UPDATE SET"
			" expires_at = EXCLUDED.expires_at, doc = EXCLUDED.doc", 3 },
	[S_USER_DEL] = { "DELETE FROM rv_users WHERE id = $1", 1 },
	[S_REC_DEL] = { "DELETE FROM rv_records WHERE id = $1", 1 },
	[S_LIM_DEL] = { "DELETE FROM rv_limits WHERE key = $1", 1 },
	[S_USER_EACH] = { "SELECT id, doc FROM rv_users ORDER BY id COLLATE \"C\"", 0 },
	[S_LIM_EACH] = { "SELECT key, doc FROM rv_limits WHERE doc <> ''"
			 " ORDER BY key COLLATE \"C\"", 0 },
	/* the lock of a user's record set: a new record of the user is not
	 * among the rows a FOR UPDATE walk locks, its user's row is */
	[S_USER_LOCK] = { "SELECT 1 FROM rv_users WHERE id = $1 FOR UPDATE", 1 },
	[S_REC_EACH] = { "SELECT id, doc FROM rv_records WHERE uid = $1"
			 " ORDER BY id COLLATE \"C\"", 1 },
	[S_REC_EACH_FU] = { "SELECT id, doc FROM rv_records WHERE uid = $1"
			    " ORDER BY id COLLATE \"C\" FOR UPDATE", 1 },
	[S_AUD_HEAD] = { "SELECT seq, hash FROM rv_audit_head WHERE id = 1", 0 },
	[S_AUD_HEAD_FU] = { "SELECT seq, hash FROM rv_audit_head WHERE id = 1 FOR UPDATE", 0 },
	[S_AUD_APPEND] = { "WITH e AS (INSERT INTO rv_audit (seq, doc) VALUES ($1::bigint, $3))"
			   " UPDATE rv_audit_head SET seq = $1::bigint, hash = $2 WHERE id = 1", 3 },
	[S_AUD_EACH] = { "SELECT seq, doc FROM rv_audit WHERE seq >= $1::bigint"
			 " ORDER BY seq LIMIT 1000", 1 },
	[S_AUD_EACH_FU] = { "SELECT seq, doc FROM rv_audit WHERE seq >= $1::bigint"
			    " ORDER BY seq LIMIT 1000 FOR UPDATE", 1 },
	[S_AUD_DEL] = { "DELETE FROM rv_audit WHERE seq = $1::bigint", 1 },
	/* the head follows an anchor beyond it (a copied, fully pruned chain) */
	[S_AUD_ANCHOR] = { "WITH a AS (INSERT INTO rv_audit (seq, doc) VALUES (0, $1)"
			   " ON CONFLICT (seq) DO UPDATE SET doc = EXCLUDED.doc)"
			   " UPDATE rv_audit_head SET seq = ($1::json->>'seq')::bigint,"
			   " hash = $1::json->>'hash'"
			   " WHERE id = 1 AND seq < ($1::json->>'seq')::bigint", 1 },
	[S_PURGE_REC] = { "DELETE FROM rv_records WHERE id IN (SELECT id FROM rv_records"
			  " WHERE expires_at <= $1::bigint ORDER BY expires_at"
			  " LIMIT $2::int)", 2 },
	[S_PURGE_LIM] = { "DELETE FROM rv_limits WHERE key IN (SELECT key FROM rv_limits"
			  " WHERE expires_at <= $1::bigint ORDER BY expires_at"
			  " LIMIT $2::int)", 2 },
	[S_STATS] = { "SELECT (SELECT count(*) FROM rv_users),"
		      " (SELECT count(*) FROM rv_records),"
		      " (SELECT count(*) FROM rv_records WHERE expires_at > $1::bigint),"
		      " (SELECT count(*) FROM rv_limits WHERE doc <> ''),"
		      " (SELECT count(*) FROM rv_audit WHERE seq > 0)", 1 },
};

struct pg {
	PGconn *c;
	char *conninfo;
	long long timeout_ms;
	bool prepared[S_COUNT];
	bool in_commit;		/* a failure now has an unknown outcome */
	bool began;		/* BEGIN was sent in this transaction */
	/* keys of this transaction: users and records that a for_update
	 * read found absent (put with a plain INSERT), windows that hold our
	 * empty placeholder (deleted at COMMIT unless put) */
	struct txkey {
		enum rv_table t;
		char key[RV_ID_MAX + 1];
	} keys[TXKEYS];
	int nkeys;
	int schema_old;		/* the database's older schema version, 0 */
};

#define H(txn) ((struct pg *)(txn)->st->h)

/* ---- errors -------------------------------------------------------------- */

static bool
lost(struct pg *p, const char *state)
{
	return PQstatus(p->c) != CONNECTION_OK || state == NULL ||
	       strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	       strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/* The primary message only: a DETAIL may quote a key's value. */
static const char *
pg_message(struct pg *p, const PGresult *res)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(p->c);
	return m != NULL && *m != '\0' ? m : "unknown error";
}

/* Maps a failed statement to the transaction's fault and err. */
static int
pg_fail(struct rv_txn *txn, struct pg *p, PGresult *res, const char *what,
	struct rv_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	enum rv_store_fault f = RV_FAULT_FAIL;

	if (lost(p, state))
		f = p->in_commit ? RV_FAULT_UNKNOWN : RV_FAULT_RESET;
	else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		 strcmp(state, "55P03") == 0 || strcmp(state, "23505") == 0)
		f = RV_FAULT_RETRY;
	rv_err_set(err, RV_E_UNAVAILABLE, "store: %s: %s%s%s%s", what,
		   pg_message(p, res), state ? " (" : "", state ? state : "",
		   state ? ")" : "");
	if (f != RV_FAULT_RETRY)	/* the answer, when it is the last */
		rv_err_header(err, "Retry-After", f == RV_FAULT_UNKNOWN ? "1" : "5");
	if (f == RV_FAULT_UNKNOWN)
		rv_log_warnx("store: the connection was lost during COMMIT: the "
			     "outcome of the transaction is unknown (503)");
	PQclear(res);
	return txn != NULL ? rv_store_fail(txn, f) : -1;
}

/* ---- connection -------------------------------------------------------------- */

static int
setup(struct pg *p, struct rv_err *err)
{
	char sql[256];
	PGresult *res;
	long long idle = p->timeout_ms * 2 < 10000 ? 10000 : p->timeout_ms * 2;
	/* a lock wait ends before the statement does, as 55P03, which the
	 * runner retries (a lock held by a stuck transaction); its 8 tries
	 * stay below the worker's watchdog (15 s) */
	long long lock = p->timeout_ms / 4 > 1500 ? 1500 :
			 p->timeout_ms / 4 < 100 ? 100 : p->timeout_ms / 4;

	memset(p->prepared, 0, sizeof(p->prepared));
	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = %lld; SET lock_timeout = %lld;"
		 " SET idle_in_transaction_session_timeout = %lld;"
		 " SET client_min_messages = warning",
		 p->timeout_ms, lock, idle);
	res = PQexec(p->c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(NULL, p, res, "session settings", err);
	PQclear(res);
	return 0;
}

/* A notice or warning of the server goes to our log, not to stderr (a
 * CGI program's stderr is the web server's error log). */
static void
notice(void *arg, const char *msg)
{
	(void)arg;
	rv_log_warnx("store: PostgreSQL says: %.*s", (int)strcspn(msg, "\n"), msg);
}

static int
connect_pg(struct pg *p, struct rv_err *err)
{
	const char *keys[] = { "dbname", "fallback_application_name",
			       "connect_timeout", NULL };
	const char *vals[] = { p->conninfo, rv_log_prog(), "5", NULL };

	if (p->c != NULL)
		PQfinish(p->c);
	p->c = PQconnectdbParams(keys, vals, 1);
	if (p->c == NULL || PQstatus(p->c) != CONNECTION_OK) {
		const char *msg = p->c ? PQerrorMessage(p->c) : "out of memory";
		int n = (int)strcspn(msg, "\n");

		rv_err_set(err, RV_E_UNAVAILABLE,
			   "store: cannot connect to PostgreSQL: %.*s", n, msg);
		rv_err_header(err, "Retry-After", "5");
		return -1;
	}
	PQsetNoticeProcessor(p->c, notice, NULL);
	return setup(p, err);
}

/* A statement that only reads, without a lock: it may run before the
 * transaction's BEGIN, on its own (the next statement that locks or
 * writes begins the transaction). Under READ COMMITTED every statement
 * sees the data committed when it starts, inside a transaction or not,
 * so a plain read first loses nothing, and a transaction of plain reads
 * (GET /api/my-account) is one round trip instead of three. */
static bool
plain_read(enum stmt s)
{
	switch (s) {
	case S_USER_GET: case S_REC_GET: case S_LIM_GET:
	case S_FIND_USERNAME: case S_FIND_EMAIL: case S_FIND_PHONE:
	case S_USER_EACH: case S_LIM_EACH: case S_REC_EACH:
	case S_AUD_HEAD: case S_AUD_EACH: case S_STATS:
		return true;
	default:
		return false;
	}
}

/* the next result of a pipeline, and the NULL that ends it */
static PGresult *
next_result(PGconn *c)
{
	PGresult *res = PQgetResult(c), *more;

	if (res != NULL && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		while ((more = PQgetResult(c)) != NULL)
			PQclear(more);
	return res;
}

/* BEGIN and the statement in one round trip (libpq's pipeline mode); the
 * statement's result, or BEGIN's when that failed, or NULL when the
 * connection broke */
static PGresult *
begin_and(struct pg *p, const char *name, enum stmt s, const char *const *params)
{
	PGresult *b, *res, *sync;

	if (!PQenterPipelineMode(p->c))
		return NULL;
	if (!PQsendQueryParams(p->c, "BEGIN ISOLATION LEVEL READ COMMITTED", 0,
			       NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryPrepared(p->c, name, stmts[s].nparams, params, NULL,
				 NULL, 0) ||
	    !PQpipelineSync(p->c))
		return NULL;	/* the connection is reset */
	b = next_result(p->c);
	res = next_result(p->c);
	sync = PQgetResult(p->c);
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(p->c)) {
		PQclear(sync);
		PQclear(b);
		PQclear(res);
		return NULL;
	}
	PQclear(sync);
	if (PQresultStatus(b) != PGRES_COMMAND_OK) {
		PQclear(res);
		return b;
	}
	PQclear(b);
	return res;
}

static PGresult *
exec_stmt(struct pg *p, enum stmt s, const char *const *params)
{
	char name[16];

	snprintf(name, sizeof(name), "rv%d", (int)s);
	if (!p->prepared[s]) {
		PGresult *res = PQprepare(p->c, name, stmts[s].sql,
					  stmts[s].nparams, NULL);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		p->prepared[s] = true;
	}
	if (!p->began && !plain_read(s)) {
		p->began = true;	/* even when it failed: ROLLBACK then */
		return begin_and(p, name, s, params);
	}
	return PQexecPrepared(p->c, name, stmts[s].nparams, params, NULL, NULL, 0);
}

/* Runs s; its result when it worked (the caller clears it), or NULL
 * with the fault set. */
static PGresult *
run(struct rv_txn *txn, enum stmt s, const char *const *params, const char *what,
    struct rv_err *err)
{
	struct pg *p = H(txn);
	PGresult *res = exec_stmt(p, s, params);
	ExecStatusType rs = PQresultStatus(res);

	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK)
		return res;
	pg_fail(txn, p, res, what, err);
	return NULL;
}

/* ---- schema ---------------------------------------------------------------- */

/* The schema version in the database: 0 when it has none. */
static int
schema_version(struct pg *p, int *v_r, struct rv_err *err)
{
	PGresult *res = PQexec(p->c, "SELECT v FROM rv_meta WHERE k = 'schema'");
	const char *state;

	*v_r = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (PQntuples(res) == 1)
			*v_r = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		return 0;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, "42P01") == 0) {	/* no table */
		PQclear(res);
		return 0;
	}
	return pg_fail(NULL, p, res, "schema version", err);
}

static int
exec_script(struct pg *p, const char *sql, const char *what, struct rv_err *err)
{
	PGresult *res = PQexec(p->c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(NULL, p, res, what, err);
	PQclear(res);
	return 0;
}

static int
check_schema(struct pg *p, bool create, struct rv_err *err)
{
	int v;

	if (schema_version(p, &v, err) < 0)
		return -1;
	if (v == 0 && create) {
		/* one implicit transaction: all of it or nothing */
		if (exec_script(p, SCHEMA, "creating the schema", err) < 0)
			return -1;
		rv_log_info("store: created the reverify schema (version %d)",
			    SCHEMA_VERSION);
		return 0;
	}
	if (v == 0) {
		rv_err_set(err, RV_E_UNAVAILABLE, "store: the database has no reverify "
			   "schema: run reverify-admin init");
		rv_err_header(err, "Retry-After", "30");
		return -1;
	}
	if (v > SCHEMA_VERSION)
		return rv_err_set(err, RV_E_INTERNAL, "store: the database's schema "
				  "(version %d) is newer than this program's (%d): "
				  "upgrade reverify", v, SCHEMA_VERSION);
	/* older: only reverify-admin migrate may use it (pg_begin refuses) */
	p->schema_old = v < SCHEMA_VERSION ? v : 0;
	return 0;
}

static int
pg_migrate(void *h, int *from_r, int *to_r, struct rv_err *err)
{
	struct pg *p = h;
	char sql[128];
	int v;

	if (schema_version(p, &v, err) < 0)
		return -1;
	*from_r = *to_r = v;
	if (v == 0)
		return rv_err_set(err, RV_E_INTERNAL, "store: the database has no "
				  "reverify schema: run reverify-admin init");
	if (v > SCHEMA_VERSION)
		return rv_err_set(err, RV_E_INTERNAL, "store: the database's schema "
				  "(version %d) is newer than this program's (%d)",
				  v, SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		char *script;
		int rc;

		RV_ASSERT(MIGRATIONS[v] != NULL);
		snprintf(sql, sizeof(sql),
			 "; UPDATE rv_meta SET v = '%d' WHERE k = 'schema'", v + 1);
		script = rv_xasprintf("%s%s", MIGRATIONS[v], sql);
		rc = exec_script(p, script, "migrating the schema", err);
		free(script);
		if (rc < 0)
			return -1;
		*to_r = v + 1;
	}
	p->schema_old = 0;
	return 0;
}

/* ---- open and close ---------------------------------------------------------- */

static void
pg_close(void *h)
{
	struct pg *p = h;

	if (p == NULL)
		return;
	if (p->c != NULL)
		PQfinish(p->c);
	free(p->conninfo);
	free(p);
}

static int
pg_open(const struct rv_conf *conf, bool create, void **h_r, struct rv_err *err)
{
	struct pg *p;

	if (pq_load(err) < 0)
		return -1;
	p = rv_xcalloc(1, sizeof(*p));
	p->conninfo = rv_xstrdup(conf->store_conninfo ? conf->store_conninfo : "");
	p->timeout_ms = conf->store_statement_timeout > 0 ?
			conf->store_statement_timeout : 5000;
	if (connect_pg(p, err) < 0 || check_schema(p, create, err) < 0) {
		pg_close(p);
		return -1;
	}
	*h_r = p;
	return 0;
}

/* a lost connection: connect again (the statements are prepared anew) */
static int
pg_reset(void *h, struct rv_err *err)
{
	struct pg *p = h;

	rv_log_info("store: reconnecting to PostgreSQL");
	return connect_pg(p, err);
}

static int
pg_ping(void *h, struct rv_err *err)
{
	struct pg *p = h;
	PGresult *res = PQexec(p->c, "SELECT 1");

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		return pg_fail(NULL, p, res, "ping", err);
	}
	PQclear(res);
	return 0;
}

/* ---- transactions ------------------------------------------------------------ */

static void
key_add(struct pg *p, enum rv_table t, const char *key)
{
	if (p->nkeys < TXKEYS && strlen(key) <= RV_ID_MAX) {
		p->keys[p->nkeys].t = t;
		rv_strlcpy(p->keys[p->nkeys].key, key, sizeof(p->keys[0].key));
		p->nkeys++;
	}
}

/* Is key of t remembered? With drop, it is forgotten. */
static bool
key_has(struct pg *p, enum rv_table t, const char *key, bool drop)
{
	int i;

	for (i = 0; i < p->nkeys; i++)
		if (p->keys[i].t == t && strcmp(p->keys[i].key, key) == 0) {
			if (drop)
				p->keys[i] = p->keys[--p->nkeys];
			return true;
		}
	return false;
}

/* "DELETE ...; " of the placeholder windows nobody put, for the COMMIT's
 * round trip (the keys are hex HMACs, checked here: nothing else is
 * written into the text) */
static void
placeholder_sql(struct pg *p, char *buf, size_t size)
{
	size_t len = 0;
	int i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nkeys; i++) {
		const char *k = p->keys[i].key;

		if (p->keys[i].t != RV_T_LIMITS || *k == '\0' ||
		    strspn(k, "0123456789abcdef") != strlen(k))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s'%s'",
					n++ ? ", " : "DELETE FROM rv_limits WHERE doc = '' AND key IN (",
					k);
	}
	if (n > 0)
		snprintf(buf + len, size - len, "); ");
}

/* Nothing is sent: the first statement that locks or writes begins the
 * transaction (exec_stmt). */
static int
pg_begin(struct rv_txn *txn, struct rv_err *err)
{
	struct pg *p = H(txn);

	p->in_commit = false;
	p->began = false;
	p->nkeys = 0;
	if (p->schema_old) {
		rv_err_set(err, RV_E_UNAVAILABLE, "store: the database's schema "
			   "(version %d) is older than this program's (%d): run "
			   "reverify-admin migrate", p->schema_old, SCHEMA_VERSION);
		rv_err_header(err, "Retry-After", "30");
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	if (PQstatus(p->c) != CONNECTION_OK)	/* lost at the last request */
		return pg_fail(txn, p, NULL, "connection", err);
	txn->tx = p;
	return 0;
}

static int
pg_commit(struct rv_txn *txn, bool sync, struct rv_err *err)
{
	struct pg *p = H(txn);
	char sql[TXKEYS * 72 + 128];
	PGresult *res;
	int rc = 0;

	txn->tx = NULL;
	if (!p->began)		/* only plain reads: nothing to end */
		return 0;
	p->began = false;
	p->in_commit = true;
	placeholder_sql(p, sql, sizeof(sql));
	p->nkeys = 0;
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), "%s",
		 sync ? "COMMIT" : "SET LOCAL synchronous_commit TO off; COMMIT");
	res = PQexec(p->c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(txn, p, res, "COMMIT", err);
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* the server rolled it back: known, not lost */
		PQclear(res);
		rv_err_set(err, RV_E_UNAVAILABLE, "store: COMMIT rolled back");
		rv_err_header(err, "Retry-After", "5");
		rc = rv_store_fail(txn, RV_FAULT_FAIL);
	} else
		PQclear(res);
	p->in_commit = false;
	return rc;
}

static void
pg_abort(struct rv_txn *txn)
{
	struct pg *p = H(txn);

	txn->tx = NULL;
	if (p->began && PQstatus(p->c) == CONNECTION_OK &&
	    PQtransactionStatus(p->c) != PQTRANS_IDLE)
		PQclear(PQexec(p->c, "ROLLBACK"));
	p->began = false;
}

/* ---- documents ----------------------------------------------------------- */

/* copies the value at (row, col) into a malloc'd document and wipes it
 * in the result (a user's holds a password hash) */
static void
take_value(PGresult *res, int row, int col, char **doc_r, size_t *len_r)
{
	char *v = PQgetvalue(res, row, col);
	size_t n = (size_t)PQgetlength(res, row, col);
	char *d = rv_xmalloc(n + 1);

	memcpy(d, v, n);
	d[n] = '\0';
	rv_wipe(v, n);
	*doc_r = d;
	*len_r = n;
}

/* the one document of a lookup: 1, 0 */
static int
one_doc(PGresult *res, char **doc_r, size_t *len_r)
{
	int found = PQntuples(res) > 0 && PQgetlength(res, 0, 0) > 0;

	if (found)
		take_value(res, 0, 0, doc_r, len_r);
	PQclear(res);
	return found;
}

static int
pg_get(struct rv_txn *txn, enum rv_table t, const char *key, bool for_update,
       char **doc_r, size_t *len_r, struct rv_err *err)
{
	const char *params[] = { key };
	enum stmt s;
	PGresult *res;
	int rc;

	switch (t) {
	case RV_T_USERS: s = for_update ? S_USER_GET_FU : S_USER_GET; break;
	case RV_T_RECORDS: s = for_update ? S_REC_GET_FU : S_REC_GET; break;
	case RV_T_LIMITS: s = for_update ? S_LIM_LOCK : S_LIM_GET; break;
	default: RV_ASSERT(0); return -1;
	}
	if ((res = run(txn, s, params, "get", err)) == NULL)
		return -1;
	/* a placeholder window is "": absent */
	if ((rc = one_doc(res, doc_r, len_r)) == 0 && for_update)
		key_add(H(txn), t, key);
	return rc;
}

static int
pg_find(struct rv_txn *txn, int ukey, const char *folded, char **doc_r,
	size_t *len_r, struct rv_err *err)
{
	const char *params[] = { folded };
	enum stmt s = ukey == RV_USER_KEY_USERNAME ? S_FIND_USERNAME :
		      ukey == RV_USER_KEY_EMAIL ? S_FIND_EMAIL : S_FIND_PHONE;
	PGresult *res = run(txn, s, params, "index lookup", err);

	return res ? one_doc(res, doc_r, len_r) : -1;
}

/* which unique key of rv_users a 23505 names: 0-2, or -1 */
static int
users_constraint(const PGresult *res)
{
	static const char *const names[] = {
		"rv_users_username", "rv_users_email", "rv_users_phone",
	};
	const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	int i;

	for (i = 0; c != NULL && i < 3; i++)
		if (strcmp(c, names[i]) == 0)
			return i;
	return -1;
}

static int
pg_put(struct rv_txn *txn, enum rv_table t, const char *key,
       const struct rv_cols *cols, const char *doc, size_t len, int *clash_r,
       struct rv_err *err)
{
	struct pg *p = H(txn);
	char exp[24];
	const char *params[5];
	enum stmt s;
	PGresult *res;
	const char *state;
	int which;

	(void)len;	/* doc is NUL-terminated */
	snprintf(exp, sizeof(exp), "%lld", cols ? cols->expires_at : 0);
	switch (t) {
	case RV_T_USERS:
		s = key_has(p, t, key, true) ? S_USER_INS : S_USER_PUT;
		params[0] = key;
		params[1] = cols->ukey[0];
		params[2] = cols->ukey[1];
		params[3] = cols->ukey[2];
		params[4] = doc;
		break;
	case RV_T_RECORDS:
		s = key_has(p, t, key, true) ? S_REC_INS : S_REC_PUT;
		params[0] = key;
		params[1] = cols->uid;
		params[2] = exp;
		params[3] = doc;
		break;
	case RV_T_LIMITS:
		key_has(p, t, key, true);	/* no placeholder any more */
		s = S_LIM_PUT;
		params[0] = key;
		params[1] = exp;
		params[2] = doc;
		break;
	default:
		RV_ASSERT(0);
		return -1;
	}
	res = exec_stmt(p, s, params);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return 0;
	}
	/* a unique key of another user: 422 naming it (the front dooms the
	 * transaction, which PostgreSQL has spoiled anyway) */
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (t == RV_T_USERS && state != NULL && strcmp(state, "23505") == 0 &&
	    (which = users_constraint(res)) >= 0) {
		PQclear(res);
		if (clash_r != NULL)
			*clash_r = which;
		return 1;
	}
	return pg_fail(txn, p, res, "put", err);
}

static int
pg_del(struct rv_txn *txn, enum rv_table t, const char *key, struct rv_err *err)
{
	const char *params[] = { key };
	enum stmt s = t == RV_T_USERS ? S_USER_DEL :
		      t == RV_T_RECORDS ? S_REC_DEL : S_LIM_DEL;
	PGresult *res = run(txn, s, params, "del", err);
	int n;

	if (res == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n > 0;
}

/* calls fn with (id, doc) of each row, wiping each document after */
static int
each_row(PGresult *res, rv_doc_fn *fn, void *ctx)
{
	int i, n = PQntuples(res), rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		char *doc;
		size_t len;

		take_value(res, i, 1, &doc, &len);
		rc = fn(PQgetvalue(res, i, 0), doc, len, ctx);
		rv_store_doc_free(doc, len);
	}
	for (; i < n; i++)
		rv_wipe(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1));
	PQclear(res);
	return rc;
}

static int
pg_each_user(struct rv_txn *txn, rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	PGresult *res = run(txn, S_USER_EACH, NULL, "users", err);

	return res ? each_row(res, fn, ctx) : -1;
}

static int
pg_each_window(struct rv_txn *txn, rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	PGresult *res = run(txn, S_LIM_EACH, NULL, "windows", err);

	return res ? each_row(res, fn, ctx) : -1;
}

static int
pg_each_record(struct rv_txn *txn, const char *uid, bool for_update,
	       rv_doc_fn *fn, void *ctx, struct rv_err *err)
{
	const char *params[] = { uid };
	PGresult *res;

	/* in a statement of its own: the walk's snapshot is then taken after
	 * the wait, and sees what the transaction before wrote */
	if (for_update) {
		if ((res = run(txn, S_USER_LOCK, params, "records lock", err)) == NULL)
			return -1;
		PQclear(res);
	}
	res = run(txn, for_update ? S_REC_EACH_FU : S_REC_EACH, params, "records", err);
	return res ? each_row(res, fn, ctx) : -1;
}

/* ---- audit ------------------------------------------------------------------ */

static int
pg_audit_head(struct rv_txn *txn, bool for_update, long long *seq_r,
	      char hash_r[65], struct rv_err *err)
{
	PGresult *res = run(txn, for_update ? S_AUD_HEAD_FU : S_AUD_HEAD, NULL,
			    "audit head", err);

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetlength(res, 0, 1) != 64) {
		PQclear(res);
		rv_err_set(err, RV_E_INTERNAL, "store: corrupt audit head");
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	*seq_r = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	memcpy(hash_r, PQgetvalue(res, 0, 1), 64);
	hash_r[64] = '\0';
	PQclear(res);
	return 0;
}

static int
pg_audit_append(struct rv_txn *txn, long long seq, const char *hash,
		const char *doc, size_t len, struct rv_err *err)
{
	char s[24];
	const char *params[] = { s, hash, doc };
	PGresult *res;

	(void)len;
	snprintf(s, sizeof(s), "%lld", seq);
	if ((res = run(txn, S_AUD_APPEND, params, "audit append", err)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

static int
pg_audit_each(struct rv_txn *txn, long long from, bool for_update,
	      rv_audit_doc_fn *fn, void *ctx, struct rv_err *err)
{
	int rc = 0;

	/* a page at a time: a chain of millions never sits in memory */
	for (;;) {
		char s[24];
		const char *params[] = { s };
		PGresult *res;
		int i, n;

		snprintf(s, sizeof(s), "%lld", from);
		res = run(txn, for_update ? S_AUD_EACH_FU : S_AUD_EACH, params,
			  "audit walk", err);
		if (res == NULL)
			return -1;
		n = PQntuples(res);
		for (i = 0; rc == 0 && i < n; i++) {
			from = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			rc = fn(from, PQgetvalue(res, i, 1),
				(size_t)PQgetlength(res, i, 1), ctx);
			from++;
		}
		PQclear(res);
		if (rc != 0 || n < AUDIT_PAGE)
			return rc;
	}
}

static int
pg_audit_del(struct rv_txn *txn, long long seq, struct rv_err *err)
{
	char s[24];
	const char *params[] = { s };
	PGresult *res;
	int n;

	snprintf(s, sizeof(s), "%lld", seq);
	if ((res = run(txn, S_AUD_DEL, params, "audit del", err)) == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n > 0;
}

static int
pg_audit_anchor(struct rv_txn *txn, const char *doc, size_t len,
		struct rv_err *err)
{
	const char *params[] = { doc };
	PGresult *res;

	(void)len;
	if ((res = run(txn, S_AUD_ANCHOR, params, "audit anchor", err)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* ---- maintenance ------------------------------------------------------------- */

static int
pg_purge(struct rv_txn *txn, enum rv_table t, long long now, long max,
	 long *done_r, struct rv_err *err)
{
	char n[24], m[24];
	const char *params[] = { n, m };
	PGresult *res;

	*done_r = 0;
	snprintf(n, sizeof(n), "%lld", now);
	snprintf(m, sizeof(m), "%ld", max > 0 ? max : 1000000L);
	res = run(txn, t == RV_T_LIMITS ? S_PURGE_LIM : S_PURGE_REC, params,
		  "purge", err);
	if (res == NULL)
		return -1;
	*done_r = atol(PQcmdTuples(res));
	PQclear(res);
	return 0;
}

static int
pg_stats(struct rv_txn *txn, long long now, struct rv_store_stats *s,
	 struct rv_err *err)
{
	char n[24];
	const char *params[] = { n };
	PGresult *res;

	snprintf(n, sizeof(n), "%lld", now);
	if ((res = run(txn, S_STATS, params, "stats", err)) == NULL)
		return -1;
	s->users = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	s->records = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	s->live_records = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	s->windows = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	s->audit = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	PQclear(res);
	return 0;
}

const struct rv_store_backend rv_store_pg = {
	.name = "pgsql",
	.open = pg_open,
	.close = pg_close,
	.reset = pg_reset,
	.begin = pg_begin,
	.commit = pg_commit,
	.abort = pg_abort,
	.get = pg_get,
	.find = pg_find,
	.put = pg_put,
	.del = pg_del,
	.each_user = pg_each_user,
	.each_window = pg_each_window,
	.each_record = pg_each_record,
	.audit_head = pg_audit_head,
	.audit_append = pg_audit_append,
	.audit_each = pg_audit_each,
	.audit_del = pg_audit_del,
	.audit_anchor = pg_audit_anchor,
	.purge = pg_purge,
	.stats = pg_stats,
	.ping = pg_ping,
	.idle = NULL,
	.backup = NULL,
	.recover = NULL,
	.migrate = pg_migrate,
};
