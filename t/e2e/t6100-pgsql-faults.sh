#!/bin/sh
# t6100-pgsql-faults: the PostgreSQL store under faults, on a cluster of its own behind lighttpd with 2 FastCGI processes per program: SIGKILLed workers lose no answered change, a PostgreSQL restart is 503 + Retry-After and heals without a worker restart, injected serialization failures are retried invisibly (503 beyond 8 tries), a connection lost during COMMIT is 503 and never retried, a lock held from outside is retried 8 times, then 503 (issue 16; doc/design-notes.md "One store contract, two backends")
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"
. "$top_srcdir/t/lib/pgsql.sh"

# It stops and starts its cluster, which would disturb every other script
# on a shared one: under REVERIFY_TEST_STORE=pgsql (make check-pgsql) it
# has nothing more to show than in the default stage.
if test_store_pgsql; then
	skip_all "REVERIFY_TEST_STORE=pgsql: this script runs a PostgreSQL cluster of its own (it restarts it), the default stage of make check ran it already"
fi
require_pgsql
require_server lighttpd "${LIGHTTPD-}"
require_server curl "${CURL-}"

# the load of a. and b.: CREATORS users make step-up records, NAMERS
# users change their name, each at most ITER requests, until the killer
# (a.) or the restart (b.) is done; a. kills every worker KILLS times
CREATORS=2
NAMERS=2
ITER=${FAULT_ITER:-1000}
KILLS=${FAULT_KILLS:-6}
# every request of the load is bounded: "never a hang"
MAXTIME=20
PW='fault Password 123'
DB=rvfaults
HASH='<password scheme="argon2id" argon2-memory="1024" argon2-time="1" argon2-parallelism="1"/>'
PROGRAMS="status verification-password verification-records my-account"

pgsql_own_cluster || bail_out "the PostgreSQL cluster did not start"
# each creator keeps every record it made: above the default cap of 20
INSTANCE_STORE=$(pgsql_store_line "$TRASH/store" "$DB") ||
	bail_out "no database $DB"
setup_instance "$HASH" '<verification max-live-records="1000"/>' ||
	bail_out "cannot set up the instance"
# shellcheck disable=SC2086 # a list of programs
LIGHTTPD_MAX_PROCS=2 start_lighttpd $PROGRAMS || bail_out "lighttpd did not start"

# one user for the single requests, then the creators and the namers:
# $TRASH/users, line I "ID TOKEN" of user faultI (user 1 is the single one)
: >"$TRASH/users"
i=1
while test "$i" -le "$((1 + CREATORS + NAMERS))"; do
	u=$(printf '%s\n' "$PW" | add_user --username "fault$i" --password-stdin) ||
		bail_out "no user $i"
	echo "$u $(mint "$u")" >>"$TRASH/users"
	i=$((i + 1))
done
read -r uid tok <"$TRASH/users"

# user I: sets $u and $t to user faultI's id and token
user () {
	u=$(sed -n "$1p" "$TRASH/users" | cut -d" " -f1) &&
	t=$(sed -n "$1p" "$TRASH/users" | cut -d" " -f2) &&
	test -n "$t"
}

# backends: "PID PROGRAM" of each FastCGI worker of lighttpd, sorted
backends () {
	ps -o pid=,args= --ppid "$LIGHTTPD_PID" |
		awk -v d="$top_builddir/cgi-bin/" 'index($2, d) == 1 {
			print $1, substr($2, length(d) + 1) }' | sort -n
}

# req OUT METHOD PATH BODY TOKEN: one request with the JSON body BODY,
# bounded by MAXTIME; the body of the answer goes to OUT, its headers to
# OUT.h; prints "STATUS SECONDS" (000 when nothing answered in time)
req () {
	"$CURL" -q -s --max-time "$MAXTIME" -o "$1" -D "$1.h" \
		-w '%{http_code} %{time_total}' -X "$2" -H 'Expect:' \
		-H 'Content-Type: application/json' --data-binary "@$4" \
		-H "Authorization: Bearer $5" "$BASE$3"
}

# judge LOG OUT STATUS SECONDS [WHAT]: append one line to LOG for an
# answer in OUT (and OUT.h): "STATUS SECONDS CODE RETRY-AFTER [WHAT]"
# ("-" for no code, no Retry-After)
judge () {
	j_code_=$(jq -r '.code // "-"' "$2" 2>/dev/null) || j_code_=-
	test -n "$j_code_" || j_code_=-
	j_ra_=$(tr -d '\r' <"$2.h" | sed -n 's/^[Rr]etry-[Aa]fter: *//p' | head -n 1)
	echo "$3 $4 $j_code_ ${j_ra_:--}${5:+ $5}" >>"$1"
}

# creator I TOKEN TAG: step-ups in a loop until $TRASH/stop; each answer
# is a line of creator-I.TAG.log, the ids of the 201s go to creator-I.ids
creator () {
	k_dir_=$TRASH/creator-$1
	mkdir -p "$k_dir_" &&
	jq -cn --arg p "$PW" '{password: $p}' >"$k_dir_/p.json" || return 1
	k_n_=0
	while test "$k_n_" -lt "$ITER" && ! test -f "$TRASH/stop"; do
		k_n_=$((k_n_ + 1))
		# shellcheck disable=SC2046 # "STATUS SECONDS"
		set -- "$1" "$2" "$3" $(req "$k_dir_/su" POST /api/verifications/password \
			"$k_dir_/p.json" "$2")
		judge "$TRASH/creator-$1.$3.log" "$k_dir_/su" "$4" "$5"
		if test "$4" = 201; then
			jq -r .verificationRecordId "$k_dir_/su" >>"$TRASH/creator-$1.ids"
		fi
	done
	return 0
}

# namer I TOKEN TAG: name changes to "nI-TAG-N" (N = 1, 2, ...) in a loop
# until $TRASH/stop; each answer is a line of namer-I.TAG.log, ending in
# the name it asked for
namer () {
	n_dir_=$TRASH/namer-$1
	mkdir -p "$n_dir_" || return 1
	n_n_=0
	while test "$n_n_" -lt "$ITER" && ! test -f "$TRASH/stop"; do
		n_n_=$((n_n_ + 1))
		printf '{"name":"n%s-%s-%s"}\n' "$1" "$3" "$n_n_" >"$n_dir_/b.json"
		# shellcheck disable=SC2046 # "STATUS SECONDS"
		set -- "$1" "$2" "$3" $(req "$n_dir_/ch" PATCH /api/my-account "$n_dir_/b.json" "$2")
		judge "$TRASH/namer-$1.$3.log" "$n_dir_/ch" "$4" "$5" "n$1-$3-$n_n_"
	done
	return 0
}

# load TAG: start the creators and the namers in the background, their
# pids in $load_pids
load () {
	rm -f "$TRASH/stop"
	load_pids=
	ld_i_=2
	while test "$ld_i_" -le "$((1 + CREATORS + NAMERS))"; do
		user "$ld_i_" || return 1
		if test "$ld_i_" -le "$((1 + CREATORS))"; then
			: >"$TRASH/creator-$ld_i_.$1.log"
			creator "$ld_i_" "$t" "$1" &
		else
			: >"$TRASH/namer-$ld_i_.$1.log"
			namer "$ld_i_" "$t" "$1" &
		fi
		load_pids="$load_pids $!"
		ld_i_=$((ld_i_ + 1))
	done
}

# load_wait: stop the load and wait for it
load_wait () {
	: >"$TRASH/stop"
	# shellcheck disable=SC2086 # a list of pids
	wait $load_pids
}
test_cleanup_add load_wait

# mark_clients TAG: remember how many answers each client of the load
# TAG has had so far (for every_client)
mark_clients () {
	for mc_f_ in "$TRASH"/creator-*."$1".log "$TRASH"/namer-*."$1".log; do
		wc -l <"$mc_f_" >"$mc_f_.mark" || return 1
	done
}

# every_client TAG RE: each client of the load TAG has had an answer
# whose line matches the extended RE since mark_clients (or its start)
every_client () {
	for ec_f_ in "$TRASH"/creator-*."$1".log "$TRASH"/namer-*."$1".log; do
		ec_n_=0
		test -f "$ec_f_.mark" && ec_n_=$(cat "$ec_f_.mark")
		tail -n "+$((ec_n_ + 1))" "$ec_f_" | grep -q -E -- "$2" || return 1
	done
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds,
# for at most SECONDS
wait_for () {
	wf_n_=$(($1 * 5))
	shift
	until "$@"; do
		test "$wf_n_" -gt 0 || return 1
		wf_n_=$((wf_n_ - 1))
		sleep 0.2
	done
}

# answers TAG: the answers of the load TAG, counted by status, code and
# Retry-After
answers () {
	cat "$TRASH"/creator-*."$1".log "$TRASH"/namer-*."$1".log |
		awk '{ print $1, $3, $4 }' | sort | uniq -c
}

# killer: KILLS times, after a pause of 0.3-1 s, SIGKILL every FastCGI
# worker of lighttpd at once (lighttpd starts new ones); logs each round
# to kills.log; then creates $TRASH/stop
killer () {
	k_i_=0
	k_seed_=$$
	: >"$TRASH/kills.log"
	# a round finds no worker while lighttpd has not started new ones yet
	while test "$k_i_" -lt "$((2 * KILLS))" &&
		test "$(wc -l <"$TRASH/kills.log")" -lt "$KILLS"; do
		k_i_=$((k_i_ + 1))
		k_seed_=$(((k_seed_ * 1103515245 + 12345) % 2147483648))
		sleep "0.$((300 + k_seed_ / 65536 % 700))"
		k_pids_=$(backends | awk '{ print $1 }' | paste -sd" " -)
		test -n "$k_pids_" || continue
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL $k_pids_ 2>/dev/null && echo "$k_pids_" >>"$TRASH/kills.log"
	done
	: >"$TRASH/stop"
}

# records_of TOKEN: the handles of the records GET /api/verifications
# lists for TOKEN's user, sorted
records_of () {
	http GET /api/verifications -H "Authorization: Bearer $1" &&
	check_status 200 >&2 &&
	json_get "$TRASH/body" '.records[].handle' | sort
}

# audit_count USER EVENT: the number of audit entries EVENT of USER
audit_count () {
	"$ADMIN" audit show |
		jq -c --arg u "$1" --arg e "$2" 'select(.user == $u and .event == $e)' |
		wc -l | tr -d ' '
}

# in_log TEXT: the number of lines of the log that hold TEXT
in_log () {
	grep -c -F -- "$1" "$TRASH/reverify.log" || :
}

# retried: the number of "transaction retried" lines in the log
retried () {
	in_log 'store: transaction retried'
}

# unavailable [RETRY_AFTER]: the last answer is 503 service.unavailable
# with a Retry-After header (of the value RETRY_AFTER, when given)
unavailable () {
	check_status 503 && check_code service.unavailable &&
	ua_ra_=$(sed -n 's/^[Rr]etry-[Aa]fter: *//p' "$TRASH/headers") &&
	echo "Retry-After: $ua_ra_" &&
	case ${1-} in
	'') test -n "$ua_ra_" && test "$ua_ra_" -gt 0 ;;
	*) test "$ua_ra_" = "$1" ;;
	esac
}

test_expect_success 'the server serves: status 204, a step-up 201' '
	http GET /api/status && check_status 204 &&
	step_up "$tok" >/dev/null
'

# ---- a. SIGKILL of workers under write load ---------------------------------

test_expect_success "a. step-ups and name changes while every worker is SIGKILLed $KILLS times: none refused, each answered within $MAXTIME s" '
	backends >workers-before && cat workers-before &&
	test "$(wc -l <workers-before)" = 8 &&
	load a &&
	killer &&
	load_wait &&
	echo "kill rounds: $(wc -l <"$TRASH/kills.log")" &&
	answers a &&
	test "$(wc -l <"$TRASH/kills.log")" -ge "$((KILLS / 2))" &&
	{ ! grep -E "^(000|4..) " "$TRASH"/creator-*.a.log "$TRASH"/namer-*.a.log ||
		{ echo "refused, or no answer in $MAXTIME s: above"; false; }; } &&
	test "$(cat "$TRASH"/creator-*.a.log | awk "\$1 == 201" | wc -l)" -gt 0 &&
	test "$(cat "$TRASH"/namer-*.a.log | awk "\$1 == 200" | wc -l)" -gt 0
'

# serving: lighttpd runs 8 workers, none of those in workers-before, and
# each program answers (lighttpd answers a 503 of its own for a program
# until it has started the workers of a killed one again, a second or
# more later)
serving () {
	backends >workers-after &&
	test "$(wc -l <workers-after)" = 8 &&
	! grep -q -x -F -f workers-before workers-after &&
	http GET /api/status && check_status 204 >/dev/null &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 >/dev/null &&
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 >/dev/null &&
	step_up "$tok" >/dev/null 2>&1
}

test_expect_success 'a. the killed workers were replaced: new pids, each program answers (within 30 s)' '
	{ wait_for 30 serving ||
		{ echo "not serving after 30 s:"; cat workers-after; show_response_; false; }; } &&
	cat workers-after
'

test_expect_success 'a. every record created with a 201 is listed for its user' '
	i=2 &&
	while test "$i" -le "$((1 + CREATORS))"; do
		user "$i" &&
		records_of "$t" >"listed-$i" &&
		while read -r id; do
			"$ADMIN" record handle "$id" || break
		done <"$TRASH/creator-$i.ids" | sort >"created-$i" &&
		echo "user $i: $(wc -l <"created-$i") created with a 201, $(wc -l <"listed-$i") listed" &&
		test -s "created-$i" &&
		comm -23 "created-$i" "listed-$i" >"missing-$i" &&
		{ test ! -s "missing-$i" || { cat "missing-$i"; false; }; } || break
		i=$((i + 1))
	done &&
	test "$i" = "$((2 + CREATORS))"
'

# A change answered 2xx is in the audit (one entry in its transaction);
# one that got no answer may or may not be. The name is the last 2xx
# one's, or one asked for after it that got no 2xx.
test_expect_success 'a. every name change answered 200 is in the store: the audit counts them, the name is the last one' '
	i=$((2 + CREATORS)) &&
	while test "$i" -le "$((1 + CREATORS + NAMERS))"; do
		user "$i" &&
		log="$TRASH/namer-$i.a.log" &&
		ok=$(awk "\$1 == 200" "$log" | wc -l) &&
		lost=$(awk "\$1 != 200" "$log" | wc -l) &&
		audited=$(audit_count "$u" user.profile_changed) &&
		echo "user $i: $ok changes answered 200, $lost not, $audited in the audit" &&
		test "$ok" -gt 0 &&
		test "$audited" -ge "$ok" && test "$audited" -le "$((ok + lost))" &&
		awk "\$1 == 200 { n = NR } { name[NR] = \$NF }
			END { for (i = n; n > 0 && i <= NR; i++) print name[i] }" "$log" >"may-$i" &&
		http GET /api/my-account -H "Authorization: Bearer $t" &&
		check_status 200 &&
		name=$(json_get "$TRASH/body" .name) &&
		echo "user $i: name $name; may be: $(paste -sd" " "may-$i")" &&
		grep -qx -- "$name" "may-$i" || break
		i=$((i + 1))
	done &&
	test "$i" = "$((2 + CREATORS + NAMERS))"
'

test_expect_success 'a. reverify-admin audit verify passes' '
	"$ADMIN" audit verify
'

# ---- b. a PostgreSQL restart under load -------------------------------------

test_expect_success 'b. PostgreSQL stopped under load (-m fast, data kept): 503 service.unavailable with Retry-After' '
	backends >workers-before && cat workers-before &&
	load b &&
	sleep 1 &&
	pgsql_stop &&
	! sh "$PGCLUSTER" status "$PGDIR" &&
	http GET /api/status && unavailable &&
	password "$tok" && unavailable &&
	echo "{\"name\":\"down\"}" >down.json &&
	http PATCH /api/my-account down.json -H "Authorization: Bearer $tok" &&
	unavailable &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	unavailable &&
	wait_for 30 every_client b "^503 " &&
	echo "every client of the load had a 503"
'

test_expect_success 'b. PostgreSQL started again: the first requests are served, by the same workers' '
	mark_clients b &&
	pgsql_start &&
	http GET /api/status && check_status 204 &&
	step_up "$tok" >/dev/null &&
	echo "{\"name\":\"up again\"}" >up.json &&
	http PATCH /api/my-account up.json -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .name)" = "up again" &&
	wait_for 30 every_client b "^20[01] " &&
	echo "every client of the load had a 2xx since" &&
	load_wait &&
	backends >workers-after &&
	test_cmp workers-before workers-after &&
	grep "reconnecting to PostgreSQL" "$TRASH/reverify.log" | tail -n 2
'

test_expect_success "b. under the load every answer was 2xx or 503 service.unavailable with Retry-After, within $MAXTIME s; each client's last one 2xx" '
	answers b &&
	cat "$TRASH"/creator-*.b.log "$TRASH"/namer-*.b.log >b.log &&
	awk "!((\$1 == 201 || \$1 == 200) && \$3 == \"-\" && \$4 == \"-\" ||
	       \$1 == 503 && \$3 == \"service.unavailable\" && \$4 ~ /^[0-9]+\$/)" b.log >b-bad &&
	{ test ! -s b-bad || { echo "other answers:"; cat b-bad; false; }; } &&
	test "$(awk "\$1 == 503" b.log | wc -l)" -gt 0 &&
	for f in "$TRASH"/creator-*.b.log "$TRASH"/namer-*.b.log; do
		tail -n 1 "$f" | grep -E "^20[01] " || echo "$f ends in: $(tail -n 1 "$f")"
	done >last &&
	test "$(grep -c "^20[01] " last)" = "$((CREATORS + NAMERS))" &&
	awk "{ if (\$2 > max) max = \$2 } END { print \"the slowest answer:\", max, \"s\" }" b.log
'

# down: lighttpd runs 8 workers, none of workers-before, and each
# program answers its own 503 service.unavailable with a Retry-After (not
# lighttpd's, for a program whose workers it has not started again yet)
down () {
	backends >workers-down &&
	test "$(wc -l <workers-down)" = 8 &&
	! grep -q -x -F -f workers-before workers-down &&
	http GET /api/status && unavailable &&
	password "$tok" && unavailable &&
	http PATCH /api/my-account name.json -H "Authorization: Bearer $tok" &&
	unavailable &&
	http GET /api/verifications -H "Authorization: Bearer $tok" && unavailable
}

test_expect_success 'b. workers started while PostgreSQL is down answer 503 with Retry-After, and serve once it is up' '
	echo "{\"name\":\"new worker\"}" >name.json &&
	pgsql_stop &&
	backends >workers-before &&
	kill -KILL $(awk "{ print \$1 }" workers-before) &&
	{ wait_for 30 down || { echo "not down as it should be in 30 s:"; show_response_; false; }; } &&
	cat workers-down &&
	grep "answering 503 until it opens" "$TRASH/reverify.log" | tail -n 1 &&
	pgsql_start &&
	http GET /api/status && check_status 204 &&
	step_up "$tok" >/dev/null &&
	http PATCH /api/my-account name.json -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	backends >workers-up &&
	test_cmp workers-down workers-up
'

test_expect_success 'b. reverify-admin audit verify passes' '
	"$ADMIN" audit verify
'

# ---- c. an injected serialization failure ----------------------------------

# A BEFORE trigger on rv_records raises 40001 while the sequence of its
# firings is at most rvt_fault.n. A sequence, because nextval is not
# rolled back with the failing transaction, as a counter in a table is.
test_expect_success 'c. a trigger on rv_records that fails the first N writes with 40001' '
	pgsql "$DB" <<-\EOF
	CREATE TABLE rvt_fault (n int NOT NULL);
	INSERT INTO rvt_fault VALUES (0);
	CREATE SEQUENCE rvt_fault_fired;
	CREATE FUNCTION rvt_fault() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF nextval($q$rvt_fault_fired$q$) <= (SELECT n FROM rvt_fault) THEN
			RAISE EXCEPTION $q$rvt: injected serialization failure$q$
				USING ERRCODE = $q$40001$q$;
		END IF;
		RETURN NEW;
	END $$;
	CREATE TRIGGER rvt_fault BEFORE INSERT OR UPDATE ON rv_records
		FOR EACH ROW EXECUTE FUNCTION rvt_fault();
	EOF
'

# fault N: the next N writes of rv_records fail, the count starts again
fault () {
	pgsql "$DB" -c "UPDATE rvt_fault SET n = $1" \
		-c "SELECT setval('rvt_fault_fired', 1, false)" >/dev/null
}

# fired: how often the trigger fired since fault
fired () {
	pgsql "$DB" -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM rvt_fault_fired"
}

test_expect_success 'c. 3 serialization failures: the step-up is 201, retried 3 times (the log says so)' '
	fault 3 &&
	before=$(retried) &&
	records_of "$tok" >before &&
	rec=$(step_up "$tok") &&
	test "$(fired)" = 4 &&
	test "$(($(retried) - before))" = 3 &&
	grep "store: transaction retried" "$TRASH/reverify.log" | tail -n 3 >retries &&
	cat retries &&
	test "$(grep -c "injected serialization failure (40001)" retries)" = 3 &&
	records_of "$tok" >after &&
	comm -13 before after >new &&
	test "$(wc -l <new)" = 1 &&
	test "$(cat new)" = "$("$ADMIN" record handle "$rec")"
'

test_expect_success 'c. 20 serialization failures: 503 service.unavailable with Retry-After after 8 tries, no record' '
	fault 20 &&
	before=$(retried) &&
	records_of "$tok" >before &&
	password "$tok" &&
	unavailable 1 &&
	test "$(fired)" = 8 &&
	test "$(($(retried) - before))" = 8 &&
	grep "503 service.unavailable: store: too busy after 8 tries" "$TRASH/reverify.log" &&
	records_of "$tok" >after &&
	test_cmp before after
'

test_expect_success 'c. the trigger dropped: a step-up 201 at once, not retried' '
	pgsql "$DB" -c "DROP TRIGGER rvt_fault ON rv_records" \
		-c "DROP FUNCTION rvt_fault()" -c "DROP TABLE rvt_fault" \
		-c "DROP SEQUENCE rvt_fault_fired" &&
	before=$(retried) &&
	step_up "$tok" >/dev/null &&
	test "$(retried)" = "$before" &&
	"$ADMIN" audit verify
'

# ---- d. the connection lost during COMMIT -----------------------------------

# A deferred constraint trigger runs inside COMMIT. With rvt_commit.mode
# "self" it terminates its own backend; with "sleep" it waits up to 4 s
# (below the statement timeout of 5 s) for the test to terminate it from
# outside. Either way the client loses the connection during COMMIT; had
# the backend lived on, it raises an error instead (not a lost
# connection). Its firings are counted by a sequence.
test_expect_success 'd. a deferred constraint trigger on rv_records that ends its backend during COMMIT' '
	pgsql "$DB" <<-\EOF
	CREATE TABLE rvt_commit (mode text NOT NULL);
	INSERT INTO rvt_commit VALUES ($q$off$q$);
	CREATE SEQUENCE rvt_commit_fired;
	CREATE FUNCTION rvt_commit() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		m text := (SELECT mode FROM rvt_commit);
	BEGIN
		IF m = $q$off$q$ THEN
			RETURN NULL;
		END IF;
		PERFORM nextval($q$rvt_commit_fired$q$);
		IF m = $q$self$q$ THEN
			PERFORM pg_terminate_backend(pg_backend_pid());
			PERFORM pg_sleep(1);	-- the signal is taken here
		ELSE
			FOR i IN 1..40 LOOP
				PERFORM pg_sleep(0.1);
			END LOOP;
		END IF;
		RAISE EXCEPTION $q$rvt: the backend in COMMIT was not terminated$q$;
	END $$;
	CREATE CONSTRAINT TRIGGER rvt_commit AFTER INSERT OR UPDATE ON rv_records
		DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW EXECUTE FUNCTION rvt_commit();
	EOF
'

# commit_fault MODE: the next writes of rv_records end their backend
# during COMMIT (MODE self or sleep), or none (off); the count starts again
commit_fault () {
	pgsql "$DB" -c "UPDATE rvt_commit SET mode = '$1'" \
		-c "SELECT setval('rvt_commit_fired', 1, false)" >/dev/null
}

# commit_fired: how often the trigger fired since commit_fault
commit_fired () {
	pgsql "$DB" -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM rvt_commit_fired"
}

# rows_of USER: the number of rows of USER in rv_records
rows_of () {
	pgsql "$DB" -c "SELECT count(*) FROM rv_records WHERE uid = '$1'"
}

# commit_lost MODE: a step-up whose COMMIT loses its connection (MODE self
# or sleep): 503 with Retry-After 1, tried once, the warning in the log,
# and the record with its audit entry either both there or neither
commit_lost () {
	commit_fault "$1" &&
	rows=$(rows_of "$uid") &&
	oks=$(audit_count "$uid" verify.password.ok) &&
	unknown=$(in_log "outcome of the transaction is unknown") &&
	retries=$(retried) &&
	password "$tok" &&
	unavailable 1 &&
	test "$(commit_fired)" = 1 &&
	test "$(retried)" = "$retries" &&
	test "$(in_log "outcome of the transaction is unknown")" = "$((unknown + 1))" &&
	grep "lost during COMMIT" "$TRASH/reverify.log" | tail -n 1 &&
	commit_fault off &&
	new_rows=$(($(rows_of "$uid") - rows)) &&
	new_oks=$(($(audit_count "$uid" verify.password.ok) - oks)) &&
	echo "after the lost COMMIT: $new_rows new record(s), $new_oks new audit entries" &&
	test "$new_rows" = "$new_oks" && test "$new_rows" -le 1
}

test_expect_success 'd. the backend terminates itself during COMMIT: 503 Retry-After 1, not retried, all or nothing' '
	commit_lost self &&
	grep "terminating connection due to administrator command" "$PGDIR/postgresql.log" | tail -n 1
'

test_expect_success 'd. the next request works, the store is consistent' '
	step_up "$tok" >/dev/null &&
	http GET /api/status && check_status 204 &&
	"$ADMIN" audit verify
'

# The watcher, a psql session of its own, looks for a backend asleep in
# the trigger during COMMIT every 20 ms (for at most 20 s) and
# terminates it (pg_stat_activity is read anew each time:
# pg_stat_clear_snapshot).
test_expect_success 'd. the backend terminated from outside during COMMIT (pg_stat_activity): 503 Retry-After 1, not retried, all or nothing' '
	pgsql "$DB" >watcher.out 2>&1 <<-\EOF &
	DO $$
	DECLARE
		victim int;
	BEGIN
		FOR i IN 1..1000 LOOP
			PERFORM pg_stat_clear_snapshot();
			SELECT pid INTO victim FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND wait_event = $q$PgSleep$q$ AND query ~ $q$COMMIT$q$;
			IF victim IS NOT NULL THEN
				PERFORM pg_terminate_backend(victim);
				RAISE NOTICE $q$terminated the backend %$q$, victim;
				RETURN;
			END IF;
			PERFORM pg_sleep(0.02);
		END LOOP;
		RAISE EXCEPTION $q$no backend asleep in COMMIT$q$;
	END $$;
	EOF
	watcher=$! &&
	{ commit_lost sleep; lost=$?; } &&
	{ wait "$watcher"; watched=$?; } &&
	cat watcher.out &&
	test "$lost" = 0 && test "$watched" = 0 &&
	grep "terminated the backend" watcher.out
'

test_expect_success 'd. the trigger dropped: the next request works, the store is consistent' '
	pgsql "$DB" -c "DROP TRIGGER rvt_commit ON rv_records" \
		-c "DROP FUNCTION rvt_commit()" -c "DROP TABLE rvt_commit" \
		-c "DROP SEQUENCE rvt_commit_fired" &&
	rec=$(step_up "$tok") &&
	test "$("$STEPUP" "$uid" "$rec")" = verified &&
	http GET /api/status && check_status 204 &&
	"$ADMIN" audit verify &&
	"$ADMIN" stats
'

# ---- e. a lock held from outside -------------------------------------------

# hold USER: in the background, a psql session (application_name
# rvt_holder) that locks USER's row of rv_users for 60 s at most
hold () {
	PGAPPNAME=rvt_holder pgsql "$DB" -c 'BEGIN' \
		-c "SELECT 1 FROM rv_users WHERE id = '$1' FOR UPDATE" \
		-c 'SELECT pg_sleep(60)' -c 'COMMIT' >"$TRASH/holder.out" 2>&1 &
	holder=$!
}

# held: the session of hold has the lock and sleeps
held () {
	test "$(pgsql "$DB" -c "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'rvt_holder' AND wait_event = 'PgSleep'")" = 1
}

# release: end the session of hold and wait for its psql
release () {
	pgsql "$DB" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'rvt_holder'" >/dev/null
	wait "$holder"
	return 0
}

# locked_out: a name change of the locked user is 503 with Retry-After
# once its lock waits (a quarter of the statement timeout of 5 s each)
# ended 8 tries, well before the watchdog of a worker ends a transaction
# of 15 s (src/rv-store.c)
locked_out () {
	lo_from_=$(($(wc -l <"$TRASH/reverify.log") + 1)) &&
	lo_t0_=$(date +%s) &&
	http PATCH /api/my-account locked.json -H "Authorization: Bearer $tok" &&
	lo_s_=$(($(date +%s) - lo_t0_)) &&
	echo "answered after $lo_s_ s" &&
	unavailable &&
	tail -n "+$lo_from_" "$TRASH/reverify.log" >locked.log &&
	test "$(grep -c "transaction retried (.*lock timeout (55P03))" locked.log)" -ge 7 &&
	grep "too busy after 8 tries" locked.log &&
	test "$lo_s_" -lt 15
}

test_expect_success 'e. the user row locked from outside: each lock wait ends (55P03) and is retried, then 503 with Retry-After within 15 s, the same workers, served once the lock is gone' '
	echo "{\"name\":\"locked\"}" >locked.json &&
	backends >workers-before &&
	hold "$uid" &&
	{ wait_for 30 held && locked_out; rc=$?; release; test "$rc" = 0; } &&
	http PATCH /api/my-account locked.json -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	backends >workers-after &&
	test_cmp workers-before workers-after
'

test_done
