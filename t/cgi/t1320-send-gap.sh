#!/bin/sh
# t1320-send-gap: <codes send-gap>, the least time between two codes to one
# recipient (DESIGN.md "Codes and delivery"; off by default, as in Logto)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

outbox_setup || bail_out "no outbox"
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"r@example.org\"/>" \
	'<codes send-gap="60"/>' || bail_out "cannot set up the instance"
uid=$(add_user --username alice --email alice@example.com) || bail_out "no user"
tok=$(mint "$uid")

send () {
	jq -cn --arg v "$1" '{identifier: {type: "email", value: $v}}' >send.json &&
	run_cgi verification-code POST /api/verifications/verification-code send.json \
		"HTTP_AUTHORIZATION=Bearer $tok" "REVERIFY_OUTBOX=$REVERIFY_OUTBOX"
}

test_expect_success 'the first code goes out' '
	send alice@example.com &&
	check_status 201
'

test_expect_success 'a second one within the gap: 429 with Retry-After of at most the gap' '
	send alice@example.com &&
	check_status 429 && check_code request.message_rate_limited &&
	ra=$(sed -n "s/^Retry-After: //p" "$TRASH/headers") &&
	test "$ra" -ge 1 && test "$ra" -le 60 &&
	test "$(ls "$REVERIFY_OUTBOX" | wc -l)" = 1
'

test_expect_success 'the gap is per recipient' '
	send other@example.com &&
	check_status 201
'

test_done
