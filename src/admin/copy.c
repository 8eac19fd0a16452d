/* copy.c: reverify-admin store copy and migrate: moving a site between
 * backends, and bringing a database's schema up to date */
#include "config.h"
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-crypto.h"
#include "rv-store.h"
#include "rv-util.h"

/*
 * store copy reads the source in chunks, each chunk in a transaction of
 * its own, and writes each chunk in one transaction of the destination:
 * neither store holds a long transaction, and a chunk's read that the
 * source retries starts again from the chunk's beginning. The site should
 * be stopped meanwhile (reverify-admin(8) says so): what changes in the
 * source during the copy may or may not be copied.
 */
#define CHUNK 200

struct copy {
	struct admin *a;
	struct rv_store *dst;
	struct rv_err derr;
	bool tty;
	/* the users' ids, then the windows' keys, gathered first */
	char **keys;
	size_t n, cap;
	/* a chunk */
	size_t from, to;
	struct rv_user users[CHUNK];
	struct rv_record *recs;
	size_t nrecs, caprecs;
	struct rv_window wins[CHUNK];
	json_t *entries;	/* audit entries of a chunk */
	long long audit_from, audit_last;
	/* counts */
	long long n_users, n_records, n_windows, n_audit;
};

static void
progress(const struct copy *c, const char *what, long long done, long long total)
{
	if (c->tty)
		fprintf(stderr, "\r%s: %lld of %lld", what, done, total);
	if (c->tty && done == total)
		fputc('\n', stderr);
}

static void
add_key(struct copy *c, const char *key)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->keys = rv_xrealloc(c->keys, c->cap * sizeof(*c->keys));
	}
	c->keys[c->n++] = rv_xstrdup(key);
}

static void
drop_keys(struct copy *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
	c->keys = NULL;
	c->n = c->cap = 0;
}

/* ---- users and their records ---- */

static int
gather_user(const struct rv_user *u, void *vctx)
{
	add_key(vctx, u->id);
	return 0;
}

static int
gather_users(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;

	(void)st;
	drop_keys(c);	/* a retried walk starts again */
	return rv_store_user_each(txn, gather_user, c, err);
}

static int
gather_record(const struct rv_record *r, void *vctx)
{
	struct copy *c = vctx;

	if (c->nrecs == c->caprecs) {
		c->caprecs = c->caprecs ? 2 * c->caprecs : 64;
		c->recs = rv_xrealloc(c->recs, c->caprecs * sizeof(*c->recs));
	}
	c->recs[c->nrecs++] = *r;
	return 0;
}

static void
release_chunk(struct copy *c)
{
	size_t i;

	for (i = 0; i < CHUNK; i++)
		rv_user_release(&c->users[i]);
	if (c->recs != NULL)
		rv_wipe(c->recs, c->caprecs * sizeof(*c->recs));
	c->nrecs = 0;
}

static int
read_users(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;
	size_t i;
	int rc;

	(void)st;
	release_chunk(c);
	for (i = c->from; i < c->to; i++) {
		rc = rv_store_user_get(txn, c->keys[i], false, &c->users[i - c->from], err);
		if (rc < 0)
			return -1;
		if (rc == 0)	/* deleted meanwhile */
			continue;
		if (rv_store_record_each_user(txn, c->keys[i], false, gather_record, c, err) < 0)
			return -1;
	}
	return 0;
}

static int
write_users(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;
	size_t i;

	(void)st;
	for (i = 0; i < c->to - c->from; i++)
		if (c->users[i].id[0] != '\0' && rv_store_user_put(txn, &c->users[i], err) < 0)
			return -1;
	for (i = 0; i < c->nrecs; i++)
		if (rv_store_record_put(txn, &c->recs[i], err) < 0)
			return -1;
	return 0;
}

static int
copy_users(struct copy *c)
{
	struct admin *a = c->a;
	size_t i;

	if (rv_store_txn(a->st, gather_users, c, &a->err) < 0)
		return error_err(&a->err);
	for (c->from = 0; c->from < c->n; c->from = c->to) {
		c->to = c->from + CHUNK < c->n ? c->from + CHUNK : c->n;
		if (rv_store_txn(a->st, read_users, c, &a->err) < 0)
			return error_err(&a->err);
		if (rv_store_txn(c->dst, write_users, c, &c->derr) < 0)
			return error("the destination: %s", c->derr.msg);
		for (i = 0; i < c->to - c->from; i++)
			c->n_users += c->users[i].id[0] != '\0';
		c->n_records += (long long)c->nrecs;
		progress(c, "users", (long long)c->to, (long long)c->n);
	}
	release_chunk(c);
	return 0;
}

/* ---- windows ---- */

static int
gather_window(const char *key, const struct rv_window *w, void *vctx)
{
	(void)w;
	add_key(vctx, key);
	return 0;
}

static int
gather_windows(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;

	(void)st;
	drop_keys(c);
	return rv_store_window_each(txn, gather_window, c, err);
}

static int
read_windows(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;
	size_t i;

	(void)st;
	for (i = c->from; i < c->to; i++)
		if (rv_store_window_get(txn, c->keys[i], &c->wins[i - c->from], err) < 0)
			return -1;
	return 0;
}

static int
write_windows(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;
	size_t i;

	(void)st;
	for (i = 0; i < c->to - c->from; i++)
		if (c->wins[i].n > 0 || c->wins[i].blocked_until > 0)
			if (rv_store_window_put(txn, c->keys[c->from + i], &c->wins[i], err) < 0)
				return -1;
	return 0;
}

static int
copy_windows(struct copy *c)
{
	struct admin *a = c->a;

	if (rv_store_txn(a->st, gather_windows, c, &a->err) < 0)
		return error_err(&a->err);
	for (c->from = 0; c->from < c->n; c->from = c->to) {
		c->to = c->from + CHUNK < c->n ? c->from + CHUNK : c->n;
		if (rv_store_txn(a->st, read_windows, c, &a->err) < 0)
			return error_err(&a->err);
		if (rv_store_txn(c->dst, write_windows, c, &c->derr) < 0)
			return error("the destination: %s", c->derr.msg);
		progress(c, "windows", (long long)c->to, (long long)c->n);
	}
	c->n_windows = (long long)c->n;
	drop_keys(c);
	return 0;
}

/* ---- the audit chain ---- */

static int
gather_entry(json_t *e, void *vctx)
{
	struct copy *c = vctx;
	long long seq = json_integer_value(json_object_get(e, "_key"));

	if (seq <= c->audit_last) {	/* the walk was retried: start again */
		json_array_clear(c->entries);
		c->audit_last = c->audit_from - 1;
	}
	if (json_array_size(c->entries) >= CHUNK)
		return 1;	/* a chunk is full: stop here */
	json_array_append(c->entries, e);
	c->audit_last = seq;
	return 0;
}

static int
write_entries(struct rv_store *st, struct rv_txn *txn, void *vctx, struct rv_err *err)
{
	struct copy *c = vctx;
	size_t i;
	json_t *e;

	(void)st;
	json_array_foreach(c->entries, i, e) {
		long long seq = json_integer_value(json_object_get(e, "_key"));
		json_t *copy = json_copy(e);
		int rc;

		json_object_del(copy, "_key");
		rc = rv_store_audit_copy(txn, seq, copy, err);
		json_decref(copy);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
copy_audit(struct copy *c, long long total)
{
	struct admin *a = c->a;
	size_t n;

	c->entries = json_array();
	/* from 0: the prune anchor first, when there is one */
	for (c->audit_from = 0;; c->audit_from = c->audit_last + 1) {
		json_array_clear(c->entries);
		c->audit_last = c->audit_from - 1;
		if (rv_store_audit_each(a->st, c->audit_from, gather_entry, c, &a->err) < 0) {
			json_decref(c->entries);
			return error_err(&a->err);
		}
		if ((n = json_array_size(c->entries)) == 0)
			break;
		if (rv_store_txn(c->dst, write_entries, c, &c->derr) < 0) {
			json_decref(c->entries);
			return error("the destination: %s", c->derr.msg);
		}
		c->n_audit += (long long)n;
		progress(c, "audit entries", c->n_audit, total);
	}
	json_decref(c->entries);
	return 0;
}

/* ---- the command ---- */

static int
open_dst(struct copy *c, const char *path, struct rv_conf *conf)
{
	struct rv_store_stats s;

	if (rv_conf_load(path, conf, &c->derr) < 0)
		return error("%s", c->derr.msg);
	if (rv_store_open(conf, false, &c->dst, &c->derr) < 0)
		return error("the destination: %s (run reverify-admin -c %s init "
			     "first, with the source's pepper file in place)",
			     c->derr.msg, path);
	if (!rv_memeq_secret(rv_store_pepper(c->a->st), rv_store_pepper(c->dst), 32))
		return error("the two stores have different peppers: give the "
			     "destination the source's pepper file (<store pepper>)");
	if (rv_store_stats(c->dst, &s, &c->derr) < 0)
		return error("the destination: %s", c->derr.msg);
	if (s.users || s.records || s.windows || s.audit)
		return error("the destination store is not empty (%lld users, %lld "
			     "records, %lld windows, %lld audit entries): copy into a "
			     "new one", s.users, s.records, s.windows, s.audit);
	return 0;
}

int
cmd_store_copy(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct rv_audit_check check;
	struct rv_conf dconf;
	struct copy c;
	const char *to = NULL;
	long long count, bad;
	int ch, rc = EXIT_FAIL;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 't')
			return EXIT_USAGE;
		else
			to = optarg;
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (to == NULL)
		return usage_error(a, "--to names the destination's configuration");
	memset(&c, 0, sizeof(c));
	c.a = a;
	c.tty = isatty(STDERR_FILENO);
	rv_err_init(&c.derr);
	memset(&dconf, 0, sizeof(dconf));
	rc = EXIT_FAIL;
	if (open_store(a, false) < 0)
		goto out;
	/* a chain that does not verify is not copied: it is evidence */
	memset(&check, 0, sizeof(check));
	if (rv_store_audit_check(a->st, &check, &a->err) != 1) {
		fail_err(&a->err);
		goto out;
	}
	if (open_dst(&c, to, &dconf) < 0)
		goto out;
	if (copy_users(&c) < 0 || copy_windows(&c) < 0 ||
	    copy_audit(&c, check.count + (check.anchor_seq > 0)) < 0)
		goto out;
	if (rv_store_audit_verify(c.dst, &count, &bad, &c.derr) != 1) {
		fail("the copy's audit chain does not verify: %s (is <audit key> "
		     "the same file for both?)", c.derr.msg);
		goto out;
	}
	note(a, "copied %lld users, %lld live records, %lld windows and %lld audit "
	     "entries (%s to %s); the copy's audit chain verifies",
	     c.n_users, c.n_records, c.n_windows, c.n_audit,
	     rv_store_backend_name(a->st), rv_store_backend_name(c.dst));
	rc = EXIT_OK;
out:
	drop_keys(&c);
	free(c.recs);
	rv_store_close(&c.dst);
	rv_conf_release(&dconf);
	rv_err_release(&c.derr);
	return rc;
}

int
cmd_migrate(struct admin *a, int argc, char **argv)
{
	int rc, from, to;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_migrate(a->st, &from, &to, &a->err) < 0)
		return fail_err(&a->err);
	if (from == 0 && to == 0)
		note(a, "the %s store has no schema to migrate",
		     rv_store_backend_name(a->st));
	else if (from == to)
		note(a, "the schema is up to date (version %d)", to);
	else
		note(a, "migrated the schema from version %d to %d", from, to);
	return EXIT_OK;
}
