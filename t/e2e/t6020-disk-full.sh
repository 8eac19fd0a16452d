#!/bin/sh
# t6020-disk-full: the store home on a small tmpfs that fills up: writes answer 503 service.unavailable in JSON with Retry-After, reads go on, and once space is freed everything works again with nothing corrupt (issue 9)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

# On PostgreSQL the data are in the cluster's directory, not under the
# store home (a full disk there is the cluster's own test)
require_bdb "it fills the store home, where only Berkeley DB keeps its data"
# Needs root to mount a tmpfs; this skip is not about a missing server, so
# it holds under REVERIFY_TEST_REQUIRE_SERVERS=1 too.
test "$(id -u)" = 0 || skip_all "not root: cannot mount a tmpfs for the store"
command -v mount >/dev/null 2>&1 || skip_all "no mount command"
mkdir -p "$TRASH/store" || bail_out "no store directory"
mount -t tmpfs -o size=16m,mode=0700 reverify-test "$TRASH/store" 2>mount.err ||
	skip_all "cannot mount a tmpfs: $(head -n 1 mount.err)"
# unmount_store: unmount the tmpfs, waiting up to 10 s for the backends
# that lighttpd stopped to let go of it, then lazily
unmount_store () {
	us_n_=0
	while test "$us_n_" -lt 100; do
		umount "$TRASH/store" 2>/dev/null && return 0
		sleep 0.1
		us_n_=$((us_n_ + 1))
	done
	umount -l "$TRASH/store"
}
test_cleanup_add unmount_store

PW='full Password 123'
outbox_setup || bail_out "no outbox"
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>" \
	'<password scheme="argon2id" argon2-memory="1024" argon2-time="1" argon2-parallelism="1"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--password-stdin) || bail_out "no user"
start_lighttpd status verification-password verification-code my-account ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")
jq -cn --arg p "$PW" '{password: $p}' >"$TRASH/pw.json"

# step_up: POST /api/verifications/password with the right password
step_up () {
	http POST /api/verifications/password "$TRASH/pw.json" \
		-H "Authorization: Bearer $tok"
}

# check_503: the last answer was 503 service.unavailable, JSON, Retry-After
check_503 () {
	check_status 503 && check_code service.unavailable &&
	grep -ix "Content-Type: application/json; charset=utf-8" "$TRASH/headers" &&
	grep -iE "^Retry-After: [0-9]+$" "$TRASH/headers"
}

test_expect_success 'before: a step-up 201, a code 201' '
	step_up && check_status 201 &&
	send_code "$tok" email alice@example.com && check_status 201 &&
	test "$(outbox_count mail)" = 1
'

test_expect_success 'fill the store home until writes fail' '
	! dd if=/dev/zero of="$TRASH/store/filler" bs=64k 2>dd.err &&
	grep -i "no space" dd.err &&
	{ ! dd if=/dev/zero of="$TRASH/store/filler2" bs=1k 2>>dd.err || :; } &&
	df -k "$TRASH/store" &&
	test "$(df -k --output=avail "$TRASH/store" | tail -n 1 | tr -d " ")" -lt 64
'

# The databases and the log may keep some room of their own, so a few
# writes can still succeed once the file system is full: how many depends
# on everything written before (t7100's limits added one window to the
# send before, and the step-up below then went through). Step up until
# the first 503, at most 64 times; $TRASH/burned counts the 201s.
test_expect_success 'step-ups until the store has no room left (the first 503)' '
	i=0 &&
	while test "$i" -lt 64; do
		step_up || break
		test "$(cat "$TRASH/status")" = 201 || break
		i=$((i + 1))
	done &&
	echo "$i" >"$TRASH/burned" &&
	echo "201s before the first 503: $i" &&
	check_503
'

test_expect_success 'a step-up on a full disk: 503 service.unavailable, JSON, Retry-After' '
	i=0 &&
	while test "$i" -lt 5; do
		step_up && check_503 || break
		i=$((i + 1))
	done &&
	test "$i" = 5
'

test_expect_success 'a code send on a full disk: 503 JSON, no message' '
	outbox_clear &&
	send_code "$tok" email alice@example.com &&
	check_503 &&
	test "$(outbox_count mail)" = 0
'

test_expect_success 'reads go on: status 204, my-account 200' '
	http GET /api/status && check_status 204 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 && test "$(json_get "$TRASH/body" .username)" = alice
'

test_expect_success 'no backend died: lighttpd logged no child that exited or was signalled' '
	cat "$TRASH/lighttpd-error.log" &&
	! grep -iE "child (exited|signalled)|died" "$TRASH/lighttpd-error.log"
'

test_expect_success 'space freed: a step-up 201 and a code 201 again' '
	rm -f "$TRASH/store/filler" &&
	step_up && check_status 201 &&
	rec=$(record_id) &&
	outbox_clear &&
	send_code "$tok" email alice@example.com && check_status 201 &&
	test "$(outbox_count mail)" = 1 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" && check_status 200
'

# live: the step-ups before and after (2), the code after, which replaced
# the one before (1), and those that still fitted ($TRASH/burned); nothing
# of the refused writes
test_expect_success 'nothing is corrupt or half-written: audit verify, 3 live records; after a restart the record is there' '
	"$ADMIN" audit verify &&
	"$ADMIN" stats >stats.json && cat stats.json &&
	burned=$(cat "$TRASH/burned") &&
	test "$(json_get stats.json .liveRecords)" = "$((3 + burned))" &&
	"$ADMIN" audit show >audit.jsonl &&
	test "$(grep -c "\"event\":\"verify.password.ok\"" audit.jsonl)" = "$((2 + burned))" &&
	test "$(grep -c "\"event\":\"code.sent\"" audit.jsonl)" = 2 &&
	stop_lighttpd &&
	"$ADMIN" recover &&
	"$ADMIN" audit verify &&
	start_lighttpd status verification-password verification-records &&
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	json_get "$TRASH/body" ".records[].handle" | grep -x "$("$ADMIN" record handle "$rec")"
'

test_done
