/* rv-pwpolicy.h: the policy a new password must meet (logto-spec 6.5.3) */
#ifndef RV_PWPOLICY_H
#define RV_PWPOLICY_H

#include <stddef.h>

struct rv_conf;
struct rv_err;

/*
 * What a new password is compared with (<password-policy
 * reject-user-info>). Any member may be NULL; the strings are only read.
 * name counts as written and with its white space removed (so its words
 * count too); of email only the local part (before the last '@') counts.
 */
struct rv_pw_userinfo {
	const char *name;
	const char *username;
	const char *email;
	const char *phone;
};

/*
 * Once at start-up, before any rv_pwpolicy_check(): loads the pwned list
 * when <password-policy reject-pwned> is on, and does nothing otherwise:
 * the file <password-policy pwned-list>, or, when that is empty, the
 * sample conf/pwned-passwords.txt built into the programs (rv-data.h).
 * A second call replaces the list.
 *
 * A file that starts with the index magic (rv-pwned.h; built by
 * "reverify-admin pwned build") is mapped, not loaded, and searched where
 * it lies; it is re-opened when it changes on disk. Any other file is a
 * text list, loaded into memory, for small lists:
 *
 * The list has one entry a line: a password as it is (only the line end,
 * LF or CRLF, is taken off), or its SHA-1 as 40 hex digits of either case,
 * optionally followed by ":count" (the form of the Have I Been Pwned
 * downloads). Blank lines and lines starting with '#' are skipped, as is a
 * UTF-8 byte order mark. A password of exactly 40 hex digits can therefore
 * only be listed by its SHA-1.
 *
 * 0 ok; -1 with err (500, RV_E_INTERNAL) and err->msg "cannot read 'FILE':
 * why" or "FILE:LINE: NUL byte in line", or what rv_pwned_open() says of
 * an index, fit for a start-up error.
 */
int rv_pwpolicy_init(const struct rv_conf *conf, struct rv_err *err);
/* Frees the list; rv_pwpolicy_init() may be called again afterwards. */
void rv_pwpolicy_release(void);

/*
 * Checks a new password of len bytes (UTF-8; it may hold NUL bytes) against
 * conf's <password-policy>; ui may be NULL. Callers pass the NFKC form
 * (rv_pwnorm()), the form that is hashed.
 *
 * 0 when it passes. -1 with err = 422 "password.rejected" and err->data
 * (owned by err) = the JSON array of issues, in Logto's shape and in this
 * order:
 *   [{"code":"password_rejected.too_short","interpolation":{"min":8}},
 *    {"code":"password_rejected.pwned"}, ...]
 *   too_short {min} or too_long {max}   length in code points
 *   too_long {max: 72, unit: "bytes"}   with <password scheme="bcrypt">,
 *                                       over 72 bytes (RV_BCRYPT_MAX),
 *                                       when the length is within bounds
 *   character_types {min}               fewer classes than asked, of
 *                                       a-z, A-Z, 0-9 and symbols (ASCII
 *                                       space and punctuation, and every
 *                                       non-ASCII character)
 *   unsupported_characters              control characters (C0, DEL,
 *                                       C1) and bytes that are not UTF-8
 *   pwned                               on the list (SHA-1 of the exact
 *                                       bytes)
 *   restricted.repetition               runs of >= 3 of one character
 *   restricted.sequence                 runs of >= 3 along a-z, 0-9 or
 *                                       a keyboard row (qwertyuiop,
 *                                       asdfghjkl, zxcvbnm, 1234567890),
 *                                       either way
 *   restricted.user_info                pieces of >= 3 characters of ui
 *   restricted.words                    <password-policy reject-words>
 * The four restricted.* issues compare without regard to ASCII case and
 * are only raised when the characters they cover together (per issue) are
 * more than max(1, length - 3); the others are always raised. The two of
 * them on repetition and sequence follow <reject-repetition>, user_info
 * follows <reject-user-info> and pwned <reject-pwned>.
 *
 * -1 with err = 500 when reject-pwned is on and no list is loaded
 * (rv_pwpolicy_init() was not called), or its index is gone. The password never reaches err->msg.
 */
int rv_pwpolicy_check(const struct rv_conf *conf, const char *password,
		      size_t len, const struct rv_pw_userinfo *ui,
		      struct rv_err *err);

#endif
