/* rv-pwnorm.c: a password as typed: well-formed UTF-8, NFKC, code points */
#include "config.h"
#include "rv-pwnorm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>
#include <uninorm.h>

#include "rv-err.h"
#include "rv-util.h"

/*
 * u8_normalize writes into our buffer when the result fits, so that the
 * normal form of a usual password never lands in memory we cannot wipe
 * (its own scratch for the canonical ordering is on its stack up to 128
 * characters).
 */
#define PREALLOC 1024

int
rv_pwnorm(const char *s, size_t len, char **out_r, size_t *len_r,
	  struct rv_err *err)
{
	const uint8_t *u = (const uint8_t *)s;
	uint8_t *buf, *res;
	size_t n;

	*out_r = NULL;
	*len_r = 0;
	if (memchr(s, '\0', len) != NULL || u8_check(u, len) != NULL) {
		rv_err_details(err, "Error in key path \"password\": (invalid_string) "
			       "Not well-formed UTF-8.");
		return rv_err_set(err, RV_E_INVALID_INPUT,
				  "password of %zu bytes is not well-formed UTF-8",
				  len);
	}
	buf = rv_xmalloc(PREALLOC + 1);
	n = PREALLOC;
	res = u8_normalize(UNINORM_NFKC, u, len, buf, &n);
	if (res == NULL)	/* only on ENOMEM: fatal, as everywhere */
		rv_bug(__FILE__, __LINE__, "u8_normalize failed");
	if (res != buf) {
		/* longer than PREALLOC: libunistring's own allocation */
		rv_wipe(buf, PREALLOC + 1);
		free(buf);
		buf = rv_xmalloc(n + 1);
		memcpy(buf, res, n);
		rv_wipe(res, n);
		free(res);
	}
	buf[n] = '\0';
	*out_r = (char *)buf;
	*len_r = n;
	return 0;
}

void
rv_pwnorm_free(char **p, size_t len)
{
	if (*p == NULL)
		return;
	rv_wipe(*p, len + 1);
	free(*p);
	*p = NULL;
}
