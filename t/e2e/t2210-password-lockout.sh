#!/bin/sh
# t2210-password-lockout: the identifier lockout of logto-spec 5.1 on the
# password route, through lighttpd with several FastCGI processes
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

PW='right horse battery staple'
setup_instance '<lockout max-attempts="2" duration="3600"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --password-stdin) || bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --password-stdin) || bail_out "no user"
LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-password || bail_out "lighttpd did not start"

# try TOKEN PASSWORD [CURL ARGS...]
try () {
	try_tok_=$1 try_pw_=$2
	shift 2
	jq -cn --arg p "$try_pw_" '{password: $p}' >req.json &&
	http POST /api/verifications/password req.json \
		-H "Authorization: Bearer $try_tok_" "$@"
}

test_expect_success 'maxAttempts=2: the first wrong password is 422 (PU-7)' '
	tok=$(mint "$uid") &&
	try "$tok" wrong &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'the second is 400 session.verification_blocked_too_many_attempts' '
	try "$tok" wrong &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	test "$(json_get "$TRASH/body" .message)" = "Too many attempts. Please try again in 60 minutes." &&
	grep -iE "^Retry-After: (359[0-9]|3600)$" "$TRASH/headers"
'

test_expect_success 'while blocked, the right password is refused too (D-29)' '
	try "$tok" "$PW" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts
'

for pair in 'de|in 60 Minuten' 'fr|dans 60 minutes' 'ja|60 分後' 'ko|60분 후'; do
	lang=${pair%%|*} want=${pair#*|}
	test_expect_success "the remaining time in $lang: \"$want\"" '
		jq -cn --arg p "$PW" "{password: \$p}" >req.json &&
		http POST /api/verifications/password req.json \
			-H "Authorization: Bearer $tok" -H "Accept-Language: $lang" &&
		check_code session.verification_blocked_too_many_attempts &&
		json_get "$TRASH/body" .message | grep -F "$want"
	'
done

test_expect_success 'another user is not affected' '
	t2=$(mint "$bob") &&
	try "$t2" "$PW" &&
	check_status 201
'

test_expect_success 'the start of the lockout is in the audit trail, which verifies' '
	"$ADMIN" audit show | grep "\"user\":\"$uid\"" >mine &&
	test "$(grep -c "\"event\":\"lockout.started\"" mine)" = 1 &&
	test "$(grep -c "\"event\":\"verify.password.failed\"" mine)" = 1 &&
	"$ADMIN" audit verify
'

# 32 concurrent wrong attempts against maxAttempts=10 (spec 5.1): the
# failure that reaches the limit is answered as blocked, so exactly 9
# invalid_credentials and 23 blocked, with 4 backends racing.
test_expect_success '32 concurrent wrong passwords, limit 10: exactly 9 x 422 and 23 x 400' '
	stop_lighttpd &&
	setup_instance "<lockout max-attempts=\"10\"/>" &&
	carol=$(printf "%s\n" "$PW" | add_user --username carol --password-stdin) &&
	LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-password &&
	t3=$(mint "$carol") &&
	printf "{\"password\":\"wrong\"}" >wrong.json &&
	seq 32 | xargs -P 32 -I{} "$CURL" -s -o /dev/null -w "%{http_code}\n" \
		--max-time 60 -H "Authorization: Bearer $t3" \
		-H "Content-Type: application/json" --data-binary @wrong.json \
		"$BASE/api/verifications/password" >codes &&
	sort codes | uniq -c >counts &&
	cat counts &&
	test "$(grep -c "^422$" codes)" = 9 &&
	test "$(grep -c "^400$" codes)" = 23
'

test_expect_success 'the race is in the audit trail exactly: 9 failures, 1 lockout' '
	"$ADMIN" audit show >audit.jsonl &&
	test "$(grep "\"user\":\"$carol\"" audit.jsonl | grep -c "verify.password.failed")" = 9 &&
	test "$(grep "\"user\":\"$carol\"" audit.jsonl | grep -c "lockout.started")" = 1 &&
	"$ADMIN" audit verify
'

test_done
