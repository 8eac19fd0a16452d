/* fuzz-hash.c: the password-hash string parsers of every scheme, and the
 * NFKC form of a password
 *
 * The input is password NUL hash. The hash goes through the scheme table
 * (rv_password_scheme, rv_password_describe: they must agree), the rehash
 * test, and a verify against the password. The password goes through
 * rv_pwnorm (its NFKC form must be NFKC again unchanged) and, when it is
 * UTF-8, both forms are verified against the hash. The cost caps of <password> are
 * set to their lowest allowed values, as a site may, so that a hash can
 * only cost what the configuration lets it; anything that still runs long
 * is a missing cap (libFuzzer reports it as a timeout).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-password.h"
#include "rv-pwnorm.h"

static struct rv_conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	rv_conf_defaults(&conf);
	conf.pw_max_argon2_memory = 4096;	/* KiB */
	conf.pw_max_argon2_time = 3;
	conf.pw_max_bcrypt_cost = 5;
	conf.pw_max_pbkdf2_iterations = 5000;
	conf.pw_max_crypt_rounds = 5000;
	return 0;
}

/* NFKC is idempotent; the two forms verify as one would. */
static void
check_forms(const char *password, const char *h)
{
	char *n1 = NULL, *n2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct rv_err err;
	bool raw_only;
	int r;

	rv_err_init(&err);
	if (rv_pwnorm(password, strlen(password), &n1, &l1, &err) == 0) {
		if (rv_pwnorm(n1, l1, &n2, &l2, &err) < 0 || l1 != l2 ||
		    memcmp(n1, n2, l1) != 0) {
			fprintf(stderr, "NFKC is not idempotent\n");
			abort();
		}
		r = rv_password_verify_forms(password, strlen(password), n1, l1, h,
					     &conf, &raw_only, &err);
		if (r < -1 || r > 1 || (raw_only && r != 1))
			abort();
	} else if (err.status != 400) {
		abort();
	}
	rv_pwnorm_free(&n1, l1);
	rv_pwnorm_free(&n2, l2);
	rv_err_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rv_pw_scheme *s;
	const char *desc;
	const uint8_t *hash;
	size_t hash_len;
	struct rv_err err;
	char *password, *h;
	int r;

	fuzz_split(data, size, &password, &hash, &hash_len);
	h = fuzz_strndup(hash, hash_len);
	s = rv_password_scheme(h);
	desc = rv_password_describe(h);
	if ((s == NULL) != (desc == NULL)) {
		fprintf(stderr, "scheme %s but description %s\n",
			s ? s->name : "(none)", desc ? desc : "(none)");
		abort();
	}
	(void)rv_password_needs_rehash(h, &conf);
	rv_err_init(&err);
	r = rv_password_verify(password, strlen(password), h, &conf, &err);
	if (r < -1 || r > 1 || (r == 1 && s == NULL))
		abort();
	rv_err_release(&err);
	check_forms(password, h);
	free(password);
	free(h);
	return 0;
}
