/* unit/pwnorm: rv-pwnorm.c (NFKC of a password, UTF-8 checked) and
 * rv_password_verify_forms() (a hash of the raw bytes, imported) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-password.h"
#include "rv-pwnorm.h"
#include "rv-pwpolicy.h"
#include "rv-util.h"
#include "tap.h"

static struct rv_conf conf;

/* The NFKC form of s, or "ERROR status code" (a static buffer). */
static const char *
nfkc(const char *s, size_t len)
{
	static char out[4096];
	struct rv_err err;
	char *n;
	size_t nlen;

	rv_err_init(&err);
	if (rv_pwnorm(s, len, &n, &nlen, &err) < 0) {
		snprintf(out, sizeof(out), "ERROR %d %s", err.status,
			 err.code ? err.code : "(null)");
		if (n != NULL || nlen != 0)
			rv_strlcpy(out, "ERROR: output set on failure", sizeof(out));
		rv_err_release(&err);
		return out;
	}
	if (strlen(n) != nlen)
		rv_strlcpy(out, "ERROR: length", sizeof(out));
	else
		rv_strlcpy(out, n, sizeof(out));
	rv_pwnorm_free(&n, nlen);
	if (n != NULL)
		rv_strlcpy(out, "ERROR: not freed", sizeof(out));
	rv_err_release(&err);
	return out;
}

static const char *
nfkc_str(const char *s)
{
	return nfkc(s, strlen(s));
}

static void
test_nfkc(void)
{
	is_str(nfkc_str("kV9#mQ2!xL correct"), "kV9#mQ2!xL correct",
	       "ASCII is its own normal form (spaces kept)");
	is_str(nfkc_str("\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbc\x91"),
	       "pass1", "fullwidth ｐａｓｓ１ is pass1");
	is_str(nfkc_str("\xef\xac\x81le\xef\xac\x82ow"), "fileflow",
	       "compatibility ligatures ﬁ and ﬂ are fi and fl");
	is_str(nfkc_str("cafe\xcc\x81"), "caf\xc3\xa9",
	       "e + combining acute (U+0301) composes to é (U+00E9)");
	is_str(nfkc_str("caf\xc3\xa9"), "caf\xc3\xa9", "precomposed é stays");
	is_str(nfkc_str("\xe2\x84\xab"), "\xc3\x85", "the angstrom sign is Å");
	is_str(nfkc_str("x\xc2\xb2"), "x2", "superscript two is 2");
	is_str(nfkc_str("a\xc2\xa0" "b"), "a b", "a no-break space is a space");
	is_str(nfkc_str("\xe3\x82\xab\xe3\x82\x99"), "\xe3\x82\xac",
	       "katakana ka + combining voiced mark is ga");
	is_str(nfkc_str("\xef\xbd\xb6\xef\xbe\x9e"), "\xe3\x82\xac",
	       "halfwidth katakana ka + voiced mark is ga too");
	is_str(nfkc_str("\xf0\x9f\x94\x91"), "\xf0\x9f\x94\x91", "an emoji stays");
	is_str(nfkc_str(""), "", "the empty string");
}

static void
test_invalid(void)
{
	is_str(nfkc_str("kV9#\xffx"), "ERROR 400 guard.invalid_input",
	       "a 0xff byte: 400 guard.invalid_input");
	is_str(nfkc_str("kV9#\xc0\xafx"), "ERROR 400 guard.invalid_input",
	       "an overlong form: 400");
	is_str(nfkc_str("kV9#\xed\xa0\x80x"), "ERROR 400 guard.invalid_input",
	       "an encoded surrogate: 400");
	is_str(nfkc_str("kV9#\xf4\x90\x80\x80"), "ERROR 400 guard.invalid_input",
	       "a code point above U+10FFFF: 400");
	is_str(nfkc_str("kV9#\xe2\x82"), "ERROR 400 guard.invalid_input",
	       "a cut sequence at the end: 400");
	is_str(nfkc("kV9#\0x", 6), "ERROR 400 guard.invalid_input",
	       "a NUL byte: 400");
}

static void
test_long(void)
{
	/* U+FDFA (3 bytes) is 18 code points (33 bytes) in NFKC: 200 of them
	 * are 6600 bytes, past the buffer rv_pwnorm() starts with */
	char in[601], *n;
	size_t i, nlen;
	struct rv_err err;

	for (i = 0; i < 200; i++)
		memcpy(in + 3 * i, "\xef\xb7\xba", 3);
	in[600] = '\0';
	rv_err_init(&err);
	ok(rv_pwnorm(in, 600, &n, &nlen, &err) == 0 && nlen == 6600 &&
	   strlen(n) == 6600 && memcmp(n, "\xd8\xb5\xd9\x84\xd9\x89", 6) == 0,
	   "a long expansion (600 bytes to 6600) is whole and NUL-terminated");
	rv_pwnorm_free(&n, nlen);
	rv_err_release(&err);
}

/* Length in characters, counted on the NFKC form by the policy. */
static void
test_policy_length(void)
{
	struct rv_err err;
	char *n;
	size_t nlen;

	rv_err_init(&err);
	/* ﬁﬁﬂﬂ: 4 code points typed, 8 once normal */
	rv_pwnorm("\xef\xac\x81\xef\xac\x81\xef\xac\x82\xef\xac\x82", 12, &n,
		  &nlen, &err);
	is_int(rv_pwpolicy_check(&conf, n, nlen, NULL, &err), 0,
	       "ﬁﬁﬂﬂ (4 characters typed) is fififlfl, 8 characters: long enough");
	rv_pwnorm_free(&n, nlen);
	rv_err_release(&err);
	rv_err_init(&err);
	/* 7 letters with combining accents: 14 code points typed, 7 normal */
	rv_pwnorm("e\xcc\x81" "a\xcc\x80" "o\xcc\x88" "u\xcc\x88" "i\xcc\x81"
		  "e\xcc\x80" "a\xcc\x81", 21, &n, &nlen, &err);
	is_int(rv_pwpolicy_check(&conf, n, nlen, NULL, &err), -1,
	       "7 accented letters typed as 14 code points are 7 characters: too short");
	is_str(err.code, "password.rejected", "password.rejected");
	rv_pwnorm_free(&n, nlen);
	rv_err_release(&err);
}

/* A hash made from the raw bytes (imported) and one from the NFKC form. */
static void
test_verify_forms(void)
{
	static const char raw[] = "\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
		"-\xef\xac\x81sh-42";	/* Ｐａｓｓ-ﬁsh-42 */
	static const char norm[] = "Pass-fish-42";
	struct rv_err err;
	char *h_raw = NULL, *h_norm = NULL;
	bool raw_only;

	rv_err_init(&err);
	is_str(nfkc_str(raw), norm, "Ｐａｓｓ-ﬁsh-42 is Pass-fish-42");
	ok(rv_password_hash(raw, strlen(raw), &conf, &h_raw, &err) == 0 &&
	   rv_password_hash(norm, strlen(norm), &conf, &h_norm, &err) == 0,
	   "a hash of the raw bytes and one of the NFKC form");
	is_int(rv_password_verify_forms(raw, strlen(raw), norm, strlen(norm), h_raw,
					&conf, &raw_only, &err), 1,
	       "a raw-bytes hash (imported) matches the raw form");
	ok(raw_only, "and says only the raw form matched (rehash it)");
	is_int(rv_password_verify_forms(raw, strlen(raw), norm, strlen(norm), h_norm,
					&conf, &raw_only, &err), 1,
	       "an NFKC hash matches what was typed in another spelling");
	ok(!raw_only, "by its NFKC form: nothing to rehash");
	is_int(rv_password_verify_forms(norm, strlen(norm), norm, strlen(norm), h_raw,
					&conf, &raw_only, &err), 0,
	       "the raw-bytes hash does not match the NFKC form alone");
	is_int(rv_password_verify_forms("Pass-fish-43", 12, "Pass-fish-43", 12, h_norm,
					&conf, &raw_only, &err), 0,
	       "a wrong password matches neither");
	ok(!raw_only, "and sets nothing");
	is_int(rv_password_verify_forms(norm, strlen(norm), norm, strlen(norm), "$9$x",
					&conf, &raw_only, &err), -1,
	       "a hash of no known scheme: -1");
	rv_err_release(&err);
	free(h_raw);
	free(h_norm);
}

/* bcrypt: legacy hashes as their origin made them; no new truncation. */
static void
test_bcrypt(void)
{
	char pw[81], other[81], *h = NULL;
	struct rv_err err;

	memset(pw, 'k', 80);
	pw[80] = '\0';
	memcpy(other, pw, sizeof(other));
	memset(other + 72, 'Z', 8);
	rv_err_init(&err);
	conf.pw_scheme = RV_PW_BCRYPT;
	is_int(rv_password_hash(pw, 80, &conf, &h, &err), -1,
	       "no new bcrypt hash of 80 bytes (it would read 72)");
	is_str(err.code, "guard.invalid_input", "refused as input");
	rv_err_release(&err);
	/* $2b$04$, cost 4, of 80 'k' made by libxcrypt: as an imported
	 * hash from a system that truncated */
	ok(rv_password_hash(pw, 72, &conf, &h, &err) == 0,
	   "a bcrypt hash of the first 72 bytes");
	is_int(rv_password_verify(pw, 80, h, &conf, &err), 1,
	       "legacy bcrypt: all 80 bytes match, as crypt(3) reads 72");
	is_int(rv_password_verify(other, 80, h, &conf, &err), 1,
	       "legacy bcrypt: another 80 bytes with the same first 72 match too");
	is_int(rv_password_verify(pw, 71, h, &conf, &err), 0,
	       "legacy bcrypt: 71 bytes do not");
	conf.pw_scheme = RV_PW_ARGON2ID;
	rv_err_release(&err);
	free(h);
}

int
main(void)
{
	rv_conf_defaults(&conf);
	conf.pp_reject_pwned = false;
	/* cheap hashes: the tests are about forms, not cost */
	conf.pw_argon2_memory = 1024;
	conf.pw_argon2_time = 1;
	conf.pw_bcrypt_cost = 4;

	test_nfkc();
	test_invalid();
	test_long();
	test_policy_length();
	test_verify_forms();
	test_bcrypt();

	rv_conf_release(&conf);
	return done_testing();
}
