#!/bin/sh
# t2300-verification-code: code step-up by e-mail and SMS through lighttpd + FastCGI and the outbox (logto-spec 2.2, 2.3, 3.5-3.7, 4, 5.3, 8.1.3, 8.1.8, 8.2)
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
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>"
# many sends to one address here: the send limit is t2310's business
# one caller sends far more than the default per-caller budget (20 an hour)
CODES='<codes send-max="100" caller-send-max="256"/>'
setup_instance "$DELIVERY" "$CODES" \
	'<email-policy block="@blocked.example UPPER@EXAMPLE.NET FOO*@WILD.EXAMPLE"/>' ||
	bail_out "cannot set up the instance"
alice=$(add_user --username alice --email alice@example.com --phone 64211234567) ||
	bail_out "no user"
bob=$(add_user --username bob --email bob@example.com --phone 64219876543) ||
	bail_out "no user"
carol=$(add_user --username carol --email carol@blocked.example) || bail_out "no user"
start_lighttpd verification-code verification-code-verify || bail_out "lighttpd did not start"
tok=$(mint "$alice")
btok=$(mint "$bob")

# sent KIND: after a 201, exactly one message of KIND in the outbox; sets
# rec (the record id), msg (the message file) and code
sent () {
	check_status 201 &&
	rec=$(record_id) &&
	test "$(outbox_count "$1")" = 1 &&
	msg=$(outbox_last "$1") &&
	code=$(outbox_code "$msg") &&
	echo "$code" >>"$TRASH/seen-codes" &&
	echo "record $rec, code $code, message $msg"
}

# other CODE: a code that is not CODE (each digit moved by one)
other () {
	echo "$1" | tr 0-9 1-90
}

test_expect_success 'own e-mail: 201 {verificationRecordId, expiresAt} (2.2)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com &&
	check_status 201 &&
	test "$(json_get "$TRASH/body" "keys | join(\",\")")" = "expiresAt,verificationRecordId" &&
	record_id | grep -E "^[0-9a-z]{21}$" &&
	exp=$(json_get "$TRASH/body" .expiresAt) &&
	echo "$exp" | grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$" &&
	left=$(( $(date -d "$exp" +%s) - $(date +%s) )) &&
	test "$left" -ge 590 && test "$left" -le 601 &&
	sent mail
'

test_expect_success 'one English e-mail to the address, with the code, auto-generated' '
	test "$(outbox_count sms)" = 0 &&
	test "$(outbox_header "$msg" To)" = alice@example.com &&
	test "$(outbox_header "$msg" From)" = reverify@example.org &&
	test "$(outbox_header "$msg" Subject)" = "Your verification code: $code" &&
	test "$(outbox_header "$msg" Auto-Submitted)" = auto-generated &&
	test "$(outbox_header "$msg" Content-Language)" = en &&
	outbox_text "$msg" >text &&
	grep -x "Hello alice," text &&
	grep -F "To confirm that it'"'"'s really you" text &&
	grep -x "$code" text
'

test_expect_success 'the code verifies: 200 {verificationRecordId} (2.3)' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" "keys | join(\",\")")" = verificationRecordId &&
	test "$(record_id)" = "$rec"
'

test_expect_success 'the record is step-up proof for its owner only (3.7, 6.1)' '
	test "$(stepup "$alice" "$rec")" = verified &&
	test "$(stepup "$bob" "$rec")" = denied
'

test_expect_success 'verifying it again: 400 verification_code.not_found, still proof (D-19)' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_code.not_found &&
	test "$(stepup "$alice" "$rec")" = verified
'

test_expect_success 'before it is verified, a code record is no proof (D-25)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com &&
	sent mail &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'a wrong code: 400 verification_code.code_mismatch (D-13)' '
	verify_code "$tok" email alice@example.com "$rec" "$(other "$code")" &&
	check_status 400 && check_code verification_code.code_mismatch &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'an empty code: 400 verification_code.not_found (2.3)' '
	verify_code "$tok" email alice@example.com "$rec" "" &&
	check_status 400 && check_code verification_code.not_found
'

test_expect_success 'another e-mail for the record: 400 verification_code.email_mismatch (D-17)' '
	verify_code "$tok" email bob@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_code.email_mismatch
'

test_expect_success 'a phone identifier for an e-mail record: 400 verification_record.not_found (D-18)' '
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'an unknown record id: 400 verification_record.not_found' '
	verify_code "$tok" email alice@example.com 0123456789abcdefghijk "$code" &&
	check_status 400 && check_code verification_record.not_found &&
	verify_code "$tok" email alice@example.com "" "$code" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'after those failures the right code still verifies' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = verified
'

test_expect_success 'own phone: 201, one SMS "To: <phone>" in English with the code' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 &&
	sent sms &&
	test "$(outbox_count mail)" = 0 &&
	test "$(head -n 1 "$msg")" = "To: 64211234567" &&
	test "$(sed -n 2p "$msg")" = "" &&
	test "$(outbox_text "$msg")" = "$code is your demo-app code to confirm it'"'"'s you. It expires in 10 minutes. Don'"'"'t share it with anyone."
'

test_expect_success 'a wrong code for the phone: 400 code_mismatch; another phone: phone_mismatch' '
	verify_code "$tok" phone 64211234567 "$rec" "$(other "$code")" &&
	check_status 400 && check_code verification_code.code_mismatch &&
	verify_code "$tok" phone 64219876543 "$rec" "$code" &&
	check_status 400 && check_code verification_code.phone_mismatch &&
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'the phone code verifies: 200, proof for the owner only' '
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 200 && test "$(record_id)" = "$rec" &&
	test "$(stepup "$alice" "$rec")" = verified &&
	test "$(stepup "$bob" "$rec")" = denied
'

test_expect_success 'Accept-Language: de: a German e-mail, Content-Language: de (4.7)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com "" -H "Accept-Language: de" &&
	sent mail &&
	test "$(outbox_header "$msg" Content-Language)" = de &&
	outbox_text "$msg" >text &&
	grep -x "Hallo alice," text &&
	grep -F "Geben Sie dazu diesen Bestätigungscode ein:" text &&
	grep -x "$code" text &&
	subject=$(outbox_header "$msg" Subject) &&
	echo "$subject" | grep "^=?UTF-8?B?" &&
	test "$(echo "$subject" | sed "s/=?UTF-8?B?\([^?]*\)?=/\1/g; s/ //g" | base64 -d)" = "Ihr Bestätigungscode: $code"
'

test_expect_success 'the German code verifies' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200
'

test_expect_success 'Accept-Language: de for an SMS: German text' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 "" -H "Accept-Language: de" &&
	sent sms &&
	test "$(outbox_text "$msg")" = "demo-app: Ihr Code zur Bestätigung Ihrer Identität lautet $code. Er ist 10 Minuten gültig. Geben Sie ihn nicht weiter."
'

test_expect_success '?locale=ja: a Japanese e-mail, Content-Language: ja' '
	outbox_clear &&
	SEND_CODE_QUERY="?locale=ja" &&
	{ send_code "$tok" email alice@example.com "" -H "Accept-Language: de"; rc=$?; } &&
	unset SEND_CODE_QUERY &&
	test "$rc" = 0 &&
	sent mail &&
	test "$(outbox_header "$msg" Content-Language)" = ja &&
	outbox_text "$msg" >text &&
	grep -x "alice 様" text &&
	grep -F "次の認証コードを入力してください。" text &&
	grep -x "$code" text
'

test_expect_success 'Accept-Language: es (no templates) and de-CH: English and German (4.7)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com "" -H "Accept-Language: es" &&
	sent mail &&
	test "$(outbox_header "$msg" Content-Language)" = en &&
	outbox_text "$msg" | grep -x "Hello alice," &&
	outbox_clear &&
	send_code "$tok" email alice@example.com "" -H "Accept-Language: es, de-CH;q=0.8, en;q=0.5" &&
	sent mail &&
	test "$(outbox_header "$msg" Content-Language)" = de &&
	outbox_text "$msg" | grep -x "Hallo alice,"
'

test_expect_success 'another user cannot verify the record, even with the code: 400 verification_record.not_found (deviation 1, D-21)' '
	verify_code "$btok" email alice@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_record.not_found &&
	test "$(stepup "$bob" "$rec")" = denied &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'that attempt used up nothing: the owner verifies it' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = verified
'

test_expect_success 'a new address: 201, the BindNewIdentifier message, even when UserPermissionValidation is asked (D-10)' '
	outbox_clear &&
	send_code "$tok" email alice.new@example.org UserPermissionValidation &&
	sent mail &&
	test "$(outbox_header "$msg" To)" = alice.new@example.org &&
	test "$(outbox_header "$msg" Subject)" = "Confirm your email address: $code" &&
	outbox_text "$msg" | grep -F "To add this email address to your demo-app account"
'

test_expect_success 'another user cannot verify the new-address record (deviation 1)' '
	verify_code "$btok" email alice.new@example.org "$rec" "$code" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'its creator verifies it: 200, but it is no step-up proof (D-10)' '
	verify_code "$tok" email alice.new@example.org "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = denied &&
	test "$(stepup "$bob" "$rec")" = denied
'

test_expect_success 'a new phone number, even with templateType BindMfa: BindNewIdentifier SMS; verified, no proof' '
	outbox_clear &&
	send_code "$tok" phone 64215550100 BindMfa &&
	sent sms &&
	test "$(head -n 1 "$msg")" = "To: 64215550100" &&
	outbox_text "$msg" | grep -F "code to add this phone number to your account" &&
	verify_code "$tok" phone 64215550100 "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'templateType BindMfa to the own address: 201, the BindMfa message (ET-5)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com BindMfa &&
	sent mail &&
	test "$(outbox_header "$msg" Subject)" = "Set up two-step verification: $code"
'

test_expect_success 'a verified BindMfa record is no step-up proof (D-23)' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'templateType UserPermissionValidation to the own address: step-up proof' '
	outbox_clear &&
	send_code "$tok" email alice@example.com UserPermissionValidation &&
	sent mail &&
	test "$(outbox_header "$msg" Subject)" = "Your verification code: $code" &&
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = verified
'

test_expect_success 'the own address in another case is a new identifier (D-11)' '
	outbox_clear &&
	send_code "$tok" email Alice@example.com &&
	sent mail &&
	test "$(outbox_header "$msg" To)" = Alice@example.com &&
	test "$(outbox_header "$msg" Subject)" = "Confirm your email address: $code" &&
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_code.email_mismatch &&
	verify_code "$tok" email Alice@example.com "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'a new code for the same address and template replaces the older one (deviation 2)' '
	outbox_clear &&
	send_code "$tok" email alice@example.com &&
	sent mail && rec1=$rec code1=$code &&
	outbox_clear &&
	send_code "$tok" email alice@example.com &&
	sent mail &&
	test "$rec" != "$rec1" &&
	verify_code "$tok" email alice@example.com "$rec1" "$code1" &&
	check_status 400 && check_code verification_record.not_found &&
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 200
'

test_expect_success 'the same for a new address (deviation 2)' '
	outbox_clear &&
	send_code "$tok" email alice.newer@example.org &&
	sent mail && rec1=$rec code1=$code &&
	outbox_clear &&
	send_code "$tok" email alice.newer@example.org &&
	sent mail &&
	verify_code "$tok" email alice.newer@example.org "$rec1" "$code1" &&
	check_status 400 && check_code verification_record.not_found &&
	verify_code "$tok" email alice.newer@example.org "$rec" "$code" &&
	check_status 200
'

test_expect_success 'a code of another template does not replace it' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 &&
	sent sms && rec1=$rec code1=$code &&
	outbox_clear &&
	send_code "$tok" phone 64211234567 BindMfa &&
	sent sms &&
	verify_code "$tok" phone 64211234567 "$rec1" "$code1" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec1")" = verified &&
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 200 &&
	test "$(stepup "$alice" "$rec")" = denied
'

test_expect_success 'a verified record is not replaced by a new code (3.6)' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 &&
	sent sms &&
	test "$(stepup "$alice" "$rec1")" = verified
'

test_expect_success 'a new address on the block list: 422 email_not_allowed, nothing sent (EP-6)' '
	outbox_clear &&
	send_code "$tok" email mallory@blocked.example &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	json_get "$TRASH/body" .message | grep -F mallory@blocked.example &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'an upper-case block-list entry matches (EP-8)' '
	send_code "$tok" email upper@example.net &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	send_code "$tok" email Upper@Example.NET &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'a wildcard block-list entry matches (EP-9), and only what it says' '
	send_code "$tok" email foo-x1y2@wild.example &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	test "$(outbox_count mail)" = 0 &&
	send_code "$tok" email bar@wild.example &&
	check_status 201 &&
	test "$(outbox_count mail)" = 1
'

test_expect_success 'the own address on the block list is not checked (2.2 step 5)' '
	outbox_clear &&
	send_code "$(mint "$carol")" email carol@blocked.example &&
	sent mail &&
	test "$(outbox_header "$msg" To)" = carol@blocked.example
'

test_expect_success 'restart with an allow list and block-subaddressing' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "$CODES" \
		"<email-policy allow=\"@allowed.example\" block-subaddressing=\"yes\"/>" &&
	start_lighttpd verification-code verification-code-verify
'

test_expect_success 'a new address not on the allow list: 422 email_not_allowed (EP-10)' '
	outbox_clear &&
	send_code "$tok" email someone@elsewhere.example &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'a new address on the allow list: 201' '
	send_code "$tok" email someone@allowed.example &&
	sent mail
'

test_expect_success 'a + in a new address: 422 email_subaddressing_not_allowed' '
	outbox_clear &&
	send_code "$tok" email someone+tag@allowed.example &&
	check_status 422 && check_code session.email_blocklist.email_subaddressing_not_allowed &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'the own address is checked against neither list' '
	send_code "$tok" email alice@example.com &&
	sent mail
'

test_expect_success 'the records and codes are in the audit trail, which verifies' '
	"$ADMIN" audit show >audit.jsonl &&
	grep -q "\"event\":\"code.sent\"" audit.jsonl &&
	grep -q "\"event\":\"verify.code.ok\"" audit.jsonl &&
	grep -q "\"event\":\"verify.code.failed\"" audit.jsonl &&
	"$ADMIN" audit verify
'

test_expect_success 'no code and no token reaches the log' '
	test "$(wc -l <"$TRASH/seen-codes")" -ge 10 &&
	codes=$(sort -u "$TRASH/seen-codes" | paste -sd "|" -) &&
	! grep -E "(^|[^0-9A-Za-z])($codes)([^0-9A-Za-z]|$)" "$TRASH/reverify.log" &&
	! grep -F "$tok" "$TRASH/reverify.log"
'

# Expiry takes a real minute: the programs have no clock to shift.
if test "${REVERIFY_TEST_SLOW-}" = 1; then
	test_expect_success 'expiry: a code after <codes ttl="60"/> (D-15), a record after record-ttl="60" (D-16)' '
		stop_lighttpd &&
		setup_instance "$DELIVERY" "$CODES" "<verification record-ttl=\"60\"/>" &&
		start_lighttpd verification-code verification-code-verify &&
		outbox_clear &&
		send_code "$btok" email bob@example.com &&
		sent mail && brec=$rec bcode=$code &&
		exp=$(json_get "$TRASH/body" .expiresAt) &&
		left=$(( $(date -d "$exp" +%s) - $(date +%s) )) &&
		test "$left" -ge 50 && test "$left" -le 61 &&
		stop_lighttpd &&
		setup_instance "$DELIVERY" "<codes ttl=\"60\" send-max=\"100\" caller-send-max=\"256\"/>" "<verification record-ttl=\"600\"/>" &&
		start_lighttpd verification-code verification-code-verify &&
		outbox_clear &&
		send_code "$tok" email alice@example.com &&
		sent mail &&
		sleep 61 &&
		verify_code "$tok" email alice@example.com "$rec" "$code" &&
		check_status 400 && check_code verification_code.expired &&
		verify_code "$btok" email bob@example.com "$brec" "$bcode" &&
		check_status 400 && check_code verification_record.not_found
	'
else
	test_skip 'expiry: a code after <codes ttl="60"/> (D-15), a record after record-ttl="60" (D-16)' \
		'it waits 61 s; set REVERIFY_TEST_SLOW=1 to run it'
fi

test_done
