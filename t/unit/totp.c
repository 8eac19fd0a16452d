/* unit/totp: rv-totp.c (RFC 4648, RFC 4226 and RFC 6238 vectors) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>

#include "rv-err.h"
#include "rv-totp.h"
#include "rv-util.h"
#include "tap.h"

/* RFC 4226 appendix D and RFC 6238 appendix B (SHA-1) share this key */
static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KLEN 20

static void
test_base32(void)
{
	/* RFC 4648 section 10 */
	static const char *const vec[][3] = {
		{ "f", "MY", "MY======" },
		{ "fo", "MZXQ", "MZXQ====" },
		{ "foo", "MZXW6", "MZXW6===" },
		{ "foob", "MZXW6YQ", "MZXW6YQ=" },
		{ "fooba", "MZXW6YTB", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI", "MZXW6YTBOI======" },
	};
	static const char *const bad[] = {
		"", "=", "MY=====", "MY=======", "M=Y=====", "MZXW6YTB========",
		"MZXW6YTB=", "MZX", "MZXW6Y", "M", "MZXW 6YTB", "MZXW1YTB",
		"MZXW8YTB", "MZXW6YT0", "MZXW6YT!", "MZ\xc3\x89W6YTB",
	};
	unsigned char out[16], big[RV_TOTP_KEY_MAX + 8];
	char enc[32], lower[32];
	size_t i, j;
	long n;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		rv_base32_encode((const unsigned char *)vec[i][0],
				 strlen(vec[i][0]), enc);
		is_str(enc, vec[i][1], "base32 of \"%s\" (RFC 4648 10)", vec[i][0]);
		n = rv_base32_decode(vec[i][2], out, sizeof(out));
		ok(n == (long)strlen(vec[i][0]) && memcmp(out, vec[i][0], (size_t)n) == 0,
		   "%s decodes to \"%s\"", vec[i][2], vec[i][0]);
		n = rv_base32_decode(vec[i][1], out, sizeof(out));
		ok(n == (long)strlen(vec[i][0]) && memcmp(out, vec[i][0], (size_t)n) == 0,
		   "%s (unpadded) decodes to \"%s\"", vec[i][1], vec[i][0]);
		for (j = 0; vec[i][2][j] != '\0'; j++)
			lower[j] = (char)(vec[i][2][j] | 0x20);
		lower[j] = '\0';
		n = rv_base32_decode(lower, out, sizeof(out));
		ok(n == (long)strlen(vec[i][0]) && memcmp(out, vec[i][0], (size_t)n) == 0,
		   "lower case %s decodes too", lower);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(rv_base32_decode(bad[i], out, sizeof(out)), -1,
		       "malformed base32 \"%s\" refused", bad[i]);
	is_int(rv_base32_decode(NULL, out, sizeof(out)), -1, "NULL refused");
	is_int(rv_base32_decode("MZXW6YTB", out, 4), -1,
	       "5 bytes do not fit in 4: refused");
	is_int(rv_base32_decode("MZXW6YTB", out, 5), 5, "5 bytes fit in 5");
	/* round trips of every length up to the largest key */
	for (i = 0, j = 0; i <= RV_TOTP_KEY_MAX; i++) {
		unsigned char in[RV_TOTP_KEY_MAX];
		char e[(RV_TOTP_KEY_MAX * 8 + 4) / 5 + 1];

		memset(in, (int)(0x5a ^ i), sizeof(in));
		in[0] = (unsigned char)i;
		rv_base32_encode(in, i, e);
		n = rv_base32_decode(e, big, sizeof(big));
		if (i == 0 ? n != -1 : (n != (long)i || memcmp(in, big, i) != 0 ||
					strlen(e) != (i * 8 + 4) / 5))
			j++;
	}
	is_int((long long)j, 0, "base32 round trips of 1 to %d bytes",
	       RV_TOTP_KEY_MAX);
}

static void
test_secrets(void)
{
	/* the shortest and longest lengths of RV_TOTP_KEY_MIN..MAX bytes */
	size_t min = (RV_TOTP_KEY_MIN * 8 + 4) / 5, max = (RV_TOTP_KEY_MAX * 8 + 7) / 5;
	char s[200], s2[RV_TOTP_SECRET_B32 + 1];
	unsigned char key[RV_TOTP_KEY_MAX];

	memset(s, 'A', sizeof(s));
	s[min - 1] = '\0';
	ok(!rv_totp_secret_valid(s), "%zu characters (%d bytes) too short", min - 1,
	   RV_TOTP_KEY_MIN - 1);
	s[min - 1] = 'A';
	s[min] = '\0';
	ok(rv_totp_secret_valid(s), "%zu characters (%d bytes) accepted", min,
	   RV_TOTP_KEY_MIN);
	s[min] = 'A';
	s[max] = '\0';
	ok(rv_totp_secret_valid(s), "%zu characters (%d bytes) accepted", max,
	   RV_TOTP_KEY_MAX);
	s[max] = 'A';
	s[max + 1] = '\0';
	ok(!rv_totp_secret_valid(s), "%zu characters (%d bytes) too long",
	   max + 1, RV_TOTP_KEY_MAX + 1);
	ok(!rv_totp_secret_valid(NULL) && !rv_totp_secret_valid("") &&
	   !rv_totp_secret_valid("JBSWY3DPEHPK3PX!") &&
	   !rv_totp_secret_valid("JBSWY3DP EHPK3PXP"),
	   "NULL, empty, a bad character, a space refused");
	ok(rv_totp_secret_valid("jbswy3dpehpk3pxp"), "lower case accepted");

	ok(rv_totp_secret_new(s, NULL) == 0 && strlen(s) == RV_TOTP_SECRET_B32 &&
	   strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == RV_TOTP_SECRET_B32,
	   "a new secret: %d characters of A-Z2-7", RV_TOTP_SECRET_B32);
	ok(rv_totp_secret_valid(s) &&
	   rv_base32_decode(s, key, sizeof(key)) == RV_TOTP_SECRET_BYTES,
	   "it is valid and holds %d bytes", RV_TOTP_SECRET_BYTES);
	rv_totp_secret_new(s2, NULL);
	ok(strcmp(s, s2) != 0, "two new secrets differ");
}

static void
test_hotp(void)
{
	/* RFC 4226 appendix D */
	static const unsigned long hotp[] = { 755224, 287082, 359152, 969429,
					      338314, 254676, 287922, 162583,
					      399871, 520489 };
	/* RFC 6238 appendix B, SHA-1 rows */
	static const struct {
		long long t;
		unsigned long code;
	} totp[] = {
		{ 59, 94287082 },	  { 1111111109, 7081804 },
		{ 1111111111, 14050471 }, { 1234567890, 89005924 },
		{ 2000000000, 69279037 }, { 20000000000LL, 65353130 },
	};
	unsigned long long c;
	size_t i;

	for (c = 0; c < 10; c++)
		is_int((long long)rv_hotp(rfc_key, RFC_KLEN, c, 6), (long long)hotp[c],
		       "HOTP count %llu is %06lu (RFC 4226 D)", c, hotp[c]);
	for (i = 0; i < sizeof(totp) / sizeof(totp[0]); i++) {
		long long step = -1;
		bool replay = true;
		char code[8];

		is_int((long long)rv_hotp(rfc_key, RFC_KLEN,
					  (unsigned long long)(totp[i].t / 30), 8),
		       (long long)totp[i].code, "TOTP at %lld is %08lu (RFC 6238 B)",
		       totp[i].t, totp[i].code);
		snprintf(code, sizeof(code), "%06lu", totp[i].code % 1000000);
		ok(rv_totp_check(rfc_key, RFC_KLEN, code, totp[i].t, 0, -1, &step,
				 &replay) == 1 && step == totp[i].t / 30 && !replay,
		   "%s checks at %lld (window 0), step %lld", code, totp[i].t,
		   totp[i].t / 30);
	}
	is_int((long long)rv_hotp(rfc_key, RFC_KLEN, 1, 7), 4287082,
	       "7 digits of count 1");
}

static void
code_at(long long step, char code[8])
{
	snprintf(code, 8, "%06lu",
		 rv_hotp(rfc_key, RFC_KLEN, (unsigned long long)step, 6));
}

static void
test_check(void)
{
	static const char *const bad[] = { "", "75522", "7552244", "75522a",
					   " 755224", "755224 ", "+75522",
					   "７55224", "755224\n", "-75522" };
	const long long now = 1111111111, t = now / 30;
	char code[8], next[8];
	long long step = -1;
	bool replay = false;
	size_t i;

	code_at(t, code);
	code_at(t + 1, next);
	/* replay (RFC 6238 5.2) */
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now, 1, -1, &step, &replay) == 1 &&
	   step == t && !replay, "a fresh code is accepted");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now, 1, t, &step, &replay) == 0 &&
	   replay, "the same code again at the same step: a replay, refused");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now + 29 - now % 30, 1, t, &step,
			 &replay) == 0 && replay,
	   "and at the last second of that step");
	ok(rv_totp_check(rfc_key, RFC_KLEN, next, now + 30, 1, t, &step,
			 &replay) == 1 && step == t + 1 && !replay,
	   "the next step's code at the next step is accepted");
	ok(rv_totp_check(rfc_key, RFC_KLEN, next, now, 1, t + 1, &step,
			 &replay) == 0 && replay,
	   "a code ahead, once used, is a replay when its step comes");
	/* skew (RFC 6238 5.2 and 6) */
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now + 30, 1, -1, &step,
			 &replay) == 1 && step == t,
	   "a code one step behind the clock accepted with window 1");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now - 30, 1, -1, &step,
			 &replay) == 1 && step == t,
	   "a code one step ahead of the clock accepted with window 1");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now + 60, 1, -1, &step,
			 &replay) == 0 && !replay,
	   "two steps behind refused (no replay)");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now - 60, 1, -1, &step,
			 &replay) == 0 && !replay, "two steps ahead refused");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now + 30, 0, -1, &step,
			 &replay) == 0, "one step behind refused with window 0");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now + 60, 2, -1, NULL, NULL) == 1,
	   "two steps behind accepted with window 2 (NULL outputs)");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, now, 1, -1, &step, &replay) == 1 &&
	   rv_totp_check((const unsigned char *)"12345678901234567891", RFC_KLEN,
			 code, now, 1, -1, &step, &replay) == 0,
	   "another key does not match");
	code_at(0, code);
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, 10, 1, -1, &step, &replay) == 1 &&
	   step == 0, "step 0 with window 1 (no step -1)");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, -5, 1, -1, &step, &replay) == 1 &&
	   step == 0, "a clock before 1970 still reaches step 0 ahead");
	ok(rv_totp_check(rfc_key, RFC_KLEN, code, -30, 1, -1, &step, &replay) == 1 &&
	   rv_totp_check(rfc_key, RFC_KLEN, code, -31, 1, -1, &step, &replay) == 0,
	   "but not from step -2 (-31 s is step -2, as floor has it)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(rv_totp_check(rfc_key, RFC_KLEN, bad[i], now, 1, -1, &step,
				 &replay) == 0 && !replay,
		   "malformed code \"%s\" refused", bad[i]);
	ok(rv_totp_check(rfc_key, RFC_KLEN, NULL, now, 1, -1, &step, &replay) == 0,
	   "a NULL code refused");
}

static void
test_uri(void)
{
	char *u;

	u = rv_totp_uri("ACME Co: Login", "alice@example.com", "JBSWY3DPEHPK3PXP");
	is_str(u,
	       "otpauth://totp/ACME%20Co%3A%20Login:alice%40example.com"
	       "?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co%3A%20Login"
	       "&algorithm=SHA1&digits=6&period=30",
	       "issuer with a space and ':' percent-encoded in label and query");
	free(u);
	u = rv_totp_uri("Ré-x_~.", "a&b=c?d/e", "AAAA");
	is_str(u,
	       "otpauth://totp/R%C3%A9-x_~.:a%26b%3Dc%3Fd%2Fe?secret=AAAA"
	       "&issuer=R%C3%A9-x_~.&algorithm=SHA1&digits=6&period=30",
	       "UTF-8 bytes and query characters encoded, unreserved kept");
	free(u);
	u = rv_totp_uri(NULL, "bob", "AAAA");
	is_str(u, "otpauth://totp/bob?secret=AAAA&algorithm=SHA1&digits=6&period=30",
	       "no issuer: a bare label and no issuer parameter");
	free(u);
}

/* Draws the modules the SVG's path makes dark and compares them with
 * libqrencode's own matrix for text: 1 when every module agrees. */
static int
svg_matches_qr(const char *svg, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const char *p = strstr(svg, "<path d=\"");
	int w, x, y, len, len2, used, i, same = 1;
	char *grid;

	if (qr == NULL || p == NULL)
		return 0;
	w = qr->width;
	grid = calloc((size_t)(w + 8) * (size_t)(w + 8), 1);
	for (p += 9; sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &len, &len2, &used) == 4;
	     p += used)
		for (i = 0; i < len && len == len2 && y < w + 8; i++)
			if (x + i < w + 8)
				grid[y * (w + 8) + x + i] = 1;
	if (strncmp(p, "\"/></svg>", 9) != 0)
		same = 0;
	for (y = 0; y < w + 8; y++)
		for (x = 0; x < w + 8; x++) {
			int dark = x >= 4 && y >= 4 && x < w + 4 && y < w + 4 &&
				   (qr->data[(y - 4) * w + x - 4] & 1);

			if (grid[y * (w + 8) + x] != dark)
				same = 0;
		}
	free(grid);
	QRcode_free(qr);
	return same;
}

static void
test_qr(void)
{
	const char *text = "otpauth://totp/ACME:alice%40example.com?secret="
			   "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME";
	const char *prefix = "data:image/svg+xml;base64,";
	unsigned char svg[16384];
	struct rv_err err;
	size_t len = 0;
	char *url, *big;

	rv_err_init(&err);
	url = rv_qr_data_url(text, &err);
	ok(url != NULL && strncmp(url, prefix, strlen(prefix)) == 0,
	   "an SVG data URL");
	ok(url != NULL &&
	   rv_b64_decode(url + strlen(prefix), strlen(url + strlen(prefix)),
			 RV_B64_STD, RV_B64_PAD_REQ, svg, sizeof(svg) - 1, &len) == 0,
	   "its base64 decodes (%zu bytes of SVG)", len);
	svg[len] = '\0';
	ok(strncmp((char *)svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0 &&
	   len > 6 && strcmp((char *)svg + len - 6, "</svg>") == 0 &&
	   strstr((char *)svg, "shape-rendering=\"crispEdges\"") != NULL,
	   "to <svg ...> ... </svg>, crisp edges");
	ok(svg_matches_qr((char *)svg, text),
	   "its path draws exactly libqrencode's dark modules, 4 of quiet zone");
	free(url);
	big = malloc(3001);
	memset(big, 'x', 3000);
	big[3000] = '\0';
	url = rv_qr_data_url(big, &err);
	ok(url == NULL && err.status == 500,
	   "3000 bytes do not fit a QR code at level M: NULL, 500");
	free(url);
	free(big);
	rv_err_release(&err);
}

static void
test_backup(void)
{
	char codes[RV_BACKUP_CODES][RV_BACKUP_CODE_LEN + 1], upper[16];
	const unsigned char pepper[32] = { 1, 2, 3 }, pepper2[32] = { 1, 2, 4 };
	unsigned char mac[32], mac2[32], want[32];
	const char msg[] = "backup-code\0usr_1\0abcdefgh12";
	unsigned int wlen = 0;
	int i, j, good = 1;

	ok(rv_backup_codes_new(codes, NULL) == 0, "a set of backup codes is made");
	for (i = 0; i < RV_BACKUP_CODES; i++) {
		if (strlen(codes[i]) != RV_BACKUP_CODE_LEN ||
		    strspn(codes[i], "0123456789abcdefghijklmnopqrstuvwxyz") !=
			    RV_BACKUP_CODE_LEN ||
		    !rv_backup_code_valid(codes[i]))
			good = 0;
		for (j = 0; j < i; j++)
			if (strcmp(codes[i], codes[j]) == 0)
				good = 0;
	}
	ok(good, "%d distinct valid codes of %d of [0-9a-z]", RV_BACKUP_CODES,
	   RV_BACKUP_CODE_LEN);
	ok(rv_backup_code_valid("ABCDEFGH12"), "upper case accepted");
	ok(!rv_backup_code_valid("abcdefgh1") && !rv_backup_code_valid("abcdefgh123") &&
	   !rv_backup_code_valid("abcd-fgh12") && !rv_backup_code_valid("") &&
	   !rv_backup_code_valid("abcdéfgh1") && !rv_backup_code_valid(NULL),
	   "9 or 11 characters, '-', empty, non-ASCII, NULL refused");

	rv_backup_code_mac(pepper, "usr_1", "abcdefgh12", mac);
	HMAC(EVP_sha256(), pepper, 32, (const unsigned char *)msg, sizeof(msg) - 1,
	     want, &wlen);
	ok(wlen == 32 && memcmp(mac, want, 32) == 0,
	   "the MAC is HMAC-SHA256(pepper, \"backup-code\" 0 user 0 code)");
	snprintf(upper, sizeof(upper), "ABCDEFGH12");
	rv_backup_code_mac(pepper, "usr_1", upper, mac2);
	ok(memcmp(mac, mac2, 32) == 0, "the code is lowercased first");
	rv_backup_code_mac(pepper, "usr_2", "abcdefgh12", mac2);
	ok(memcmp(mac, mac2, 32) != 0, "another user: another MAC");
	rv_backup_code_mac(pepper2, "usr_1", "abcdefgh12", mac2);
	ok(memcmp(mac, mac2, 32) != 0, "another pepper: another MAC");
}

int
main(void)
{
	test_base32();
	test_secrets();
	test_hotp();
	test_check();
	test_uri();
	test_qr();
	test_backup();
	return done_testing();
}
