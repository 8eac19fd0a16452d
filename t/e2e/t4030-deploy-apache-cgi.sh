#!/bin/sh
# t4030-deploy-apache-cgi: the installed apache-cgi.conf (Apache 2.4 + mod_cgid) and htaccess (shared hosting), unchanged
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/deploy-scenario.sh"
. "$top_srcdir/t/lib/apache.sh"

require_apache cgi
deploy_init || bail_out "cannot install and set up the instance"

# 1. apache-cgi.conf in a <VirtualHost>, the programs where make install
# put them
start_apache cgi || bail_out "Apache did not start"
deploy_scenario

test_expect_success 'plain CGI: no program keeps running' '
	! ps -eo args= | grep -F "$RV_LIBEXECDIR/" | grep -v grep
'
stop_apache

# 2. shared hosting: the programs in the document root's cgi-bin/, the
# htaccess as its .htaccess
start_apache htaccess || bail_out "Apache did not start (htaccess)"
deploy_scenario

test_expect_success 'htaccess: the programs in cgi-bin/ answer /api/ paths only' '
	http GET /cgi-bin/status &&
	check_status 404 && check_code request.not_found
'

test_done
