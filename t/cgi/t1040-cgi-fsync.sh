#!/bin/sh
# t1040-cgi-fsync: a CGI read flushes nothing to disk (strace counts the
# fsync family); a user change does, as <store users-sync> says (issue 17)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

command -v strace >/dev/null 2>&1 || skip_all "strace not found (apt-get install strace)"
strace -f -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here (ptrace refused)"
command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"
# Berkeley DB's own flushes are what this counts; PostgreSQL flushes in
# its server process
require_bdb "counts the fsync calls of Berkeley DB in the CGI process"

setup_instance '<account-center name="edit"/>' ||
	bail_out "cannot set up the instance"
uid=$(add_user --username dora --email dora@example.com) || bail_out "no user"
tok=$(mint "$uid")

# syncs METHOD PATH [BODY]: run the CGI program of PATH under strace and
# print how many fsync-family calls it made (all its processes)
syncs () {
	case $2 in
	/api/my-account) sy_prog_=my-account ;;
	*) sy_prog_=status ;;
	esac
	sy_len_=0
	test -n "${3-}" && printf '%s' "$3" >sync-body.json &&
		sy_len_=$(wc -c <sync-body.json)
	test -n "${3-}" || : >sync-body.json
	# LeakSanitizer cannot run under ptrace (the sanitizer build)
	env -i REVERIFY_CONFIG="$REVERIFY_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		ASAN_OPTIONS=detect_leaks=0 \
		REQUEST_METHOD="$1" SCRIPT_NAME="$2" REQUEST_URI="$2" \
		CONTENT_TYPE=application/json CONTENT_LENGTH="$sy_len_" \
		HTTP_AUTHORIZATION="Bearer $tok" \
		strace -f -qq -o strace.out \
		-e trace=fsync,fdatasync,sync_file_range,sync,syncfs,msync \
		"$top_builddir/cgi-bin/$sy_prog_" <sync-body.json >cgi.out || return 1
	grep -q '^Status: 2' cgi.out || { cat cgi.out >&2; return 1; }
	# grep -c prints 0 and fails when there is none
	grep -c -E '(fsync|fdatasync|sync_file_range|sync|syncfs|msync)\(' strace.out || :
}

test_expect_success 'a CGI GET /api/my-account makes no fsync call' '
	n=$(syncs GET /api/my-account) && echo "fsync calls: $n" &&
	test "$n" = 0 &&
	n=$(syncs GET /api/my-account) && test "$n" = 0
'

test_expect_success 'nor does GET /api/status' '
	n=$(syncs GET /api/status) && test "$n" = 0
'

test_expect_success 'a user change flushes (users-sync="yes"): the count is real' '
	n=$(syncs PATCH /api/my-account "{\"name\":\"Dora\"}") && echo "fsync calls: $n" &&
	test "$n" -ge 1
'

test_expect_success 'and the read after it makes none again' '
	n=$(syncs GET /api/my-account) && test "$n" = 0
'

test_done
