#!/bin/sh
# t2220-password-rehash: users imported with the hashes of other systems
# step up with their old password, and their hash is replaced by the
# configured scheme in the same request (DESIGN.md "Passwords")
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

VECTORS=$top_srcdir/t/fixtures/passwords/vectors.txt
setup_instance || bail_out "cannot set up the instance"
start_lighttpd verification-password || bail_out "lighttpd did not start"

# import_vector NAME PREFIX: a user named NAME whose hash is the first
# reference vector starting with PREFIX; prints the user id
import_vector () {
	line=$(grep -v "^#" "$VECTORS" | awk -F'\t' -v p="$2" 'index($3, p) == 1 { print; exit }')
	test -n "$line" || { echo "no vector for $2" >&2; return 1; }
	printf '%s' "$(printf '%s' "$line" | cut -f2)" >"$1.pw"
	printf '%s' "$line" | cut -f3 |
		jq -Rc --arg u "$1" '{username: $u, passwordHash: .}' >"$1.jsonl"
	"$ADMIN" user import "$1.jsonl" 2>/dev/null | jq -r .id
}

scheme_of () {
	"$ADMIN" user show "$1" | jq -r .passwordScheme
}

# step_up USER_ID PASSWORD_FILE: POST /api/verifications/password
step_up () {
	jq -Rsc '{password: .}' "$2" >req.json &&
	http POST /api/verifications/password req.json -H "Authorization: Bearer $(mint "$1")"
}

for v in 'bcrypt|$2b$' 'bcrypt2y|$2y$' 'django|pbkdf2_sha256$' 'werkzeug|pbkdf2:sha256:' \
	 'passlib|$pbkdf2-sha256$29000$' 'phc|$pbkdf2-sha512$i=' 'logto|$argon2i$v=19$' \
	 'sha512crypt|$6$' 'yescrypt|$y$'
do
	name=${v%%|*} prefix=${v#*|}
	test_expect_success "$name ($prefix): the old password steps up, then the hash is argon2id" '
		id=$(import_vector "$name" "$prefix") &&
		test "$(scheme_of "$id")" != argon2id &&
		step_up "$id" "$name.pw" &&
		check_status 201 &&
		test "$(scheme_of "$id")" = argon2id &&
		step_up "$id" "$name.pw" &&
		check_status 201
	'
done

test_expect_success 'a wrong password does not rehash' '
	id=$(import_vector wrongpw "\$2a\$") &&
	echo "not it" >bad.pw &&
	step_up "$id" bad.pw &&
	check_status 422 &&
	test "$(scheme_of "$id")" = bcrypt
'

test_expect_success 'argon2id with weaker parameters is rehashed; a current one is not' '
	id=$(import_vector weak "\$argon2id\$v=19\$m=512") &&
	step_up "$id" weak.pw && check_status 201 &&
	"$ADMIN" audit show >a1 &&
	test "$(grep -c "\"user\":\"$id\".*user.password_rehashed\|user.password_rehashed.*\"user\":\"$id\"" a1)" = 1 &&
	step_up "$id" weak.pw && check_status 201 &&
	"$ADMIN" audit show >a2 &&
	test "$(grep -c "user.password_rehashed" a2)" = "$(grep -c "user.password_rehashed" a1)"
'

test_expect_success 'with <password scheme="bcrypt">, new hashes are bcrypt' '
	stop_lighttpd &&
	setup_instance "<password scheme=\"bcrypt\" bcrypt-cost=\"4\"/>" &&
	start_lighttpd verification-password &&
	id=$(import_vector tobcrypt "pbkdf2:sha256:") &&
	step_up "$id" tobcrypt.pw && check_status 201 &&
	test "$(scheme_of "$id")" = bcrypt
'

test_expect_success 'with bcrypt, a password over 72 bytes steps up and keeps its hash (no truncation)' '
	id=$(import_vector longpw "pbkdf2:sha512:") &&
	test "$(wc -c <longpw.pw)" -gt 72 &&
	step_up "$id" longpw.pw && check_status 201 &&
	test "$(scheme_of "$id")" = pbkdf2-sha512 &&
	grep "rehash failed: password of [0-9]* bytes: bcrypt reads only 72" "$TRASH/reverify.log"
'

test_expect_success 'a hash over the cost caps is refused like a wrong password, and logged' '
	jq -nc "{username: \"costly\", passwordHash: \"\$pbkdf2-sha256\$i=99999999,l=32\$c2FsdHNhbHRzYWx0c2FsdA\$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g\"}" >costly.jsonl &&
	id=$("$ADMIN" user import costly.jsonl | jq -r .id) &&
	echo "whatever" >c.pw &&
	step_up "$id" c.pw &&
	check_status 422 && check_code session.invalid_credentials &&
	grep "unusable password hash: pbkdf2 hash over the cost cap" "$TRASH/reverify.log"
'

test_done
