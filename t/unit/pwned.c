/* unit/pwned: rv-pwned.c: building the breached-password index, looking
 * it up, refusing a damaged one, following a replaced one; and
 * rv-pwpolicy.c using it through <password-policy pwned-list> */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-pwned.h"
#include "rv-pwpolicy.h"
#include "rv-util.h"
#include "tap.h"

/* SHA-1 of "P@ssw0rd", "123456", "iloveyou" */
#define H_PASSW0RD "21BD12DC183F740EE76F27B78EB39C8AD972A757"
#define H_123456 "7c4a8d09ca3762af61e59520943dc26494f8941b"
#define H_ILOVEYOU "ee8d8728f435fd550f83852aabab5234ce1da528"

static char dir[] = "/tmp/rv-pwned-XXXXXX";

static char *
path_of(const char *name)
{
	return rv_xasprintf("%s/%s", dir, name);
}

/* Builds out from text; returns rv_pwned_build()'s result. */
static int
build(const char *text, size_t len, const char *out, unsigned long long *n_r,
      struct rv_err *err)
{
	FILE *in = fmemopen((void *)text, len, "r");
	int rc;

	if (in == NULL) {
		perror("fmemopen");
		exit(99);
	}
	rc = rv_pwned_build(in, "in.txt", out, NULL, NULL, n_r, err);
	fclose(in);
	return rc;
}

static int
lookup_hex(struct rv_pwned *idx, const char *hex)
{
	unsigned char d[RV_PWNED_SHA1];
	struct rv_err err;
	int rc;

	if (rv_unhex(hex, d, sizeof(d)) < 0)
		return -9;
	rv_err_init(&err);
	rc = rv_pwned_lookup(idx, d, &err);
	rv_err_release(&err);
	return rc;
}

/* Opens path; "" when it opens, else err->msg (a static buffer). */
static const char *
open_msg(const char *path)
{
	static char out[512];
	struct rv_pwned *idx = NULL;
	struct rv_err err;

	rv_err_init(&err);
	if (rv_pwned_open(path, &idx, &err) == 0)
		out[0] = '\0';
	else
		rv_strlcpy(out, err.msg, sizeof(out));
	rv_pwned_close(&idx);
	rv_err_release(&err);
	return out;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(path);
		exit(99);
	}
	close(fd);
}

static char *
read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	char *buf = rv_xmalloc(1 << 20);

	*len_r = fp != NULL ? fread(buf, 1, 1 << 20, fp) : 0;
	if (fp != NULL)
		fclose(fp);
	return buf;
}

static void
test_build_lookup(void)
{
	static const char text[] =
		"\xef\xbb\xbf" "# HIBP style, out of order, both cases\r\n"
		H_PASSW0RD ":3861493\r\n"
		"\n"
		H_123456 "\n"
		"7C4A8D09CA3762AF61E59520943DC26494F8941B:37359195\n"
		H_ILOVEYOU;
	char *out = path_of("a.idx");
	unsigned long long n = 0;
	struct rv_pwned *idx = NULL;
	struct rv_err err;
	struct stat st;

	rv_err_init(&err);
	is_int(build(text, sizeof(text) - 1, out, &n, &err), 0,
	       "a list with a BOM, a comment, CRLF, :count and both cases builds");
	is_int(n, 3, "three entries: the duplicate in other case counted once");
	ok(stat(out, &st) == 0 && st.st_size == RV_PWNED_HEADER + 3 * RV_PWNED_SHA1,
	   "the file is the header and three entries");
	ok(rv_pwned_is_index(out), "it starts with the magic");
	is_int(rv_pwned_open(out, &idx, &err), 0, "it opens");
	is_int(rv_pwned_count(idx), 3, "with three entries");
	is_int(lookup_hex(idx, H_PASSW0RD), 1, "hit: the first entry");
	is_int(lookup_hex(idx, H_123456), 1, "hit: the one listed twice");
	is_int(lookup_hex(idx, H_ILOVEYOU), 1, "hit: the last line without newline");
	is_int(lookup_hex(idx, "0000000000000000000000000000000000000000"), 0,
	       "miss: below every entry");
	is_int(lookup_hex(idx, "ffffffffffffffffffffffffffffffffffffffff"), 0,
	       "miss: above every entry");
	is_int(lookup_hex(idx, "7c4a8d09ca3762af61e59520943dc26494f8941c"), 0,
	       "miss: one bit from an entry");
	rv_pwned_close(&idx);
	ok(idx == NULL, "close sets the pointer to NULL");
	rv_err_release(&err);

	/* empty input: an empty, valid index */
	rv_err_init(&err);
	is_int(build("# nothing\n", 10, out, &n, &err), 0, "a list of comments builds");
	is_int(n, 0, "into an empty index");
	is_int(rv_pwned_open(out, &idx, &err), 0, "which opens");
	is_int(lookup_hex(idx, H_123456), 0, "and lists nothing");
	rv_pwned_close(&idx);
	rv_err_release(&err);
	free(out);
}

/* Many entries, out of order past the streaming chunk: the file's part is
 * read back and everything sorted. */
static void
test_large_unsorted(void)
{
	enum { N = 200000 };
	char *text = rv_xmalloc((size_t)N * 41 + 1), *out = path_of("big.idx");
	unsigned char d[RV_PWNED_SHA1];
	unsigned long long n = 0, i;
	struct rv_pwned *idx = NULL;
	struct rv_err err;
	bool all = true;
	size_t len = 0;

	/* ascending for the first 150000 (streamed), then descending */
	for (i = 0; i < N; i++) {
		unsigned long long k = i < 150000 ? i : N + 150000 - i;

		memset(d, 0, sizeof(d));
		d[0] = (unsigned char)(k >> 16);
		d[1] = (unsigned char)(k >> 8);
		d[2] = (unsigned char)k;
		d[19] = 0x5a;
		rv_hex(d, sizeof(d), text + len);
		len += 40;
		text[len++] = '\n';
	}
	rv_err_init(&err);
	is_int(build(text, len, out, &n, &err), 0, "200000 lines, sorted then not, build");
	is_int(n, N, "every entry kept");
	is_int(rv_pwned_open(out, &idx, &err), 0, "the index opens (its order checked)");
	for (i = 0; i < N + 150000 + 1 && all; i += 997) {
		memset(d, 0, sizeof(d));
		d[0] = (unsigned char)(i >> 16);
		d[1] = (unsigned char)(i >> 8);
		d[2] = (unsigned char)i;
		d[19] = 0x5a;
		all = rv_pwned_lookup(idx, d, &err) ==
		      (i < 150000 || (i > 150000 && i <= N) ? 1 : 0);
		if (!all)
			diag("entry %llu", i);
	}
	ok(all, "every entry found, nothing else");
	rv_pwned_close(&idx);
	rv_err_release(&err);
	free(text);
	free(out);
}

static void
test_bad_input(void)
{
	char *out = path_of("bad.idx");
	unsigned long long n = 99;
	struct rv_err err;

	write_file(out, "old", 3);
	rv_err_init(&err);
	is_int(build(H_123456 "\nnot a hash\n", 52, out, &n, &err), -1,
	       "a line that is no SHA-1 is an error");
	is_str(err.msg, "in.txt:2: not a SHA-1 (40 hex digits, optionally followed by :count)",
	       "that names the line");
	ok(rv_pwned_is_index(out) == false, "and leaves the old file as it was");
	rv_err_release(&err);
	rv_err_init(&err);
	is_int(build("\n\n" H_123456 ":12x\n", 48, out, &n, &err), -1,
	       "a count that is no number is an error");
	is_str(err.msg, "in.txt:3: not a SHA-1 (40 hex digits, optionally followed by :count)",
	       "on line 3");
	rv_err_release(&err);
	rv_err_init(&err);
	is_int(build(H_123456 "0\n", 42, out, &n, &err), -1, "41 hex digits are an error");
	rv_err_release(&err);
	rv_err_init(&err);
	is_int(build("abc\0def\n", 8, out, &n, &err), -1, "a NUL byte is an error");
	is_str(err.msg, "in.txt:1: NUL byte in line", "naming the line");
	rv_err_release(&err);
	rv_err_init(&err);
	is_int(build(H_123456 "\n", 41, "/nonexistent/dir/x.idx", &n, &err), -1,
	       "an output directory that does not exist is an error");
	ok(strstr(err.msg, "cannot create '/nonexistent/dir/x.idx.tmp.") != NULL,
	   "that names the file (\"%s\")", err.msg);
	rv_err_release(&err);
	unlink(out);
	free(out);
}

static void
test_damaged(void)
{
	char *good = path_of("good.idx"), *bad = path_of("damaged.idx"), *buf;
	char *want, tmp[64];
	unsigned long long n;
	struct rv_err err;
	size_t len;

	rv_err_init(&err);
	build(H_PASSW0RD "\n" H_123456 "\n" H_ILOVEYOU "\n", 123, good, &n, &err);
	rv_err_release(&err);
	buf = read_file(good, &len);
	is_int(len, RV_PWNED_HEADER + 3 * RV_PWNED_SHA1, "a good index of 3 entries");
	is_str(open_msg(good), "", "opens");

	write_file(bad, buf, len - 7);
	want = rv_xasprintf("'%s': truncated or damaged: %zu bytes, the header says 3 entries",
			    bad, len - 7);
	is_str(open_msg(bad), want, "a truncated copy is refused, with sizes");
	free(want);

	write_file(bad, buf, 10);
	want = rv_xasprintf("'%s': not a pwned index (10 bytes)", bad);
	is_str(open_msg(bad), want, "a file shorter than the header is refused");
	free(want);

	write_file(bad, "", 0);
	want = rv_xasprintf("'%s': not a pwned index (0 bytes)", bad);
	is_str(open_msg(bad), want, "an empty file is refused");
	free(want);

	memcpy(tmp, buf, 24);
	tmp[0] = 'X';
	write_file(bad, tmp, 24);
	want = rv_xasprintf("'%s': not a pwned index (bad magic)", bad);
	is_str(open_msg(bad), want, "a bad magic is refused");
	free(want);

	buf[8] = 7;
	write_file(bad, buf, len);
	want = rv_xasprintf("'%s': pwned index version 7, expected 1", bad);
	is_str(open_msg(bad), want, "another version is refused");
	free(want);
	buf[8] = 1;

	buf[16] = 4;	/* count 4 with 3 entries */
	write_file(bad, buf, len);
	want = rv_xasprintf("'%s': truncated or damaged: %zu bytes, the header says 4 entries",
			    bad, len);
	is_str(open_msg(bad), want, "a count larger than the file is refused");
	free(want);
	buf[16] = 3;

	/* the first two entries swapped: out of order */
	memcpy(tmp, buf + 24, 20);
	memcpy(buf + 24, buf + 44, 20);
	memcpy(buf + 44, tmp, 20);
	write_file(bad, buf, len);
	want = rv_xasprintf("'%s': entries out of order", bad);
	is_str(open_msg(bad), want, "entries out of order are refused");
	free(want);

	want = rv_xasprintf("cannot open '%s/none.idx': No such file or directory", dir);
	free(bad);
	bad = path_of("none.idx");
	is_str(open_msg(bad), want, "a missing file is refused");
	free(want);

	unlink(good);
	free(buf);
	free(good);
	free(bad);
}

/* A running process follows an index replaced by a new build. */
static void
test_reopen(void)
{
	char *out = path_of("live.idx"), *tmp = path_of("live.tmp");
	struct rv_pwned *idx = NULL;
	unsigned long long n;
	struct rv_err err;

	rv_err_init(&err);
	build(H_123456 "\n", 41, out, &n, &err);
	is_int(rv_pwned_open(out, &idx, &err), 0, "an index of one entry opens");
	is_int(lookup_hex(idx, H_ILOVEYOU), 0, "iloveyou is not in it");
	build(H_123456 "\n" H_ILOVEYOU "\n", 82, out, &n, &err);
	is_int(lookup_hex(idx, H_ILOVEYOU), 1, "after a new build over it, it is");
	/* a damaged replacement keeps the old mapping (replaced by a rename,
	 * as the build does: a file written into while mapped is not safe) */
	write_file(tmp, "RVPWNED\njunk", 12);
	rename(tmp, out);
	is_int(lookup_hex(idx, H_ILOVEYOU), 1,
	       "a damaged file written over it: the old index still answers");
	is_int(lookup_hex(idx, H_123456), 1, "every entry of it");
	unlink(out);
	is_int(lookup_hex(idx, H_ILOVEYOU), 1, "so does a removed one");
	rv_pwned_close(&idx);
	rv_err_release(&err);
	free(out);
	free(tmp);
}

/* <password-policy pwned-list> naming an index. */
static void
test_policy(void)
{
	char *out = path_of("policy.idx");
	unsigned long long n;
	struct rv_conf conf;
	struct rv_err err;

	rv_conf_defaults(&conf);
	rv_err_init(&err);
	build(H_PASSW0RD "\n" "B1B3773A05C0ED0176787A4F1574FF0075F7521E\n", 82, out,
	      &n, &err);	/* P@ssw0rd, qwerty */
	free(conf.pp_pwned_list);
	conf.pp_pwned_list = rv_xstrdup(out);
	is_int(rv_pwpolicy_init(&conf, &err), 0, "the policy takes an index as its list");
	is_int(rv_pwpolicy_check(&conf, "P@ssw0rd", 8, NULL, &err), -1,
	       "P@ssw0rd is refused");
	{
		char *data = err.data != NULL ? json_dumps(err.data, JSON_COMPACT) : NULL;

		is_str(data, "[{\"code\":\"password_rejected.pwned\"}]",
		       "422 password.rejected with the pwned issue");
		free(data);
	}
	rv_err_release(&err);
	rv_err_init(&err);
	is_int(rv_pwpolicy_check(&conf, "kV9#mQ2!xL", 10, NULL, &err), 0,
	       "a strong password passes");
	is_int(rv_pwpolicy_check(&conf, "iloveyou", 8, NULL, &err), 0,
	       "iloveyou passes: the index replaced the sample");
	rv_err_release(&err);
	rv_pwpolicy_release();
	/* a damaged index is a start-up error */
	write_file(out, "RVPWNED\n", 8);
	rv_err_init(&err);
	is_int(rv_pwpolicy_init(&conf, &err), -1, "a damaged index is a start-up error");
	ok(err.status == 500 && strstr(err.msg, "not a pwned index") != NULL,
	   "500, saying why (\"%s\")", err.msg);
	rv_err_release(&err);
	rv_pwpolicy_release();
	unlink(out);
	free(out);
	rv_conf_release(&conf);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_build_lookup();
	test_large_unsorted();
	test_bad_input();
	test_damaged();
	test_reopen();
	test_policy();
	rmdir(dir);
	return done_testing();
}
