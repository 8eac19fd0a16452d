#!/bin/sh
# t3060-password-unicode: passwords as people type them (NIST SP 800-63B-4
# 3.1.1.2, ASVS 6.2): Unicode in NFKC, a hash imported from a system that
# hashed the raw bytes, a blocklist of 1,000,000 entries mapped from an
# index, and bcrypt's 72 bytes; through lighttpd
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"

command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"
PWTOOL=$top_builddir/t/helper/pwtool
N=1000000

# The breached list: "leaked pass 0" .. "leaked pass 999999", HASH:count
# lines in hash order, as the downloads come; built before the programs
# start, since they map it at start-up.
"$PWTOOL" list "$N" >"$TRASH/pwned.txt" || bail_out "pwtool list failed"
"$ADMIN" pwned build "$TRASH/pwned.txt" "$TRASH/pwned.idx" >"$TRASH/build.out" ||
	bail_out "pwned build failed"

POLICY="<password-policy pwned-list=\"$TRASH/pwned.idx\"/>"
setup_instance "<password argon2-memory=\"1024\" argon2-time=\"1\"/>" "$POLICY" ||
	bail_out "cannot set up the instance"
PW='first Password 1'
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
start_lighttpd verification-password my-account-password ||
	bail_out "lighttpd did not start"
tok=$(mint "$uid")

# change RECORD PASSWORD: POST /api/my-account/password as alice
change () {
	jq -cn --arg p "$2" '{password: $p}' >"$TRASH/ch.json" &&
	http POST /api/my-account/password "$TRASH/ch.json" \
		-H "Authorization: Bearer $tok" -H "logto-verification-id: $1"
}

# issues: the issue codes of the last answer, one a line
issues () {
	jq -r '.data[].code' "$TRASH/body"
}

test_expect_success 'the index of 1,000,000 SHA-1 lines was built' '
	grep "1000000 entries" "$TRASH/build.out" &&
	test "$(wc -c <"$TRASH/pwned.idx")" = $((24 + 20 * N))
'

test_expect_success 'a password on the 1,000,000-entry list: 422 password.rejected, pwned' '
	rec=$(step_up "$tok") &&
	change "$rec" "leaked pass 777777" &&
	check_status 422 && check_code password.rejected &&
	test "$(issues)" = password_rejected.pwned
'

test_expect_success 'the entries that sort first and last are found too' '
	"$PWTOOL" ends "$N" >ends &&
	while read -r p; do
		change "$rec" "$p" && check_status 422 &&
		test "$(issues)" = password_rejected.pwned || return 1
	done <ends &&
	test "$(wc -l <ends)" = 2
'

test_expect_success 'a password not on the list passes: 204' '
	change "$rec" "leaked pass 1000000" &&
	check_status 204 &&
	PW="leaked pass 1000000"
'

# ｇｒüß ﬁsh 日本 42: fullwidth letters, a ligature, a space, CJK
NEW=$(printf '\357\275\207\357\275\222\303\274\303\237 \357\254\201sh \346\227\245\346\234\254 42')
# its NFKC form, grüß fish 日本 42
NEW_NFKC=$(printf 'gr\303\274\303\237 fish \346\227\245\346\234\254 42')
# the same with u + combining diaeresis
NEW_DECOMP=$(printf 'gru\314\210\303\237 fish \346\227\245\346\234\254 42')

test_expect_success 'a Unicode password with spaces: 204' '
	rec=$(step_up "$tok") &&
	change "$rec" "$NEW" &&
	check_status 204
'

test_expect_success 'it steps up as typed, in its NFKC form, and with a combining mark' '
	step_up "$tok" "$NEW" >/dev/null &&
	step_up "$tok" "$NEW_NFKC" >/dev/null &&
	step_up "$tok" "$NEW_DECOMP" >/dev/null
'

test_expect_success 'another spelling of it is the same password: 422 user.same_password' '
	rec=$(step_up "$tok" "$NEW_NFKC") &&
	change "$rec" "$NEW_DECOMP" &&
	check_status 422 && check_code user.same_password
'

test_expect_success 'a different Unicode password does not step up: 422' '
	password "$tok" "" "$(printf "gr\303\274\303\237 fish \346\227\245\346\234\254 43")" &&
	check_status 422 && check_code session.invalid_credentials
'

test_expect_success 'the log holds no password, in any spelling' '
	! grep -F -e "$NEW" -e "$NEW_NFKC" -e "$NEW_DECOMP" -e "leaked pass" "$TRASH/reverify.log"
'

# Ｐａｓｓ-ﬁsh-42, hashed as bytes by a system that did not normalise
LEG=$(printf '\357\274\260\357\275\201\357\275\223\357\275\223-\357\254\201sh-42')
test_expect_success 'an imported hash of the raw bytes (current scheme and parameters)' '
	printf "%s" "$LEG" | "$PWTOOL" hash-raw >leg.hash &&
	grep -F "\$argon2id\$v=19\$m=1024,t=1,p=1\$" leg.hash &&
	jq -Rc "{username: \"legacy\", passwordHash: .}" leg.hash >leg.jsonl &&
	"$ADMIN" user import leg.jsonl >imported &&
	leg=$(jq -r .id imported) && ltok=$(mint "$leg")
'

test_expect_success 'its NFKC spelling alone does not match the raw-bytes hash: 422' '
	password "$ltok" "" "Pass-fish-42" &&
	check_status 422 && check_code session.invalid_credentials &&
	"$ADMIN" audit show >a0 && ! grep "user.password_rehashed" a0
'

test_expect_success 'the password as typed before steps up, and the hash is redone in NFKC' '
	step_up "$ltok" "$LEG" >/dev/null &&
	"$ADMIN" audit show >a1 &&
	test "$(grep "user.password_rehashed" a1 | grep -c "\"$leg\"")" = 1 &&
	test "$("$ADMIN" user show "$leg" | jq -r .passwordScheme)" = argon2id
'

test_expect_success 'now its NFKC spelling steps up too, and the raw one still does, no second rehash' '
	step_up "$ltok" "Pass-fish-42" >/dev/null &&
	step_up "$ltok" "$LEG" >/dev/null &&
	"$ADMIN" audit show >a2 &&
	test "$(grep -c "user.password_rehashed" a2)" = 1
'

test_expect_success 'a new build of the index is used by the running programs' '
	rec=$(step_up "$tok" "$NEW") &&
	change "$rec" "Replaced Index 9" &&
	check_status 204 &&
	h=$(printf "Replaced Index 9" | sha1sum | cut -c1-40) &&
	{ cat "$TRASH/pwned.txt" && echo "$h:1"; } |
		"$ADMIN" pwned build - "$TRASH/pwned.idx" >out &&
	grep "1000001 entries" out &&
	rec=$(step_up "$tok" "Replaced Index 9") &&
	change "$rec" "Replaced Index 9" &&
	check_status 422 && test "$(issues)" = password_rejected.pwned
'

test_expect_success 'with <password scheme="bcrypt">: 73 bytes are too long (max 72 bytes)' '
	stop_lighttpd &&
	setup_instance "<password scheme=\"bcrypt\" bcrypt-cost=\"4\"/>" "$POLICY" &&
	start_lighttpd verification-password my-account-password &&
	pw72=$(printf "%072d" 0 | tr 0 k | sed "s/^kkkk/Zq8#/") &&
	rec=$(step_up "$tok" "Replaced Index 9") &&
	change "$rec" "${pw72}k" &&
	check_status 422 && check_code password.rejected &&
	jq -e ".data == [{code: \"password_rejected.too_long\", interpolation: {max: 72, unit: \"bytes\"}}]" \
		"$TRASH/body"
'

test_expect_success 'bcrypt: 36 two-byte letters (72 bytes) pass, and step up' '
	pw=$(printf "\303\251\303\240\303\274\303\266%.0s" 1 2 3 4 5 6 7 8 9) &&
	test "$(printf "%s" "$pw" | wc -c)" = 72 &&
	change "$rec" "$pw" &&
	check_status 204 &&
	test "$("$ADMIN" user show "$uid" | jq -r .passwordScheme)" = bcrypt &&
	step_up "$tok" "$pw" >/dev/null
'

test_done
