/* rv-ident.h: e-mail addresses and phone numbers: checks, normal forms, policy */
#ifndef RV_IDENT_H
#define RV_IDENT_H

#include <stdbool.h>
#include <stddef.h>

struct rv_conf;
struct rv_err;

/* The body guards of logto-spec 2.2: an e-mail is at most 256 characters
 * matching ^\S+@\S+\.\S+$; a phone is ^\d+$ (no +, spaces or dashes). */
bool rv_ident_email_ok(const char *s);
bool rv_ident_phone_ok(const char *s);

/*
 * The recipient key of the send limit (logto-spec 5.2) and of the lockout:
 * the value trimmed; an address (it has an @) lowercased, and its domain
 * (after the last @) without one trailing dot and, when it is not ASCII,
 * in IDNA2008 ASCII form (libidn2):
 * "Bücher.Example." -> "xn--bcher-kva.example";
 * a phone as E.164 digits without a national leading 0 after the country
 * code ("64021..." -> "6421..."). A local part is lowercased in ASCII only.
 * Writes at most size bytes, NUL-terminated.
 */
void rv_ident_normalise(const char *value, char *out, size_t size);

/* The other form of a phone for collision checks (logto-spec 6.6.3): with
 * the national 0 when it has none, without it when it has; "" when the
 * country code is unknown. */
void rv_ident_phone_variant(const char *digits, char *out, size_t size);

/* Does the phone (digits, as sent) start, in its normal form
 * (rv_ident_normalise), with one of the space-separated digit prefixes of
 * list? An empty or NULL list allows every number. */
bool rv_ident_phone_allowed(const char *list, const char *phone);

/*
 * The e-mail policy of <email-policy> for a new address (logto-spec 5.3),
 * first failure wins: no domain, or (not in the spec) a trailing dot, a %
 * or a ! anywhere -> 400 session.email_blocklist.invalid_email; a + with block-subaddressing ->
 * 422 session.email_blocklist.email_subaddressing_not_allowed; not on a
 * non-empty allow list, or on the block list -> 422
 * session.email_blocklist.email_not_allowed ({{email}} in the message).
 * Entries match case-insensitively, and also in the normal form of
 * rv_ident_normalise on both sides; "@domain" matches the domain only,
 * otherwise the whole address; * matches any run of characters; gmail.com
 * and googlemail.com are one domain whose local parts ignore dots.
 */
int rv_ident_email_policy(const struct rv_conf *conf, const char *email,
			  struct rv_err *err);
/* One entry against one address, for tests. */
bool rv_ident_email_matches(const char *entry, const char *email);

#endif
