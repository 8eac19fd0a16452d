/* pwtool.c: passwords for the tests. Not installed.
 *
 *   pwtool list N      N lines "SHA1:count" (upper-case hex, sorted by
 *                      hash, as the Have I Been Pwned downloads are) of the
 *                      passwords "leaked pass 0" .. "leaked pass N-1"
 *   pwtool ends N      the two of those passwords whose hashes come first
 *                      and last, one a line
 *   pwtool hash-raw    a hash of the bytes on stdin (no line end taken
 *                      off), in <password scheme> of $REVERIFY_CONFIG, made
 *                      without NFKC: as a system that did not normalise
 *                      made it, for an import
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-password.h"
#include "rv-util.h"
#include "rv-xml.h"

#define SHA1_LEN 20

struct entry {
	unsigned char h[SHA1_LEN];
	unsigned long i;
};

static int
cmp_entry(const void *a, const void *b)
{
	return memcmp(a, b, SHA1_LEN);
}

static int
list(unsigned long n, bool ends)
{
	struct entry *v = rv_xcalloc(n ? n : 1, sizeof(*v));
	char pw[64], hex[2 * SHA1_LEN + 1];
	unsigned long i;
	unsigned int len;
	size_t k;

	for (i = 0; i < n; i++) {
		snprintf(pw, sizeof(pw), "leaked pass %lu", i);
		if (EVP_Digest(pw, strlen(pw), v[i].h, &len, EVP_sha1(), NULL) != 1)
			return 2;
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), cmp_entry);
	if (ends && n > 0)
		printf("leaked pass %lu\nleaked pass %lu\n", v[0].i, v[n - 1].i);
	for (i = 0; i < n && !ends; i++) {
		rv_hex(v[i].h, SHA1_LEN, hex);
		for (k = 0; k < 2 * SHA1_LEN; k++)
			if (hex[k] >= 'a')
				hex[k] = (char)(hex[k] - 'a' + 'A');
		printf("%s:%lu\n", hex, i % 1000 + 1);
	}
	free(v);
	return fflush(stdout) == 0 ? 0 : 2;
}

static int
hash_raw(void)
{
	char buf[1100], *hash = NULL;
	struct rv_conf conf;
	struct rv_err err;
	size_t n;
	int rc = 2;

	n = fread(buf, 1, sizeof(buf), stdin);
	rv_xml_init();
	rv_err_init(&err);
	if (getenv("REVERIFY_CONFIG") == NULL ||
	    rv_conf_load(getenv("REVERIFY_CONFIG"), &conf, &err) < 0) {
		fprintf(stderr, "pwtool: %s\n", err.msg[0] ? err.msg : "no REVERIFY_CONFIG");
		rv_err_release(&err);
		return 2;
	}
	if (rv_password_hash(buf, n, &conf, &hash, &err) == 0) {
		puts(hash);
		rc = 0;
	} else {
		fprintf(stderr, "pwtool: %s\n", err.msg);
	}
	free(hash);
	rv_conf_release(&conf);
	rv_err_release(&err);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "list") == 0)
		return list(strtoul(argv[2], NULL, 10), false);
	if (argc == 3 && strcmp(argv[1], "ends") == 0)
		return list(strtoul(argv[2], NULL, 10), true);
	if (argc == 2 && strcmp(argv[1], "hash-raw") == 0)
		return hash_raw();
	fprintf(stderr, "usage: pwtool list N | pwtool ends N | pwtool hash-raw <PASSWORD\n");
	return 2;
}
