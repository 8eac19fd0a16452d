# instance.sh: a reverify instance in the trash directory for tests
# shellcheck shell=sh disable=SC2154 # TRASH, top_builddir come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/instance.sh"
#	setup_instance || bail_out "cannot set up the instance"
#	uid=$(add_user --username alice --email alice@example.com)
#	tok=$(mint "$uid")
# Every instance has its own store, a local signing key trusted through
# its JWKS, issuer https://issuer.test, audience reverify and the
# first-party client demo-app.

ADMIN=$top_builddir/src/reverify-admin
ISSUER=https://issuer.test
AUDIENCE=reverify
export ADMIN ISSUER AUDIENCE

# instance_auth_ [EXTRA ATTRIBUTES]: the <auth> line of the instance
instance_auth_ () {
	printf '<auth issuer="%s" audience="%s" jwks="%s" local-key="%s" first-party="demo-app" %s/>' \
		"$ISSUER" "$AUDIENCE" "$TRASH/jwks.json" "$TRASH/local.jwk" "${1-}"
}

# setup_instance [XML LINE...]: write the config (store, auth, and the
# given lines, which must not repeat <store> or <auth>) and initialise the
# store and the local key with reverify-admin init.
setup_instance () {
	write_config "<store home=\"$TRASH/store\"/>" "$(instance_auth_ "${INSTANCE_AUTH-}")" "$@" &&
	"$ADMIN" -q init >"$TRASH/init.out" 2>&1 || {
		cat "$TRASH/init.out" >&2
		return 1
	}
}

# add_user ARGS...: reverify-admin user add ARGS, printing the new id
add_user () {
	"$ADMIN" user add "$@"
}

# mint USER_ID [ARGS...]: an access token for the user (default scopes
# "openid profile email phone", client demo-app)
mint () {
	mint_user_=$1
	shift
	"$ADMIN" token --scope "${MINT_SCOPE-openid profile email phone}" "$@" "$mint_user_"
}

# b64url: base64url of stdin, no padding
b64url () {
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

# forge_token HEADER_JSON PAYLOAD_JSON [SIGNATURE]: an unsigned or
# hand-signed compact JWS, for attacks
forge_token () {
	printf '%s.%s.%s' "$(printf '%s' "$1" | b64url)" "$(printf '%s' "$2" | b64url)" "${3-}"
}

# claims_for USER_ID [EXP_OFFSET]: a claims object like the local key's
claims_for () {
	now_=$(date +%s)
	printf '{"iss":"%s","aud":"%s","sub":"%s","client_id":"demo-app","scope":"openid profile email","iat":%s,"exp":%s}' \
		"$ISSUER" "$AUDIENCE" "$1" "$now_" "$((now_ + ${2-3600}))"
}

# local_kid: the kid of the instance's local key
local_kid () {
	jq -r .kid "$TRASH/local.jwk"
}
