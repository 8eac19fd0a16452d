/* unit/crypto: rv-crypto.c */
#include "config.h"

#include <string.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"
#include "tap.h"

int
main(void)
{
	char id[22], id2[22];
	int counts[36] = { 0 }, bad = 0, i, j;

	ok(rv_random_id(id, 21, NULL) == 0, "a record id is made");
	is_int((long long)strlen(id), 21, "21 characters (logto-spec 3.3)");
	ok(strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") == 21,
	   "only [0-9a-z]");
	rv_random_id(id2, 21, NULL);
	ok(strcmp(id, id2) != 0, "two ids differ");
	/* 360000 symbols, 10000 expected each (sd about 99); modulo bias on
	 * 256 % 36 would give symbols 0-3 about 11400 */
	for (i = 0; i < 18000; i++) {
		rv_random_id(id, 20, NULL);
		for (j = 0; j < 20; j++) {
			const char *p = strchr("0123456789abcdefghijklmnopqrstuvwxyz", id[j]);

			if (p == NULL)
				bad++;
			else
				counts[p - "0123456789abcdefghijklmnopqrstuvwxyz"]++;
		}
	}
	is_int(bad, 0, "no symbol outside the alphabet");
	for (i = 0, j = 1; i < 36; i++)
		if (counts[i] < 9500 || counts[i] > 10500)
			j = 0;
	ok(j, "each symbol within 5%% of its expected 10000 (no modulo bias)");
	rv_random_id_light(id, 16);
	ok(strlen(id) == 16 && strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") == 16,
	   "a light id: 16 of [0-9a-z] from getrandom");
	rv_random_id_light(id2, 16);
	ok(strcmp(id, id2) != 0, "two light ids differ");
	ok(rv_memeq_secret("abcdef", "abcdef", 6), "memeq_secret equal");
	ok(!rv_memeq_secret("abcdef", "abcdeg", 6), "memeq_secret differs");
	/* rv_b64_encode (rv-util.c): RFC 4648 10's vectors, and 5's alphabet */
	{
		static const char *const v[][2] = {
			{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
			{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
			{ "foobar", "Zm9vYmFy" },
		};
		static const unsigned char hi[] = { 0xfb, 0xff };
		unsigned char back[8];
		char out[RV_B64_SIZE(8)];
		size_t k, len;

		for (k = 0, j = 1; k < sizeof(v) / sizeof(v[0]); k++) {
			rv_b64_encode(v[k][0], strlen(v[k][0]), RV_B64_STD, true, out);
			j &= strcmp(out, v[k][1]) == 0;
		}
		ok(j, "base64 of RFC 4648's test vectors");
		is_int((long long)rv_b64_encode("fo", 2, RV_B64_URL, false, out), 3,
		       "base64url without padding: 3 characters for 2 bytes");
		rv_b64_encode(hi, 2, RV_B64_STD, true, out);
		is_str(out, "+/8=", "the standard alphabet's 62 and 63");
		rv_b64_encode(hi, 2, RV_B64_URL, false, out);
		is_str(out, "-_8", "the URL alphabet's 62 and 63 (RFC 4648 5)");
		ok(rv_b64_decode(out, 3, RV_B64_URL, RV_B64_PAD_NO, back, sizeof(back), &len) == 0 &&
		   len == 2 && memcmp(back, hi, 2) == 0, "and back");
		ok(rv_b64_decode("+/8", 3, RV_B64_URL, RV_B64_PAD_NO, back, sizeof(back), &len) < 0,
		   "the standard alphabet's characters are not base64url");
	}
	return done_testing();
}
