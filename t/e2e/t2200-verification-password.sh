#!/bin/sh
# t2200-verification-password: password step-up through lighttpd + FastCGI
# (logto-spec 2.1, 8.1.1, 8.2 D-1, D-2, D-32)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

PW='pässwörd with ünïcode'
setup_instance || bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email a@example.com --password-stdin) ||
	bail_out "no user"
nopw=$(add_user --username nopass --email n@example.com) || bail_out "no user"
start_lighttpd verification-password || bail_out "lighttpd did not start"
tok=$(mint "$uid")

post () {
	jq -cn --arg p "$2" '{password: $p}' >req.json &&
	http POST "${3:-/api/verifications/password}" req.json -H "Authorization: Bearer $1"
}

test_expect_success 'the right password: 201 {verificationRecordId, expiresAt}' '
	post "$tok" "$PW" &&
	check_status 201 &&
	json_get "$TRASH/body" .verificationRecordId | grep -E "^[0-9a-z]{21}$" &&
	json_get "$TRASH/body" .expiresAt | grep -E "Z$" &&
	test "$(json_get "$TRASH/body" "keys | join(\",\")")" = "expiresAt,verificationRecordId"
'

test_expect_success 'the record works as logto-verification-id for its owner only' '
	rec=$(json_get "$TRASH/body" .verificationRecordId) &&
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$rec")" = verified &&
	test "$("$top_builddir/t/helper/stepup-check" "$nopw" "$rec")" = denied
'

test_expect_success 'each success makes a new record; older ones stay valid (3.6)' '
	post "$tok" "$PW" &&
	rec2=$(json_get "$TRASH/body" .verificationRecordId) &&
	test "$rec2" != "$rec" &&
	test "$("$top_builddir/t/helper/stepup-check" "$uid" "$rec")" = verified
'

test_expect_success 'the alias /api/verifications/password/verify: 201' '
	post "$tok" "$PW" /api/verifications/password/verify &&
	check_status 201
'

test_expect_success 'a wrong password: 422 session.invalid_credentials' '
	post "$tok" "pässwörd" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'the alias answers a wrong password the same way' '
	post "$tok" "wrong" /api/verifications/password/verify &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'a user without a password: 422 (D-2)' '
	post "$(mint "$nopw")" "anything" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'a third-party client: 403 auth.third_party_application_forbidden (TP-3)' '
	post "$(mint "$uid" --client-id someone-else)" "$PW" &&
	check_status 403 && check_code auth.third_party_application_forbidden
'

test_expect_success 'no password field: 400 guard.invalid_input (D-1)' '
	printf "{\"passwd\":\"x\"}" >req.json &&
	http POST /api/verifications/password req.json -H "Authorization: Bearer $tok" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'GET on the route: 405 with Allow: POST' '
	http GET /api/verifications/password -H "Authorization: Bearer $tok" &&
	check_status 405 && grep -ix "Allow: POST, OPTIONS" "$TRASH/headers"
'

# A user without a password runs a decoy hash of the same cost, so timing
# does not say which case it was (logto-spec 1.4). Measured here and
# reported; only a loose bound is asserted (shared, noisy machines).
test_expect_success 'a wrong password and no password take about the same time' '
	nopw_tok=$(mint "$nopw") &&
	for who in wrong none wrong none wrong none wrong none wrong none wrong none; do
		if test $who = wrong; then t=$tok; else t=$nopw_tok; fi
		printf "{\"password\":\"not it\"}" >req.json &&
		"$CURL" -s -o /dev/null -w "$who %{time_total}\n" -H "Authorization: Bearer $t" \
			-H "Content-Type: application/json" --data-binary @req.json \
			"$BASE/api/verifications/password" >>times || return 1
	done &&
	awk "{ s[\$1] += \$2; n[\$1]++ } END {
		w = s[\"wrong\"] / n[\"wrong\"]; o = s[\"none\"] / n[\"none\"];
		printf \"wrong password %.1f ms, no password %.1f ms, ratio %.2f\n\", w * 1000, o * 1000, o / w;
		exit !(o / w > 0.33 && o / w < 3) }" times >ratio &&
	cat ratio
'

test_done
