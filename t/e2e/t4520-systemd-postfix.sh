#!/bin/sh
# t4520-systemd-postfix: the shipped systemd unit's sandbox with Postfix's set-group-id sendmail: the unit alone fails (NoNewPrivileges), the unit with conf/systemd/postfix.conf delivers
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/postfix.sh"

# systemd is not PID 1 in CI's container: t/lib/unit-sandbox applies the
# unit's file-system and privilege settings with unshare and setpriv
UNIT=$top_builddir/conf/systemd/reverify@.service
DROPIN=$top_srcdir/conf/systemd/postfix.conf
SANDBOX=$top_srcdir/t/lib/unit-sandbox
require_postfix
require_server setpriv "$(command -v setpriv)"
require_server unshare "$(command -v unshare)"
test -f "$UNIT" || bail_out "no $UNIT (make builds it)"
# like systemd's, the sandbox's PrivateTmp hides a socket in /tmp, where
# the test cluster of PostgreSQL has its own
if test_store_pgsql; then
	skip_all "the unit's PrivateTmp hides the PostgreSQL test cluster's socket in /tmp; the Berkeley DB run covers it"
fi
RUN_USER=
for u in ${REVERIFY_TEST_USER-} www-data nobody; do
	if id "$u" >/dev/null 2>&1; then
		RUN_USER=$u
		break
	fi
done
test -n "$RUN_USER" || bail_out "no unprivileged user to run the program as"
setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --clear-groups \
	test -x "$TRASH" ||
	skip_all "$RUN_USER cannot reach $TRASH (a build tree in a private directory)"
unshare --mount true 2>/dev/null ||
	skip_all "no mount namespace here (unshare --mount needs CAP_SYS_ADMIN)"

postfix_start || bail_out "Postfix did not start"

# the unit's paths: the store home and the log directory
# ($localstatedir/lib/reverify, -$localstatedir/log/reverify)
store_rw=$(sed -n 's/^ReadWritePaths=\([^ ]*\) .*/\1/p' "$UNIT")
log_rw=$(sed -n 's/^ReadWritePaths=[^ ]* -\([^ ]*\).*/\1/p' "$UNIT")
if test -z "$store_rw" || test -z "$log_rw"; then
	bail_out "no ReadWritePaths in $UNIT"
fi
mkdir -p "$TRASH/log" || bail_out "no log directory"

# The sandbox sees the instance where the system's Postfix would be:
# its configuration (with that queue) on /etc/postfix, its queue on
# /var/spool/postfix. So <delivery> has the sample's plain sendmail, and
# the unit and the drop-in are used with their own paths. (A second
# configuration directory, sendmail -C, is refused to any user but root
# unless the default main.cf lists it: postconf(5),
# alternate_config_directories.)
if ! mkdir -p "$POSTFIX_DIR/etc-sandbox" ||
	! sed 's|^queue_directory = .*|queue_directory = /var/spool/postfix|' \
		"$POSTFIX_DIR/etc/main.cf" >"$POSTFIX_DIR/etc-sandbox/main.cf" ||
	! cp "$POSTFIX_DIR/etc/master.cf" "$POSTFIX_DIR/etc-sandbox/"; then
	bail_out "no configuration for the sandbox"
fi
if ! test -d /etc/postfix || ! test -d /var/spool/postfix; then
	bail_out "no /etc/postfix or /var/spool/postfix to mount the instance on"
fi
# timeout: postdrop retries a maildrop it may not write (for ever), so a
# failing sendmail ends only when reverify kills it
setup_instance '<delivery sendmail="/usr/sbin/sendmail -t -i" mail-from="reverify &lt;noreply@rv.test&gt;" timeout="2"/>' ||
	bail_out "cannot set up the instance"
sed -i "s|file=\"$TRASH/reverify.log\"|file=\"$TRASH/log/reverify.log\"|" "$REVERIFY_CONFIG" ||
	bail_out "cannot move the log"
uid=$(add_user --username alice --email alice@rv.test) || bail_out "no user"
tok=$(mint "$uid")
# the store belongs to the unit's user (deploy.md)
chown -R "$RUN_USER" "$TRASH/store" "$TRASH/log" "$TRASH/audit.key" ||
	bail_out "cannot give the store to $RUN_USER"
jq -cn '{identifier: {type: "email", value: "alice@rv.test"}}' >send.json

# sandboxed [DROP-IN] -- COMMAND...: COMMAND under the unit (and DROP-IN)
sandboxed () {
	sb_files_=$UNIT
	while test "$1" != --; do
		sb_files_="$sb_files_ $1"
		shift
	done
	# shellcheck disable=SC2086 # the file names have no spaces
	"$SANDBOX" --user "$RUN_USER" --keep "$top_builddir" --map "$store_rw=$TRASH/store" \
		--map "$log_rw=$TRASH/log" \
		--bind "$POSTFIX_DIR/etc-sandbox=/etc/postfix" \
		--bind "$POSTFIX_DIR/queue=/var/spool/postfix" \
		$sb_files_ "$@"
}

# send_code_cgi [DROP-IN]: POST /api/verifications/verification-code to
# alice@rv.test, the program run as CGI under the unit (and DROP-IN)
send_code_cgi () {
	sandboxed "$@" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		REVERIFY_CONFIG="$REVERIFY_CONFIG" GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 SERVER_NAME=localhost SERVER_PORT=80 \
		REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=POST \
		REQUEST_URI=/api/verifications/verification-code \
		SCRIPT_NAME=/api/verifications/verification-code \
		CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <send.json)" \
		HTTP_AUTHORIZATION="Bearer $tok" \
		"$top_builddir/cgi-bin/verification-code" <send.json >"$TRASH/cgi-output" \
		2>"$TRASH/sandbox.err"
	cat "$TRASH/sandbox.err"
	# sanitizer reports cannot reach $TRASH from inside the sandbox
	! grep -E "runtime error:|Sanitizer" "$TRASH/sandbox.err" || return 1
	test "$(split_response_ "$TRASH/cgi-output")" -ge 0 || return 1
	sed -n 's/^Status: *\([0-9]*\).*/\1/p' "$TRASH/headers" >"$TRASH/status"
}

test_expect_success 'the sandbox is real: read-only outside ReadWritePaths, no new privileges' '
	sandboxed "$DROPIN" -- sh -c "
		grep -q \"^NoNewPrivs:[[:space:]]*1\" /proc/self/status &&
		test \"\$(id -u)\" = \"$(id -u "$RUN_USER")\" &&
		id -G | tr \" \" \"\\n\" | grep -qx \"$(getent group postdrop | cut -d: -f3)\" &&
		! touch \"$TRASH/outside\" && ! touch /var/spool/postfix/outside &&
		test -d /var/spool/postfix/maildrop/. &&
		touch \"$TRASH/store/inside\" && rm \"$TRASH/store/inside\" &&
		test \"\$(umask)\" = 0077"
'

test_expect_success 'the unit alone: postdrop cannot queue (NoNewPrivileges drops its group): 503, nothing sent' '
	send_code_cgi &&
	check_status 503 && check_code connector.general &&
	grep -q "postdrop: warning: mail_queue_enter: create file maildrop/.*: Permission denied" \
		"$TRASH/log/reverify.log" &&
	grep -q "sendmail program ./usr/sbin/sendmail. timed out after 2 s" "$TRASH/log/reverify.log" &&
	test "$(postfix_count alice)" = 0 &&
	postfix_queue_empty
'

test_expect_success 'with conf/systemd/postfix.conf: 201, delivered, sent as the unit user with NoNewPrivileges on' '
	send_code_cgi "$DROPIN" &&
	check_status 201 &&
	f=$(postfix_wait_mail alice 1) &&
	grep "^To: alice@rv.test$" "$f" &&
	grep -q "pickup\[[0-9]*\]: [0-9A-F]*: uid=$(id -u "$RUN_USER") from=<$RUN_USER>" \
		"$POSTFIX_DIR/maillog"
'

test_done
