# postfix.sh: a Postfix instance of the test's own, loopback only, for e2e
# tests of real mail delivery
# shellcheck shell=sh disable=SC2154 # TRASH, top_srcdir come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/postfix.sh"
#	require_postfix
#	postfix_start [--smtp] || bail_out "Postfix did not start"
#	... <delivery sendmail="$POSTFIX_SENDMAIL" mail-from="..."/> ...
#	f=$(postfix_wait_mail alice 1) && python3 "$top_srcdir/t/lib/mailcheck.py" "$f"
#
# The instance lives in $POSTFIX_DIR ($TRASH/postfix, see postfix_dir_):
# its own main.cf and
# master.cf (etc/), queue (queue/), data (data/) and log (maillog), so that
# neither the system's Postfix (if any; it is not started) nor another test
# shares anything with it. Only the programs come from the system
# (/usr/sbin, /usr/lib/postfix). Its domain rv.test is a virtual(8)
# mailbox domain: every *@rv.test message lands in a Maildir under
# $POSTFIX_DIR/mail (LOCAL/ for each LOCAL of $POSTFIX_USERS, default
# "alice bob carol mallory", other/ for the rest). Every other destination goes to the error transport: no
# message leaves the machine, and no SMTP client is even in master.cf.
# `postfix start` is reserved for root (postfix(1)), so the tests skip
# without root (CI runs as root).

POSTFIX_USERS=${POSTFIX_USERS:-alice bob carol mallory}
export POSTFIX_USERS

# postfix_dir_: POSTFIX_DIR, and POSTFIX_SENDMAIL, Postfix's own sendmail
# (it hands the message to the set-group-id postdrop) for the instance's
# configuration directory. The daemons run as postfix and deliver as
# nobody: when they cannot reach $TRASH (a build tree in a private
# directory, as CI's tarball builds), the instance lives in a directory of
# its own under ${TMPDIR:-/tmp}, removed at the end.
postfix_dir_ () {
	POSTFIX_DIR=$TRASH/postfix
	if ! setpriv --reuid=postfix --regid="$(id -g postfix)" --clear-groups \
		test -x "$TRASH" 2>/dev/null ||
		! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$TRASH" 2>/dev/null; then
		POSTFIX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rv-postfix.XXXXXX") || return 1
		chmod 755 "$POSTFIX_DIR" || return 1
		test_cleanup_add "rm -rf '$POSTFIX_DIR'"
		test_watch_dir "$POSTFIX_DIR"
	fi
	POSTFIX_SENDMAIL="/usr/sbin/sendmail -C $POSTFIX_DIR/etc -t -i"
	export POSTFIX_DIR POSTFIX_SENDMAIL
}

# require_postfix: skip the script (bail out under
# REVERIFY_TEST_REQUIRE_SERVERS=1) without Postfix, root or python3
require_postfix () {
	require_server postfix "$(command -v postfix || echo /usr/sbin/postfix)"
	require_server "Postfix's sendmail" /usr/sbin/postdrop
	require_server python3 "$(command -v python3)"
	test -x /usr/lib/postfix/sbin/master ||
		require_server "Postfix's master" ""
	if test "$(id -u)" != 0; then
		if test "${REVERIFY_TEST_REQUIRE_SERVERS-}" = 1; then
			bail_out "Postfix tests need root (postfix start), and REVERIFY_TEST_REQUIRE_SERVERS=1"
		fi
		skip_all "Postfix tests need root (postfix start is reserved for the superuser)"
	fi
}

# postfix_free_port_: a TCP port of 127.0.0.1 that nothing listens on now
postfix_free_port_ () {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# postfix_config_ [PORT]: write main.cf and master.cf; with PORT, smtpd
# listens on 127.0.0.1:PORT
postfix_config_ () {
	pd_=$POSTFIX_DIR
	mkdir -p "$pd_/etc" "$pd_/queue" "$pd_/data" "$pd_/mail" || return 1
	# virtual(8) delivers as nobody, which needs to get to the Maildirs
	chown 65534:65534 "$pd_/mail" && chmod 0700 "$pd_/mail" || return 1
	chown postfix "$pd_/data" || return 1
	cat >"$pd_/etc/main.cf" <<EOF || return 1
# written by t/lib/postfix.sh for $TEST_NAME
compatibility_level = 3.6
queue_directory = $pd_/queue
data_directory = $pd_/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-$TEST_NAME
maillog_file = $pd_/maillog
maillog_file_prefixes = $pd_
myhostname = mx.rv.test
mydomain = rv.test
myorigin = rv.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = reject_unauth_destination
alias_maps =
alias_database =
biff = no
notify_classes =
virtual_mailbox_domains = rv.test
virtual_mailbox_base = $pd_/mail
virtual_mailbox_maps = regexp:$pd_/etc/virtual
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
# nothing leaves the machine: every other destination is an error
default_transport = error:5.7.1 no mail leaves the machine in the tests
relay_transport = error:5.7.1 no relay in the tests
local_transport = error:5.7.1 no local delivery in the tests
EOF
	# virtual(8) allows no substitution in a regexp map: one line each
	{
		for pu_ in $POSTFIX_USERS; do
			printf '/^%s@rv\\.test$/	%s/\n' "$pu_" "$pu_"
		done
		printf '/@rv\\.test$/	other/\n'
	} >"$pd_/etc/virtual" || return 1
	# no chroot (the queue is not a prepared chroot jail); no smtp or
	# lmtp client at all
	{
		if test -n "${1-}"; then
			printf '127.0.0.1:%s inet n - n - - smtpd\n' "$1"
		fi
		cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$pd_/etc/master.cf"
}

# postfix_start [--smtp]: write the instance and start it (`postfix -c DIR
# start`); stopped again at test_done. --smtp: smtpd on a free port of
# 127.0.0.1 too, exported as POSTFIX_SMTP_PORT. Sets POSTFIX_DIR and
# POSTFIX_SENDMAIL.
# shellcheck disable=SC2120 # --smtp is optional
postfix_start () {
	postfix_dir_ || return 1
	ps_port_=
	ps_try_=0
	while :; do
		ps_try_=$((ps_try_ + 1))
		if test "${1-}" = --smtp; then
			ps_port_=$(postfix_free_port_) || return 1
		fi
		postfix_config_ "$ps_port_" || return 1
		: >"$POSTFIX_DIR/maillog"
		test "$ps_try_" = 1 && test_cleanup_add postfix_stop
		if postfix -c "$POSTFIX_DIR/etc" start >"$POSTFIX_DIR/start.log" 2>&1 &&
			postfix_wait_master_ up; then
			break
		fi
		postfix_stop
		# the port was taken between the check and the bind: again
		if test -n "$ps_port_" && test "$ps_try_" -lt 5 &&
			grep -q 'Address already in use' "$POSTFIX_DIR/maillog" \
				"$POSTFIX_DIR/start.log"; then
			continue
		fi
		echo "postfix_start: Postfix did not start" >&2
		server_logs_ "$POSTFIX_DIR/start.log" "$POSTFIX_DIR/maillog" >&2
		return 1
	done
	POSTFIX_SMTP_PORT=$ps_port_
	export POSTFIX_SMTP_PORT
}

# postfix_master_pid_: the pid of the instance's master, if it runs
postfix_master_pid_ () {
	pm_pid_=$(tr -d ' ' 2>/dev/null <"$POSTFIX_DIR/queue/pid/master.pid") || return 1
	case $pm_pid_ in '' | *[!0-9]*) return 1 ;; esac
	kill -0 "$pm_pid_" 2>/dev/null || return 1
	echo "$pm_pid_"
}

# postfix_wait_master_ up|down: wait up to 10 s until the master runs (up:
# and the pickup socket is there) or is gone (down)
postfix_wait_master_ () {
	pw_n_=0
	while test "$pw_n_" -lt 100; do
		if postfix_master_pid_ >/dev/null; then
			test "$1" = up && test -S "$POSTFIX_DIR/queue/public/pickup" &&
				return 0
		else
			test "$1" = down && return 0
		fi
		sleep 0.1
		pw_n_=$((pw_n_ + 1))
	done
	return 1
}

# postfix_stop: stop the instance (postfix stop, then postfix abort, then
# SIGKILL of the master) and wait until its master is gone
postfix_stop () {
	postfix_master_pid_ >/dev/null || return 0
	postfix -c "$POSTFIX_DIR/etc" stop >/dev/null 2>&1
	postfix_wait_master_ down && return 0
	postfix -c "$POSTFIX_DIR/etc" abort >/dev/null 2>&1
	postfix_wait_master_ down && return 0
	ps_pid_=$(postfix_master_pid_) && kill -KILL "$ps_pid_"
	postfix_wait_master_ down
}

# postfix_mails LOCAL: the delivered messages of LOCAL@rv.test (the Maildir
# LOCAL, or other), oldest first
postfix_mails () {
	find "$POSTFIX_DIR/mail/$1/new" -type f -printf '%T@ %p\n' 2>/dev/null |
		sort -k1,1n | cut -d ' ' -f 2-
}

# postfix_count LOCAL: how many messages the Maildir LOCAL holds
postfix_count () {
	postfix_mails "$1" | wc -l | tr -d ' '
}

# postfix_wait_mail LOCAL N: wait up to 15 s until the Maildir LOCAL holds N
# messages; print the newest. Fails (with the queue and the log) when it
# does not.
postfix_wait_mail () {
	pw_n_=0
	while test "$pw_n_" -lt 150; do
		if test "$(postfix_count "$1")" -ge "$2"; then
			postfix_mails "$1" | tail -n 1
			return 0
		fi
		sleep 0.1
		pw_n_=$((pw_n_ + 1))
	done
	echo "postfix_wait_mail: $(postfix_count "$1") message(s) for $1, want $2" >&2
	postqueue -c "$POSTFIX_DIR/etc" -p >&2
	tail -n 20 "$POSTFIX_DIR/maillog" >&2
	return 1
}

# postfix_queue_empty: the instance's queue holds no message (waits up to
# 10 s for those in flight)
postfix_queue_empty () {
	pq_n_=0
	while test "$pq_n_" -lt 100; do
		test -z "$(find "$POSTFIX_DIR/queue/maildrop" "$POSTFIX_DIR/queue/incoming" \
			"$POSTFIX_DIR/queue/active" "$POSTFIX_DIR/queue/deferred" \
			-type f 2>/dev/null)" && return 0
		sleep 0.1
		pq_n_=$((pq_n_ + 1))
	done
	postqueue -c "$POSTFIX_DIR/etc" -p
	return 1
}
