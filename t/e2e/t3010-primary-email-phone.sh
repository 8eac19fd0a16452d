#!/bin/sh
# t3010-primary-email-phone: the new-identifier flow of logto-spec 6.3 and
# the primary e-mail and phone routes (6.6, 8.1.3 EP, 8.2 D-26..D-28)
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
setup_instance "$DELIVERY" "<email-policy block=\"@blocked.example\"/>" ||
	bail_out "cannot set up the instance"
PW='my Password 123'
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 4915112345678 --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify \
	my-account-primary-email my-account-primary-phone my-account ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

# code_for TOKEN TYPE VALUE: send, read the code from the outbox, verify;
# prints the verified record id
# shellcheck disable=SC2012 # ls -t: the newest message; the outbox names are ours, without odd characters
code_for () {
	jq -cn --arg t "$2" --arg v "$3" '{identifier: {type: $t, value: $v}}' >send.json &&
	http POST /api/verifications/verification-code send.json -H "Authorization: Bearer $1" &&
	r=$(json_get "$TRASH/body" .verificationRecordId) &&
	if test "$2" = email; then
		f=$(ls -t "$REVERIFY_OUTBOX"/mail-* | head -n 1) &&
		c=$(sed -n "s/^Subject: .*\([0-9]\{6\}\)\$/\1/p" "$f")
	else
		f=$(ls -t "$REVERIFY_OUTBOX"/sms-* | head -n 1) &&
		c=$(sed "1,/^\$/d" "$f" | grep -o "[0-9]\{6\}" | head -n 1)
	fi &&
	jq -cn --arg t "$2" --arg v "$3" --arg r "$r" --arg c "$c" \
		'{identifier: {type: $t, value: $v}, verificationId: $r, code: $c}' >ver.json &&
	http POST /api/verifications/verification-code/verify ver.json -H "Authorization: Bearer $1" &&
	test "$(cat "$TRASH/status")" = 200 &&
	echo "$r"
}

# set_primary TOKEN KIND VALUE STEPUP NEWRECORD
set_primary () {
	jq -cn --arg k "$2" --arg v "$3" --arg r "$5" '{($k): $v, newIdentifierVerificationRecordId: $r}' >p.json &&
	http POST "/api/my-account/primary-$2" p.json -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $4"
}

remove_primary () {
	http DELETE "/api/my-account/primary-$2" -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $3"
}

test_expect_success 'without the email scope: 400 auth.unauthorized (EP-1)' '
	a=$(step_up "$tok") &&
	set_primary "$(MINT_SCOPE="openid profile" mint "$uid")" email new@example.com "$a" bogus &&
	check_status 400 && check_code auth.unauthorized
'

test_expect_success 'an invalid step-up header: 401 (EP-2)' '
	set_primary "$tok" email new@example.com invalid-verification-record-id bogus &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a record id that does not exist: 400 verification_record.not_found (EP-3)' '
	set_primary "$tok" email new@example.com "$a" new-verification-record-id &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'password step-up + verified code to the new address: 204 (EP-4)' '
	b=$(code_for "$tok" email new@example.com) &&
	set_primary "$tok" email new@example.com "$a" "$b" &&
	check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = new@example.com
'

test_expect_success 'the old address got the EmailChanged notice' '
	grep -lx "To: alice@example.com" "$REVERIFY_OUTBOX"/mail-* >notices &&
	test -s notices
'

test_expect_success 'step-up by a code to the current e-mail, then a new one (EP-5)' '
	a2=$(code_for "$tok" email new@example.com) &&
	b2=$(code_for "$tok" email newer@example.com) &&
	set_primary "$tok" email newer@example.com "$a2" "$b2" &&
	check_status 204
'

test_expect_success 'step-up by an SMS code to the current phone, then a new e-mail' '
	s1=$(code_for "$tok" phone 4915112345678) &&
	b6=$(code_for "$tok" email sms-proven@example.com) &&
	set_primary "$tok" email sms-proven@example.com "$s1" "$b6" &&
	check_status 204
'

test_expect_success 'a BindNewIdentifier record is no step-up proof (3.7)' '
	b3=$(code_for "$tok" email third@example.com) &&
	set_primary "$tok" email third@example.com "$b3" "$b3" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'the record is for another case of the address: 400 (D-26)' '
	set_primary "$tok" email THIRD@example.com "$a" "$b3" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'an unverified new-identifier record: 400 (D-27)' '
	jq -cn "{identifier: {type: \"email\", value: \"fourth@example.com\"}}" >send.json &&
	http POST /api/verifications/verification-code send.json -H "Authorization: Bearer $tok" &&
	u=$(json_get "$TRASH/body" .verificationRecordId) &&
	set_primary "$tok" email fourth@example.com "$a" "$u" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'a blocked domain: 422 session.email_blocklist.email_not_allowed (EP-7)' '
	set_primary "$tok" email x@blocked.example "$a" bogus &&
	check_status 422 && check_code session.email_blocklist.email_not_allowed
'

test_expect_success 'an address another user has, in other case: 422 (D-28)' '
	bob=$(add_user --username bob --email Taken@Example.com) &&
	b4=$(code_for "$tok" email taken@example.com) &&
	set_primary "$tok" email taken@example.com "$a" "$b4" &&
	check_status 422 && check_code user.email_already_in_use
'

test_expect_success 'the record is reused in window mode: set then delete with one R (EP-16)' '
	b5=$(code_for "$tok" email fifth@example.com) &&
	set_primary "$tok" email fifth@example.com "$a" "$b5" && check_status 204 &&
	remove_primary "$tok" email "$a" && check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = null
'

test_expect_success 'DELETE without the email scope: 400 auth.unauthorized (EP-11)' '
	remove_primary "$(MINT_SCOPE="openid profile" mint "$uid")" email "$a" &&
	check_status 400 && check_code auth.unauthorized
'

test_expect_success 'DELETE with an invalid header: 401 (EP-12)' '
	remove_primary "$tok" email invalid &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a new phone by SMS code: 204 (EP-19)' '
	p1=$(code_for "$tok" phone 4915199999999) &&
	set_primary "$tok" phone 4915199999999 "$a" "$p1" &&
	check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .primaryPhone)" = 4915199999999
'

test_expect_success 'a phone another user has in the other national form: 422 (EP-20, EP-21)' '
	carol=$(add_user --username carol --phone 64211234567) &&
	p2=$(code_for "$tok" phone 640211234567) &&
	set_primary "$tok" phone 640211234567 "$a" "$p2" &&
	check_status 422 && check_code user.phone_already_in_use
'

test_expect_success 'the last way to sign in cannot be removed (EP-13, EP-24)' '
	lone=$(printf "%s\n" "$PW" | add_user --phone 4915100000001 --password-stdin) &&
	lt=$(mint "$lone") &&
	la=$(step_up "$lt") &&
	remove_primary "$lt" phone "$la" &&
	check_status 400 && check_code user.last_sign_in_method_required
'

test_expect_success 'phone field read-only: 400 account_center.field_not_editable (AR-4)' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "<account-center phone=\"read-only\"/>" &&
	start_lighttpd verification-password verification-code verification-code-verify \
		my-account-primary-phone &&
	a=$(step_up "$tok") &&
	remove_primary "$tok" phone "$a" &&
	check_status 400 && check_code account_center.field_not_editable
'

# claim_race T1 A1 BODY1 T2 A2 BODY2: the two claims at once, their
# statuses on stdout, bodies in r1 and r2
claim_race () {
	"$CURL" -s -o r1 -w "%{http_code}\n" --max-time 30 -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $2" -H "Content-Type: application/json" \
		--data-binary @"$3" "$BASE/api/my-account/primary-email" >code1 &
	race1_=$!
	"$CURL" -s -o r2 -w "%{http_code}\n" --max-time 30 -H "Authorization: Bearer $4" \
		-H "logto-verification-id: $5" -H "Content-Type: application/json" \
		--data-binary @"$6" "$BASE/api/my-account/primary-email" >code2 &
	race2_=$!
	wait "$race1_" "$race2_"
	cat code1 code2
}

# two users claim one new address at the same moment: the unique index and
# the transaction let exactly one win
test_expect_success 'two users claim the same address concurrently: exactly one wins' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" &&
	LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-password verification-code \
		verification-code-verify my-account-primary-email &&
	u1=$(printf "%s\n" "$PW" | add_user --username racer1 --password-stdin) &&
	u2=$(printf "%s\n" "$PW" | add_user --username racer2 --password-stdin) &&
	t1=$(mint "$u1") && t2=$(mint "$u2") &&
	a1=$(step_up "$t1") && a2=$(step_up "$t2") &&
	b1=$(code_for "$t1" email prize@example.com) &&
	b2=$(code_for "$t2" email prize@example.com) &&
	jq -cn --arg r "$b1" "{email: \"prize@example.com\", newIdentifierVerificationRecordId: \$r}" >c1.json &&
	jq -cn --arg r "$b2" "{email: \"prize@example.com\", newIdentifierVerificationRecordId: \$r}" >c2.json &&
	claim_race "$t1" "$a1" c1.json "$t2" "$a2" c2.json >codes &&
	sort codes | tr "\n" " " >got &&
	test "$(cat got)" = "204 422 " &&
	cat r1 r2 | grep -c "user.email_already_in_use" | grep -x 1
'

test_expect_success 'the audit chain verifies' '
	"$ADMIN" audit verify
'

test_done
