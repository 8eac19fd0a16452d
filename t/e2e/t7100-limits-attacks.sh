#!/bin/sh
# t7100-limits-attacks: the attacks of security review F2, F5, F9 and F11 replayed through lighttpd + FastCGI: each fails now, and the victim's own step-up still works (issue 14: limits that one account cannot spend for another)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

outbox_setup || bail_out "no outbox"
SENDMAIL="sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\""
SMS="sms-command=\"$top_srcdir/tools/outbox-sms\""
# the default lockout (100 failures an hour), send limit (10 per recipient
# and 600 s) and per-caller budget (20 an hour); SMS only to +49 and +64,
# 6 an hour for the whole site
setup_instance "<delivery $SENDMAIL $SMS sms-prefixes=\"49 64\" sms-hourly-max=\"6\"/>" \
	'<email-policy block="@blocked.example"/>' ||
	bail_out "cannot set up the instance"
PW='victim Horse battery 42'
VMAIL=victim@example.com VPHONE=4915112345678
victim=$(printf '%s\n' "$PW" | add_user --id 4242 --username victim \
	--email "$VMAIL" --phone "$VPHONE" --password-stdin) || bail_out "no user"
mallory=$(add_user --username mallory --email mallory@example.com \
	--phone 4915199990000) || bail_out "no user"
spammer=$(add_user --username spammer --email spammer@example.com) || bail_out "no user"
carol=$(add_user --username carol --email carol@example.com) || bail_out "no user"
dora=$(add_user --username dora --email dora@example.com) || bail_out "no user"
erin=$(add_user --username erin --email erin@example.com) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify ||
	bail_out "lighttpd did not start"
vtok=$(mint "$victim") mtok=$(mint "$mallory") stok=$(mint "$spammer")
ctok=$(mint "$carol") dtok=$(mint "$dora") etok=$(mint "$erin")
jq -cn --arg p "$PW" '{password: $p}' >"$TRASH/pw.json"

# sent KIND: the last answer was 201 and exactly one message of KIND is in
# the outbox; prints its code
sent () {
	check_status 201 && test "$(outbox_count "$1")" = 1 &&
	outbox_code "$(outbox_last "$1")"
}

# limited MAX: the last answer was 429 request.message_rate_limited with a
# Retry-After of 1 to MAX seconds
limited () {
	check_status 429 && check_code request.message_rate_limited &&
	ra=$(sed -n "s/^Retry-After: *//Ip" "$TRASH/headers") &&
	echo "Retry-After: $ra" &&
	test "$ra" -ge 1 && test "$ra" -le "$1"
}

# hammer N TYPE VALUE RECORD CODE: N verify calls as mallory over one curl
# (one connection), the answers' codes counted into $TRASH/hammer.codes
hammer () {
	jq -cn --arg t "$2" --arg v "$3" --arg id "$4" --arg c "$5" \
		'{identifier: {type: $t, value: $v}, verificationId: $id, code: $c}' \
		>"$TRASH/hammer.json" || return 1
	rm -rf "$TRASH/hammer" && mkdir "$TRASH/hammer" || return 1
	hm_i_=0
	while test "$hm_i_" -lt "$1"; do
		hm_i_=$((hm_i_ + 1))
		printf 'url = "%s"\noutput = "%s"\n' \
			"$BASE/api/verifications/verification-code/verify" \
			"$TRASH/hammer/$hm_i_"
	done >"$TRASH/hammer.cfg"
	"$CURL" -q -s --max-time 120 -K "$TRASH/hammer.cfg" \
		-H "Authorization: Bearer $mtok" -H "Content-Type: application/json" \
		-H "Expect:" --data-binary "@$TRASH/hammer.json" || return 1
	test "$(find "$TRASH/hammer" -type f | wc -l)" = "$1" &&
	cat "$TRASH/hammer"/* | jq -r .code >>"$TRASH/hammer.codes"
}

# audit_count: the number of audit entries
audit_count () {
	"$ADMIN" stats | jq -r .auditEntries
}

# ---- F2: a lockout spent by another account --------------------------------

test_expect_success 'mallory sends codes to her own e-mail and phone' '
	outbox_clear &&
	send_code "$mtok" email mallory@example.com && sent mail >/dev/null &&
	mrec_mail=$(record_id) &&
	outbox_clear &&
	send_code "$mtok" phone 4915199990000 && sent sms >/dev/null &&
	mrec_phone=$(record_id)
'

test_expect_success 'F2: 408 mismatched verifies with her records name the victim (e-mail, phone, user id 4242), empty and wrong codes: none is counted, nothing is written' '
	before=$(audit_count) &&
	: >"$TRASH/hammer.codes" &&
	hammer 51 email "$VMAIL" "$mrec_mail" "" &&
	hammer 51 email "$VMAIL" "$mrec_mail" 123456 &&
	hammer 51 phone "$VPHONE" "$mrec_phone" "" &&
	hammer 51 phone "$VPHONE" "$mrec_phone" 123456 &&
	hammer 51 phone 4242 "$mrec_phone" "" &&
	hammer 51 phone 4242 "$mrec_phone" 123456 &&
	hammer 51 email "VICTIM@Example.COM" "$mrec_mail" 123456 &&
	hammer 51 phone 49015112345678 "$mrec_phone" 123456 &&
	sort "$TRASH/hammer.codes" | uniq -c >counts && cat counts &&
	test "$(wc -l <"$TRASH/hammer.codes")" = 408 &&
	test "$(grep -c -x verification_code.not_found "$TRASH/hammer.codes")" = 153 &&
	test "$(grep -c -x verification_code.email_mismatch "$TRASH/hammer.codes")" = 102 &&
	test "$(grep -c -x verification_code.phone_mismatch "$TRASH/hammer.codes")" = 153 &&
	test "$(audit_count)" = "$before"
'

test_expect_success 'F2: the victim'\''s right e-mail code succeeds' '
	outbox_clear &&
	send_code "$vtok" email "$VMAIL" && code=$(sent mail) &&
	verify_code "$vtok" email "$VMAIL" "$(record_id)" "$code" &&
	check_status 200
'

test_expect_success 'F2: the victim'\''s right phone code succeeds' '
	outbox_clear &&
	send_code "$vtok" phone "$VPHONE" && code=$(sent sms) &&
	verify_code "$vtok" phone "$VPHONE" "$(record_id)" "$code" &&
	check_status 200
'

test_expect_success 'F2: the victim'\''s right password succeeds (phone "4242" is not user 4242)' '
	http POST /api/verifications/password "$TRASH/pw.json" \
		-H "Authorization: Bearer $vtok" &&
	check_status 201
'

test_expect_success 'mallory'\''s own address is not blocked either' '
	outbox_clear &&
	send_code "$mtok" email mallory@example.com && code=$(sent mail) &&
	verify_code "$mtok" email mallory@example.com "$(record_id)" "$code" &&
	check_status 200
'

# ---- F5 (a): the victim's send window spent by another account ---------------

test_expect_success 'F5: mallory fills the BindNewIdentifier window of the victim'\''s address: 10 x 201, then 429' '
	i=0 &&
	while test "$i" -lt 10; do
		send_code "$mtok" email "$VMAIL" && check_status 201 || break
		i=$((i + 1))
	done &&
	test "$i" = 10 &&
	outbox_clear &&
	send_code "$mtok" email "$VMAIL" &&
	limited 600 &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'F5: the victim'\''s own UserPermissionValidation send still gets 201, and its code works' '
	outbox_clear &&
	send_code "$vtok" email "$VMAIL" UserPermissionValidation && code=$(sent mail) &&
	verify_code "$vtok" email "$VMAIL" "$(record_id)" "$code" &&
	check_status 200
'

# ---- F5, F11: one caller's budget across recipients ----------------------

test_expect_success 'F5: one caller, 20 distinct recipients: 201 each; the 21st is 429 with Retry-After' '
	outbox_clear &&
	i=0 &&
	while test "$i" -lt 20; do
		i=$((i + 1))
		send_code "$stok" email "r$i@example.org" && check_status 201 || break
	done &&
	test "$i" = 20 && test "$(outbox_count mail)" = 20 &&
	send_code "$stok" email r21@example.org &&
	limited 3600 &&
	test "$(outbox_count mail)" = 20
'

test_expect_success 'F5: another caller is unaffected, to one of those recipients too' '
	outbox_clear &&
	send_code "$ctok" email r1@example.org && sent mail >/dev/null &&
	send_code "$ctok" email carol@example.com && check_status 201
'

# ---- F5 (b): SMS prefixes and the site's SMS budget ------------------------

test_expect_success 'F5: a number outside <delivery sms-prefixes>: 422 reverify.phone_not_allowed, nothing sent' '
	outbox_clear &&
	(for n in 33612345678 8821612345678 004915112345678 1; do
		send_code "$etok" phone "$n" &&
		check_status 422 && check_code reverify.phone_not_allowed || exit 1
	done ) &&
	test "$(json_get "$TRASH/body" .message)" = "Verification codes cannot be sent to phone numbers in this country or region." &&
	send_code "$etok" phone 33612345678 "" -H "Accept-Language: de" &&
	check_code reverify.phone_not_allowed &&
	json_get "$TRASH/body" .message | grep -F "Telefonnummern" &&
	test "$(outbox_count sms)" = 0
'

# 2 SMS of the hour so far (mallory's and the victim's); sms-hourly-max 6
test_expect_success 'F5: the site'\''s SMS budget: 4 more to +49 and +64 numbers go out, the 5th is 429' '
	outbox_clear &&
	(for n in 4915100000001 4915100000002 64211000003 640211000004; do
		send_code "$etok" phone "$n" && check_status 201 || exit 1
	done ) &&
	test "$(outbox_count sms)" = 4 &&
	send_code "$etok" phone 4915100000005 &&
	limited 3600 &&
	test "$(outbox_count sms)" = 4
'

test_expect_success 'F5: the SMS budget does not touch e-mail' '
	outbox_clear &&
	send_code "$etok" email erin@example.com && sent mail >/dev/null
'

# ---- F9: the canonical address -------------------------------------------

test_expect_success 'F9: x@blocked.example. is refused by block="@blocked.example", and X@Blocked.Example too' '
	outbox_clear &&
	send_code "$dtok" email x@blocked.example. &&
	check_status 400 && check_code session.email_blocklist.invalid_email &&
	send_code "$dtok" email X@Blocked.Example &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'F9: % and ! in a new address are refused, nothing sent' '
	(for a in "x%evil.example@example.com" "evil.example!x@example.com"; do
		send_code "$dtok" email "$a" &&
		check_status 400 && check_code session.email_blocklist.invalid_email || exit 1
	done ) &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'F5, F9: case and IDNA variants of one address share one send window; the trailing-dot one is refused' '
	outbox_clear &&
	(for a in Shared@Bücher.Example shared@xn--bcher-kva.example \
		SHARED@BÜCHER.EXAMPLE shared@bücher.example Shared@XN--BCHER-KVA.example; do
		send_code "$dtok" email "$a" && check_status 201 &&
		send_code "$dtok" email "$a" && check_status 201 || exit 1
	done ) &&
	test "$(outbox_count mail)" = 10 &&
	send_code "$dtok" email shared@bücher.example. &&
	check_status 400 && check_code session.email_blocklist.invalid_email &&
	send_code "$dtok" email shared@xn--bcher-kva.example &&
	limited 600 &&
	test "$(outbox_count mail)" = 10
'

# ---- reverify-admin user unlock / unlock ----------------------------------

# lockout after 2 failures, no SMS budget, a larger caller budget
test_expect_success 'restart with <lockout max-attempts="2">' '
	stop_lighttpd &&
	setup_instance "<delivery $SENDMAIL $SMS/>" "<lockout max-attempts=\"2\"/>" \
		"<codes caller-send-max=\"256\"/>" &&
	start_lighttpd verification-password verification-code verification-code-verify
'

test_expect_success 'the victim'\''s password is blocked after 2 wrong ones, the right one too' '
	jq -cn "{password: \"wrong\"}" >wrong.json &&
	http POST /api/verifications/password wrong.json -H "Authorization: Bearer $vtok" &&
	check_status 422 &&
	http POST /api/verifications/password wrong.json -H "Authorization: Bearer $vtok" &&
	check_code session.verification_blocked_too_many_attempts &&
	http POST /api/verifications/password "$TRASH/pw.json" -H "Authorization: Bearer $vtok" &&
	check_code session.verification_blocked_too_many_attempts
'

test_expect_success 'reverify-admin user unlock 4242 lifts it: the right password is 201' '
	"$ADMIN" user unlock 4242 >out && cat out &&
	grep -x "lifted the block of user '\''4242'\''" out &&
	http POST /api/verifications/password "$TRASH/pw.json" -H "Authorization: Bearer $vtok" &&
	check_status 201
'

test_expect_success 'user unlock without a block says so; an unknown user fails' '
	"$ADMIN" user unlock 4242 >out && cat out &&
	grep -x "nothing to do: user '\''4242'\'' is not blocked" out &&
	! "$ADMIN" user unlock 4243 2>err && cat err &&
	grep "no user '\''4243'\''" err
'

# block KIND VALUE: the victim's own code to VALUE, two wrong guesses (the
# second blocks), then the right code refused; $rec and $code stay
block () {
	outbox_clear &&
	send_code "$vtok" "$1" "$2" && check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last "$3")") &&
	wrong=$(echo "$code" | tr 0-9 1-90) &&
	verify_code "$vtok" "$1" "$2" "$rec" "$wrong" &&
	check_code verification_code.code_mismatch &&
	verify_code "$vtok" "$1" "$2" "$rec" "$wrong" &&
	check_code session.verification_blocked_too_many_attempts &&
	verify_code "$vtok" "$1" "$2" "$rec" "$code" &&
	check_code session.verification_blocked_too_many_attempts
}

test_expect_success 'reverify-admin unlock --email (in other case) lifts the e-mail block: the right code is 200' '
	block email "$VMAIL" mail &&
	"$ADMIN" unlock --email VICTIM@Example.COM >out && cat out &&
	grep "^lifted the block of email" out &&
	verify_code "$vtok" email "$VMAIL" "$rec" "$code" &&
	check_status 200
'

test_expect_success 'reverify-admin unlock --phone (with the national 0) lifts the phone block: the right code is 200' '
	block phone "$VPHONE" sms &&
	"$ADMIN" unlock --phone 49015112345678 >out && cat out &&
	grep "^lifted the block of phone" out &&
	verify_code "$vtok" phone "$VPHONE" "$rec" "$code" &&
	check_status 200
'

test_expect_success 'unlock needs exactly one of --email and --phone' '
	! "$ADMIN" unlock 2>err && grep "usage:" err &&
	! "$ADMIN" unlock --email a@b.example --phone 49 2>err && grep "usage:" err &&
	! "$ADMIN" unlock --phone +49 2>err && grep "is not a phone number" err
'

test_expect_success 'the audit trail has the three lifts, identifiers only as hashes, and verifies' '
	"$ADMIN" audit show >audit.jsonl &&
	grep "\"event\":\"lockout.lifted\"" audit.jsonl >lifted &&
	cat lifted &&
	test "$(wc -l <lifted)" = 3 &&
	test "$(grep -c "\"user\":\"4242\"" lifted)" = 1 &&
	test "$(grep -c "\"recipient\":\"[0-9a-f]\{64\}\"" lifted)" = 2 &&
	! grep -i -e "$VMAIL" -e "$VPHONE" -e 49015112345678 lifted &&
	"$ADMIN" audit verify
'

test_done
