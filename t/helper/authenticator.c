/* authenticator.c: a software passkey for the tests: prints what a browser
 * with @simplewebauthn/browser would post (not installed)
 *
 *   authenticator create --key FILE --rp-id ID --origin ORIGIN
 *                        --challenge B64URL [--alg es256|eddsa|rs256]
 *                        [--fmt none|packed|packed-x5c|NAME] [--id B64URL]
 *                        [options]
 *       makes a key pair, writes FILE (PEM private key) and FILE.id (the
 *       credential id, base64url: --id's, or 32 random bytes), prints
 *       RegistrationResponseJSON
 *   authenticator get --key FILE --rp-id ID --origin ORIGIN
 *                     --challenge B64URL --count N [options]
 *       prints AuthenticationResponseJSON signed with FILE's key
 *
 * options, each to make one refused case:
 *   --count N             the signature counter (create: default 0)
 *   --no-up, --no-uv      leave flag UP or UV out (both set by default)
 *   --be, --bs            set flags BE, BS
 *   --type T              clientDataJSON type instead of the ceremony's
 *   --cross-origin        crossOrigin true
 *   --bad-sig             sign other bytes than the right ones
 *   --raw-id B64URL       send this as id and rawId
 * --rp-id is what is hashed into rpIdHash, --origin what clientDataJSON
 * says: a wrong one of either is just another value. Exit 0 when the JSON
 * is printed, 1 on a failure (a message on stderr), 2 on a usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authn-lib.h"
#include "rv-util.h"

static void __attribute__((noreturn))
usage(const char *why)
{
	fprintf(stderr, "authenticator: %s\n"
		"usage: authenticator create|get --key FILE --rp-id ID --origin ORIGIN\n"
		"         --challenge B64URL [--count N] [--alg es256|eddsa|rs256]\n"
		"         [--fmt none|packed|packed-x5c|NAME] [--no-up] [--no-uv]\n"
		"         [--be] [--bs] [--type T] [--cross-origin] [--bad-sig]\n"
		"         [--raw-id B64URL] [--id B64URL]\n", why);
	exit(2);
}

static int
alg_of(const char *s)
{
	if (strcmp(s, "es256") == 0)
		return -7;
	if (strcmp(s, "eddsa") == 0)
		return -8;
	if (strcmp(s, "rs256") == 0)
		return -257;
	usage("--alg: es256, eddsa or rs256");
}

int
main(int argc, char **argv)
{
	struct authn_opts o;
	struct authn a;
	const char *key = NULL, *cmd, *id = NULL;
	bool create, have_count = false;
	int i, alg = -7, rc;
	json_t *j;
	char *out;

	if (argc < 2)
		usage("no command");
	cmd = argv[1];
	if (strcmp(cmd, "create") != 0 && strcmp(cmd, "get") != 0)
		usage("the command is create or get");
	create = strcmp(cmd, "create") == 0;
	authn_opts_init(&o);
	o.rp_id = o.origin = NULL;
	for (i = 2; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		long long n;

#define ARG(name) (strcmp(opt, name) == 0 && (val != NULL || (usage(name ": no value"), 0)) && ++i)
		if (ARG("--key"))
			key = val;
		else if (ARG("--rp-id"))
			o.rp_id = val;
		else if (ARG("--origin"))
			o.origin = val;
		else if (ARG("--challenge"))
			o.challenge = val;
		else if (ARG("--type"))
			o.type = val;
		else if (ARG("--fmt"))
			o.fmt = val;
		else if (ARG("--raw-id"))
			o.raw_id = val;
		else if (ARG("--id"))
			id = val;
		else if (ARG("--alg"))
			alg = alg_of(val);
		else if (ARG("--count")) {
			if (rv_parse_ll(val, 0, 0xffffffffLL, &n) < 0)
				usage("--count: 0 to 4294967295");
			o.count = (unsigned long)n;
			have_count = true;
		} else if (strcmp(opt, "--no-up") == 0)
			o.flags &= (unsigned char)~AUTHN_UP;
		else if (strcmp(opt, "--no-uv") == 0)
			o.flags &= (unsigned char)~AUTHN_UV;
		else if (strcmp(opt, "--be") == 0)
			o.flags |= AUTHN_BE;
		else if (strcmp(opt, "--bs") == 0)
			o.flags |= AUTHN_BS;
		else if (strcmp(opt, "--cross-origin") == 0)
			o.cross_origin = true;
		else if (strcmp(opt, "--bad-sig") == 0)
			o.bad_sig = true;
		else
			usage("unknown option");
#undef ARG
	}
	if (key == NULL || o.rp_id == NULL || o.origin == NULL || o.challenge == NULL)
		usage("--key, --rp-id, --origin and --challenge are required");
	if (!create && !have_count)
		usage("get needs --count");
	if (create) {
		if (authn_new(&a, alg) < 0 ||
		    (id != NULL && rv_b64_decode(id, strlen(id), RV_B64_URL,
						 RV_B64_PAD_NO, a.id, sizeof(a.id),
						 &a.id_len) < 0) ||
		    authn_save(&a, key) < 0) {
			fprintf(stderr, "authenticator: cannot make or write the key '%s' (or --id is not base64url of 1-64 bytes)\n", key);
			authn_release(&a);
			return 1;
		}
		j = authn_create(&a, &o);
	} else {
		if (authn_load(&a, key) < 0) {
			fprintf(stderr, "authenticator: cannot read the key '%s' or '%s.id'\n",
				key, key);
			authn_release(&a);
			return 1;
		}
		j = authn_get(&a, &o);
	}
	authn_release(&a);
	if (j == NULL || (out = json_dumps(j, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "authenticator: signing failed\n");
		json_decref(j);
		return 1;
	}
	rc = puts(out) < 0 || fflush(stdout) != 0 ? 1 : 0;
	free(out);
	json_decref(j);
	return rc;
}
