#!/bin/sh
# t3040-stepup-policy: which proofs satisfy which change (<step-up-policy>,
# email-proof="no": NIST SP 800-63B-4 3.1.3.1), and RFC 9470: the
# challenge's acr_values and max_age, and a fresh sign-in (auth_time, acr)
# that counts as a step-up with accept-fresh-login="yes"
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"

outbox_setup || bail_out "no outbox"
PW='my Password 123'
# binding a new e-mail or phone needs a password or an SMS code; e-mail
# codes prove nothing anywhere
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>" \
	'<step-up-policy email="password phone-code" phone="password phone-code" email-proof="no"/>' \
	'<verification acr-values="urn:example:mfa phr" max-age="300" accept-fresh-login="yes"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 4915112345678 --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify \
	my-account-primary-email my-account || bail_out "lighttpd did not start"
tok=$(mint "$uid")

# set_email TOKEN VALUE STEPUP NEWRECORD
set_email () {
	jq -cn --arg v "$2" --arg r "$4" '{email: $v, newIdentifierVerificationRecordId: $r}' >p.json &&
	http POST /api/my-account/primary-email p.json -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $3"
}

# rename TOKEN NAME [STEPUP]: PATCH {username}
rename () {
	jq -cn --arg u "$2" '{username: $u}' >u.json &&
	if test -n "${3-}"; then
		http PATCH /api/my-account u.json -H "Authorization: Bearer $1" \
			-H "logto-verification-id: $3"
	else
		http PATCH /api/my-account u.json -H "Authorization: Bearer $1"
	fi
}

# challenge: the RFC 9470 challenge of the last answer carries the config's
# acr_values and max_age
challenge () {
	grep -iF 'WWW-Authenticate: Bearer error="insufficient_user_authentication"' "$TRASH/headers" |
		grep -F 'acr_values="urn:example:mfa phr"' | grep -qF 'max_age="300"'
}

test_expect_success 'no step-up: 401 permission_denied, the challenge names acr_values and max_age' '
	rename "$tok" alice2 &&
	check_status 401 && check_code verification_record.permission_denied && challenge
'

test_expect_success 'a verified code to her own e-mail (email-proof="no"): 401 proof_not_accepted' '
	e=$(code_record "$tok" email alice@example.com) &&
	rename "$tok" alice2 "$e" &&
	check_status 401 && check_code verification_record.proof_not_accepted && challenge &&
	test "$(jq -c .data "$TRASH/body")" = "{\"acceptedProofs\":[\"password\",\"phone-code\",\"totp\",\"backup-code\",\"passkey\",\"login\"]}"
'

test_expect_success 'a new e-mail with an e-mail-code proof: 401, data says password or phone-code' '
	b=$(code_record "$tok" email new@example.com) &&
	set_email "$tok" new@example.com "$e" "$b" &&
	check_status 401 && check_code verification_record.proof_not_accepted &&
	test "$(jq -c .data "$TRASH/body")" = "{\"acceptedProofs\":[\"password\",\"phone-code\"]}" &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = alice@example.com
'

test_expect_success 'the same with an SMS-code proof: 204 (the e-mail code still confirms the new address)' '
	s=$(code_record "$tok" phone 4915112345678) &&
	set_email "$tok" new@example.com "$s" "$b" &&
	check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = new@example.com
'

test_expect_success 'a Password record proves a username change: 200' '
	p=$(step_up "$tok") &&
	rename "$tok" alice2 "$p" &&
	check_status 200 && test "$(json_get "$TRASH/body" .username)" = alice2
'

test_expect_success 'a sign-in 60 s ago with acr "phr" is a step-up by itself (RFC 9470 6.1)' '
	fresh=$(mint "$uid" --auth-time -60 --acr phr) &&
	rename "$fresh" alice3 &&
	check_status 200 && test "$(json_get "$TRASH/body" .username)" = alice3
'

test_expect_success 'but not for an e-mail change: the policy leaves login out there' '
	b2=$(code_record "$tok" email newer@example.com) &&
	set_email "$fresh" newer@example.com "" "$b2" &&
	check_status 401 && check_code verification_record.permission_denied && challenge
'

test_expect_success 'a sign-in 600 s ago (max-age 300): 401' '
	rename "$(mint "$uid" --auth-time -600 --acr phr)" alice4 &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a fresh sign-in with an acr not in acr-values: 401' '
	rename "$(mint "$uid" --auth-time -60 --acr urn:example:pwd)" alice4 &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a token without auth_time: 401' '
	rename "$(mint "$uid" --acr phr)" alice4 &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'the changes are audited and the chain verifies' '
	"$ADMIN" audit show | grep "\"user\":\"$uid\"" >mine &&
	test "$(grep -c "\"event\":\"user.email_changed\"" mine)" = 1 &&
	test "$(grep -c "\"event\":\"user.profile_changed\"" mine)" = 2 &&
	"$ADMIN" audit verify
'

test_done
