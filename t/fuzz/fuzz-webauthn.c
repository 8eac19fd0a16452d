/* fuzz-webauthn.c: the passkey checks of rv-webauthn.c on hostile input
 *
 * The first byte picks what the rest is:
 *   'r'  a whole RegistrationResponseJSON (rv_webauthn_register)
 *   'a'  a whole AuthenticationResponseJSON (rv_webauthn_assert)
 *   'c'  the attestation object's bytes (CBOR), sent inside a registration
 *        whose clientDataJSON is right
 *   'd'  authenticatorData's bytes, inside an assertion whose
 *        clientDataJSON is right (the signature is then wrong, but every
 *        parse and check before it runs)
 *   'j'  clientDataJSON's bytes, inside a registration
 * The challenge is fixed, the RP "localhost" with origin
 * "http://localhost", and the stored credential of 'a' and 'd' is the
 * corpus's. The corpus (t/fuzz/corpus/fuzz-webauthn) was made with
 * t/helper/authenticator and that challenge: "create --rp-id localhost
 * --origin http://localhost --challenge CHAL --id 3q2-7w" for each --alg
 * and --fmt (reg-*), "get ... --count 2" with the key of
 * reg-es256-none (get-es256, whose public key is cred's below), and the
 * attestation objects, clientDataJSON and authenticatorData of those
 * decoded (cbor-*, cdj-*, authdata-*).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"
#include "rv-webauthn.h"

/* "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" decoded */
static const unsigned char chal[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};
static const char *const origins[] = { "http://localhost", NULL };
static const struct rv_webauthn_rp rp = { "localhost", "fuzz", origins, false };
#define CLIENT_DATA(type) \
	"{\"type\":\"" type "\",\"challenge\":" \
	"\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"," \
	"\"origin\":\"http://localhost\",\"crossOrigin\":false}"
/* the corpus's credential (x || y of reg-es256-none's P-256 key) */
static struct rv_webauthn_cred cred = {
	.cred_id = (char *)"3q2-7w",
	.cose_alg = -7,
	.public_key = (char *)"xVW5vvXLrgdyvJMgik-Sn2WKEnDt3zjFyzmFsA-D2eNN"
			      "Y0buEhUaYWpbVOto70AziyNk--hYjZZE01B075P7Vw",
	.sign_count = 1,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

static json_t *
wrap(const char *key, const char *b64, const char *cd)
{
	char *c = rv_xmalloc(RV_B64_SIZE(strlen(cd)));
	json_t *j;

	rv_b64_encode(cd, strlen(cd), RV_B64_URL, false, c);
	j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}",
		      "id", "3q2-7w", "rawId", "3q2-7w", "type", "public-key",
		      "response", "clientDataJSON", c, key, b64,
		      "signature", "MEUCIQ");
	free(c);
	return j;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_webauthn_cred got;
	struct rv_err err;
	unsigned long count;
	bool clone;
	json_t *j = NULL;
	char *b64, *cd = NULL;

	if (size < 1 || size > 65536)
		return 0;
	rv_err_init(&err);
	switch (data[0]) {
	case 'r':
	case 'a':
		j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
		break;
	case 'c':
	case 'd':
	case 'j':
		b64 = rv_xmalloc(RV_B64_SIZE(size - 1));
		rv_b64_encode(data + 1, size - 1, RV_B64_URL, false, b64);
		if (data[0] == 'j') {
			cd = fuzz_strndup(data + 1, size - 1);
			j = wrap("attestationObject", "oWNmbXRkbm9uZQ", cd);
		} else if (data[0] == 'c') {
			j = wrap("attestationObject", b64,
				 CLIENT_DATA("webauthn.create"));
		} else {
			j = wrap("authenticatorData", b64,
				 CLIENT_DATA("webauthn.get"));
		}
		free(b64);
		break;
	default:
		break;
	}
	if (j != NULL) {
		if (data[0] == 'a' || data[0] == 'd') {
			(void)rv_webauthn_payload_id(j);
			rv_webauthn_assert(&rp, chal, sizeof(chal), j, &cred,
					   &count, &clone, &err);
		} else if (rv_webauthn_register(&rp, chal, sizeof(chal), j, &got,
						&err) == 0) {
			rv_webauthn_cred_release(&got);
		}
	}
	json_decref(j);
	free(cd);
	rv_err_release(&err);
	return 0;
}
