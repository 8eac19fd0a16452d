#!/bin/sh
# t3020-profile: PATCH /api/my-account (logto-spec 6.7, 8.1.5 AI, 8.1.6 AR-2,
# 8.1.7 TP)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/stepup.sh"

setup_instance || bail_out "cannot set up the instance"
PW='my Password 123'
uid=$(printf '%s\n' "$PW" | add_user --username alice --email alice@example.com --password-stdin) ||
	bail_out "no user"
bob=$(add_user --username bob) || bail_out "no user"
start_lighttpd verification-password my-account || bail_out "lighttpd did not start"
tok=$(mint "$uid")

patch () {
	printf '%s' "$2" >patch.json &&
	if test -n "${3-}"; then
		http PATCH /api/my-account patch.json -H "Authorization: Bearer $1" \
			-H "logto-verification-id: $3"
	else
		http PATCH /api/my-account patch.json -H "Authorization: Bearer $1"
	fi
}

test_expect_success 'PATCH {name}: 200 with the new name (AI-7)' '
	patch "$tok" "{\"name\":\"Alice Liddell\"}" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .name)" = "Alice Liddell"
'

test_expect_success 'PATCH {avatar}: 200 (AI-8)' '
	patch "$tok" "{\"avatar\":\"https://example.com/avatar.png\"}" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .avatar)" = https://example.com/avatar.png
'

test_expect_success 'an avatar that is not a URL: 400 guard.invalid_input' '
	patch "$tok" "{\"avatar\":\"javascript:alert(1)\"}" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'PATCH {username} without step-up: 401 (AI-10)' '
	patch "$tok" "{\"username\":\"alice2\"}" &&
	check_status 401 && check_code verification_record.permission_denied
'

test_expect_success 'PATCH {username} with a password record: 200 (AI-9)' '
	r=$(step_up "$tok") &&
	patch "$tok" "{\"username\":\"alice2\"}" "$r" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = alice2
'

test_expect_success 'another user'"'"'s username in other case: 422 (AI-13)' '
	patch "$tok" "{\"username\":\"BOB\"}" "$r" &&
	check_status 422 && check_code user.username_already_in_use
'

test_expect_success 'a username that breaks ^[A-Z_a-z]\w*$: 400 guard.invalid_input' '
	patch "$tok" "{\"username\":\"1alice\"}" "$r" &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'PATCH {username: null} while an e-mail remains: 200 (AI-11)' '
	patch "$tok" "{\"username\":null}" "$r" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = null
'

test_expect_success 'username: null when it is the only identifier: 400 (AI-12)' '
	bt=$(mint "$bob") &&
	printf "%s\n" "$PW" | "$ADMIN" -q user set-password "$bob" --password-stdin &&
	br=$(step_up "$bt") &&
	patch "$bt" "{\"username\":null}" "$br" &&
	check_status 400 && check_code user.last_sign_in_method_required
'

test_expect_success 'customData is not kept by reverify: 400 account_center.field_not_editable' '
	patch "$tok" "{\"customData\":{\"a\":1}}" &&
	check_status 400 && check_code account_center.field_not_editable
'

test_expect_success 'without the profile scope: 400 auth.unauthorized' '
	patch "$(MINT_SCOPE="openid email" mint "$uid")" "{\"name\":\"x\"}" &&
	check_status 400 && check_code auth.unauthorized
'

test_expect_success 'a third-party client: 403 (TP-1)' '
	patch "$(mint "$uid" --client-id other-app)" "{\"name\":\"x\"}" &&
	check_status 403 && check_code auth.third_party_application_forbidden
'

test_expect_success 'fields that are not editable: 400 each (AR-2)' '
	stop_lighttpd &&
	setup_instance "<account-center name=\"read-only\" avatar=\"off\" username=\"read-only\"/>" &&
	start_lighttpd verification-password my-account &&
	for body in "{\"name\":\"x\"}" "{\"avatar\":\"https://e.example/a.png\"}" "{\"username\":\"zz\"}"; do
		patch "$tok" "$body" &&
		check_status 400 && check_code account_center.field_not_editable || return 1
	done
'

test_done
