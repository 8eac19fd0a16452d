/* fixture.h: the setup the C unit tests share: a temporary directory,
 * files in it, and a store in it */
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

/* Fills *conf with rv_conf_defaults, its store home the directory's
 * "home", and opens (creating) the store there; the caller may change
 * *conf before the calls that use it. Bails out when the store does not
 * open. fixture_cleanup closes the store and releases *conf. */
struct rv_store *fixture_store(struct rv_conf *conf);

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

/* Closes the store and releases the conf of fixture_store (if any), and
 * removes the directory with everything in it (if any). */
void fixture_cleanup(void);

#endif
