/* rv-ident.c: e-mail addresses and phone numbers: checks, normal forms, policy */
#include "config.h"
#include "rv-ident.h"

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "rv-conf.h"
#include "rv-err.h"
#include "rv-util.h"

static bool
is_space(unsigned char c)
{
	/* JavaScript's \s in the ASCII range */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

bool
rv_ident_email_ok(const char *s)
{
	const char *at, *dot, *p;
	size_t chars = 0;

	for (p = s; *p; p++) {
		if (is_space((unsigned char)*p))
			return false;
		if (((unsigned char)*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars == 0 || chars > 256)
		return false;
	/* \S+@\S+\.\S+ : some @ with text before it, and after it a dot
	 * with text on both sides */
	for (at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@')) {
		/* a last '@' has nothing after it: at + 2 would be past the
		 * end of the string */
		if (at == s || at[1] == '\0')
			continue;
		for (dot = strchr(at + 2, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
			if (dot > at + 1 && dot[1] != '\0')
				return true;
	}
	return false;
}

bool
rv_ident_phone_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 && strspn(s, "0123456789") == n;
}

/* ITU-T E.164 country calling codes (prefix-free), for the national
 * leading 0. Italy (39) and San Marino (378) keep their 0, as
 * libphonenumber does. */
static const char *const country_codes[] = {
	"1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "40", "41",
	"43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54", "55",
	"56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82",
	"84", "86", "90", "91", "92", "93", "94", "95", "98", "211", "212",
	"213", "216", "218", "220", "221", "222", "223", "224", "225", "226",
	"227", "228", "229", "230", "231", "232", "233", "234", "235", "236",
	"237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
	"248", "249", "250", "251", "252", "253", "254", "255", "256", "257",
	"258", "260", "261", "262", "263", "264", "265", "266", "267", "268",
	"269", "290", "291", "297", "298", "299", "350", "351", "352", "353",
	"354", "355", "356", "357", "358", "359", "370", "371", "372", "373",
	"374", "375", "376", "377", "380", "381", "382", "383", "385", "386",
	"387", "389", "420", "421", "423", "500", "501", "502", "503", "504",
	"505", "506", "507", "508", "509", "590", "591", "592", "593", "594",
	"595", "596", "597", "598", "599", "670", "672", "673", "674", "675",
	"676", "677", "678", "679", "680", "681", "682", "683", "685", "686",
	"687", "688", "689", "690", "691", "692", "850", "852", "853", "855",
	"856", "880", "886", "960", "961", "962", "963", "964", "965", "966",
	"967", "968", "970", "971", "972", "973", "974", "975", "976", "977",
	"992", "993", "994", "995", "996", "998",
};

/* The length of the country code at the start of digits, 0 if unknown. */
static size_t
country_code_len(const char *digits)
{
	size_t i;

	for (i = 0; i < sizeof(country_codes) / sizeof(country_codes[0]); i++) {
		size_t n = strlen(country_codes[i]);

		if (strncmp(digits, country_codes[i], n) == 0)
			return n;
	}
	return 0;
}

static bool
keeps_zero(const char *digits, size_t cc)
{
	return (cc == 2 && strncmp(digits, "39", 2) == 0) ||
	       (cc == 3 && strncmp(digits, "378", 3) == 0);
}

/*
 * The domain of an address in place (n bytes at d, room for size): one
 * trailing dot removed ("example.org." is the same domain written as a
 * fully qualified name), then IDNA2008 (libidn2, NFC input,
 * non-transitional) for a non-ASCII domain, then ASCII-lowercased. A
 * domain that libidn2 refuses keeps its UTF-8 form, lowercased in ASCII
 * only; it cannot be sent to anyway. Returns the new length.
 */
static size_t
canonical_domain(char *d, size_t n, size_t size)
{
	char *ascii = NULL;
	size_t i;
	bool plain = true;

	if (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80)
			plain = false;
	if (!plain && idn2_to_ascii_8z(d, &ascii, IDN2_NFC_INPUT |
				       IDN2_NONTRANSITIONAL) == IDN2_OK &&
	    strlen(ascii) < size) {
		n = strlen(ascii);
		memcpy(d, ascii, n + 1);
	}
	free(ascii);	/* idn2_free is free(3) */
	for (i = 0; i < n; i++)
		d[i] = rv_ascii_lower(d[i]);
	return n;
}

void
rv_ident_normalise(const char *value, char *out, size_t size)
{
	const char *p = value, *end = value + strlen(value);
	size_t n, cc;
	const char *at;
	char *o;

	while (p < end && is_space((unsigned char)*p))
		p++;
	while (end > p && is_space((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	if ((at = memrchr(p, '@', n)) != NULL) {
		size_t k = (size_t)(at - p);

		for (o = out; o < out + k; o++)
			*o = rv_ascii_lower(*o);
		canonical_domain(out + k + 1, n - k - 1, size - k - 1);
		return;
	}
	if (!rv_ident_phone_ok(out))
		return;
	cc = country_code_len(out);
	if (cc > 0 && out[cc] == '0' && out[cc + 1] != '\0' && !keeps_zero(out, cc))
		memmove(out + cc, out + cc + 1, strlen(out + cc + 1) + 1);
}

void
rv_ident_phone_variant(const char *digits, char *out, size_t size)
{
	size_t cc = rv_ident_phone_ok(digits) ? country_code_len(digits) : 0;
	size_t n = strlen(digits);

	out[0] = '\0';
	if (cc == 0 || cc >= n || keeps_zero(digits, cc) || n + 2 > size)
		return;
	if (digits[cc] == '0') {
		memcpy(out, digits, cc);
		memcpy(out + cc, digits + cc + 1, n - cc);	/* with the NUL */
	} else {
		memcpy(out, digits, cc);
		out[cc] = '0';
		memcpy(out + cc + 1, digits + cc, n - cc + 1);
	}
}

bool
rv_ident_phone_allowed(const char *list, const char *phone)
{
	char norm[64];
	const char *p = list;

	if (list == NULL || *list == '\0')
		return true;
	rv_ident_normalise(phone, norm, sizeof(norm));
	while (p != NULL && *p) {
		size_t n = strcspn(p, " ");

		if (n > 0 && strncmp(norm, p, n) == 0)
			return true;
		p = p[n] ? p + n + 1 : NULL;
	}
	return false;
}

/* ---- the e-mail policy (logto-spec 5.3) ---- */

/* case-insensitive glob with * only */
static bool
glob(const char *pat, const char *s)
{
	const char *star = NULL, *back = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			back = s;
		} else if (rv_ascii_lower(*pat) == rv_ascii_lower(*s)) {
			pat++, s++;
		} else if (star != NULL) {
			pat = star + 1;
			s = ++back;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool
is_gmail(const char *domain)
{
	return rv_str_ieq(domain, "gmail.com") || rv_str_ieq(domain, "googlemail.com");
}

/* gmail and googlemail are one domain, whose local parts ignore dots */
static void
canonical(const char *email, char *out, size_t size)
{
	const char *at = strrchr(email, '@');
	size_t o = 0;
	const char *p;

	if (at == NULL || !is_gmail(at + 1)) {
		rv_strlcpy(out, email, size);
		return;
	}
	for (p = email; p < at && o + 1 < size; p++)
		if (*p != '.')
			out[o++] = *p;
	out[o] = '\0';
	if (o + sizeof("@gmail.com") <= size)
		memcpy(out + o, "@gmail.com", sizeof("@gmail.com"));
}

bool
rv_ident_email_matches(const char *entry, const char *email)
{
	char e[300], a[300];
	const char *at;

	if (entry[0] == '@') {
		at = strrchr(email, '@');
		if (at == NULL)
			return false;
		if (is_gmail(entry + 1) && is_gmail(at + 1))
			return true;
		return glob(entry + 1, at + 1);
	}
	canonical(entry, e, sizeof(e));
	canonical(email, a, sizeof(a));
	return glob(e, a);
}

/* does any word of list match? Both sides in their normal form, so that
 * "@Bücher.example" matches x@xn--bcher-kva.example. and the like (F9) */
static bool
listed(const char *list, const char *email)
{
	char word[256], nword[300] = "", nemail[300] = "";
	const char *p = list;

	rv_ident_normalise(email, nemail, sizeof(nemail));
	while (p != NULL && *p) {
		const char *sp = strchr(p, ' ');
		size_t n = sp ? (size_t)(sp - p) : strlen(p);

		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			rv_ident_normalise(word, nword, sizeof(nword));
			if (rv_ident_email_matches(word, email) ||
			    rv_ident_email_matches(nword, nemail))
				return true;
		}
		p = sp ? sp + 1 : NULL;
	}
	return false;
}

int
rv_ident_email_policy(const struct rv_conf *conf, const char *email,
		      struct rv_err *err)
{
	const char *at = strrchr(email, '@');

	if (at == NULL || at[1] == '\0' || at == email)
		return rv_err_set(err, "session.email_blocklist.invalid_email",
				  "no domain part");
	/* not in logto-spec 5.3 (security review F9): a trailing dot would
	 * pass the lists by another spelling of the domain, and % or ! route
	 * elsewhere at some MTAs (the percent hack, bang paths) */
	if (at[strlen(at) - 1] == '.' || strpbrk(email, "%!") != NULL)
		return rv_err_set(err, "session.email_blocklist.invalid_email",
				  "a trailing dot, %% or ! in a new address");
	if (conf->ep_block_subaddressing && memchr(email, '+', (size_t)(at - email)))
		return rv_err_set(err,
				  "session.email_blocklist.email_subaddressing_not_allowed",
				  "sub-addressing is blocked");
	if ((conf->ep_allow && *conf->ep_allow && !listed(conf->ep_allow, email)) ||
	    (conf->ep_block && *conf->ep_block && listed(conf->ep_block, email))) {
		rv_err_set(err, "session.email_blocklist.email_not_allowed",
			   "address refused by the e-mail policy");
		rv_err_var(err, "email", "%s", email);
		return -1;
	}
	return 0;
}
