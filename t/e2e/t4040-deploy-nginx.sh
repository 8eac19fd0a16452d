#!/bin/sh
# t4040-deploy-nginx: the installed nginx.conf in nginx, each program under spawn-fcgi on its own unix socket
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/deploy-scenario.sh"
. "$top_srcdir/t/lib/nginx.sh"

require_nginx
deploy_init || bail_out "cannot install and set up the instance"
start_nginx || bail_out "nginx did not start"

deploy_scenario

test_expect_success 'one socket per program, each served by its program' '
	ok=1 &&
	for p in $(deploy_programs); do
		test -S "$SOCKDIR/$p.sock" || { echo "no socket for $p"; ok=; }
		check_run_user "$p" || ok=
	done &&
	test -n "$ok"
'

test_expect_success 'nginx answers unknown /api/ paths itself' '
	http GET /api/nowhere &&
	check_status 404
'

test_done
