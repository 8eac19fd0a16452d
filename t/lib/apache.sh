# apache.sh: run reverify behind a real Apache 2.4 for the deployment tests
# shellcheck shell=sh disable=SC2154 # TRASH, top_* come from test-lib.sh
#
# Sourced after test-lib.sh, lighttpd.sh, instance.sh and deploy-scenario.sh,
# and after deploy_init:
#	start_apache fcgid || bail_out "Apache did not start"
# Needs APACHE2 (configure finds apache2 or httpd) and CURL; skips the
# script (bails out when REVERIFY_TEST_REQUIRE_SERVERS=1) without them or
# without the module .so files.
#
# Apache gets a config of its own in $DEPLOY_HOME/apache/httpd.conf: only
# the modules it needs, one process, 127.0.0.1, and a <VirtualHost> that
# Defines REVERIFY_LIBEXECDIR and REVERIFY_CONFIG and then Includes the
# installed snippet unchanged. As root it starts as root and serves as
# RUN_USER (User/Group); otherwise it runs as the calling user.

# apache_moddir_: the directory of mod_*.so (Debian, then others)
apache_moddir_ () {
	for am_d_ in ${APACHE_MODULES-} /usr/lib/apache2/modules \
		/usr/lib64/httpd/modules /usr/lib/httpd/modules \
		/usr/local/apache2/modules; do
		if test -f "$am_d_/mod_alias.so"; then
			echo "$am_d_"
			return 0
		fi
	done
	return 1
}

# require_apache MODE: skip unless Apache and the modules of MODE (fcgid,
# cgi or htaccess) are there
require_apache () {
	require_server apache2 "${APACHE2-}"
	require_server curl "${CURL-}"
	APACHE_MODDIR=$(apache_moddir_) || require_server "Apache modules (mod_alias.so)" ""
	case $1 in
	fcgid) ra_mods_="mpm_event authz_core alias fcgid" ;;
	cgi | htaccess) ra_mods_="mpm_event authz_core alias env rewrite cgid" ;;
	*) bail_out "require_apache: mode is fcgid, cgi or htaccess, not '$1'" ;;
	esac
	for ra_m_ in $ra_mods_; do
		test -f "$APACHE_MODDIR/mod_$ra_m_.so" ||
			require_server "Apache module mod_$ra_m_ (libapache2-mod-$ra_m_?)" ""
	done
	APACHE_MODULES_LIST=$ra_mods_
	export APACHE_MODDIR APACHE_MODULES_LIST
}

# apache_conf_ PORT MODE: the httpd.conf. MODE fcgid or cgi: the snippet
# apache-MODE.conf in a <VirtualHost>; htaccess: a document root with the
# programs in cgi-bin/ and the snippet htaccess as its .htaccess (with
# the one line a user changes, SetEnv REVERIFY_CONFIG, changed).
apache_conf_ () {
	ac_port_=$1 ac_mode_=$2 ac_dir_=$DEPLOY_HOME/apache
	echo "# httpd.conf of $TEST_NAME, written by t/lib/apache.sh"
	echo "ServerRoot \"$ac_dir_\""
	echo "Listen 127.0.0.1:$ac_port_"
	echo "ServerName 127.0.0.1"
	for ac_m_ in $APACHE_MODULES_LIST; do
		echo "LoadModule ${ac_m_}_module \"$APACHE_MODDIR/mod_$ac_m_.so\""
	done
	if test -n "${RUN_USER-}"; then
		echo "User $RUN_USER"
		echo "Group $RUN_GROUP"
	fi
	cat <<EOF
PidFile "$ac_dir_/httpd.pid"
DefaultRuntimeDir "$SOCKDIR"
Mutex file:$SOCKDIR default
ErrorLog "$ac_dir_/error.log"
LogLevel info
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
Timeout 30
<Directory />
	AllowOverride None
	Require all denied
</Directory>
DocumentRoot "$DEPLOY_HOME/www"
<Directory "$DEPLOY_HOME/www">
	Require all granted
</Directory>
EOF
	case $ac_mode_ in
	fcgid)
		echo "FcgidIPCDir \"$SOCKDIR/fcgid\""
		echo "FcgidProcessTableFile \"$SOCKDIR/fcgid-shm\""
		;;
	*)
		echo "ScriptSock \"$SOCKDIR/cgid.sock\""
		;;
	esac
	case $ac_mode_ in
	fcgid | cgi)
		cat <<EOF
Define REVERIFY_LIBEXECDIR "$RV_LIBEXECDIR"
Define REVERIFY_CONFIG "$REVERIFY_CONFIG"
<VirtualHost 127.0.0.1:$ac_port_>
	Include "$RV_DOCDIR/apache-$ac_mode_.conf"
</VirtualHost>
EOF
		;;
	htaccess)
		cat <<EOF
<VirtualHost 127.0.0.1:$ac_port_>
	<Directory "$DEPLOY_HOME/www">
		AllowOverride All
		Require all granted
	</Directory>
</VirtualHost>
EOF
		;;
	esac
}

# apache_htdocs_: the shared-hosting layout in $DEPLOY_HOME/www
apache_htdocs_ () {
	mkdir -p "$DEPLOY_HOME/www/cgi-bin" || return 1
	cp "$RV_LIBEXECDIR"/* "$DEPLOY_HOME/www/cgi-bin/" || return 1
	sed "s|^SetEnv REVERIFY_CONFIG .*|SetEnv REVERIFY_CONFIG $REVERIFY_CONFIG|" \
		"$RV_DOCDIR/htaccess" >"$DEPLOY_HOME/www/.htaccess" || return 1
	# exactly that one line differs
	test "$(diff "$RV_DOCDIR/htaccess" "$DEPLOY_HOME/www/.htaccess" | grep -c '^[<>]')" = 2 ||
		return 1
	if test -n "${RUN_USER-}"; then
		chown -R "$RUN_USER:$RUN_GROUP" "$DEPLOY_HOME/www" || return 1
	fi
}

apache_start_ () {
	mkdir -p "$DEPLOY_HOME/apache" || return 1
	apache_conf_ "$1" "$APACHE_MODE" >"$DEPLOY_HOME/apache/httpd.conf" || return 1
	if ! "$APACHE2" -t -d "$DEPLOY_HOME/apache" -f "$DEPLOY_HOME/apache/httpd.conf" \
		>"$DEPLOY_HOME/apache/configtest.out" 2>&1; then
		cat "$DEPLOY_HOME/apache/configtest.out" >&2
		return 1
	fi
	"$APACHE2" -d "$DEPLOY_HOME/apache" -f "$DEPLOY_HOME/apache/httpd.conf" \
		-DFOREGROUND </dev/null >"$DEPLOY_HOME/apache/httpd.out" 2>&1 3>&- 7>&- &
	SERVER_PID=$!
}

# start_apache MODE: Apache with the snippet of MODE (fcgid, cgi or
# htaccess, see apache_conf_) on 127.0.0.1; exports BASE, SERVER_PID,
# APACHE_MODE. It stops at the end of the script; its error log (the
# programs' stderr) then goes to $TRASH/backend-stderr.log.
start_apache () {
	require_apache "$1"
	APACHE_MODE=$1
	export APACHE_MODE
	if test "$1" = htaccess; then
		apache_htdocs_ || return 1
	fi
	mkdir -p "$DEPLOY_HOME/apache" || return 1
	deploy_serve apache_start_ stop_apache \
		"$DEPLOY_HOME/apache/httpd.out" "$DEPLOY_HOME/apache/error.log"
}

# stop_apache: stop it (graceful TERM to the parent, which stops its
# children and the FastCGI processes) and keep its log
stop_apache () {
	test -n "${SERVER_PID-}" || return 0
	deploy_stop_pid "$SERVER_PID"
	SERVER_PID=
	deploy_collect_stderr "$DEPLOY_HOME/apache/httpd.out" "$DEPLOY_HOME/apache/error.log"
}
