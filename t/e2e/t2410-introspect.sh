#!/bin/sh
# t2410-introspect: POST /api/verifications/introspect through lighttpd +
# FastCGI: a relying service checks a step-up record itself, in the spirit
# of RFC 7662 (DESIGN.md deviations 4 and 7); a record made for an action
# answers only for that action, and consume consumes in either step-up mode
# (issue 14)
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
secret=s3cr3t-value
hash=$(printf %s "$secret" | sha256sum | cut -d" " -f1)
secret2='an0ther: s3cret with spaces'
hash2=$(printf %s "$secret2" | sha256sum | cut -d" " -f1)
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"x@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>"
CLIENTS="<introspection clients=\"payments:$hash payroll:$hash2\"/>"
PROGRAMS="verification-password verification-code verification-code-verify verification-records verification-introspect"
setup_instance "$DELIVERY" "$CLIENTS" || bail_out "cannot set up the instance"
PW='correct horse battery staple'
alice=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 64211234567 --password-stdin) || bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --email bob@example.com --password-stdin) ||
	bail_out "no user"
# shellcheck disable=SC2086 # a list of programs
start_lighttpd $PROGRAMS || bail_out "lighttpd did not start"
tok=$(mint "$alice")
btok=$(mint "$bob")
INACTIVE='{"active":false}'
NOTHING='{}'
UNAUTHORIZED='{"code":"auth.unauthorized","message":"Unauthorized. Please check the credentials and their scope."}'

# ibody RECORD USER [JSON]: the request body, plus the members of JSON
ibody () {
	jq -cn --arg r "$1" --arg u "$2" --argjson x "${3:-$NOTHING}" \
		'{verificationRecordId: $r, userId: $u} + $x' >"$TRASH/intro.json"
}

# introspect RECORD USER [JSON [CURL ARGS...]]: as the payments service
introspect () {
	ibody "$1" "$2" "${3:-$NOTHING}" || return 1
	shift 2
	test "$#" -gt 0 && shift
	http POST /api/verifications/introspect "$TRASH/intro.json" \
		-u "payments:$secret" "$@"
}

# check_denied: the last response was the introspection 401
check_denied () {
	check_status 401 &&
	check_body "$UNAUTHORIZED" &&
	grep -x "WWW-Authenticate: Basic realm=\"reverify introspection\"" "$TRASH/headers"
}

test_expect_success 'setup: records of every kind' '
	outbox_clear &&
	password "$tok" && keep P &&
	password "$btok" && keep BP &&
	send_code "$tok" email alice@example.com && keep E &&
	c=$(code mail) && verify_code "$tok" email alice@example.com "$E" "$c" &&
	check_status 200 &&
	send_code "$tok" phone 64211234567 && keep S && code sms >/dev/null &&
	send_code "$tok" email alice.new@example.org && keep N &&
	c=$(code mail) && verify_code "$tok" email alice.new@example.org "$N" "$c" &&
	check_status 200 &&
	send_code "$tok" email alice@example.com BindMfa && keep M &&
	c=$(code mail) && verify_code "$tok" email alice@example.com "$M" "$c" &&
	check_status 200 &&
	password "$tok" payout && keep PA &&
	HP=$(handle_of "$tok" "$P") && HBP=$(handle_of "$btok" "$BP")
'

test_expect_success 'a valid Password record: 200 active, type, verifiedAt, expiresAt, userId' '
	introspect "$P" "$alice" &&
	check_status 200 &&
	grep -x "Content-Type: application/json; charset=utf-8" "$TRASH/headers" &&
	check_body "$(active_password "$P" "$alice")"
'

test_expect_success 'a record made for action payout: active for payout, and the answer names it' '
	introspect "$PA" "$alice" "{\"action\":\"payout\"}" &&
	check_status 200 &&
	check_body "$(active_password "$PA" "$alice" "{\"action\":\"payout\"}")"
'

test_expect_success 'a record made for payout: {"active":false} for another action and for none' '
	introspect "$PA" "$alice" "{\"action\":\"transfer\"}" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$PA" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'a record made for payout is no step-up proof for the Account API' '
	test "$(stepup "$alice" "$PA")" = denied
'

test_expect_success 'a record without action: {"active":false} for a question naming one' '
	introspect "$E" "$alice" "{\"action\":\"payout\"}" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'another configured client (payroll) may ask too' '
	ibody "$BP" "$bob" &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payroll:$secret2" &&
	check_status 200 &&
	check_body "$(active_password "$BP" "$bob")"
'

test_expect_success 'the scheme name is case-insensitive (RFC 7617): basic' '
	ibody "$P" "$alice" &&
	http POST /api/verifications/introspect "$TRASH/intro.json" \
		-H "Authorization: basic $(printf "payments:%s" "$secret" | base64 -w0)" &&
	check_status 200 &&
	check_body "$(active_password "$P" "$alice")"
'

test_expect_success 'a verified UserPermissionValidation e-mail record: active' '
	introspect "$E" "$alice" &&
	check_status 200 &&
	test "$(jq -c "del(.verifiedAt)" "$TRASH/body")" = \
		"$(jq -cn --arg e "$(cat "$TRASH/exp.$E")" --arg u "$alice" \
			"{active: true, type: \"EmailVerificationCode\", expiresAt: \$e, userId: \$u}")" &&
	v=$(json_get "$TRASH/body" .verifiedAt) &&
	echo "$v" | grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$" &&
	test "$(date -u -d "$v" +%s%3N)" -ge "$(date -u -d "$(created "$E")" +%s%3N)" &&
	test "$(date -u -d "$v" +%s)" -le "$(date +%s)"
'

test_expect_success 'the wrong user: {"active":false} and nothing else' '
	introspect "$P" "$bob" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$BP" "$alice" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$P" "no-such-user" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'an unknown or malformed record id: inactive' '
	introspect 0123456789abcdefghijk "$alice" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "../../$P" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'an unverified code record: inactive' '
	introspect "$S" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'a verified BindNewIdentifier record: inactive (no step-up proof)' '
	introspect "$N" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'a verified BindMfa record: inactive' '
	introspect "$M" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'a record revoked by its owner (DELETE): inactive' '
	password "$tok" && keep R &&
	introspect "$R" "$alice" &&
	check_status 200 && check_body "$(active_password "$R" "$alice")" &&
	http DELETE "/api/verifications/$R" -H "Authorization: Bearer $tok" &&
	check_status 204 &&
	introspect "$R" "$alice" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'a wrong secret: 401 auth.unauthorized, WWW-Authenticate: Basic' '
	ibody "$P" "$alice" &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payments:wrong" &&
	check_denied &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payments:${secret}x" &&
	check_denied &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payments:" &&
	check_denied
'

test_expect_success 'another client'\''s secret: 401' '
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payments:$secret2" &&
	check_denied &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payroll:$secret" &&
	check_denied
'

test_expect_success 'an unknown client: 401' '
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "billing:$secret" &&
	check_denied &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "Payments:$secret" &&
	check_denied
'

test_expect_success 'a Bearer user token: 401 (user tokens are refused)' '
	http POST /api/verifications/introspect "$TRASH/intro.json" \
		-H "Authorization: Bearer $tok" &&
	check_denied
'

test_expect_success 'no Authorization header: 401' '
	http POST /api/verifications/introspect "$TRASH/intro.json" &&
	check_denied
'

test_expect_success 'malformed Basic credentials: 401' '
	for cred in "" "!!!" "$(printf "payments%s" "$secret" | base64 -w0)" \
		"$(printf "payments:%s" "$secret" | base64 -w0)=" \
		"$(printf "payments:%s" "$secret" | base64 -w0) x"; do
		http POST /api/verifications/introspect "$TRASH/intro.json" \
			-H "Authorization: Basic $cred" &&
		check_denied || return 1
	done
'

test_expect_success 'the 401 comes before the body is read' '
	printf "{not json" >bad.json &&
	http POST /api/verifications/introspect bad.json -u "payments:wrong" &&
	check_denied
'

test_expect_success 'a body without verificationRecordId or userId: 400 guard.invalid_input' '
	printf "{\"userId\":\"%s\"}" "$alice" >b.json &&
	http POST /api/verifications/introspect b.json -u "payments:$secret" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = verificationRecordId &&
	printf "{\"verificationRecordId\":\"%s\"}" "$P" >b.json &&
	http POST /api/verifications/introspect b.json -u "payments:$secret" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = userId
'

test_expect_success 'consume that is not a boolean, a userId that is not a string: 400' '
	introspect "$P" "$alice" "{\"consume\":\"yes\"}" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = consume &&
	introspect "$P" "$alice" "{\"userId\":42}" &&
	check_status 400 && check_code guard.invalid_input &&
	introspect "$P" "$alice" "{\"action\":7}" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = action
'

test_expect_success 'an action outside [a-z0-9._:-]{1,64}: 400 guard.invalid_input naming action' '
	introspect "$P" "$alice" "{\"action\":\"Pay Out\"}" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = action &&
	introspect "$P" "$alice" "{\"action\":\"\"}" &&
	check_status 400 && check_code guard.invalid_input &&
	introspect "$P" "$alice" "{\"action\":\"$(printf "%065d" 0)\"}" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'not JSON: 415; GET: 405 Allow: POST, OPTIONS' '
	HTTP_CONTENT_TYPE=text/plain &&
	{ introspect "$P" "$alice"; rc=$?; } &&
	unset HTTP_CONTENT_TYPE &&
	test "$rc" = 0 &&
	check_status 415 && check_code request.unsupported_media_type &&
	http GET /api/verifications/introspect -u "payments:$secret" &&
	check_status 405 && grep -x "Allow: POST, OPTIONS" "$TRASH/headers"
'

test_expect_success 'window mode: without consume the record stays active' '
	introspect "$P" "$alice" "{\"consume\":false}" &&
	check_status 200 && check_body "$(active_password "$P" "$alice")" &&
	introspect "$P" "$alice" &&
	check_status 200 && check_body "$(active_password "$P" "$alice")" &&
	test "$(stepup "$alice" "$P")" = verified
'

test_expect_success 'window mode: consume consumes: active with "consumed":true once, then inactive' '
	password "$tok" && keep W &&
	introspect "$W" "$alice" "{\"consume\":true}" &&
	check_status 200 &&
	check_body "$(active_password "$W" "$alice" "{\"consumed\":true}")" &&
	introspect "$W" "$alice" "{\"consume\":true}" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$W" "$alice" &&
	check_status 200 && check_body "$INACTIVE" &&
	test "$(stepup "$alice" "$W")" = denied
'

test_expect_success 'window mode: consume for the right action consumes; for the wrong one nothing' '
	password "$tok" payout && keep WA &&
	introspect "$WA" "$alice" "{\"consume\":true,\"action\":\"transfer\"}" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$WA" "$alice" "{\"consume\":true,\"action\":\"payout\"}" &&
	check_status 200 &&
	check_body "$(active_password "$WA" "$alice" "{\"action\":\"payout\",\"consumed\":true}")" &&
	introspect "$WA" "$alice" "{\"action\":\"payout\"}" &&
	check_status 200 && check_body "$INACTIVE"
'

test_expect_success 'every answer is audited with the client and the handle, never the secret or the id' '
	"$ADMIN" audit show >audit.jsonl &&
	jq -c "select(.event == \"record.introspected\" and .record == \"$HP\" and .user == \"$alice\")
		| [.client, .active, .consumed]" audit.jsonl | sort -u >got &&
	printf "%s\n" "[\"payments\",true,false]" >want &&
	test_cmp want got &&
	jq -c "select(.event == \"record.introspected\" and .record == \"$HBP\")
		| [.client, .user, .active]" audit.jsonl >got &&
	printf "%s\n" "[\"payroll\",\"$bob\",true]" "[\"payments\",\"$alice\",false]" >want &&
	test_cmp want got &&
	jq -c "select(.event == \"record.introspected\" and .action != null) | [.action, .active, .consumed]" \
		audit.jsonl >got &&
	printf "%s\n" "[\"payout\",true,false]" "[\"transfer\",false,false]" "[\"payout\",false,false]" \
		"[\"transfer\",false,false]" "[\"payout\",true,true]" "[\"payout\",false,false]" >want &&
	test_cmp want got &&
	! grep -F -e "$secret" -e "s3cret" audit.jsonl "$TRASH/reverify.log" &&
	! grep -F -e "$P" -e "$BP" -e "$E" -e "$PA" -e "$W" -e "$WA" audit.jsonl &&
	"$ADMIN" audit verify
'

test_expect_success 'no clients configured: 401 for everyone' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" &&
	start_lighttpd verification-introspect &&
	introspect "$P" "$alice" &&
	check_denied
'

test_expect_success 'restart in single-use mode, 4 backends per program' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "$CLIENTS" "<verification step-up=\"single-use\"/>" &&
	LIGHTTPD_MAX_PROCS=4 &&
	start_lighttpd verification-password verification-introspect verification-records
'

test_expect_success 'single-use: without consume the record stays active' '
	password "$tok" && keep Q &&
	introspect "$Q" "$alice" &&
	check_status 200 && check_body "$(active_password "$Q" "$alice")" &&
	introspect "$Q" "$alice" "{\"consume\":false}" &&
	check_status 200 && check_body "$(active_password "$Q" "$alice")"
'

test_expect_success 'single-use: consuming for the wrong user consumes nothing' '
	introspect "$Q" "$bob" "{\"consume\":true}" &&
	check_status 200 && check_body "$INACTIVE" &&
	test "$(stepup "$alice" "$Q")" = verified
'

test_expect_success 'single-use: consume answers active with "consumed":true once, then inactive' '
	introspect "$Q" "$alice" "{\"consume\":true,\"action\":\"payout\"}" &&
	check_status 200 && check_body "$INACTIVE" &&
	test "$(stepup "$alice" "$Q")" = verified &&
	introspect "$Q" "$alice" "{\"consume\":true}" &&
	check_status 200 &&
	check_body "$(active_password "$Q" "$alice" "{\"consumed\":true}")" &&
	introspect "$Q" "$alice" "{\"consume\":true}" &&
	check_status 200 && check_body "$INACTIVE" &&
	introspect "$Q" "$alice" &&
	check_status 200 && check_body "$INACTIVE" &&
	test "$(stepup "$alice" "$Q")" = denied
'

test_expect_success 'single-use: 16 concurrent consumes of one record, exactly one active' '
	password "$tok" && keep C &&
	HC=$(handle_of "$tok" "$C") &&
	ibody "$C" "$alice" "{\"consume\":true}" &&
	mkdir -p race &&
	seq 1 16 | xargs -P 16 -I "{}" "$CURL" -q -s --max-time 30 -o "race/{}" \
		-w "%{http_code}\n" -u "payments:$secret" -H "Content-Type: application/json" \
		--data-binary "@$TRASH/intro.json" "$BASE/api/verifications/introspect" >codes &&
	test "$(sort -u codes)" = 200 && test "$(wc -l <codes)" = 16 &&
	for f in race/*; do cat "$f" && echo || return 1; done >answers &&
	test "$(wc -l <answers)" = 16 &&
	test "$(grep -c "^{\"active\":true," answers)" = 1 &&
	test "$(grep -cx "{\"active\":false}" answers)" = 15 &&
	test "$(stepup "$alice" "$C")" = denied &&
	"$ADMIN" audit show >audit.jsonl &&
	test "$(jq -c "select(.event == \"record.introspected\" and .record == \"$HC\") | .consumed" audit.jsonl |
		sort | uniq -c | tr -s " " | sed "s/^ //" | paste -sd, -)" = "15 false,1 true"
'

# Expiry takes a real minute: the programs have no clock to shift.
if test "${REVERIFY_TEST_SLOW-}" = 1; then
	test_expect_success 'an expired record: inactive (record-ttl="60", 61 s later)' '
		stop_lighttpd &&
		setup_instance "$DELIVERY" "$CLIENTS" "<verification record-ttl=\"60\"/>" &&
		LIGHTTPD_MAX_PROCS=1 &&
		start_lighttpd verification-password verification-introspect &&
		password "$tok" && X=$(record_id) &&
		introspect "$X" "$alice" &&
		check_status 200 && test "$(json_get "$TRASH/body" .active)" = true &&
		sleep 61 &&
		introspect "$X" "$alice" &&
		check_status 200 && check_body "$INACTIVE"
	'
else
	test_skip 'an expired record: inactive (record-ttl="60", 61 s later)' \
		'it waits 61 s; set REVERIFY_TEST_SLOW=1 to run it'
fi

test_expect_success 'a malformed <introspection clients> stops the program at start-up' '
	stop_lighttpd &&
	printf "{}" >empty.json &&
	for bad in "payments:xyz" "payments" ":$hash" "payments:$hash payments:$hash2"; do
		setup_instance "<introspection clients=\"$bad\"/>" &&
		: >"$TRASH/reverify.log" &&
		{ run_cgi verification-introspect POST /api/verifications/introspect empty.json \
			"HTTP_AUTHORIZATION=Basic $(printf "payments:%s" "$secret" | base64 -w0)"; rc=$?; } &&
		test "$rc" != 0 && check_status 500 && check_code internal_error &&
		grep -F "<introspection clients>: " "$TRASH/reverify.log" || return 1
	done
'

test_done
