#!/bin/sh
# t4500-mail-postfix: codes and notices through a real Postfix (its own sendmail and set-group-id postdrop), read back from its Maildirs with Python's MIME parser
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016).
# shellcheck disable=SC1091,SC2016,SC2154
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/mail-scenario.sh"

require_postfix
postfix_start || bail_out "Postfix did not start"

mail_scenario "$POSTFIX_SENDMAIL"

test_expect_success 'every message came through the maildrop queue (postdrop, pickup), none over SMTP' '
	test "$(grep -c "postfix-$TEST_NAME/pickup\[[0-9]*\]: [0-9A-F]*: uid=" \
		"$POSTFIX_DIR/maillog")" = 7 &&
	! grep -q "postfix-$TEST_NAME/smtpd" "$POSTFIX_DIR/maillog"
'

test_done
