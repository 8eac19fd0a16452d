# mfa.sh: second factors through the real endpoints, for the e2e tests
# shellcheck shell=sh disable=SC2154 # TRASH comes from test-lib.sh
#
# Sourced after test-lib.sh and lighttpd.sh (http):
#	. "$top_srcdir/t/lib/mfa.sh"
# Every helper writes its request body into $TRASH and leaves the answer
# for check_status and check_code.

# totp_at SECRET OFFSET: the TOTP code of SECRET (base32) OFFSET seconds
# from now, by oathtool (oath-toolkit: not our implementation)
totp_at () {
	oathtool --totp -b --now "@$(($(date +%s) + $2))" "$1"
}

# totp_add TOKEN STEPUP SECRET [CODE]: POST /api/my-account/mfa-verifications
# {type: Totp, secret, code?} with logto-verification-id STEPUP
totp_add () {
	jq -cn --arg s "$3" --arg c "${4-}" \
		'{type: "Totp", secret: $s} + (if $c == "" then {} else {code: $c} end)' \
		>"$TRASH/totp.json" &&
	http POST /api/my-account/mfa-verifications "$TRASH/totp.json" \
		-H "Authorization: Bearer $1" -H "logto-verification-id: $2"
}

# totp_verify TOKEN CODE: POST /api/verifications/totp {code}
totp_verify () {
	jq -cn --arg c "$2" '{code: $c}' >"$TRASH/tv.json" &&
	http POST /api/verifications/totp "$TRASH/tv.json" -H "Authorization: Bearer $1"
}

# backup_generate TOKEN: POST .../backup-codes/generate; the codes, one a
# line, in $TRASH/codes and the body {type: BackupCode, codes} in
# $TRASH/backup.json
backup_generate () {
	http POST /api/my-account/mfa-verifications/backup-codes/generate \
		-H "Authorization: Bearer $1" &&
	check_status 200 &&
	jq -r '.codes[]' "$TRASH/body" >"$TRASH/codes" &&
	jq -c '{type: "BackupCode", codes: .codes}' "$TRASH/body" >"$TRASH/backup.json"
}

# backup_add TOKEN STEPUP: binds $TRASH/backup.json
backup_add () {
	http POST /api/my-account/mfa-verifications "$TRASH/backup.json" \
		-H "Authorization: Bearer $1" -H "logto-verification-id: $2"
}

# backup_verify TOKEN CODE: POST /api/verifications/backup-code {code}
backup_verify () {
	jq -cn --arg c "$2" '{code: $c}' >"$TRASH/bv.json" &&
	http POST /api/verifications/backup-code "$TRASH/bv.json" -H "Authorization: Bearer $1"
}
