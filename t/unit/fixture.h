/* fixture.h: the setup the C unit tests share: a temporary directory,
 * files in it, and a store (Berkeley DB in it, or a PostgreSQL database) */
#ifndef RV_FIXTURE_H
#define RV_FIXTURE_H

struct rv_conf;
struct rv_record;
struct rv_store;
struct rv_user;

/* Makes a fresh directory /tmp/rv-unit-NAME.XXXXXX and returns its path
 * (static storage, valid until fixture_cleanup). One per test program.
 * On failure prints "Bail out!" and exits 1. */
const char *fixture_dir(const char *name);

/* The path of NAME in the directory (static buffer, valid until the next
 * call). Bails out when the path does not fit. */
const char *fixture_path(const char *name);

/* Writes TEXT to the file NAME of the directory (replacing it); removes
 * the file NAME. Both bail out on failure. */
void fixture_put(const char *name, const char *text);
void fixture_rm(const char *name);

/*
 * The backend the store of fixture_store is on, from the environment:
 * "bdb" when REVERIFY_TEST_STORE is unset, empty or "bdb"; "pgsql" when it
 * is "pgsql" (REVERIFY_TEST_PGHOST then names the socket directory of a
 * throw-away cluster whose superuser "reverify" is trusted, e.g. from
 * t/lib/pgcluster start). Bails out on another value. Static string.
 */
const char *fixture_backend(void);

/*
 * Fills *conf with rv_conf_defaults, its store home the directory's
 * "home" and its audit key the directory's "audit.key" (made: the chain
 * is keyed), and opens (creating) the store; the caller may change *conf
 * before the calls that use it. On "pgsql" (fixture_backend) the store is
 * a fresh database of this program (rvu_NAME_PID) in the cluster of
 * REVERIFY_TEST_PGHOST, made here with CREATE DATABASE (conf->store_backend
 * RV_STORE_PGSQL, conf->store_conninfo "host=DIR dbname=DB user=reverify";
 * the home still holds the pepper and the audit key); in a build without
 * PostgreSQL support the program skips (TAP skip-all, exit 0), so call it
 * before the first check. Bails out when the store does not open.
 * fixture_cleanup closes the store, drops the database and releases *conf.
 */
struct rv_store *fixture_store(struct rv_conf *conf);

/*
 * A second, independent handle on the store of fixture_store (its conf,
 * without creating): for a child after fork(), which opens its own and
 * must never use or close the parent's (a child that closed an inherited
 * PostgreSQL connection would end the parent's session); such a child
 * ends with _exit. NULL with a diagnostic line when it does not open.
 * The caller closes it (rv_store_close).
 */
struct rv_store *fixture_store_open(void);

/* Stores u, then r (either may be NULL), in one transaction of st;
 * 0, or -1 with a diagnostic line. */
int fixture_store_put(struct rv_store *st, struct rv_user *u,
		      struct rv_record *r);

/* The record id of st into *r (initialised here; a record holds no
 * allocation): 1 found, 0 not, -1 error (with a diagnostic line). */
int fixture_store_get(struct rv_store *st, const char *id,
		      struct rv_record *r);

/* Sets the store's clock (rv_store_set_clock) to a clock of the fixture
 * at start_ms (epoch ms) and returns the time it tells: a test moves the
 * clock by writing through the pointer. */
long long *fixture_clock(long long start_ms);

/* Closes the store and releases the conf of fixture_store (if any), drops
 * its PostgreSQL database (if any), and removes the directory with
 * everything in it (if any). In the process that made them only. */
void fixture_cleanup(void);

#endif
