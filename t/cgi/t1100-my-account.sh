#!/bin/sh
# t1100-my-account: GET /api/my-account with the program run as plain CGI
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

setup_instance || bail_out "cannot set up the instance"
uid=$(add_user --username carol --phone 4915112345678) || bail_out "no user"

test_expect_success 'a valid token as CGI: 200 with the profile' '
	tok=$(mint "$uid") &&
	run_cgi my-account GET /api/my-account "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .primaryPhone)" = 4915112345678 &&
	test "$(json_get "$TRASH/body" .primaryEmail)" = null
'

test_expect_success 'no token as CGI: 401' '
	run_cgi my-account GET /api/my-account &&
	check_status 401 && check_code auth.authorization_header_missing
'

test_expect_success 'a token over 16 KiB: 401 auth.unauthorized, unparsed' '
	big=$(awk "BEGIN { for (i = 0; i < 6000; i++) printf \"A\" }") &&
	run_cgi my-account GET /api/my-account "HTTP_AUTHORIZATION=Bearer $big.$big.$big" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'REMOTE_USER mode, when the config says so' '
	INSTANCE_AUTH="mode=\"remote-user\"" setup_instance &&
	run_cgi my-account GET /api/my-account "REMOTE_USER=$uid" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .id)" = "$uid"
'

test_expect_success 'REMOTE_USER holding a username' '
	INSTANCE_AUTH="mode=\"remote-user\" remote-user=\"username\"" setup_instance &&
	run_cgi my-account GET /api/my-account REMOTE_USER=carol &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .id)" = "$uid"
'

# the username index folds case, a front authenticator may not (security
# review F12): "Carol" is another account there, so not carol here
test_expect_success 'REMOTE_USER holding the username in another case: 404 entity.not_found' '
	run_cgi my-account GET /api/my-account REMOTE_USER=Carol &&
	check_status 404 && check_code entity.not_found &&
	run_cgi my-account GET /api/my-account REMOTE_USER=CAROL &&
	check_status 404 && check_code entity.not_found
'

test_expect_success 'REMOTE_USER mode without REMOTE_USER: 401 auth.unauthorized' '
	run_cgi my-account GET /api/my-account &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'REMOTE_USER is ignored in jwt mode' '
	setup_instance &&
	run_cgi my-account GET /api/my-account "REMOTE_USER=$uid" &&
	check_status 401 && check_code auth.authorization_header_missing
'

test_expect_success 'jwt mode without issuer: the program refuses to start' '
	write_config "$(store_line_ "$TRASH/store")" \
		"<auth jwks=\"$TRASH/jwks.json\" audience=\"reverify\"/>" &&
	rc=0 && "$top_builddir/cgi-bin/my-account" -t 2>err || rc=$? &&
	test "$rc" = 1 && grep -i "issuer" err
'

test_expect_success 'a store that was never initialised: 503 with Retry-After' '
	write_config "$(store_line_ "$TRASH/nostore")" "$(instance_auth_)" &&
	tok=$(mint "$uid" --any-user) &&
	run_cgi my-account GET /api/my-account "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 503 && check_code service.unavailable &&
	grep -i "^Retry-After: " "$TRASH/headers" &&
	grep "reverify-admin init" "$TRASH/reverify.log"
'

test_done
