/* rv-pwnorm.h: a password as typed: well-formed UTF-8, NFKC, code points */
#ifndef RV_PWNORM_H
#define RV_PWNORM_H

#include <stddef.h>

struct rv_err;

/*
 * A password as reverify hashes and checks it (NIST SP 800-63B-4 3.1.1.2:
 * Unicode accepted, normalised with NFKC before hashing): the NFKC form of
 * the UTF-8 bytes s[0..len), by libunistring's u8_normalize. ASCII is its
 * own NFKC form, so an ASCII password is unchanged.
 *
 * 0 with *out_r (malloc'd, NUL-terminated; give it back with
 * rv_pwnorm_free()) and its length in bytes in *len_r. -1 with err = 400
 * guard.invalid_input when s is not well-formed UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF included) or holds a NUL byte;
 * err->msg and the details say which, never the password.
 *
 * Only programs that link $(UNISTRING_LIBS) may call it (Makefile.am).
 */
int rv_pwnorm(const char *s, size_t len, char **out_r, size_t *len_r,
	      struct rv_err *err);
/* Wipes and frees *p (len bytes and its NUL) and sets *p to NULL. */
void rv_pwnorm_free(char **p, size_t len);

#endif
