/* unit/store-doc: the reader of stored documents (rv-store-doc.c): what it
 * takes, what it hands to jansson, and that it reads every input as
 * jansson does (doc-diff.h), on fixed cases and on 20,000 mutations of
 * them made by a fixed generator */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc-diff.h"
#include "rv-util.h"
#include "tap.h"

static const char *const cases[] = {
	"{\"v\":1,\"id\":\"u1\",\"username\":\"alice\",\"email\":\"a@x.test\","
	"\"phone\":null,\"name\":null,\"avatar\":null,\"passwordHash\":\"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA\","
	"\"createdAt\":1700000000000,\"updatedAt\":-1,\"passwordUpdatedAt\":0,"
	"\"lastSignInAt\":0,\"suspended\":false}",
	"{\"v\":1,\"name\":\"a \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\\u00e9\\u6f22\\ud83d\\ude00\"}",
	"{\"v\":1,\"name\":\"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\"}",
	"{\"v\":1,\"events\":[1,2,3],\"blockedUntil\":0,\"expiresAt\":5}",
	"{\"v\":1,\"x\":{\"a\":[{\"b\":\"c\"},null,true,false,-0]}}",
	"  {\"v\" : 1 , \"a\" : \"b\" }  \n",
	"{\"v\":1,\"a\":1,\"a\":2}",
	"{\"v\":1,\"a\":1.5}",
	"{\"v\":1,\"a\":[1e3]}",
	"{\"v\":1,\"a\":\"\\u0000\"}",
	"{\"v\":1,\"a\":\"\\ud800\"}",
	"{\"v\":1,\"a\":\"\\udc00\\ud800\"}",
	"{\"v\":1,\"a\":\"\xc0\xaf\"}",
	"{\"v\":1,\"a\":\"\xed\xa0\x80\"}",
	"{\"v\":1,\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"v\":1,\"a\":\"\x01\"}",
	"{\"v\":1,\"a\":99999999999999999999}",
	"{\"v\":1,\"a\":-9223372036854775808}",
	"{\"v\":1,\"a\":01}",
	"{\"v\":1,\"a\":\"b\"} x",
	"{\"v\":1,\"a\":\"b\",}",
	"{\"v\":2}",
	"{}",
	"[1]",
	"",
	"{\"v\":1,\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	"{\"v\":1,\"a\":tru}",
	"{\"v\":1,\"a\":\"unterminated}",
};

/* a fixed generator: the same mutations on every run */
static unsigned long long seed = 0x9e3779b97f4a7c15ULL;

static unsigned
next(void)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(seed >> 33);
}

static const char interesting[] = "{}[]\",:\\u0dD8e.-1 \xc3\xe9\xf0\x80\x00";

int
main(void)
{
	struct rv_doc d;
	struct rv_err err;
	char buf[512], *s;
	const char *why;
	size_t i, n, len;
	int bad = 0, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = doc_diff(cases[i], strlen(cases[i]));
		ok(why == NULL, "case %zu reads as jansson reads it%s%s", i,
		   why ? ": " : "", why ? why : "");
	}

	rv_err_init(&err);
	ok(rv_store_doc_parse(cases[0], strlen(cases[0]), &d, &err) == 0 &&
	   d.own == NULL && d.n == 13, "a user document is read in one pass (13 members)");
	s = rv_store_doc_dup(&d, "email");
	ok(s != NULL && strcmp(s, "a@x.test") == 0 && rv_store_doc_int(&d, "createdAt") ==
	   1700000000000LL && rv_store_doc_int(&d, "updatedAt") == -1 &&
	   !rv_store_doc_true(&d, "suspended") && rv_store_doc_dup(&d, "phone") == NULL,
	   "strings, integers, false and null as written");
	free(s);
	rv_store_doc_copy(&d, "username", buf, 4);
	is_str(buf, "ali", "a copy is cut to fit");
	rv_store_doc_release(&d);

	ok(rv_store_doc_parse(cases[1], strlen(cases[1]), &d, &err) == 0 && d.own == NULL,
	   "escapes are read in the one pass");
	s = rv_store_doc_dup(&d, "name");
	is_str(s, "a \"q\" \\ / \b\f\n\r\t\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80",
	       "and decoded on copy (a surrogate pair too)");
	free(s);
	rv_store_doc_release(&d);

	ok(rv_store_doc_parse(cases[6], strlen(cases[6]), &d, &err) == 0 && d.own != NULL &&
	   rv_store_doc_int(&d, "a") == 2, "a member twice goes through jansson: the last wins");
	rv_store_doc_release(&d);
	rv_err_release(&err);
	ok(rv_store_doc_parse(cases[7], strlen(cases[7]), &d, &err) < 0 &&
	   strstr(err.msg, "reals") != NULL, "a real is refused with a clear error");
	rv_err_release(&err);
	ok(rv_store_doc_parse(cases[21], strlen(cases[21]), &d, &err) < 0 &&
	   strstr(err.msg, "version") != NULL, "another format version is refused");
	rv_err_release(&err);
	{
		/* RV_DOC_MAX members read; one more is refused, with a clear error */
		char big[4096];

		len = (size_t)snprintf(big, sizeof(big), "{\"v\":1");
		for (k = 1; k < RV_DOC_MAX; k++)
			len += (size_t)snprintf(big + len, sizeof(big) - len, ",\"k%d\":%d", k, k);
		snprintf(big + len, sizeof(big) - len, "}");
		ok(rv_store_doc_parse(big, strlen(big), &d, &err) == 0 && d.n == RV_DOC_MAX &&
		   rv_store_doc_int(&d, "k9") == 9, "%d members are read", RV_DOC_MAX);
		rv_store_doc_release(&d);
		snprintf(big + len, sizeof(big) - len, ",\"last\":0}");
		ok(rv_store_doc_parse(big, strlen(big), &d, &err) < 0 &&
		   strstr(err.msg, "members") != NULL,
		   "more than %d members are refused", RV_DOC_MAX);
		rv_err_release(&err);
	}

	/* mutations of every case: a byte replaced, inserted or removed */
	for (n = 0; n < 20000; n++) {
		const char *c = cases[next() % (sizeof(cases) / sizeof(cases[0]))];
		size_t at, m;

		len = strlen(c);
		memcpy(buf, c, len);
		for (m = 1 + next() % 3; m > 0; m--) {
			at = len ? next() % len : 0;
			switch (next() % 3) {
			case 0:
				if (len)
					buf[at] = interesting[next() % (sizeof(interesting) - 1)];
				break;
			case 1:
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = interesting[next() % (sizeof(interesting) - 1)];
					len++;
				}
				break;
			default:
				if (len) {
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
			}
		}
		if ((why = doc_diff(buf, len)) != NULL) {
			if (bad++ < 5)
				diag("mutation %zu (%.*s): %s", n, (int)len, buf, why);
		}
	}
	ok(bad == 0, "20,000 mutations read as jansson reads them (%d differ)", bad);
	return done_testing();
}
