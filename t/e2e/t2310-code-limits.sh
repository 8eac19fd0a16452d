#!/bin/sh
# t2310-code-limits: the send limit, delivery failures, the lockout and hostile identifiers on the code routes, through lighttpd + FastCGI and the outbox (logto-spec 4.8, 5.1, 5.2, 8.1.4, 8.2 D-31)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

outbox_setup || bail_out "no outbox"
SENDMAIL="sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\""
DELIVERY="<delivery $SENDMAIL sms-command=\"$top_srcdir/tools/outbox-sms\"/>"
# the default send limit (10 per 600 s); a lockout after 3 failures; alice
# sends far more than the default per-caller budget (20 an hour), which
# t7100 tests
LOCKOUT='<lockout max-attempts="3"/>'
CODES='<codes caller-send-max="256"/>'
setup_instance "$DELIVERY" "$LOCKOUT" "$CODES" || bail_out "cannot set up the instance"
alice=$(add_user --username alice --email alice@example.com --phone 64211234567) ||
	bail_out "no user"
start_lighttpd verification-code verification-code-verify || bail_out "lighttpd did not start"
tok=$(mint "$alice")
CANARY=rv-canary-$$

# sends TIMES TYPE VALUE: TIMES sends, each must be 201; the codes sent go
# to $TRASH/seen-codes
sends () {
	ss_n_=0
	jq -cn --arg t "$2" --arg v "$3" "{identifier: {type: \$t, value: \$v}}" \
		>"$TRASH/sends.json" || return 1
	while test "$ss_n_" -lt "$1"; do
		ss_n_=$((ss_n_ + 1))
		if ! { http POST /api/verifications/verification-code "$TRASH/sends.json" \
			-H "Authorization: Bearer $tok" && check_status 201; }; then
			echo "send $ss_n_ of $1 to $3 failed"
			return 1
		fi
	done
	seen_codes
}

# seen_codes: the codes of the messages in the outbox to $TRASH/seen-codes
seen_codes () {
	for sc_f_ in "$REVERIFY_OUTBOX"/mail-*.eml "$REVERIFY_OUTBOX"/sms-*.txt; do
		test -e "$sc_f_" || continue
		outbox_code "$sc_f_" || return 1
	done >>"$TRASH/seen-codes"
}

# limited: the last answer was 429 request.message_rate_limited with a
# Retry-After of 1 to 600 seconds
limited () {
	check_status 429 && check_code request.message_rate_limited &&
	ra=$(sed -n "s/^Retry-After: *//Ip" "$TRASH/headers") &&
	echo "Retry-After: $ra" &&
	test "$ra" -ge 1 && test "$ra" -le 600
}

# records: the number of verification records in the store
records () {
	"$ADMIN" stats | jq -r .records
}

# nothing_sent: the outbox holds no message (a FAIL file may be there)
nothing_sent () {
	test "$(outbox_count mail)" = 0 && test "$(outbox_count sms)" = 0 &&
	test -z "$(find "$REVERIFY_OUTBOX" -name ".*.tmp")"
}

test_expect_success '10 sends to one address: 201 each (RL-1)' '
	outbox_clear &&
	sends 10 email alice@example.com &&
	test "$(outbox_count mail)" = 10
'

test_expect_success 'the 11th: 429 request.message_rate_limited, Retry-After 1..600 (RL-2)' '
	send_code "$tok" email alice@example.com &&
	limited &&
	test "$(outbox_count mail)" = 10
'

test_expect_success 'the 12th too, and with another templateType' '
	send_code "$tok" email alice@example.com BindMfa &&
	limited &&
	test "$(outbox_count mail)" = 10
'

test_expect_success 'another recipient of the same user has its own window' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 &&
	check_status 201 &&
	test "$(outbox_count sms)" = 1
'

test_expect_success 'A@Example.com and a@example.com share one window (D-31)' '
	outbox_clear &&
	sends 4 email New.Address@Example.COM &&
	sends 3 email new.address@example.com &&
	sends 3 email NEW.ADDRESS@EXAMPLE.COM &&
	test "$(outbox_count mail)" = 10 &&
	send_code "$tok" email new.address@example.com &&
	limited &&
	send_code "$tok" email New.Address@Example.COM &&
	limited &&
	test "$(outbox_count mail)" = 10
'

test_expect_success 'a phone with and without the national 0 shares one window (5.2)' '
	outbox_clear &&
	sends 5 phone 64215550001 &&
	sends 5 phone 640215550001 &&
	test "$(outbox_count sms)" = 10 &&
	send_code "$tok" phone 64215550001 &&
	limited &&
	send_code "$tok" phone 640215550001 &&
	limited &&
	test "$(outbox_count sms)" = 10
'

test_expect_success 'the window key is normalised, the guard is not: +64 21 555 0001 is 400 (2.2)' '
	send_code "$tok" phone "+64 21 555 0001" &&
	check_status 400 && check_code guard.invalid_input &&
	send_code "$tok" phone "+6421 5550001" &&
	check_status 400 && check_code guard.invalid_input &&
	send_code "$tok" phone "+64215550001" &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(outbox_count sms)" = 10
'

test_expect_success 'a permanent delivery failure: 502 connector.general, no record, nothing sent (4.8)' '
	outbox_clear &&
	n=$(records) &&
	echo "no thanks" >"$REVERIFY_OUTBOX/FAIL" &&
	send_code "$tok" email fail.perm@example.com &&
	check_status 502 && check_code connector.general &&
	test "$(json_get "$TRASH/body" .verificationRecordId)" = null &&
	nothing_sent &&
	send_code "$tok" phone 64215550002 &&
	check_status 502 && check_code connector.general &&
	nothing_sent &&
	test "$(records)" = "$n"
'

test_expect_success 'a temporary failure: 503 connector.general with Retry-After, no record, nothing sent' '
	n=$(records) &&
	echo "temp: try later" >"$REVERIFY_OUTBOX/FAIL" &&
	send_code "$tok" email fail.perm@example.com &&
	check_status 503 && check_code connector.general &&
	ra=$(sed -n "s/^Retry-After: *//Ip" "$TRASH/headers") &&
	test "$ra" -ge 1 &&
	test "$(json_get "$TRASH/body" .verificationRecordId)" = null &&
	send_code "$tok" phone 64215550002 &&
	check_status 503 && check_code connector.general &&
	grep -i "^Retry-After: " "$TRASH/headers" &&
	nothing_sent &&
	test "$(records)" = "$n"
'

test_expect_success 'failures are not counted: after 3 failed sends (502, 503, 502), 10 go through, the 11th is 429' '
	echo "no" >"$REVERIFY_OUTBOX/FAIL" &&
	send_code "$tok" email fail.perm@example.com &&
	check_status 502 && check_code connector.general &&
	send_code "$tok" phone 64215550002 &&
	check_status 502 && check_code connector.general &&
	nothing_sent &&
	rm -f "$REVERIFY_OUTBOX/FAIL" &&
	sends 10 email fail.perm@example.com &&
	send_code "$tok" email fail.perm@example.com &&
	limited &&
	sends 10 phone 64215550002 &&
	send_code "$tok" phone 64215550002 &&
	limited
'

test_expect_success 'lockout max-attempts=3: two wrong codes are 400 code_mismatch' '
	outbox_clear &&
	send_code "$tok" phone 64211234567 &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last sms)") &&
	echo "$code" >>"$TRASH/seen-codes" &&
	wrong=$(echo "$code" | tr 0-9 1-90) &&
	verify_code "$tok" phone 64211234567 "$rec" "$wrong" &&
	check_status 400 && check_code verification_code.code_mismatch &&
	verify_code "$tok" phone 64211234567 "$rec" "$wrong" &&
	check_status 400 && check_code verification_code.code_mismatch
'

test_expect_success 'the third: 400 session.verification_blocked_too_many_attempts (5.1)' '
	verify_code "$tok" phone 64211234567 "$rec" "$wrong" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	grep -iE "^Retry-After: [0-9]+$" "$TRASH/headers"
'

test_expect_success 'then the right code is refused too (D-29), and the record is no proof' '
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	test "$("$top_builddir/t/helper/stepup-check" "$alice" "$rec")" = denied
'

test_expect_success 'a new code to the blocked number is sent, but refused too' '
	send_code "$tok" phone 64211234567 &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last sms)") &&
	echo "$code" >>"$TRASH/seen-codes" &&
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts
'

test_expect_success 'another identifier of the same user is not blocked' '
	outbox_clear &&
	sends 1 email other.address@example.com &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last mail)") &&
	verify_code "$tok" email other.address@example.com "$rec" "$code" &&
	check_status 200
'

test_expect_success 'header injection: "a@example.com\r\nBcc: x@evil.example" is 400 guard.invalid_input, nothing sent' '
	outbox_clear &&
	send_code "$tok" email "$(printf "a@example.com\r\nBcc: x@evil.example")" &&
	check_status 400 && check_code guard.invalid_input &&
	send_code "$tok" email "$(printf "a@example.com\nBcc:x@evil.example")" &&
	check_status 400 && check_code guard.invalid_input &&
	send_code "$tok" email "$(printf "a@example.com\rBcc:x@evil.example")" &&
	check_status 400 && check_code guard.invalid_input &&
	nothing_sent
'

test_expect_success 'addresses that pass the guard but not the header check: 400, nothing sent' '
	for v in "a@example.com,x@evil.example" "a@example.com;x@evil.example" \
		"x@evil.example<a@example.com>" "\"x\"@evil.example" \
		"a@example.com$(printf "\302\205")Bcc:x@evil.example" \
		"a@example.com$(printf "\177")Bcc:x@evil.example"; do
		send_code "$tok" email "$v" &&
		check_status 400 && check_code guard.invalid_input || echo "FAILED for $v" >>failed
	done &&
	test ! -e failed &&
	nothing_sent
'

test_expect_success 'shell metacharacters in a phone: 400, no shell ever runs them' '
	rm -f failed &&
	for v in "5551234;touch $TRASH/$CANARY.1" "\$(touch $TRASH/$CANARY.2)" \
		"\`touch $TRASH/$CANARY.3\`" "5551234|touch $TRASH/$CANARY.4" \
		"5551234&&touch $CANARY.5" "5551234
touch $CANARY.6" "\$(touch $CANARY.7)" "\`touch $CANARY.8\`"; do
		send_code "$tok" phone "$v" &&
		check_status 400 && check_code guard.invalid_input || echo "FAILED for $v" >>failed
	done &&
	test ! -e failed &&
	nothing_sent &&
	sleep 0.2 &&
	test -z "$(find "$TRASH" "$top_builddir" "${TMPDIR:-/tmp}" / -maxdepth 3 \
		-xdev -name "$CANARY*" 2>/dev/null)"
'

test_expect_success 'an SMS program that does not exist: 503 connector.general' '
	stop_lighttpd &&
	setup_instance "<delivery $SENDMAIL sms-command=\"$TRASH/no-such-sms-script\"/>" "$LOCKOUT" "$CODES" &&
	start_lighttpd verification-code verification-code-verify &&
	outbox_clear &&
	n=$(records) &&
	send_code "$tok" phone 64215550003 &&
	check_status 503 && check_code connector.general &&
	grep -i "^Retry-After: " "$TRASH/headers" &&
	nothing_sent &&
	test "$(records)" = "$n"
'

test_expect_success 'a sendmail that does not exist: 503 connector.general' '
	stop_lighttpd &&
	setup_instance "<delivery sendmail=\"$TRASH/no-such-sendmail -t -i\" mail-from=\"reverify@example.org\"/>" "$LOCKOUT" "$CODES" &&
	start_lighttpd verification-code verification-code-verify &&
	send_code "$tok" email no.sendmail@example.com &&
	check_status 503 && check_code connector.general &&
	nothing_sent
'

# gone PID: the process has exited (no such process, or a zombie)
gone () {
	gn_state_=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	test -z "$gn_state_" || test "$gn_state_" = Z
}

test_expect_success 'an SMS program that hangs: killed with what it started after <delivery timeout>, 503' '
	cat >"$TRASH/slow-sms" <<-\EOF &&
	#!/bin/sh
	sleep 30 &
	echo "$!" >"$REVERIFY_OUTBOX/../slow-child.pid"
	echo "$$" >"$REVERIFY_OUTBOX/../slow.pid"
	wait
	EOF
	chmod +x "$TRASH/slow-sms" &&
	stop_lighttpd &&
	setup_instance "<delivery $SENDMAIL sms-command=\"$TRASH/slow-sms\" timeout=\"1\"/>" "$LOCKOUT" "$CODES" &&
	start_lighttpd verification-code verification-code-verify &&
	n=$(records) &&
	start=$(date +%s) &&
	send_code "$tok" phone 64215550004 &&
	check_status 503 && check_code connector.general &&
	grep -i "^Retry-After: " "$TRASH/headers" &&
	test "$(( $(date +%s) - start ))" -le 5 &&
	nothing_sent &&
	test "$(records)" = "$n" &&
	pid=$(cat "$TRASH/slow.pid") && child=$(cat "$TRASH/slow-child.pid") &&
	i=0 &&
	while ! { gone "$pid" && gone "$child"; } && test "$i" -lt 20; do
		sleep 0.1; i=$((i + 1))
	done &&
	gone "$pid" && gone "$child"
'

test_expect_success 'the audit trail verifies' '
	"$ADMIN" audit verify
'

test_expect_success 'no code that was sent, and no token, is in the log' '
	test "$(wc -l <"$TRASH/seen-codes")" -ge 40 &&
	codes=$(sort -u "$TRASH/seen-codes" | paste -sd "|" -) &&
	! grep -E "(^|[^0-9A-Za-z])($codes)([^0-9A-Za-z]|$)" "$TRASH/reverify.log" &&
	! grep -F "$tok" "$TRASH/reverify.log"
'

test_done
