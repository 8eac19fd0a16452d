# lighttpd.sh: run reverify's programs behind a real lighttpd for e2e tests
# shellcheck shell=sh disable=SC2154 # top_srcdir, top_builddir come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/lighttpd.sh"
#	start_lighttpd status verification-password || skip_all "lighttpd did not start"
#	test_expect_success '...' 'http GET /api/status && check_status 204'
# Needs LIGHTTPD and CURL (skips the script, or bails out when
# REVERIFY_TEST_REQUIRE_SERVERS=1, if one is missing).

# start_lighttpd PROGRAM...: start lighttpd -D on 127.0.0.1 with mod_fastcgi
# backends for PROGRAMs (routes from conf/endpoints, config from
# tools/lighttpd-conf, REVERIFY_CONFIG from write_config, called first when
# unset). Exports BASE=http://127.0.0.1:PORT and LIGHTTPD_PID; stops again
# at test_done. Backends log sanitizer reports to $TRASH/asan.* and
# $TRASH/ubsan.*, their stderr to $TRASH/backend-stderr.log (where gcc's
# UBSan reports land); a report fails the script (check_backend_reports).
# LIGHTTPD_MAX_PROCS sets the backends per program (default 1);
# LIGHTTPD_BINDIR and LIGHTTPD_ROUTES serve test programs from another
# directory with their own routes file (default cgi-bin/, conf/endpoints).
# LIGHTTPD_PAGE=DIR also serves the account page from DIR at /account/,
# and LIGHTTPD_PAGE_TOKEN=FILE the file at /account/demo-token
# (tools/lighttpd-conf --page, --page-token).
# LIGHTTPD_NAME=NAME ([a-z0-9]+) starts a server of that name beside the
# unnamed one and the other named ones (hosts in front of one store): its
# files get the suffix -NAME (lighttpd-NAME.conf, sock-NAME/, www-NAME/,
# ...; the backends' stderr log is shared), it is also in BASE_NAME and
# LIGHTTPD_PID_NAME (LIGHTTPD_PID stays the unnamed one's), and
# stop_lighttpd NAME stops it. A new start_lighttpd stops the server of
# its own name first, no other.
start_lighttpd () {
	require_server lighttpd "${LIGHTTPD-}"
	require_server curl "${CURL-}"
	sl_name_=${LIGHTTPD_NAME-}
	case $sl_name_ in
	*[!a-z0-9]*) echo "start_lighttpd: LIGHTTPD_NAME is [a-z0-9]*, not '$sl_name_'" >&2; return 1 ;;
	esac
	sl_sfx_=${sl_name_:+-$sl_name_}
	stop_lighttpd "$sl_name_"
	test -n "${REVERIFY_CONFIG-}" || write_config
	case ":${ASAN_OPTIONS-}:" in
	*":log_path=$TRASH/asan:"*) ;;
	*) ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TRASH/asan ;;
	esac
	case ":${UBSAN_OPTIONS-}:" in
	*":log_path=$TRASH/ubsan:"*) ;;
	*) UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$TRASH/ubsan ;;
	esac
	export ASAN_OPTIONS UBSAN_OPTIONS

	# A unix socket path has at most 107 bytes; lighttpd adds -N to it.
	sl_sockdir_=$TRASH/sock$sl_sfx_
	for sl_prog_ in "$@"; do
		if test "$((${#sl_sockdir_} + ${#sl_prog_} + 6))" -gt 107; then
			sl_sockdir_=$(mktemp -d "${TMPDIR:-/tmp}/rv-sock.XXXXXX") || return 1
			test_cleanup_add "rm -rf '$sl_sockdir_'"
			break
		fi
	done
	mkdir -p "$sl_sockdir_" "$TRASH/www$sl_sfx_" || return 1
	# the answer that tells our lighttpd from anything else on the port
	sl_token_="reverify $TRASH $$$sl_sfx_"
	printf '%s\n' "$sl_token_" >"$TRASH/www$sl_sfx_/ready" || return 1

	sl_n_=$(printf '%s\n' "$TEST_NAME" | sed -n 's/^[^0-9]*0*\([0-9][0-9]*\).*/\1/p')
	sl_progs_=$*
	serve_on_free_port "$((20000 + ${sl_n_:-0} % 1000 * 7 % 10000))" \
		lighttpd_start_ "stop_lighttpd${sl_name_:+ $sl_name_}" "$sl_token_" \
		"$TRASH/lighttpd$sl_sfx_.out" "$TRASH/lighttpd-error$sl_sfx_.log" || return 1
	if test -n "$sl_name_"; then
		eval "LIGHTTPD_PID_$sl_name_=\$SERVER_PID BASE_$sl_name_=\$BASE"
		export "LIGHTTPD_PID_$sl_name_" "BASE_$sl_name_"
	else
		LIGHTTPD_PID=$SERVER_PID
		export LIGHTTPD_PID
	fi
}

# lighttpd_start_ PORT: the config for PORT and the programs of
# start_lighttpd, and lighttpd started on it (SERVER_PID)
lighttpd_start_ () {
	# shellcheck disable=SC2086 # a list of programs
	sh "$top_srcdir/tools/lighttpd-conf" --mode fastcgi \
		--bind 127.0.0.1 --port "$1" --docroot "$TRASH/www$sl_sfx_" \
		--sockdir "$sl_sockdir_" --bindir "${LIGHTTPD_BINDIR:-$top_builddir/cgi-bin}" \
		--routes "${LIGHTTPD_ROUTES:-$top_srcdir/conf/endpoints}" \
		--max-procs "${LIGHTTPD_MAX_PROCS:-1}" \
		--errorlog "$TRASH/lighttpd-error$sl_sfx_.log" \
		--breakagelog "$TRASH/backend-stderr.log" \
		${LIGHTTPD_PAGE:+--page "$LIGHTTPD_PAGE"} \
		${LIGHTTPD_PAGE_TOKEN:+--page-token "$LIGHTTPD_PAGE_TOKEN"} \
		$sl_progs_ >"$TRASH/lighttpd$sl_sfx_.conf" || return 1
	"$LIGHTTPD" -D -f "$TRASH/lighttpd$sl_sfx_.conf" \
		</dev/null >"$TRASH/lighttpd$sl_sfx_.out" 2>&1 3>&- 7>&- &
	SERVER_PID=$!
	if test -n "$sl_name_"; then
		eval "LIGHTTPD_PID_$sl_name_=\$SERVER_PID"
	else
		LIGHTTPD_PID=$SERVER_PID
	fi
}

# stop_lighttpd [NAME]: stop the lighttpd of start_lighttpd (of
# LIGHTTPD_NAME=NAME start_lighttpd), if any, and wait.
stop_lighttpd () {
	case ${1-} in
	'') st_pid_=${LIGHTTPD_PID-} ;;
	*[!a-z0-9]*) echo "stop_lighttpd: no server name '$1'" >&2; return 1 ;;
	*) eval "st_pid_=\${LIGHTTPD_PID_$1-}" ;;
	esac
	test -n "$st_pid_" || return 0
	kill "$st_pid_" 2>/dev/null
	wait "$st_pid_" 2>/dev/null
	if test -n "${1-}"; then
		eval "LIGHTTPD_PID_$1="
	else
		LIGHTTPD_PID=
	fi
	return 0
}

# http METHOD PATH [BODY_FILE] [CURL ARGS...]: send a request to $BASE$PATH.
# BODY_FILE ("" or left out before a "-" argument for none) is sent with Content-Type
# ${HTTP_CONTENT_TYPE-application/json} (empty: no Content-Type); POST, PUT
# and PATCH without one send an empty body. Writes $TRASH/headers (the final
# response's status line and headers, no CRs), $TRASH/body and
# $TRASH/status (000 when nothing answered), as run_cgi does, for
# check_status and check_code. Returns curl's exit status.
# Example: http POST /api/x body.json -H "Authorization: Bearer $TOKEN"
http () {
	h_method_=$1
	h_path_=$2
	shift 2
	h_body_=
	case ${1-} in
	-*) ;;	# no body file, curl arguments
	*) test "$#" -gt 0 && h_body_=$1 && shift ;;
	esac
	h_nargs_=$#
	set -- "$@" -q -sS --path-as-is --max-time "${HTTP_TIMEOUT:-30}" \
		-o "$TRASH/body" -D "$TRASH/headers.raw" -w '%{http_code}' \
		-H 'Expect:'
	h_data_=
	if test -n "$h_body_"; then
		set -- "$@" --data-binary "@$h_body_"
		h_data_=1
	else
		case $h_method_ in
		POST | PUT | PATCH) set -- "$@" -d '' && h_data_=1 ;;
		esac
	fi
	case $h_method_ in
	HEAD) set -- "$@" --head ;;
	GET) ;;
	POST) test -n "$h_data_" || set -- "$@" -X POST ;;
	*) set -- "$@" -X "$h_method_" ;;
	esac
	if test -n "$h_data_"; then
		h_ctype_=${HTTP_CONTENT_TYPE-application/json}
		# "Content-Type:" with no value makes curl send none
		set -- "$@" -H "Content-Type:${h_ctype_:+ $h_ctype_}"
	fi
	# the caller's curl arguments go last, so that they win
	while test "$h_nargs_" -gt 0; do
		set -- "$@" "$1"
		shift
		h_nargs_=$((h_nargs_ - 1))
	done
	: >"$TRASH/body"
	: >"$TRASH/headers.raw"
	"$CURL" "$@" "$BASE$h_path_" >"$TRASH/status"
	h_rc_=$?
	echo >>"$TRASH/status"
	# keep the last header block (after any 1xx), without the empty line
	tr -d '\r' <"$TRASH/headers.raw" | awk '
		/^HTTP\// { n = 0 }
		$0 != "" { h[n++] = $0 }
		END { for (i = 0; i < n; i++) print h[i] }' >"$TRASH/headers"
	return "$h_rc_"
}
