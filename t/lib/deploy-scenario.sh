# deploy-scenario.sh: one small scenario, run the same against every web
# server setup that reverify ships a snippet for (t/e2e/t40*-deploy-*.sh)
# shellcheck shell=sh disable=SC2154,SC2016 # TRASH, top_* come from test-lib.sh; test bodies are strings for eval
#
# Sourced after test-lib.sh, lighttpd.sh (for http) and instance.sh:
#	deploy_init || bail_out "..."	# install into a stage, make an instance
#	start_apache fcgid || bail_out "..."	# (apache.sh, nginx.sh, below)
#	deploy_scenario			# the test points
#	test_done
#
# The programs and the snippets come from `make install
# DESTDIR=$DEPLOY_HOME/stage` of the build tree, so each test also checks
# what make install puts where. A snippet is used unchanged, except for its
# documented settings (Apache: Defines before the Include; lighttpd: its
# var. lines; nginx: the socket directory /run/reverify).
#
# As root, the servers (and so the programs) run as an unprivileged user,
# RUN_USER (REVERIFY_TEST_USER, else www-data, else nobody): Apache refuses
# to run as root, and so should a deployment. The instance then belongs to
# that user. When it cannot reach $TRASH (a build tree under a private
# directory), or when $TRASH is too long a path for mod_fcgid (a checkout
# at a long path), the instance lives in a directory of its own under
# ${TMPDIR:-/tmp}, removed at the end. As any other user, everything runs
# as that user.

DEPLOY_PASSWORD='correct horse battery staple'

# as_run_user COMMAND...: COMMAND as RUN_USER (or as we are, when unset)
as_run_user () {
	if test -n "${RUN_USER-}"; then
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups -- "$@"
	else
		"$@"
	fi
}

# deploy_dirs_: RUN_USER, RUN_GROUP, DEPLOY_HOME and SOCKDIR
deploy_dirs_ () {
	RUN_USER='' RUN_GROUP=''
	if test "$(id -u)" = 0; then
		for dd_u_ in ${REVERIFY_TEST_USER-} www-data nobody; do
			if id "$dd_u_" >/dev/null 2>&1; then
				RUN_USER=$dd_u_
				break
			fi
		done
		test -n "$RUN_USER" || { echo "deploy: no unprivileged user to run the servers as" >&2; return 1; }
		command -v setpriv >/dev/null 2>&1 || { echo "deploy: setpriv not found (util-linux)" >&2; return 1; }
		RUN_GROUP=$(id -gn "$RUN_USER") || return 1
	fi
	DEPLOY_HOME=$TRASH
	# mod_fcgid passes at most 127 bytes of a FcgidInitialEnv value, such
	# as the snippet's REVERIFY_CONFIG ($DEPLOY_HOME/reverify.xml); and as
	# root, the server user must reach the instance
	if test "$((${#TRASH} + 13))" -gt 127 ||
		{ test -n "$RUN_USER" && ! as_run_user test -x "$TRASH"; }; then
		DEPLOY_HOME=$(mktemp -d "${TMPDIR:-/tmp}/rv-deploy.XXXXXX") || return 1
		test_cleanup_add "rm -rf '$DEPLOY_HOME'"
		test_watch_dir "$DEPLOY_HOME"
		chmod 755 "$DEPLOY_HOME" || return 1
		if ! as_run_user test -x "$DEPLOY_HOME"; then
			echo "deploy: $RUN_USER cannot reach $DEPLOY_HOME either" >&2
			return 1
		fi
	fi
	# A unix socket path has at most 107 bytes, and the servers name the
	# sockets after the programs (reverify-my-account-primary-email.socket-0,
	# spawn-fcgi's PROGRAM.sock, Apache's fcgid/ and cgid.sock): whatever
	# the checkout's path, they go to a short directory of their own in
	# /tmp (not $TMPDIR, which may be long), removed at the end.
	SOCKDIR=$(mktemp -d /tmp/rv.XXXXXX) || return 1
	test_cleanup_add "rm -rf '$SOCKDIR'"
	test_watch_dir "$SOCKDIR"
	chmod 755 "$SOCKDIR" || return 1
	export RUN_USER RUN_GROUP DEPLOY_HOME SOCKDIR
}

# deploy_install_: make install DESTDIR=$DEPLOY_HOME/stage; sets RV_LIBEXECDIR
# (the programs) and RV_DOCDIR (the snippets) inside the stage
deploy_install_ () {
	# a make of our own, not a part of the make check that runs us
	if ! (unset MAKEFLAGS MFLAGS MAKELEVEL
		"${MAKE:-make}" -C "$top_builddir" install \
			DESTDIR="$DEPLOY_HOME/stage") >"$TRASH/install.log" 2>&1; then
		tail -n 30 "$TRASH/install.log" >&2
		return 1
	fi
	di_f_=$(find "$DEPLOY_HOME/stage" -type f -path '*/reverify/status' | head -n 1)
	test -n "$di_f_" || { echo "deploy: make install put no reverify/status" >&2; return 1; }
	RV_LIBEXECDIR=${di_f_%/status}
	di_f_=$(find "$DEPLOY_HOME/stage" -type f -name apache-fcgid.conf | head -n 1)
	test -n "$di_f_" || { echo "deploy: make install put no apache-fcgid.conf" >&2; return 1; }
	RV_DOCDIR=${di_f_%/apache-fcgid.conf}
	export RV_LIBEXECDIR RV_DOCDIR
}

# deploy_init: stage the install, then an instance in $DEPLOY_HOME with the
# user alice (password $DEPLOY_PASSWORD, alice@example.com), her token in
# $TOKEN, the outbox in $REVERIFY_OUTBOX, REVERIFY_CONFIG exported, and a
# document root $DEPLOY_HOME/www whose file "ready" holds $READY_TOKEN.
deploy_init () {
	deploy_dirs_ || return 1
	deploy_install_ || return 1
	REVERIFY_OUTBOX=$DEPLOY_HOME/outbox
	mkdir -p "$REVERIFY_OUTBOX" "$DEPLOY_HOME/bin" "$DEPLOY_HOME/www" || return 1
	# the outbox helpers, where RUN_USER can run them; env hands them
	# the outbox whatever environment the server gives the programs
	cp "$top_srcdir/tools/outbox-sendmail" "$DEPLOY_HOME/bin/" || return 1
	chmod 755 "$DEPLOY_HOME/bin/outbox-sendmail" || return 1
	READY_TOKEN="reverify $TEST_NAME $$"
	printf '%s\n' "$READY_TOKEN" >"$DEPLOY_HOME/www/ready" || return 1
	di_store_=$(store_line_ "$DEPLOY_HOME/store") || return 1
	cat >"$DEPLOY_HOME/reverify.xml" <<EOF || return 1
<?xml version="1.0" encoding="UTF-8"?>
<reverify>
  <log target="file" file="$DEPLOY_HOME/reverify.log" level="debug"/>
  $di_store_
  <audit key="$DEPLOY_HOME/audit.key"/>
  <auth issuer="$ISSUER" audience="$AUDIENCE" jwks="$DEPLOY_HOME/jwks.json"
        local-key="$DEPLOY_HOME/local.jwk" first-party="demo-app"/>
  <delivery sendmail="/usr/bin/env REVERIFY_OUTBOX=$REVERIFY_OUTBOX $DEPLOY_HOME/bin/outbox-sendmail -t -i"
            mail-from="reverify@example.org"/>
</reverify>
EOF
	REVERIFY_CONFIG=$DEPLOY_HOME/reverify.xml
	export REVERIFY_CONFIG REVERIFY_OUTBOX READY_TOKEN
	"$ADMIN" -q init >"$TRASH/init.out" 2>&1 || { cat "$TRASH/init.out" >&2; return 1; }
	DEPLOY_USER=$(printf '%s\n' "$DEPLOY_PASSWORD" |
		add_user --username alice --email alice@example.com --password-stdin) || return 1
	TOKEN=$(mint "$DEPLOY_USER") || return 1
	export DEPLOY_USER TOKEN
	# from here on only the servers' programs touch the instance
	if test -n "$RUN_USER"; then
		chown -R "$RUN_USER:$RUN_GROUP" "$DEPLOY_HOME" "$SOCKDIR" || return 1
	fi
}

# deploy_programs: the programs of conf/endpoints, one a line
deploy_programs () {
	awk '{ sub(/#.*/, "") } NF >= 2 { print $1 }' "$top_srcdir/conf/endpoints"
}

# deploy_port_: the first port to try for this test (30000 + 7 x its
# number mod 1000, away from lighttpd.sh's 20000 range)
deploy_port_ () {
	dp_n_=$(printf '%s\n' "$TEST_NAME" | sed -n 's/^[^0-9]*0*\([0-9][0-9]*\).*/\1/p')
	echo "$((30000 + ${dp_n_:-0} % 1000 * 7))"
}

# deploy_serve START_FN STOP_FN LOG...: serve_on_free_port from this test's
# first deploy port, with $READY_TOKEN (test-lib.sh)
deploy_serve () {
	ds_start_=$1 ds_stop_=$2
	shift 2
	serve_on_free_port "$(deploy_port_)" "$ds_start_" "$ds_stop_" "$READY_TOKEN" "$@"
}

# deploy_stop_pid PID...: TERM each PID (our own children), wait at most
# 10 s, then KILL
deploy_stop_pid () {
	for dsp_p_ in "$@"; do
		test -n "$dsp_p_" || continue
		kill "$dsp_p_" 2>/dev/null || continue
		dsp_i_=0
		while kill -0 "$dsp_p_" 2>/dev/null && test "$dsp_i_" -lt 100; do
			# a zombie child counts as gone
			case $(ps -o stat= -p "$dsp_p_" 2>/dev/null) in Z*) break ;; esac
			sleep 0.1
			dsp_i_=$((dsp_i_ + 1))
		done
		kill -0 "$dsp_p_" 2>/dev/null && kill -KILL "$dsp_p_" 2>/dev/null
		wait "$dsp_p_" 2>/dev/null
	done
	return 0
}

# deploy_collect_stderr LOG...: append the servers' logs, where the
# programs' stderr lands, to $TRASH/backend-stderr.log, which
# check_backend_reports searches for sanitizer reports
deploy_collect_stderr () {
	for dcs_f_ in "$@"; do
		test -s "$dcs_f_" && cat "$dcs_f_" >>"$TRASH/backend-stderr.log"
	done
	return 0
}

# deploy_scenario: the test points, against $BASE
deploy_scenario () {
	test_expect_success 'GET /api/status: 204' '
		http GET /api/status &&
		check_status 204
	'

	test_expect_success 'GET /api/my-account with the token: 200, her account' '
		http GET /api/my-account -H "Authorization: Bearer $TOKEN" &&
		check_status 200 &&
		test "$(json_get "$TRASH/body" .id)" = "$DEPLOY_USER" &&
		test "$(json_get "$TRASH/body" .username)" = alice &&
		grep -ix "Content-Type: application/json; charset=utf-8" "$TRASH/headers"
	'

	test_expect_success 'the Authorization header reaches the program' '
		http GET /api/my-account &&
		check_status 401 && check_code auth.authorization_header_missing &&
		http GET /api/my-account -H "Authorization: Basic YWxpY2U6eA==" &&
		check_status 401 && check_code auth.authorization_token_type_not_supported
	'

	test_expect_success 'password step-up: 201 with a record id' '
		jq -cn --arg p "$DEPLOY_PASSWORD" "{password: \$p}" >"$TRASH/pw.json" &&
		http POST /api/verifications/password "$TRASH/pw.json" \
			-H "Authorization: Bearer $TOKEN" &&
		check_status 201 &&
		record_id | grep -E "^[0-9a-z]{21}$"
	'

	test_expect_success 'a wrong password: 422 session.invalid_credentials' '
		jq -cn "{password: \"not her password\"}" >"$TRASH/pw.json" &&
		http POST /api/verifications/password "$TRASH/pw.json" \
			-H "Authorization: Bearer $TOKEN" &&
		check_status 422 && check_code session.invalid_credentials
	'

	test_expect_success 'a code to her own e-mail: 201, one e-mail in the outbox' '
		outbox_clear &&
		send_code "$TOKEN" email alice@example.com &&
		check_status 201 &&
		deploy_rec=$(record_id) &&
		test "$(outbox_count mail)" = 1 &&
		deploy_msg=$(outbox_last mail) &&
		test "$(outbox_header "$deploy_msg" To)" = alice@example.com &&
		deploy_code=$(outbox_code "$deploy_msg") &&
		echo "record $deploy_rec, code $deploy_code"
	'

	test_expect_success 'the code from the outbox verifies: 200' '
		verify_code "$TOKEN" email alice@example.com "$deploy_rec" "$deploy_code" &&
		check_status 200 &&
		test "$(record_id)" = "$deploy_rec"
	'

	test_expect_success 'an unknown path below a program: 404 JSON' '
		http GET /api/status/nowhere &&
		check_status 404 && check_code request.not_found &&
		grep -ix "Content-Type: application/json; charset=utf-8" "$TRASH/headers"
	'
}

# ---- lighttpd with the installed snippets -------------------------------

# lighttpd_deploy_conf_ PORT: lighttpd.conf for $LIGHTTPD_MODE (fastcgi or
# cgi): the server's own lines, then the snippet lighttpd-MODE.conf with
# only its var. lines (its settings) changed
lighttpd_deploy_conf_ () {
	ld_dir_=$DEPLOY_HOME/lighttpd
	sed -e "s|^var\.reverify_libexecdir = .*|var.reverify_libexecdir = \"$RV_LIBEXECDIR\"|" \
		-e "s|^var\.reverify_config = .*|var.reverify_config = \"$REVERIFY_CONFIG\"|" \
		-e "s|^var\.reverify_sockdir = .*|var.reverify_sockdir = \"$SOCKDIR\"|" \
		"$RV_DOCDIR/lighttpd-$LIGHTTPD_MODE.conf" >"$ld_dir_/reverify.conf" || return 1
	ld_n_=$(diff "$RV_DOCDIR/lighttpd-$LIGHTTPD_MODE.conf" "$ld_dir_/reverify.conf" |
		grep -c '^>')
	ld_want_=$(grep -c '^var\.reverify_' "$RV_DOCDIR/lighttpd-$LIGHTTPD_MODE.conf")
	if test "$ld_n_" != "$ld_want_"; then
		echo "lighttpd: $ld_n_ lines of the snippet changed, not its $ld_want_ var. lines" >&2
		return 1
	fi
	{
		echo "# lighttpd.conf of $TEST_NAME, written by t/lib/deploy-scenario.sh"
		echo "server.bind = \"127.0.0.1\""
		echo "server.port = $1"
		echo "server.document-root = \"$DEPLOY_HOME/www\""
		echo "server.errorlog = \"$ld_dir_/error.log\""
		echo "server.breakagelog = \"$ld_dir_/stderr.log\""
		echo 'server.tag = "reverify-test"'
		if test -n "${RUN_USER-}"; then
			echo "server.username = \"$RUN_USER\""
			echo "server.groupname = \"$RUN_GROUP\""
		fi
		echo "include \"$ld_dir_/reverify.conf\""
	} >"$ld_dir_/lighttpd.conf" || return 1
	# lighttpd opens its logs as the user it serves as
	if test -n "${RUN_USER-}"; then
		chown -R "$RUN_USER:$RUN_GROUP" "$ld_dir_" || return 1
	fi
}

lighttpd_deploy_start_ () {
	lighttpd_deploy_conf_ "$1" || return 1
	if ! "$LIGHTTPD" -tt -f "$DEPLOY_HOME/lighttpd/lighttpd.conf" \
		>"$DEPLOY_HOME/lighttpd/configtest.out" 2>&1; then
		cat "$DEPLOY_HOME/lighttpd/configtest.out" >&2
		return 1
	fi
	"$LIGHTTPD" -D -f "$DEPLOY_HOME/lighttpd/lighttpd.conf" \
		</dev/null >"$DEPLOY_HOME/lighttpd/lighttpd.out" 2>&1 3>&- 7>&- &
	SERVER_PID=$!
}

# start_lighttpd_deploy MODE: lighttpd with the installed snippet
# lighttpd-MODE.conf (fastcgi or cgi) on 127.0.0.1; exports BASE,
# SERVER_PID. As root it serves as RUN_USER (server.username). It stops at
# the end of the script; its logs then go to $TRASH/backend-stderr.log.
start_lighttpd_deploy () {
	require_server lighttpd "${LIGHTTPD-}"
	require_server curl "${CURL-}"
	LIGHTTPD_MODE=$1
	export LIGHTTPD_MODE
	mkdir -p "$DEPLOY_HOME/lighttpd" || return 1
	deploy_serve lighttpd_deploy_start_ stop_lighttpd_deploy \
		"$DEPLOY_HOME/lighttpd/lighttpd.out" "$DEPLOY_HOME/lighttpd/error.log"
}

stop_lighttpd_deploy () {
	test -n "${SERVER_PID-}" || return 0
	deploy_stop_pid "$SERVER_PID"
	SERVER_PID=
	deploy_collect_stderr "$DEPLOY_HOME/lighttpd/stderr.log" \
		"$DEPLOY_HOME/lighttpd/lighttpd.out" "$DEPLOY_HOME/lighttpd/error.log"
}

# check_run_user PROGRAM: the running PROGRAM (a FastCGI process) runs as
# RUN_USER (as root) or as we do
check_run_user () {
	cru_want_=${RUN_USER:-$(id -un)}
	cru_got_=$(ps -eo user:32=,args= | awk -v p="$RV_LIBEXECDIR/$1" '$2 == p { print $1 }' | sort -u)
	test "$cru_got_" = "$cru_want_" && return 0
	echo "check_run_user: $1 runs as '$cru_got_', want '$cru_want_'"
	return 1
}
