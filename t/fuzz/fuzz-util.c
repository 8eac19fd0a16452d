/* fuzz-util.c: what the libFuzzer targets in t/fuzz share */
#include "config.h"

#include "fuzz-util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rv-log.h"
#include "rv-util.h"
#include "rv-xml.h"

static char tmpdir[4096];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static void
rm_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
fuzz_init(void)
{
	static int done;

	if (done++)
		return;
	rv_log_init("fuzz");
	rv_xml_init();
	if (rv_log_open(RV_LOG_FILE, NULL, "/dev/null", RV_LOG_LEVEL_WARN) < 0)
		abort();
}

const char *
fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0] != '\0')
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/rv-fuzz.XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(rm_tmpdir);
	return tmpdir;
}

void
fuzz_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

char *
fuzz_strndup(const uint8_t *data, size_t n)
{
	char *s = rv_xmalloc(n + 1);

	if (n > 0)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

void
fuzz_split(const uint8_t *data, size_t size, char **a_r,
	   const uint8_t **rest_r, size_t *rest_len_r)
{
	const uint8_t *nul = size > 0 ? memchr(data, '\0', size) : NULL;
	size_t n = nul != NULL ? (size_t)(nul - data) : size;

	*a_r = fuzz_strndup(data, n);
	*rest_r = nul != NULL ? nul + 1 : data + size;
	*rest_len_r = nul != NULL ? size - n - 1 : 0;
}

void
fuzz_set_str(char **p, const char *v)
{
	free(*p);
	*p = rv_xstrdup(v);
}
