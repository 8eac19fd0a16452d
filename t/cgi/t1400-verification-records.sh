#!/bin/sh
# t1400-verification-records: GET /api/verifications and
# DELETE /api/verifications/:handle-or-id as plain CGI: list (by handle,
# never by id) and revoke (by either), and every error (DESIGN.md
# deviation 7, issue 14)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"

setup_instance || bail_out "cannot set up the instance"
PW='correct horse battery staple'
alice=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --email bob@example.com --password-stdin) ||
	bail_out "no user"
carol=$(add_user --username carol) || bail_out "no user"
tok=$(mint "$alice")
btok=$(mint "$bob")
ctok=$(mint "$carol")
R=verification-records
NOT_FOUND='{"code":"verification_record.not_found","message":"Verification record not found."}'
UNAUTHORIZED='Unauthorized. Please check the credentials and their scope.'

# password TOKEN: a Password record through the real program; prints its
# id and keeps its expiresAt in $TRASH/exp.<id>
password () {
	jq -cn --arg p "$PW" '{password: $p}' >"$TRASH/pw.json" &&
	run_cgi verification-password POST /api/verifications/password "$TRASH/pw.json" \
		"HTTP_AUTHORIZATION=Bearer $1" >/dev/null &&
	check_status 201 >&2 &&
	pw_id_=$(json_get "$TRASH/body" .verificationRecordId) &&
	json_get "$TRASH/body" .expiresAt >"$TRASH/exp.$pw_id_" &&
	echo "$pw_id_"
}

# list TOKEN / revoke TOKEN ID: the two routes, as CGI
list () {
	run_cgi "$R" GET /api/verifications "HTTP_AUTHORIZATION=Bearer $1"
}
revoke () {
	run_cgi "$R" DELETE "/api/verifications/$2" "HTTP_AUTHORIZATION=Bearer $1"
}

# check_error STATUS CODE MESSAGE: the last response was exactly that error
check_error () {
	check_status "$1" &&
	check_body "$(jq -cn --arg c "$2" --arg m "$3" '{code: $c, message: $m}')"
}

# expected_password ID...: the list of these Password records, in that order
expected_password () {
	for ep_id_ in "$@"; do
		ep_exp_=$(cat "$TRASH/exp.$ep_id_") &&
		ep_handle_=$(cat "$TRASH/handle.$ep_id_") &&
		# created = expires - record-ttl (600 s, logto-spec 3.4)
		ep_ms_=$(( $(date -u -d "$ep_exp_" +%s%3N) - 600000 )) &&
		ep_created_=$(date -u -d "@$((ep_ms_ / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((ep_ms_ % 1000)))Z &&
		jq -cn --arg h "$ep_handle_" --arg c "$ep_created_" --arg e "$ep_exp_" \
			'{handle: $h, type: "Password", verified: true, identifier: null,
			  templateType: null, createdAt: $c, expiresAt: $e}' || return 1
	done | jq -cs '{records: .}'
}

test_expect_success 'no records yet: 200 {"records":[]}' '
	list "$tok" &&
	check_status 200 &&
	check_body "{\"records\":[]}" &&
	grep -x "Content-Type: application/json; charset=utf-8" "$TRASH/headers" &&
	grep -x "Cache-Control: no-store" "$TRASH/headers"
'

test_expect_success 'setup: two Password records for alice, one for bob' '
	a1=$(password "$tok") && sleep 0.01 &&
	a2=$(password "$tok") &&
	b1=$(password "$btok") &&
	test "$a1" != "$a2"
'

test_expect_success 'the list names each record by a distinct handle of 32 hex characters' '
	handles "$tok" "$a1" "$a2" &&
	handles "$btok" "$b1" &&
	test "$(cat "$TRASH"/handle.* | sort -u | wc -l)" = 3 &&
	test "$(h "$a1")" = "$("$ADMIN" record handle "$a1")" &&
	test "$(h "$b1")" = "$("$ADMIN" record handle "$b1")"
'

test_expect_success 'the list: the caller'\''s records only, newest first, exact members' '
	list "$tok" &&
	check_status 200 &&
	check_body "$(expected_password "$a2" "$a1")"
'

test_expect_success 'bob sees his own record only' '
	list "$btok" &&
	check_status 200 &&
	check_body "$(expected_password "$b1")"
'

test_expect_success 'no record id, code hash, tries, owner, creator or action in the list' '
	list "$tok" &&
	! grep -F -e "$a1" -e "$a2" "$TRASH/body" &&
	! grep -E "\"id\"|code|tries|owner|creator|usesLeft|clientId|client|sid|action|$alice" "$TRASH/body"
'

test_expect_success 'HEAD on the list: 200, no body' '
	run_cgi $R HEAD /api/verifications "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 200 &&
	test ! -s "$TRASH/body"
'

test_expect_success 'no token: 401 auth.authorization_header_missing, for GET and DELETE' '
	run_cgi $R GET /api/verifications &&
	check_error 401 auth.authorization_header_missing "Authorization header is missing." &&
	run_cgi $R DELETE "/api/verifications/$a1" &&
	check_error 401 auth.authorization_header_missing "Authorization header is missing." &&
	test "$(stepup "$alice" "$a1")" = verified
'

test_expect_success 'a bad token: 401 auth.unauthorized' '
	list "not.a.token" &&
	check_error 401 auth.unauthorized "$UNAUTHORIZED" &&
	revoke "not.a.token" "$a1" &&
	check_error 401 auth.unauthorized "$UNAUTHORIZED"
'

test_expect_success 'a third-party token: GET 403 too (it would learn the handles), DELETE 403' '
	t3=$(mint "$alice" --client-id other-app) &&
	list "$t3" &&
	check_error 403 auth.third_party_application_forbidden \
		"Third-party applications may not use this API." &&
	revoke "$t3" "$a1" &&
	check_error 403 auth.third_party_application_forbidden \
		"Third-party applications may not use this API." &&
	revoke "$t3" "$(h "$a1")" &&
	check_error 403 auth.third_party_application_forbidden \
		"Third-party applications may not use this API."
'

test_expect_success 'the 403 revoked nothing' '
	test "$(stepup "$alice" "$a1")" = verified
'

test_expect_success 'a handle is no step-up proof' '
	grep -xE "[0-9a-f]{32}" "$TRASH/handle.$a1" &&
	test "$(stepup "$alice" "$(h "$a1")")" = denied
'

test_expect_success 'another user'\''s record, by id or handle: 404 verification_record.not_found, and it stays' '
	revoke "$tok" "$b1" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "$(h "$b1")" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	test "$(stepup "$bob" "$b1")" = verified &&
	list "$btok" && check_body "$(expected_password "$b1")"
'

test_expect_success 'an unknown well-formed id or handle: the same 404' '
	revoke "$tok" 0123456789abcdefghijk &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" 0123456789abcdef0123456789abcdef &&
	check_status 404 && check_body "$NOT_FOUND"
'

test_expect_success 'revoke an own record by its handle: 204, no body; no longer proof, no longer listed' '
	revoke "$tok" "$(h "$a1")" &&
	check_status 204 &&
	test ! -s "$TRASH/body" &&
	! grep -i "^Content-Type:" "$TRASH/headers" &&
	test "$(stepup "$alice" "$a1")" = denied &&
	test "$(stepup "$alice" "$a2")" = verified &&
	list "$tok" &&
	check_body "$(expected_password "$a2")"
'

test_expect_success 'revoke it twice, by handle or by id: the same 404' '
	revoke "$tok" "$(h "$a1")" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "$a1" &&
	check_status 404 && check_body "$NOT_FOUND"
'

test_expect_success 'a segment that can name no record (ABC_def-1, an id or a handle in upper case): the router'\''s 404' '
	revoke "$tok" ABC_def-1 &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	revoke "$tok" "$(echo "$a2" | tr a-z A-Z)" &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	revoke "$tok" "$(h "$a2" | tr a-f A-F)" &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	test "$(stepup "$alice" "$a2")" = verified
'

test_expect_success 'POST /api/verifications/nope: 404 (nope can name no record), not 405' '
	run_cgi "$R" POST /api/verifications/nope "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_error 404 request.not_found "There is no such API endpoint."
'

test_expect_success 'an id the route refuses (a dot, 65 characters): 404 request.not_found' '
	revoke "$tok" "a.b" &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	revoke "$tok" "$(printf "%065d" 0)" &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	revoke "$tok" "$a2/x" &&
	check_error 404 request.not_found "There is no such API endpoint." &&
	test "$(stepup "$alice" "$a2")" = verified
'

test_expect_success 'DELETE on the list: 405, Allow: GET, HEAD, OPTIONS' '
	run_cgi $R DELETE /api/verifications "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_error 405 request.method_not_allowed \
		"This method is not allowed here; use GET, HEAD, OPTIONS." &&
	grep -x "Allow: GET, HEAD, OPTIONS" "$TRASH/headers"
'

test_expect_success 'GET on a record: 405, Allow: DELETE, OPTIONS' '
	run_cgi $R GET "/api/verifications/$a2" "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_error 405 request.method_not_allowed \
		"This method is not allowed here; use DELETE, OPTIONS." &&
	grep -x "Allow: DELETE, OPTIONS" "$TRASH/headers"
'

test_expect_success 'a user with no records: an empty list; revoking: 404' '
	list "$ctok" &&
	check_status 200 && check_body "{\"records\":[]}" &&
	revoke "$ctok" "$a2" &&
	check_status 404 && check_body "$NOT_FOUND"
'

test_expect_success 'a deleted user: 404 entity.not_found (logto-spec 1.4)' '
	gone=$(add_user --username gone) &&
	gtok=$(mint "$gone") &&
	"$ADMIN" -q user del "$gone" &&
	list "$gtok" &&
	check_error 404 entity.not_found "The requested entity does not exist." &&
	revoke "$gtok" "$a2" &&
	check_error 404 entity.not_found "The requested entity does not exist."
'

test_expect_success 'a disabled account center: 400 account_center.not_enabled' '
	setup_instance "<account-center enabled=\"no\"/>" &&
	list "$tok" &&
	check_error 400 account_center.not_enabled "The account center is not enabled." &&
	revoke "$tok" "$a2" &&
	check_error 400 account_center.not_enabled "The account center is not enabled." &&
	setup_instance
'

test_expect_success 'revoke an own record by its id: 204; no longer proof, the list empty' '
	a3=$(password "$tok") &&
	revoke "$tok" "$a3" &&
	check_status 204 &&
	test "$(stepup "$alice" "$a3")" = denied &&
	handles "$tok" "$a2" &&
	list "$tok" &&
	check_body "$(expected_password "$a2")"
'

test_expect_success 'the revocations are audited with the handle, never the id, and the trail verifies' '
	"$ADMIN" audit show >audit.jsonl &&
	jq -c "select(.event == \"record.revoked\") | [.user, .handle // .record, .client]" audit.jsonl >got &&
	test "$(wc -l <got)" = 2 &&
	test "$(head -n 1 got)" = "[\"$alice\",\"$(h "$a1")\",\"demo-app\"]" &&
	test "$(tail -n 1 got)" = "[\"$alice\",\"$("$ADMIN" record handle "$a3")\",\"demo-app\"]" &&
	! grep -F -e "$a1" -e "$a2" -e "$a3" -e "$b1" audit.jsonl &&
	"$ADMIN" audit verify
'

test_done
