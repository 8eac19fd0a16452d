#!/bin/sh
# t3110-account-mfa: second factors through the account page (www/account/)
# in a real browser (issue 20): headless Chromium with its virtual
# authenticator (the DevTools Protocol's WebAuthn domain: CTAP2, internal,
# resident keys, user verification) driven by playwright-core
# (t/browser/account-mfa.js), behind lighttpd with the real programs.
# alice steps up by password, adds a passkey (registration, logto-spec
# 2.5, then the binding, 8.1.9), steps up again with the passkey alone and
# changes her username under that step-up; then removes the passkey. She
# sets up an authenticator app from the key the page shows (oathtool makes
# its codes), steps up with a code and removes it. The results are checked
# again through the API and the audit trail, without the page.
# Screenshots: t/e2e/t3110-account-mfa.shots/ in the build tree.
# WebAuthn wants a secure context and an RP ID that is a domain, not an IP
# address: the page is opened at http://localhost:PORT (a secure context
# as it is, and "localhost" a valid RP ID), so the instance has
# <webauthn rp-id="localhost" origins="http://localhost:PORT">, with the
# port that lighttpd got (its programs read the config at their start, so
# lighttpd is started again once the port is known).
# Needs node, Chromium and playwright-core (t/lib/browser.sh), and
# oathtool; skips without them.
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/browser.sh"

browser_setup
OATHTOOL=$(command -v oathtool || true)
require_server oathtool "$OATHTOOL"
export OATHTOOL

setup_instance '<webauthn rp-id="localhost" rp-name="reverify test" origins="http://localhost:0"/>' ||
	bail_out "cannot set up the instance"
PASSWORD='correct horse battery staple'
NEW_USERNAME=alice_passkey
PASSKEY_NAME='Virtual key'
export PASSWORD NEW_USERNAME PASSKEY_NAME
uid=$(printf '%s\n' "$PASSWORD" | add_user --username alice --email alice@example.com \
	--name "Alice Demo" --password-stdin) || bail_out "no user"
tok=$(MINT_SCOPE="openid profile email phone identities" mint "$uid") || bail_out "no token"
TOKEN_FILE=$TRASH/token
printf '%s\n' "$tok" >"$TOKEN_FILE"
export TOKEN_FILE

# start: lighttpd with the page and the programs, on the port that the
# config's origin names (at most three starts: the port is free again
# once the first server stopped, unless another test took it meanwhile)
start () {
	s_try_=0
	while test "$s_try_" -lt 3; do
		s_try_=$((s_try_ + 1))
		LIGHTTPD_PAGE=$top_srcdir/www/account LIGHTTPD_PAGE_TOKEN=$TOKEN_FILE \
			start_lighttpd verification-password verification-records \
			verification-mfa my-account my-account-mfa || return 1
		s_port_=${BASE##*:}
		grep -q "origins=\"http://localhost:$s_port_\"" "$REVERIFY_CONFIG" && return 0
		sed "s|origins=\"http://localhost:[0-9]*\"|origins=\"http://localhost:$s_port_\"|" \
			"$REVERIFY_CONFIG" >"$REVERIFY_CONFIG.new" &&
			mv "$REVERIFY_CONFIG.new" "$REVERIFY_CONFIG" || return 1
	done
	echo "start: lighttpd did not get the same port twice" >&2
	return 1
}
start || bail_out "lighttpd did not start"
PAGE_BASE=http://localhost:${BASE##*:}
export BASE PAGE_BASE

test_expect_success 'the page lets its QR code of a TOTP key load (CSP img-src data:), nothing else' '
	http GET /account/ &&
	check_status 200 &&
	grep -i "^content-security-policy: default-src .none.;.* img-src .self. data:;" "$TRASH/headers"
'

test_expect_success 'the browser goes through the page (node t/browser/account-mfa.js)' '
	run_browser account-mfa.js 60
'

# each step of the browser run, as its own result
browser_steps no-factors stepup-password passkey-added stepup-passkey \
	username-changed passkey-removed totp-added stepup-totp totp-removed

test_expect_success 'the API, asked without the page: the new username' '
	http GET /api/my-account -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(json_get "$TRASH/body" .username)" = "$NEW_USERNAME"
'

test_expect_success 'the audit trail has the passkey and the app bound once each and removed; none is left' '
	"$ADMIN" audit show >audit.out &&
	grep "\"event\":\"mfa.webauthn.added\"" audit.out >added &&
	test "$(wc -l <added)" = 1 &&
	grep "\"event\":\"mfa.totp.added\"" audit.out >added &&
	test "$(wc -l <added)" = 1 &&
	grep "\"event\":\"mfa.removed\"" audit.out >removed &&
	test "$(wc -l <removed)" = 2 &&
	http GET /api/my-account/mfa-verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(jq length "$TRASH/body")" = 0
'

test_expect_success 'the audit trail has one step-up by the passkey, one by the app, one by password' '
	for e in passkey totp password; do
		grep "\"event\":\"verify.$e.ok\"" audit.out >ok.$e &&
		test "$(wc -l <ok.$e)" = 1 || return 1
	done
'

test_expect_success 'the API lists the step-ups that the page made: by password, passkey and app' '
	http GET /api/verifications -H "Authorization: Bearer $tok" &&
	check_status 200 &&
	test "$(jq -r "[.records[].type] | sort | join(\" \")" "$TRASH/body")" = "Passkey Password Totp"
'

test_done
