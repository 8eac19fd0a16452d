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
