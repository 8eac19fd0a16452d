#!/bin/sh
# t6000-races: 64+ concurrent clients through lighttpd with 4 FastCGI processes per program: code guesses, sends, lockout counting, single-use records and e-mail claims keep their limits exactly (issue 9; DESIGN.md "Store", deviations 3 and 4)
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

# N clients per race, ROUNDS rounds of each race but the claims
N=64
ROUNDS=${RACE_ROUNDS:-2}
# the claims cost 4 x N requests a round
CLAIM_ROUNDS=${RACE_CLAIM_ROUNDS:-1}
PW='race Password 123'
# $PW as SHA-crypt (perl is essential on Debian)
PWHASH=$(perl -e 'print crypt($ARGV[0], "\$6\$racesalt\$")' "$PW")
outbox_setup || bail_out "no outbox"
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>"
# cheap hashes: the races are about counters, not about argon2's cost
HASH='<password scheme="argon2id" argon2-memory="1024" argon2-time="1" argon2-parallelism="1"/>'
PROGRAMS="verification-password verification-code verification-code-verify my-account my-account-primary-email"

# phase 1: the default limits (10 tries per code, 10 sends per recipient,
# lockout after 100 failures) and single-use step-up records
setup_instance "$DELIVERY" "$HASH" '<verification step-up="single-use"/>' ||
	bail_out "cannot set up the instance"
# shellcheck disable=SC2086 # a list of programs
LIGHTTPD_MAX_PROCS=4 start_lighttpd $PROGRAMS || bail_out "lighttpd did not start"

# users PREFIX COUNT: import the users PREFIX1..PREFIXCOUNT (password $PW
# as a SHA-crypt hash, which the first step-up upgrades; e-mail
# PREFIXi@example.com) in one go and mint a token for each, 8 at a time;
# writes $TRASH/users-PREFIX, line i "ID TOKEN" for PREFIXi
users () {
	seq "$2" | awk -v p="$1" -v h="$PWHASH" '{
		printf "{\"username\":\"%s%d\",\"primaryEmail\":\"%s%d@example.com\",\"passwordHash\":\"%s\"}\n",
			p, $1, p, $1, h }' >"$TRASH/import-$1" &&
	"$ADMIN" user import "$TRASH/import-$1" >"$TRASH/imported-$1" &&
	jq -r '"\(.username | ltrimstr("'"$1"'")) \(.id)"' "$TRASH/imported-$1" |
		sort -n >"$TRASH/ids-$1" &&
	test "$(wc -l <"$TRASH/ids-$1")" = "$2" &&
	xargs -P 8 -n 2 sh -c '"$0" token "$3" >"$1/.t-$2"' "$ADMIN" "$TRASH" \
		<"$TRASH/ids-$1" || return 1
	while read -r us_i_ us_id_; do
		read -r us_tok_ <"$TRASH/.t-$us_i_" && test -n "$us_tok_" &&
		echo "$us_id_ $us_tok_" || return 1
	done <"$TRASH/ids-$1" >"$TRASH/users-$1"
}

# user PREFIX I: sets $uid and $utok to user PREFIXI's id and token
user () {
	uid='' utok=''
	us_i_=0
	while read -r us_id_ us_tok_; do
		us_i_=$((us_i_ + 1))
		test "$us_i_" = "$2" && uid=$us_id_ utok=$us_tok_ && return 0
	done <"$TRASH/users-$1"
	return 1
}

# audit_for KEY VALUE EVENT: the number of audit events EVENT whose KEY is VALUE
audit_for () {
	"$ADMIN" audit show |
		jq -c --arg k "$1" --arg v "$2" --arg e "$3" \
			'select(.[$k] == $v and .event == $e)' | wc -l | tr -d ' '
}

# renames DIR PREFIX TOKEN RECORD: a batch in DIR of $N renames to PREFIX1,
# PREFIX2... with the step-up RECORD
renames () {
	race_begin "$1" || return 1
	rn_i_=1
	while test "$rn_i_" -le "$N"; do
		printf '{"username":"%s%s"}\n' "$2" "$rn_i_" >"$TRASH/$1-$rn_i_.json" &&
		race_add "$1" PATCH /api/my-account "$TRASH/$1-$rn_i_.json" \
			"Authorization: Bearer $3" "logto-verification-id: $4" || return 1
		rn_i_=$((rn_i_ + 1))
	done
}

# ids DIR: the verificationRecordId of each answer of the batch in DIR, in
# order ("null" for none)
ids () {
	id_dir_=$1
	id_i_=1
	set --
	while test -f "$id_dir_/$id_i_.json"; do
		set -- "$@" "$id_dir_/$id_i_.json"
		id_i_=$((id_i_ + 1))
	done
	jq -r .verificationRecordId "$@"
}

# claim_codes: "I CODE" for each message of the outbox, sorted by I, where
# the message greets claimerI (one awk and one base64 per message)
claim_codes () {
	rm -rf "$TRASH/dec" && mkdir "$TRASH/dec" &&
	awk -v d="$TRASH/dec" '
		FNR == 1 { if (out != "") close(out); part = 0; out = d "/" ++k ".b64" }
		/^Content-Type: text\/plain/ { part = 1; next }
		part == 1 && /^$/ { part = 2; next }
		part == 2 && /^--/ { part = 3; next }
		part == 2 { print > out }' "$REVERIFY_OUTBOX"/mail-*.eml || return 1
	for cc_f_ in "$TRASH"/dec/*.b64; do
		base64 -d "$cc_f_" >"${cc_f_%.b64}.txt" || return 1
	done
	awk '
		FNR == 1 { n = ""; c = "" }
		/^Hello claimer[0-9]+,$/ { n = substr($2, 8); sub(/,$/, "", n) }
		/^[0-9][0-9][0-9][0-9][0-9][0-9]$/ { c = $0 }
		n != "" && c != "" && !done[FILENAME]++ { print n, c }' \
		"$TRASH"/dec/*.txt | sort -n
}

# claims DIR ADDRESS: a batch in DIR where claimer I (line I of
# $TRASH/users-claimer) sets its primary e-mail to ADDRESS, with a fresh
# password step-up and a verified code to ADDRESS, both made concurrently
# too (the messages tell their user by the greeting)
claims () {
	printf '{"identifier":{"type":"email","value":"%s"}}\n' "$2" >"$TRASH/claim-send.json" &&
	printf '{"password":"%s"}\n' "$PW" >"$TRASH/right.json" &&
	race_begin "$TRASH/stepups" && race_begin "$TRASH/sends" || return 1
	while read -r cl_u_ cl_t_; do
		race_add "$TRASH/stepups" POST /api/verifications/password \
			"$TRASH/right.json" "Authorization: Bearer $cl_t_" &&
		race_add "$TRASH/sends" POST /api/verifications/verification-code \
			"$TRASH/claim-send.json" "Authorization: Bearer $cl_t_" || return 1
	done <"$TRASH/users-claimer"
	outbox_clear &&
	race_run "$TRASH/stepups" >/dev/null &&
	test "$(count 201 "$TRASH/stepups/statuses")" = "$N" &&
	race_run "$TRASH/sends" >/dev/null &&
	test "$(count 201 "$TRASH/sends/statuses")" = "$N" &&
	test "$(outbox_count mail)" = "$N" &&
	ids "$TRASH/stepups" >"$TRASH/stepup-ids" &&
	ids "$TRASH/sends" >"$TRASH/send-ids" &&
	claim_codes >"$TRASH/claim-codes" &&
	test "$(cut -d" " -f1 "$TRASH/claim-codes" | paste -sd" " -)" = "$(seq "$N" | paste -sd" " -)" &&
	paste -d" " "$TRASH/users-claimer" "$TRASH/stepup-ids" "$TRASH/send-ids" \
		"$TRASH/claim-codes" >"$TRASH/claim-plan" &&
	race_begin "$TRASH/verifies" && race_begin "$1" || return 1
	cl_i_=1
	while read -r cl_u_ cl_t_ cl_s_ cl_v_ cl_n_ cl_c_; do
		printf '{"identifier":{"type":"email","value":"%s"},"verificationId":"%s","code":"%s"}\n' \
			"$2" "$cl_v_" "$cl_c_" >"$TRASH/verify-$cl_i_.json" &&
		race_add "$TRASH/verifies" POST /api/verifications/verification-code/verify \
			"$TRASH/verify-$cl_i_.json" "Authorization: Bearer $cl_t_" &&
		printf '{"email":"%s","newIdentifierVerificationRecordId":"%s"}\n' \
			"$2" "$cl_v_" >"$TRASH/$1-$cl_i_.json" &&
		race_add "$1" POST /api/my-account/primary-email "$TRASH/$1-$cl_i_.json" \
			"Authorization: Bearer $cl_t_" "logto-verification-id: $cl_s_" || return 1
		cl_i_=$((cl_i_ + 1))
	done <"$TRASH/claim-plan"
	race_run "$TRASH/verifies" >/dev/null &&
	test "$(count 200 "$TRASH/verifies/statuses")" = "$N"
}

test_expect_success "setup: users for $ROUNDS rounds and $N claimers, with tokens" '
	users guesser "$ROUNDS" && users sender "$ROUNDS" &&
	users consumer "$ROUNDS" && users locked "$ROUNDS" &&
	users claimer "$N"
'

r=1
while test "$r" -le "$ROUNDS"; do

test_expect_success "round $r: $N concurrent wrong guesses of one code, max-tries 10: exactly 10 code_mismatch, the rest exceed_max_try (not audited)" '
	user guesser "$r" &&
	outbox_clear &&
	send_code "$utok" email "guesser$r@example.com" &&
	check_status 201 &&
	rec=$(record_id) &&
	code=$(outbox_code "$(outbox_last mail)") &&
	wrong=$(echo "$code" | tr 0-9 1-90) &&
	printf "{\"identifier\":{\"type\":\"email\",\"value\":\"%s\"},\"verificationId\":\"%s\",\"code\":\"%s\"}\n" \
		"guesser$r@example.com" "$rec" "$wrong" >wrong.json &&
	race "$N" guess /api/verifications/verification-code/verify "$utok" wrong.json &&
	test "$(count 400 guess/statuses)" = "$N" &&
	test "$(count verification_code.code_mismatch guess/codes)" = 10 &&
	test "$(count verification_code.exceed_max_try guess/codes)" = "$((N - 10))" &&
	verify_code "$utok" email "guesser$r@example.com" "$rec" "$code" &&
	check_status 400 && check_code verification_code.exceed_max_try &&
	h=$("$ADMIN" record handle "$rec") &&
	! "$ADMIN" audit show | grep -F "$rec" &&
	"$ADMIN" audit show | grep "\"record\":\"$h\"" >audit-guesses &&
	test "$(grep -c "\"reason\":\"verification_code.code_mismatch\"" audit-guesses)" = 10 &&
	test "$(grep -c "\"reason\":\"verification_code.exceed_max_try\"" audit-guesses)" = 0
'

test_expect_success "round $r: $N concurrent sends to one address, send-max 10: exactly 10 x 201, the rest 429, 10 messages" '
	user sender "$r" &&
	outbox_clear &&
	printf "{\"identifier\":{\"type\":\"email\",\"value\":\"%s\"}}\n" "target$r@example.org" >send.json &&
	race "$N" send /api/verifications/verification-code "$utok" send.json &&
	test "$(count 201 send/statuses)" = 10 &&
	test "$(count 429 send/statuses)" = "$((N - 10))" &&
	test "$(count request.message_rate_limited send/codes)" = "$((N - 10))" &&
	test "$(outbox_count mail)" = 10 &&
	test "$(ids send | grep -vx null | sort -u | wc -l)" = 10 &&
	test "$(audit_for user "$uid" code.sent)" = 10 &&
	send_code "$utok" email "target$r@example.org" &&
	check_status 429 && test "$(outbox_count mail)" = 10
'

test_expect_success "round $r: $N concurrent changes with one single-use record: exactly one 200" '
	user consumer "$r" &&
	rec=$(step_up "$utok") &&
	renames use "c${r}n" "$utok" "$rec" &&
	race_run use &&
	test "$(count 200 use/statuses)" = 1 &&
	test "$(count 401 use/statuses)" = "$((N - 1))" &&
	test "$(count verification_record.permission_denied use/codes)" = "$((N - 1))" &&
	won=$(grep -nx 200 use/statuses | cut -d: -f1) &&
	http GET /api/my-account -H "Authorization: Bearer $utok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = "c${r}n$won" &&
	test "$(audit_for user "$uid" user.profile_changed)" = 1
'

r=$((r + 1))
done

# phase 2: lockout after 10 failures, $N sends per recipient (for the claims)
test_expect_success "phase 2: lockout max-attempts 10, send-max $N" '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "$HASH" "<verification step-up=\"single-use\"/>" \
		"<lockout max-attempts=\"10\"/>" "<codes send-max=\"$N\"/>" &&
	LIGHTTPD_MAX_PROCS=4 start_lighttpd $PROGRAMS
'

r=1
while test "$r" -le "$ROUNDS"; do

# The failure that reaches the limit is answered as blocked (spec 5.1).
test_expect_success "round $r: $N concurrent wrong passwords, lockout after 10: exactly 9 x 422, the rest 400 blocked" '
	user locked "$r" &&
	printf "{\"password\":\"wrong\"}" >wrongpw.json &&
	race "$N" lock /api/verifications/password "$utok" wrongpw.json &&
	test "$(count 422 lock/statuses)" = 9 &&
	test "$(count session.invalid_credentials lock/codes)" = 9 &&
	test "$(count 400 lock/statuses)" = "$((N - 9))" &&
	test "$(count session.verification_blocked_too_many_attempts lock/codes)" = "$((N - 9))" &&
	test "$(audit_for user "$uid" verify.password.failed)" = 9 &&
	test "$(audit_for user "$uid" lockout.started)" = 1 &&
	printf "{\"password\":\"%s\"}" "$PW" >right.json &&
	http POST /api/verifications/password right.json -H "Authorization: Bearer $utok" &&
	check_status 400 && check_code session.verification_blocked_too_many_attempts
'

r=$((r + 1))
done

r=1
while test "$r" -le "$CLAIM_ROUNDS"; do

test_expect_success "round $r: $N users claim one new address at once: exactly one wins" '
	addr=prize$r@example.com &&
	claims claim "$addr" &&
	race_run claim &&
	test "$(count 204 claim/statuses)" = 1 &&
	test "$(count 422 claim/statuses)" = "$((N - 1))" &&
	test "$(count user.email_already_in_use claim/codes)" = "$((N - 1))" &&
	won=$(grep -nx 204 claim/statuses | cut -d: -f1) &&
	wt=$(sed -n "${won}p" "$TRASH/users-claimer" | cut -d" " -f2) &&
	http GET /api/my-account -H "Authorization: Bearer $wt" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = "$addr" &&
	"$ADMIN" audit show >audit.jsonl &&
	test "$(grep -c "\"event\":\"user.email_changed\"" audit.jsonl)" = "$r"
'

r=$((r + 1))
done

test_expect_success 'reverify-admin audit verify passes' '
	"$ADMIN" audit verify &&
	"$ADMIN" stats
'

test_done
