# rv_options.m4: reverify's opt-in build switches (warnings, sanitizers,
# coverage, fuzzers, valgrind). Each only adds to its own variable.

AC_DEFUN([RV_WARNINGS], [
AC_ARG_ENABLE([werror],
	[AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
	[], [enable_werror=no])
WARN_CFLAGS="-Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wvla -Wwrite-strings -Werror=format-security -Wno-unused-parameter"
AS_IF([test "x$enable_werror" = xyes], [WARN_CFLAGS="$WARN_CFLAGS -Werror"])
HARDEN_CFLAGS="-fstack-protector-strong"
HARDEN_LDFLAGS="-Wl,-z,relro,-z,now"
AC_SUBST([WARN_CFLAGS])
AC_SUBST([HARDEN_CFLAGS])
AC_SUBST([HARDEN_LDFLAGS])
])

AC_DEFUN([RV_SANITIZERS], [
AC_ARG_ENABLE([sanitizers],
	[AS_HELP_STRING([--enable-sanitizers], [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
	[], [enable_sanitizers=no])
SAN_CFLAGS=
SAN_LDFLAGS=
AS_IF([test "x$enable_sanitizers" = xyes], [
	SAN_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	SAN_LDFLAGS="-fsanitize=address,undefined"
])
AM_CONDITIONAL([SANITIZERS], [test "x$enable_sanitizers" = xyes])
AC_SUBST([SAN_CFLAGS])
AC_SUBST([SAN_LDFLAGS])
])

AC_DEFUN([RV_COVERAGE], [
AC_ARG_ENABLE([coverage],
	[AS_HELP_STRING([--enable-coverage], [build with gcov instrumentation (make coverage)])],
	[], [enable_coverage=no])
COV_CFLAGS=
AS_IF([test "x$enable_coverage" = xyes], [COV_CFLAGS="--coverage -O0"])
AM_CONDITIONAL([COVERAGE], [test "x$enable_coverage" = xyes])
AC_PATH_PROG([LCOV], [lcov])
AC_PATH_PROG([GENHTML], [genhtml])
AC_SUBST([COV_CFLAGS])
])

AC_DEFUN([RV_FUZZERS], [
FUZZ_CFLAGS=
FUZZ_LDFLAGS=
AC_ARG_ENABLE([fuzzers],
	[AS_HELP_STRING([--enable-fuzzers], [build the libFuzzer targets in t/fuzz (needs CC=clang)])],
	[], [enable_fuzzers=no])
AS_IF([test "x$enable_fuzzers" = xyes], [
	save_CFLAGS=$CFLAGS
	CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link"
	AC_MSG_CHECKING([whether $CC supports -fsanitize=fuzzer])
	AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
		[AC_MSG_RESULT([no]); AC_MSG_ERROR([--enable-fuzzers needs clang with libFuzzer: install the Debian packages clang and libclang-rt-14-dev, then configure CC=clang])])
	CFLAGS=$save_CFLAGS
	dnl the whole tree gets coverage feedback and ASan+UBSan, so that a bug
	dnl in the library is found, not only one in the target's own file
	FUZZ_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	FUZZ_LDFLAGS="-fsanitize=address,undefined"
])
AM_CONDITIONAL([FUZZERS], [test "x$enable_fuzzers" = xyes])
AC_SUBST([FUZZ_CFLAGS])
AC_SUBST([FUZZ_LDFLAGS])
])

AC_DEFUN([RV_VALGRIND], [
AC_ARG_WITH([valgrind],
	[AS_HELP_STRING([--with-valgrind], [run the unit and CGI tests under valgrind])],
	[], [with_valgrind=no])
VALGRIND=
AS_IF([test "x$with_valgrind" != xno], [
	AC_PATH_PROG([VALGRIND], [valgrind])
	AS_IF([test -z "$VALGRIND"],
		[AC_MSG_ERROR([--with-valgrind: valgrind not found: install the Debian package valgrind])])
])
AM_CONDITIONAL([VALGRIND], [test -n "$VALGRIND"])
AC_SUBST([VALGRIND])
])
