#!/bin/sh
# t4000-deploy-lighttpd-fastcgi: the installed lighttpd-fastcgi.conf, its settings set, in lighttpd 1.4 + mod_fastcgi
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/deploy-scenario.sh"

require_server lighttpd "${LIGHTTPD-}"
require_server curl "${CURL-}"
deploy_init || bail_out "cannot install and set up the instance"
start_lighttpd_deploy fastcgi || bail_out "lighttpd did not start"

deploy_scenario

test_expect_success 'lighttpd keeps the programs running, as the server user' '
	check_run_user my-account &&
	check_run_user verification-code
'

test_done
