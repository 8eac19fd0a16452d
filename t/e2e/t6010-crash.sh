#!/bin/sh
# t6010-crash: password changes and record creations through lighttpd while the FastCGI backends are killed with SIGKILL at random moments: every answered change and record is in the store, the audit chain verifies, the server serves again (issue 9; DESIGN.md "Store": DB_REGISTER|DB_RECOVER)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

# CHANGERS users change their password back and forth, CREATORS users make
# step-up records; each at most ITER iterations, until the killer is done
# after KILLS kills (a random pause of 0.2-1.2 s before each)
CHANGERS=4
CREATORS=2
ITER=${CRASH_ITER:-400}
KILLS=${CRASH_KILLS:-20}
PW1='crash Password 111'
PW2='crash Password 222'
HASH='<password scheme="argon2id" argon2-memory="1024" argon2-time="1" argon2-parallelism="1"/>'

# each creator keeps up to ITER live records: above the default cap of 20
setup_instance "$HASH" '<verification max-live-records="1000"/>' ||
	bail_out "cannot set up the instance"

# kill_stuck_backends: SIGKILL the backends that outlived their lighttpd
# by 2 s. After a crash, a backend can block for good in a lock of the old
# (recovered and removed) environment region, and then it ignores
# SIGTERM: lighttpd's stop leaves it running, with the store open. Each
# one is shown as a diagnostic. Also a cleanup, after stop_lighttpd.
kill_stuck_backends () {
	ks_n_=0
	while test -n "$(test_procs)" && test "$ks_n_" -lt 20; do
		sleep 0.1
		ks_n_=$((ks_n_ + 1))
	done
	ks_list_=$(test_kill_procs)
	test -z "$ks_list_" && return 0
	printf '%s\n' "$ks_list_" | while read -r ks_line_; do
		diag "killed a backend that outlived lighttpd: $ks_line_"
	done
}
test_cleanup_add kill_stuck_backends
LIGHTTPD_MAX_PROCS=2 start_lighttpd status verification-password \
	verification-records my-account-password || bail_out "lighttpd did not start"

# post PATH BODY OUT TOKEN [HEADER]: one bounded request; prints the status
# (000 when nothing answered)
post () {
	"$CURL" -q -s --max-time 20 -o "$3" -w '%{http_code}' -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "@$2" \
		-H "Authorization: Bearer $4" ${5:+-H "$5"} "$BASE$1"
}

# pwbody FILE PASSWORD: the body {"password": PASSWORD}
pwbody () {
	jq -cn --arg p "$2" '{password: $p}' >"$1"
}

# changer I TOKEN: user I's loop: a step-up with the password it believes
# current (and with the other one when a change in flight left it unsure),
# then a change to the other password. Logs to changer-I.log one line per
# change: "N STATUS NEWPASSWORD-INDEX".
changer () {
	c_dir_=$TRASH/changer-$1
	mkdir -p "$c_dir_" || return 1
	pwbody "$c_dir_/p1.json" "$PW1" && pwbody "$c_dir_/p2.json" "$PW2" || return 1
	c_cur_=1 c_unsure_=0 c_n_=0
	: >"$c_dir_.log"
	while test "$c_n_" -lt "$ITER" && ! test -f "$TRASH/stop"; do
		c_n_=$((c_n_ + 1))
		c_st_=$(post /api/verifications/password "$c_dir_/p$c_cur_.json" "$c_dir_/su" "$2")
		if test "$c_st_" = 422 && test "$c_unsure_" = 1; then
			c_cur_=$((3 - c_cur_))
			c_st_=$(post /api/verifications/password "$c_dir_/p$c_cur_.json" "$c_dir_/su" "$2")
		fi
		echo "$c_n_ stepup $c_st_" >>"$c_dir_.log"
		test "$c_st_" = 201 || continue
		c_unsure_=0
		c_rec_=$(jq -r .verificationRecordId "$c_dir_/su") || continue
		c_new_=$((3 - c_cur_))
		c_st_=$(post /api/my-account/password "$c_dir_/p$c_new_.json" "$c_dir_/ch" "$2" \
			"logto-verification-id: $c_rec_")
		echo "$c_n_ change $c_st_ $c_new_" >>"$c_dir_.log"
		case $c_st_ in
		2??) c_cur_=$c_new_ ;;
		4??) ;;	# refused: nothing changed
		*) c_unsure_=1 ;;
		esac
	done
	return 0
}

# creator I TOKEN: user I's loop of step-ups; the ids of the 201s go to
# creator-I.ids, one line per request to creator-I.log
creator () {
	k_dir_=$TRASH/creator-$1
	mkdir -p "$k_dir_" && pwbody "$k_dir_/p.json" "$PW1" || return 1
	k_n_=0
	: >"$k_dir_.ids"
	: >"$k_dir_.log"
	while test "$k_n_" -lt "$ITER" && ! test -f "$TRASH/stop"; do
		k_n_=$((k_n_ + 1))
		k_st_=$(post /api/verifications/password "$k_dir_/p.json" "$k_dir_/su" "$2")
		echo "$k_n_ stepup $k_st_" >>"$k_dir_.log"
		if test "$k_st_" = 201; then
			jq -r .verificationRecordId "$k_dir_/su" >>"$k_dir_.ids"
		fi
	done
	return 0
}

# killer: KILLS times, after a pause of 0.1-1 s, SIGKILL a random backend
# (a child of lighttpd that runs a program of cgi-bin/), chosen and killed
# at once; logs each kill to kills.log; then creates $TRASH/stop. Few
# forks, so that it keeps its pace on a loaded machine.
killer () {
	k_i_=0
	k_seed_=$$
	: >"$TRASH/kills.log"
	# at most 2 x KILLS tries: a try finds no backend while lighttpd has
	# not started the killed ones again
	while test "$k_i_" -lt "$((2 * KILLS))" &&
		test "$(wc -l <"$TRASH/kills.log")" -lt "$KILLS"; do
		k_i_=$((k_i_ + 1))
		k_seed_=$(((k_seed_ * 1103515245 + 12345) % 2147483648))
		sleep "0.$((100 + k_seed_ / 65536 % 900))"
		# shellcheck disable=SC2046 # "PID NAME" or nothing
		set -- $(ps -o pid=,args= --ppid "$LIGHTTPD_PID" |
			awk -v d="$top_builddir/cgi-bin/" -v r="$k_seed_" '
				index($2, d) == 1 { p[n] = $1; x[n++] = substr($2, length(d) + 1) }
				END { if (n) { i = r % n; print p[i], x[i] } }')
		test "$#" = 2 || continue
		kill -KILL "$1" 2>/dev/null && echo "$1 $2" >>"$TRASH/kills.log"
	done
	: >"$TRASH/stop"
}

i=1
: >"$TRASH/users"
while test "$i" -le "$((CHANGERS + CREATORS))"; do
	u=$(printf '%s\n' "$PW1" | add_user --username "crash$i" --password-stdin) ||
		bail_out "no user $i"
	echo "$u $(mint "$u")" >>"$TRASH/users"
	i=$((i + 1))
done

test_expect_success 'the server serves before the load' '
	http GET /api/status && check_status 204
'

test_expect_success "load with $KILLS SIGKILLs of random backends" '
	rm -f "$TRASH/stop" &&
	pids= &&
	i=1 &&
	while read -r u t; do
		if test "$i" -le "$CHANGERS"; then
			changer "$i" "$t" &
		else
			creator "$i" "$t" &
		fi
		pids="$pids $!"
		i=$((i + 1))
	done <"$TRASH/users" &&
	killer &&
	wait $pids &&
	echo "kills: $(wc -l <"$TRASH/kills.log")" &&
	cat "$TRASH/kills.log" &&
	cat "$TRASH"/changer-*.log "$TRASH"/creator-*.log | awk "{ print \$2, \$3 }" |
		sort | uniq -c &&
	test "$(wc -l <"$TRASH/kills.log")" -ge "$((KILLS / 2))"
'
diag "kills: $(wc -l <"$TRASH/kills.log" 2>/dev/null); requests: $(cat "$TRASH"/changer-*.log "$TRASH"/creator-*.log 2>/dev/null | wc -l)"

test_expect_success 'the server serves again: status 204' '
	http GET /api/status && check_status 204
'

test_expect_success 'every record created with a 201 is listed for its user' '
	i=1 &&
	while read -r u t; do
		if test "$i" -gt "$CHANGERS"; then
			http GET /api/verifications -H "Authorization: Bearer $t" &&
			check_status 200 &&
			json_get "$TRASH/body" ".records[].handle" | sort >"listed-$i" &&
			while read -r id; do
				"$ADMIN" record handle "$id" || break
			done <"$TRASH/creator-$i.ids" | sort >"created-$i" &&
			echo "user $i: $(wc -l <"created-$i") created, $(wc -l <"listed-$i") listed" &&
			comm -23 "created-$i" "listed-$i" >"missing-$i" &&
			test ! -s "missing-$i" || { cat "missing-$i"; false; } || break
		fi
		i=$((i + 1))
	done <"$TRASH/users" &&
	test "$i" = "$((CHANGERS + CREATORS + 1))"
'

# The last change of a user that was answered decides its password; when a
# later one was not answered (its backend was killed), either may hold.
test_expect_success 'every answered change is in the audit; every user has the password of its last one' '
	i=1 &&
	pwbody p1.json "$PW1" && pwbody p2.json "$PW2" &&
	"$ADMIN" audit show >audit.jsonl &&
	while read -r u t; do
		test "$i" -le "$CHANGERS" || break
		last=$(awk "\$2 == \"change\" && \$3 ~ /^2/ { v = \$4 } END { print v + 0 }" \
			"$TRASH/changer-$i.log") &&
		test "$last" != 0 || last=1 &&
		unsure=$(awk -v l="$last" "\$2 == \"change\" { if (\$3 ~ /^2/) u = 0; else if (\$3 !~ /^4/) u = 1 } END { print u + 0 }" \
			"$TRASH/changer-$i.log") &&
		other=$((3 - last)) &&
		s_last=$(post /api/verifications/password p$last.json su.json "$t") &&
		s_other=$(post /api/verifications/password p$other.json su.json "$t") &&
		echo "user $i: last answered password $last (unsure: $unsure): $s_last, other: $s_other" &&
		ok=$(awk "\$2 == \"change\" && \$3 ~ /^2/ { n++ } END { print n + 0 }" "$TRASH/changer-$i.log") &&
		lost=$(awk "\$2 == \"change\" && \$3 !~ /^[24]/ { n++ } END { print n + 0 }" "$TRASH/changer-$i.log") &&
		audited=$(jq -c --arg u "$u" "select(.event == \"user.password_changed\" and .user == \$u)" audit.jsonl | wc -l) &&
		echo "user $i: $ok changes answered 2xx, $lost unanswered, $audited in the audit" &&
		test "$audited" -ge "$ok" && test "$audited" -le "$((ok + lost))" &&
		if test "$unsure" = 0; then
			test "$s_last" = 201 && test "$s_other" = 422
		else
			test "$s_last$s_other" = 201422 || test "$s_last$s_other" = 422201
		fi || break
		i=$((i + 1))
	done <"$TRASH/users" &&
	test "$i" = "$((CHANGERS + 1))"
'

test_expect_success 'the server serves again: a step-up 201, a change 204, the new password 201' '
	t5=$(sed -n "$((CHANGERS + 1))p" "$TRASH/users" | cut -d" " -f2) &&
	pwbody p1.json "$PW1" && pwbody p2.json "$PW2" &&
	test "$(post /api/verifications/password p1.json su.json "$t5")" = 201 &&
	rec=$(jq -r .verificationRecordId su.json) &&
	test "$(post /api/my-account/password p2.json ch.json "$t5" "logto-verification-id: $rec")" = 204 &&
	test "$(post /api/verifications/password p2.json su.json "$t5")" = 201
'

if test_store_pgsql; then
	# PostgreSQL recovers by itself: a killed backend's transaction is
	# rolled back by the server
	test_expect_success 'reverify-admin audit verify and stats, also with the server stopped' '
		"$ADMIN" audit verify &&
		"$ADMIN" stats >stats.json && cat stats.json &&
		stop_lighttpd &&
		kill_stuck_backends &&
		"$ADMIN" audit verify &&
		"$ADMIN" stats
	'
	test_skip_bdb 'reverify-admin recover with the server stopped' \
		'reverify-admin recover runs Berkeley DB recovery'

	test_expect_success 'after a restart, the server serves again' '
		LIGHTTPD_MAX_PROCS=2 start_lighttpd status verification-password &&
		http GET /api/status && check_status 204 &&
		test "$(post /api/verifications/password p2.json su.json "$t5")" = 201
	'
else
	test_expect_success 'reverify-admin audit verify, stats, and (with the server stopped) recover' '
		"$ADMIN" audit verify &&
		"$ADMIN" stats >stats.json && cat stats.json &&
		stop_lighttpd &&
		kill_stuck_backends &&
		"$ADMIN" recover &&
		"$ADMIN" audit verify &&
		"$ADMIN" stats
	'

	test_expect_success 'after recover, the server starts and serves again' '
		LIGHTTPD_MAX_PROCS=2 start_lighttpd status verification-password &&
		http GET /api/status && check_status 204 &&
		test "$(post /api/verifications/password p2.json su.json "$t5")" = 201
	'
fi

test_done
