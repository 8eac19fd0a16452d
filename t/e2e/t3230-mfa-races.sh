#!/bin/sh
# t3230-mfa-races: 32 concurrent step-ups with one TOTP code, and with one
# backup code, through lighttpd with 4 FastCGI processes: exactly one of
# each succeeds (issue 20: a code is used once; RFC 6238 5.2)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"
. "$top_srcdir/t/lib/mfa.sh"
. "$top_srcdir/t/lib/race.sh"

command -v oathtool >/dev/null || skip_all "no oathtool (apt-get install oathtool)"
PW='my Password 123'
setup_instance || bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --password-stdin) ||
	bail_out "no user"
LIGHTTPD_MAX_PROCS=4 start_lighttpd verification-password verification-mfa my-account-mfa ||
	bail_out "lighttpd did not start"
tok=$(MINT_SCOPE="openid profile identities" mint "$uid")

test_expect_success 'an authenticator app and backup codes' '
	pw=$(step_up "$tok") &&
	http POST /api/my-account/mfa-verifications/totp-secret/generate \
		-H "Authorization: Bearer $tok" &&
	secret=$(json_get "$TRASH/body" .secret) &&
	totp_add "$tok" "$pw" "$secret" && check_status 204 &&
	backup_generate "$tok" && backup_add "$tok" "$pw" && check_status 204
'

test_expect_success '32 concurrent step-ups with one TOTP code: one 201, 31 x 400 invalid_totp_code' '
	jq -cn --arg c "$(totp_at "$secret" 30)" "{code: \$c}" >t.json &&
	race 32 totp /api/verifications/totp "$tok" t.json &&
	test "$(count 201 totp/statuses)" = 1 &&
	test "$(count 400 totp/statuses)" = 31 &&
	test "$(count session.mfa.invalid_totp_code totp/codes)" = 31
'

test_expect_success '32 concurrent step-ups with one backup code: one 201, 31 x 400 invalid_backup_code' '
	jq -cn --arg c "$(sed -n 1p "$TRASH/codes")" "{code: \$c}" >b.json &&
	race 32 backup /api/verifications/backup-code "$tok" b.json &&
	test "$(count 201 backup/statuses)" = 1 &&
	test "$(count 400 backup/statuses)" = 31 &&
	test "$(count session.mfa.invalid_backup_code backup/codes)" = 31
'

test_expect_success 'one use of each in the trail, and 9 backup codes left' '
	"$ADMIN" audit show >audit &&
	test "$(grep -c "\"event\":\"verify.totp.ok\"" audit)" = 1 &&
	test "$(grep -c "\"event\":\"verify.backup_code.ok\"" audit)" = 1 &&
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	test "$(jq -r ".[] | select(.type == \"BackupCode\") | .remainCodes" "$TRASH/body")" = 9
'

test_done
