/* fuzz-jwks.c: the JWKS file <auth jwks> as rv_auth_setup() loads it
 *
 * The input is the file's contents; it is written to a private directory
 * and loaded. A key set that loads is released again (the next input
 * starts from none).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-auth.h"

static struct rv_conf conf;
static char path[4300];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	snprintf(path, sizeof(path), "%s/jwks.json", fuzz_tmpdir());
	rv_conf_defaults(&conf);
	fuzz_set_str(&conf.auth_jwks, path);
	fuzz_set_str(&conf.auth_issuer, "https://id.example.com/oidc");
	fuzz_set_str(&conf.auth_audience, "https://api.example.com");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_err err;

	fuzz_write_file(path, data, size);
	rv_err_init(&err);
	rv_auth_setup(&conf, &err);
	rv_auth_release();
	rv_err_release(&err);
	return 0;
}
