/* rv-store.c: the store's front: open, the transaction runner, documents */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-json.h"
#include "rv-log.h"
#include "rv-util.h"

#define MAX_TRIES 8

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
	sigset_t all, old;
	pthread_t t;
	int rc;

	if (watching)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* every signal for the main thread: SIGTERM must interrupt its
	 * accept, and SIGCHLD reach the delivery runner's signalfd (a
	 * process-directed signal goes to any thread that does not block
	 * it; t/unit/deliver) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((rc = pthread_create(&t, &attr, watchdog, NULL)) == 0)
		watching = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		rv_log_warnx("store: no watchdog: %s", strerror(rc));
	pthread_attr_destroy(&attr);
}

/* ---- documents ----------------------------------------------------------- */

int
rv_store_fail(struct rv_txn *txn, enum rv_store_fault f)
{
	if (txn->fault == RV_FAULT_NONE || f == RV_FAULT_RESET ||
	    f == RV_FAULT_UNKNOWN)
		txn->fault = f;
	return -1;
}

void
rv_store_doc_free(char *doc, size_t len)
{
	if (doc != NULL) {
		rv_wipe(doc, len);
		free(doc);
	}
}

int
rv_store_load_json(const char *doc, size_t len, json_t **j_r,
		   struct rv_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(doc, len, 0, &je);

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
	struct rv_buf b;

	/* rv_json_dump writes jansson's compact form (t/unit/json) at a third
	 * of json_dumps' cost; a grown buffer leaves no copy of a user's
	 * password hash behind */
	rv_buf_init(&b);
	b.secret = true;
	rv_buf_grow(&b, 1024);
	rv_json_dump(j, &b);
	return rv_buf_detach(&b, len_r);
}

int
rv_store_get_doc(struct rv_txn *txn, enum rv_table t, const char *key,
		 bool for_update, struct rv_doc *d, struct rv_err *err)
{
	char *doc;
	size_t len;
	int rc;

	if (txn->fault != RV_FAULT_NONE)
		return -1;
	rc = txn->st->be->get(txn, t, key, for_update, &doc, &len, err);
	if (rc != 1)
		return rc;
	if (rv_store_doc_parse(doc, len, d, err) < 0) {
		rv_store_doc_free(doc, len);
		return rv_store_fail(txn, RV_FAULT_FAIL);
	}
	d->raw = doc;
	d->rawlen = len;
	return 1;
}

int
rv_store_put_json(struct rv_txn *txn, enum rv_table t, const char *key,
		  const struct rv_cols *cols, json_t *j, int *clash_r,
		  struct rv_err *err)
{
	size_t len;
	char *s;
	int rc;

	if (txn->fault != RV_FAULT_NONE)
		return -1;
	s = rv_store_dump_json(j, &len);
	rc = txn->st->be->put(txn, t, key, cols, s, len, clash_r, err);
	rv_store_doc_free(s, len);
	if (rc == 0)
		txn->wrote |= t;
	return rc;
}

/* ---- index keys --------------------------------------------------------- */

char *
rv_store_fold(enum rv_user_key key, const char *value)
{
	return key == RV_USER_KEY_PHONE ? rv_xstrdup(value) : fold(value);
}

/* ---- open and close -------------------------------------------------------- */

static const struct rv_store_backend *
backend_of(const struct rv_conf *conf, struct rv_err *err)
{
	if (conf->store_backend == RV_STORE_BDB)
		return &rv_store_bdb;
#ifdef HAVE_PGSQL
	return &rv_store_pg;
#else
	rv_err_set(err, RV_E_INTERNAL, "<store backend=\"pgsql\">: this build has "
		   "no PostgreSQL support (configure --with-pgsql, with libpq-dev)");
	return NULL;
#endif
}

/* The home: with bdb the environment, with pgsql the pepper's directory. */
static int
check_home(const struct rv_conf *conf, bool create, struct rv_err *err)
{
	struct stat sb;

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
	return 0;
}

int
rv_store_open(const struct rv_conf *conf, bool create, struct rv_store **st_r,
	      struct rv_err *err)
{
	const struct rv_store_backend *be;
	struct rv_store *st;

	*st_r = NULL;
	if ((be = backend_of(conf, err)) == NULL || check_home(conf, create, err) < 0)
		return -1;
	st = rv_xcalloc(1, sizeof(*st));
	st->be = be;
	st->pepper_path = rv_conf_pepper_path(conf);
	if (conf->audit_key != NULL && *conf->audit_key != '\0')
		st->audit_key_path = rv_xstrdup(conf->audit_key);
	st->sync_users = conf->store_users_sync;
	st->sync_records = conf->store_records_sync;
	st->sync_limits = conf->store_limits_sync;
	if (rv_store_load_pepper(st, create, err) < 0 ||
	    rv_store_load_audit_key(st, create, err) < 0 ||
	    be->open(conf, create, &st->h, err) < 0) {
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
	if (st->h != NULL)
		st->be->close(st->h);
	rv_wipe(st->pepper, sizeof(st->pepper));
	rv_wipe(st->audit_key, sizeof(st->audit_key));
	rv_hmac_forget();	/* the keyed copies of both */
	free(st->pepper_path);
	free(st->audit_key_path);
	free(st);
	*stp = NULL;
}

int
rv_store_ping(struct rv_store *st, struct rv_err *err)
{
	if (st->be->ping == NULL)
		return 0;
	if (st->be->ping(st->h, err) == 0)
		return 0;
	/* once more on a new connection: the server may have restarted */
	rv_err_release(err);
	if (st->be->reset(st->h, err) < 0)
		return -1;
	return st->be->ping(st->h, err);
}

const char *
rv_store_backend_name(const struct rv_store *st)
{
	return st->be->name;
}

/* ---- transactions -------------------------------------------------------- */

/*
 * The store picks durability from what was written: users by <store
 * users-sync>, records and limits by their own settings, and an audit
 * entry as the change it records (an entry alone, as users-sync says).
 * After a power loss the last second of codes, records and counters may
 * be gone, and their audit entries with them: the chain stays whole,
 * since the log keeps commit order (doc/design-notes.md).
 */
static bool
sync_for(const struct rv_store *st, unsigned wrote)
{
	unsigned data = wrote & (RV_T_USERS | RV_T_RECORDS | RV_T_LIMITS);

	if (data == 0)
		return (wrote & RV_T_AUDIT) && st->sync_users;
	return ((data & RV_T_USERS) && st->sync_users) ||
	       ((data & RV_T_RECORDS) && st->sync_records) ||
	       ((data & RV_T_LIMITS) && st->sync_limits);
}

static int
txn_run(struct rv_store *st, rv_store_txn_fn *body, void *ctx,
	struct rv_err *err)
{
	bool reset = false;
	int attempt, rc;

	for (attempt = 0; attempt < MAX_TRIES; attempt++) {
		struct rv_txn txn = { st, NULL, 0, RV_FAULT_NONE };

		if (st->be->begin(&txn, err) == 0) {
			rc = body(st, &txn, ctx, err);
			if (rc == 0 && txn.fault == RV_FAULT_NONE) {
				if (st->be->commit(&txn, sync_for(st, txn.wrote), err) == 0)
					return 0;
			} else {
				st->be->abort(&txn);
			}
		}
		switch (txn.fault) {
		case RV_FAULT_NONE:	/* the body said no: its answer */
			return -1;
		case RV_FAULT_RETRY: {
			struct timespec pause = { 0, (long)(1 + attempt * 3) * 1000000L };

			rv_log_debug("store: transaction retried (%s)", err ? err->msg : "");
			rv_err_release(err);
			nanosleep(&pause, NULL);
			continue;
		}
		case RV_FAULT_RESET:
			if (reset)
				return -1;
			reset = true;
			rv_err_release(err);
			if (st->be->reset(st->h, err) < 0)
				return -1;
			continue;
		case RV_FAULT_UNKNOWN:
		case RV_FAULT_FAIL:
			return -1;
		}
	}
	rv_err_set(err, RV_E_UNAVAILABLE, "store: too busy after %d tries",
		   MAX_TRIES);
	rv_err_header(err, "Retry-After", "1");
	return -1;
}

/*
 * A process that a signal ends inside a Berkeley DB transaction can leave
 * a mutex of the shared region held, and every other process of the site
 * waits for it for ever: a web server that ends a CGI program whose
 * client went away (lighttpd's mod_cgi sends SIGTERM) did just that to
 * cgi-status at 64 connections (issue 17). The signals that end a
 * program by default wait until the transaction is over; a FastCGI
 * worker's SIGTERM handler only sets a flag, so it loses nothing either.
 * SIGKILL cannot wait; SIGALRM does not, since the CGI alarm of
 * rv-main.c is for a process stuck in here.
 */
int
rv_store_txn(struct rv_store *st, rv_store_txn_fn *body, void *ctx,
	     struct rv_err *err)
{
	sigset_t hold, old;
	int rc;

	sigemptyset(&hold);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGQUIT);
	sigprocmask(SIG_BLOCK, &hold, &old);
	__atomic_store_n(&busy_since, rv_mono_ms(), __ATOMIC_RELAXED);
	rc = txn_run(st, body, ctx, err);
	__atomic_store_n(&busy_since, 0, __ATOMIC_RELAXED);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ---- maintenance ------------------------------------------------------------- */

/* at most this many deletions per transaction: a purge must stay within
 * Berkeley DB's lock table, whatever the backlog (doc/performance.md,
 * "Growth") */
#define PURGE_CHUNK 100

struct purge_ctx {
	enum rv_table t;
	long max, done;
	long long now;
};

static int
purge_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct purge_ctx *p = vctx;

	if (st->be->purge(txn, p->t, p->now, p->max, &p->done, err) < 0)
		return -1;
	if (p->done > 0)
		txn->wrote |= p->t;
	return 0;
}

int
rv_store_purge(struct rv_store *st, long max, long *purged_r, struct rv_err *err)
{
	static const enum rv_table tables[] = { RV_T_RECORDS, RV_T_LIMITS };
	struct purge_ctx p;
	long total = 0, left;
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		p.t = tables[i];
		p.now = rv_store_now();
		do {
			left = max ? max - total : PURGE_CHUNK;
			if (left <= 0)
				break;
			p.max = left < PURGE_CHUNK ? left : PURGE_CHUNK;
			p.done = 0;
			if (rv_store_txn(st, purge_body, &p, err) < 0)
				return -1;
			total += p.done;
		} while (p.done == p.max);
	}
	if (purged_r != NULL)
		*purged_r = total;
	rv_store_idle(st);
	return 0;
}

void
rv_store_idle(struct rv_store *st)
{
	if (st->be->idle != NULL && st->h != NULL)
		st->be->idle(st->h);
}

static int
stats_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	return st->be->stats(txn, rv_store_now(), vctx, err);
}

int
rv_store_stats(struct rv_store *st, struct rv_store_stats *s, struct rv_err *err)
{
	memset(s, 0, sizeof(*s));
	return rv_store_txn(st, stats_body, s, err);
}

int
rv_store_backup(struct rv_store *st, const char *dir, struct rv_err *err)
{
	if (st->be->backup == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the %s store has no backup of its own: use the "
				  "database's tools (for PostgreSQL: pg_dump -Fc DBNAME "
				  "> FILE, or continuous archiving), and keep the pepper "
				  "file apart", st->be->name);
	return st->be->backup(st->h, dir, err);
}

int
rv_store_recover(const struct rv_conf *conf, struct rv_err *err)
{
	const struct rv_store_backend *be = backend_of(conf, err);

	if (be == NULL)
		return -1;
	if (be->recover == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the %s store recovers by itself: nothing to do",
				  be->name);
	return be->recover(conf, err);
}

int
rv_store_migrate(struct rv_store *st, int *from_r, int *to_r, struct rv_err *err)
{
	*from_r = *to_r = 0;
	if (st->be->migrate == NULL)
		return 0;
	return st->be->migrate(st->h, from_r, to_r, err);
}
