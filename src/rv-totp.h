/* rv-totp.h: authenticator-app codes (RFC 4226 HOTP, RFC 6238 TOTP), their
 * enrolment URI and QR code, and backup codes (logto-spec 6.7; issue 20) */
#ifndef RV_TOTP_H
#define RV_TOTP_H

#include <stdbool.h>
#include <stddef.h>

struct rv_err;

/*
 * Secrets are base32 (RFC 4648 section 6, the alphabet A-Z2-7) as
 * authenticator apps and Logto (otplib) exchange them. We make 20 random
 * bytes (160 bits, RFC 4226 section 4 R6's recommendation: 32
 * characters); we accept from a client what Logto accepts, at least 10
 * bytes (16 characters; otplib's default) and at most 64.
 */
#define RV_TOTP_SECRET_BYTES 20
#define RV_TOTP_SECRET_B32 32		/* characters of a secret we make */
#define RV_TOTP_KEY_MIN 10		/* bytes */
#define RV_TOTP_KEY_MAX 64
#define RV_TOTP_PERIOD 30		/* seconds per step (RFC 6238 4.1) */
#define RV_TOTP_DIGITS 6

/* Decodes base32 (upper or lower case; '=' padding allowed only at the
 * end, and then exactly to a multiple of 8 characters; spaces refused;
 * bits left over in the last character ignored, as otplib does) into
 * out[outsize]: the byte count, or -1 when empty, malformed or too long
 * for out. */
long rv_base32_decode(const char *in, unsigned char *out, size_t outsize);
/* Encodes n bytes as upper-case base32 without padding into out (at
 * least (n * 8 + 4) / 5 + 1 bytes with the NUL). */
void rv_base32_encode(const unsigned char *in, size_t n, char *out);

/* A secret as a client may send it for POST
 * /api/my-account/mfa-verifications {type: "Totp", secret}: base32 of
 * RV_TOTP_KEY_MIN to RV_TOTP_KEY_MAX bytes (else 400
 * user.totp_secret_invalid at the call site). */
bool rv_totp_secret_valid(const char *secret);
/* A new secret: RV_TOTP_SECRET_BYTES random bytes as base32 into
 * out[RV_TOTP_SECRET_B32 + 1]. 0, or -1 (500) when the generator fails. */
int rv_totp_secret_new(char out[RV_TOTP_SECRET_B32 + 1], struct rv_err *err);

/* RFC 4226 5.3: the HOTP value of counter under key (HMAC-SHA-1), as
 * digits (6-8) decimal digits. */
unsigned long rv_hotp(const unsigned char *key, size_t klen,
		      unsigned long long counter, int digits);

/*
 * Checks a TOTP code (exactly RV_TOTP_DIGITS ASCII digits; anything else
 * is no match) at now_s (Unix seconds) against the steps
 * floor(now_s / 30) - window ... + window (RFC 6238 5.2: window 1 allows
 * one step of clock skew either way). Every step's value is computed and
 * compared in constant time, with no early exit. A step at or before
 * last_step (the last step this secret was used at; -1: never) is a
 * replay (RFC 6238 5.2: "MUST NOT accept the second attempt of the same
 * OTP after the successful validation"): refused, *replay_r set.
 * 1 with *step_r the step matched; 0 no match or a replay.
 */
int rv_totp_check(const unsigned char *key, size_t klen, const char *code,
		  long long now_s, int window, long long last_step,
		  long long *step_r, bool *replay_r);

/* The enrolment URI authenticator apps read (Google Authenticator's "Key
 * Uri Format"): otpauth://totp/ISSUER:ACCOUNT?secret=S&issuer=ISSUER
 * &algorithm=SHA1&digits=6&period=30, issuer and account
 * percent-encoded (RFC 3986 unreserved kept). malloc'd. */
char *rv_totp_uri(const char *issuer, const char *account, const char *secret);
/* text as a QR code (libqrencode, error correction M), as a data URL of
 * an SVG image ("data:image/svg+xml;base64,..."), what Logto's
 * secretQrCode is for (it sends a PNG data URL; an <img> shows either).
 * malloc'd, or NULL with err (500) when the text does not fit. */
char *rv_qr_data_url(const char *text, struct rv_err *err);

/*
 * Backup codes (logto-spec 6.7, 8.1.9): a set of RV_BACKUP_CODES codes of
 * RV_BACKUP_CODE_LEN characters of [0-9a-z], each usable once. Shown once
 * when made; the store keeps only keyed hashes of them.
 */
#define RV_BACKUP_CODES 10
#define RV_BACKUP_CODE_LEN 10
int rv_backup_codes_new(char codes[RV_BACKUP_CODES][RV_BACKUP_CODE_LEN + 1],
			struct rv_err *err);
/* A code as a client may send it: RV_BACKUP_CODE_LEN of [0-9a-zA-Z]
 * (compared lowercased). */
bool rv_backup_code_valid(const char *code);
/* The keyed hash the store keeps: HMAC-SHA256(pepper, "backup-code" || 0
 * || user || 0 || lowercased code) into out[32]. */
void rv_backup_code_mac(const unsigned char *pepper, const char *user,
			const char *code, unsigned char out[32]);

#endif
