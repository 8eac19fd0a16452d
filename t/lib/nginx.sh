# nginx.sh: run reverify behind a real nginx + spawn-fcgi for the deployment tests
# shellcheck shell=sh disable=SC2154 # TRASH, top_* come from test-lib.sh
#
# Sourced after test-lib.sh, lighttpd.sh, instance.sh and deploy-scenario.sh,
# and after deploy_init:
#	start_nginx || bail_out "nginx did not start"
# Needs NGINX, SPAWN_FCGI and CURL (configure finds them); skips the script
# (bails out when REVERIFY_TEST_REQUIRE_SERVERS=1) without them.
#
# Every program runs under spawn-fcgi on its own unix socket, as the
# installed nginx.conf says (spawn-fcgi -s SOCKDIR/PROGRAM.sock --
# PROGRAM); nginx gets a config of its own with the installed snippet in
# its server block, with only the socket directory /run/reverify changed
# to $SOCKDIR. As root, nginx's workers and the programs run as RUN_USER
# (nginx's user directive, spawn-fcgi -u); otherwise as the calling user.

require_nginx () {
	require_server nginx "${NGINX-}"
	require_server spawn-fcgi "${SPAWN_FCGI-}"
	require_server curl "${CURL-}"
}

# spawn_programs_: one spawn-fcgi'd program per route program, in the
# foreground (-n: spawn-fcgi becomes the program), pids in SPAWN_PIDS
spawn_programs_ () {
	SPAWN_PIDS=
	sp_progs_=$(deploy_programs)
	for sp_prog_ in $sp_progs_; do
		set -- -n -s "$SOCKDIR/$sp_prog_.sock"
		if test -n "${RUN_USER-}"; then
			set -- "$@" -u "$RUN_USER" -g "$RUN_GROUP" -U "$RUN_USER" -G "$RUN_GROUP" -M 0660
		fi
		"$SPAWN_FCGI" "$@" -- "$RV_LIBEXECDIR/$sp_prog_" \
			</dev/null >>"$DEPLOY_HOME/nginx/spawn.out" 2>>"$DEPLOY_HOME/nginx/stderr.log" 3>&- 7>&- &
		SPAWN_PIDS="$SPAWN_PIDS $!"
	done
	# each one listens before nginx may send it anything
	for sp_prog_ in $sp_progs_; do
		sp_i_=0
		while ! test -S "$SOCKDIR/$sp_prog_.sock"; do
			sp_i_=$((sp_i_ + 1))
			if test "$sp_i_" -gt 100; then
				echo "spawn-fcgi: no socket $SOCKDIR/$sp_prog_.sock after 10 s" >&2
				cat "$DEPLOY_HOME/nginx/spawn.out" "$DEPLOY_HOME/nginx/stderr.log" >&2
				return 1
			fi
			sleep 0.1
		done
	done
	export SPAWN_PIDS
}

# nginx_conf_ PORT: nginx.conf, with the snippet in its server block
nginx_conf_ () {
	nc_dir_=$DEPLOY_HOME/nginx
	cat <<EOF
# nginx.conf of $TEST_NAME, written by t/lib/nginx.sh
daemon off;
master_process on;
worker_processes 1;
pid $nc_dir_/nginx.pid;
error_log $nc_dir_/error.log info;
EOF
	test -z "${RUN_USER-}" || echo "user $RUN_USER $RUN_GROUP;"
	cat <<EOF
events {
	worker_connections 64;
}
http {
	access_log off;
	client_body_temp_path $nc_dir_/tmp/body;
	fastcgi_temp_path $nc_dir_/tmp/fastcgi;
	proxy_temp_path $nc_dir_/tmp/proxy;
	uwsgi_temp_path $nc_dir_/tmp/uwsgi;
	scgi_temp_path $nc_dir_/tmp/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$1;
		server_name localhost;
		root $DEPLOY_HOME/www;
		include $nc_dir_/reverify.conf;
	}
}
EOF
}

nginx_start_ () {
	nginx_conf_ "$1" >"$DEPLOY_HOME/nginx/nginx.conf" || return 1
	if ! "$NGINX" -t -e "$DEPLOY_HOME/nginx/error.log" -p "$DEPLOY_HOME/nginx/" \
		-c "$DEPLOY_HOME/nginx/nginx.conf" >"$DEPLOY_HOME/nginx/configtest.out" 2>&1; then
		cat "$DEPLOY_HOME/nginx/configtest.out" >&2
		return 1
	fi
	"$NGINX" -e "$DEPLOY_HOME/nginx/error.log" -p "$DEPLOY_HOME/nginx/" \
		-c "$DEPLOY_HOME/nginx/nginx.conf" \
		</dev/null >"$DEPLOY_HOME/nginx/nginx.out" 2>&1 3>&- 7>&- &
	SERVER_PID=$!
}

# start_nginx: the programs under spawn-fcgi, then nginx on 127.0.0.1;
# exports BASE, SERVER_PID, SPAWN_PIDS. All stop at the end of the
# script; the programs' stderr and nginx's log then go to
# $TRASH/backend-stderr.log.
start_nginx () {
	require_nginx
	mkdir -p "$DEPLOY_HOME/nginx/tmp" || return 1
	sed "s|/run/reverify/|$SOCKDIR/|g" "$RV_DOCDIR/nginx.conf" \
		>"$DEPLOY_HOME/nginx/reverify.conf" || return 1
	test_cleanup_add stop_spawned
	spawn_programs_ || return 1
	deploy_serve nginx_start_ stop_nginx \
		"$DEPLOY_HOME/nginx/nginx.out" "$DEPLOY_HOME/nginx/error.log"
}

stop_nginx () {
	test -n "${SERVER_PID-}" || return 0
	deploy_stop_pid "$SERVER_PID"
	SERVER_PID=
	deploy_collect_stderr "$DEPLOY_HOME/nginx/nginx.out" "$DEPLOY_HOME/nginx/error.log"
}

# stop_spawned: stop the spawn-fcgi'd programs (SIGTERM ends their accept
# loop)
stop_spawned () {
	test -n "${SPAWN_PIDS-}" || return 0
	# shellcheck disable=SC2086 # a list of pids
	deploy_stop_pid $SPAWN_PIDS
	SPAWN_PIDS=
	deploy_collect_stderr "$DEPLOY_HOME/nginx/stderr.log"
}
