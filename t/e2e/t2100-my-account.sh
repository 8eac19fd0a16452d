#!/bin/sh
# t2100-my-account: GET /api/my-account and every authentication error
# (logto-spec 6.4, 7, 8.1.5, 8.2) through lighttpd + mod_fastcgi
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance || bail_out "cannot set up the instance"
uid=$(add_user --username alice --email alice@example.com --name Alice) ||
	bail_out "cannot add a user"
start_lighttpd my-account || bail_out "lighttpd did not start"

get () {
	http GET /api/my-account "$@"
}

test_expect_success 'a valid token: 200 with the profile' '
	tok=$(mint "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .id)" = "$uid" &&
	test "$(json_get "$TRASH/body" .username)" = alice &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = alice@example.com &&
	test "$(json_get "$TRASH/body" .hasSecurityVerificationMethod)" = true &&
	test "$(json_get "$TRASH/body" .hasPassword)" = false &&
	json_get "$TRASH/body" .createdAt | grep -E "^[0-9]{13}$"
'

test_expect_success 'CORS: Access-Control-Allow-Origin: * without an Origin (AI-1)' '
	grep -ix "Access-Control-Allow-Origin: \*" "$TRASH/headers"
'

test_expect_success 'without the email scope there is no primaryEmail (AI-2)' '
	tok=$(MINT_SCOPE="openid profile" mint "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = alice &&
	test "$(json_get "$TRASH/body" "has(\"primaryEmail\")")" = false
'

test_expect_success 'openid alone: id and hasSecurityVerificationMethod only' '
	tok=$(MINT_SCOPE=openid mint "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" "keys | join(\",\")")" = "hasSecurityVerificationMethod,id"
'

test_expect_success 'no Authorization header: 401 auth.authorization_header_missing (D-4)' '
	get &&
	check_status 401 && check_code auth.authorization_header_missing &&
	grep -i "^WWW-Authenticate: Bearer" "$TRASH/headers"
'

test_expect_success 'Basic credentials: 401 auth.authorization_token_type_not_supported (D-5)' '
	get -H "Authorization: Basic YWxpY2U6c2VjcmV0" &&
	check_status 401 && check_code auth.authorization_token_type_not_supported &&
	test "$(json_get "$TRASH/body" ".data.supportedTypes[0]")" = Bearer
'

test_expect_success 'lowercase bearer is not Bearer (spec 7: case-sensitive)' '
	tok=$(mint "$uid") &&
	get -H "Authorization: bearer $tok" &&
	check_status 401 && check_code auth.authorization_token_type_not_supported
'

test_expect_success 'a token that is not a JWT: 401 auth.unauthorized (D-6)' '
	get -H "Authorization: Bearer opaque-token-from-logto" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'an expired token: 401 auth.unauthorized' '
	tok=$(mint "$uid" --expired) &&
	get -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'a token for another audience: 401 auth.unauthorized' '
	tok=$(mint "$uid" --audience https://other.api) &&
	get -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'a token from another issuer: 401 auth.unauthorized' '
	mkdir -p other &&
	other_store=$(store_line_ "$TRASH/other/store") &&
	sed -e "s|$TRASH/jwks.json|$TRASH/other/jwks.json|" \
	    -e "s|$TRASH/local.jwk|$TRASH/other/local.jwk|" \
	    -e "s|<store [^>]*/>|$other_store|" \
	    -e "s|$ISSUER|https://evil.test|" "$REVERIFY_CONFIG" >other/reverify.xml &&
	"$ADMIN" -q -c other/reverify.xml init &&
	tok=$("$ADMIN" -c other/reverify.xml token --any-user "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'a key id that is not in the JWKS: 401 auth.unauthorized' '
	sed -e "s|https://evil.test|$ISSUER|" other/reverify.xml >other/same-issuer.xml &&
	tok=$("$ADMIN" -c other/same-issuer.xml token --any-user "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'alg none: 401 auth.unauthorized' '
	tok=$(forge_token "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"$(local_kid)\"}" "$(claims_for "$uid")") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'HS256 signed with the public key (algorithm confusion): 401' '
	head=$(printf "%s" "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"$(local_kid)\"}" | b64url) &&
	body=$(claims_for "$uid" | b64url) &&
	sig=$(printf "%s.%s" "$head" "$body" |
		openssl dgst -sha256 -hmac "$(cat "$TRASH/jwks.json")" -binary | b64url) &&
	get -H "Authorization: Bearer $head.$body.$sig" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'a payload changed after signing: 401 auth.unauthorized' '
	tok=$(mint "$uid") &&
	head=${tok%%.*} && sig=${tok##*.} &&
	body=$(claims_for other-user | b64url) &&
	get -H "Authorization: Bearer $head.$body.$sig" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'lighttpd refuses oversized headers before reverify sees them' '
	big=$(awk "BEGIN { for (i = 0; i < 17000; i++) printf \"A\" }") &&
	get -H "Authorization: Bearer $big.$big.$big" &&
	check_status 431
'

test_expect_success 'no openid scope: 403 auth.forbidden (D-7)' '
	tok=$(MINT_SCOPE="profile email" mint "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	check_status 403 && check_code auth.forbidden
'

test_expect_success 'a third-party client may read its user (TP-4)' '
	tok=$(mint "$uid" --client-id third-party-app) &&
	get -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .id)" = "$uid"
'

test_expect_success 'errors are localised; codes are not' '
	get -H "Accept-Language: fr" &&
	check_status 401 && check_code auth.authorization_header_missing &&
	json_get "$TRASH/body" .message >fr.msg &&
	grep -F "$(cat fr.msg)" "$top_srcdir/conf/locale/fr.xml"
'

test_expect_success 'a user deleted after the token was minted: 404 entity.not_found (D-34)' '
	gone=$(add_user --username bob) &&
	tok=$(mint "$gone") &&
	"$ADMIN" -q user del "$gone" &&
	get -H "Authorization: Bearer $tok" &&
	check_status 404 && check_code entity.not_found
'

test_expect_success 'no token value ever reaches the log' '
	tok=$(mint "$uid") &&
	get -H "Authorization: Bearer $tok" &&
	sig=${tok##*.} &&
	! grep -F "$sig" "$TRASH/reverify.log"
'

test_done
