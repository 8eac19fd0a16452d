# stepup.sh: step-up records through the real endpoints, for the e2e tests
# shellcheck shell=sh disable=SC2154 # TRASH, top_builddir come from test-lib.sh
#
# Sourced after test-lib.sh, lighttpd.sh (http) and instance.sh (record_id,
# the outbox helpers):
#	. "$top_srcdir/t/lib/stepup.sh"
# $PW is the users' password (set by the script, before the first call).
# Every helper writes its request body and the response into $TRASH, so
# check_status, check_code and check_body read the last answer.

STEPUP=$top_builddir/t/helper/stepup-check

# stepup USER RECORD [CLIENT [SID]]: verified (0) or denied (1), as the
# sensitive endpoints see RECORD for USER with a token of CLIENT (default
# demo-app) and SID; fails on anything else (t/helper/stepup-check).
stepup () {
	"$STEPUP" "$@"
	test "$?" -le 1
}

# step_up TOKEN [PASSWORD]: a Password record by POST
# /api/verifications/password with PASSWORD (default $PW); fails unless
# the answer is 201 (the response goes to stderr then); prints the
# record id.
step_up () {
	jq -cn --arg p "${2:-$PW}" '{password: $p}' >"$TRASH/su.json" &&
	http POST /api/verifications/password "$TRASH/su.json" \
		-H "Authorization: Bearer $1" &&
	check_status 201 >&2 &&
	record_id
}

# password TOKEN [ACTION [PASSWORD]]: POST /api/verifications/password, for
# ACTION (none when empty), with PASSWORD (default $PW); any answer.
password () {
	jq -cn --arg p "${3:-$PW}" --arg a "${2-}" \
		'{password: $p} + (if $a == "" then {} else {action: $a} end)' >"$TRASH/pw.json" &&
	http POST /api/verifications/password "$TRASH/pw.json" -H "Authorization: Bearer $1"
}

# keep NAME: after a 201, set $NAME to the record id (not empty, not null),
# keep its expiresAt in $TRASH/exp.<id> and add the id to $TRASH/ids (for
# a search of the logs). Fails on any other answer.
keep () {
	check_status 201 &&
	k_id_=$(record_id) &&
	test -n "$k_id_" && test "$k_id_" != null &&
	json_get "$TRASH/body" .expiresAt >"$TRASH/exp.$k_id_" &&
	echo "$k_id_" >>"$TRASH/ids" &&
	eval "$1=\$k_id_"
}

# code KIND: print the code of the only message of KIND (mail or sms) in
# the outbox, then empty the outbox; fails unless there is exactly one.
code () {
	test "$(outbox_count "$1")" = 1 &&
	outbox_code "$(outbox_last "$1")" &&
	outbox_clear
}

# handle_of TOKEN ID: the handle that GET /api/verifications lists for the
# record ID (the one entry with its expiresAt, kept by keep); fails unless
# there is exactly one and it has the shape of a handle (32 hex digits).
handle_of () {
	http GET /api/verifications -H "Authorization: Bearer $1" &&
	check_status 200 >&2 &&
	jq -r --arg e "$(cat "$TRASH/exp.$2")" \
		'[.records[] | select(.expiresAt == $e) | .handle] |
		 if length == 1 then .[0] else error("not one record expires at \($e)") end' \
		"$TRASH/body" | grep -xE "[0-9a-f]{32}"
}

# created ID: the createdAt of the record ID kept by keep (its expiresAt -
# 600 s, the default lifetime), ISO 8601 with milliseconds and Z
created () {
	c_ms_=$(( $(date -u -d "$(cat "$TRASH/exp.$1")" +%s%3N) - 600000 )) &&
	echo "$(date -u -d "@$((c_ms_ / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf %03d $((c_ms_ % 1000)))Z"
}

# active_password ID USER [JSON]: the exact introspection answer for the
# active Password record ID of USER (kept by keep), plus the members of
# JSON (default none)
active_password () {
	ap_x_=${3-}
	test -n "$ap_x_" || ap_x_='{}'
	jq -cn --arg t "$(created "$1")" --arg e "$(cat "$TRASH/exp.$1")" \
		--arg u "$2" --argjson x "$ap_x_" \
		'{active: true, type: "Password", verifiedAt: $t, expiresAt: $e,
		  userId: $u} + $x'
}

# handles TOKEN ID...: from the list of TOKEN, the handle of each record ID
# (the entry with the expiresAt in $TRASH/exp.<ID>, as keep leaves it)
# into $TRASH/handle.<ID>;
# fails unless each is one entry of 32 lowercase hex characters. The
# script defines list TOKEN (GET /api/verifications by http or run_cgi).
handles () {
	h_tok_=$1
	shift
	list "$h_tok_" && check_status 200 || return 1
	for h_id_ in "$@"; do
		jq -r --arg e "$(cat "$TRASH/exp.$h_id_")" \
			'[.records[] | select(.expiresAt == $e) | .handle] |
			 if length == 1 then .[0] else error("not one record expires at \($e)") end' \
			"$TRASH/body" >"$TRASH/handle.$h_id_" &&
		grep -xE "[0-9a-f]{32}" "$TRASH/handle.$h_id_" || return 1
	done
}

# h ID: the handle of the record ID found by handles
h () {
	cat "$TRASH/handle.$1"
}

# code_record TOKEN TYPE VALUE: a code sent to the email or phone VALUE
# (the outbox emptied first) and verified with TOKEN; fails unless both
# answers are right; prints the record id (a step-up for the caller's own
# address, a BindNewIdentifier record for another)
code_record () {
	outbox_clear &&
	send_code "$1" "$2" "$3" && check_status 201 >&2 &&
	cr_r_=$(record_id) &&
	cr_c_=$(if test "$2" = email; then code mail; else code sms; fi) &&
	verify_code "$1" "$2" "$3" "$cr_r_" "$cr_c_" && check_status 200 >&2 &&
	echo "$cr_r_"
}
