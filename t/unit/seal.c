/* unit/seal: rv-seal.c and the key file it shares with the store */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-seal.h"
#include "rv-util.h"
#include "tap.h"

static const char secret[] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
#define AAD "totp\001usr_1\001fct_1"

static bool
all_zero(const unsigned char *p, size_t n)
{
	while (n > 0)
		if (p[--n] != 0)
			return false;
	return true;
}

/* opening sealed must fail with 500 and out wiped */
static int
refused(const unsigned char *key, const char *aad, const char *sealed,
	size_t outsize, const char *what)
{
	unsigned char out[256];
	struct rv_err err;
	long n;
	int r;

	rv_err_init(&err);
	memset(out, 0xa5, sizeof(out));
	n = rv_unseal(key, aad, sealed, out, outsize, &err);
	r = ok(n == -1 && err.status == 500 && all_zero(out, outsize) &&
	       strstr(err.msg, secret) == NULL,
	       "%s: refused, 500, out wiped (%s)", what, err.msg);
	rv_err_release(&err);
	return r;
}

/* sealed with the character at i (from its end when negative) changed */
static char *
flipped(const char *sealed, long i)
{
	char *s = rv_xstrdup(sealed);
	size_t at = i >= 0 ? (size_t)i : strlen(s) - (size_t)-i;

	s[at] = s[at] == 'A' ? 'B' : 'A';
	return s;
}

static void
test_seal(void)
{
	unsigned char key[RV_SEAL_KEY_LEN], key2[RV_SEAL_KEY_LEN], out[64];
	char *s1, *s2, *bad, *big;
	struct rv_err err;
	size_t len = 0;
	long n;

	rv_err_init(&err);
	rv_random_bytes(key, sizeof(key), NULL);
	memcpy(key2, key, sizeof(key));
	key2[31] ^= 1;
	s1 = rv_seal(key, AAD, secret, strlen(secret), &err);
	s2 = rv_seal(key, AAD, secret, strlen(secret), &err);
	ok(s1 != NULL && strncmp(s1, "v1.", 3) == 0 &&
	   strspn(s1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789-_") == strlen(s1 + 3),
	   "sealed: \"v1.\" and base64url without padding");
	n = rv_b64_decode(s1 + 3, strlen(s1 + 3), RV_B64_URL, RV_B64_PAD_NO, out,
			  sizeof(out), &len);
	ok(n == 0 && len == 12 + strlen(secret) + 16,
	   "nonce (12) + ciphertext + tag (16): %zu bytes", len);
	ok(memmem(out, len, secret, strlen(secret)) == NULL,
	   "the plaintext is not in it");
	ok(strcmp(s1, s2) != 0, "two seals of one plaintext differ (fresh nonce)");
	n = rv_unseal(key, AAD, s1, out, sizeof(out), &err);
	ok(n == (long)strlen(secret) && memcmp(out, secret, (size_t)n) == 0,
	   "it opens to the plaintext");
	n = rv_unseal(key, AAD, s2, out, strlen(secret), &err);
	ok(n == (long)strlen(secret) && memcmp(out, secret, (size_t)n) == 0,
	   "into a buffer of exactly its size");

	refused(key2, AAD, s1, sizeof(out), "another key (one bit)");
	refused(key, "totp\001usr_2\001fct_1", s1, sizeof(out), "another aad");
	big = rv_xmalloc(8000);
	memset(big, 'A', 7999);
	memcpy(big, "v1.", 3);
	big[7999] = '\0';
	refused(key, AAD, big, sizeof(out), "longer than any sealed value");
	free(big);
	refused(key, NULL, s1, sizeof(out), "no aad");
	refused(key, AAD, s1, strlen(secret) - 1, "a buffer one byte short");
	bad = flipped(s1, 4);
	refused(key, AAD, bad, sizeof(out), "a bit of the nonce changed");
	free(bad);
	bad = flipped(s1, 3 + 16 + 10);
	refused(key, AAD, bad, sizeof(out), "a bit of the ciphertext changed");
	free(bad);
	bad = flipped(s1, -3);
	refused(key, AAD, bad, sizeof(out), "a bit of the tag changed");
	free(bad);
	bad = rv_xstrndup(s1, strlen(s1) - 4);
	refused(key, AAD, bad, sizeof(out), "truncated by 3 bytes");
	free(bad);
	bad = rv_xstrndup(s1, 3 + 36);
	refused(key, AAD, bad, sizeof(out), "shorter than nonce and tag");
	free(bad);
	bad = flipped(s1, 1);
	refused(key, AAD, bad, sizeof(out), "another version");
	free(bad);
	refused(key, AAD, s1 + 3, sizeof(out), "no prefix");
	bad = rv_xasprintf("%.20s+%s", s1, s1 + 21);
	refused(key, AAD, bad, sizeof(out), "a character outside base64url");
	free(bad);
	bad = rv_xasprintf("%s=", s1);
	refused(key, AAD, bad, sizeof(out), "padding");
	free(bad);
	refused(key, AAD, "v1.", sizeof(out), "empty");
	refused(key, AAD, NULL, sizeof(out), "NULL");
	free(s1);
	free(s2);

	s1 = rv_seal(key, "", "", 0, &err);
	ok(s1 != NULL && rv_unseal(key, "", s1, out, sizeof(out), &err) == 0,
	   "an empty plaintext seals and opens");
	free(s1);
	rv_err_release(&err);
}

/* rv_seal_key_load of a file (mode 0600) of n bytes of data; removed
 * after. The message of a failure must quote none of the bytes. */
static int
load_written(const char *path, const void *data, size_t n,
	     unsigned char key[RV_SEAL_KEY_LEN])
{
	struct rv_err err;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600), rc = -2;

	rv_err_init(&err);
	if (fd >= 0 && write(fd, data, n) == (ssize_t)n)
		rc = rv_seal_key_load(path, false, key, &err);
	if (fd >= 0)
		close(fd);
	unlink(path);
	if (rc == -1 && (strstr(err.msg, "3c3c3c") != NULL ||
			 strstr(err.msg, "64 hex digits") == NULL))
		rc = -3;
	rv_err_release(&err);
	return rc;
}

static void
test_key_file(void)
{
	char dir[] = "/tmp/unit-seal.XXXXXX", path[64], hex[66];
	unsigned char key[RV_SEAL_KEY_LEN], again[RV_SEAL_KEY_LEN], want[32];
	struct rv_err err;
	struct stat sb;

	rv_err_init(&err);
	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/seal.key", dir);
	ok(rv_seal_key_load(path, false, key, &err) == -1 && err.status == 503,
	   "a missing key file without create: 503");
	rv_err_init(&err);
	ok(rv_seal_key_load(path, true, key, &err) == 0 && stat(path, &sb) == 0 &&
	   (sb.st_mode & 0777) == 0600, "with create, it is made, mode 0600");
	ok(rv_seal_key_load(path, false, again, &err) == 0 &&
	   memcmp(key, again, sizeof(key)) == 0, "and read again to the same key");
	rv_hex(key, sizeof(key), hex);
	chmod(path, 0644);
	ok(rv_seal_key_load(path, false, again, &err) == -1 && err.status == 500 &&
	   strstr(err.msg, "chmod 600") != NULL && strstr(err.msg, hex) == NULL,
	   "mode 0644 refused (%s)", err.msg);
	rv_err_init(&err);
	chmod(path, 0620);
	ok(rv_seal_key_load(path, false, again, &err) == -1,
	   "mode 0620 (group may write) refused");
	rv_err_init(&err);
	unlink(path);

	memset(want, 0x3c, sizeof(want));
	rv_hex(want, sizeof(want), hex);
	hex[64] = '\n';
	ok(load_written(path, hex, 65, key) == 0 && memcmp(key, want, 32) == 0,
	   "64 hex digits and a newline");
	ok(load_written(path, want, 32, key) == 0 && memcmp(key, want, 32) == 0,
	   "32 raw bytes");
	hex[63] = '\n';
	ok(load_written(path, hex, 64, key) == -1,
	   "63 hex digits and a newline refused");
	ok(load_written(path, hex, 31, key) == -1, "31 bytes refused");

	ok(symlink("/dev/null", path) == 0 &&
	   rv_seal_key_load(path, true, key, &err) == -1,
	   "a symbolic link refused (O_NOFOLLOW)");
	rv_err_init(&err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/seal.key", dir);
	ok(rv_seal_key_load(path, true, key, &err) == -1 && err.status == 503,
	   "create in a missing directory: not made, 503");
	rv_err_release(&err);
	rmdir(dir);
}

int
main(void)
{
	test_seal();
	test_key_file();
	return done_testing();
}
