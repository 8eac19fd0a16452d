/* totp-tool.c: rv-totp for the shell tests (t0040). Not installed.
 *
 *   totp-tool secret               a new secret (base32)
 *   totp-tool code SECRET T        the 6-digit code at Unix time T
 *   totp-tool check SECRET T CODE  exit 0 when CODE is accepted at T with
 *                                  window 1 (never used before), else 1
 *   totp-tool qr TEXT              the SVG of TEXT's QR code (from its
 *                                  data URL, base64 decoded)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv-err.h"
#include "rv-totp.h"
#include "rv-util.h"

static int
usage(void)
{
	fputs("usage: totp-tool secret | code SECRET T | check SECRET T CODE | "
	      "qr TEXT\n", stderr);
	return 2;
}

/* the key of a secret, or exit 2 */
static size_t
key_of(const char *secret, unsigned char *key, size_t size)
{
	long n = rv_base32_decode(secret, key, size);

	if (n < 0 || !rv_totp_secret_valid(secret)) {
		fputs("totp-tool: not a valid secret\n", stderr);
		exit(2);
	}
	return (size_t)n;
}

int
main(int argc, char **argv)
{
	unsigned char key[RV_TOTP_KEY_MAX];
	long long t;
	size_t klen;

	if (argc == 2 && strcmp(argv[1], "secret") == 0) {
		char s[RV_TOTP_SECRET_B32 + 1];

		if (rv_totp_secret_new(s, NULL) < 0)
			return 1;
		puts(s);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "qr") == 0) {
		const char *prefix = "data:image/svg+xml;base64,";
		char *url = rv_qr_data_url(argv[2], NULL), *svg;
		size_t n, len = 0;

		if (url == NULL || strncmp(url, prefix, strlen(prefix)) != 0)
			return 1;
		n = strlen(url + strlen(prefix));
		svg = rv_xmalloc(n);
		if (rv_b64_decode(url + strlen(prefix), n, RV_B64_STD,
				  RV_B64_PAD_REQ, (unsigned char *)svg, n, &len) < 0)
			return 1;
		fwrite(svg, 1, len, stdout);
		putchar('\n');
		free(svg);
		free(url);
		return 0;
	}
	if ((argc != 4 || strcmp(argv[1], "code") != 0) &&
	    (argc != 5 || strcmp(argv[1], "check") != 0))
		return usage();
	klen = key_of(argv[2], key, sizeof(key));
	if (rv_parse_ll(argv[3], 0, 1LL << 40, &t) < 0)
		return usage();
	if (argc == 4) {
		printf("%06lu\n", rv_hotp(key, klen, (unsigned long long)t / 30, 6));
		return 0;
	}
	return rv_totp_check(key, klen, argv[4], t, 1, -1, NULL, NULL) == 1 ? 0 : 1;
}
