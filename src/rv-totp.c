/* rv-totp.c: authenticator-app codes (RFC 4226 HOTP, RFC 6238 TOTP), their
 * enrolment URI and QR code, and backup codes */
#include "config.h"
#include "rv-totp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-util.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int
b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/*
 * RFC 4648 section 6: a group of 8 characters is 5 bytes, and a last,
 * partial group has 2, 4, 5 or 7 characters (then '=' pads it to 8 when
 * padding is there at all). Bits left over in the last character are
 * ignored, as otplib's decoder (what Logto runs) does.
 */
long
rv_base32_decode(const char *in, unsigned char *out, size_t outsize)
{
	size_t n, npad = 0, i, o = 0;

	if (in == NULL)
		return -1;
	n = strlen(in);
	while (npad < n && in[n - 1 - npad] == '=')
		npad++;
	n -= npad;
	if (n == 0 || n % 8 == 1 || n % 8 == 3 || n % 8 == 6 ||
	    (npad > 0 && (n % 8 == 0 || (n + npad) % 8 != 0)) ||
	    n / 8 * 5 + n % 8 * 5 / 8 > outsize)
		return -1;
	for (i = 0; i < n; i += 8) {	/* a group: 8 characters, 40 bits */
		size_t m = n - i < 8 ? n - i : 8, k;
		unsigned long long v = 0;

		for (k = 0; k < 8; k++) {
			int d = k < m ? b32_value(in[i + k]) : 0;

			if (d < 0) {
				rv_wipe(out, o);
				return -1;
			}
			v = v << 5 | (unsigned int)d;
		}
		for (k = 0; k < m * 5 / 8; k++)
			out[o++] = (unsigned char)(v >> (32 - 8 * k));
	}
	return (long)o;
}

void
rv_base32_encode(const unsigned char *in, size_t n, char *out)
{
	unsigned int acc = 0;
	size_t i;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			*out++ = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		*out++ = b32_alphabet[(acc << (5 - bits)) & 31];
	*out = '\0';
}

bool
rv_totp_secret_valid(const char *secret)
{
	unsigned char key[RV_TOTP_KEY_MAX];
	long n = rv_base32_decode(secret, key, sizeof(key));

	rv_wipe(key, sizeof(key));
	return n >= RV_TOTP_KEY_MIN;
}

int
rv_totp_secret_new(char out[RV_TOTP_SECRET_B32 + 1], struct rv_err *err)
{
	unsigned char key[RV_TOTP_SECRET_BYTES];

	if (rv_random_bytes(key, sizeof(key), err) < 0)
		return -1;
	rv_base32_encode(key, sizeof(key), out);
	rv_wipe(key, sizeof(key));
	return 0;
}

unsigned long
rv_hotp(const unsigned char *key, size_t klen, unsigned long long counter,
	int digits)
{
	static const unsigned long mod[] = { 1000000, 10000000, 100000000 };
	unsigned char msg[8], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, off;
	unsigned long bin;
	int i;

	RV_ASSERT(digits >= 6 && digits <= 8 && klen <= 0x7fffffff);
	for (i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	if (HMAC(EVP_sha1(), key, (int)klen, msg, sizeof(msg), md, &mdlen) == NULL ||
	    mdlen != 20)
		return (unsigned long)-1;	/* matches no code */
	/* RFC 4226 5.3: dynamic truncation */
	off = md[19] & 0xf;
	bin = (unsigned long)(md[off] & 0x7f) << 24 | (unsigned long)md[off + 1] << 16 |
	      (unsigned long)md[off + 2] << 8 | md[off + 3];
	rv_wipe(md, sizeof(md));
	return bin % mod[digits - 6];
}

static bool
code_well_formed(const char *code)
{
	int i;

	if (code == NULL)
		return false;
	for (i = 0; i < RV_TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return code[i] == '\0';
}

int
rv_totp_check(const unsigned char *key, size_t klen, const char *code,
	      long long now_s, int window, long long last_step,
	      long long *step_r, bool *replay_r)
{
	long long t, s, found = -1;
	bool replayed = false;
	char want[24];

	if (replay_r != NULL)
		*replay_r = false;
	if (!code_well_formed(code))
		return 0;
	window = window < 0 ? 0 : window > 10 ? 10 : window;
	/* floor, also before 1970 (a clock may be that wrong) */
	t = now_s >= 0 ? now_s / RV_TOTP_PERIOD :
			 -((RV_TOTP_PERIOD - 1 - now_s) / RV_TOTP_PERIOD);
	/* every step is computed and compared (no early exit); the first
	 * match after last_step wins, so a code valid at two steps is never
	 * taken as a replay */
	for (s = t - window; s <= t + window; s++) {
		bool eq;

		if (s < 0)
			continue;
		snprintf(want, sizeof(want), "%0*lu", RV_TOTP_DIGITS,
			 rv_hotp(key, klen, (unsigned long long)s, RV_TOTP_DIGITS));
		eq = rv_memeq_secret(want, code, RV_TOTP_DIGITS + 1);
		if (eq && s > last_step && found < 0)
			found = s;
		replayed |= eq && s <= last_step;
	}
	rv_wipe(want, sizeof(want));
	if (found >= 0) {
		if (step_r != NULL)
			*step_r = found;
		return 1;
	}
	if (replay_r != NULL)
		*replay_r = replayed;
	return 0;
}

/* RFC 3986 2.3: unreserved characters stay, every other byte is %XX */
static void
add_pct(struct rv_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			rv_buf_addch(b, (char)c);
		else
			rv_buf_addf(b, "%%%02X", c);
	}
}

char *
rv_totp_uri(const char *issuer, const char *account, const char *secret)
{
	struct rv_buf b = RV_BUF_INIT;
	bool has_issuer = issuer != NULL && *issuer != '\0';

	b.secret = true;

	rv_buf_addstr(&b, "otpauth://totp/");
	if (has_issuer) {
		add_pct(&b, issuer);
		rv_buf_addch(&b, ':');
	}
	add_pct(&b, account != NULL ? account : "");
	rv_buf_addstr(&b, "?secret=");
	add_pct(&b, secret);
	if (has_issuer) {
		rv_buf_addstr(&b, "&issuer=");
		add_pct(&b, issuer);
	}
	rv_buf_addf(&b, "&algorithm=SHA1&digits=%d&period=%d", RV_TOTP_DIGITS,
		    RV_TOTP_PERIOD);
	return rv_buf_detach(&b, NULL);
}

#define QR_QUIET 4		/* modules of quiet zone (ISO/IEC 18004) */

/*
 * One <path> of the dark modules, a horizontal run at a time: a version 10
 * code (an otpauth URI of 150 bytes) is a few kB of SVG, where a PNG data
 * URL needs zlib. The white background is drawn, so a dark page does not
 * eat the quiet zone.
 */
char *
rv_qr_data_url(const char *text, struct rv_err *err)
{
	struct rv_buf svg = RV_BUF_INIT, url = RV_BUF_INIT;
	QRcode *qr;
	int w, x, y, x0;

	svg.secret = url.secret = true;

	qr = text != NULL && *text != '\0' ?
		     QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) :
		     NULL;
	if (qr == NULL) {
		rv_err_set(err, RV_E_INTERNAL,
			   "the text does not fit in a QR code (%zu bytes)",
			   text != NULL ? strlen(text) : 0);
		return NULL;
	}
	w = qr->width;
	rv_buf_addf(&svg,
		    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
		    " shape-rendering=\"crispEdges\"><path fill=\"#fff\""
		    " d=\"M0 0h%dv%dH0z\"/><path d=\"",
		    w + 2 * QR_QUIET, w + 2 * QR_QUIET, w + 2 * QR_QUIET,
		    w + 2 * QR_QUIET);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			if (!(qr->data[y * w + x] & 1))
				continue;
			for (x0 = x; x < w && (qr->data[y * w + x] & 1); x++)
				;
			rv_buf_addf(&svg, "M%d %dh%dv1h-%dz", x0 + QR_QUIET,
				    y + QR_QUIET, x - x0, x - x0);
		}
	rv_buf_addstr(&svg, "\"/></svg>");
	rv_wipe(qr->data, (size_t)w * (size_t)w);
	QRcode_free(qr);

	rv_buf_addstr(&url, "data:image/svg+xml;base64,");
	rv_buf_grow(&url, RV_B64_SIZE(svg.len));
	url.len += rv_b64_encode(svg.buf, svg.len, RV_B64_STD, true,
				 url.buf + url.len);
	rv_buf_release_secret(&svg);	/* the QR code holds the secret */
	return rv_buf_detach(&url, NULL);
}

int
rv_backup_codes_new(char codes[RV_BACKUP_CODES][RV_BACKUP_CODE_LEN + 1],
		    struct rv_err *err)
{
	int i, j;

	for (i = 0; i < RV_BACKUP_CODES; i++) {
		if (rv_random_id(codes[i], RV_BACKUP_CODE_LEN, err) < 0) {
			rv_wipe(codes, sizeof(codes[0]) * RV_BACKUP_CODES);
			return -1;
		}
		/* one in 10^14 or so, but a set of ten must be ten codes */
		for (j = 0; j < i; j++)
			if (strcmp(codes[i], codes[j]) == 0) {
				i--;
				break;
			}
	}
	return 0;
}

bool
rv_backup_code_valid(const char *code)
{
	size_t i;

	if (code == NULL)
		return false;
	for (i = 0; i < RV_BACKUP_CODE_LEN; i++) {
		char c = rv_ascii_lower(code[i]);

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return code[i] == '\0';
}

void
rv_backup_code_mac(const unsigned char *pepper, const char *user,
		   const char *code, unsigned char out[32])
{
	struct rv_buf b = RV_BUF_INIT;

	b.secret = true;
	rv_buf_add(&b, "backup-code", sizeof("backup-code"));	/* with the NUL */
	rv_buf_add(&b, user, strlen(user) + 1);
	for (; *code != '\0'; code++)
		rv_buf_addch(&b, rv_ascii_lower(*code));
	/* the pepper is a store key: 32 bytes (rv_key_file_load) */
	rv_hmac_sha256(pepper, 32, b.buf, b.len, NULL, 0, out);
	rv_buf_release_secret(&b);
}
