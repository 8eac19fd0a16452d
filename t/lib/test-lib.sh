# test-lib.sh: TAP helpers for reverify's shell tests (git style)
# shellcheck shell=sh
#
# Sourced by every t/*/tNNNN-*.sh test as
#	. "$top_srcdir/t/lib/test-lib.sh"
# with top_srcdir and top_builddir (absolute paths), LIGHTTPD, CURL and
# XMLLINT (maybe empty) in the environment, as `make check` provides them.
# Optional: REVERIFY_TEST_REQUIRE_SERVERS=1 turns a missing server into a
# failure, VALGRIND=/path/to/valgrind runs run_cgi programs under valgrind
# (make check-valgrind sets it; the reports fail the script).
# REVERIFY_TEST_STORE=pgsql with REVERIFY_TEST_PGHOST=DIR (the socket
# directory of a running cluster, t/lib/pgcluster start; make check-pgsql
# sets both) puts every store on PostgreSQL (store_line_); unset or bdb:
# Berkeley DB.
# Option: `sh tNNNN-x.sh -v` also shows the output of passing tests and
# keeps the trash directory.
#
# Each script runs in a fresh $TRASH = $top_builddir/t/trash.$TEST_NAME
# ($TEST_NAME: the script's name without .sh), removed again when every
# test passed.

if test -z "${top_srcdir-}" || test -z "${top_builddir-}"; then
	echo "Bail out! top_srcdir and top_builddir must be set (run the tests with make check)"
	exit 1
fi
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 1
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
export top_srcdir top_builddir

LC_ALL=C
TZ=UTC
export LC_ALL TZ
# the programs refuse a configuration or JWKS that others may write: the
# files the tests make are not group-writable, whatever the caller's umask
umask 022
unset CDPATH REVERIFY_CONFIG

test_verbose_=
case "${1-}" in
-v | --verbose) test_verbose_=1 ;;
esac

TEST_NAME=${0##*/}
TEST_NAME=${TEST_NAME%.sh}
TRASH=$top_builddir/t/trash.$TEST_NAME
export TEST_NAME TRASH
# the directories whose users are this script's processes (test_watch_dir)
test_watched_=$TRASH
rm -rf "$TRASH" || exit 1
mkdir -p "$TRASH" || exit 1
cd "$TRASH" || exit 1
HOME=$TRASH
export HOME

# fd 7: the TAP stream, also from inside a test body, whose stdout is a file
exec 7>&1

test_count_=0
test_failed_=0
test_cleanup_n_=0
test_finished_=
test_title_=

# say LINE...: print a TAP line on stdout.
say () {
	printf '%s\n' "$*"
}

# diag MESSAGE...: print a "# " diagnostic line (on the TAP stream, also
# from inside a test body).
diag () {
	printf '# %s\n' "$*" >&7
}

# diag_file FILE: print FILE as "# " diagnostic lines.
diag_file () {
	awk '{ print "# " $0 }' "$1"
}

# test_expect_success TITLE BODY: eval BODY in the current shell; ok when it
# exits 0. Its output goes to $TRASH/.test-output and is shown on failure.
# test_eval_ BODY: a test body in a function of its own, so that a
# "return 1" in a loop of the body fails the test rather than returning
# from test_expect_success before it reports
test_eval_ () {
	eval "$1"
}

test_expect_success () {
	test "$#" = 2 || bail_out "test_expect_success needs 2 arguments, got $#"
	test_count_=$((test_count_ + 1))
	test_cwd_=$(pwd)
	test_out_=$TRASH/.test-output
	test_title_=$1
	test_eval_ "$2" </dev/null >"$test_out_" 2>&1
	test_rc_=$?
	test_title_=
	cd "$test_cwd_" || cd "$TRASH" || exit 1
	if test "$test_rc_" = 0; then
		say "ok $test_count_ - $1"
		if test -n "$test_verbose_" && test -s "$test_out_"; then
			diag_file "$test_out_"
		fi
	else
		test_failed_=$((test_failed_ + 1))
		say "not ok $test_count_ - $1"
		printf '%s\n' "$2" | sed -e '/^[[:space:]]*$/d' -e 's/^/#	/'
		diag "exit status $test_rc_, output:"
		diag_file "$test_out_"
	fi
	return 0
}

# test_skip TITLE REASON: count TITLE as a skipped test.
test_skip () {
	test_count_=$((test_count_ + 1))
	say "ok $test_count_ - $1 # SKIP $2"
}

# skip_all REASON: skip the whole script (or the rest of it). Like bail_out
# and test_done, it may be called from inside a test body.
skip_all () {
	exec >&7
	if test -n "$test_title_"; then	# inside a test body
		say "ok $test_count_ - $test_title_ # SKIP $1"
		test_title_=
	fi
	if test "$test_count_" = 0; then
		test_run_cleanup_
		test_left_=$(test_kill_procs)
		test -z "$test_left_" || printf '%s\n' "$test_left_" |
			awk '{ print "# killed, left running: " $0 }'
		say "1..0 # SKIP $1"
		test_finished_=1
		test -n "$test_verbose_" || { cd "$top_builddir" && rm -rf "$TRASH"; }
		exit 0
	fi
	diag "skipping the remaining tests: $1"
	test_done
}

# bail_out REASON: abort the run with an error.
bail_out () {
	exec >&7
	say "Bail out! $1"
	test_finished_=1
	exit 1
}

# require_server NAME PATH: skip all (or bail out when
# REVERIFY_TEST_REQUIRE_SERVERS=1) unless PATH is an executable.
require_server () {
	if test -n "$2" && test -x "$2"; then
		return 0
	fi
	if test "${REVERIFY_TEST_REQUIRE_SERVERS-}" = 1; then
		bail_out "$1 is required (REVERIFY_TEST_REQUIRE_SERVERS=1) but not found"
	fi
	skip_all "$1 not found"
}

# wait_ready PID URL TOKEN: wait up to 10 s for URL to answer TOKEN (the
# line that tells our server from anything else on the port). 0 when it
# does; 1 when PID died first (it is reaped); 2 when PID still runs but
# never answered.
wait_ready () {
	wr_wait_=0
	while test "$wr_wait_" -lt 100; do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			return 1
		fi
		if test "$("$CURL" -q -s --max-time 2 "$2")" = "$3"; then
			return 0
		fi
		sleep 0.1
		wr_wait_=$((wr_wait_ + 1))
	done
	return 2
}

# serve_on_free_port PORT START_FN STOP_FN TOKEN LOG...: start a server on
# a free port of 127.0.0.1, from PORT on. START_FN P writes its config for
# port P and starts it in the background, setting SERVER_PID; then BASE
# must answer TOKEN at /ready within 10 s (wait_ready), or the server died.
# One that died because the port is taken (as its LOGs say, each emptied
# before a try) is tried on the next port, 20 ports at most. STOP_FN (a
# command: a function and its arguments) runs at the end of the script,
# also on failure. Exports BASE and SERVER_PID.
serve_on_free_port () {
	sf_port_=$1 sf_start_=$2 sf_stop_=$3 sf_token_=$4
	shift 4
	test_cleanup_add "$sf_stop_"
	sf_try_=0
	while test "$sf_try_" -lt 20; do
		sf_try_=$((sf_try_ + 1))
		BASE=http://127.0.0.1:$sf_port_
		if "$CURL" -q -s -o /dev/null --max-time 2 "$BASE/"; then
			sf_port_=$((sf_port_ + 1))	# something answers there already
			continue
		fi
		for sf_log_ in "$@"; do
			: >"$sf_log_"
		done
		SERVER_PID=
		"$sf_start_" "$sf_port_" || return 1
		wait_ready "$SERVER_PID" "$BASE/ready" "$sf_token_"
		case $? in
		0) export BASE SERVER_PID; return 0 ;;
		1) SERVER_PID= ;;
		esac
		if test -n "$SERVER_PID"; then
			echo "serve_on_free_port: no answer from $BASE after 10 s" >&2
			eval "$sf_stop_"
			server_logs_ "$@" >&2
			return 1
		fi
		if ! grep -q -i -E 'address already in use|could not bind|make_sock' "$@" 2>/dev/null; then
			echo "serve_on_free_port: the server did not start" >&2
			server_logs_ "$@" >&2
			return 1
		fi
		sf_port_=$((sf_port_ + 1))
	done
	echo "serve_on_free_port: no free port after 20 tries (last $sf_port_)" >&2
	return 1
}

# server_logs_ LOG...: the last 20 lines of each non-empty LOG, indented
server_logs_ () {
	for sl_f_ in "$@"; do
		test -s "$sl_f_" || continue
		echo "${sl_f_##*/}:"
		tail -n 20 "$sl_f_" | awk '{ print "	" $0 }'
	done
}

# test_cleanup_add COMMAND: run COMMAND at test_done or on exit, the last
# added first.
test_cleanup_add () {
	test_cleanup_n_=$((test_cleanup_n_ + 1))
	eval "test_cleanup_$test_cleanup_n_=\$1"
}

test_run_cleanup_ () {
	while test "$test_cleanup_n_" -gt 0; do
		eval "test_cleanup_cmd_=\$test_cleanup_$test_cleanup_n_"
		unset "test_cleanup_$test_cleanup_n_"
		test_cleanup_n_=$((test_cleanup_n_ - 1))
		# shellcheck disable=SC2154 # set by the eval above
		eval "$test_cleanup_cmd_" >&2 </dev/null
	done
}

# check_backend_reports: after the servers stopped, one extra failing test
# when a sanitizer or valgrind left a report in $TRASH (asan.*, ubsan.*,
# valgrind.*, or sanitizer lines in the backends' stderr log).
check_backend_reports () {
	test_reports_=
	for test_f_ in "$TRASH"/asan.* "$TRASH"/ubsan.* "$TRASH"/valgrind.* \
		"$TRASH"/backend-stderr.log; do
		test -s "$test_f_" || continue
		case $test_f_ in
		*/backend-stderr.log)
			grep -q -E 'runtime error:|ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer' \
				"$test_f_" || continue ;;
		esac
		if test -z "$test_reports_"; then
			test_reports_=1
			test_count_=$((test_count_ + 1))
			test_failed_=$((test_failed_ + 1))
			say "not ok $test_count_ - sanitizer/valgrind reports in backends"
		fi
		diag "${test_f_##*/}:"
		head -n 60 "$test_f_" | awk '{ print "# " $0 }'
	done
	test -z "$test_reports_"
}

# test_watch_dir DIR: count DIR (outside $TRASH, e.g. a socket directory in
# /tmp) as this script's own for test_procs and check_leftovers.
test_watch_dir () {
	test_watched_="$test_watched_
$1"
}

# test_procs: the processes of this script, other than its own shell: one
# "PID COMMAND LINE" line each for every process whose working directory
# or open files are in $TRASH (or a test_watch_dir), or whose command line
# names a file there. Reads only /proc/PID/{cwd,fd/*,cmdline} (one find,
# one grep); another script's processes use its own trash directory and
# are not listed. Empty without /proc.
test_procs () {
	test -d /proc/self/fd || return 0
	# not the shell of the script, nor the subshells between it and us
	tp_skip_=" $$ "
	tp_p_=$(exec sh -c 'echo "$PPID"')
	while test -n "$tp_p_" && test "$tp_p_" -gt 1 && test "$tp_p_" != "$$"; do
		tp_skip_="$tp_skip_$tp_p_ "
		tp_p_=$(sed 's/.*) [A-Za-z] \([0-9]*\) .*/\1/' "/proc/$tp_p_/stat" 2>/dev/null)
	done
	# in a subshell outside $TRASH, with no file of $TRASH open (the
	# caller's may be), so that the scan does not find itself
	tp_out_=$(
		exec </dev/null 2>/dev/null
		cd / || exit 1
		{
			printf '%s\n' "$test_watched_" | while IFS= read -r tp_d_; do
				test -n "$tp_d_" || continue
				find /proc -mindepth 2 -maxdepth 3 \
					\( -path '/proc/[0-9]*/cwd' -o -path '/proc/[0-9]*/fd/*' \) \
					\( -lname "$tp_d_" -o -lname "$tp_d_/*" \) \
					-printf '%h\n'
			done
			# command lines name a file of the directory
			# shellcheck disable=SC2062 # a glob of files; the patterns come from stdin
			printf '%s/\n' "$test_watched_" | grep -v '^/$' |
				grep -l -a -F -f - /proc/[0-9]*/cmdline
		} | sed -n 's|^/proc/\([0-9][0-9]*\).*|\1|p' | sort -u -n |
		while read -r tp_pid_; do
			case $tp_skip_ in *" $tp_pid_ "*) continue ;; esac
			tp_cmd_=$(tr '\0' ' ' <"/proc/$tp_pid_/cmdline") || continue
			# gone since, or a kernel thread
			test -n "$tp_cmd_" || continue
			printf '%s %s\n' "$tp_pid_" "$tp_cmd_"
		done
	)
	test -z "$tp_out_" || printf '%s\n' "$tp_out_"
}

# test_kill_procs: SIGKILL the processes of test_procs (a stuck backend may
# ignore SIGTERM), and wait up to 5 s until they are gone. Prints what it
# killed.
test_kill_procs () {
	tk_n_=0
	while test "$tk_n_" -lt 50; do
		tk_list_=$(test_procs)
		test -n "$tk_list_" || return 0
		test "$tk_n_" = 0 && printf '%s\n' "$tk_list_"
		printf '%s\n' "$tk_list_" | while read -r tk_pid_ _; do
			kill -KILL "$tk_pid_" 2>/dev/null
		done
		sleep 0.1
		tk_n_=$((tk_n_ + 1))
	done
	echo "test_kill_procs: still running after SIGKILL:"
	test_procs
	return 1
}

# check_leftovers: after the cleanups, one extra failing test when a process
# of this script is still running (test_procs) 5 s later (a backend may
# still be on its way out after its server stopped); it lists and kills
# them, so that the machine stays clean.
check_leftovers () {
	test_wait_=0
	while test_left_=$(test_procs) && test -n "$test_left_" &&
		test "$test_wait_" -lt 50; do
		sleep 0.1
		test_wait_=$((test_wait_ + 1))
	done
	test -z "$test_left_" && return 0
	test_count_=$((test_count_ + 1))
	test_failed_=$((test_failed_ + 1))
	say "not ok $test_count_ - no process of this script is left running"
	printf '%s\n' "$test_left_" | awk '{ print "# left running: " $0 }'
	test_kill_procs >/dev/null
	return 1
}

# test_done: run the cleanups, print the plan, exit 1 if a test failed (or
# a process of the script is left running).
test_done () {
	exec >&7
	test_run_cleanup_
	check_backend_reports
	check_leftovers
	say "1..$test_count_"
	test_finished_=1
	if test "$test_failed_" -gt 0; then
		diag "failed $test_failed_ of $test_count_; see $TRASH"
		exit 1
	fi
	if test -z "$test_verbose_"; then
		cd "$top_builddir" && rm -rf "$TRASH"
	fi
	exit 0
}

test_exit_trap_ () {
	test_exit_rc_=$?
	exec >&7
	test_run_cleanup_
	if test -z "$test_finished_"; then
		test_left_=$(test_kill_procs)
		test -z "$test_left_" || printf '%s\n' "$test_left_" |
			awk '{ print "# killed, left running: " $0 }'
		say "Bail out! $TEST_NAME exited unexpectedly (status $test_exit_rc_) after test $test_count_"
		exit 1
	fi
	exit "$test_exit_rc_"
}
trap test_exit_trap_ EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the store of the tests: Berkeley DB, or PostgreSQL ------------------
#
# Under REVERIFY_TEST_STORE=pgsql each store home of a script gets a
# database of its own in the cluster of $REVERIFY_TEST_PGHOST, made by
# store_line_ and listed in $TRASH/.pgsql-dbs; the first cleanup, so the
# last to run (after the servers stopped), drops them all.
case ${REVERIFY_TEST_STORE:-bdb} in
bdb) ;;
pgsql)
	test -n "${REVERIFY_TEST_PGHOST-}" ||
		bail_out "REVERIFY_TEST_STORE=pgsql needs REVERIFY_TEST_PGHOST, the socket directory of a running cluster (make check-pgsql starts one)"
	test -S "$REVERIFY_TEST_PGHOST/.s.PGSQL.5432" ||
		bail_out "no PostgreSQL socket in REVERIFY_TEST_PGHOST=$REVERIFY_TEST_PGHOST: is its cluster running (t/lib/pgcluster start)?"
	REVERIFY_TEST_PGHOST=$(cd "$REVERIFY_TEST_PGHOST" && pwd -P) || exit 1
	export REVERIFY_TEST_PGHOST
	# the conninfo names host, database and user, and nothing else may
	# lead libpq elsewhere
	unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE \
		PGSERVICE PGSERVICEFILE PGOPTIONS
	test_cleanup_add test_pgsql_dropdbs_
	;;
*)
	bail_out "REVERIFY_TEST_STORE is bdb or pgsql, not '$REVERIFY_TEST_STORE'" ;;
esac

# test_cmp EXPECTED ACTUAL: diff -u, for use inside a test body.
test_cmp () {
	diff -u "$1" "$2"
}

# json_get FILE FILTER: print the jq -r FILTER of the JSON in FILE.
json_get () {
	if ! command -v jq >/dev/null 2>&1; then
		echo "json_get: jq not found (apt-get install jq)" >&2
		return 127
	fi
	jq -r "$2" "$1"
}

# write_config [XML LINE...]: write $TRASH/reverify.xml, logging to
# $TRASH/reverify.log, with each argument as one more line inside
# <reverify>, and export REVERIFY_CONFIG. Unless a line has <audit, the
# audit key is $TRASH/audit.key (reverify-admin init creates it).
# shellcheck disable=SC2120 # the XML lines are optional
write_config () {
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<reverify>'
		# on the line of <log>, so that the line numbers stay as they were
		test_audit_=" <audit key=\"$TRASH/audit.key\"/>"
		for test_line_ in "$@"; do
			case $test_line_ in *"<audit "*|*"<audit/"*) test_audit_= ;; esac
		done
		echo "  <log target=\"file\" file=\"$TRASH/reverify.log\" level=\"debug\"/>$test_audit_"
		for test_line_ in "$@"; do
			printf '  %s\n' "$test_line_"
		done
		echo '</reverify>'
	} >"$TRASH/reverify.xml"
	REVERIFY_CONFIG=$TRASH/reverify.xml
	export REVERIFY_CONFIG
}

# test_store_pgsql: true when the stores are on PostgreSQL
# (REVERIFY_TEST_STORE=pgsql)
test_store_pgsql () {
	test "${REVERIFY_TEST_STORE:-bdb}" = pgsql
}

# store_line_ [--no-db] HOME [ATTRIBUTES]: print the <store> element of a
# store in HOME, ATTRIBUTES (e.g. pepper="FILE") added: <store home="HOME"/>
# on Berkeley DB. Under REVERIFY_TEST_STORE=pgsql it is
#	<store home="HOME" backend="pgsql" conninfo="host=PGHOST dbname=DB
#	 user=reverify" statement-timeout="5000"/>
# with DB the database of HOME in this script (rvt_SCRIPT_N), made empty by
# the first call for HOME (reverify-admin init fills it), the same for
# later ones, and dropped when the script ends. With --no-db, DB is a
# database that does not exist: a store that cannot be opened.
store_line_ () {
	sl_nodb_=
	if test "$1" = --no-db; then
		sl_nodb_=1
		shift
	fi
	sl_attrs_=${2:+ $2}
	if ! test_store_pgsql; then
		printf '<store home="%s"%s/>\n' "$1" "$sl_attrs_"
		return 0
	fi
	sl_base_=rvt_$(printf '%s' "$TEST_NAME" | tr '[:upper:]' '[:lower:]' |
		tr -c 'a-z0-9_' '_' | cut -c 1-48)
	if test -n "$sl_nodb_"; then
		sl_db_=${sl_base_}_nodb
	else
		sl_db_=$(awk -v h="$1" '{ n = $1; sub(/^[^ ]* /, "") } $0 == h { print n; exit }' \
			"$TRASH/.pgsql-dbs" 2>/dev/null)
		if test -z "$sl_db_"; then
			sl_n_=0
			test -f "$TRASH/.pgsql-dbs" && sl_n_=$(wc -l <"$TRASH/.pgsql-dbs")
			sl_db_=${sl_base_}_$((sl_n_ + 1))
			# a database of this name left by an earlier run that
			# was killed goes first
			if ! sh "$top_srcdir/t/lib/pgcluster" dropdb "$REVERIFY_TEST_PGHOST" "$sl_db_" ||
				! sh "$top_srcdir/t/lib/pgcluster" createdb "$REVERIFY_TEST_PGHOST" "$sl_db_"; then
				echo "store_line_: no database $sl_db_ for $1" >&2
				return 1
			fi
			printf '%s %s\n' "$sl_db_" "$1" >>"$TRASH/.pgsql-dbs" || return 1
		fi
	fi
	printf '<store home="%s" backend="pgsql" conninfo="host=%s dbname=%s user=reverify" statement-timeout="5000"%s/>\n' \
		"$1" "$REVERIFY_TEST_PGHOST" "$sl_db_" "$sl_attrs_"
}

# test_pgsql_dropdbs_: drop the databases that store_line_ made (a cleanup)
test_pgsql_dropdbs_ () {
	test -f "$TRASH/.pgsql-dbs" || return 0
	while read -r td_db_ _; do
		sh "$top_srcdir/t/lib/pgcluster" dropdb "$REVERIFY_TEST_PGHOST" "$td_db_"
	done <"$TRASH/.pgsql-dbs"
	rm -f "$TRASH/.pgsql-dbs"
}

# The tests of Berkeley DB itself (its files, backup, recovery, a full disk
# under the store home) are skipped under REVERIFY_TEST_STORE=pgsql, with
# WHY (how the test is about Berkeley DB) as the reason:
#	require_bdb WHY			the whole script
#	test_expect_bdb WHY TITLE BODY	one test (test_expect_success on
#					Berkeley DB)
#	test_skip_bdb TITLE WHY		count TITLE as skipped, for an
#					if test_store_pgsql; then ... else ... fi
require_bdb () {
	test_store_pgsql || return 0
	skip_all "Berkeley DB only, not with REVERIFY_TEST_STORE=pgsql: $1"
}

test_expect_bdb () {
	test "$#" = 3 || bail_out "test_expect_bdb needs 3 arguments, got $#"
	if test_store_pgsql; then
		test_skip_bdb "$2" "$1"
	else
		test_expect_success "$2" "$3"
	fi
}

test_skip_bdb () {
	test_skip "$1" "Berkeley DB only, not with REVERIFY_TEST_STORE=pgsql: $2"
}

# split_response_ RAW: split a CGI/HTTP response at the first empty line
# into $TRASH/headers (no CRs) and $TRASH/body (byte-exact). Prints the
# header length in bytes, or -1 when there is no empty line.
split_response_ () {
	test_hlen_=$(LC_ALL=C awk '
		{ n += length($0) + 1 }
		$0 == "" || $0 == "\r" { print n; found = 1; exit }
		END { if (!found) print -1 }' "$1")
	if test "$test_hlen_" -lt 0; then
		tr -d '\r' <"$1" >"$TRASH/headers"
		: >"$TRASH/body"
	else
		awk '$0 == "" || $0 == "\r" { exit } { print }' "$1" |
			tr -d '\r' >"$TRASH/headers"
		tail -c +"$((test_hlen_ + 1))" "$1" >"$TRASH/body"
	fi
	echo "$test_hlen_"
}

# run_cgi PROGRAM METHOD PATH [BODY_FILE] [NAME=VALUE...]: run
# $top_builddir/cgi-bin/PROGRAM as a CGI program with a clean environment.
# PATH may have a ?query. BODY_FILE ("", or left out, for none) is sent as
# the body, with CONTENT_TYPE=${CGI_CONTENT_TYPE-application/json} (empty:
# none). More variables come from $CGI_ENV (space-separated NAME=VALUE
# words, e.g. CGI_ENV="HTTP_ACCEPT_LANGUAGE=de") and from the NAME=VALUE
# arguments (which may hold spaces, e.g. "HTTP_AUTHORIZATION=Bearer $TOKEN");
# later ones win. Under $VALGRIND when set (reports in $TRASH/valgrind.*).
# Writes $TRASH/headers, $TRASH/body and $TRASH/status (the Status: header,
# 200 without one, 502 when the output has no end of headers); the
# program's stderr stays on stderr. Returns the program's exit status.
run_cgi () {
	rc_prog_=$top_builddir/cgi-bin/$1
	rc_method_=$2
	rc_uri_=$3
	shift 3
	rc_body_=
	case ${1-} in
	[A-Za-z_]*=*) ;;	# no body file, NAME=VALUE arguments
	*) test "$#" -gt 0 && rc_body_=$1 && shift ;;
	esac
	rc_nargs_=$#
	case $rc_uri_ in
	*\?*) rc_script_=${rc_uri_%%\?*} rc_query_=${rc_uri_#*\?} ;;
	*) rc_script_=$rc_uri_ rc_query_= ;;
	esac
	set -- "$@" PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=localhost SERVER_PORT=80 \
		REMOTE_ADDR=127.0.0.1 REQUEST_METHOD="$rc_method_" \
		REQUEST_URI="$rc_uri_" SCRIPT_NAME="$rc_script_" \
		QUERY_STRING="$rc_query_"
	for rc_var_ in REVERIFY_CONFIG ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		eval "rc_set_=\${$rc_var_+set}"
		# shellcheck disable=SC2154 # set by the eval above
		test -n "$rc_set_" && eval "set -- \"\$@\" $rc_var_=\"\$$rc_var_\""
	done
	if test -n "$rc_body_"; then
		rc_len_=$(wc -c <"$rc_body_") || return 1
		set -- "$@" CONTENT_LENGTH="$((rc_len_ + 0))"
		rc_ctype_=${CGI_CONTENT_TYPE-application/json}
		test -n "$rc_ctype_" && set -- "$@" CONTENT_TYPE="$rc_ctype_"
	else
		rc_body_=/dev/null
	fi
	set -f
	# shellcheck disable=SC2086 # CGI_ENV is a list of words
	set -- "$@" ${CGI_ENV-}
	set +f
	# the NAME=VALUE arguments go last, so that they win
	while test "$rc_nargs_" -gt 0; do
		set -- "$@" "$1"
		shift
		rc_nargs_=$((rc_nargs_ - 1))
	done
	if test -n "${VALGRIND-}"; then
		set -- "$@" "$VALGRIND" --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite --show-leak-kinds=definite \
			--log-file="$TRASH/valgrind.%p" -q
		if test -f "$top_srcdir/t/valgrind.supp"; then
			set -- "$@" --suppressions="$top_srcdir/t/valgrind.supp"
		fi
	fi
	env -i "$@" "$rc_prog_" <"$rc_body_" >"$TRASH/cgi-output"
	rc_rc_=$?
	if test "$(split_response_ "$TRASH/cgi-output")" -lt 0; then
		echo 502 >"$TRASH/status"
	else
		rc_status_=$(sed -n 's/^[Ss][Tt][Aa][Tt][Uu][Ss]:[[:space:]]*\([0-9][0-9][0-9]\).*/\1/p' \
			"$TRASH/headers" | head -n 1)
		echo "${rc_status_:-200}" >"$TRASH/status"
	fi
	return "$rc_rc_"
}

# show_response_: print the status, headers and body of the last response.
show_response_ () {
	echo "status: $(cat "$TRASH/status" 2>/dev/null)"
	echo "headers:"
	awk '{ print "	" $0 }' "$TRASH/headers" 2>/dev/null
	echo "body:"
	awk '{ print "	" $0 }' "$TRASH/body" 2>/dev/null
	echo
}

# check_status WANT: the last response (run_cgi or http) had status WANT.
check_status () {
	cs_got_=$(cat "$TRASH/status" 2>/dev/null)
	test "$cs_got_" = "$1" && return 0
	echo "check_status: got status '$cs_got_', want '$1'"
	show_response_
	return 1
}

# check_body JSON: the body of the last response is exactly JSON (compared
# as canonical JSON: same members, values and array order).
check_body () {
	printf '%s' "$1" | jq -S . >"$TRASH/want.json" &&
	jq -S . "$TRASH/body" >"$TRASH/got.json" &&
	test_cmp "$TRASH/want.json" "$TRASH/got.json"
}

# check_code WANT: the JSON body of the last response has .code WANT.
check_code () {
	cs_got_=$(json_get "$TRASH/body" .code 2>&1)
	test "$cs_got_" = "$1" && return 0
	echo "check_code: got code '$cs_got_', want '$1'"
	show_response_
	return 1
}
