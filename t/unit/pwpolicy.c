/* unit/pwpolicy: rv-pwpolicy.c: the policy for new passwords
 * (logto-spec 6.5.3; PU-3 and IP-3 of 8.1.1 and 8.1.2) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-pwpolicy.h"
#include "rv-util.h"
#include "tap.h"

#define PREFIX "password_rejected."

static struct rv_conf conf;

/*
 * The issues of one check as their codes without "password_rejected.",
 * separated by spaces: "" when the password passes, "ERROR status code"
 * when the answer is not a 422 password.rejected with a list of issues.
 */
static const char *
issues_ui(const char *pw, size_t len, const struct rv_pw_userinfo *ui)
{
	static char out[512];
	struct rv_err err;
	json_t *o;
	size_t i;

	out[0] = '\0';
	rv_err_init(&err);
	if (rv_pwpolicy_check(&conf, pw, len, ui, &err) == 0) {
		if (err.code != NULL || err.data != NULL)
			rv_strlcpy(out, "ERROR: err set on success", sizeof(out));
		rv_err_release(&err);
		return out;
	}
	if (err.status != 422 || err.code == NULL ||
	    strcmp(err.code, "password.rejected") != 0 || !json_is_array(err.data)) {
		snprintf(out, sizeof(out), "ERROR %d %s", err.status,
			 err.code ? err.code : "(null)");
		rv_err_release(&err);
		return out;
	}
	json_array_foreach(err.data, i, o) {
		const char *code = json_string_value(json_object_get(o, "code"));

		if (code == NULL)
			code = "(no code)";
		else if (strncmp(code, PREFIX, strlen(PREFIX)) == 0)
			code += strlen(PREFIX);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? " " : "", code);
	}
	rv_err_release(&err);
	return out;
}

static const char *
issues(const char *pw)
{
	return issues_ui(pw, strlen(pw), NULL);
}

/* err->data of one check as compact JSON ("" when it passes). */
static const char *
data_json(const char *pw)
{
	static char out[1024];
	struct rv_err err;
	char *s;

	out[0] = '\0';
	rv_err_init(&err);
	if (rv_pwpolicy_check(&conf, pw, strlen(pw), NULL, &err) < 0 &&
	    err.data != NULL) {
		s = json_dumps(err.data, JSON_COMPACT);
		rv_strlcpy(out, s, sizeof(out));
		free(s);
	}
	rv_err_release(&err);
	return out;
}

static void
set(char **field, const char *v)
{
	free(*field);
	*field = rv_xstrdup(v);
}

/* Writes a list file with the given contents; caller must free() the name. */
static char *
write_list(const char *data, size_t len)
{
	char *path = rv_xstrdup("/tmp/rv-pwpolicy-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror("write_list");
		exit(99);
	}
	close(fd);
	return path;
}

/* Loads the list at path with reject-pwned on; returns rv_pwpolicy_init(). */
static int
load(const char *path, struct rv_err *err)
{
	set(&conf.pp_pwned_list, path);
	conf.pp_reject_pwned = true;
	return rv_pwpolicy_init(&conf, err);
}

static void
test_logto_cases(void)
{
	/* PU-3, IP-3: 6 < 8; on the list; the run 1-6 covers 6 > max(1, 3) */
	is_str(issues("123456"), "too_short pwned restricted.sequence",
	       "123456: too_short, pwned, restricted.sequence (PU-3, IP-3)");
	is_str(data_json("123456"),
	       "[{\"code\":\"password_rejected.too_short\",\"interpolation\":{\"min\":8}},"
	       "{\"code\":\"password_rejected.pwned\"},"
	       "{\"code\":\"password_rejected.restricted.sequence\"}]",
	       "123456: Logto's shape, interpolation only where there is one");
	is_str(issues("kV9#mQ2!xL"), "", "a strong password passes (PU-5, IP-2)");
	is_str(issues("correct horse battery staple"), "",
	       "spaces are symbols; a long passphrase passes");
}

static void
test_length_and_types(void)
{
	is_str(issues("Ab1!x"), "too_short", "5 characters: too_short alone");
	is_str(data_json("Ab1!x"),
	       "[{\"code\":\"password_rejected.too_short\",\"interpolation\":{\"min\":8}}]",
	       "too_short carries {min: 8}");
	is_str(issues("kV9#mQ2!"), "", "exactly the minimum passes");
	conf.pp_max_length = 10;
	is_str(issues("kV9#mQ2!xLz"), "too_long", "11 characters with max 10: too_long");
	is_str(data_json("kV9#mQ2!xLz"),
	       "[{\"code\":\"password_rejected.too_long\",\"interpolation\":{\"max\":10}}]",
	       "too_long carries {max: 10}");
	is_str(issues("kV9#mQ2!xL"), "", "exactly the maximum passes");
	conf.pp_max_length = 256;

	conf.pp_character_types = 2;
	is_str(issues("kvqmxlzrwt"), "character_types",
	       "lowercase only with character-types 2");
	is_str(data_json("kvqmxlzrwt"),
	       "[{\"code\":\"password_rejected.character_types\",\"interpolation\":{\"min\":2}}]",
	       "character_types carries {min: 2}");
	is_str(issues("kvqmxlzrwT"), "", "lowercase and uppercase make 2");
	is_str(issues("kvqmxlzrw "), "", "a space is a symbol");
	conf.pp_character_types = 4;
	is_str(issues("kV9qmxlzrw"), "character_types", "3 of 4 classes with character-types 4");
	is_str(issues("kV9#mxlzrw"), "", "all 4 classes");
	conf.pp_character_types = 1;
}

static void
test_unsupported(void)
{
	/* Unicode is accepted (NIST SP 800-63B-4 3.1.1.2, ASVS 6.2.5) */
	is_str(issues("p\xc3\xa4sswW\xc3\xb6rd123"), "",
	       "pässwWörd123: non-ASCII letters are accepted");
	is_str(issues("p\xc3\xa4ssw\xc3\xb6" "1"), "too_short",
	       "length counts code points: pässwö1 (9 bytes) is 7 characters");
	is_str(issues("\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa9\xc3\xa8\xc3\xaa\xc3\xab"),
	       "", "8 non-ASCII letters (16 bytes): long enough, symbols, passes");
	is_str(issues("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe5\xaf\x86"),
	       "too_short", "5 CJK characters (15 bytes) are 5, too short");
	is_str(issues("\xf0\x9f\x94\x91 \xe6\x97\xa5\xe6\x9c\xac kV9#"), "",
	       "an emoji, spaces, CJK and ASCII together: 10 characters, passes");
	is_str(issues("correct horse staple"), "", "spaces are allowed");
	is_str(issues("kV9#mQ2\xc2\x85x"), "unsupported_characters",
	       "a C1 control character (U+0085) is unsupported");
	is_str(issues("kV9#mQ2\tx"), "unsupported_characters", "a tab is a control character");
	is_str(issues("kV9#mQ2\x7fx"), "unsupported_characters", "so is DEL");
	is_str(issues_ui("kV9#\0mQ2x", 9, NULL), "unsupported_characters",
	       "a NUL byte inside the password");
	is_str(issues("kV9#mQ2\xffx"), "unsupported_characters", "a 0xff byte is not UTF-8");
	is_str(issues("kV9#mQ2\xc0\xafx"), "unsupported_characters", "an overlong form is not UTF-8");
	is_str(issues("kV9#mQ2\xed\xa0\x80x"), "unsupported_characters",
	       "an encoded surrogate is not UTF-8");
	is_str(issues("kV9#mQ\xe2\x82"), "unsupported_characters",
	       "a cut sequence counts byte by byte (6 + 2 = 8 characters, not short)");
}

static void
test_pwned(void)
{
	is_str(issues("iloveyou"), "pwned", "iloveyou: pwned alone");
	is_str(issues("Iloveyou"), "", "the list is case-sensitive");
	is_str(issues("P@ssw0rd"), "pwned", "P@ssw0rd: from a lowercase SHA-1 line");
	is_str(issues("Passw0rd!"), "pwned", "Passw0rd!: from an uppercase SHA-1 line");
	is_str(issues("Welcome123"), "pwned", "Welcome123: from a SHA-1:count line");
	is_str(issues("Qwerty123!"), "pwned restricted.sequence",
	       "Qwerty123!: pwned, and qwerty + 123 cover 9 of 10 > 7");
	is_str(issues("tinkerbell"), "pwned", "the last plain line counts");
}

static void
test_repetition_sequence(void)
{
	is_str(issues("aaaaaaaaaaab"), "restricted.repetition",
	       "aaaaaaaaaaab: 11 of 12 > 9 covered by a run");
	is_str(issues("aaaXy7#kLmPq"), "", "aaaXy7#kLmPq: runs cover 3 <= 9, passes");
	is_str(issues("aAaAaAaAaX1"), "restricted.repetition",
	       "repetition ignores case (9 of 11 > 8)");
	is_str(issues("zyxwvutsrq"), "restricted.sequence", "zyxwvutsrq: descending alphabet");
	is_str(issues("qwertyuiopas"), "restricted.sequence",
	       "qwertyuiopas: a keyboard row covers 10 of 12 > 9");
	is_str(issues("AbCdEfGh1!"), "restricted.sequence", "sequences ignore case");
	is_str(issues("asdfghjkl;"), "restricted.sequence", "the home row");
	is_str(issues("lkjhgfds!X"), "restricted.sequence", "a row backwards (8 of 10)");
	is_str(issues("x7890#Y12!"), "", "7890 on the digits row: 4 of 10, passes");
	is_str(issues("W!7890123"), "restricted.sequence",
	       "7890 (digits row) and 0123 (digits): 7 of 9 > 6");
	is_str(issues("abc123xyz!"), "restricted.sequence",
	       "three short runs together: 9 of 10 > 7");
	is_str(issues("acegikmoqs"), "", "every other letter is no sequence");

	/* exactly at max(1, length - 3) */
	is_str(issues("aaaaaaaX9#"), "", "repetition covering len-3 (7 of 10): not reported");
	is_str(issues("aaaaaaaaX9"), "restricted.repetition",
	       "repetition covering len-2 (8 of 10): reported");
	is_str(issues("abcdefgX9#"), "", "sequence covering len-3 (7 of 10): not reported");
	is_str(issues("abcdefghX#"), "restricted.sequence",
	       "sequence covering len-2 (8 of 10): reported");
	conf.pp_min_length = 1;
	is_str(issues("aaab"), "restricted.repetition", "4 characters: 3 > max(1, 1)");
	is_str(issues("aab"), "", "no run of 3");
	is_str(issues("901"), "", "901: the digits row does not wrap around");
	is_str(issues("0987"), "restricted.sequence", "0987: the digits row backwards");
	conf.pp_min_length = 8;

	is_str(issues("aaaaaa"), "too_short pwned restricted.repetition",
	       "aaaaaa: short, pwned and repeated");
	conf.pp_reject_repetition = false;
	is_str(issues("123456"), "too_short pwned", "reject-repetition no: no sequence");
	is_str(issues("aaaaaaaaaaab"), "", "reject-repetition no: no repetition");
	conf.pp_reject_repetition = true;
}

static void
test_user_info(void)
{
	struct rv_pw_userinfo ui = {
		.name = "Ada Lovelace",
		.username = "johnsmith",
		.email = "Alice.Wonder@example.com",
		.phone = "4915112345678",
	};
	struct rv_pw_userinfo none = { 0 };

#define UI(pw) issues_ui(pw, strlen(pw), &ui)
	is_str(UI("johnsmith1!"), "restricted.user_info", "the username (9 of 11 > 8)");
	is_str(UI("JOHNSMITH1!"), "restricted.user_info", "in any case");
	is_str(UI("alice.wonder9"), "restricted.user_info",
	       "the e-mail local part (12 of 13 > 10)");
	is_str(UI("xample.com#1Q"), "", "the e-mail domain does not count");
	is_str(UI("4915112345678#"), "restricted.user_info",
	       "the phone (13 of 14 > 11); its 12345678 alone covers 8, no sequence");
	is_str(UI("lovelace-Ada"), "restricted.user_info",
	       "the name's words (11 of 12 > 9)");
	is_str(UI("adalovelace1"), "restricted.user_info", "the name without its space");
	is_str(UI("Lovelace2024!x"), "", "a word of the name covering 8 of 14: passes");
	is_str(UI("johnsmit#9"), "restricted.user_info",
	       "pieces of 3 or more count, not just the whole value (8 of 10)");
	is_str(issues_ui("johnsmith1!", 11, &none), "", "no user info: nothing to match");
	is_str(issues_ui("johnsmith1!", 11, NULL), "", "ui NULL: nothing to match");
	conf.pp_reject_user_info = false;
	is_str(UI("johnsmith1!"), "", "reject-user-info no");
	conf.pp_reject_user_info = true;
#undef UI
}

static void
test_words(void)
{
	set(&conf.pp_reject_words, "reverify acme");
	is_str(issues("ReVerify#Acme"), "restricted.words", "two words cover 12 of 13 > 10");
	is_str(issues("reverify2025!x9"), "", "one word covering 8 of 15: passes");
	is_str(issues("ACMEACME#1"), "restricted.words", "case-insensitive, every occurrence");
	set(&conf.pp_reject_words, "");
	is_str(issues("ReVerify#Acme"), "", "no words configured");
}

static void
test_order(void)
{
	struct rv_pw_userinfo ui = { .username = "aaaa" };

	conf.pp_character_types = 2;
	set(&conf.pp_reject_words, "aaa");
	is_str(issues_ui("aaaaaa", 6, &ui),
	       "too_short character_types pwned restricted.repetition "
	       "restricted.user_info restricted.words",
	       "six issues in Logto's order");
	is_str(issues_ui("aaaaaaaa\x01", 9, &ui),
	       "character_types unsupported_characters restricted.repetition "
	       "restricted.user_info restricted.words",
	       "five issues: unsupported comes after character_types");
	conf.pp_character_types = 1;
	set(&conf.pp_reject_words, "");
}

static void
test_message(void)
{
	struct rv_err err;

	rv_err_init(&err);
	ok(rv_pwpolicy_check(&conf, "iloveyou", 8, NULL, &err) < 0 &&
	   strstr(err.msg, "iloveyou") == NULL && strstr(err.msg, "pwned") != NULL,
	   "the log message names the issues, not the password (\"%s\")", err.msg);
	rv_err_release(&err);
	ok(rv_pwpolicy_check(&conf, "iloveyou", 8, NULL, NULL) < 0,
	   "err may be NULL");
}

static void
test_lists(const char *sample)
{
	static const char custom[] =
		"\xef\xbb\xbf" "primo\r\n"
		"# a comment\n"
		"\n"
		"with trailing space \n"
		"21BD12DC183F740EE76F27B78EB39C8AD972A757:42\n"
		"7c4a8d09ca3762af61e59520943dc26494f8941b\n"
		"last-no-newline";
	struct rv_err err;
	char *path;

	/* a list of our own, in every form */
	path = write_list(custom, sizeof(custom) - 1);
	rv_err_init(&err);
	is_int(load(path, &err), 0, "a list with a BOM, CRLF, comments and hashes loads");
	rv_err_release(&err);
	conf.pp_min_length = 1;
	is_str(issues("primo"), "pwned", "the first line, after the BOM and without CR");
	is_str(issues("with trailing space "), "pwned", "a trailing space is kept");
	is_str(issues("with trailing space"), "", "and is part of the entry");
	is_str(issues("# a comment"), "", "comments are not entries");
	is_str(issues("P@ssw0rd"), "pwned", "an uppercase SHA-1 with :count");
	is_str(issues("123456"), "pwned restricted.sequence", "a lowercase SHA-1");
	is_str(issues("last-no-newline"), "pwned", "a last line without newline");
	is_str(issues("iloveyou"), "", "the new list replaced the sample");
	conf.pp_min_length = 8;
	unlink(path);
	free(path);

	/* a NUL byte is an error naming the line */
	path = write_list("one\ntwo\nth\0ree\n", 15);
	rv_err_init(&err);
	is_int(load(path, &err), -1, "a NUL byte in the list is an error");
	{
		char want[300];

		snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
		is_str(err.msg, want, "the error is file:line");
	}
	ok(err.status == 500, "a start-up error (500)");
	rv_err_release(&err);
	unlink(path);
	free(path);

	/* a missing file */
	rv_err_init(&err);
	is_int(load("/nonexistent/pwned.txt", &err), -1, "a missing list is an error");
	ok(strstr(err.msg, "cannot read '/nonexistent/pwned.txt'") != NULL,
	   "that names the file (\"%s\")", err.msg);
	rv_err_release(&err);
	is_str(issues("kV9#mQ2!xL"), "ERROR 500 internal_error",
	       "with no list loaded a check is a 500, never a pass");

	/* reject-pwned no: the list is not read */
	conf.pp_reject_pwned = false;
	rv_err_init(&err);
	is_int(rv_pwpolicy_init(&conf, &err), 0, "reject-pwned no ignores a missing list");
	rv_err_release(&err);
	is_str(issues("123456"), "too_short restricted.sequence",
	       "reject-pwned no: 123456 is not reported pwned");

	/* an empty path: the built-in copy of conf/pwned-passwords.txt */
	rv_err_init(&err);
	is_int(load("", &err), 0, "an empty pwned-list loads the built-in sample");
	rv_err_release(&err);
	is_str(issues("iloveyou"), "pwned", "built-in: a plain line");
	is_str(issues("Welcome123"), "pwned", "built-in: a SHA-1:count line");
	is_str(issues("kV9#mQ2!xL"), "", "built-in: a strong password passes");

	/* back to the sample, loaded twice (the first list is freed) */
	rv_err_init(&err);
	ok(load(sample, &err) == 0 && load(sample, &err) == 0, "the sample loads again");
	rv_err_release(&err);
	is_str(issues("iloveyou"), "pwned", "and is in use");
}

static void
test_bcrypt(void)
{
	char pw[100];

	/* 73 bytes of a strong mixture */
	memset(pw, 0, sizeof(pw));
	memcpy(pw, "kV9#mQ2!xL", 10);
	memset(pw + 10, 'a', 1);
	snprintf(pw + 11, sizeof(pw) - 11, "%s",
		 "Zq8$wE1^rT5&yU3*iO7(pA2)sD6_fG4+hJ0=kL9-zX1!cV5@bN3#mQ7%nW2^eR8&tY4");
	RV_ASSERT(strlen(pw) > 72);
	pw[73] = '\0';
	is_int(strlen(pw), 73, "a password of 73 bytes");
	is_str(issues(pw), "", "argon2id: 73 bytes pass");
	conf.pw_scheme = RV_PW_BCRYPT;
	is_str(issues(pw), "too_long", "bcrypt: 73 bytes are too long (no silent truncation)");
	is_str(data_json(pw),
	       "[{\"code\":\"password_rejected.too_long\","
	       "\"interpolation\":{\"max\":72,\"unit\":\"bytes\"}}]",
	       "in Logto's shape, with the unit: bytes");
	pw[72] = '\0';
	is_str(issues(pw), "", "bcrypt: 72 bytes pass");
	/* 37 two-byte letters (é à ü ö in turn): 37 characters, 74 bytes */
	pw[0] = '\0';
	while (strlen(pw) < 74)
		strcat(pw, (const char *[]){ "\xc3\xa9", "\xc3\xa0", "\xc3\xbc",
					     "\xc3\xb6" }[strlen(pw) / 2 % 4]);
	is_str(issues(pw), "too_long",
	       "bcrypt: 37 characters of 2 bytes (74 bytes) are too long");
	conf.pw_scheme = RV_PW_ARGON2ID;
	is_str(issues(pw), "", "argon2id: the same 74 bytes pass");
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	struct rv_err err;
	char *sample;

	rv_conf_defaults(&conf);
	is_int(conf.pp_min_length, 8, "default min-length 8");
	is_int(conf.pp_character_types, 1, "default character-types 1");
	ok(conf.pp_reject_pwned && conf.pp_reject_repetition && conf.pp_reject_user_info,
	   "pwned, repetition and user info are rejected by default");

	sample = rv_xasprintf("%s/conf/pwned-passwords.txt", top ? top : ".");
	rv_err_init(&err);
	if (!is_int(load(sample, &err), 0, "the sample list loads"))
		diag("%s", err.msg);
	rv_err_release(&err);

	test_logto_cases();
	test_length_and_types();
	test_unsupported();
	test_bcrypt();
	test_pwned();
	test_repetition_sequence();
	test_user_info();
	test_words();
	test_order();
	test_message();
	test_lists(sample);

	rv_pwpolicy_release();
	free(sample);
	rv_conf_release(&conf);
	return done_testing();
}
