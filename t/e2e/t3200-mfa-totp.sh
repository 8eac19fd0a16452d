#!/bin/sh
# t3200-mfa-totp: an authenticator app (TOTP, RFC 6238) enrolled through
# /api/my-account/mfa-verifications (logto-spec 6.2, 6.7, 8.1.9) and taken as
# step-up by POST /api/verifications/totp (ours, issue 20), through lighttpd;
# the codes come from oathtool, an implementation that is not ours
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"
. "$top_srcdir/t/lib/mfa.sh"

command -v oathtool >/dev/null || skip_all "no oathtool (apt-get install oathtool)"
outbox_setup || bail_out "no outbox"
PW='my Password 123'
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>" \
	'<lockout max-attempts="5" window="3600" duration="3600"/>' \
	'<mfa issuer="Example Bank"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify \
	verification-mfa my-account-mfa my-account-primary-email my-account ||
	bail_out "lighttpd did not start"
tok=$(MINT_SCOPE="openid profile email identities" mint "$uid")
plain=$(mint "$uid")

test_expect_success 'no factors yet: GET mfa-verifications is []' '
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	check_status 200 && test "$(jq -c . "$TRASH/body")" = "[]"
'

test_expect_success 'without the identities scope: 401 auth.unauthorized (6.2)' '
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $plain" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'totp-secret/generate: a 160-bit base32 secret and a QR code of the otpauth URI' '
	http POST /api/my-account/mfa-verifications/totp-secret/generate \
		-H "Authorization: Bearer $tok" &&
	check_status 200 &&
	secret=$(json_get "$TRASH/body" .secret) &&
	echo "$secret" | grep -Eqx "[A-Z2-7]{32}" &&
	json_get "$TRASH/body" .secretQrCode >qr.url &&
	grep -q "^data:image/svg+xml;base64," qr.url &&
	sed "s/^data:image\/svg+xml;base64,//" qr.url | base64 -d >qr.svg &&
	grep -q "^<svg" qr.svg && grep -q "</svg>" qr.svg
'

test_expect_success 'binding it without a step-up: 401 permission_denied' '
	totp_add "$tok" "" "$secret" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a secret that is not base32: 400 user.totp_secret_invalid' '
	pw=$(step_up "$tok") &&
	totp_add "$tok" "$pw" "not a secret!" &&
	check_status 400 && check_code user.totp_secret_invalid &&
	totp_add "$tok" "$pw" "GEZDGNBV" &&
	check_status 400 && check_code user.totp_secret_invalid
'

test_expect_success 'a wrong confirmation code: 400 session.mfa.invalid_totp_code, nothing bound' '
	wrong=$(totp_at "$secret" -3600) &&
	totp_add "$tok" "$pw" "$secret" "$wrong" &&
	check_status 400 && check_code session.mfa.invalid_totp_code &&
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	test "$(jq length "$TRASH/body")" = 0
'

test_expect_success 'the secret with its current code: 204, listed as Totp' '
	c0=$(totp_at "$secret" 0) &&
	totp_add "$tok" "$pw" "$secret" "$c0" &&
	check_status 204 &&
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	test "$(jq -r ".[0].type" "$TRASH/body")" = Totp &&
	test "$(jq -r ".[0].id | test(\"^[0-9a-z]{21}$\")" "$TRASH/body")" = true &&
	! grep -q "$secret" "$TRASH/body"
'

test_expect_success 'a notice went to her address (MfaChanged; NIST SP 800-63B-4 4.6), without the secret' '
	test "$(outbox_count mail)" = 1 &&
	m=$(outbox_last mail) &&
	test "$(outbox_header "$m" To)" = alice@example.com &&
	outbox_text "$m" | grep -q "verification methods of your" &&
	! grep -q "$secret" "$m" &&
	outbox_clear
'

test_expect_success 'a second one: 422 user.totp_already_in_use' '
	totp_add "$tok" "$pw" "$secret" &&
	check_status 422 && check_code user.totp_already_in_use
'

test_expect_success 'the secret is sealed at rest: not in the store, its key outside it' '
	! grep -rqF "$secret" "$TRASH/store" &&
	test -f "$TRASH/store/mfa.key" &&
	test "$(stat -c %a "$TRASH/store/mfa.key")" = 600
'

test_expect_success 'reverify-admin user show lists the factor, never the secret' '
	"$ADMIN" user show "$uid" >show.json &&
	test "$(jq -r ".mfaVerifications[0].type" show.json)" = Totp &&
	! grep -q "secret\|$secret" show.json
'

test_expect_success 'the code the binding used is used up (RFC 6238 5.2): 400' '
	totp_verify "$tok" "$c0" &&
	check_status 400 && check_code session.mfa.invalid_totp_code
'

test_expect_success 'a code of the next step (one step of skew): 201, a Totp record' '
	c1=$(totp_at "$secret" 30) &&
	totp_verify "$tok" "$c1" &&
	keep t1 &&
	stepup "$uid" "$t1"
'

test_expect_success 'the same code again: 400 session.mfa.invalid_totp_code (replay)' '
	totp_verify "$tok" "$c1" &&
	check_status 400 && check_code session.mfa.invalid_totp_code
'

test_expect_success 'a code two steps old: 400 (skew of two steps refused)' '
	totp_verify "$tok" "$(totp_at "$secret" -60)" &&
	check_status 400 && check_code session.mfa.invalid_totp_code
'

test_expect_success 'the Totp record changes the e-mail (logto-verification-id)' '
	send_code "$tok" email new@example.com &&
	check_status 201 && b=$(record_id) &&
	verify_code "$tok" email new@example.com "$b" "$(code mail)" &&
	check_status 200 &&
	jq -cn --arg r "$b" "{email: \"new@example.com\", newIdentifierVerificationRecordId: \$r}" >e.json &&
	http POST /api/my-account/primary-email e.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $t1" &&
	check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = new@example.com
'

test_expect_success 'PUT .../totp with a wrong code: 400 session.mfa.invalid_totp_code' '
	http POST /api/my-account/mfa-verifications/totp-secret/generate \
		-H "Authorization: Bearer $tok" &&
	secret2=$(json_get "$TRASH/body" .secret) &&
	jq -cn --arg s "$secret2" --arg c "$(totp_at "$secret2" -3600)" "{secret: \$s, code: \$c}" >put.json &&
	http PUT /api/my-account/mfa-verifications/totp put.json \
		-H "Authorization: Bearer $tok" -H "logto-verification-id: $pw" &&
	check_status 400 && check_code session.mfa.invalid_totp_code
'

test_expect_success 'PUT .../totp replaces the app: the old secret no longer works' '
	jq -cn --arg s "$secret2" "{secret: \$s}" >put.json &&
	http PUT /api/my-account/mfa-verifications/totp put.json \
		-H "Authorization: Bearer $tok" -H "logto-verification-id: $pw" &&
	check_status 204 &&
	totp_verify "$tok" "$(totp_at "$secret" 0)" &&
	check_status 400 && check_code session.mfa.invalid_totp_code &&
	totp_verify "$tok" "$(totp_at "$secret2" 0)" &&
	check_status 201
'

test_expect_success 'wrong codes have their own lockout pool: the fifth blocks, the password still works' '
	# four were counted above (a used code, a replay, two steps old, the
	# replaced secret); max-attempts is 5
	totp_verify "$tok" 000000 &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	grep -qi "^Retry-After: " "$TRASH/headers" &&
	totp_verify "$tok" "$(totp_at "$secret2" 30)" &&
	check_code session.verification_blocked_too_many_attempts &&
	step_up "$tok" >/dev/null
'

test_expect_success 'reverify-admin user unlock lifts it' '
	"$ADMIN" user unlock "$uid" &&
	totp_verify "$tok" "$(totp_at "$secret2" 30)" &&
	check_status 201
'

test_expect_success 'the trail: added, replaced, step-ups and failures, no secret or code' '
	"$ADMIN" audit show >audit &&
	grep -q "\"event\":\"mfa.totp.added\"" audit &&
	grep -q "\"event\":\"mfa.totp.replaced\"" audit &&
	grep -q "\"event\":\"verify.totp.ok\"" audit &&
	grep -q "\"event\":\"verify.totp.failed\"" audit &&
	grep -q "\"event\":\"lockout.started\"" audit &&
	! grep -qF "$secret" audit && ! grep -qF "$secret2" audit
'

test_expect_success 'DELETE the factor: 204, then a TOTP step-up is 400 factor_not_enrolled' '
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	id=$(jq -r ".[0].id" "$TRASH/body") &&
	http DELETE "/api/my-account/mfa-verifications/$id" -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $pw" &&
	check_status 204 &&
	totp_verify "$tok" "$(totp_at "$secret2" 0)" &&
	check_status 400 && check_code verification_record.factor_not_enrolled
'

test_expect_success 'DELETE an unknown id: 400 verification_record.not_found (8.1.9)' '
	http DELETE /api/my-account/mfa-verifications/aaaaaaaaaaaaaaaaaaaaa \
		-H "Authorization: Bearer $tok" -H "logto-verification-id: $pw" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'reverify-admin user mfa-reset removes every factor, audited' '
	totp_add "$tok" "$pw" "$secret" && check_status 204 &&
	"$ADMIN" user mfa-reset "$uid" &&
	"$ADMIN" user show "$uid" | jq -e ".mfaVerifications == []" &&
	"$ADMIN" audit show | grep -q "\"event\":\"user.mfa_reset\""
'

test_done
