#!/bin/sh
# t1300-verification-code: POST /api/verifications/verification-code and .../verify as plain CGI: the body guards, the check order, missing channels (logto-spec 2.2, 2.3, 4.8, 8.2 D-8, D-9, D-12, D-33)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

outbox_setup || bail_out "no outbox"
SENDMAIL="sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\""
FROM='mail-from="reverify@example.org"'
SMS="sms-command=\"$top_srcdir/tools/outbox-sms\""
setup_instance "<delivery $SENDMAIL $FROM $SMS/>" || bail_out "cannot set up the instance"
alice=$(add_user --username alice --email alice@example.com --phone 15550100) ||
	bail_out "no user"
tok=$(mint "$alice")
third=$(mint "$alice" --client-id other-app)
SEND=/api/verifications/verification-code
VERIFY=/api/verifications/verification-code/verify

# send [TOKEN]: run verification-code with req.json (no token: none)
send () {
	if test -n "${1-}"; then
		run_cgi verification-code POST "$SEND" req.json \
			"HTTP_AUTHORIZATION=Bearer $1" "REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
	else
		run_cgi verification-code POST "$SEND" req.json \
			"REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
	fi
}

# verify [TOKEN]: run verification-code-verify with req.json
verify () {
	run_cgi verification-code-verify POST "$VERIFY" req.json \
		"HTTP_AUTHORIZATION=Bearer $1" "REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
}

# body JSON: req.json
body () {
	printf '%s' "$1" >req.json
}

# invalid: the last answer was 400 guard.invalid_input and nothing was sent
invalid () {
	check_status 400 && check_code guard.invalid_input &&
	test "$(outbox_count mail)" = 0 && test "$(outbox_count sms)" = 0
}

test_expect_success 'as CGI, a code to the own address: 201, one e-mail' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" &&
	send "$tok" &&
	check_status 201 &&
	rec=$(record_id) &&
	echo "$rec" | grep -E "^[0-9a-z]{21}$" &&
	test "$(outbox_count mail)" = 1 &&
	code=$(outbox_code "$(outbox_last mail)")
'

test_expect_success 'as CGI, the code verifies: 200' '
	jq -cn --arg id "$rec" --arg c "$code" \
		"{identifier: {type: \"email\", value: \"alice@example.com\"}, verificationId: \$id, code: \$c}" >req.json &&
	verify "$tok" &&
	check_status 200 &&
	test "$(record_id)" = "$rec" &&
	outbox_clear
'

test_expect_success 'no identifier: 400 guard.invalid_input' '
	body "{\"templateType\":\"UserPermissionValidation\"}" &&
	send "$tok" && invalid
'

test_expect_success 'an identifier that is not an object: 400' '
	body "{\"identifier\":\"alice@example.com\"}" &&
	send "$tok" && invalid
'

test_expect_success 'identifier type username: 400 (D-8)' '
	body "{\"identifier\":{\"type\":\"username\",\"value\":\"alice\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'no identifier type: 400' '
	body "{\"identifier\":{\"value\":\"alice@example.com\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'phone "+1 555 0100": 400 (D-8)' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"+1 555 0100\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'phone "+15550100": 400, a + is no digit (2.2)' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"+15550100\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'a phone with spaces or a dash: 400' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"1 555 0100\"}}" &&
	send "$tok" && invalid &&
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"1555-0100\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'an empty phone: 400' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'an e-mail without @: 400' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice.example.com\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'an e-mail without a dot after the @, or with a space: 400' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@localhost\"}}" &&
	send "$tok" && invalid &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"al ice@example.com\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'an e-mail of 257 characters: 400' '
	long=$(printf "%0245d" 0 | tr 0 a)@example.com &&
	test "${#long}" = 257 &&
	jq -cn --arg v "$long" "{identifier: {type: \"email\", value: \$v}}" >req.json &&
	send "$tok" && invalid
'

test_expect_success 'an e-mail of 256 characters passes the guard, but no sendmail takes it: 400' '
	long=$(printf "%0244d" 0 | tr 0 a)@example.com &&
	test "${#long}" = 256 &&
	jq -cn --arg v "$long" "{identifier: {type: \"email\", value: \$v}}" >req.json &&
	send "$tok" && invalid
'

test_expect_success 'a value that is not a string: 400' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":15550100}}" &&
	send "$tok" && invalid &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":null}}" &&
	send "$tok" && invalid
'

test_expect_success 'templateType SignIn: 400 (D-9)' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"templateType\":\"SignIn\"}" &&
	send "$tok" && invalid
'

test_expect_success 'templateType BindNewIdentifier or Generic: 400 (2.2: BindMfa, UserPermissionValidation only)' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"templateType\":\"BindNewIdentifier\"}" &&
	send "$tok" && invalid &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"templateType\":\"Generic\"}" &&
	send "$tok" && invalid
'

test_expect_success 'a templateType that is not a string: 400' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"templateType\":1}" &&
	send "$tok" && invalid
'

test_expect_success 'unknown keys are ignored (1.3)' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"15550100\",\"x\":1},\"y\":true}" &&
	send "$tok" &&
	check_status 201 &&
	test "$(outbox_count sms)" = 1 &&
	outbox_clear
'

test_expect_success 'no token and a bad body: 401 comes first (1.2)' '
	body "{\"identifier\":{\"type\":\"username\"}}" &&
	send &&
	check_status 401 && check_code auth.authorization_header_missing &&
	body "{not json" &&
	send &&
	check_status 401 && check_code auth.authorization_header_missing &&
	run_cgi verification-code-verify POST $VERIFY req.json &&
	check_status 401 && check_code auth.authorization_header_missing
'

test_expect_success 'a third-party client sending: 403 auth.third_party_application_forbidden (D-33)' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" &&
	send "$third" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'a third-party client with a bad body: the 400 comes first (2.2 step 1)' '
	body "{\"identifier\":{\"type\":\"username\",\"value\":\"alice\"}}" &&
	send "$third" && invalid
'

test_expect_success 'a third-party client verifying: 403 (D-33), after the body check' '
	jq -cn --arg id "$rec" --arg c "$code" \
		"{identifier: {type: \"email\", value: \"alice@example.com\"}, verificationId: \$id, code: \$c}" >req.json &&
	verify "$third" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" &&
	verify "$third" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'verify without verificationId: 400 guard.invalid_input' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"code\":\"123456\"}" &&
	verify "$tok" && invalid
'

test_expect_success 'verify without code, or a code that is not a string: 400' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"verificationId\":\"$rec\"}" &&
	verify "$tok" && invalid &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"verificationId\":\"$rec\",\"code\":123456}" &&
	verify "$tok" && invalid
'

test_expect_success 'verify with a verificationId that is not a string: 400' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"},\"verificationId\":1,\"code\":\"123456\"}" &&
	verify "$tok" && invalid
'

test_expect_success 'verify with a bad identifier: 400' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"+15550100\"},\"verificationId\":\"$rec\",\"code\":\"123456\"}" &&
	verify "$tok" && invalid &&
	body "{\"verificationId\":\"$rec\",\"code\":\"123456\"}" &&
	verify "$tok" && invalid
'

test_expect_success 'no e-mail channel (no mail-from): 501 connector.not_found, nothing sent (D-12)' '
	setup_instance "<delivery $SENDMAIL $SMS/>" &&
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" &&
	send "$tok" &&
	check_status 501 && check_code connector.not_found &&
	test "$(outbox_count mail)" = 0 &&
	test -z "$(ls "$REVERIFY_OUTBOX")"
'

test_expect_success 'no e-mail channel: a bad body is still 400 first' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice\"}}" &&
	send "$tok" && invalid
'

test_expect_success 'no e-mail channel: SMS still works' '
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"15550100\"}}" &&
	send "$tok" &&
	check_status 201 &&
	test "$(outbox_count sms)" = 1 &&
	outbox_clear
'

test_expect_success 'no SMS channel: 501 connector.not_found, nothing sent' '
	setup_instance "<delivery $SENDMAIL $FROM/>" &&
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"15550100\"}}" &&
	send "$tok" &&
	check_status 501 && check_code connector.not_found &&
	test -z "$(ls "$REVERIFY_OUTBOX")"
'

test_expect_success 'no SMS channel: e-mail still works' '
	body "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" &&
	send "$tok" &&
	check_status 201 &&
	test "$(outbox_count mail)" = 1 &&
	outbox_clear
'

test_expect_success 'a missing channel uses up no sends: 3 x 501, then 2 x 201 (send-max 2)' '
	setup_instance "<delivery $SENDMAIL $FROM/>" "<codes send-max=\"2\"/>" &&
	body "{\"identifier\":{\"type\":\"phone\",\"value\":\"15550199\"}}" &&
	fail= &&
	for i in 1 2 3; do
		send "$tok" && check_status 501 && check_code connector.not_found || fail=1
	done &&
	test -z "$fail" &&
	setup_instance "<delivery $SENDMAIL $FROM $SMS/>" "<codes send-max=\"2\"/>" &&
	send "$tok" && check_status 201 &&
	send "$tok" && check_status 201 &&
	send "$tok" && check_status 429 && check_code request.message_rate_limited &&
	test "$(outbox_count sms)" = 2
'

# remote-user mode with usernames: REMOTE_USER is resolved to the user id
# for the ownership check of verify and for the replacement of older codes
ru_send () {
	jq -cn --arg t "$1" --arg v "$2" "{identifier: {type: \$t, value: \$v}}" >req.json &&
	run_cgi verification-code POST "$SEND" req.json "REMOTE_USER=$3" \
		"REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
}

ru_verify () {
	jq -cn --arg t "$1" --arg v "$2" --arg id "$3" --arg c "$4" \
		"{identifier: {type: \$t, value: \$v}, verificationId: \$id, code: \$c}" >req.json &&
	run_cgi verification-code-verify POST "$VERIFY" req.json "REMOTE_USER=$5" \
		"REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
}

test_expect_success 'remote-user="username": a code to the own address verifies (200)' '
	INSTANCE_AUTH="mode=\"remote-user\" remote-user=\"username\"" \
		setup_instance "<delivery $SENDMAIL $FROM $SMS/>" &&
	bob=$(add_user --username bob --email bob@example.com) &&
	outbox_clear &&
	ru_send email alice@example.com alice &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last mail)") &&
	ru_verify email alice@example.com "$rec" "$code" alice &&
	check_status 200 &&
	test "$("$top_builddir/t/helper/stepup-check" "$alice" "$rec" "")" = verified &&
	"$ADMIN" audit show | grep "\"event\":\"verify.code.ok\"" | tail -n 1 |
		grep -F "\"user\":\"$alice\""
'

test_expect_success 'remote-user="username": another username cannot verify it' '
	outbox_clear &&
	ru_send email alice@example.com alice &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last mail)") &&
	ru_verify email alice@example.com "$rec" "$code" bob &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'remote-user="username": a new code replaces the older one (deviation 2)' '
	outbox_clear &&
	ru_send email alice@example.com alice &&
	check_status 201 &&
	rec2=$(record_id) &&
	code2=$(outbox_code "$(outbox_last mail)") &&
	ru_verify email alice@example.com "$rec" "$code" alice &&
	check_status 400 && check_code verification_record.not_found &&
	ru_verify email alice@example.com "$rec2" "$code2" alice &&
	check_status 200
'

test_expect_success 'remote-user="username": an unknown user: 404 entity.not_found' '
	ru_verify email alice@example.com "$rec2" "$code2" nobody &&
	check_status 404 && check_code entity.not_found &&
	ru_send email alice@example.com nobody &&
	check_status 404 && check_code entity.not_found
'

test_done
