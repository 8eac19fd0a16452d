/* config.c: reverify-admin config check: the effective configuration
 * and its weak settings */
#include "config.h"
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef HAVE_PGSQL
#include <libpq-fe.h>
#endif

#include "rv-buf.h"
#include "rv-conf.h"

/* ---- config check ----------------------------------------------------- */

static void
warn_auth(const struct admin *a, const struct rv_conf *c)
{
	if (c->auth_mode == RV_CONF_AUTH_REMOTE_USER) {
		warning("<auth mode=\"remote-user\">: reverify trusts REMOTE_USER; "
			"the web server must authenticate every request");
		return;
	}
	if (*c->auth_issuer == '\0')
		warning("<auth issuer> is empty: jwt mode refuses to start without it");
	if (*c->auth_audience == '\0')
		warning("<auth audience> is empty: jwt mode refuses to start without it");
	if (*c->auth_first_party == '\0')
		warning("<auth first-party> is empty: every client is a third party "
			"and gets 403 on changes");
	if (*c->auth_local_key != '\0' && !exists(c->auth_local_key) && !a->quiet)
		fprintf(stderr, "%s: note: the local key '%s' does not exist yet "
			"(reverify-admin init creates it)\n", PROG, c->auth_local_key);
}

static void
warn_store(const struct rv_conf *c)
{
	char *pepper = rv_conf_pepper_path(c);
	struct stat sb;

	if (!c->store_users_sync)
		warning("<store users-sync=\"no\">: user changes may be lost in a crash");
	if (stat(pepper, &sb) == 0 && (sb.st_mode & S_IROTH))
		warning("the pepper file '%s' is readable by anyone (chmod 600)", pepper);
	free(pepper);
	if (c->audit_key == NULL || *c->audit_key == '\0')
		warning("<audit key> is empty: the audit chain is plain SHA-256, which "
			"anyone who can write the store can rewrite");
	else if (!exists(c->audit_key))
		warning("the audit key file '%s' does not exist: the audit chain is "
			"not keyed (reverify-admin init creates it)", c->audit_key);
	else if (stat(c->audit_key, &sb) == 0 && (sb.st_mode & (S_IRWXG | S_IRWXO)))
		warning("the audit key file '%s' is open to group or others: "
			"programs refuse it (chmod 600)", c->audit_key);
}

/* With PostgreSQL: a conninfo that libpq cannot read, and a connection
 * over TCP that is not verified TLS (the users' password hashes and the
 * code hashes cross the network). */
static void
warn_pgsql(const struct rv_conf *c)
{
#ifdef HAVE_PGSQL
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL, *sslmode = NULL;
	char *msg = NULL;

	if (c->store_backend != RV_STORE_PGSQL)
		return;
	if ((opts = PQconninfoParse(c->store_conninfo, &msg)) == NULL) {
		warning("libpq cannot read <store conninfo>: %.*s",
			msg ? (int)strcspn(msg, "\n") : 0, msg ? msg : "");
		PQfreemem(msg);
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "sslmode") == 0)
			sslmode = o->val;
	}
	/* a host that is not a directory (several may be listed) is TCP */
	if ((hostaddr != NULL || (host != NULL && (*host != '/' ||
						   strstr(host, ",") != NULL))) &&
	    (sslmode == NULL || (strcmp(sslmode, "verify-full") != 0 &&
				 strcmp(sslmode, "verify-ca") != 0)))
		warning("<store conninfo> reaches PostgreSQL over TCP without "
			"sslmode=verify-full: password and code hashes cross the "
			"network unverified");
	PQconninfoFree(opts);
#else
	if (c->store_backend == RV_STORE_PGSQL)
		warning("<store backend=\"pgsql\">: this build has no PostgreSQL "
			"support (configure found no libpq)");
#endif
}

int
cmd_config_check(struct admin *a, int argc, char **argv)
{
	struct rv_buf out = RV_BUF_INIT;
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 1)) != EXIT_OK)
		return rc;
	if (load_conf(a, optind < argc ? argv[optind] : NULL) < 0)
		return EXIT_FAIL;
	rv_conf_dump(&a->conf, &out);
	fwrite(out.buf, 1, out.len, stdout);
	rv_buf_release(&out);
	warn_auth(a, &a->conf);
	warn_store(&a->conf);
	warn_pgsql(&a->conf);
	if (a->conf.http_cors && !a->quiet)
		fprintf(stderr, "%s: note: <http cors=\"yes\">: browsers on any origin "
			"may call the API, as with Logto\n", PROG);
	return EXIT_OK;
}
