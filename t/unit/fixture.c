/* fixture.c: the setup the C unit tests share (see fixture.h) */
#include "config.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_PGSQL
#include <libpq-fe.h>
#endif

#include "rv-buf.h"
#include "rv-conf.h"
#include "rv-err.h"
#include "rv-store.h"
#include "rv-util.h"
#include "tap.h"

static char fx_dir[128];
static char fx_name[128];	/* of fixture_dir */
static char fx_path[512];
static struct rv_store *fx_store;
static struct rv_conf *fx_conf;
static pid_t fx_pid;		/* the process of fixture_dir */
#ifdef HAVE_PGSQL
static char fx_db[64];		/* the database of fixture_store, or "" */
static void pg_drop(void);
#endif

static void
bail(const char *what, const char *detail)
{
	printf("Bail out! fixture: %s%s%s\n", what, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
#ifdef HAVE_PGSQL
	pg_drop();
#endif
	exit(1);
}

const char *
fixture_dir(const char *name)
{
	if (fx_dir[0] != '\0')
		bail("one directory per test program", fx_dir);
	if ((size_t)snprintf(fx_dir, sizeof(fx_dir), "/tmp/rv-unit-%s.XXXXXX",
			     name) >= sizeof(fx_dir) ||
	    strlen(name) >= sizeof(fx_name)) {
		fx_dir[0] = '\0';
		bail("name too long", name);
	}
	rv_strlcpy(fx_name, name, sizeof(fx_name));
	fx_pid = getpid();
	if (mkdtemp(fx_dir) == NULL) {
		fx_dir[0] = '\0';
		bail("cannot make a temporary directory", name);
	}
	return fx_dir;
}

const char *
fixture_path(const char *name)
{
	if (fx_dir[0] == '\0')
		bail("no directory (fixture_dir)", name);
	if ((size_t)snprintf(fx_path, sizeof(fx_path), "%s/%s", fx_dir,
			     name) >= sizeof(fx_path))
		bail("path too long", name);
	return fx_path;
}

void
fixture_put(const char *name, const char *text)
{
	const char *path = fixture_path(name);
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		bail("cannot write", path);
	if (fputs(text, f) == EOF || fclose(f) != 0)
		bail("cannot write", path);
}

void
fixture_rm(const char *name)
{
	const char *path = fixture_path(name);

	if (unlink(path) != 0)
		bail("cannot remove", path);
}

const char *
fixture_backend(void)
{
	const char *s = getenv("REVERIFY_TEST_STORE");

	if (s == NULL || *s == '\0' || strcmp(s, "bdb") == 0)
		return "bdb";
	if (strcmp(s, "pgsql") == 0)
		return "pgsql";
	bail("REVERIFY_TEST_STORE is neither bdb nor pgsql", s);
	return NULL;
}

#ifdef HAVE_PGSQL
static void
pg_quiet(void *arg, const char *message)
{
	(void)arg;	/* "database ... does not exist, skipping" */
	(void)message;
}

/* A connection as reverify to the database postgres of the cluster in
 * REVERIFY_TEST_PGHOST, for CREATE and DROP DATABASE. When it is NULL or
 * not CONNECTION_OK, *why says why (valid until PQfinish). */
static PGconn *
pg_admin(const char **why)
{
	const char *keys[] = { "host", "dbname", "user", "connect_timeout",
			       "application_name", NULL };
	const char *vals[] = { getenv("REVERIFY_TEST_PGHOST"), "postgres",
			       "reverify", "10", "reverify-unit-fixture", NULL };
	PGconn *c;

	if (vals[0] == NULL || *vals[0] == '\0') {
		*why = "REVERIFY_TEST_STORE=pgsql needs REVERIFY_TEST_PGHOST, the "
		       "socket directory of a cluster (t/lib/pgcluster start)";
		return NULL;
	}
	c = PQconnectdbParams(keys, vals, 0);
	if (c != NULL)
		PQsetNoticeProcessor(c, pg_quiet, NULL);
	if (c == NULL || PQstatus(c) != CONNECTION_OK)
		*why = c != NULL ? PQerrorMessage(c) : "out of memory";
	return c;
}

/* Runs sql (a command) on c: 0, or -1 with a diagnostic line. */
static int
pg_run(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		diag("fixture: %s: %s", sql, PQerrorMessage(c));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/*
 * A value for a conninfo: as it is when it holds no space, quote or
 * backslash, else in single quotes with those escaped (libpq's keyword
 * form); malloc'd.
 */
static char *
conninfo_value(const char *v)
{
	struct rv_buf b = RV_BUF_INIT;

	if (*v != '\0' && strpbrk(v, " \t\n\r\f\v'\\") == NULL)
		return rv_xstrdup(v);
	rv_buf_addstr(&b, "'");
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			rv_buf_addstr(&b, "\\");
		rv_buf_add(&b, v, 1);
	}
	rv_buf_addstr(&b, "'");
	return rv_buf_detach(&b, NULL);
}

/* Makes the database of this program, rvu_NAME_PID ([a-z0-9_], at most
 * 63 bytes), and points conf at it. */
static void
pg_create(struct rv_conf *conf)
{
	char pid[24], sql[128], *host;
	const char *why = NULL;
	size_t i, n, room;
	PGconn *c;

	snprintf(pid, sizeof(pid), "_%ld", (long)getpid());
	/* "rvu_" + the name, cut to fit + "_PID" */
	room = 63 - 4 - strlen(pid);
	n = strlen(fx_name) < room ? strlen(fx_name) : room;
	memcpy(fx_db, "rvu_", 4);
	for (i = 0; i < n; i++) {
		char ch = rv_ascii_lower(fx_name[i]);

		fx_db[4 + i] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ?
			       ch : '_';
	}
	rv_strlcpy(fx_db + 4 + n, pid, sizeof(fx_db) - 4 - n);
	if ((c = pg_admin(&why)) == NULL || PQstatus(c) != CONNECTION_OK) {
		char msg[512], *p;

		rv_strlcpy(msg, why, sizeof(msg));
		for (p = msg; *p; p++)	/* libpq's lines, on the one of TAP */
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		while (p > msg && p[-1] == ' ')
			*--p = '\0';
		PQfinish(c);
		fx_db[0] = '\0';
		bail("cannot reach the PostgreSQL cluster", msg);
	}
	/* a leftover of an earlier run with this pid goes first */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", fx_db);
	if (pg_run(c, sql) < 0) {
		PQfinish(c);
		fx_db[0] = '\0';
		bail("cannot drop a leftover database", sql);
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", fx_db);
	if (pg_run(c, sql) < 0) {
		PQfinish(c);
		fx_db[0] = '\0';
		bail("cannot create the database", sql);
	}
	PQfinish(c);
	host = conninfo_value(getenv("REVERIFY_TEST_PGHOST"));
	conf->store_backend = RV_STORE_PGSQL;
	free(conf->store_conninfo);
	conf->store_conninfo = rv_xasprintf("host=%s dbname=%s user=reverify",
					    host, fx_db);
	free(host);
}

/* Drops the database of pg_create, if any, in the process that made it. */
static void
pg_drop(void)
{
	const char *why = NULL;
	char sql[128];
	PGconn *c;

	if (fx_db[0] == '\0' || getpid() != fx_pid)
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", fx_db);
	if ((c = pg_admin(&why)) == NULL || PQstatus(c) != CONNECTION_OK)
		diag("fixture: cannot drop the database %s: %s", fx_db, why);
	else
		pg_run(c, sql);
	PQfinish(c);
	fx_db[0] = '\0';
}
#endif

struct rv_store *
fixture_store(struct rv_conf *conf)
{
	struct rv_err err;
	bool pgsql = strcmp(fixture_backend(), "pgsql") == 0;

	if (fx_store != NULL)
		bail("one store per test program", NULL);
#ifndef HAVE_PGSQL
	if (pgsql) {
		fixture_cleanup();
		skip_all("no PostgreSQL support in this build");
	}
#endif
	rv_conf_defaults(conf);
	free(conf->store_home);
	conf->store_home = rv_xstrdup(fixture_path("home"));
	/* the default names a file under sysconfdir: a test keeps to its
	 * directory, and its chain is keyed */
	free(conf->audit_key);
	conf->audit_key = rv_xstrdup(fixture_path("audit.key"));
	fx_conf = conf;
#ifdef HAVE_PGSQL
	if (pgsql)
		pg_create(conf);
#endif
	rv_err_init(&err);
	if (rv_store_open(conf, true, &fx_store, &err) < 0)
		bail("cannot open the store", err.msg);
	rv_err_release(&err);
	return fx_store;
}

struct rv_store *
fixture_store_open(void)
{
	struct rv_store *st = NULL;
	struct rv_err err;

	if (fx_conf == NULL) {
		diag("fixture: no store (fixture_store) to open again");
		return NULL;
	}
	rv_err_init(&err);
	if (rv_store_open(fx_conf, false, &st, &err) < 0)
		diag("fixture: cannot open the store again: %s", err.msg);
	rv_err_release(&err);
	return st;
}

void
fixture_cleanup(void)
{
	char cmd[sizeof(fx_dir) + 16];

	if (fx_pid != 0 && getpid() != fx_pid)
		return;		/* a child's: the parent cleans up */
	if (fx_store != NULL)
		rv_store_close(&fx_store);
#ifdef HAVE_PGSQL
	pg_drop();
#endif
	if (fx_conf != NULL) {
		rv_conf_release(fx_conf);
		fx_conf = NULL;
	}
	if (fx_dir[0] == '\0')
		return;
	/* the name is ours: /tmp/rv-unit-NAME.XXXXXX, no quote in it */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", fx_dir);
	fx_dir[0] = '\0';
}

struct fx_put {
	struct rv_user *u;
	struct rv_record *r;
	const char *get;
	int rc;
};

static int
fx_put_body(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct fx_put *p = vctx;

	(void)st;
	if (p->get != NULL) {
		p->rc = rv_store_record_get(txn, p->get, false, p->r, err);
		return p->rc < 0 ? -1 : 0;
	}
	if (p->u != NULL && rv_store_user_put(txn, p->u, err) < 0)
		return -1;
	if (p->r != NULL && rv_store_record_put(txn, p->r, err) < 0)
		return -1;
	return 0;
}

int
fixture_store_put(struct rv_store *st, struct rv_user *u, struct rv_record *r)
{
	struct fx_put p = { u, r, NULL, 0 };
	struct rv_err err;
	int rc;

	rv_err_init(&err);
	if ((rc = rv_store_txn(st, fx_put_body, &p, &err)) < 0)
		diag("fixture: cannot store: %s", err.msg);
	rv_err_release(&err);
	return rc;
}

int
fixture_store_get(struct rv_store *st, const char *id, struct rv_record *r)
{
	struct fx_put p = { NULL, r, id, 0 };
	struct rv_err err;

	rv_record_init(r);
	rv_err_init(&err);
	if (rv_store_txn(st, fx_put_body, &p, &err) < 0) {
		diag("fixture: cannot read record '%s': %s", id, err.msg);
		p.rc = -1;
	}
	rv_err_release(&err);
	return p.rc;
}

static long long fx_now_ms;

static long long
fx_clock(void)
{
	return fx_now_ms;
}

long long *
fixture_clock(long long start_ms)
{
	fx_now_ms = start_ms;
	rv_store_set_clock(fx_clock);
	return &fx_now_ms;
}
