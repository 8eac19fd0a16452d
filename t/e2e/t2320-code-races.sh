#!/bin/sh
# t2320-code-races: concurrent code guesses, sends and verifies through lighttpd with 4 FastCGI processes per program: the limits hold exactly (logto-spec 4.4, 5.2, 12 item 6; DESIGN.md deviation 3)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/race.sh"

outbox_setup || bail_out "no outbox"
# the defaults: 10 tries per code, 10 sends per recipient per 600 s
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>" ||
	bail_out "cannot set up the instance"
alice=$(add_user --username alice --email alice@example.com) || bail_out "no user"
bob=$(add_user --username bob --email bob@example.com --phone 64211234567) || bail_out "no user"
LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-code verification-code-verify ||
	bail_out "lighttpd did not start"
tok=$(mint "$alice")
btok=$(mint "$bob")

test_expect_success 'a code to the own address' '
	send_code "$tok" email alice@example.com &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last mail)") &&
	echo "$code" >>"$TRASH/seen-codes" &&
	wrong=$(echo "$code" | tr 0-9 1-90) &&
	jq -cn --arg id "$rec" --arg c "$wrong" \
		"{identifier: {type: \"email\", value: \"alice@example.com\"}, verificationId: \$id, code: \$c}" \
		>wrong.json
'

test_expect_success '64 concurrent wrong guesses, max-tries 10: exactly 10 code_mismatch and 54 exceed_max_try' '
	race 64 guesses /api/verifications/verification-code/verify "$tok" wrong.json &&
	test "$(count 400 guesses/statuses)" = 64 &&
	test "$(count verification_code.code_mismatch guesses/codes)" = 10 &&
	test "$(count verification_code.exceed_max_try guesses/codes)" = 54
'

test_expect_success 'then the right code: 400 verification_code.exceed_max_try' '
	verify_code "$tok" email alice@example.com "$rec" "$code" &&
	check_status 400 && check_code verification_code.exceed_max_try &&
	test "$("$top_builddir/t/helper/stepup-check" "$alice" "$rec")" = denied
'

test_expect_success 'the audit trail has the 10 code_mismatch for it, by handle, no exceed_max_try (no guess: not written)' '
	h=$("$ADMIN" record handle "$rec") &&
	! "$ADMIN" audit show | grep -F "$rec" &&
	"$ADMIN" audit show | grep "\"record\":\"$h\"" >audit-guesses &&
	test "$(grep -c "\"reason\":\"verification_code.code_mismatch\"" audit-guesses)" = 10 &&
	test "$(grep -c "\"reason\":\"verification_code.exceed_max_try\"" audit-guesses)" = 0
'

test_expect_success '20 concurrent sends to one fresh address, send-max 10: exactly 10 x 201 and 10 x 429' '
	outbox_clear &&
	live=$("$ADMIN" stats | jq -r .liveRecords) &&
	jq -cn "{identifier: {type: \"email\", value: \"race@example.org\"}}" >send.json &&
	race 20 sends /api/verifications/verification-code "$tok" send.json &&
	test "$(count 201 sends/statuses)" = 10 &&
	test "$(count 429 sends/statuses)" = 10 &&
	test "$(count request.message_rate_limited sends/codes)" = 10 &&
	test "$(count - sends/codes)" = 10
'

test_expect_success 'exactly 10 messages in the outbox, 10 different records' '
	test "$(outbox_count mail)" = 10 &&
	for f in "$REVERIFY_OUTBOX"/mail-*.eml; do
		outbox_code "$f" || echo "no code in $f"
	done >>"$TRASH/seen-codes" &&
	jq -r ".verificationRecordId // empty" sends/*.json | sort -u >sent-records &&
	test "$(wc -l <sent-records)" = 10
'

test_expect_success 'each new code replaced the older ones: one of the 10 records is left (deviation 2)' '
	test "$("$ADMIN" stats | jq -r .liveRecords)" = "$((live + 1))" &&
	: >left &&
	for r in $(cat sent-records); do
		verify_code "$tok" email race@example.org "$r" ""
		echo "$r $(cat "$TRASH/status") $(json_get "$TRASH/body" .code)" >>left
	done &&
	cat left &&
	test "$(grep -c " 400 verification_code.not_found$" left)" = 1 &&
	test "$(grep -c " 400 verification_record.not_found$" left)" = 9
'

test_expect_success 'the 21st send, after the race: 429' '
	send_code "$tok" email race@example.org &&
	check_status 429 && check_code request.message_rate_limited &&
	test "$(outbox_count mail)" = 10
'

test_expect_success 'a code for bob' '
	outbox_clear &&
	send_code "$btok" phone 64211234567 &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last sms)") &&
	echo "$code" >>"$TRASH/seen-codes" &&
	jq -cn --arg id "$rec" --arg c "$code" \
		"{identifier: {type: \"phone\", value: \"64211234567\"}, verificationId: \$id, code: \$c}" \
		>right.json
'

test_expect_success '16 concurrent verifies of the right code: exactly one 200, 15 verification_code.not_found' '
	race 16 verifies /api/verifications/verification-code/verify "$btok" right.json &&
	test "$(count 200 verifies/statuses)" = 1 &&
	test "$(count 400 verifies/statuses)" = 15 &&
	test "$(count verification_code.not_found verifies/codes)" = 15 &&
	test "$(count - verifies/codes)" = 1 &&
	test "$(jq -r ".verificationRecordId // empty" verifies/*.json)" = "$rec"
'

test_expect_success 'the record is verified, as step-up proof of bob only' '
	test "$("$top_builddir/t/helper/stepup-check" "$bob" "$rec")" = verified &&
	test "$("$top_builddir/t/helper/stepup-check" "$alice" "$rec")" = denied
'

test_expect_success 'reverify-admin audit verify passes' '
	"$ADMIN" audit verify
'

test_expect_success 'no code that was sent, and no token, is in the log' '
	test "$(wc -l <"$TRASH/seen-codes")" = 12 &&
	codes=$(sort -u "$TRASH/seen-codes" | paste -sd "|" -) &&
	! grep -E "(^|[^0-9A-Za-z])($codes)([^0-9A-Za-z]|$)" "$TRASH/reverify.log" &&
	! grep -F "$tok" "$TRASH/reverify.log" &&
	! grep -F "$btok" "$TRASH/reverify.log"
'

test_done
