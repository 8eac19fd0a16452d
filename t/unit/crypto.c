/* unit/crypto: rv-crypto.c */
#include "config.h"

#include <string.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"
#include "tap.h"

/* HMAC-SHA256 against RFC 4231's vectors, through the kept contexts: the
 * same key again, keys in turn, more keys than are kept, a key longer
 * than a block, the message in two parts */
static void
test_hmac(void)
{
	static const struct {
		const char *key;	/* hex */
		const char *msg;
		const char *mac;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819", NULL,
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	};
	/* a fifth key: four are kept, the fifth goes the long way */
	static const char k5[] = "a fifth key, not kept";
	unsigned char key[131], mac[32], mac5[32], again[32];
	char hex[65], cd[51];
	const char *msg;
	int round, i, good = 0, n = 0;
	size_t klen, mlen;

	rv_hmac_sha256(k5, sizeof(k5) - 1, "x", 1, NULL, 0, mac5);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++, n++) {
			/* case 4: 50 bytes 0xcd; case 6: a key of 131 bytes 0xaa */
			memset(cd, 0xcd, 50);
			cd[50] = '\0';
			msg = v[i].msg != NULL ? v[i].msg : cd;
			if (v[i].key != NULL) {
				klen = strlen(v[i].key) / 2;
				RV_ASSERT(rv_unhex(v[i].key, key, klen) == 0);
			} else {
				klen = sizeof(key);
				memset(key, 0xaa, klen);
			}
			mlen = strlen(msg);
			/* round 1: the message in two parts */
			if (round == 1)
				rv_hmac_sha256(key, klen, msg, mlen / 2,
					       msg + mlen / 2, mlen - mlen / 2, mac);
			else
				rv_hmac_sha256(key, klen, msg, mlen, NULL, 0, mac);
			rv_hex(mac, 32, hex);
			good += strcmp(hex, v[i].mac) == 0;
			rv_hmac_sha256(k5, sizeof(k5) - 1, "x", 1, NULL, 0, again);
			good += memcmp(again, mac5, 32) == 0;
			n++;
		}
	}
	ok(good == n, "HMAC-SHA256: RFC 4231 cases 1, 2, 4 and 6, three rounds, "
	   "keys in turn (%d of %d)", good, n);
	rv_hmac_forget();
	RV_ASSERT(rv_unhex(v[1].key, key, 4) == 0);
	rv_hmac_sha256(key, 4, v[1].msg, strlen(v[1].msg), NULL, 0, mac);
	rv_hex(mac, 32, hex);
	is_str(hex, v[1].mac, "... and after rv_hmac_forget");
}

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
	test_hmac();
	return done_testing();
}
