#!/bin/sh
# t3050-notices: after a password, e-mail, phone or username change a
# notice goes to every address the user has, by e-mail and SMS, and to the
# address the change replaced (ASVS 5.0 6.3.7, NIST SP 800-63B-4 4.6), in
# the language of the request, with no code in it
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
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\" application-name=\"Example\"/>" ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 4915112345678 --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify \
	my-account-password my-account-primary-email my-account-primary-phone my-account ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

# notices: "to subject" of each e-mail and "to text" of each SMS in the
# outbox, sorted, into the file notices
notices () {
	: >notices &&
	for f in "$REVERIFY_OUTBOX"/mail-*.eml; do
		test -e "$f" || continue
		printf '%s %s\n' "$(outbox_header "$f" To)" "$(outbox_header "$f" Subject)" >>notices
	done &&
	for f in "$REVERIFY_OUTBOX"/sms-*.txt; do
		test -e "$f" || continue
		printf '%s %s\n' "$(sed -n "s/^To: //p" "$f")" "$(outbox_text "$f")" >>notices
	done &&
	sort -o notices notices &&
	cat notices
}

# nocode: no 6-digit run in any notice
nocode () {
	! grep -E "(^|[^0-9])[0-9]{6}([^0-9]|$)" notices
}

test_expect_success 'a password change: a notice to her e-mail and her phone' '
	a=$(step_up "$tok") && outbox_clear &&
	jq -cn "{password: \"another Secret 456\"}" >pw.json &&
	http POST /api/my-account/password pw.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $a" &&
	check_status 204 && PW="another Secret 456" &&
	notices &&
	test "$(wc -l <notices)" = 2 &&
	grep -x "alice@example.com Your Example password was changed" notices &&
	grep "^4915112345678 Example: your password was changed on " notices &&
	nocode
'

test_expect_success 'an e-mail change: the old and the new address and the phone' '
	a=$(step_up "$tok") && b=$(code_record "$tok" email new@example.com) &&
	jq -cn --arg r "$b" "{email: \"new@example.com\", newIdentifierVerificationRecordId: \$r}" >e.json &&
	http POST /api/my-account/primary-email e.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $a" &&
	check_status 204 &&
	notices &&
	test "$(wc -l <notices)" = 3 &&
	test "$(grep -c "The email address of your Example account was changed$" notices)" = 2 &&
	grep "^alice@example.com " notices && grep "^new@example.com " notices &&
	grep "^4915112345678 Example: the email address of your account was changed" notices &&
	nocode
'

test_expect_success 'a phone change: the old and the new number and the e-mail' '
	b=$(code_record "$tok" phone 4915187654321) &&
	jq -cn --arg r "$b" "{phone: \"4915187654321\", newIdentifierVerificationRecordId: \$r}" >ph.json &&
	http POST /api/my-account/primary-phone ph.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $a" &&
	check_status 204 &&
	notices &&
	test "$(wc -l <notices)" = 3 &&
	grep "^4915112345678 " notices && grep "^4915187654321 " notices &&
	grep "^new@example.com " notices &&
	nocode
'

test_expect_success 'a username change, asked in German: the notices are in German' '
	outbox_clear &&
	jq -cn "{username: \"alice2\"}" >u.json &&
	http PATCH /api/my-account u.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $a" -H "Accept-Language: de" &&
	check_status 200 &&
	notices &&
	test "$(wc -l <notices)" = 2 &&
	grep "^new@example.com " notices &&
	outbox_text "$(outbox_last mail)" | grep "der Benutzername Ihres Kontos bei Example wurde am .* geändert. Ihr Benutzername lautet jetzt alice2." &&
	grep "^4915187654321 Example: Ihr Benutzername wurde am " notices &&
	nocode
'

test_expect_success 'a name change sends nothing' '
	outbox_clear &&
	jq -cn "{name: \"Alice\"}" >n.json &&
	http PATCH /api/my-account n.json -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(outbox_count mail)" = 0 && test "$(outbox_count sms)" = 0
'

test_done
