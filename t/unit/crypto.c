/* unit/crypto: rv-crypto.c */
#include "config.h"

#include <string.h>

#include "rv-crypto.h"
#include "rv-err.h"
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
	return done_testing();
}
