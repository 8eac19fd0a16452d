#!/bin/sh
# t2110-account-center: the account-center settings of reverify.xml
# (logto-spec 1.2 step 9, 6.4, 8.1.6 AR-1)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance '<account-center name="read-only" avatar="off" username="off" email="off" phone="off"/>' ||
	bail_out "cannot set up the instance"
uid=$(add_user --username alice --email alice@example.com) || bail_out "no user"
start_lighttpd my-account || bail_out "lighttpd did not start"

test_expect_success 'only readable fields are shown (AR-1)' '
	tok=$(mint "$uid") &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .name)" = null &&
	test "$(json_get "$TRASH/body" "has(\"username\")")" = false &&
	test "$(json_get "$TRASH/body" "has(\"primaryEmail\")")" = false &&
	test "$(json_get "$TRASH/body" "has(\"avatar\")")" = false
'

test_expect_success 'a disabled account center: 400 account_center.not_enabled (D-3)' '
	stop_lighttpd &&
	setup_instance "<account-center enabled=\"no\"/>" &&
	start_lighttpd my-account &&
	tok=$(mint "$uid") &&
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 400 && check_code account_center.not_enabled
'

test_expect_success 'authentication comes before the account-center gate (1.2)' '
	http GET /api/my-account &&
	check_status 401 && check_code auth.authorization_header_missing
'

test_done
