#!/bin/sh
# t4020-deploy-apache-fcgid: the installed conf apache-fcgid.conf, unchanged, in Apache 2.4 + mod_fcgid
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/deploy-scenario.sh"
. "$top_srcdir/t/lib/apache.sh"

require_apache fcgid
deploy_init || bail_out "cannot install and set up the instance"
start_apache fcgid || bail_out "Apache did not start"

deploy_scenario

test_expect_success 'mod_fcgid keeps the programs running between requests' '
	ps -eo args= | grep -F "$RV_LIBEXECDIR/my-account" | grep -v grep
'

test_expect_success 'without mod_fcgid the snippet stops Apache, naming the package' '
	sed -e "/^LoadModule fcgid_module /d" -e "/^[[:space:]]*Fcgid/d" \
		"$DEPLOY_HOME/apache/httpd.conf" >"$DEPLOY_HOME/apache/no-fcgid.conf" &&
	! "$APACHE2" -t -d "$DEPLOY_HOME/apache" -f "$DEPLOY_HOME/apache/no-fcgid.conf" \
		>"$TRASH/no-fcgid.out" 2>&1 &&
	grep -F "needs mod_fcgid (Debian: apt-get install libapache2-mod-fcgid" "$TRASH/no-fcgid.out"
'

test_done
