/* unit/ident: rv-ident.c: the body guards, recipient normal forms and the
 * e-mail policy (logto-spec 2.2, 5.2, 5.3, 6.6.3) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-ident.h"
#include "rv-util.h"
#include "tap.h"

static const char *
norm(const char *v)
{
	static char out[300];

	rv_ident_normalise(v, out, sizeof(out));
	return out;
}

static const char *
variant(const char *v)
{
	static char out[64];

	rv_ident_phone_variant(v, out, sizeof(out));
	return out;
}

static const char *
policy(struct rv_conf *conf, const char *email)
{
	static char code[128];
	struct rv_err err;

	rv_err_init(&err);
	code[0] = '\0';
	if (rv_ident_email_policy(conf, email, &err) < 0)
		rv_strlcpy(code, err.code, sizeof(code));
	rv_err_release(&err);
	return code;
}

static void
set(char **field, const char *v)
{
	free(*field);
	*field = rv_xstrdup(v);
}

int
main(void)
{
	struct rv_conf conf;
	char big[300];

	/* guards (2.2) */
	ok(rv_ident_email_ok("a@b.co"), "a@b.co is an e-mail");
	ok(rv_ident_email_ok("first.last+tag@sub.example.com"), "dots and + are fine");
	ok(!rv_ident_email_ok("a@b"), "no dot after the @");
	ok(!rv_ident_email_ok("@b.co"), "nothing before the @");
	ok(!rv_ident_email_ok("a@.co"), "nothing between @ and dot");
	/* found by t/fuzz/fuzz-json: the search for the dot started one
	 * byte past the end of the string after a last '@' */
	{
		char *tail = rv_xstrdup("a@");

		ok(!rv_ident_email_ok(tail), "an @ at the very end (no read past it)");
		free(tail);
		tail = rv_xstrdup("foo@ex.ample@");
		ok(rv_ident_email_ok(tail), "a last @ after a good one");
		free(tail);
	}
	ok(!rv_ident_email_ok("a@b."), "nothing after the dot");
	ok(!rv_ident_email_ok("a b@c.de"), "no space");
	ok(!rv_ident_email_ok("a@example.com\r\nBcc: x@evil.example"), "no CR or LF");
	ok(!rv_ident_email_ok(""), "not empty");
	memset(big, 'a', 251);
	strcpy(big + 251, "@b.com");
	ok(!rv_ident_email_ok(big), "at most 256 characters (257 refused)");
	big[250] = '\0';
	strcat(big, "@b.com");
	ok(rv_ident_email_ok(big), "256 characters are fine");
	ok(rv_ident_phone_ok("4915112345678"), "digits are a phone");
	ok(!rv_ident_phone_ok("+4915112345678"), "no + (D-8)");
	ok(!rv_ident_phone_ok("1 555 0100"), "no spaces");
	ok(!rv_ident_phone_ok("555;touch x"), "no shell characters");
	ok(!rv_ident_phone_ok(""), "not empty");

	/* the send-limit key (5.2) */
	is_str(norm("  A@Example.COM "), "a@example.com", "e-mail: trimmed and lowercased");
	is_str(norm("x@Blocked.Example."), "x@blocked.example",
	       "e-mail: one trailing dot of the domain dropped (F9)");
	is_str(norm("x@example.com.."), "x@example.com.", "only one trailing dot");
	is_str(norm("Ü@Bücher.Example"), "Ü@xn--bcher-kva.example",
	       "a non-ASCII domain in IDNA form; the local part lowercased in ASCII only");
	is_str(norm("x@BU\xcc\x88" "cher.example."), "x@xn--bcher-kva.example",
	       "IDNA input is NFC: a decomposed u+diaeresis is the same domain");
	is_str(norm("a@b@Example.COM"), "a@b@example.com", "the domain is after the last @");
	is_str(norm("640211234567"), "64211234567", "NZ national 0 dropped");
	is_str(norm("64211234567"), "64211234567", "already without the 0");
	is_str(norm("4901701234567"), "491701234567", "DE national 0 dropped");
	is_str(norm("390612345678"), "390612345678", "Italy keeps its 0");
	is_str(norm("15551234567"), "15551234567", "NANP has no national 0");
	is_str(norm("0123"), "0123", "no country code: as it is");
	is_str(variant("64211234567"), "640211234567", "the variant adds the 0");
	is_str(variant("640211234567"), "64211234567", "or drops it (6.6.3, EP-20)");
	is_str(variant("390612345678"), "", "no variant for Italy");

	/* <delivery sms-prefixes> */
	ok(rv_ident_phone_allowed("", "4915112345678"), "an empty list allows all");
	ok(rv_ident_phone_allowed(NULL, "4915112345678"), "so does none");
	ok(rv_ident_phone_allowed("33 49 81", "4915112345678"), "49 is listed");
	ok(rv_ident_phone_allowed("33 49 81", "49015112345678"), "with the national 0 too");
	ok(!rv_ident_phone_allowed("33 49 81", "8821612345678"), "882 (satellite) is not");
	ok(!rv_ident_phone_allowed("33 49 81", "004915112345678"), "00 is no country code");
	ok(!rv_ident_phone_allowed("33 49 81", "3"), "a prefix of a prefix is not enough");
	ok(rv_ident_phone_allowed("1415", "14155550100"), "longer prefixes work");
	ok(!rv_ident_phone_allowed("1415", "12125550100"), "and hold others out");

	/* the policy (5.3) */
	rv_conf_defaults(&conf);
	is_str(policy(&conf, "anyone@example.com"), "", "the default policy allows all");
	is_str(policy(&conf, "nodomain@"), "session.email_blocklist.invalid_email",
	       "no domain: invalid_email");
	is_str(policy(&conf, "a+tag@example.com"), "", "sub-addressing allowed by default");
	conf.ep_block_subaddressing = true;
	is_str(policy(&conf, "a+tag@example.com"),
	       "session.email_blocklist.email_subaddressing_not_allowed", "blocked when asked");
	is_str(policy(&conf, "a@ex+ample.com"), "", "a + in the domain is not sub-addressing");
	set(&conf.ep_block, "bad@example.com @blocked.example FOO*@WILD.EXAMPLE");
	is_str(policy(&conf, "BAD@example.com"), "session.email_blocklist.email_not_allowed",
	       "a listed address, in other case (EP-8)");
	is_str(policy(&conf, "x@blocked.example"), "session.email_blocklist.email_not_allowed",
	       "a listed @domain");
	is_str(policy(&conf, "x@sub.blocked.example"), "", "@domain does not match subdomains");
	is_str(policy(&conf, "x@blocked.example."), "session.email_blocklist.invalid_email",
	       "a trailing dot in a new address is refused (F9)");
	is_str(policy(&conf, "x%evil.example@example.com"),
	       "session.email_blocklist.invalid_email", "so is a %% (percent hack, F9)");
	is_str(policy(&conf, "evil.example!x@example.com"),
	       "session.email_blocklist.invalid_email", "and a ! (bang path, F9)");
	set(&conf.ep_block, "@Bücher.example");
	is_str(policy(&conf, "x@xn--bcher-kva.example"),
	       "session.email_blocklist.email_not_allowed",
	       "a Unicode entry matches the IDNA form of the domain");
	is_str(policy(&conf, "x@BÜCHER.example"), "session.email_blocklist.email_not_allowed",
	       "and its upper case (TR46 maps case)");
	set(&conf.ep_block, "@xn--bcher-kva.example");
	is_str(policy(&conf, "x@bücher.example"), "session.email_blocklist.email_not_allowed",
	       "an IDNA entry matches the Unicode form of the domain");
	set(&conf.ep_block, "bad@example.com @blocked.example FOO*@WILD.EXAMPLE");
	is_str(policy(&conf, "foo-123@wild.example"), "session.email_blocklist.email_not_allowed",
	       "a wildcard entry (EP-9)");
	is_str(policy(&conf, "bar@wild.example"), "", "the wildcard needs its prefix");
	set(&conf.ep_block, "j.doe@gmail.com");
	is_str(policy(&conf, "jdoe@googlemail.com"), "session.email_blocklist.email_not_allowed",
	       "gmail and googlemail are one domain, dots ignored");
	set(&conf.ep_block, "");
	set(&conf.ep_allow, "@different.example");
	is_str(policy(&conf, "a@example.com"), "session.email_blocklist.email_not_allowed",
	       "not on the allow list (EP-10)");
	is_str(policy(&conf, "a@different.example"), "", "on the allow list");
	ok(rv_ident_email_matches("*@*", "a@b.c"), "*@* matches all");
	ok(!rv_ident_email_matches("a@b.c", "a@b.cd"), "whole-address entries match whole");
	rv_conf_release(&conf);
	return done_testing();
}
