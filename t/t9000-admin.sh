#!/bin/sh
# t9000-admin: reverify-admin: init, users, import, tokens, keys, config, store maintenance
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/admin.sh"

command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"

# jwt_payload FILE: the decoded claims of the JWT in FILE.
jwt_payload () {
	jp_=$(cut -d. -f2 <"$1" | tr '_-' '/+')
	case $((${#jp_} % 4)) in
	2) jp_="$jp_==" ;;
	3) jp_="$jp_=" ;;
	esac
	printf '%s\n' "$jp_" | base64 -d
}

# stats_of KEY: one count from "reverify-admin stats".
stats_of () {
	admin stats >stats.json && json_get stats.json ".$1"
}

store=$(store_line_ "$TRASH/store") || bail_out "cannot make the store's database"
write_config "$store" \
	"<auth issuer=\"https://issuer.test\" audience=\"reverify\" jwks=\"$TRASH/jwks.json\" local-key=\"$TRASH/local.jwk\" first-party=\"demo-app other-app\"/>"

# ---- usage -----------------------------------------------------------------

test_expect_success 'no command is a usage error' '
	expect_rc 2 admin &&
	grep "^reverify-admin: missing command" err &&
	grep "^usage: reverify-admin" err
'

test_expect_success 'an unknown command is a usage error' '
	expect_rc 2 admin frobnicate &&
	grep "^reverify-admin: '\''frobnicate'\'' is not a command" err
'

test_expect_success 'an unknown global option is a usage error' '
	expect_rc 2 admin --bogus stats &&
	grep "unknown option '\''--bogus'\''" err
'

test_expect_success 'a group without its subcommand is a usage error' '
	expect_rc 2 admin user &&
	grep "^reverify-admin: user: missing subcommand" err &&
	expect_rc 2 admin user frob &&
	grep "unknown subcommand" err
'

test_expect_success 'an unknown option of a command is a usage error' '
	expect_rc 2 admin user add --username x --colour red &&
	grep "^reverify-admin: user add: unknown option '\''--colour'\''" err &&
	grep "^usage: reverify-admin user add" err
'

test_expect_success 'a missing operand or option value is a usage error' '
	expect_rc 2 admin user show &&
	grep "user show: missing argument" err &&
	expect_rc 2 admin user add --username &&
	grep "option '\''--username'\'' needs a value" err &&
	expect_rc 2 admin user del a b &&
	grep "unexpected argument '\''b'\''" err &&
	expect_rc 2 admin token
'

test_expect_success 'reverify-admin help and --help list every command' '
	expect_rc 0 admin help && cp out help.out &&
	expect_rc 0 admin --help && test_cmp help.out out &&
	sed -n "/^commands:/,/^Run/p" help.out |
		awk "/^  / { w = \$1; if (\$2 ~ /^[a-z][a-z-]*\$/) w = w \" \" \$2; print w }" \
		>commands &&
	printf "%s\n" init "user add" "user show" "user list" "user del" \
		"user set-password" "user suspend" "user unsuspend" "user mfa-reset" "user unlock" \
		"user import" token "jwks import" "pwned build" "config check" unlock purge \
		"record handle" backup recover migrate "store copy" \
		"audit verify" "audit show" "audit head" "audit prune" stats help >expect &&
	test_cmp expect commands
'

test_expect_success 'every command takes --help' '
	bad= &&
	while read -r c; do
		# shellcheck disable=SC2086 # c is one or two words
		admin $c --help >out 2>&1 && grep -q "^usage: reverify-admin $c" out ||
			bad="$bad/$c"
	done <commands &&
	test -z "$bad" || { echo "no --help:$bad"; false; }
'

test_expect_success 'a group with --help lists its subcommands' '
	expect_rc 0 admin user --help &&
	grep "user add" out && grep "user import" out &&
	expect_rc 0 admin help user && grep "user set-password" out &&
	expect_rc 0 admin help token && grep "^usage: reverify-admin token" out
'

test_expect_success 'commands refuse to run before init' '
	expect_rc 1 admin stats &&
	grep "^reverify-admin: .*store.*init" err
'

# ---- init ----------------------------------------------------------------

test_expect_success 'init creates the store, the pepper and the local key' '
	expect_rc 0 admin init &&
	grep "created the store home" out &&
	grep "created the pepper file" out &&
	grep "created the signing key" out &&
	test "$(stat -c %a store)" = 700 &&
	test "$(stat -c %a store/pepper)" = 600 &&
	test "$(stat -c %a local.jwk)" = 600 &&
	test "$(stat -c %a jwks.json)" = 644 &&
	if test_store_pgsql; then test ! -e store/users.db; else test -f store/users.db; fi &&
	test "$(json_get jwks.json ".keys | length")" = 1 &&
	test "$(json_get jwks.json ".keys[0].d")" = null &&
	test "$(json_get jwks.json ".keys[0].kid")" = "$(json_get local.jwk .kid)"
'

test_expect_success 'init never prints the pepper or the private key' '
	! grep -F "$(head -c 64 store/pepper)" out &&
	! grep -F "$(json_get local.jwk .d)" out
'

test_expect_success 'a second init changes nothing and says so' '
	cp local.jwk local.before && cp jwks.json jwks.before &&
	cp store/pepper pepper.before &&
	expect_rc 0 admin init &&
	grep "nothing to do" out &&
	test_cmp local.before local.jwk && test_cmp jwks.before jwks.json &&
	test_cmp pepper.before store/pepper
'

test_expect_success 'a fresh store has no users and an empty audit log' '
	expect_rc 0 admin stats &&
	test "$(json_get out .users)" = 0 &&
	test "$(json_get out .auditEntries)" = 0 &&
	test "$(json_get out "keys | sort | join(\",\")")" = \
		"auditEntries,liveRecords,records,users,windows"
'

# ---- user add -------------------------------------------------------------

test_expect_success 'user add prints a new 21-character id' '
	expect_rc 0 admin user add --username alice --email Alice@Example.com \
		--name "Alice A" &&
	test "$(wc -l <out)" = 1 &&
	grep -E "^[0-9a-z]{21}$" out &&
	cp out alice.id
'

test_expect_success 'user add reads the password from stdin and stores a hash' '
	printf "correct horse battery\n" >pw &&
	admin user add --username bob --phone 15551234 --password-stdin <pw >bob.id &&
	grep -E "^[0-9a-z]{21}$" bob.id &&
	expect_rc 0 admin user show "$(cat bob.id)" &&
	test "$(json_get out .hasPassword)" = true &&
	test "$(json_get out .passwordScheme)" = argon2id
'

test_expect_success 'user add --id uses the id given' '
	expect_rc 0 admin user add --id carol-1 --email carol@example.com &&
	test "$(cat out)" = carol-1
'

test_expect_success 'a duplicate e-mail (in any case) is refused with exit 1' '
	expect_rc 1 admin user add --email ALICE@example.COM &&
	grep "^reverify-admin: user.email_already_in_use: " err &&
	test ! -s out
'

test_expect_success 'a duplicate username or phone is refused' '
	expect_rc 1 admin user add --username ALICE &&
	grep "user.username_already_in_use" err &&
	expect_rc 1 admin user add --phone 15551234 &&
	grep "user.phone_already_in_use" err
'

test_expect_success 'an id that exists is refused, not overwritten' '
	expect_rc 1 admin user add --id carol-1 --username other &&
	grep "user.id_already_in_use" err &&
	expect_rc 0 admin user show carol-1 &&
	test "$(json_get out .primaryEmail)" = carol@example.com
'

test_expect_success 'bad values are refused' '
	expect_rc 1 admin user add --email not-an-address &&
	grep "^reverify-admin: --email is not an e-mail address" err &&
	expect_rc 1 admin user add --email "a b@example.com" &&
	expect_rc 1 admin user add --phone +4915112345 &&
	grep "phone must be 1 to 32 digits" err &&
	expect_rc 1 admin user add --username "two words" &&
	grep "username must not contain spaces" err &&
	expect_rc 1 admin user add --username "$(printf "tab\tname")" &&
	grep "control character" err &&
	expect_rc 1 admin user add --username "$(printf "bad\377")" &&
	grep "UTF-8" err &&
	expect_rc 1 admin user add --id "bad id!" --username x &&
	grep "not a user id" err &&
	expect_rc 1 admin user add --username x \
		--name "$(printf "%0130d" 0)" &&
	grep "name is longer than 128 characters" err
'

test_expect_success 'a user without username, e-mail or phone is refused' '
	expect_rc 1 admin user add --name "Nobody" &&
	grep "needs at least one of --username, --email and --phone" err
'

test_expect_success 'an empty or too long password is refused' '
	printf "\n" >pw &&
	expect_rc 1 admin user add --username pwless --password-stdin <pw &&
	grep "password on standard input is empty" err &&
	printf "%0300d\n" 0 >pw &&
	expect_rc 1 admin user add --username pwlong --password-stdin <pw &&
	grep "longer than 256 bytes" err &&
	expect_rc 1 admin user show pwlong
'

test_expect_success 'no failed add left a user behind' '
	test "$(stats_of users)" = 3
'

# ---- user show, list, set-password, suspend, del --------------------------------

test_expect_success 'user show prints one JSON object with Logto field names' '
	expect_rc 0 admin user show "$(cat alice.id)" &&
	test "$(wc -l <out)" = 1 &&
	test "$(json_get out .id)" = "$(cat alice.id)" &&
	test "$(json_get out .username)" = alice &&
	test "$(json_get out .primaryEmail)" = Alice@Example.com &&
	test "$(json_get out .primaryPhone)" = null &&
	test "$(json_get out .name)" = "Alice A" &&
	test "$(json_get out .hasPassword)" = false &&
	test "$(json_get out .passwordScheme)" = null &&
	test "$(json_get out .isSuspended)" = false &&
	test "$(json_get out ".createdAt > 1600000000000")" = true
'

test_expect_success 'user show never prints the password hash' '
	expect_rc 0 admin user show "$(cat bob.id)" &&
	! grep -i "argon2id\\$\|\\$v=\|passwordHash" out &&
	expect_rc 0 admin user list &&
	! grep "\\$argon2" out
'

test_expect_success 'user show of a missing user fails' '
	expect_rc 1 admin user show nosuchuser &&
	grep "^reverify-admin: no user '\''nosuchuser'\''" err
'

test_expect_success 'user list prints one object per user' '
	expect_rc 0 admin user list &&
	test "$(wc -l <out)" = 3 &&
	jq -e -s "map(.username) | sort == [null, \"alice\", \"bob\"]" out
'

test_expect_success 'user set-password needs --password-stdin' '
	expect_rc 2 admin user set-password carol-1 &&
	grep "password-stdin" err
'

test_expect_success 'user set-password sets a password' '
	printf "new secret\n" >pw &&
	expect_rc 0 admin user set-password carol-1 --password-stdin <pw &&
	! grep "new secret" out err &&
	expect_rc 0 admin user show carol-1 &&
	test "$(json_get out .hasPassword)" = true &&
	expect_rc 1 admin user set-password nosuchuser --password-stdin <pw
'

test_expect_success 'user suspend and unsuspend' '
	expect_rc 0 admin user suspend carol-1 &&
	admin user show carol-1 >show && test "$(json_get show .isSuspended)" = true &&
	expect_rc 0 admin user unsuspend carol-1 &&
	admin user show carol-1 >show && test "$(json_get show .isSuspended)" = false &&
	expect_rc 1 admin user suspend nosuchuser
'

test_expect_success 'user del deletes, and fails for a missing user' '
	expect_rc 0 admin user add --username doomed &&
	cp out doomed.id &&
	expect_rc 0 admin user del "$(cat doomed.id)" &&
	expect_rc 1 admin user show "$(cat doomed.id)" &&
	expect_rc 1 admin user del "$(cat doomed.id)" &&
	grep "no user" err
'

test_expect_success '-q silences information, not data' '
	expect_rc 0 admin -q user add --username quiet &&
	grep -E "^[0-9a-z]{21}$" out &&
	expect_rc 0 admin -q user del "$(cat out)" &&
	test ! -s out && test ! -s err
'

# ---- audit and stats -----------------------------------------------------------

test_expect_success 'every change is in the audit log, without identifiers in clear' '
	expect_rc 0 admin audit show &&
	jq -r .event out >events &&
	printf "%s\n" user.created user.created user.created \
		user.password_set user.suspended user.unsuspended \
		user.created user.deleted user.created user.deleted >expect &&
	test_cmp expect events &&
	test "$(jq -r .by out | sort -u)" = admin &&
	! grep -i "alice@example\|15551234\|\"alice\"" out
'

test_expect_success 'audit show --from starts at an entry' '
	expect_rc 0 admin audit show --from 9 &&
	test "$(jq -r .seq out | tr "\n" " ")" = "9 10 " &&
	expect_rc 0 admin audit show --from 0 &&
	test "$(wc -l <out)" = 10 &&
	expect_rc 2 admin audit show --from -1
'

test_expect_success 'audit verify finds the chain intact' '
	expect_rc 0 admin audit verify &&
	test "$(cat out)" = "audit chain intact: 10 entries"
'

test_expect_success 'stats counts users and audit entries' '
	expect_rc 0 admin stats &&
	test "$(wc -l <out)" = 1 &&
	test "$(json_get out .users)" = 3 &&
	test "$(json_get out .auditEntries)" = 10 &&
	test "$(json_get out .records)" = 0 &&
	test "$(json_get out .liveRecords)" = 0 &&
	test "$(json_get out .windows)" = 0
'

# ---- user import ------------------------------------------------------------------

long_name=$(printf "%070000d" 0)
{
	echo '{"id":"imp-1","username":"dave","primaryEmail":"dave@example.com","passwordHash":"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}'
	echo ''
	echo '{"username":"erin","primaryPhone":"4915112345678","name":"","avatar":null}'
	echo '{"username":"frank","passwordHash":"{MD5}X03MO1qnZdYdgyfeuILPmQ=="}'
	echo '{"username":"gina","colour":"red"}'
	echo '{"primaryEmail":"ALICE@example.com"}'
	echo 'this is not JSON'
	echo '{"name":"Nobody"}'
	echo '{"username":"hank","username":"hank2"}'
	printf '{"username":"ivan","name":"%s"}\n' "$long_name"
	printf '{"username":"jo\377"}\n'
	printf '{"username":"ka\000te"}\n'
	echo '{"username":"lee","primaryPhone":"+49 151"}'
	echo '{"username":["x"]}'
	echo '{"username":"mia","argon2":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"}'
	echo '   '
	echo '{"username":"nina","passwordHash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$7Oyk6vZ6Wl1h7y4i1N1u5VYHjz3Lh0E8q7n5H7bLqXc"}'
} >import.jsonl

test_expect_success 'user import --dry-run reports every bad line and writes nothing' '
	admin audit show >audit.before &&
	admin stats >stats.before &&
	expect_rc 1 admin user import --dry-run import.jsonl &&
	admin stats >stats.after && test_cmp stats.before stats.after &&
	admin audit show >audit.after && test_cmp audit.before audit.after &&
	cp out dry.out && cp err dry.err &&
	grep "dry run: 3 would be imported, 12 failed; nothing written" err
'

test_expect_success 'user import --dry-run prints the users it would import' '
	test "$(jq -c . dry.out | tr "\n" " ")" = "{\"id\":\"imp-1\",\"username\":\"dave\"} {\"id\":null,\"username\":\"erin\"} {\"id\":null,\"username\":\"nina\"} "
'

# check_import_errors FILE: the error of each bad line, with its number
check_import_errors () {
	grep "^reverify-admin: line 4: passwordHash of unknown format$" "$1" &&
	grep "^reverify-admin: line 5: unknown key \"colour\"$" "$1" &&
	grep "^reverify-admin: line 6: user.email_already_in_use: " "$1" &&
	grep "^reverify-admin: line 7: not valid JSON" "$1" &&
	grep "^reverify-admin: line 8: a user needs at least one of username, primaryEmail and primaryPhone$" "$1" &&
	grep "^reverify-admin: line 9: not valid JSON: .*duplicate" "$1" &&
	grep "^reverify-admin: line 10: longer than 64 KiB$" "$1" &&
	grep "^reverify-admin: line 11: the text is not valid UTF-8$" "$1" &&
	grep "^reverify-admin: line 12: the text contains a NUL byte$" "$1" &&
	grep "^reverify-admin: line 13: primaryPhone must be 1 to 32 digits$" "$1" &&
	grep "^reverify-admin: line 14: username must be a string or null$" "$1" &&
	grep "^reverify-admin: line 15: unknown key \"argon2\"$" "$1" &&
	test "$(grep -c "^reverify-admin: line " "$1")" = 12
}

test_expect_success 'each bad line is reported with its line number' '
	check_import_errors dry.err
'

test_expect_success 'user import imports the good lines and fails for the bad' '
	expect_rc 1 admin user import import.jsonl &&
	check_import_errors err &&
	grep "3 imported, 12 failed" err &&
	test "$(wc -l <out)" = 3 &&
	test "$(json_get out "select(.username == \"dave\") | .id")" = imp-1 &&
	json_get out "select(.username == \"erin\") | .id" | grep -E "^[0-9a-z]{21}$" &&
	test "$(stats_of users)" = 6
'

test_expect_success 'an imported hash is kept as it is, with its scheme' '
	expect_rc 0 admin user show imp-1 &&
	test "$(json_get out .hasPassword)" = true &&
	test "$(json_get out .passwordScheme)" = bcrypt &&
	test "$(json_get out .primaryEmail)" = dave@example.com &&
	admin user list >list &&
	test "$(json_get list "select(.username == \"erin\") | .name")" = null &&
	test "$(json_get list "select(.username == \"nina\") | .passwordScheme")" = argon2id
'

test_expect_success 'importing the same file again imports nothing' '
	expect_rc 1 admin user import import.jsonl &&
	test ! -s out &&
	grep "^reverify-admin: line 1: user.id_already_in_use" err &&
	grep "^reverify-admin: line 3: user.username_already_in_use" err &&
	test "$(stats_of users)" = 6
'

test_expect_success 'user import --dry-run finds clashes between lines of the file' '
	printf "%s\n" "{\"username\":\"olga\",\"primaryEmail\":\"o@example.com\"}" \
		"{\"username\":\"OLGA\"}" "{\"primaryEmail\":\"O@EXAMPLE.COM\"}" \
		"{\"username\":\"pia\"}" >clash.jsonl &&
	expect_rc 1 admin user import --dry-run - <clash.jsonl &&
	grep "^reverify-admin: line 2: user.username_already_in_use: .*line 1" err &&
	grep "^reverify-admin: line 3: user.email_already_in_use: .*line 1" err &&
	test "$(wc -l <out)" = 2
'

test_expect_success 'a clean import exits 0 and audits each user' '
	printf "%s\n" "{\"username\":\"quinn\"}" "" "{\"primaryPhone\":\"123\"}" >good.jsonl &&
	expect_rc 0 admin user import good.jsonl &&
	test "$(wc -l <out)" = 2 &&
	admin audit show >audit && test "$(grep -c "\"user.imported\"" audit)" = 5
'

test_expect_success 'user import of a missing file fails' '
	expect_rc 1 admin user import nosuchfile.jsonl &&
	grep "cannot open '\''nosuchfile.jsonl'\''" err
'

# ---- token -------------------------------------------------------------------------

test_expect_success 'token mints a JWT for an existing user' '
	expect_rc 0 admin token "$(cat alice.id)" &&
	cp out token &&
	test "$(tr -cd . <token | wc -c)" = 2 &&
	jwt_payload token >claims &&
	test "$(json_get claims .sub)" = "$(cat alice.id)" &&
	test "$(json_get claims .iss)" = https://issuer.test &&
	test "$(json_get claims .aud)" = reverify &&
	test "$(json_get claims .client_id)" = demo-app &&
	test "$(json_get claims .scope)" = "openid profile email phone" &&
	test "$(json_get claims ".exp - .iat")" = 3600
'

test_expect_success 'the token header names the local key' '
	hdr=$(cut -d. -f1 <token | tr "_-" "/+") &&
	case $((${#hdr} % 4)) in 2) hdr="$hdr==" ;; 3) hdr="$hdr=" ;; esac &&
	printf "%s\n" "$hdr" | base64 -d >header &&
	test "$(json_get header .kid)" = "$(json_get local.jwk .kid)" &&
	test "$(json_get header .alg)" = ES384
'

test_expect_success 'token options set the claims' '
	expect_rc 0 admin token --scope "openid email" --client-id third \
		--audience other --ttl 60 "$(cat alice.id)" &&
	jwt_payload out >claims &&
	test "$(json_get claims .scope)" = "openid email" &&
	test "$(json_get claims .client_id)" = third &&
	test "$(json_get claims .aud)" = other &&
	test "$(json_get claims ".exp - .iat")" = 60
'

test_expect_success 'token --expired mints a token that has expired' '
	expect_rc 0 admin token --expired "$(cat alice.id)" &&
	jwt_payload out >claims &&
	test "$(json_get claims ".exp - .iat")" = -3600 &&
	expect_rc 2 admin token --expired --ttl 5 "$(cat alice.id)"
'

test_expect_success 'token is refused for a missing user unless --any-user' '
	expect_rc 1 admin token nosuchuser &&
	grep "^reverify-admin: no user '\''nosuchuser'\''" err &&
	test ! -s out &&
	expect_rc 0 admin token --any-user nosuchuser &&
	jwt_payload out >claims &&
	test "$(json_get claims .sub)" = nosuchuser
'

test_expect_success 'token with a bad --ttl is a usage error' '
	expect_rc 2 admin token --ttl 0 "$(cat alice.id)" &&
	expect_rc 2 admin token --ttl 1h "$(cat alice.id)"
'

test_expect_success 'token is refused without <auth local-key>' '
	printf "%s\n" "<?xml version=\"1.0\"?>" "<reverify>" \
		"<log target=\"file\" file=\"$TRASH/reverify.log\"/>" \
		"$store" \
		"<auth issuer=\"https://issuer.test\" audience=\"reverify\"/>" \
		"</reverify>" >nokey.xml &&
	expect_rc 1 admin -c nokey.xml token "$(cat alice.id)" &&
	grep "^reverify-admin: no <auth local-key> configured$" err
'

# ---- jwks import ------------------------------------------------------------------------

test_expect_success 'jwks import replaces the key set with a valid one' '
	cp jwks.json jwks.orig &&
	jq ".keys[0].kid = \"second\"" jwks.orig >k2.json &&
	jq -s "{keys: [.[0].keys[0], .[1].keys[0]]}" jwks.orig k2.json >two.json &&
	expect_rc 0 admin jwks import two.json &&
	grep "imported 2 keys" out &&
	test "$(json_get jwks.json ".keys | length")" = 2 &&
	test "$(stat -c %a jwks.json)" = 644 &&
	expect_rc 0 admin jwks import - <jwks.orig &&
	grep "imported 1 key " out &&
	test "$(json_get jwks.json ".keys | length")" = 1 &&
	! ls jwks.json.?* 2>/dev/null
'

test_expect_success 'jwks import rejects a private key' '
	jq -c "{keys: [.]}" local.jwk >private.json &&
	expect_rc 1 admin jwks import private.json &&
	grep "private part \"d\"" err &&
	! grep -F "$(json_get local.jwk .d)" out err &&
	test_cmp jwks.orig jwks.json
'

test_expect_success 'jwks import rejects what is not a usable key set' '
	echo "not json" >bad.json &&
	expect_rc 1 admin jwks import bad.json && grep "not valid JSON" err &&
	echo "{\"keys\":[]}" >bad.json &&
	expect_rc 1 admin jwks import bad.json && grep "has no keys" err &&
	cp local.jwk bad.json &&
	expect_rc 1 admin jwks import bad.json && grep "not a key set" err &&
	echo "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\",\"y\":\"b\"}]}" >bad.json &&
	expect_rc 1 admin jwks import bad.json && grep "cannot be imported" err &&
	expect_rc 1 admin jwks import two.json.missing &&
	test_cmp jwks.orig jwks.json
'

test_expect_success 'jwks import refuses a set the programs would refuse' '
	jq -s "{keys: [.[0].keys[0], .[0].keys[0]]}" jwks.orig >dupkid.json &&
	expect_rc 1 admin jwks import dupkid.json &&
	grep "dupkid.json.*used twice" err &&
	test_cmp jwks.orig jwks.json
'

# ---- config check ------------------------------------------------------------------------

test_expect_success 'config check prints the effective configuration' '
	expect_rc 0 admin config check &&
	grep "<!-- effective configuration of $TRASH/reverify.xml -->" out &&
	grep "home=\"$TRASH/store\"" out &&
	grep "issuer=\"https://issuer.test\"" out &&
	grep "max-body=\"65536\"" out &&
	! grep "warning:" err
'

test_expect_success 'config check warns about weak settings' '
	printf "0%.0s" $(seq 64) >weak-pepper && chmod 644 weak-pepper &&
	printf "%s\n" "<?xml version=\"1.0\"?>" "<reverify>" \
		"<store home=\"$TRASH/weak\" pepper=\"$TRASH/weak-pepper\" users-sync=\"no\"/>" \
		"<auth mode=\"remote-user\"/>" \
		"</reverify>" >weak.xml &&
	expect_rc 0 admin config check weak.xml &&
	grep "mode=\"remote-user\"" out &&
	grep "^reverify-admin: warning: <auth mode=\"remote-user\">" err &&
	grep "^reverify-admin: warning: <store users-sync=\"no\">" err &&
	grep "^reverify-admin: warning: the pepper file .*weak-pepper.* readable by anyone" err &&
	grep "^reverify-admin: note: <http cors=\"yes\">" err
'

test_expect_success 'config check warns about an empty issuer, audience and first-party' '
	printf "%s\n" "<?xml version=\"1.0\"?>" "<reverify>" "<http cors=\"no\"/>" \
		"</reverify>" >empty.xml &&
	expect_rc 0 admin config check empty.xml &&
	grep "warning: <auth issuer> is empty" err &&
	grep "warning: <auth audience> is empty" err &&
	grep "warning: <auth first-party> is empty" err &&
	! grep "note: <http cors" err
'

test_expect_success 'config check fails on a bad file with file:line' '
	printf "%s\n" "<?xml version=\"1.0\"?>" "<reverify>" \
		"<auth colour=\"red\"/>" "</reverify>" >bad.xml &&
	expect_rc 1 admin config check bad.xml &&
	grep "^reverify-admin: bad.xml:3: unknown setting '\''colour'\'' in <auth>" err &&
	expect_rc 1 admin config check nosuch.xml &&
	grep "nosuch.xml" err
'

test_expect_success 'a bad configuration stops every command' '
	expect_rc 1 admin -c bad.xml stats &&
	grep "bad.xml:3:" err &&
	REVERIFY_CONFIG=$TRASH/bad.xml expect_rc 1 admin stats
'

# ---- maintenance ----------------------------------------------------------------------------

test_expect_success 'purge runs' '
	expect_rc 0 admin purge &&
	grep -E "^purged [0-9]+$" out
'

test_expect_bdb 'reverify-admin backup copies Berkeley DB files' \
	'backup copies the databases and the log' '
	expect_rc 0 admin backup "$TRASH/backup" &&
	test -f backup/users.db && test -f backup/audit.db &&
	ls backup/log.* &&
	test ! -e backup/pepper &&
	expect_rc 2 admin backup
'

test_expect_bdb 'reverify-admin recover runs Berkeley DB recovery' \
	'recover runs on a store nobody uses' '
	expect_rc 0 admin recover &&
	grep "recovered" out &&
	expect_rc 0 admin audit verify
'

if test_store_pgsql; then
	test_skip_bdb 'audit verify reports the first broken link' \
		'it rewrites audit.db with db5.3_dump and db5.3_load'
elif command -v db5.3_dump >/dev/null 2>&1 && command -v db5.3_load >/dev/null 2>&1; then
	test_expect_success 'audit verify reports the first broken link' '
		cp -R store tampered && rm -f tampered/__db.* &&
		sed "s|$TRASH/store|$TRASH/tampered|" reverify.xml >tampered.xml &&
		db5.3_dump -p -h tampered audit.db |
			sed "s/\"user.suspended\"/\"user.SUSPENDED\"/" >audit.dump &&
		grep SUSPENDED audit.dump &&
		db5.3_load -h tampered audit.db <audit.dump &&
		# a cold copy with one file rewritten outside the environment:
		# reset every file LSN and drop the old log, or recovery
		# (rightly) refuses the mix
		(cd tampered && for f in *.db; do db5.3_load -r lsn -h . "$f" || exit 1; done &&
			rm -f log.* __db.*) &&
		expect_rc 1 admin -c tampered.xml audit verify &&
		test "$(cat err)" = "reverify-admin: audit chain broken at entry 5: content does not match its hash" &&
		expect_rc 0 admin audit verify
	'
else
	test_skip 'audit verify reports the first broken link' \
		'db5.3_dump and db5.3_load not found (apt-get install db5.3-util)'
fi

test_expect_success 'the final counts add up' '
	expect_rc 0 admin stats &&
	test "$(json_get out .users)" = 8 &&
	admin audit show >audit &&
	test "$(json_get out .auditEntries)" = "$(wc -l <audit)" &&
	admin user list >list && test "$(wc -l <list)" = 8
'

test_done
