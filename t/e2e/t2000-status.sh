#!/bin/sh
# t2000-status: GET /api/status through a real lighttpd with mod_fastcgi
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance || bail_out "cannot set up the instance"
start_lighttpd status || bail_out "lighttpd did not start"

test_expect_success 'GET /api/status: 204 No Content' '
	http GET /api/status &&
	check_status 204 &&
	test ! -s "$TRASH/body"
'

test_expect_success 'the response carries no-store and a request id' '
	grep -ix "Cache-Control: no-store" "$TRASH/headers" &&
	grep -iE "^X-Request-Id: [0-9a-z]{16}$" "$TRASH/headers"
'

test_expect_success 'the request id is on the log line of the request' '
	http GET /api/status -H "X-Request-Id: t2000-probe" &&
	grep -ix "X-Request-Id: t2000-probe" "$TRASH/headers" &&
	grep "t2000-probe: GET /api/status 204" "$TRASH/reverify.log"
'

test_expect_success 'HEAD /api/status: 204' '
	http HEAD /api/status &&
	check_status 204
'

test_expect_success 'POST /api/status: 405 JSON with Allow' '
	http POST /api/status &&
	check_status 405 && check_code request.method_not_allowed &&
	grep -ix "Allow: GET, HEAD, OPTIONS" "$TRASH/headers" &&
	grep -ix "Content-Type: application/json; charset=utf-8" "$TRASH/headers"
'

test_expect_success 'an unknown path below the program: 404 JSON' '
	http GET /api/status/nowhere &&
	check_status 404 && check_code request.not_found
'

test_expect_success 'the 404 message follows Accept-Language, the code does not' '
	http GET /api/status/nowhere -H "Accept-Language: ko" &&
	check_status 404 && check_code request.not_found &&
	json_get "$TRASH/body" .message >ko.msg &&
	grep -F "$(cat ko.msg)" "$top_srcdir/conf/locale/ko.xml"
'

test_expect_success 'a FastCGI backend serves many requests in one process' '
	i=0 &&
	while test $i -lt 50; do
		http GET /api/status && check_status 204 || return 1
		i=$((i + 1))
	done &&
	test "$(grep -c "GET /api/status 204" "$TRASH/reverify.log")" -ge 50 &&
	test "$(sed -n "s/^.*status\[\([0-9]*\)\]: .*GET \/api\/status 204.*/\1/p" "$TRASH/reverify.log" | sort -u | wc -l)" = 1
'

test_expect_success 'the backend stops cleanly with lighttpd (SIGTERM)' '
	stop_lighttpd &&
	sleep 0.2 &&
	grep "status\[[0-9]*\]: stopping" "$TRASH/reverify.log"
'

test_done
