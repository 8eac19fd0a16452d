#!/bin/sh
# t2400-verification-records: list and revoke records made by the real
# endpoints, through lighttpd + FastCGI (DESIGN.md deviation 7): the list
# names each record by a handle, never by its id, and a revocation takes
# either (issue 14)
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
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"x@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>" ||
	bail_out "cannot set up the instance"
PW='correct horse battery staple'
alice=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 64211234567 --password-stdin) || bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --email bob@example.com --password-stdin) ||
	bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify \
	verification-records || bail_out "lighttpd did not start"
tok=$(mint "$alice")
btok=$(mint "$bob")
NOT_FOUND='{"code":"verification_record.not_found","message":"Verification record not found."}'

# row ID TYPE VERIFIED IDENTIFIER TEMPLATE: one expected list entry
# (IDENTIFIER and TEMPLATE "" for null); createdAt = expiresAt - 600 s; the
# record's handle is $TRASH/handle.<ID> (see handles)
row () {
	r_exp_=$(cat "$TRASH/exp.$1") &&
	r_handle_=$(cat "$TRASH/handle.$1") &&
	r_ms_=$(( $(date -u -d "$r_exp_" +%s%3N) - 600000 )) &&
	r_created_=$(date -u -d "@$((r_ms_ / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((r_ms_ % 1000)))Z &&
	jq -cn --arg h "$r_handle_" --arg t "$2" --argjson v "$3" --arg i "$4" --arg tpl "$5" \
		--arg c "$r_created_" --arg e "$r_exp_" \
		'{handle: $h, type: $t, verified: $v,
		  identifier: (if $i == "" then null else $i end),
		  templateType: (if $tpl == "" then null else $tpl end),
		  createdAt: $c, expiresAt: $e}'
}

# rows ROW...: the expected list, each ROW "ID TYPE VERIFIED IDENTIFIER
# TEMPLATE" (one string, - for null), into $TRASH/want.list
rows () {
	: >"$TRASH/want.rows" &&
	for rs_row_ in "$@"; do
		set -f
		# shellcheck disable=SC2086 # the words of one row
		set -- $rs_row_
		set +f
		test "$#" = 5 &&
		row "$1" "$2" "$3" "${4#-}" "${5#-}" >>"$TRASH/want.rows" || return 1
	done &&
	jq -cs "{records: .}" "$TRASH/want.rows" >"$TRASH/want.list"
}

# list TOKEN / revoke TOKEN ID-OR-HANDLE
list () {
	http GET /api/verifications -H "Authorization: Bearer $1"
}
revoke () {
	http DELETE "/api/verifications/$2" -H "Authorization: Bearer $1"
}

test_expect_success 'no records yet: 200 {"records":[]}' '
	list "$tok" &&
	check_status 200 &&
	check_body "{\"records\":[]}"
'

test_expect_success 'setup: alice verifies her password, her e-mail, asks an SMS and a new address' '
	outbox_clear &&
	password "$tok" && keep P && sleep 0.01 &&
	send_code "$tok" email alice@example.com && keep E &&
	c=$(code mail) && verify_code "$tok" email alice@example.com "$E" "$c" &&
	check_status 200 && sleep 0.01 &&
	send_code "$tok" phone 64211234567 && keep S && code sms >/dev/null && sleep 0.01 &&
	send_code "$tok" email alice.new@example.org && keep N && ncode=$(code mail) && sleep 0.01 &&
	send_code "$tok" email élodie@example.net && keep U && code mail >/dev/null &&
	test "$(stepup "$alice" "$P")" = verified &&
	test "$(stepup "$alice" "$E")" = verified
'

test_expect_success 'setup: bob verifies his password and asks a code' '
	password "$btok" && keep BP && sleep 0.01 &&
	send_code "$btok" email bob@example.com BindMfa && keep BE && code mail >/dev/null
'

test_expect_success 'the list names each record by a distinct handle, never by its id' '
	handles "$tok" "$P" "$E" "$S" "$N" "$U" &&
	handles "$btok" "$BP" "$BE" &&
	cat "$TRASH"/handle.* | sort -u >all-handles &&
	test "$(wc -l <all-handles)" = 7 &&
	test "$(h "$P")" = "$("$ADMIN" record handle "$P")" &&
	test "$(h "$BE")" = "$("$ADMIN" record handle "$BE")" &&
	list "$tok" &&
	! grep -F -e "$P" -e "$E" -e "$S" -e "$N" -e "$U" "$TRASH/body" &&
	test "$(json_get "$TRASH/body" "[.records[] | has(\"id\")] | any")" = false
'

test_expect_success 'alice'\''s list: her five records, newest first, masked, exact' '
	list "$tok" &&
	check_status 200 &&
	rows "$U EmailVerificationCode false é***@example.net BindNewIdentifier" \
		"$N EmailVerificationCode false a***@example.org BindNewIdentifier" \
		"$S PhoneVerificationCode false *******4567 UserPermissionValidation" \
		"$E EmailVerificationCode true a***@example.com UserPermissionValidation" \
		"$P Password true - -" &&
	check_body "$(cat "$TRASH/want.list")"
'

test_expect_success 'bob'\''s list: his two records, none of alice'\''s' '
	list "$btok" &&
	check_status 200 &&
	rows "$BE EmailVerificationCode false b***@example.com BindMfa" \
		"$BP Password true - -" &&
	check_body "$(cat "$TRASH/want.list")"
'

test_expect_success 'nothing in clear in the list: no full address or number, no hashes' '
	list "$tok" &&
	! grep -E "alice@|alice\.new|64211234567|1234567|code\"|tries|owner|creator" "$TRASH/body"
'

test_expect_success 'no token: 401 for the list and for a revocation' '
	http GET /api/verifications &&
	check_status 401 && check_code auth.authorization_header_missing &&
	http DELETE "/api/verifications/$P" &&
	check_status 401 && check_code auth.authorization_header_missing &&
	test "$(stepup "$alice" "$P")" = verified
'

test_expect_success 'a third-party app may neither list nor revoke: 403' '
	t3=$(mint "$alice" --client-id other-app) &&
	list "$t3" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	! grep -F -e "$(h "$P")" -e "$P" "$TRASH/body" &&
	revoke "$t3" "$(h "$P")" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	revoke "$t3" "$P" &&
	check_status 403 && check_code auth.third_party_application_forbidden &&
	test "$(stepup "$alice" "$P")" = verified
'

test_expect_success 'a handle is no step-up proof' '
	grep -xE "[0-9a-f]{32}" "$TRASH/handle.$P" && grep -xE "[0-9a-f]{32}" "$TRASH/handle.$E" &&
	test "$(stepup "$alice" "$(h "$P")")" = denied &&
	test "$(stepup "$alice" "$(h "$E")")" = denied
'

test_expect_success 'bob cannot revoke alice'\''s record, by id or by handle: 404, and it stays' '
	revoke "$btok" "$S" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$btok" "$N" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$btok" "$(h "$S")" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	list "$tok" &&
	test "$(json_get "$TRASH/body" ".records | length")" = 5
'

test_expect_success 'revoke the Password record by its handle: 204; no longer step-up proof, no longer listed' '
	revoke "$tok" "$(h "$P")" &&
	check_status 204 && test ! -s "$TRASH/body" &&
	test "$(stepup "$alice" "$P")" = denied &&
	list "$tok" &&
	test "$(json_get "$TRASH/body" "[.records[].handle] | join(\" \")")" = \
		"$(h "$U") $(h "$N") $(h "$S") $(h "$E")"
'

test_expect_success 'revoke the verified e-mail record by its id: 204, no longer proof' '
	revoke "$tok" "$E" &&
	check_status 204 &&
	test "$(stepup "$alice" "$E")" = denied &&
	list "$tok" &&
	test "$(json_get "$TRASH/body" "[.records[].handle] | join(\" \")")" = \
		"$(h "$U") $(h "$N") $(h "$S")"
'

test_expect_success 'revoke the same records again, by id or by handle: 404' '
	revoke "$tok" "$E" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "$(h "$E")" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "$(h "$P")" &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "$P" &&
	check_status 404 && check_body "$NOT_FOUND"
'

test_expect_success 'the BindNewIdentifier record the caller created: revocable by handle (204)' '
	revoke "$tok" "$(h "$N")" &&
	check_status 204 &&
	list "$tok" &&
	test "$(json_get "$TRASH/body" "[.records[].handle] | join(\" \")")" = "$(h "$U") $(h "$S")"
'

test_expect_success 'its code no longer verifies: 400 verification_record.not_found' '
	verify_code "$tok" email alice.new@example.org "$N" "$ncode" &&
	check_status 400 && check_code verification_record.not_found
'

test_expect_success 'a handle of no record: 404 verification_record.not_found; what can name no record: the router'\''s 404' '
	revoke "$tok" 0123456789abcdef0123456789abcdef &&
	check_status 404 && check_body "$NOT_FOUND" &&
	revoke "$tok" "not-a-record" &&
	check_status 404 && check_code request.not_found &&
	revoke "$tok" "$(h "$S" | tr a-f A-F)" &&
	check_status 404 && check_code request.not_found &&
	revoke "$tok" "a.b" &&
	check_status 404 && check_code request.not_found
'

test_expect_success 'bob'\''s records were not touched' '
	grep -xE "[0-9a-f]{32}" "$TRASH/handle.$BE" && grep -xE "[0-9a-f]{32}" "$TRASH/handle.$BP" &&
	list "$btok" &&
	test "$(json_get "$TRASH/body" "[.records[].handle] | join(\" \")")" = "$(h "$BE") $(h "$BP")" &&
	test "$(stepup "$bob" "$BP")" = verified
'

test_expect_success 'three revocations in the audit trail, by handle, which verifies' '
	"$ADMIN" audit show >audit.jsonl &&
	jq -r "select(.event == \"record.revoked\") | .handle // .record" audit.jsonl >revoked &&
	printf "%s\n" "$(h "$P")" "$(h "$E")" "$(h "$N")" >want &&
	test_cmp want revoked &&
	"$ADMIN" audit verify
'

test_expect_success 'no record id in the audit trail or the log, not even of a DELETE by id' '
	grep "audit: " "$TRASH/reverify.log" &&
	! grep -F -e "$P" -e "$E" -e "$S" -e "$N" -e "$U" -e "$BP" -e "$BE" \
		audit.jsonl "$TRASH/reverify.log"
'

test_done
