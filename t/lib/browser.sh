# browser.sh: what the browser tests (t3100, t3110) share: node, Debian's
# Chromium and playwright-core, the screenshots and the steps of the
# browser script (t/browser/*.js, see t/browser/lib.js)
# shellcheck shell=sh disable=SC2154 # top_srcdir, top_builddir, TEST_NAME, TRASH come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/browser.sh"
#	browser_setup
#	test_expect_success 'the browser goes through the page' 'run_browser account-page.js 90'
#	browser_steps profile stepup-password
# browser_setup skips the script without node, Chromium or playwright-core
# (tools/quickstart installs them: the module in
# /usr/local/lib/reverify-test, or $REVERIFY_NODE_MODULES), or bails out
# under REVERIFY_TEST_REQUIRE_SERVERS=1.

# browser_setup: NODE, CHROMIUM and PLAYWRIGHT_CORE, SHOTS (an empty
# $TEST_NAME.shots/ beside the test's .log, kept for a look; make clean
# removes it) and STEPS (the file of "ok STEP" lines), exported
browser_setup () {
	NODE=$(command -v node || true)
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
	PLAYWRIGHT_CORE=${REVERIFY_NODE_MODULES:-/usr/local/lib/reverify-test/node_modules}/playwright-core
	require_server node "$NODE"
	require_server chromium "$CHROMIUM"
	require_server "playwright-core (tools/quickstart check installs it)" \
		"$(test -f "$PLAYWRIGHT_CORE/package.json" && echo "$NODE")"
	SHOTS=$top_builddir/t/e2e/$TEST_NAME.shots
	{ rm -rf "$SHOTS" && mkdir -p "$SHOTS"; } || bail_out "cannot make $SHOTS"
	STEPS=$TRASH/steps
	export NODE CHROMIUM PLAYWRIGHT_CORE SHOTS STEPS
}

# run_browser SCRIPT SECONDS: node t/browser/SCRIPT, at most SECONDS; its
# output shown, its exit status the result
run_browser () {
	timeout "$2" "$NODE" "$top_srcdir/t/browser/$1" >browser.out 2>&1
	rb_rc_=$?
	cat browser.out
	test "$rb_rc_" = 0
}

# browser_steps STEP...: a result for each STEP of the browser script: it
# wrote "ok STEP", and each screenshot of it is a PNG
browser_steps () {
	for bs_step_ in "$@"; do
		test_expect_success "browser step $bs_step_, with its screenshot" \
			"browser_step_ok_ $bs_step_"
	done
}

browser_step_ok_ () {
	grep -qx "ok $1" "$STEPS" || return 1
	for bs_shot_ in "$SHOTS"/[0-9][0-9]-"$1".png; do
		test "$(head -c 8 "$bs_shot_" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a || return 1
	done
}
