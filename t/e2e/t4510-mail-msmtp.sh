#!/bin/sh
# t4510-mail-msmtp: codes and notices through msmtp as sendmail, over SMTP on 127.0.0.1 into a real Postfix (a site without a local MTA), read back with Python's MIME parser
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/mail-scenario.sh"

require_postfix
require_server msmtp "$(command -v msmtp || echo /usr/bin/msmtp)"
postfix_start --smtp || bail_out "Postfix did not start"

# the site's msmtp configuration: the relay, the envelope sender; no TLS
# or authentication on loopback (a real relay would have both)
cat >"$TRASH/msmtprc" <<EOF
defaults
syslog off
logfile $TRASH/msmtp.log
account default
host 127.0.0.1
port $POSTFIX_SMTP_PORT
domain client.rv.test
from noreply@rv.test
auth off
tls off
EOF
chmod 600 "$TRASH/msmtprc"

mail_scenario "$(command -v msmtp) -C $TRASH/msmtprc -t -i"

test_expect_success 'every message went over SMTP: msmtp logged each, Postfix received each' '
	test "$(grep -c "exitcode=EX_OK" "$TRASH/msmtp.log")" = 7 &&
	test "$(grep -c "postfix-$TEST_NAME/smtpd.*client=localhost\[127.0.0.1\]" \
		"$POSTFIX_DIR/maillog")" = 7 &&
	! grep -q "postfix-$TEST_NAME/pickup" "$POSTFIX_DIR/maillog"
'

test_done
