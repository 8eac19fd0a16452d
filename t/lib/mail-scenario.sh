# mail-scenario.sh: codes and notices through a real MTA, read back from
# its Maildirs with a real MIME parser (t/lib/mailcheck.py)
# shellcheck shell=sh disable=SC2016,SC2154 # bodies are for eval; TRASH, top_srcdir come from test-lib.sh
#
# Sourced after test-lib.sh (it sources lighttpd.sh, instance.sh,
# stepup.sh and postfix.sh), by t4500 (Postfix's own sendmail) and t4510
# (msmtp into Postfix over SMTP): once the instance of Postfix runs,
#	mail_scenario SENDMAIL-COMMAND
# sets up reverify with that <delivery sendmail>, starts lighttpd and runs
# the tests. alice@rv.test steps up by a code in en, ja and ko, changes her
# password and her address (to carol@rv.test), and gets a notice of each
# (the new address one too);
# hostile addresses send nothing anywhere.

. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"
. "$top_srcdir/t/lib/postfix.sh"

MAIL_APP='rv test app'
# a display name that is not ASCII and holds a comma, a colon and an
# address: one B-word for the parser, no second address, no header
MAIL_FROM_NAME='Büro, Bcc: mallory@rv.test'
MAIL_FROM_ADDR=noreply@rv.test
PW='correct horse battery staple'

# mail_check FILE TO TEMPLATE-TYPE LANG [--no-code]: mailcheck.py with the
# scenario's From and application name; prints the code
mail_check () {
	mc_f_=$1 mc_to_=$2 mc_type_=$3 mc_lang_=$4
	shift 4
	python3 "$top_srcdir/t/lib/mailcheck.py" "$mc_f_" \
		--from "$MAIL_FROM_NAME" "$MAIL_FROM_ADDR" --to "$mc_to_" \
		--template "$top_srcdir/conf/templates/$mc_lang_.xml" "$mc_type_" \
		--var "application.name=$MAIL_APP" --lang "$mc_lang_" "$@"
}

# mail_code_step_up LANG N: a code to alice@rv.test in LANG (Accept-Language),
# the Nth message of her Maildir, checked, then verified: 200
mail_code_step_up () {
	send_code "$tok" email alice@rv.test "" -H "Accept-Language: $1" &&
	check_status 201 &&
	rec=$(record_id) &&
	f=$(postfix_wait_mail alice "$2") &&
	code=$(mail_check "$f" alice@rv.test UserPermissionValidation "$1") &&
	verify_code "$tok" email alice@rv.test "$rec" "$code" &&
	check_status 200
}

mail_scenario () {
	setup_instance "<delivery sendmail=\"$1\" mail-from=\"&quot;$MAIL_FROM_NAME&quot; &lt;$MAIL_FROM_ADDR&gt;\" application-name=\"$MAIL_APP\"/>" \
		'<codes send-max="100"/>' ||
		bail_out "cannot set up the instance"
	uid=$(printf '%s\n' "$PW" |
		add_user --username alice --email alice@rv.test --password-stdin) ||
		bail_out "no user"
	start_lighttpd verification-code verification-code-verify \
		verification-password my-account-password my-account-primary-email ||
		bail_out "lighttpd did not start"
	tok=$(mint "$uid")

	test_expect_success 'a code in English: delivered, parsed, verified' '
		mail_code_step_up en 1
	'

	test_expect_success 'a code in Japanese: RFC 2047 subject, verified' '
		mail_code_step_up ja 2
	'

	test_expect_success 'a code in Korean: RFC 2047 subject, verified' '
		mail_code_step_up ko 3
	'

	test_expect_success 'hostile addresses: 4xx, and nothing is delivered anywhere' '
		bad= &&
		for a in "alice@rv.test
Bcc: mallory@rv.test" "alice@rv.test,mallory@rv.test" "Eve <mallory@rv.test>" \
			"mallory@rv.test
" "alice@rv.test>
Bcc: <mallory@rv.test" "\"mallory@rv.test\"@rv.test"; do
			send_code "$tok" email "$a" || bad=1
			case $(cat "$TRASH/status") in
			4??) ;;
			*) show_response_; bad=1 ;;
			esac
		done &&
		test -z "$bad" &&
		postfix_queue_empty &&
		test "$(postfix_count mallory)" = 0 &&
		test "$(postfix_count other)" = 0 &&
		test "$(postfix_count alice)" = 3
	'

	test_expect_success 'a password change: a notice with no code' '
		rec=$(step_up "$tok") &&
		jq -cn "{password: \"another Strong1 pass\"}" >pw.json &&
		http POST /api/my-account/password pw.json -H "Authorization: Bearer $tok" \
			-H "logto-verification-id: $rec" &&
		check_status 204 &&
		f=$(postfix_wait_mail alice 4) &&
		mail_check "$f" alice@rv.test PasswordChanged en --no-code
	'

	test_expect_success 'a new address: the code reaches it, then a notice reaches both' '
		PW="another Strong1 pass" &&
		rec=$(step_up "$tok") &&
		send_code "$tok" email carol@rv.test &&
		check_status 201 &&
		new=$(record_id) &&
		f=$(postfix_wait_mail carol 1) &&
		code=$(mail_check "$f" carol@rv.test BindNewIdentifier en) &&
		verify_code "$tok" email carol@rv.test "$new" "$code" &&
		check_status 200 &&
		jq -cn --arg r "$new" "{email: \"carol@rv.test\", newIdentifierVerificationRecordId: \$r}" >p.json &&
		http POST /api/my-account/primary-email p.json -H "Authorization: Bearer $tok" \
			-H "logto-verification-id: $rec" &&
		check_status 204 &&
		f=$(postfix_wait_mail alice 5) &&
		mail_check "$f" alice@rv.test EmailChanged en --no-code &&
		f=$(postfix_wait_mail carol 2) &&
		mail_check "$f" carol@rv.test EmailChanged en --no-code
	'

	test_expect_success 'nothing else went anywhere: 5 for alice, 2 for carol, none for others' '
		postfix_queue_empty &&
		test "$(postfix_count alice)" = 5 &&
		test "$(postfix_count carol)" = 2 &&
		test "$(postfix_count mallory)" = 0 &&
		test "$(postfix_count other)" = 0 &&
		! grep -E "status=(bounced|deferred)" "$POSTFIX_DIR/maillog"
	'
}
