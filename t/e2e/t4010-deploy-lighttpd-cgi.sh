#!/bin/sh
# t4010-deploy-lighttpd-cgi: the installed lighttpd-cgi.conf, its settings set, in lighttpd 1.4 + mod_cgi
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
start_lighttpd_deploy cgi || bail_out "lighttpd did not start"

deploy_scenario

test_expect_success 'plain CGI: no program keeps running' '
	! ps -eo args= | grep -F "$RV_LIBEXECDIR/" | grep -v grep
'

test_done
