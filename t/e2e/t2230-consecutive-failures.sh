#!/bin/sh
# t2230-consecutive-failures: the per-account cap on consecutive failed
# verifications (NIST SP 800-63B-4 3.2.2), beside the rolling windows of
# logto-spec 5.1: the password and codes to the account's own addresses
# count together, a success resets the count, user unlock forgets it
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
PW='right horse battery staple'
# the windows allow 100 failures an hour; the account only 4 in a row
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>" \
	'<lockout max-attempts="100" consecutive-max="4" consecutive-duration="600"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--password-stdin) || bail_out "no user"
bob=$(printf '%s\n' "$PW" | add_user --username bob --password-stdin) || bail_out "no user"
start_lighttpd verification-password verification-code verification-code-verify ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

# wrong N: N wrong passwords of alice, each answered 422
wrong () {
	i=0
	while test "$i" -lt "$1"; do
		password "$tok" "" wrong && check_status 422 &&
			check_code session.invalid_credentials || return 1
		i=$((i + 1))
	done
}

test_expect_success 'three wrong passwords: 422 each' '
	wrong 3
'

test_expect_success 'the right one: 201, and the count starts again' '
	password "$tok" && check_status 201
'

test_expect_success 'three more wrong passwords are 422: six failures, but not in a row' '
	wrong 3
'

test_expect_success 'a wrong code to her own e-mail is the 4th in a row: 400 blocked, Retry-After' '
	outbox_clear &&
	send_code "$tok" email alice@example.com && check_status 201 &&
	r=$(record_id) && c=$(code mail) &&
	w=$(echo "$c" | awk "{ printf \"%06d\", (\$1 + 1) % 1000000 }") &&
	verify_code "$tok" email alice@example.com "$r" "$w" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	grep -iE "^Retry-After: (59[0-9]|600)$" "$TRASH/headers"
'

test_expect_success 'while blocked, the right password and the right code are refused' '
	password "$tok" && check_status 400 &&
	check_code session.verification_blocked_too_many_attempts &&
	verify_code "$tok" email alice@example.com "$r" "$c" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts
'

test_expect_success 'another account is not affected' '
	password "$(mint "$bob")" && check_status 201
'

test_expect_success 'the block is audited as lockout.consecutive, and the chain verifies' '
	"$ADMIN" audit show | grep "\"user\":\"$uid\"" >mine &&
	test "$(grep -c "\"event\":\"lockout.consecutive\"" mine)" = 1 &&
	test "$(grep -c "\"event\":\"lockout.started\"" mine)" = 0 &&
	"$ADMIN" audit verify
'

test_expect_success 'reverify-admin user unlock lifts it and forgets the count' '
	"$ADMIN" user unlock "$uid" &&
	wrong 3 &&
	password "$tok" && check_status 201
'

test_done
