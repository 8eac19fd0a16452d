/* fixture.c: the setup the C unit tests share (see fixture.h) */
#include "config.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-store.h"
#include "rv-util.h"
#include "tap.h"

static char fx_dir[128];
static char fx_path[512];
static struct rv_store *fx_store;
static struct rv_conf *fx_conf;

static void
bail(const char *what, const char *detail)
{
	printf("Bail out! fixture: %s%s%s\n", what, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
	exit(1);
}

const char *
fixture_dir(const char *name)
{
	if (fx_dir[0] != '\0')
		bail("one directory per test program", fx_dir);
	if ((size_t)snprintf(fx_dir, sizeof(fx_dir), "/tmp/rv-unit-%s.XXXXXX",
			     name) >= sizeof(fx_dir))
		bail("name too long", name);
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

struct rv_store *
fixture_store(struct rv_conf *conf)
{
	struct rv_err err;

	if (fx_store != NULL)
		bail("one store per test program", NULL);
	rv_conf_defaults(conf);
	free(conf->store_home);
	conf->store_home = rv_xstrdup(fixture_path("home"));
	fx_conf = conf;
	rv_err_init(&err);
	if (rv_store_open(conf, true, &fx_store, &err) < 0)
		bail("cannot open the store", err.msg);
	rv_err_release(&err);
	return fx_store;
}

void
fixture_cleanup(void)
{
	char cmd[sizeof(fx_dir) + 16];

	if (fx_store != NULL)
		rv_store_close(&fx_store);
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
