#!/bin/sh
# t9040-mfa-admin: reverify-admin and second factors (issue 20): user import
# takes Logto's mfaVerifications (a TOTP key sealed, backup codes hashed,
# passkeys counted and left), user show lists factors without secrets,
# user mfa-reset removes them; the imported TOTP then steps up through the
# real program (plain CGI)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"

command -v oathtool >/dev/null || skip_all "no oathtool (apt-get install oathtool)"
setup_instance || bail_out "cannot set up the instance"
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
CODES='["0123456789","abcdefghij","klmnopqrst","uvwxyz0123","4567890abc","defghijklm","nopqrstuvw","xyz0123456","789abcdefg","hijklmnopq"]'

test_expect_success 'a Logto export line with a TOTP key, backup codes (one used) and a passkey' '
	jq -cn --arg s "$SECRET" --argjson c "$CODES" "{id: \"carol\", username: \"carol\",
		mfaVerifications: [
			{id: \"t1\", type: \"Totp\", key: \$s, createdAt: \"2025-01-01T00:00:00.000Z\"},
			{id: \"b1\", type: \"BackupCode\", codes: ([\$c[] | {code: ., usedAt: null}] | .[0].usedAt = \"2025-02-01T00:00:00.000Z\")},
			{id: \"w1\", type: \"WebAuthn\", credentialId: \"abc\", publicKey: \"def\", counter: 3, agent: \"x\"}]}" >users.jsonl &&
	"$ADMIN" user import users.jsonl >out 2>err &&
	grep -q "carol" out &&
	grep -q "1 of mfaVerifications not imported" err
'

test_expect_success 'user show lists a Totp and a BackupCode with 9 left, and no secret' '
	"$ADMIN" user show carol >show.json &&
	test "$(jq -r "[.mfaVerifications[].type] | join(\" \")" show.json)" = "Totp BackupCode" &&
	test "$(jq -r ".mfaVerifications[1].remainCodes" show.json)" = 9 &&
	! grep -q "$SECRET\|0123456789\|abcdefghij" show.json
'

test_expect_success 'the key is sealed and the codes hashed in the store' '
	! grep -rqF "$SECRET" "$TRASH/store" &&
	! grep -rqF abcdefghij "$TRASH/store"
'

# cgi_totp CODE: POST /api/verifications/totp through the CGI program
cgi_totp () {
	jq -cn --arg c "$1" "{code: \$c}" >totp.json &&
	run_cgi verification-mfa POST /api/verifications/totp totp.json \
		"HTTP_AUTHORIZATION=Bearer $tok"
}

test_expect_success 'the imported key steps up (oathtool code); an imported backup code too, the used one not' '
	tok=$(MINT_SCOPE="openid profile identities" mint carol) &&
	cgi_totp "$(oathtool --totp -b "$SECRET")" &&
	check_status 201 &&
	jq -cn "{code: \"abcdefghij\"}" >b.json &&
	run_cgi verification-mfa POST /api/verifications/backup-code b.json \
		"HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 201 &&
	jq -cn "{code: \"0123456789\"}" >b.json &&
	run_cgi verification-mfa POST /api/verifications/backup-code b.json \
		"HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 400 && check_code session.mfa.invalid_backup_code
'

test_expect_success 'bad mfaVerifications: the line is refused, the others go on' '
	printf "%s\n" \
		"{\"username\":\"dave\",\"mfaVerifications\":{\"type\":\"Totp\"}}" \
		"{\"username\":\"erin\",\"mfaVerifications\":[{\"type\":\"Totp\",\"key\":\"not base32!\"}]}" \
		"{\"username\":\"fay\",\"mfaVerifications\":[{\"type\":\"BackupCode\",\"codes\":[]}]}" \
		"{\"username\":\"gus\",\"mfaVerifications\":[{\"key\":\"JBSWY3DPEHPK3PXP\"}]}" \
		"{\"username\":\"hal\",\"mfaVerifications\":null}" >bad.jsonl &&
	! "$ADMIN" user import bad.jsonl >out 2>err &&
	grep -q "line 1: mfaVerifications must be an array" err &&
	grep -q "line 2: .*mfaVerifications\[0\]" err &&
	grep -q "line 3: .*mfaVerifications\[0\]" err &&
	grep -q "line 4: mfaVerifications\[0\] has no \"type\"" err &&
	grep -q "hal" out && ! grep -q "dave\|erin\|fay\|gus" out &&
	test "$("$ADMIN" user list | grep -c "\"dave\"\|\"erin\"\|\"fay\"\|\"gus\"")" = 0
'

test_expect_success 'user mfa-reset removes them all, audited; a TOTP step-up is then 400 factor_not_enrolled' '
	"$ADMIN" user mfa-reset carol >msg &&
	grep -q "removed the second factors of user .carol." msg &&
	"$ADMIN" user show carol | jq -e ".mfaVerifications == []" &&
	"$ADMIN" audit show | grep -q "\"event\":\"user.mfa_reset\"" &&
	cgi_totp "$(oathtool --totp -b "$SECRET")" &&
	check_status 400 && check_code verification_record.factor_not_enrolled
'

test_expect_success 'user mfa-reset of nobody: exit 1, a message' '
	! "$ADMIN" user mfa-reset nobody 2>err &&
	grep -q "no user .nobody." err
'

test_done
