#!/bin/sh
# t6110-pgsql-two-hosts: two hosts, each a lighttpd with FastCGI workers of its own (2 per program), with one configuration in front of one PostgreSQL database: a record made through one host is used through the other, and the 64-way races of t6000 split over both hosts keep their limits exactly (issue 16; doc/design-notes.md "One store contract, two backends")
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"
. "$top_srcdir/t/lib/race.sh"
. "$top_srcdir/t/lib/pgsql.sh"

require_server lighttpd "${LIGHTTPD-}"
require_server curl "${CURL-}"
# the cluster of make check-pgsql (store_line_), else one of its own
if ! test_store_pgsql; then
	require_pgsql
	pgsql_own_cluster || bail_out "the PostgreSQL cluster did not start"
	INSTANCE_STORE=$(pgsql_store_line "$TRASH/store" rvtwohosts) ||
		bail_out "no database rvtwohosts"
fi

# N clients per race, half of them on each host
N=64
race_settings 'two hosts Password 123' || bail_out "no outbox"
PROGRAMS="status verification-password verification-code verification-code-verify my-account my-account-primary-email"
NPROGRAMS=6

# hosts: host a with $TRASH/reverify.xml, host b with $TRASH/host-b.xml,
# the same but for its log ($TRASH/reverify-b.log): the same store,
# pepper, audit key and JWKS. Each is a lighttpd of its own with 2
# workers per program (started again when it ran); the races go to both
# (RACE_BASES).
# shellcheck disable=SC2086 # a list of programs
hosts () {
	sed "s|\"$TRASH/reverify.log\"|\"$TRASH/reverify-b.log\"|" "$TRASH/reverify.xml" \
		>"$TRASH/host-b.xml" &&
	! cmp -s "$TRASH/reverify.xml" "$TRASH/host-b.xml" &&
	REVERIFY_CONFIG=$TRASH/reverify.xml LIGHTTPD_NAME=a LIGHTTPD_MAX_PROCS=2 \
		start_lighttpd $PROGRAMS &&
	REVERIFY_CONFIG=$TRASH/host-b.xml LIGHTTPD_NAME=b LIGHTTPD_MAX_PROCS=2 \
		start_lighttpd $PROGRAMS &&
	RACE_BASES="$BASE_a $BASE_b"
}

# on HOST: the next requests of http go to host a or b
on () {
	eval "BASE=\$BASE_$1"
}

# workers HOST: the pids of the FastCGI workers of HOST's lighttpd
workers () {
	eval "wk_pid_=\$LIGHTTPD_PID_$1"
	ps -o pid=,args= --ppid "$wk_pid_" |
		awk -v d="$top_builddir/cgi-bin/" 'index($2, d) == 1 { print $1 }' | sort -n
}

# mark: the logs of both hosts so far (for served)
mark () {
	mark_a=$(wc -l <"$TRASH/reverify.log") &&
	mark_b=$(wc -l <"$TRASH/reverify-b.log")
}

# served HOST METHOD PATH: how many requests METHOD PATH the workers of
# HOST answered since mark (one line each in its log)
served () {
	eval "sv_from_=\$((mark_$1 + 1))"
	sv_log_=$TRASH/reverify.log
	test "$1" = a || sv_log_=$TRASH/reverify-$1.log
	tail -n "+$sv_from_" "$sv_log_" |
		awk -v m="$2" -v p="$3" '$4 == m && $5 == p && $6 ~ /^[0-9][0-9][0-9]$/' |
		wc -l | tr -d ' '
}

# halves DIR METHOD PATH: the batch of DIR (race_run) went half to host a,
# half to host b, and each host's workers answered their half (since mark)
halves () {
	sp_a_=$(grep -c -F "url = \"$BASE_a/" "$1/numbered.cfg") &&
	sp_b_=$(grep -c -F "url = \"$BASE_b/" "$1/numbered.cfg") &&
	sp_sa_=$(served a "$2" "$3") && sp_sb_=$(served b "$2" "$3") &&
	echo "$1: sent to host a $sp_a_, to host b $sp_b_; answered by host a $sp_sa_, by host b $sp_sb_" &&
	test "$sp_a_" = "$((N / 2))" && test "$sp_b_" = "$((N / 2))" &&
	test "$sp_sa_" = "$((N / 2))" && test "$sp_sb_" = "$((N / 2))"
}

# phase 1: the default limits (10 tries per code, 10 sends per recipient,
# lockout after 100 failures) and single-use step-up records
setup_instance "$DELIVERY" "$HASH" '<verification step-up="single-use"/>' ||
	bail_out "cannot set up the instance"
hosts || bail_out "the two hosts did not start"
uid=$(printf '%s\n' "$PW" |
	add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
tok=$(mint "$uid") || bail_out "no token"

test_expect_success 'two hosts with one configuration but the log, a worker pool each' '
	{ diff "$TRASH/reverify.xml" "$TRASH/host-b.xml" >config.diff; test "$?" = 1; } &&
	cat config.diff &&
	test "$(grep -c "^[<>]" config.diff)" = 2 &&
	grep "^> .*<log .*reverify-b.log" config.diff &&
	workers a >workers-a && workers b >workers-b &&
	test "$(wc -l <workers-a)" = "$((2 * NPROGRAMS))" &&
	test "$(wc -l <workers-b)" = "$((2 * NPROGRAMS))" &&
	! grep -x -F -f workers-a workers-b &&
	test "$BASE_a" != "$BASE_b" &&
	on a && http GET /api/status && check_status 204 &&
	on b && http GET /api/status && check_status 204
'

test_expect_success 'a password step-up through host a, the change it allows through host b' '
	on a && rec=$(step_up "$tok") &&
	on b &&
	echo "{\"username\":\"alice2\"}" >rename.json &&
	http PATCH /api/my-account rename.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $rec" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = alice2 &&
	on a && http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 && test "$(json_get "$TRASH/body" .username)" = alice2
'

test_expect_success 'the record is single-use: used once through b, refused through a and b' '
	echo "{\"username\":\"alice3\"}" >rename3.json &&
	on a && http PATCH /api/my-account rename3.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $rec" &&
	check_status 401 && check_code verification_record.permission_denied &&
	on b && http PATCH /api/my-account rename3.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $rec" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'a code sent through host a, verified through host b; the new address set through a with a step-up made on b' '
	on a && outbox_clear &&
	send_code "$tok" email alice@example.org &&
	check_status 201 && vrec=$(record_id) &&
	code=$(code mail) &&
	on b && verify_code "$tok" email alice@example.org "$vrec" "$code" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .verificationRecordId)" = "$vrec" &&
	srec=$(step_up "$tok") &&
	on a &&
	jq -cn --arg id "$vrec" "{email: \"alice@example.org\", newIdentifierVerificationRecordId: \$id}" \
		>email.json &&
	http POST /api/my-account/primary-email email.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $srec" &&
	check_status 204 &&
	on b && http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = alice@example.org
'

test_expect_success 'the workers of each host answered what was sent to it (one line each in its own log)' '
	mark_a=0 mark_b=0 &&
	for r in "POST /api/verifications/password" "POST /api/verifications/verification-code" \
		"POST /api/verifications/verification-code/verify" "PATCH /api/my-account" \
		"POST /api/my-account/primary-email"; do
		echo "$r: host a $(served a $r), host b $(served b $r)"
	done >served &&
	cat served &&
	cat >want <<-\EOF &&
	POST /api/verifications/password: host a 1, host b 1
	POST /api/verifications/verification-code: host a 1, host b 0
	POST /api/verifications/verification-code/verify: host a 0, host b 1
	PATCH /api/my-account: host a 1, host b 2
	POST /api/my-account/primary-email: host a 1, host b 0
	EOF
	test_cmp want served
'

test_expect_success "setup: users for the races and $N claimers, with tokens" '
	users guesser 1 && users sender 1 && users consumer 1 && users locked 1 &&
	users claimer "$N"
'

test_expect_success "$N concurrent wrong guesses of one code, half through each host, max-tries 10: exactly 10 code_mismatch, $((N - 10)) exceed_max_try" '
	user guesser 1 &&
	on a && outbox_clear &&
	send_code "$utok" email guesser1@example.com &&
	check_status 201 &&
	grec=$(record_id) &&
	code=$(code mail) &&
	wrong=$(echo "$code" | tr 0-9 1-90) &&
	printf "{\"identifier\":{\"type\":\"email\",\"value\":\"%s\"},\"verificationId\":\"%s\",\"code\":\"%s\"}\n" \
		guesser1@example.com "$grec" "$wrong" >wrong.json &&
	mark &&
	race "$N" guess /api/verifications/verification-code/verify "$utok" wrong.json &&
	halves guess POST /api/verifications/verification-code/verify &&
	test "$(count 400 guess/statuses)" = "$N" &&
	test "$(count verification_code.code_mismatch guess/codes)" = 10 &&
	test "$(count verification_code.exceed_max_try guess/codes)" = "$((N - 10))" &&
	on b && verify_code "$utok" email guesser1@example.com "$grec" "$code" &&
	check_status 400 && check_code verification_code.exceed_max_try &&
	h=$("$ADMIN" record handle "$grec") &&
	"$ADMIN" audit show | grep "\"record\":\"$h\"" >audit-guesses &&
	test "$(grep -c "\"reason\":\"verification_code.code_mismatch\"" audit-guesses)" = 10
'

test_expect_success "$N concurrent sends to one address, half through each host, send-max 10: exactly 10 x 201, the rest 429, 10 messages" '
	user sender 1 &&
	outbox_clear &&
	printf "{\"identifier\":{\"type\":\"email\",\"value\":\"target@example.org\"}}\n" >send.json &&
	mark &&
	race "$N" send /api/verifications/verification-code "$utok" send.json &&
	halves send POST /api/verifications/verification-code &&
	test "$(count 201 send/statuses)" = 10 &&
	test "$(count 429 send/statuses)" = "$((N - 10))" &&
	test "$(count request.message_rate_limited send/codes)" = "$((N - 10))" &&
	test "$(outbox_count mail)" = 10 &&
	test "$(ids send | grep -vx null | sort -u | wc -l)" = 10 &&
	test "$(audit_for user "$uid" code.sent)" = 10
'

test_expect_success "$N concurrent changes with one single-use record, half through each host: exactly one 200" '
	user consumer 1 &&
	on b && rec=$(step_up "$utok") &&
	renames use c1n "$utok" "$rec" &&
	mark &&
	race_run use &&
	halves use PATCH /api/my-account &&
	test "$(count 200 use/statuses)" = 1 &&
	test "$(count 401 use/statuses)" = "$((N - 1))" &&
	test "$(count verification_record.permission_denied use/codes)" = "$((N - 1))" &&
	won=$(grep -nx 200 use/statuses | cut -d: -f1) &&
	on a && http GET /api/my-account -H "Authorization: Bearer $utok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = "c1n$won" &&
	test "$(audit_for user "$uid" user.profile_changed)" = 1
'

# phase 2: lockout after 10 failures, $N sends per recipient (for the claims)
test_expect_success "phase 2: lockout max-attempts 10, send-max $N, both hosts started again" '
	stop_lighttpd a && stop_lighttpd b &&
	setup_instance "$DELIVERY" "$HASH" "<verification step-up=\"single-use\"/>" \
		"<lockout max-attempts=\"10\"/>" "<codes send-max=\"$N\"/>" &&
	hosts &&
	grep "<lockout max-attempts=\"10\"/>" "$TRASH/host-b.xml"
'

# The failure that reaches the limit is answered as blocked (spec 5.1).
test_expect_success "$N concurrent wrong passwords, half through each host, lockout after 10: exactly 9 x 422, the rest 400 blocked" '
	user locked 1 &&
	printf "{\"password\":\"wrong\"}" >wrongpw.json &&
	mark &&
	race "$N" lock /api/verifications/password "$utok" wrongpw.json &&
	halves lock POST /api/verifications/password &&
	test "$(count 422 lock/statuses)" = 9 &&
	test "$(count session.invalid_credentials lock/codes)" = 9 &&
	test "$(count 400 lock/statuses)" = "$((N - 9))" &&
	test "$(count session.verification_blocked_too_many_attempts lock/codes)" = "$((N - 9))" &&
	test "$(audit_for user "$uid" verify.password.failed)" = 9 &&
	test "$(audit_for user "$uid" lockout.started)" = 1 &&
	on a && password "$utok" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts &&
	on b && password "$utok" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts
'

test_expect_success "$N users claim one new address at once, half through each host, each with a step-up and a code made through both: exactly one wins" '
	addr=prize@example.com &&
	mark &&
	claims claim "$addr" &&
	halves stepups POST /api/verifications/password &&
	halves sends POST /api/verifications/verification-code &&
	halves verifies POST /api/verifications/verification-code/verify &&
	race_run claim &&
	halves claim POST /api/my-account/primary-email &&
	test "$(count 204 claim/statuses)" = 1 &&
	test "$(count 422 claim/statuses)" = "$((N - 1))" &&
	test "$(count user.email_already_in_use claim/codes)" = "$((N - 1))" &&
	won=$(grep -nx 204 claim/statuses | cut -d: -f1) &&
	wt=$(sed -n "${won}p" "$TRASH/users-claimer" | cut -d" " -f2) &&
	on b && http GET /api/my-account -H "Authorization: Bearer $wt" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = "$addr" &&
	"$ADMIN" audit show >audit.jsonl &&
	test "$(grep -c "\"event\":\"user.email_changed\"" audit.jsonl)" = 2
'

test_expect_success 'reverify-admin audit verify passes' '
	"$ADMIN" audit verify &&
	"$ADMIN" stats
'

test_done
