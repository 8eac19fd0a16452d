/* rv-util.h: allocation that never fails, assertions, small string helpers */
#ifndef RV_UTIL_H
#define RV_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/*
 * Out-of-memory is fatal everywhere (STYLE.md 3.4): these log and abort(),
 * the web server starts a new process. None of them returns NULL.
 */
void *rv_xmalloc(size_t n);
void *rv_xcalloc(size_t nmemb, size_t size);
void *rv_xrealloc(void *p, size_t n);
char *rv_xstrdup(const char *s);
char *rv_xstrndup(const char *s, size_t n);
/* Caller must free() the result. */
char *rv_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Programmer errors only; stays on in release builds. */
#define RV_ASSERT(cond) \
	do { \
		if (!(cond)) \
			rv_bug(__FILE__, __LINE__, #cond); \
	} while (0)
void rv_bug(const char *file, int line, const char *what)
	__attribute__((noreturn));

/*
 * Deferred set-up: a CGI process serves one request, most of which never
 * check a new password or render a message, so rv_main() turns this on
 * for CGI (not for FastCGI, nor for -t, which must see every error at
 * start-up). Setup functions that honour it (rv_pwpolicy_init,
 * rv_template_init, rv_i18n_init) then load on first use instead.
 */
void rv_setup_defer(bool on);
bool rv_setup_deferred(void);

/*
 * What a long-lived worker gives back when it has nothing to do: a module
 * that keeps memory between requests (argon2's buffer) registers a
 * function once (up to 8, each once); rv_main runs them all after a few
 * idle seconds (rv_run_idle), and the module makes its memory again on
 * next use.
 */
void rv_on_idle(void (*fn)(void));
void rv_run_idle(void);

/* Start-up (slowcgi): makes sure fds 0-2 are open, on /dev/null if need
 * be, so that no file opened later lands there. */
void rv_ensure_std_fds(void);

/* Wipe secrets so the compiler cannot drop the store (OPENSSL_cleanse). */
void rv_wipe(void *p, size_t n);

/* Copies at most size-1 bytes and NUL-terminates; returns strlen(src) so
 * that a result >= size means truncation (BSD strlcpy contract). */
size_t rv_strlcpy(char *dst, const char *src, size_t size);

/* ASCII-only helpers, independent of the C locale. */
bool rv_str_ieq(const char *a, const char *b);
bool rv_str_iprefix(const char *s, const char *prefix);
/* Decodes one strict UTF-8 sequence at *pp (before end; no overlong forms,
 * surrogates or values past U+10FFFF) and advances *pp past it: the code
 * point, or -1 (*pp unmoved) for bytes that are not. */
long rv_utf8_next(const unsigned char **pp, const unsigned char *end);
char rv_ascii_lower(char c);
/* The value of a hex digit (either case), or -1. */
int rv_hexdigit(char c);

/*
 * A short, printable excerpt of an untrusted value for err->msg, in buf
 * (size at least 5): the log must not get control characters from a
 * token, nor a whole token. Returns buf.
 */
const char *rv_str_show(const char *s, char *buf, size_t size);

/* Epoch milliseconds as ISO 8601 UTC with milliseconds and Z,
 * "2026-08-21T12:10:00.000Z" (logto-spec 3.4). */
void rv_iso8601_ms(long long ms, char out[32]);

/* Parses a whole decimal string into [min, max]; 0 ok, -1 not a number or
 * out of range. No sign, no spaces, no leading '+'. */
int rv_parse_ll(const char *s, long long min, long long max, long long *v_r);

/*
 * Whether someone other than the owner could change the file at path,
 * whose status is *sb (from fstat() of the open file, or stat()): NULL
 * when it is neither group- nor world-writable and its directory is not
 * world-writable without the sticky bit; else a static description of
 * what is wrong, for "the JWKS 'x' %s" (security review F15).
 */
const char *rv_file_unsafe(const char *path, const struct stat *sb);

/*
 * Decodes base64 strictly: only the alphabet's characters (RV_B64_AB64 is
 * passlib's, '.' for '+'), '=' padding as pad says (and then exactly
 * right), zero bits left over in the last character, at least one
 * character. At most max bytes go to out; 0 with *len_r, -1 malformed or
 * too long.
 */
enum rv_b64_alphabet { RV_B64_STD, RV_B64_AB64, RV_B64_URL /* RFC 4648 5 */ };
enum rv_b64_pad { RV_B64_PAD_NO, RV_B64_PAD_OPT, RV_B64_PAD_REQ };
int rv_b64_decode(const char *in, size_t n, enum rv_b64_alphabet alpha,
		  enum rv_b64_pad pad, unsigned char *out, size_t max,
		  size_t *len_r);
/* Encodes n bytes in the alphabet, with '=' padding when pad, into out
 * (at least RV_B64_SIZE(n) bytes): the length written, without the NUL. */
#define RV_B64_SIZE(n) (((n) + 2) / 3 * 4 + 1)
size_t rv_b64_encode(const void *in, size_t n, enum rv_b64_alphabet alpha,
		     bool pad, char *out);

/* Milliseconds of CLOCK_MONOTONIC. */
long long rv_mono_ms(void);

#endif
