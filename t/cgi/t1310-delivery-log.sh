#!/bin/sh
# t1310-delivery-log: what a delivery program writes to stderr never puts
# a code into the log (DESIGN.md: no secret in a log line)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

# an SMS "gateway" that echoes the message (and so the code) to stderr
cat >"$TRASH/echo-sms" <<'EOF2'
#!/bin/sh
echo "gateway says: $(cat)" >&2
exit "${SMS_EXIT:-0}"
EOF2
chmod +x "$TRASH/echo-sms"
printf '#!/bin/sh\nSMS_EXIT=1 exec %s "$@"\n' "$TRASH/echo-sms" >"$TRASH/fail-sms"
chmod +x "$TRASH/fail-sms"

send () {
	printf '{"identifier":{"type":"phone","value":"4915112345678"}}' >send.json &&
	run_cgi verification-code POST /api/verifications/verification-code send.json \
		"HTTP_AUTHORIZATION=Bearer $1"
}

test_expect_success 'a gateway that succeeds: its stderr is not logged' '
	setup_instance "<delivery sms-command=\"$TRASH/echo-sms\"/>" &&
	uid=$(add_user --username alice --phone 4915112345678) &&
	tok=$(mint "$uid") &&
	send "$tok" &&
	check_status 201 &&
	! grep "gateway says" "$TRASH/reverify.log"
'

test_expect_success 'a gateway that fails: its stderr is logged with the digits masked' '
	setup_instance "<delivery sms-command=\"$TRASH/fail-sms\"/>" &&
	send "$tok" &&
	check_status 502 && check_code connector.general &&
	grep "gateway says: ###### " "$TRASH/reverify.log" &&
	! grep -E "gateway says: .*[0-9]{6}" "$TRASH/reverify.log"
'

test_done
