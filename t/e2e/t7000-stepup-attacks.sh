#!/bin/sh
# t7000-stepup-attacks: the attacks of the security review (F1, F3, F6, F7,
# F8) replayed through lighttpd + FastCGI (issue 14): each must fail now,
# and the rightful user's flow must still work right after it
#
# F1: a stolen token polls GET /api/verifications while the victim steps
# up: it sees handles, never a record id, and a handle proves nothing; a
# third-party token may not list at all. Records are bound to the client
# (and the sid) that made them. F3: a suspended user gets no step-up and
# loses the records made before. F6: a record made for an action serves
# only introspection for that action; consume always consumes. F7: a
# new-identifier record of another user is worthless, and is consumed by
# the change it serves. F8: a password change revokes every other record,
# however many (the old code stopped at 64). And the cap on live records per
# user. Last, no record id may be in the log or the audit trail.
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
secret=intro-s3cret
hash=$(printf %s "$secret" | sha256sum | cut -d" " -f1)
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"x@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>"
CLIENTS="<introspection clients=\"payments:$hash\"/>"
# cheap hashes: the F8 replay makes 80 password step-ups
CHEAP='<password argon2-memory="1024" argon2-time="1"/>'
# alice uses two apps of the site's own (first-party), and one of a third party
INSTANCE_FIRST_PARTY='demo-app other-app'
setup_instance "$DELIVERY" "$CLIENTS" "$CHEAP" '<verification max-live-records="200"/>' ||
	bail_out "cannot set up the instance"
PW='correct horse battery staple'
alice=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 64211234567 --password-stdin) || bail_out "no user"
mallory=$(printf '%s\n' "$PW" | add_user --username mallory --email mallory@example.net \
	--password-stdin) || bail_out "no user"
sam=$(printf '%s\n' "$PW" | add_user --username sam --email sam@example.com \
	--phone 64219990000 --password-stdin) || bail_out "no user"
dora=$(printf '%s\n' "$PW" | add_user --username dora --password-stdin) || bail_out "no user"
PROGRAMS=$(sed -e 's/#.*//' "$top_srcdir/conf/endpoints" | awk 'NF { print $1 }')
# shellcheck disable=SC2086 # a list of programs
start_lighttpd $PROGRAMS || bail_out "lighttpd did not start"
# tok is alice's SPA token, and also what the attacker stole
if ! { tok=$(mint "$alice") && other=$(mint "$alice" --client-id other-app) &&
	third=$(mint "$alice" --client-id evil-app) && mtok=$(mint "$mallory") &&
	stok=$(mint "$sam") && dtok=$(mint "$dora"); }; then
	bail_out "no tokens"
fi
INACTIVE='{"active":false}'
NOTHING='{}'
: >"$TRASH/ids"

# check_error STATUS CODE: the last response was that error
check_error () {
	check_status "$1" && check_code "$2"
}

# send TOKEN TYPE VALUE [ACTION]: an empty outbox, then a code to VALUE
send () {
	outbox_clear &&
	jq -cn --arg t "$2" --arg v "$3" --arg a "${4-}" \
		'{identifier: {type: $t, value: $v}} +
		 (if $a == "" then {} else {action: $a} end)' >"$TRASH/send.json" &&
	http POST /api/verifications/verification-code "$TRASH/send.json" \
		-H "Authorization: Bearer $1"
}

# rename TOKEN USERNAME RECORD: PATCH /api/my-account with a step-up
rename () {
	jq -cn --arg u "$2" '{username: $u}' >"$TRASH/patch.json" &&
	http PATCH /api/my-account "$TRASH/patch.json" -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $3"
}

# new_password TOKEN PASSWORD RECORD: POST /api/my-account/password
new_password () {
	jq -cn --arg p "$2" '{password: $p}' >"$TRASH/np.json" &&
	http POST /api/my-account/password "$TRASH/np.json" -H "Authorization: Bearer $1" \
		-H "logto-verification-id: $3"
}

# set_primary TOKEN KIND VALUE STEPUP NEWRECORD: POST /api/my-account/primary-KIND
set_primary () {
	jq -cn --arg k "$2" --arg v "$3" --arg r "$5" \
		'{($k): $v, newIdentifierVerificationRecordId: $r}' >"$TRASH/primary.json" &&
	http POST "/api/my-account/primary-$2" "$TRASH/primary.json" \
		-H "Authorization: Bearer $1" -H "logto-verification-id: $4"
}

# account TOKEN FILTER: the FILTER of GET /api/my-account
account () {
	http GET /api/my-account -H "Authorization: Bearer $1" &&
	check_status 200 >&2 &&
	json_get "$TRASH/body" "$2"
}

# introspect RECORD USER [JSON]: as the payments service, with the members
# of JSON added to the request
introspect () {
	jq -cn --arg r "$1" --arg u "$2" --argjson x "${3:-$NOTHING}" \
		'{verificationRecordId: $r, userId: $u} + $x' >"$TRASH/intro.json" &&
	http POST /api/verifications/introspect "$TRASH/intro.json" -u "payments:$secret"
}

# check_inactive: the last answer was {"active":false}
check_inactive () {
	check_status 200 && check_body "$INACTIVE"
}

# many_stepups N TOKEN DIR: N password step-ups in one curl; their ids in
# DIR/ids, in order
many_stepups () {
	ms_n_=$1 ms_tok_=$2 ms_dir_=$3 ms_i_=0
	mkdir -p "$ms_dir_" || return 1
	jq -cn --arg p "$PW" '{password: $p}' >"$ms_dir_/pw.json" || return 1
	set --
	while test "$ms_i_" -lt "$ms_n_"; do
		ms_i_=$((ms_i_ + 1))
		set -- "$@" -o "$ms_dir_/r.$ms_i_" "$BASE/api/verifications/password"
	done
	"$CURL" -q -sS --max-time 120 -w "%{http_code}\n" -H "Authorization: Bearer $ms_tok_" \
		-H "Content-Type: application/json" --data-binary "@$ms_dir_/pw.json" "$@" \
		>"$ms_dir_/codes" || return 1
	test "$(sort -u "$ms_dir_/codes")" = 201 || { sort "$ms_dir_/codes" | uniq -c; return 1; }
	test "$(wc -l <"$ms_dir_/codes")" = "$ms_n_" || return 1
	# one jq for all the answers, in order (a fork costs on a busy machine)
	ms_i_=0
	set --
	while test "$ms_i_" -lt "$ms_n_"; do
		ms_i_=$((ms_i_ + 1))
		set -- "$@" "$ms_dir_/r.$ms_i_"
	done
	jq -r .verificationRecordId "$@" >"$ms_dir_/ids" || return 1
	test "$(grep -cxE "[0-9a-z]{21}" "$ms_dir_/ids")" = "$ms_n_" &&
	cat "$ms_dir_/ids" >>"$TRASH/ids"
}

# introspect_many IDS USER DIR: introspect each record of the file IDS for
# USER, in one curl; prints how many answers were active
introspect_many () {
	im_ids_=$1 im_user_=$2 im_dir_=$3 im_n_=0
	mkdir -p "$im_dir_" || return 1
	set --
	while read -r im_id_; do
		im_n_=$((im_n_ + 1))
		# ids and user ids are [0-9a-z]: no quoting needed, and no fork
		printf '{"verificationRecordId":"%s","userId":"%s"}' "$im_id_" "$im_user_" \
			>"$im_dir_/q.$im_n_" || return 1
		test "$im_n_" = 1 || set -- "$@" --next
		set -- "$@" -sS --max-time 60 -u "payments:$secret" \
			-H "Content-Type: application/json" --data-binary "@$im_dir_/q.$im_n_" \
			-o "$im_dir_/a.$im_n_" "$BASE/api/verifications/introspect"
	done <"$im_ids_"
	"$CURL" -q "$@" || return 1
	cat "$im_dir_"/a.* | jq -r .active | grep -c true
}

# unknown_like FILE: the body of the last answer is the one saved in FILE
# (the answer for an unknown record id): nothing tells the two apart
unknown_like () {
	cmp "$1" "$TRASH/body" || { echo "got:"; cat "$TRASH/body"; echo; echo "want:"; cat "$1"; echo; false; }
}

# suspended: the last answer was 401 user.suspended
suspended () {
	check_error 401 user.suspended
}

# ---- F1: the stolen token polls the list ------------------------------------

test_expect_success 'F1: before the step-up the stolen token lists nothing' '
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 && check_body "{\"records\":[]}"
'

test_expect_success 'F1: alice steps up; the poll right after shows a 32-hex handle, never the id' '
	password "$tok" && keep P &&
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	! grep -F "$P" "$TRASH/body" &&
	test "$(json_get "$TRASH/body" ".records | length")" = 1 &&
	test "$(json_get "$TRASH/body" ".records[0] | keys | join(\" \")")" = \
		"createdAt expiresAt handle identifier templateType type verified" &&
	H=$(handle_of "$tok" "$P") &&
	echo "$H" | grep -xE "[0-9a-f]{32}" &&
	test "$H" = "$("$ADMIN" record handle "$P")"
'

test_expect_success 'F1: the handle in logto-verification-id: 401 permission_denied for username, password and phone' '
	echo "$H" | grep -xE "[0-9a-f]{32}" &&
	rename "$tok" mallory_was_here "$H" &&
	check_error 401 verification_record.permission_denied &&
	new_password "$tok" "Pwn3d-by-mallory-1" "$H" &&
	check_error 401 verification_record.permission_denied &&
	http DELETE /api/my-account/primary-phone -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $H" &&
	check_error 401 verification_record.permission_denied &&
	test "$(account "$tok" .username)" = alice &&
	test "$(account "$tok" .primaryPhone)" = 64211234567 &&
	test "$(stepup "$alice" "$H")" = denied
'

test_expect_success 'F1: the handle is no proof for introspection either: {"active":false}' '
	echo "$H" | grep -xE "[0-9a-f]{32}" &&
	introspect "$H" "$alice" &&
	check_inactive
'

test_expect_success 'F1: right after, alice changes her username with the id she was given: 200' '
	rename "$tok" alice_1 "$P" &&
	check_status 200 &&
	test "$(account "$tok" .username)" = alice_1
'

test_expect_success 'F1: a third-party token of alice: GET /api/verifications 403 third_party_application_forbidden' '
	http GET /api/verifications -H "Authorization: Bearer $third" &&
	check_error 403 auth.third_party_application_forbidden &&
	! grep -F -e "$P" -e "$H" "$TRASH/body" &&
	http DELETE "/api/verifications/$H" -H "Authorization: Bearer $third" &&
	check_error 403 auth.third_party_application_forbidden &&
	test "$(stepup "$alice" "$P")" = verified
'

test_expect_success 'F1: alice revokes her record by its handle: 204; then it proves nothing, a second time 404' '
	http DELETE "/api/verifications/$H" -H "Authorization: Bearer $tok" &&
	check_status 204 &&
	test "$(stepup "$alice" "$P")" = denied &&
	rename "$tok" alice_2 "$P" &&
	check_error 401 verification_record.permission_denied &&
	http DELETE "/api/verifications/$H" -H "Authorization: Bearer $tok" &&
	check_error 404 verification_record.not_found
'

# ---- records are bound to the client and the session that made them -------

test_expect_success 'binding: the answers for unknown record ids, to compare' '
	rename "$other" other_app_was_here zzzzzzzzzzzzzzzzzzzzz &&
	check_error 401 verification_record.permission_denied &&
	cp "$TRASH/body" unknown-stepup.json &&
	verify_code "$other" email alice@example.com zzzzzzzzzzzzzzzzzzzzz 123456 &&
	check_error 400 verification_record.not_found &&
	cp "$TRASH/body" unknown-verify.json
'

test_expect_success 'binding: alice'\''s record in a token of her other first-party app: 401, nothing changed' '
	password "$tok" && keep P2 &&
	rename "$other" other_app_was_here "$P2" &&
	check_error 401 verification_record.permission_denied &&
	unknown_like unknown-stepup.json &&
	new_password "$other" "Pwn3d-by-mallory-2" "$P2" &&
	check_error 401 verification_record.permission_denied &&
	test "$(account "$tok" .username)" = alice_1 &&
	test "$(stepup "$alice" "$P2" other-app)" = denied
'

test_expect_success 'binding: right after, alice'\''s own app changes the username with it: 200' '
	test "$(stepup "$alice" "$P2" demo-app)" = verified &&
	test "$(stepup "$alice" "$P2")" = verified &&
	rename "$tok" alice_3 "$P2" &&
	check_status 200
'

test_expect_success 'binding: the other app cannot verify a code alice'\''s app asked: 400 not_found; alice'\''s app can: 200' '
	send "$tok" email alice@example.com && keep E &&
	c=$(code mail) &&
	verify_code "$other" email alice@example.com "$E" "$c" &&
	check_error 400 verification_record.not_found &&
	unknown_like unknown-verify.json &&
	verify_code "$tok" email alice@example.com "$E" "$c" &&
	check_status 200 &&
	test "$(stepup "$alice" "$E")" = verified
'

test_expect_success 'binding: the other app cannot use a new address alice'\''s app verified: 400 not_found' '
	send "$tok" email alice.new@example.org && keep N &&
	c=$(code mail) &&
	verify_code "$tok" email alice.new@example.org "$N" "$c" &&
	check_status 200 &&
	password "$other" && keep OP &&
	set_primary "$other" email alice.new@example.org "$OP" zzzzzzzzzzzzzzzzzzzzz &&
	check_error 400 verification_record.not_found &&
	cp "$TRASH/body" unknown-new.json &&
	set_primary "$other" email alice.new@example.org "$OP" "$N" &&
	check_error 400 verification_record.not_found &&
	unknown_like unknown-new.json &&
	test "$(account "$tok" .primaryEmail)" = alice@example.com
'

test_expect_success 'binding: right after, alice'\''s app sets that address with it: 204' '
	set_primary "$tok" email alice.new@example.org "$P2" "$N" &&
	check_status 204 &&
	test "$(account "$tok" .primaryEmail)" = alice.new@example.org
'

test_expect_success 'binding: a record of session s1 in a token of session s2 of the same app: 401' '
	s1=$(mint "$alice" --sid s1) && s2=$(mint "$alice" --sid s2) &&
	password "$s1" && keep PS &&
	rename "$s2" session_two "$PS" &&
	check_error 401 verification_record.permission_denied &&
	unknown_like unknown-stepup.json &&
	test "$(stepup "$alice" "$PS" demo-app s2)" = denied &&
	test "$(account "$tok" .username)" = alice_3
'

test_expect_success 'binding: in session s1 itself it works (200), and in a token without sid (200)' '
	test "$(stepup "$alice" "$PS" demo-app s1)" = verified &&
	rename "$s1" alice_s1 "$PS" &&
	check_status 200 &&
	rename "$tok" alice_4 "$PS" &&
	check_status 200
'

# ---- F3: a suspended user (the review's run2.sh, and every other route) ---

test_expect_success 'F3 setup: sam steps up by password and by an e-mail code, and asks an SMS code' '
	password "$stok" && keep SP &&
	send "$stok" email sam@example.com && keep SE &&
	c=$(code mail) &&
	verify_code "$stok" email sam@example.com "$SE" "$c" &&
	check_status 200 &&
	send "$stok" phone 64219990000 && keep SC &&
	sc=$(code sms) &&
	introspect "$SP" "$sam" &&
	check_body "$(active_password "$SP" "$sam")" &&
	introspect "$SE" "$sam" &&
	test "$(json_get "$TRASH/body" .active)" = true
'

test_expect_success 'F3: after user suspend, code send, verify and password change (run2.sh) are 401 user.suspended' '
	"$ADMIN" -q user suspend "$sam" &&
	outbox_clear &&
	send "$stok" email sam@example.com && suspended &&
	verify_code "$stok" phone 64219990000 "$SC" "$sc" && suspended &&
	new_password "$stok" "Sus-pended-Passw0rd" "$SP" && suspended &&
	test "$(outbox_count mail)" = 0 && test "$(outbox_count sms)" = 0
'

test_expect_success 'F3: a password step-up while suspended: 401 user.suspended, the same for a wrong password' '
	"$ADMIN" stats >stats.before &&
	password "$stok" && suspended &&
	cp "$TRASH/body" right.json &&
	jq -cn "{password: \"wrong password\"}" >wrong.json &&
	http POST /api/verifications/password wrong.json -H "Authorization: Bearer $stok" &&
	suspended &&
	cmp right.json "$TRASH/body" &&
	"$ADMIN" stats >stats.after &&
	test "$(json_get stats.before .windows)" = "$(json_get stats.after .windows)" &&
	test "$(json_get stats.before .liveRecords)" = "$(json_get stats.after .liveRecords)"
'

test_expect_success 'F3: every other route answers the suspended user 401 user.suspended' '
	http GET /api/my-account -H "Authorization: Bearer $stok" && suspended &&
	jq -cn "{name: \"Sam\"}" >name.json &&
	http PATCH /api/my-account name.json -H "Authorization: Bearer $stok" && suspended &&
	rename "$stok" sam_2 "$SP" && suspended &&
	http GET /api/verifications -H "Authorization: Bearer $stok" && suspended &&
	http DELETE /api/verifications/0123456789abcdef0123456789abcdef \
		-H "Authorization: Bearer $stok" && suspended &&
	set_primary "$stok" email sam.new@example.com "$SP" "$SE" && suspended &&
	set_primary "$stok" phone 64219990001 "$SP" "$SC" && suspended &&
	http DELETE /api/my-account/primary-email -H "Authorization: Bearer $stok" \
		-H "logto-verification-id: $SP" && suspended &&
	http DELETE /api/my-account/primary-phone -H "Authorization: Bearer $stok" \
		-H "logto-verification-id: $SE" && suspended &&
	"$ADMIN" user show "$sam" >sam.json &&
	test "$(json_get sam.json .username)" = sam &&
	test "$(json_get sam.json .primaryEmail)" = sam@example.com &&
	test "$(json_get sam.json .primaryPhone)" = 64219990000
'

test_expect_success 'F3: the records made before the suspension are gone: introspection {"active":false}' '
	introspect "$SP" "$sam" && check_inactive &&
	introspect "$SE" "$sam" && check_inactive &&
	test "$(stepup "$sam" "$SP")" = denied &&
	test "$(stepup "$sam" "$SE")" = denied
'

test_expect_success 'F3: after user unsuspend sam steps up and changes his password (204); the old records stay gone' '
	"$ADMIN" -q user unsuspend "$sam" &&
	http GET /api/verifications -H "Authorization: Bearer $stok" &&
	check_status 200 && check_body "{\"records\":[]}" &&
	introspect "$SP" "$sam" && check_inactive &&
	rename "$stok" sam_3 "$SP" &&
	check_error 401 verification_record.permission_denied &&
	password "$stok" && keep SQ &&
	new_password "$stok" "Sam-N3w-Passw0rd-x" "$SQ" &&
	check_status 204
'

# ---- F6: action-bound records, honest introspection -----------------------

test_expect_success 'F6: a step-up for action payout: introspection for payout is active and names it' '
	password "$tok" payout && keep PAY &&
	introspect "$PAY" "$alice" "{\"action\":\"payout\"}" &&
	check_status 200 &&
	check_body "$(active_password "$PAY" "$alice" "{\"action\":\"payout\"}")"
'

test_expect_success 'F6: the payout record cannot change the password, the username, the e-mail or the phone: 401' '
	new_password "$tok" "Pwn3d-by-payout-3" "$PAY" &&
	check_error 401 verification_record.permission_denied &&
	rename "$tok" payout_name "$PAY" &&
	check_error 401 verification_record.permission_denied &&
	set_primary "$tok" email payout@example.org "$PAY" zzzzzzzzzzzzzzzzzzzzz &&
	check_error 401 verification_record.permission_denied &&
	http DELETE /api/my-account/primary-phone -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $PAY" &&
	check_error 401 verification_record.permission_denied &&
	test "$(account "$tok" .username)" = alice_4 &&
	test "$(account "$tok" .primaryPhone)" = 64211234567 &&
	test "$(stepup "$alice" "$PAY")" = denied
'

test_expect_success 'F6: the payout record is {"active":false} for another action and for none' '
	introspect "$PAY" "$alice" "{\"action\":\"transfer\"}" && check_inactive &&
	introspect "$PAY" "$alice" && check_inactive &&
	introspect "$PAY" "$alice" "{\"action\":\"payout\"}" &&
	test "$(json_get "$TRASH/body" .active)" = true
'

test_expect_success 'F6: a record without action: inactive for payout, active without "action" for none, and changes the username' '
	password "$tok" && keep PLAIN &&
	introspect "$PLAIN" "$alice" "{\"action\":\"payout\"}" && check_inactive &&
	introspect "$PLAIN" "$alice" &&
	check_status 200 && check_body "$(active_password "$PLAIN" "$alice")" &&
	rename "$tok" alice_5 "$PLAIN" &&
	check_status 200
'

test_expect_success 'F6: an e-mail code for action payout keeps it through verify: payout only' '
	send "$tok" email alice.new@example.org payout && keep CPAY &&
	c=$(code mail) &&
	verify_code "$tok" email alice.new@example.org "$CPAY" "$c" &&
	check_status 200 &&
	introspect "$CPAY" "$alice" "{\"action\":\"payout\"}" &&
	check_status 200 &&
	test "$(jq -c "del(.verifiedAt)" "$TRASH/body")" = \
		"$(jq -cn --arg e "$(cat "$TRASH/exp.$CPAY")" --arg u "$alice" \
			"{active: true, type: \"EmailVerificationCode\", expiresAt: \$e, userId: \$u, action: \"payout\"}")" &&
	introspect "$CPAY" "$alice" && check_inactive &&
	rename "$tok" code_payout "$CPAY" &&
	check_error 401 verification_record.permission_denied
'

test_expect_success 'F6: consume in window mode: active with "consumed":true once, then {"active":false}' '
	password "$tok" payout && keep PAY2 &&
	introspect "$PAY2" "$alice" "{\"action\":\"payout\",\"consume\":true}" &&
	check_status 200 &&
	check_body "$(active_password "$PAY2" "$alice" "{\"action\":\"payout\",\"consumed\":true}")" &&
	introspect "$PAY2" "$alice" "{\"action\":\"payout\",\"consume\":true}" && check_inactive &&
	introspect "$PAY2" "$alice" "{\"action\":\"payout\"}" && check_inactive
'

test_expect_success 'F6: consume of a record without action in window mode: consumed, then no step-up proof' '
	password "$tok" && keep PL2 &&
	introspect "$PL2" "$alice" "{\"consume\":true}" &&
	check_status 200 &&
	check_body "$(active_password "$PL2" "$alice" "{\"consumed\":true}")" &&
	test "$(stepup "$alice" "$PL2")" = denied &&
	rename "$tok" consumed_name "$PL2" &&
	check_error 401 verification_record.permission_denied
'

test_expect_success 'F6: an action outside [a-z0-9._:-]{1,64}: 400 guard.invalid_input naming action' '
	(
		for a in "\"Pay Out\"" "\"\"" 7 "\"pay/out\"" "\"$(printf "%065d" 0)\"" "[\"payout\"]"; do
			jq -cn --arg p "$PW" --argjson a "$a" "{password: \$p, action: \$a}" >act.json &&
			http POST /api/verifications/password act.json -H "Authorization: Bearer $tok" &&
			check_error 400 guard.invalid_input &&
			test "$(json_get "$TRASH/body" ".data.issues[0].path | join(\".\")")" = action ||
			exit 1
		done
	)
'

# ---- F7: another user's new-identifier record ------------------------------

test_expect_success 'F7: mallory cannot take the address alice verified with her record: 400 not_found' '
	send "$tok" email prize@example.org && keep AB &&
	c=$(code mail) &&
	verify_code "$tok" email prize@example.org "$AB" "$c" &&
	check_status 200 &&
	password "$mtok" && keep MP &&
	set_primary "$mtok" email prize@example.org "$MP" "$AB" &&
	check_error 400 verification_record.not_found &&
	test "$(account "$mtok" .primaryEmail)" = mallory@example.net
'

test_expect_success 'F7: alice then sets it (204); her record is consumed: the same request again 400 not_found' '
	password "$tok" && keep AP &&
	set_primary "$tok" email prize@example.org "$AP" "$AB" &&
	check_status 204 &&
	test "$(account "$tok" .primaryEmail)" = prize@example.org &&
	set_primary "$tok" email prize@example.org "$AP" "$AB" &&
	check_error 400 verification_record.not_found
'

# ---- F8: a password change revokes every other record, beyond 64 ---------

test_expect_success 'F8 setup: 80 password step-ups of alice, all live, and 5 older records' '
	many_stepups 80 "$tok" many &&
	test "$(introspect_many many/ids "$alice" before)" = 80 &&
	printf "%s\n" "$AP" "$E" "$PLAIN" "$OP" "$PS" >older &&
	test "$(introspect_many older "$alice" older.before)" = 5
'

test_expect_success 'F8: a password change with the last one revokes the other 79, and the 5 older ones' '
	last=$(tail -n 1 many/ids) &&
	new_password "$tok" "N3w-Passw0rd-4-alice" "$last" &&
	check_status 204 &&
	head -n 79 many/ids >many/others &&
	test "$(introspect_many many/others "$alice" after || :)" = 0 &&
	test "$(introspect_many older "$alice" older.after || :)" = 0
'

test_expect_success 'F8: the record used for the change stays (window mode); the new password steps up (201)' '
	test "$(stepup "$alice" "$last")" = verified &&
	password "$tok" "" "N3w-Passw0rd-4-alice" && keep NP &&
	rename "$tok" alice_6 "$NP" &&
	check_status 200
'

# ---- the cap on live records per user --------------------------------------

test_expect_success 'cap: restart with <verification max-live-records="3">' '
	stop_lighttpd &&
	setup_instance "$DELIVERY" "$CLIENTS" "$CHEAP" "<verification max-live-records=\"3\"/>" &&
	start_lighttpd verification-password verification-records verification-introspect my-account
'

test_expect_success 'cap: dora makes 4 step-ups: the first no longer proves, the other three do' '
	password "$dtok" && keep Q1 &&
	password "$dtok" && keep Q2 &&
	password "$dtok" && keep Q3 &&
	password "$dtok" && keep Q4 &&
	test "$(stepup "$dora" "$Q1")" = denied &&
	introspect "$Q1" "$dora" && check_inactive &&
	test "$(stepup "$dora" "$Q2")" = verified &&
	test "$(stepup "$dora" "$Q3")" = verified &&
	test "$(stepup "$dora" "$Q4")" = verified &&
	http GET /api/verifications -H "Authorization: Bearer $dtok" &&
	test "$(json_get "$TRASH/body" ".records | length")" = 3
'

test_expect_success 'cap: dora changes her username with the oldest record that is left: 200' '
	rename "$dtok" dora_2 "$Q2" &&
	check_status 200
'

test_expect_success 'cap: max-live-records 0 and 1001 are refused at start with file:line; 1 and 1000 are taken' '
	(
		for v in 0 1001 1 1000; do
			printf "<?xml version=\"1.0\"?>\n<reverify>\n<verification max-live-records=\"%s\"/>\n</reverify>\n" \
				"$v" >range.xml &&
			rc=0 && "$top_builddir/cgi-bin/status" -t -c range.xml >out 2>err || rc=$? &&
			case $v in
			0 | 1001)
				test "$rc" = 1 &&
				grep -F "range.xml:3: " err | grep -F "max-live-records" |
					grep -F "out of range (1 to 1000)" ;;
			*)
				test "$rc" = 0 ;;
			esac || { echo "max-live-records=$v: status $rc"; cat err; exit 1; }
		done
	)
'

# ---- F1: no record id in any log -------------------------------------------

# the servers stop here, so that every log is complete
test_expect_success 'F1: no record id is in reverify'\''s log, lighttpd'\''s logs or the audit trail' '
	stop_lighttpd &&
	for f in reverify.log lighttpd-error.log backend-stderr.log lighttpd.out; do
		test -f "$TRASH/$f" || : >"$TRASH/$f"
	done &&
	"$ADMIN" audit show >audit.jsonl &&
	sort -u "$TRASH/ids" >ids.sorted &&
	test "$(wc -l <ids.sorted)" -ge 90 &&
	grep -c "audit: " "$TRASH/reverify.log" &&
	! grep -F -f ids.sorted "$TRASH/reverify.log" "$TRASH/lighttpd-error.log" \
		"$TRASH/backend-stderr.log" "$TRASH/lighttpd.out" audit.jsonl
'

test_expect_success 'F1: the audit trail names the revoked record by its handle, and verifies' '
	jq -c "select(.event == \"record.revoked\")" audit.jsonl >revoked &&
	grep -F "\"$H\"" revoked &&
	"$ADMIN" audit verify
'

test_done
