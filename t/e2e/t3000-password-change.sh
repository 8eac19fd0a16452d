#!/bin/sh
# t3000-password-change: step-up then POST /api/my-account/password
# (logto-spec 6.5, 8.1.1 PU, 8.1.2 IP, 8.1.6 AR-3)
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
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>"
# an on-change program that records what it is given
cat >"$TRASH/hook.sh" <<'EOF'
#!/bin/sh
{ echo "args: $*"; cat; echo; } >>"$REVERIFY_OUTBOX/hook.log"
EOF
chmod +x "$TRASH/hook.sh"
setup_instance "$DELIVERY" "<hooks on-change=\"$TRASH/hook.sh\"/>" ||
	bail_out "cannot set up the instance"
OLD='first Password 1'
NEW='brand new Pa55word!'
uid=$(printf '%s\n' "$OLD" | add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
start_lighttpd verification-password my-account-password my-account ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

# change TOKEN RECORD PASSWORD
change () {
	jq -cn --arg p "$3" '{password: $p}' >pw.json &&
	if test -n "$2"; then
		http POST /api/my-account/password pw.json -H "Authorization: Bearer $1" \
			-H "logto-verification-id: $2"
	else
		http POST /api/my-account/password pw.json -H "Authorization: Bearer $1"
	fi
}

test_expect_success 'an invalid record id: 401 verification_record.permission_denied (PU-1)' '
	change "$tok" invalid-verification-record-id "$NEW" &&
	check_status 401 && check_code verification_record.permission_denied &&
	grep -i "^WWW-Authenticate: Bearer error=\"insufficient_user_authentication\"" "$TRASH/headers"
'

test_expect_success 'no header: 401 verification_record.permission_denied (PU-2, IP-1)' '
	change "$tok" "" "$NEW" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a weak password: 422 password.rejected with the issues (PU-3)' '
	rec=$(step_up "$tok" "$OLD") &&
	change "$tok" "$rec" 123456 &&
	check_status 422 && check_code password.rejected &&
	json_get "$TRASH/body" ".data[].code" | grep -x "password_rejected.too_short"
'

test_expect_success 'the current password: 422 user.same_password (PU-4)' '
	change "$tok" "$rec" "$OLD" &&
	check_status 422 && check_code user.same_password
'

test_expect_success 'a strong password: 204, and the new one steps up (PU-5)' '
	change "$tok" "$rec" "$NEW" &&
	check_status 204 &&
	step_up "$tok" "$NEW" >rec2 &&
	jq -cn --arg p "$OLD" "{password: \$p}" >su.json &&
	http POST /api/verifications/password su.json -H "Authorization: Bearer $tok" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'GET /api/my-account: hasPassword true (PU-5)' '
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	test "$(json_get "$TRASH/body" .hasPassword)" = true
'

test_expect_success 'the on-change program ran with the event, the user and JSON' '
	grep -x "args: password.changed $uid" "$REVERIFY_OUTBOX/hook.log" &&
	grep "\"event\":\"password.changed\"" "$REVERIFY_OUTBOX/hook.log" &&
	! grep -F "$NEW" "$REVERIFY_OUTBOX/hook.log"
'

test_expect_success 'a notice went to the old address, with no code in it' '
	f=$(ls -t "$REVERIFY_OUTBOX"/mail-* | head -n 1) &&
	grep -x "To: alice@example.com" "$f"
'

test_expect_success 'the change revoked the other records; the one used stays (window mode)' '
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$rec")" = verified &&
	old=$(step_up "$tok" "$NEW") &&
	rec3=$(step_up "$tok" "$NEW") &&
	change "$tok" "$rec3" "another Strong1 pass" &&
	check_status 204 &&
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$old")" = denied &&
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$rec3")" = verified
'

test_expect_success 'a third-party client: 403, even before the step-up (TP-2, 6.5.2)' '
	change "$(mint "$uid" --client-id other-app)" "" "$NEW" &&
	check_status 403 && check_code auth.third_party_application_forbidden
'

test_expect_success 'a user with no password, e-mail or phone sets one without step-up (IP-2)' '
	bare=$(add_user --username bare) &&
	t2=$(MINT_SCOPE=openid mint "$bare") &&
	change "$t2" "" "initial Passw0rd here" &&
	check_status 204 &&
	step_up "$t2" "initial Passw0rd here" >/dev/null
'

test_expect_success 'the same user with a weak one: 422 password.rejected (IP-3)' '
	bare2=$(add_user --username bare2) &&
	change "$(mint "$bare2")" "" 123456 &&
	check_status 422 && check_code password.rejected
'

test_expect_success 'a user with only an e-mail, or only a phone: 401 (IP-5, IP-6)' '
	em=$(add_user --email only@example.com) &&
	change "$(mint "$em")" "" "initial Passw0rd here" &&
	check_status 401 && check_code verification_record.permission_denied &&
	ph=$(add_user --phone 4915112340000) &&
	change "$(mint "$ph")" "" "initial Passw0rd here" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'another user'"'"'s record: 401' '
	bob=$(printf "%s\n" "$OLD" | add_user --username bob --password-stdin) &&
	brec=$(step_up "$(mint "$bob")" "$OLD") &&
	change "$tok" "$brec" "yet another Pa55word" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'password field read-only: 400 account_center.field_not_editable (AR-3, IP-4)' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "<account-center password=\"read-only\"/>" &&
	start_lighttpd verification-password my-account-password &&
	rec=$(step_up "$tok" "another Strong1 pass") &&
	change "$tok" "$rec" "yet another Pa55word" &&
	check_status 400 && check_code account_center.field_not_editable
'

test_expect_success 'single-use mode: the record is consumed by the change' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "<verification step-up=\"single-use\"/>" &&
	start_lighttpd verification-password my-account-password &&
	rec=$(step_up "$tok" "another Strong1 pass") &&
	change "$tok" "$rec" "single use Pa55word" &&
	check_status 204 &&
	change "$tok" "$rec" "second use Pa55word" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'every change is audited and the chain verifies; no password in the log' '
	"$ADMIN" audit show | grep -q "user.password_changed" &&
	"$ADMIN" audit verify &&
	! grep -F "Pa55word" "$TRASH/reverify.log" &&
	! grep -F "$OLD" "$TRASH/reverify.log"
'

test_done
