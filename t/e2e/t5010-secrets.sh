#!/bin/sh
# t5010-secrets: a whole step-up flow through lighttpd + FastCGI at the
# debug log level, then every log it wrote is searched for each password,
# code, pepper, token and client secret it used: none may be there
# (DESIGN.md "Secrets never reach a log", issue 9)
#
# The flow: wrong and right passwords, a lockout, codes by e-mail and SMS
# (right and wrong), an SMS gateway that fails and echoes the message (with
# its code) on stderr, a password change, a primary e-mail change with its
# notice and an on-change hook, introspection with right and wrong Basic
# credentials, a token with a broken signature, and the second factors
# (issue 20): an authenticator app bound with a wrong, then the right code,
# TOTP and backup-code step-ups right and wrong, a passkey registered and
# used (and a garbage ceremony).
# Searched: reverify's log file, lighttpd's error log and stdout, and the
# programs' stderr ($TRASH/backend-stderr.log). Not searched: the outbox
# (the messages carry the codes on purpose); the store only for the TOTP
# secret (sealed) and the backup codes (keyed hashes), and mfa.key's mode.
# Record ids are searched too: with the owner's access token (stolen, say)
# a live one passes as step-up proof, so the log and the audit trail name
# records by their handle only (issue 14, F1).
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

command -v oathtool >/dev/null ||
	bail_out "no oathtool (tools/quickstart check installs it)"
REVERIFY_OUTBOX=$TRASH/outbox
export REVERIFY_OUTBOX
mkdir -p "$REVERIFY_OUTBOX" "$TRASH/secrets" || bail_out "no outbox"
secret='Intro-S3cret-4-payments-q8z'
wrong_secret='Wr0ng-Intro-S3cret-k2v'
hash=$(printf %s "$secret" | sha256sum | cut -d" " -f1)

# an SMS gateway that, while ECHOFAIL exists, fails and echoes the message
# on stderr (as a real one may); what it got is kept outside the logs
cat >"$TRASH/sms-gateway" <<EOF || bail_out "no gateway"
#!/bin/sh
if test -e "$REVERIFY_OUTBOX/ECHOFAIL"; then
	tee "$TRASH/echoed.txt" >&2
	echo "gateway error for \$1" >&2
	exit 1
fi
exec "$top_srcdir/tools/outbox-sms" "\$@"
EOF
# an on-change hook that says what it got on stderr and fails, so that
# its output is logged
cat >"$TRASH/hook" <<EOF || bail_out "no hook"
#!/bin/sh
echo "hook \$*: \$(cat)" >&2
exit 3
EOF
chmod +x "$TRASH/sms-gateway" "$TRASH/hook" || bail_out "chmod"

# <log level="debug"> to $TRASH/reverify.log comes from write_config
DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\" sms-command=\"$TRASH/sms-gateway\"/>"
setup_instance "$DELIVERY" "<introspection clients=\"payments:$hash\"/>" \
	"<hooks on-change=\"$TRASH/hook\"/>" \
	'<lockout max-attempts="3" window="3600" duration="3600"/>' \
	'<webauthn rp-id="example.com"/>' ||
	bail_out "cannot set up the instance"
grep -q 'level="debug"' "$REVERIFY_CONFIG" || bail_out "not at the debug level"

PW='Alice-0ld-Passw0rd-zq4'
NPW='Alice-N3w-Passw0rd-xr7'
CPW='Carol-Passw0rd-mn3'
alice=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com \
	--phone 64211234567 --password-stdin) || bail_out "no user"
carol=$(printf '%s\n' "$CPW" | add_user --username carol --email carol@example.com \
	--password-stdin) || bail_out "no user"
PROGRAMS=$(sed -e 's/#.*//' "$top_srcdir/conf/endpoints" | awk 'NF { print $1 }')
# shellcheck disable=SC2086 # a list of programs
start_lighttpd $PROGRAMS || bail_out "lighttpd did not start"
tok=$(mint "$alice") || bail_out "no token"
mtok=$(MINT_SCOPE='openid profile email phone identities' mint "$alice") ||
	bail_out "no token"
AUTHN=$top_builddir/t/helper/authenticator
ctok=$(mint "$carol") || bail_out "no token"

# keep KIND VALUE...: remember secrets of KIND (one file per kind)
keep () {
	k_kind_=$1
	shift
	for k_v_ in "$@"; do
		test -n "$k_v_" || { echo "keep: an empty $k_kind_" >&2; return 1; }
		printf '%s\n' "$k_v_" >>"$TRASH/secrets/$k_kind_"
	done
}

# password TOKEN PASSWORD: POST /api/verifications/password
password () {
	jq -cn --arg p "$2" '{password: $p}' >"$TRASH/pw.json" &&
	http POST /api/verifications/password "$TRASH/pw.json" -H "Authorization: Bearer $1"
}

# code KIND: the code of the only message of KIND, kept; empties the outbox
code () {
	test "$(outbox_count "$1")" = 1 &&
	c_=$(outbox_code "$(outbox_last "$1")") &&
	keep code "$c_" &&
	outbox_clear &&
	echo "$c_"
}

# other CODE: a code that is not CODE, kept as a secret too (a guess)
other () {
	o_=$(echo "$1" | tr 0-9 1-90) && keep code "$o_" && echo "$o_"
}

keep password "$PW" "$NPW" "$CPW"
keep jwt "$tok" "$ctok" "$mtok"
keep secret "$secret" "$wrong_secret"

test_expect_success 'flow: two wrong passwords (422), then the right one (201)' '
	keep password "Wr0ng-Guess-One-pl5" "Wr0ng-Guess-Two-jc9" &&
	password "$tok" "Wr0ng-Guess-One-pl5" && check_status 422 &&
	password "$tok" "Wr0ng-Guess-Two-jc9" && check_status 422 &&
	password "$tok" "$PW" && check_status 201 &&
	A=$(record_id) && keep record "$A"
'

test_expect_success 'flow: carol is locked out, then her right password is refused too' '
	keep password "Carol-Wr0ng-1-ub2" "Carol-Wr0ng-2-ub3" "Carol-Wr0ng-3-ub4" &&
	password "$ctok" "Carol-Wr0ng-1-ub2" && check_status 422 &&
	password "$ctok" "Carol-Wr0ng-2-ub3" && check_status 422 &&
	password "$ctok" "Carol-Wr0ng-3-ub4" && check_status 400 &&
	check_code session.verification_blocked_too_many_attempts &&
	password "$ctok" "$CPW" && check_status 400 &&
	check_code session.verification_blocked_too_many_attempts
'

test_expect_success 'flow: a code by e-mail, a wrong one (400), the right one (200)' '
	send_code "$tok" email alice@example.com && check_status 201 &&
	rec=$(record_id) && keep record "$rec" && c=$(code mail) &&
	verify_code "$tok" email alice@example.com "$rec" "$(other "$c")" &&
	check_status 400 && check_code verification_code.code_mismatch &&
	verify_code "$tok" email alice@example.com "$rec" "$c" && check_status 200
'

test_expect_success 'flow: a code by SMS, a wrong one (400), the right one (200)' '
	send_code "$tok" phone 64211234567 && check_status 201 &&
	rec=$(record_id) && keep record "$rec" && c=$(code sms) &&
	verify_code "$tok" phone 64211234567 "$rec" "$(other "$c")" &&
	check_status 400 && check_code verification_code.code_mismatch &&
	verify_code "$tok" phone 64211234567 "$rec" "$c" && check_status 200
'

test_expect_success 'flow: the SMS gateway fails and echoes the message with the code (502)' '
	: >"$REVERIFY_OUTBOX/ECHOFAIL" &&
	send_code "$tok" phone 64211234567 && check_status 502 &&
	check_code connector.general &&
	rm -f "$REVERIFY_OUTBOX/ECHOFAIL" &&
	c=$(grep -oE "[0-9]{6}" "$TRASH/echoed.txt" | head -n 1) &&
	keep code "$c" &&
	grep "wrote:" "$TRASH/reverify.log"
'

test_expect_success 'flow: the password change (204), then a step-up with the new one' '
	jq -cn --arg p "$NPW" "{password: \$p}" >new.json &&
	http POST /api/my-account/password new.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $A" &&
	check_status 204 &&
	password "$tok" "$NPW" && check_status 201 &&
	A=$(record_id) && keep record "$A"
'

test_expect_success 'flow: the primary e-mail change (204), its notice and the hook' '
	outbox_clear &&
	send_code "$tok" email alice.new@example.com && check_status 201 &&
	B=$(record_id) && keep record "$B" && c=$(code mail) &&
	verify_code "$tok" email alice.new@example.com "$B" "$c" && check_status 200 &&
	jq -cn --arg b "$B" "{email: \"alice.new@example.com\", newIdentifierVerificationRecordId: \$b}" >pe.json &&
	http POST /api/my-account/primary-email pe.json -H "Authorization: Bearer $tok" \
		-H "logto-verification-id: $A" &&
	check_status 204 &&
	test "$(outbox_count mail)" = 2 &&	# the notices to the old and the new address
	grep "on-change program" "$TRASH/reverify.log"
'

test_expect_success 'flow: introspection with the right (200) and a wrong secret (401)' '
	basic=$(printf "payments:%s" "$secret" | base64 -w0) &&
	wbasic=$(printf "payments:%s" "$wrong_secret" | base64 -w0) &&
	keep secret "$basic" "$wbasic" &&
	jq -cn --arg id "$A" --arg u "$alice" "{verificationRecordId: \$id, userId: \$u}" >i.json &&
	http POST /api/verifications/introspect i.json -H "Authorization: Basic $basic" &&
	check_status 200 && test "$(json_get "$TRASH/body" .active)" = true &&
	http POST /api/verifications/introspect i.json -H "Authorization: Basic $wbasic" &&
	check_status 401 && check_code auth.unauthorized
'

test_expect_success 'flow: a token with a broken signature (401), an expired one (401)' '
	bad=$(printf "%s" "$tok" | sed "s/.....\$/AAAAA/") &&
	old=$(mint "$alice" --expired) &&
	keep jwt "$bad" "$old" &&
	http GET /api/my-account -H "Authorization: Bearer $bad" && check_status 401 &&
	http GET /api/my-account -H "Authorization: Bearer $old" && check_status 401 &&
	http GET /api/my-account -H "Authorization: Bearer $tok" && check_status 200
'

# ---- second factors (issue 20) --------------------------------------------

# mfa_add BODY_FILE: binds a factor with alice's step-up $A
mfa_add () {
	http POST /api/my-account/mfa-verifications "$1" \
		-H "Authorization: Bearer $mtok" -H "logto-verification-id: $A"
}

# verify_mfa totp|backup-code CODE: a step-up by a second factor
verify_mfa () {
	jq -cn --arg c "$2" '{code: $c}' >"$TRASH/mfa-code.json" &&
	http POST "/api/verifications/$1" "$TRASH/mfa-code.json" -H "Authorization: Bearer $mtok"
}

# ceremony registration|authentication create|get COUNT: a passkey
# ceremony of alice's with the software authenticator, its signature
# counter at COUNT; its challenge and record kept
ceremony () {
	http POST "/api/verifications/web-authn/$1" -H "Authorization: Bearer $mtok" &&
	check_status 200 &&
	cr_rec_=$(record_id) && keep record "$cr_rec_" &&
	cr_ch_=$(jq -r ".${1}Options.challenge" "$TRASH/body") &&
	keep challenge "$cr_ch_" &&
	"$AUTHN" "$2" --key key.pem --rp-id example.com --origin https://example.com \
		--challenge "$cr_ch_" --count "$3" >answer.json &&
	jq -c --arg r "$cr_rec_" '{verificationRecordId: $r, payload: .}' answer.json >fin.json &&
	http POST "/api/verifications/web-authn/$1/verify" fin.json -H "Authorization: Bearer $mtok"
}

test_expect_success 'flow: an authenticator app, bound with a wrong code (400), then the right one (204)' '
	http POST /api/my-account/mfa-verifications/totp-secret/generate \
		-H "Authorization: Bearer $mtok" &&
	check_status 200 &&
	S=$(json_get "$TRASH/body" .secret) &&
	keep totp "$S" "$(printf %s "$S" | base32 -d | od -An -v -tx1 | tr -d " \n")" &&
	keep qr "$(json_get "$TRASH/body" .secretQrCode | cut -c 27-90)" &&
	c=$(oathtool --totp -b "$S") && keep code "$c" &&
	jq -cn --arg s "$S" --arg c "$(other "$c")" "{type: \"Totp\", secret: \$s, code: \$c}" >t.json &&
	mfa_add t.json && check_status 400 && check_code session.mfa.invalid_totp_code &&
	jq -cn --arg s "$S" --arg c "$c" "{type: \"Totp\", secret: \$s, code: \$c}" >t.json &&
	mfa_add t.json && check_status 204
'

test_expect_success 'flow: TOTP step-ups, a wrong code (400), the next one (201)' '
	c=$(oathtool --totp -b --now "@$(($(date +%s) + 30))" "$S") && keep code "$c" &&
	verify_mfa totp "$(other "$c")" && check_status 400 &&
	check_code session.mfa.invalid_totp_code &&
	verify_mfa totp "$c" && check_status 201 && keep record "$(record_id)"
'

test_expect_success 'flow: backup codes bound (204), one steps up (201), a wrong one (400)' '
	http POST /api/my-account/mfa-verifications/backup-codes/generate \
		-H "Authorization: Bearer $mtok" &&
	check_status 200 &&
	jq -r ".codes[]" "$TRASH/body" >codes &&
	while IFS= read -r bc; do keep backup "$bc" || exit 1; done <codes &&
	jq -c "{type: \"BackupCode\", codes: .codes}" "$TRASH/body" >b.json &&
	mfa_add b.json && check_status 204 &&
	verify_mfa backup-code "$(head -n 1 codes)" && check_status 201 &&
	keep record "$(record_id)" &&
	keep backup zz9yy8xx7w &&
	verify_mfa backup-code zz9yy8xx7w && check_status 400 &&
	check_code session.mfa.invalid_backup_code &&
	http GET /api/my-account/mfa-verifications/backup-codes \
		-H "Authorization: Bearer $mtok" -H "logto-verification-id: $A" &&
	check_status 200
'

test_expect_success 'flow: a passkey registered (200), bound (204) and used (200), and a garbage answer (400)' '
	ceremony registration create 1 && check_status 200 &&
	reg=$(record_id) &&
	jq -cn --arg r "$reg" "{type: \"WebAuthn\", newIdentifierVerificationRecordId: \$r}" >w.json &&
	mfa_add w.json && check_status 204 &&
	ceremony authentication get 2 && check_status 200 &&
	keep record "$(record_id)" &&
	http POST /api/verifications/web-authn/registration -H "Authorization: Bearer $mtok" &&
	check_status 200 &&
	r=$(record_id) && keep record "$r" &&
	keep challenge "$(jq -r .registrationOptions.challenge "$TRASH/body")" &&
	jq -c --arg r "$r" "{verificationRecordId: \$r, payload: (.payload + {response: {clientDataJSON: \"!!\", attestationObject: \"oWNmbXQ\"}})}" fin.json >junk.json &&
	http POST /api/verifications/web-authn/registration/verify junk.json -H "Authorization: Bearer $mtok" &&
	check_status 400 && check_code session.mfa.webauthn_verification_failed
'

# the servers stop here, so that every log is complete
test_expect_success 'the logs are there and hold the flow' '
	stop_lighttpd &&
	for f in reverify.log lighttpd-error.log backend-stderr.log lighttpd.out; do
		test -f "$TRASH/$f" || : >"$TRASH/$f"
	done &&
	grep -c . "$TRASH/reverify.log" &&
	grep "verify.password.fail\|session.invalid_credentials" "$TRASH/reverify.log" &&
	grep "user.password_changed" "$TRASH/reverify.log" &&
	grep "record.introspected" "$TRASH/reverify.log" &&
	grep "mfa.totp.added" "$TRASH/reverify.log" &&
	grep "mfa.webauthn.added" "$TRASH/reverify.log"
'

# the signing key, the pepper and the token signatures, as they are found
keep pepper "$(tr -d "\n" <"$TRASH/store/pepper")" \
	"$(tr -d "\n" <"$TRASH/store/pepper" | tr a-f A-F)"
keep key "$(jq -r .d "$TRASH/local.jwk")"
cp "$TRASH/secrets/jwt" "$TRASH/tokens" || bail_out "no tokens"
while IFS= read -r t; do
	keep jwt "${t##*.}"
done <"$TRASH/tokens"

# leaks KIND FILE...: prints "FILE: KIND #N" for each secret of KIND found
# in a FILE (never the secret itself); fails when one is. A code is found
# as a number of its own (not inside a longer run of digits or letters,
# so that a time stamp or a hash does not count); the rest as fixed strings.
leaks () {
	l_kind_=$1
	shift
	l_n_=0 l_hit_=
	while IFS= read -r l_s_; do
		l_n_=$((l_n_ + 1))
		for l_f_ in "$@"; do
			if test "$l_kind_" = code; then
				grep -qE "(^|[^0-9A-Za-z])$l_s_([^0-9A-Za-z]|\$)" "$l_f_"
			else
				grep -qiF -e "$l_s_" "$l_f_"
			fi && { echo "${l_f_##*/}: $l_kind_ #$l_n_"; l_hit_=1; }
		done
	done <"$TRASH/secrets/$l_kind_"
	test -z "$l_hit_"
}

LOGS="$TRASH/reverify.log $TRASH/lighttpd-error.log $TRASH/backend-stderr.log $TRASH/lighttpd.out"

test_expect_success 'the search finds a planted password and code (so it can fail)' '
	cp "$TRASH/reverify.log" planted.log &&
	leaks password planted.log && leaks code planted.log &&
	echo "x: body {\"password\":\"$(sed -n 2p "$TRASH/secrets/password")\"}" >>planted.log &&
	echo "x: code=$(sed -n 2p "$TRASH/secrets/code");" >>planted.log &&
	! leaks password planted.log >hits &&
	grep "planted.log: password #2" hits &&
	! leaks code planted.log >hits &&
	grep "planted.log: code #2" hits &&
	echo "x: key $(cat "$TRASH/secrets/key")" >>planted.log &&
	! leaks key planted.log
'

for kind in password code pepper jwt secret key record totp qr backup challenge; do
	test_expect_success "no $kind in any log ($(wc -l <"$TRASH/secrets/$kind") searched)" "
		test -s \"\$TRASH/secrets/$kind\" &&
		# shellcheck disable=SC2086 # a list of files
		leaks $kind \$LOGS
	"
done

# ---- at rest ----------------------------------------------------------------

# the store's files, as they are and as hex (so that the secret's 20 bytes
# are found as well as its base32 text)
test_expect_success 'the TOTP secret is not in the store, in base32 or as its bytes; no backup code is' '
	find "$TRASH/store" -type f >files &&
	test -s files &&
	while IFS= read -r f; do
		od -An -v -tx1 "$f" | tr -d " \n" >store.hex &&
		if grep -qiF -f "$TRASH/secrets/totp" "$f" store.hex ||
			grep -qiF -f "$TRASH/secrets/backup" "$f"; then
			echo "in the store: $f"; exit 1
		fi
	done <files
'

test_expect_success 'the search of the store finds the secret planted in it (so it can fail)' '
	printf %s "$S" | base32 -d >planted.bin &&
	od -An -v -tx1 planted.bin | tr -d " \n" >planted.hex &&
	grep -qiF -f "$TRASH/secrets/totp" planted.hex
'

test_expect_success 'mfa.key is mode 0600' '
	test "$(stat -c %a "$TRASH/store/mfa.key")" = 600
'

test_done
