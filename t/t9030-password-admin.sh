#!/bin/sh
# t9030-password-admin: reverify-admin pwned build, and user set-password
# under <password-policy> (NFKC, the index, bcrypt's 72 bytes, --force)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/admin.sh"

command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"

# SHA-1 of "P@ssw0rd" (upper case, with a count), of "Summer2024!" and
# of "Pass-fish-42" (lower case)
H_PASSW0RD=21BD12DC183F740EE76F27B78EB39C8AD972A757
H_SUMMER=$(printf 'Summer2024!' | sha1sum | cut -c1-40)
H_FISH=$(printf 'Pass-fish-42' | sha1sum | cut -c1-40)

store=$(store_line_ "$TRASH/store") || bail_out "cannot make the store's database"
auth="<auth issuer=\"https://issuer.test\" audience=\"reverify\" jwks=\"$TRASH/jwks.json\" first-party=\"demo-app\"/>"
write_config "$store" "$auth" \
	"<password argon2-memory=\"1024\" argon2-time=\"1\"/>" \
	"<password-policy pwned-list=\"$TRASH/pwned.idx\"/>"

# password_sets: how many user.password_set entries the audit trail has
password_sets () {
	admin audit show | grep -c '"user.password_set"' || :
}

test_expect_success 'pwned build: HASH:count and bare lines, both cases, CRLF, a comment' '
	printf "# from a breach\r\n%s:3861493\r\n%s\n\n%s:1\n" \
		"$H_PASSW0RD" "$H_FISH" "$(echo "$H_SUMMER" | tr a-f A-F)" >list.txt &&
	expect_rc 0 admin pwned build list.txt pwned.idx &&
	grep "^built '\''pwned.idx'\'': 3 entries$" out &&
	test ! -s err &&
	test "$(head -c 8 pwned.idx)" = RVPWNED &&
	test "$(wc -c <pwned.idx)" = $((24 + 3 * 20))
'

test_expect_success 'pwned build: a bad line names its line, and OUT stays as it was' '
	cp pwned.idx before.idx &&
	printf "%s\n%s\nnot-a-hash\n" "$H_PASSW0RD" "$H_FISH" >bad.txt &&
	expect_rc 1 admin pwned build bad.txt pwned.idx &&
	grep "^reverify-admin: bad.txt:3: not a SHA-1 (40 hex digits, optionally followed by :count)$" err &&
	cmp before.idx pwned.idx &&
	printf "%s:x1\n" "$H_FISH" >bad.txt &&
	expect_rc 1 admin pwned build bad.txt pwned.idx &&
	grep "bad.txt:1: not a SHA-1" err &&
	ls >files && ! grep "tmp" files
'

test_expect_success 'pwned build: standard input, a missing file, wrong usage' '
	printf "%s\n" "$H_PASSW0RD" | admin pwned build - one.idx >out 2>err &&
	grep "1 entries" out &&
	expect_rc 1 admin pwned build nonexistent.txt x.idx &&
	grep "cannot read '\''nonexistent.txt'\''" err &&
	expect_rc 2 admin pwned build list.txt &&
	grep "missing argument" err
'

test_expect_success 'a store and a user' '
	expect_rc 0 admin init &&
	expect_rc 0 admin user add --username carol --email carol@example.com \
		--name "Carol Quinn" &&
	cp out carol.id
'

test_expect_success 'set-password applies the policy: a password on the index is refused' '
	before=$(password_sets) &&
	printf "P@ssw0rd\n" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	grep "^reverify-admin: the password does not meet <password-policy>: pwned (--force sets it anyway)$" err &&
	! grep "P@ssw0rd" out err &&
	test "$(password_sets)" = "$before"
'

test_expect_success 'set-password: a listed password in another spelling (fullwidth) is refused too' '
	printf "\357\274\260\357\275\201\357\275\223\357\275\223-fish-42\n" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	grep "does not meet <password-policy>: pwned" err
'

test_expect_success 'set-password: too short, and the user'\''s own name, with the limits' '
	printf "Qx7!\n" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	grep "does not meet <password-policy>: too_short (min 8)" err &&
	printf "carolquinn1\n" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	grep "restricted.user_info" err
'

test_expect_success 'set-password --force sets a refused password, and says so' '
	before=$(password_sets) &&
	printf "P@ssw0rd\n" >pw &&
	expect_rc 0 admin user set-password "$(cat carol.id)" --password-stdin --force <pw &&
	grep "(--force: the policy was not applied)" out &&
	test "$(password_sets)" = $((before + 1))
'

test_expect_success 'set-password: a Unicode password with spaces passes' '
	printf "gr\303\274\303\237 dich, \346\227\245\346\234\254\n" >pw &&
	expect_rc 0 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	expect_rc 0 admin user show "$(cat carol.id)" &&
	test "$(json_get out .passwordScheme)" = argon2id
'

test_expect_success 'set-password: bytes that are not UTF-8 are refused, even with --force' '
	printf "kV9#mQ2\377xL\n" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin --force <pw &&
	grep "^reverify-admin: the password is not valid UTF-8$" err
'

test_expect_success 'with scheme="bcrypt": 73 bytes are refused (max 72 bytes), even with --force' '
	write_config "$store" "$auth" \
		"<password scheme=\"bcrypt\" bcrypt-cost=\"4\"/>" \
		"<password-policy pwned-list=\"$TRASH/pwned.idx\"/>" &&
	pw73=$(printf "%073d" 0 | tr 0 k | sed "s/^kkkk/Zq8#/") &&
	printf "%s\n" "$pw73" >pw &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	grep "does not meet <password-policy>: too_long (max 72 bytes)" err &&
	expect_rc 1 admin user set-password "$(cat carol.id)" --password-stdin --force <pw &&
	grep "bcrypt reads only 72" err &&
	printf "%s\n" "${pw73%?}" >pw &&
	expect_rc 0 admin user set-password "$(cat carol.id)" --password-stdin <pw &&
	expect_rc 0 admin user show "$(cat carol.id)" &&
	test "$(json_get out .passwordScheme)" = bcrypt
'

test_done
