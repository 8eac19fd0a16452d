#!/bin/sh
# t1000-status: GET /api/status with the program run as plain CGI
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance || bail_out "cannot set up the instance"

test_expect_success 'GET /api/status answers 204 with no body' '
	run_cgi status GET /api/status &&
	check_status 204 &&
	test ! -s "$TRASH/body" &&
	! grep -i "^Content-Type:" "$TRASH/headers"
'

test_expect_success 'every response carries Cache-Control: no-store and X-Request-Id' '
	grep -x "Cache-Control: no-store" "$TRASH/headers" &&
	grep -E "^X-Request-Id: [0-9a-z]{16}$" "$TRASH/headers"
'

test_expect_success 'a sane X-Request-Id from the client is kept and logged' '
	run_cgi status GET /api/status HTTP_X_REQUEST_ID=abc-123.x_y:z &&
	grep -x "X-Request-Id: abc-123.x_y:z" "$TRASH/headers" &&
	grep "abc-123.x_y:z: GET /api/status 204" "$TRASH/reverify.log"
'

test_expect_success 'an X-Request-Id with odd characters is replaced' '
	run_cgi status GET /api/status "HTTP_X_REQUEST_ID=a b<script>" &&
	grep -E "^X-Request-Id: [0-9a-z]{16}$" "$TRASH/headers"
'

test_expect_success 'run by hand with PATH_INFO only, as the README shows' '
	env -i PATH="$PATH" REVERIFY_CONFIG="$REVERIFY_CONFIG" REQUEST_METHOD=GET \
		PATH_INFO=/api/status "$top_builddir/cgi-bin/status" >out &&
	head -n 1 out | grep "^Status: 204 No Content" &&
	grep -q "^X-Request-Id: " out
'

test_expect_success 'LISTEN_PID with trailing junk is no socket activation: still CGI' '
	env -i PATH="$PATH" REVERIFY_CONFIG="$REVERIFY_CONFIG" REQUEST_METHOD=GET \
		PATH_INFO=/api/status LISTEN_FDS=1 \
		sh -c "LISTEN_PID=\$\$x exec \"\$0\"" "$top_builddir/cgi-bin/status" \
		</dev/null >out 3</dev/null &&
	head -n 1 out | grep "^Status: 204 No Content"
'

test_expect_success 'HEAD is answered like GET' '
	run_cgi status HEAD /api/status &&
	check_status 204
'

test_expect_success 'a program without CGI variables says how to run it' '
	test_must_fail_=0 &&
	env -i PATH="$PATH" "$top_builddir/cgi-bin/status" </dev/null >out 2>err ||
	test_must_fail_=$? &&
	test "$test_must_fail_" = 2 &&
	grep "not started by a web server" err
'

test_expect_success 'a store that cannot be opened: 503 service.unavailable' '
	write_config "$(store_line_ --no-db "$TRASH/nowhere")" &&
	run_cgi status GET /api/status &&
	check_status 503 && check_code service.unavailable &&
	grep -i "^Retry-After: " "$TRASH/headers" &&
	setup_instance
'

test_expect_success 'status -t checks the configuration' '
	"$top_builddir/cgi-bin/status" -t -c "$REVERIFY_CONFIG" >out &&
	grep "configuration .* is valid" out
'

test_expect_success 'status -V prints the version' '
	"$top_builddir/cgi-bin/status" -V | grep "^status (reverify) [0-9]"
'

test_expect_success 'an unknown option is a usage error' '
	rc=0 && "$top_builddir/cgi-bin/status" -Z 2>err || rc=$? &&
	test "$rc" = 2 && grep "^usage: status" err
'

test_done
