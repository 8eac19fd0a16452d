#!/bin/sh
# t3030-stepup-modes: which records prove identity in logto-verification-id
# (logto-spec 3.6, 3.7, 6.1) and the single-use mode (deviation 4); a
# record bound to another session is no proof and is not used up (issue 14)
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
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"r@example.org\"/>" ||
	bail_out "cannot set up the instance"
PW='my Password 123'
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code my-account ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

rename () {
	jq -cn --arg u "$2" '{username: $u}' >patch.json &&
	http PATCH /api/my-account patch.json -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $3"
}

test_expect_success 'window mode: one record allows several changes (3.6)' '
	r=$(step_up "$tok") &&
	rename "$tok" alice1 "$r" && check_status 200 &&
	rename "$tok" alice2 "$r" && check_status 200 &&
	rename "$tok" alice3 "$r" && check_status 200
'

test_expect_success 'an unverified code record of the caller is refused (D-25)' '
	printf "{\"identifier\":{\"type\":\"email\",\"value\":\"alice@example.com\"}}" >send.json &&
	http POST /api/verifications/verification-code send.json -H "Authorization: Bearer $tok" &&
	check_status 201 &&
	u=$(json_get "$TRASH/body" .verificationRecordId) &&
	rename "$tok" alice_unverified "$u" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'another user'"'"'s record is refused (D-22)' '
	br=$(step_up "$(mint "$bob")") &&
	rename "$tok" alice4 "$br" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'the record of a deleted user is gone with the user' '
	"$ADMIN" -q user del "$bob" &&
	rename "$tok" alice5 "$br" &&
	check_status 401 &&
	test "$("$top_builddir/t/helper/stepup-check" "$bob" "$br")" = denied
'

test_expect_success 'single-use mode: the second change with one record is refused' '
	stop_lighttpd &&
	setup_instance "<verification step-up=\"single-use\"/>" &&
	start_lighttpd verification-password my-account &&
	r=$(step_up "$tok") &&
	rename "$tok" alice6 "$r" && check_status 200 &&
	rename "$tok" alice7 "$r" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'single-use mode: 16 concurrent changes with one record, one wins' '
	stop_lighttpd &&
	LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-password my-account &&
	r=$(step_up "$tok") &&
	seq 16 | xargs -P 16 -I{} sh -c "jq -cn --arg u \"racer{}\" \"{username: \\\$u}\" >p{}.json &&
		\"\$0\" -s -o /dev/null -w \"%{http_code}\n\" --max-time 30 -X PATCH \
		-H \"Authorization: Bearer $tok\" -H \"logto-verification-id: $r\" \
		-H \"Content-Type: application/json\" --data-binary @p{}.json \
		\"$BASE/api/my-account\"" "$CURL" >codes &&
	sort codes | uniq -c >counts && cat counts &&
	test "$(grep -c "^200$" codes)" = 1 &&
	test "$(grep -c "^401$" codes)" = 15
'

test_expect_success 'single-use mode: a try from another session neither works nor uses the record up' '
	s1=$(mint "$uid" --sid s1) && s2=$(mint "$uid" --sid s2) &&
	r=$(step_up "$s1") &&
	rename "$s2" alice_s2 "$r" &&
	check_status 401 && check_code verification_record.permission_denied &&
	rename "$s1" alice_s1 "$r" && check_status 200 &&
	rename "$s1" alice_s1b "$r" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_done
