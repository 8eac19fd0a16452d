#!/bin/sh
# t3100-account-page: the account page (www/account/) in a real browser:
# headless Chromium (Debian's) driven by playwright-core
# (t/browser/account-page.js), behind lighttpd with the real programs.
# alice changes her e-mail address through the page (step-up by password,
# a code to the new address read from the outbox, logto-spec 6.3), in
# German; a too-short password and a wrong code show the API's German
# messages; she revokes a step-up; the page switches to Japanese. The
# results are checked again through the API, without the page.
# Screenshots of each step: t/e2e/t3100-account-page.shots/ in the build
# tree, beside this test's .log (kept; make clean removes them).
# Needs node, Chromium and playwright-core (t/lib/browser.sh); skips
# without them, fails under REVERIFY_TEST_REQUIRE_SERVERS=1.
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/browser.sh"

browser_setup

outbox_setup || bail_out "no outbox"
setup_instance "<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$top_srcdir/tools/outbox-sms\"/>" ||
	bail_out "cannot set up the instance"
PASSWORD='correct horse battery staple'
NEW_EMAIL=alice.new@example.org
export PASSWORD NEW_EMAIL
uid=$(printf '%s\n' "$PASSWORD" | add_user --username alice --email alice@example.com \
	--phone 15551234567 --name "Alice Demo" --password-stdin) || bail_out "no user"
tok=$(mint "$uid") || bail_out "no token"
TOKEN_FILE=$TRASH/token
printf '%s\n' "$tok" >"$TOKEN_FILE"
export TOKEN_FILE
LIGHTTPD_PAGE=$top_srcdir/www/account LIGHTTPD_PAGE_TOKEN=$TOKEN_FILE \
	start_lighttpd verification-password verification-code \
	verification-code-verify verification-records my-account \
	my-account-password my-account-primary-email my-account-primary-phone ||
	bail_out "lighttpd did not start"
export BASE

test_expect_success 'the page is served with its security headers, no secret in the token route URL' '
	http GET /account/ &&
	check_status 200 &&
	grep -i "^content-type: text/html" "$TRASH/headers" &&
	grep -i "^content-security-policy: default-src .none.; script-src .self.;" "$TRASH/headers" &&
	grep -i "^referrer-policy: no-referrer" "$TRASH/headers" &&
	grep -i "^cache-control: no-store" "$TRASH/headers" &&
	grep -F "src=\"account.js\"" "$TRASH/body" &&
	! grep -i "<script>" "$TRASH/body" &&
	http GET /account/i18n/ko.json && check_status 200 &&
	grep -i "^content-type: application/json" "$TRASH/headers" &&
	http GET /account && check_status 301
'

test_expect_success 'the browser goes through the page (node t/browser/account-page.js)' '
	run_browser account-page.js 90
'

# each step of the browser run, as its own result
browser_steps profile stepup-password password-too-short code-sent wrong-code \
	email-changed stepup-code records-revoke japanese no-secrets-in-urls

test_expect_success 'the API, asked without the page: alice has the new address' '
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = "$NEW_EMAIL" &&
	test "$(json_get "$TRASH/body" .username)" = alice &&
	test "$(json_get "$TRASH/body" .primaryPhone)" = 15551234567
'

test_expect_success 'the old address got the EmailChanged notice' '
	grep -lx "To: alice@example.com" "$REVERIFY_OUTBOX"/mail-* >notices &&
	test -s notices
'

test_expect_success 'the API lists the step-ups that the page left: two by password, the revoked code gone' '
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" "[.records[].type] | join(\" \")")" = "Password Password"
'

test_expect_success 'the password is unchanged: the too-short ones were refused' '
	jq -cn --arg p "$PASSWORD" "{password: \$p}" >pw.json &&
	http POST /api/verifications/password pw.json -H "Authorization: Bearer $tok" &&
	check_status 201
'

test_done
