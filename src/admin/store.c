/* store.c: reverify-admin init, purge, record handle, backup, recover
 * and stats: the store as a whole */
#include "config.h"
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rv-account.h"
#include "rv-auth.h"
#include "rv-mint.h"
#include "rv-store.h"
#include "rv-util.h"

/* ---- init ------------------------------------------------------------- */

static int
init_key(struct admin *a, bool *created_r)
{
	const char *key = a->conf.auth_local_key, *jwks = a->conf.auth_jwks;

	if (key == NULL || *key == '\0' || exists(key))
		return 0;
	if (rv_auth_keygen(key, jwks, false, &a->err) < 0)
		return error_err(&a->err);
	note(a, "created the signing key '%s' and added its public key to '%s'",
	     key, jwks);
	*created_r = true;
	return 0;
}

int
cmd_init(struct admin *a, int argc, char **argv)
{
	const char *home = a->conf.store_home;
	char *pepper = rv_conf_pepper_path(&a->conf), *db = rv_xasprintf("%s/users.db", home);
	const char *akey = a->conf.audit_key;
	bool had_home = exists(home), had_pepper = exists(pepper), had_db = exists(db);
	bool had_akey = akey == NULL || *akey == '\0' || exists(akey);
	bool pgsql = a->conf.store_backend == RV_STORE_PGSQL, created = false;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		goto out;
	rc = EXIT_FAIL;
	if (pgsql) {
		/* the schema is there when a store opens without creating */
		struct rv_store *probe = NULL;
		struct rv_err perr;

		rv_err_init(&perr);
		had_db = had_home && had_pepper &&
			 rv_store_open(&a->conf, false, &probe, &perr) == 0;
		rv_store_close(&probe);
		rv_err_release(&perr);
	}
	if (open_store(a, true) < 0)
		goto out;
	if (!had_home)
		note(a, "created the store home '%s'", home);
	if (!had_pepper)
		note(a, "created the pepper file '%s'", pepper);
	if (!had_db && pgsql)
		note(a, "created the reverify schema in the PostgreSQL database");
	else if (!had_db)
		note(a, "created the databases in '%s'", home);
	if (!had_akey && !rv_store_audit_keyed(a->st)) {
		fail("cannot create the audit key file '%s': its directory does not "
		     "exist (create it, or set <audit key>)", akey);
		goto out;
	}
	if (!had_akey)
		note(a, "created the audit key file '%s'", akey);
	if (init_key(a, &created) < 0)
		goto out;
	if (had_home && had_pepper && had_db && had_akey && !created)
		note(a, "nothing to do: '%s' is initialised already", home);
	rc = EXIT_OK;
out:
	free(pepper);
	free(db);
	return rc;
}

/* ---- maintenance: purge, record handle, backup, recover, stats -------- */

int
cmd_purge(struct admin *a, int argc, char **argv)
{
	long n = 0;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_purge(a->st, 0, &n, &a->err) < 0)
		return fail_err(&a->err);
	note(a, "purged %ld", n);
	/* <audit retention>: the cron job or timer of purge applies it */
	if (a->conf.audit_retention > 0 &&
	    audit_prune(a, rv_store_now() - a->conf.audit_retention * 86400000LL) < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}

/* Lists, audit entries and log lines name records by their handle only
 * (issue 14, F1): this finds the entries of an id a user reports. */
int
cmd_record_handle(struct admin *a, int argc, char **argv)
{
	char handle[RV_HANDLE_LEN + 1];
	const char *id;
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	id = argv[optind];
	if (!rv_record_id_valid(id))
		return usage_error(a, "a record id is %d of [0-9a-z]", RV_RECORD_ID_LEN);
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	rv_account_handle(a->st, id, handle);
	puts(handle);
	return EXIT_OK;
}

int
cmd_backup(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 1, 1)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_backup(a->st, argv[optind], &a->err) < 0)
		return fail_err(&a->err);
	note(a, "backed up '%s' to '%s'", a->conf.store_home, argv[optind]);
	return EXIT_OK;
}

int
cmd_recover(struct admin *a, int argc, char **argv)
{
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (!exists(a->conf.store_home))
		return fail("the store home '%s' does not exist", a->conf.store_home);
	if (rv_store_recover(&a->conf, &a->err) < 0)
		return fail_err(&a->err);
	note(a, "recovered '%s'", a->conf.store_home);
	return EXIT_OK;
}

int
cmd_stats(struct admin *a, int argc, char **argv)
{
	struct rv_store_stats s;
	json_t *j;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_stats(a->st, &s, &a->err) < 0)
		return fail_err(&a->err);
	j = json_pack("{s:I, s:I, s:I, s:I, s:I}", "users", (json_int_t)s.users,
		      "records", (json_int_t)s.records, "liveRecords",
		      (json_int_t)s.live_records, "windows", (json_int_t)s.windows,
		      "auditEntries", (json_int_t)s.audit);
	print_json(j);
	json_decref(j);
	return EXIT_OK;
}
