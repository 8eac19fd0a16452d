#!/bin/sh
# t1200-verification-password: POST /api/verifications/password as plain CGI:
# the check order and every error of logto-spec 2.1
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance || bail_out "cannot set up the instance"
PW='Tr0ub4dor&3 with spaces'
uid=$(printf '%s\n' "$PW" | add_user --username alice --email a@example.com --password-stdin) ||
	bail_out "no user"
nopw=$(add_user --username nopass --email n@example.com) || bail_out "no user"
tok=$(mint "$uid")
P=verification-password

pw_body () {
	jq -cn --arg p "$1" '{password: $p}' >req.json
}

post () {
	run_cgi "$P" POST "${2:-/api/verifications/password}" req.json \
		"HTTP_AUTHORIZATION=Bearer $1"
}

test_expect_success 'the right password: 201 with a record id and expiresAt (D-32)' '
	pw_body "$PW" &&
	post "$tok" &&
	check_status 201 &&
	json_get "$TRASH/body" .verificationRecordId | grep -E "^[0-9a-z]{21}$" &&
	exp=$(json_get "$TRASH/body" .expiresAt) &&
	echo "$exp" | grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$" &&
	left=$(( $(date -d "$exp" +%s) - $(date +%s) )) &&
	test "$left" -ge 590 && test "$left" -le 601
'

test_expect_success 'the record proves the caller, and nobody else (6.1)' '
	rec=$(json_get "$TRASH/body" .verificationRecordId) &&
	"$top_builddir/t/helper/stepup-check" "$uid" "$rec" &&
	test_must_fail_=0 &&
	{ "$top_builddir/t/helper/stepup-check" "$nopw" "$rec" || test_must_fail_=1; } &&
	test "$test_must_fail_" = 1
'

test_expect_success 'the alias /password/verify behaves the same (deviation 6)' '
	post "$tok" /api/verifications/password/verify &&
	check_status 201
'

test_expect_success 'a wrong password: 422 session.invalid_credentials' '
	pw_body "not the password" &&
	post "$tok" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'a user without a password: 422, like a wrong one (D-2)' '
	t2=$(mint "$nopw") &&
	pw_body "anything" &&
	post "$t2" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'an empty body: 400 guard.invalid_input (D-1)' '
	printf "{}" >req.json &&
	post "$tok" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'an empty password: 400 guard.invalid_input (D-1)' '
	pw_body "" &&
	post "$tok" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'a password that is not a string: 400' '
	printf "{\"password\":123456}" >req.json &&
	post "$tok" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'unknown keys are ignored (1.3)' '
	jq -cn --arg p "$PW" "{password: \$p, remember: true}" >req.json &&
	post "$tok" &&
	check_status 201
'

test_expect_success 'no token and a bad body: the 401 comes first (1.2)' '
	printf "{not json" >req.json &&
	run_cgi $P POST /api/verifications/password req.json &&
	check_status 401 && check_code auth.authorization_header_missing
'

test_expect_success 'a third-party client: 403 (TP-3), after the body check (2.1)' '
	t3=$(mint "$uid" --client-id other-app) &&
	pw_body "$PW" &&
	post "$t3" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	printf "{}" >req.json &&
	post "$t3" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'a suspended user with the right password: 401 user.suspended' '
	"$ADMIN" -q user suspend "$uid" &&
	pw_body "$PW" &&
	post "$tok" &&
	check_status 401 && check_code user.suspended
'

# Logto checks the password first; we refuse before hashing, so that a
# suspended account is no password oracle (issue 14, F3)
test_expect_success 'a suspended user with a wrong password: 401 user.suspended too, nothing counted' '
	"$ADMIN" audit show >before.jsonl &&
	pw_body "nope" &&
	post "$tok" &&
	check_status 401 && check_code user.suspended &&
	"$ADMIN" audit show >after.jsonl &&
	test_cmp before.jsonl after.jsonl &&
	"$ADMIN" -q user unsuspend "$uid"
'

test_expect_success 'a deleted user: 404 entity.not_found (D-34)' '
	gone=$(add_user --username gone) &&
	t4=$(mint "$gone") &&
	"$ADMIN" -q user del "$gone" &&
	pw_body "x" &&
	post "$t4" &&
	check_status 404 && check_code entity.not_found
'

test_expect_success 'a disabled account center: 400 account_center.not_enabled (D-3)' '
	setup_instance "<account-center enabled=\"no\"/>" &&
	pw_body "$PW" &&
	post "$tok" &&
	check_status 400 && check_code account_center.not_enabled &&
	setup_instance
'

test_expect_success 'outcomes are in the audit trail, which verifies' '
	"$ADMIN" audit show >audit.jsonl &&
	grep -q "\"event\":\"verify.password.ok\"" audit.jsonl &&
	grep -q "\"event\":\"verify.password.failed\"" audit.jsonl &&
	"$ADMIN" audit verify
'

test_expect_success 'the password never reaches the log or the audit trail' '
	! grep -F "$PW" "$TRASH/reverify.log" audit.jsonl &&
	! grep -F "Tr0ub4dor" "$TRASH/reverify.log" audit.jsonl
'

test_done
