#!/bin/sh
# t3220-mfa-webauthn: a passkey registered (logto-spec 2.5, 8.1.9), bound
# through /api/my-account/mfa-verifications and taken as step-up (ours,
# issue 20), through lighttpd, with a software authenticator made in the
# test (t/helper/authenticator: a P-256 key pair, authenticatorData,
# clientDataJSON and the signature assembled as a browser would); every
# wrong ceremony refused
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"

AUTHN=$top_builddir/t/helper/authenticator
PW='my Password 123'
secret=s3cr3t-value
hash=$(printf %s "$secret" | sha256sum | cut -d" " -f1)
setup_instance '<webauthn rp-id="example.com" rp-name="Example Bank" origins="https://example.com https://login.example.com"/>' \
	"<introspection clients=\"payments:$hash\"/>" \
	'<step-up-policy username="passkey"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --name "Alice A." --password-stdin) ||
	bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-mfa my-account-mfa my-account \
	verification-introspect ||
	bail_out "lighttpd did not start"
tok=$(MINT_SCOPE="openid profile identities" mint "$uid")
btok=$(MINT_SCOPE="openid profile identities" mint "$bob")

# begin TOKEN registration|authentication: the record in $rec, the
# challenge in $ch
begin () {
	http POST "/api/verifications/web-authn/$2" -H "Authorization: Bearer $1" &&
	check_status 200 &&
	rec=$(record_id) &&
	ch=$(jq -r ".${2}Options.challenge" "$TRASH/body")
}

# finish TOKEN registration|authentication PAYLOAD_FILE
finish () {
	jq -c --arg r "$rec" '{verificationRecordId: $r, payload: .}' "$3" >fin.json &&
	http POST "/api/verifications/web-authn/$2/verify" fin.json -H "Authorization: Bearer $1"
}

# authn create|get [ARGS...]: the authenticator with the key key.pem,
# example.com's RP ID and origin and $ch, unless ARGS say otherwise
authn () {
	a_cmd_=$1
	shift
	"$AUTHN" "$a_cmd_" --key key.pem --rp-id example.com --origin https://example.com \
		--challenge "$ch" "$@"
}

test_expect_success 'registration options: RP example.com from the config, the user alice (8.1.9)' '
	begin "$tok" registration &&
	test "$(jq -r .registrationOptions.rp.id "$TRASH/body")" = example.com &&
	test "$(jq -r .registrationOptions.rp.name "$TRASH/body")" = "Example Bank" &&
	test "$(jq -r .registrationOptions.user.name "$TRASH/body")" = alice &&
	test "$(printf %s "$ch" | wc -c)" -ge 43 &&
	json_get "$TRASH/body" .expiresAt | grep -q "Z$"
'

test_expect_success 'a wrong origin: 400 session.mfa.webauthn_verification_failed' '
	authn create --origin https://evil.example >reg.json &&
	finish "$tok" registration reg.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'a wrong RP ID hash: 400' '
	authn create --rp-id evil.example >reg.json &&
	finish "$tok" registration reg.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'another challenge: 400' '
	"$AUTHN" create --key key.pem --rp-id example.com --origin https://example.com \
		--challenge AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >reg.json &&
	finish "$tok" registration reg.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'garbage for a payload: 400, not 5xx' '
	echo "{\"id\":\"x\",\"rawId\":\"x\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"!!\",\"attestationObject\":\"oWNmbXQ\"}}" >junk.json &&
	finish "$tok" registration junk.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'the right ceremony, from the second origin: 200 with the record id' '
	authn create --origin https://login.example.com >reg.json &&
	finish "$tok" registration reg.json &&
	check_status 200 &&
	test "$(record_id)" = "$rec" &&
	reg=$rec
'

test_expect_success 'its challenge is used up: the same answer again is 400' '
	finish "$tok" registration reg.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'the registration is no step-up (3.7)' '
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$reg")" = denied
'

test_expect_success 'binding it without a step-up: 401; with one: 204, listed with its name' '
	jq -cn --arg r "$reg" "{type: \"WebAuthn\", newIdentifierVerificationRecordId: \$r, name: \"YubiKey 5\"}" >bind.json &&
	http POST /api/my-account/mfa-verifications bind.json -H "Authorization: Bearer $tok" &&
	check_status 401 && check_code verification_record.permission_denied &&
	pw=$(step_up "$tok") &&
	http POST /api/my-account/mfa-verifications bind.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $pw" &&
	check_status 204 &&
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	test "$(jq -r ".[0].type" "$TRASH/body")" = WebAuthn &&
	test "$(jq -r ".[0].name" "$TRASH/body")" = "YubiKey 5" &&
	jq -r ".[0].agent" "$TRASH/body" | grep -q curl &&
	pk=$(jq -r ".[0].id" "$TRASH/body")
'

test_expect_success 'the registration record is used up by the binding: 400 verification_record.not_found' '
	http POST /api/my-account/mfa-verifications bind.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $pw" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'a second registration excludes the passkey the user has' '
	begin "$tok" registration &&
	test "$(jq -r ".registrationOptions.excludeCredentials[0].id" "$TRASH/body")" = "$(cat key.pem.id)"
'

test_expect_success 'authentication options allow the passkey' '
	begin "$tok" authentication &&
	test "$(jq -r ".authenticationOptions.allowCredentials[0].id" "$TRASH/body")" = "$(cat key.pem.id)" &&
	test "$(jq -r .authenticationOptions.rpId "$TRASH/body")" = example.com
'

test_expect_success 'a bad signature: 400 session.mfa.webauthn_verification_failed' '
	authn get --count 1 --bad-sig >get.json &&
	finish "$tok" authentication get.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'a wrong origin, a wrong RP ID hash: 400 each' '
	authn get --count 1 --origin https://evil.example >get.json &&
	finish "$tok" authentication get.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed &&
	authn get --count 1 --rp-id evil.example >get.json &&
	finish "$tok" authentication get.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'a userHandle of another user (7.2 step 6): 400' '
	authn get --count 4 >get.json &&
	jq -c --arg h "$(printf %s "$bob" | b64url)" ".response.userHandle = \$h" get.json >other.json &&
	finish "$tok" authentication other.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'the right assertion: 200, a Passkey record the sensitive routes accept' '
	authn get --count 5 >get.json &&
	jq -c --arg h "$(printf %s "$uid" | b64url)" ".response.userHandle = \$h" get.json >mine.json &&
	mv mine.json get.json &&
	finish "$tok" authentication get.json &&
	check_status 200 &&
	ok=$(record_id) &&
	test "$ok" = "$rec" &&
	stepup "$uid" "$ok" &&
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$ok")" = verified
'

test_expect_success 'the same assertion again (a reused challenge): 400' '
	finish "$tok" authentication get.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

test_expect_success 'the Passkey record renames the passkey (PATCH .../:id/name): 200' '
	jq -cn "{name: \"Office key\"}" >name.json &&
	http PATCH "/api/my-account/mfa-verifications/$pk/name" name.json \
		-H "Authorization: Bearer $tok" -H "logto-verification-id: $ok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .name)" = "Office key"
'

test_expect_success 'a lowered signature counter (a clone): 400, audited as mfa.webauthn.clone' '
	begin "$tok" authentication &&
	authn get --count 3 >get.json &&
	finish "$tok" authentication get.json &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed &&
	"$ADMIN" audit show | grep -q "\"event\":\"mfa.webauthn.clone\""
'

test_expect_success 'then a higher one works again' '
	authn get --count 6 >get.json &&
	finish "$tok" authentication get.json &&
	check_status 200
'

test_expect_success 'a username change takes only a passkey (<step-up-policy username="passkey">): a password is 401 proof_not_accepted' '
	jq -cn "{username: \"alice2\"}" >u.json &&
	http PATCH /api/my-account u.json -H "Authorization: Bearer $tok" -H "logto-verification-id: $pw" &&
	check_status 401 && check_code verification_record.proof_not_accepted &&
	test "$(jq -c .data "$TRASH/body")" = "{\"acceptedProofs\":[\"passkey\"]}"
'

test_expect_success 'a payout: a passkey step-up for the action payout, introspected active by the bank' '
	jq -cn "{action: \"payout\"}" >a.json &&
	http POST /api/verifications/web-authn/authentication a.json -H "Authorization: Bearer $tok" &&
	check_status 200 && rec=$(record_id) &&
	ch=$(jq -r .authenticationOptions.challenge "$TRASH/body") &&
	authn get --count 7 >get.json &&
	finish "$tok" authentication get.json &&
	check_status 200 &&
	jq -cn --arg r "$rec" --arg u "$uid" "{verificationRecordId: \$r, userId: \$u, action: \"payout\", consume: true}" >i.json &&
	http POST /api/verifications/introspect i.json -u "payments:$secret" &&
	check_status 200 &&
	test "$(jq -r .active "$TRASH/body")" = true &&
	test "$(jq -r .type "$TRASH/body")" = Passkey &&
	test "$(jq -r .action "$TRASH/body")" = payout &&
	http POST /api/verifications/introspect i.json -u "payments:$secret" &&
	test "$(jq -r .active "$TRASH/body")" = false
'

test_expect_success 'another user cannot finish alice'"'"'s ceremony, nor step up with her passkey' '
	begin "$tok" authentication &&
	authn get --count 8 >get.json &&
	finish "$btok" authentication get.json &&
	check_status 400 && check_code verification_record.not_found &&
	http POST /api/verifications/web-authn/authentication -H "Authorization: Bearer $btok" &&
	check_status 400 && check_code verification_record.factor_not_enrolled
'

test_expect_success 'DELETE the passkey: 204; then authentication is 400 factor_not_enrolled' '
	http DELETE "/api/my-account/mfa-verifications/$pk" -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $pw" &&
	check_status 204 &&
	http POST /api/verifications/web-authn/authentication -H "Authorization: Bearer $tok" &&
	check_status 400 && check_code verification_record.factor_not_enrolled
'

test_done
