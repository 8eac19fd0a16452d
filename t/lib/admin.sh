# admin.sh: running reverify-admin, and commands with an expected exit status
# shellcheck shell=sh disable=SC2154 # top_builddir comes from test-lib.sh
#
# Sourced after test-lib.sh by the tests of reverify-admin (t/t9*):
#	. "$top_srcdir/t/lib/admin.sh"
#	test_expect_success 'x' 'expect_rc 2 admin user add --bogus'

# admin ARGS...: the reverify-admin of the build tree, with ARGS
admin () {
	"$top_builddir/src/reverify-admin" "$@"
}

# expect_rc WANT COMMAND...: run COMMAND with stdout in ./out and stderr in
# ./err (in the current directory); fails, showing both, unless its exit
# status is WANT.
expect_rc () {
	er_want_=$1
	shift
	er_rc_=0
	"$@" >out 2>err || er_rc_=$?
	test "$er_rc_" = "$er_want_" && return 0
	echo "exit status $er_rc_, want $er_want_; stdout:"
	cat out
	echo "stderr:"
	cat err
	return 1
}
