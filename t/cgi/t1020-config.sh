#!/bin/sh
# t1020-config: a bad reverify.xml or catalog stops a program before it serves
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

# refused NAME LINE WHAT XML...: the file is refused by "status -t" with
# "reverify.xml:LINE: ...WHAT", and as CGI the program answers 500 JSON.
refused () {
	line=$1 what=$2 &&
	shift 2 &&
	write_config "$@" &&
	rc=0 && "$top_builddir/cgi-bin/status" -t >out 2>err || rc=$? &&
	test "$rc" = 1 &&
	grep -F "reverify.xml:$line: " err | grep -F "$what" &&
	{ run_cgi status GET /api/status 2>cgi-err || test $? = 1; } &&
	check_status 500 && check_code internal_error &&
	grep -F "reverify.xml:$line: " cgi-err
}

test_expect_success 'the sample configuration is valid' '
	"$top_builddir/cgi-bin/status" -t -c "$top_srcdir/conf/reverify.xml.sample"
'

test_expect_success 'an unknown element is refused with file:line' '
	refused 4 "unknown element <database>" "<database path=\"/x\"/>"
'

test_expect_success 'an unknown setting is refused' '
	refused 4 "unknown setting '\''maxbody'\'' in <http>" "<http maxbody=\"1\"/>"
'

test_expect_success 'a bad value is refused' '
	refused 4 "the value is not yes or no" "<http cors=\"chatty\"/>"
'

test_expect_success 'a bad choice is refused with the choices' '
	{
		echo "<?xml version=\"1.0\"?>" &&
		echo "<reverify>" &&
		echo "<log target=\"stderr\" level=\"chatty\"/>" &&
		echo "</reverify>"
	} >choice.xml &&
	rc=0 && "$top_builddir/cgi-bin/status" -t -c choice.xml 2>err || rc=$? &&
	test "$rc" = 1 &&
	grep -F "choice.xml:3: <log level=\"chatty\">: the value is not one of the allowed values (one of warn|info|debug)" err
'

test_expect_success 'an out-of-range number is refused with the range' '
	refused 4 "out of range (1024 to 1048576)" "<http max-body=\"99999999\"/>"
'

test_expect_success 'an out-of-range limit of issue 14 is refused with file:line and the range' '
	refused 4 "<codes caller-send-max=\"0\">: the value is out of range (1 to 256)" \
		"<codes caller-send-max=\"0\"/>" &&
	refused 4 "<delivery sms-hourly-max=\"-1\">: the value is not a whole number" \
		"<delivery sms-hourly-max=\"-1\"/>" &&
	refused 4 "<delivery sms-prefixes=\"+49\">: the value is not a list of country calling codes" \
		"<delivery sms-prefixes=\"+49\"/>"
'

test_expect_success 'a number with a unit is refused' '
	refused 4 "not a whole number" "<http max-body=\"64k\"/>"
'

test_expect_success 'malformed XML is refused' '
	refused 5 "" "<http max-body=\"2048\">"
'

test_expect_success 'a missing file named by REVERIFY_CONFIG is refused' '
	REVERIFY_CONFIG=$TRASH/nothere.xml &&
	rc=0 && "$top_builddir/cgi-bin/status" -t 2>err || rc=$? &&
	test "$rc" = 1 && grep "nothere.xml" err
'

test_expect_success 'a broken override catalog stops the program' '
	mkdir -p locale &&
	printf "<catalog lang=\"ja\">\n<message>no code</message>\n</catalog>\n" >locale/ja.xml &&
	write_config "<i18n overrides=\"locale\"/>" &&
	rc=0 && "$top_builddir/cgi-bin/status" -t 2>err || rc=$? &&
	test "$rc" = 1 && grep "locale/ja.xml:2: <message> needs code=" err
'

test_expect_success 'as CGI, an answer without a message parses no catalog, so a broken one does not stop it' '
	write_config "<i18n overrides=\"locale\"/>" &&
	run_cgi status OPTIONS /api/status HTTP_ORIGIN=https://app.example \
		HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET &&
	check_status 204 &&
	! grep "message catalogs" reverify.log
'

test_expect_success 'as CGI, a message parses them: the broken one is logged, the built-in ones answer' '
	run_cgi status GET /api/nowhere HTTP_ACCEPT_LANGUAGE=ja &&
	check_status 404 &&
	grep "message catalogs: .*locale/ja.xml:2: <message> needs code=" reverify.log &&
	test -n "$(json_get "$TRASH/body" .message)" &&
	rm -rf locale && write_config
'

# ---- files others could change (security review F15) -------------------------

test_expect_success 'a group-writable configuration is refused, naming it' '
	write_config &&
	chmod 664 reverify.xml &&
	rc=0 && "$top_builddir/cgi-bin/status" -t 2>err || rc=$? &&
	test "$rc" = 1 &&
	grep -F "the configuration '\''$TRASH/reverify.xml'\'' is writable by group or others" err &&
	{ run_cgi status GET /api/status 2>cgi-err || test $? = 1; } &&
	check_status 500 && check_code internal_error &&
	chmod 644 reverify.xml &&
	"$top_builddir/cgi-bin/status" -t >/dev/null
'

test_expect_success 'a configuration in a world-writable directory without +t is refused' '
	mkdir -p open && chmod 777 open &&
	cp reverify.xml open/reverify.xml &&
	rc=0 && "$top_builddir/cgi-bin/status" -t -c open/reverify.xml 2>err || rc=$? &&
	test "$rc" = 1 &&
	grep -F "open/reverify.xml'\'' is in a directory anyone may write to" err &&
	chmod +t open &&
	"$top_builddir/cgi-bin/status" -t -c open/reverify.xml >/dev/null
'

test_expect_success 'a group- or world-writable JWKS is refused, naming it' '
	printf "{\"keys\":[]}\n" >jwks.json && chmod 666 jwks.json &&
	write_config "<auth issuer=\"https://issuer.test\" audience=\"reverify\" jwks=\"$TRASH/jwks.json\"/>" &&
	rc=0 && "$top_builddir/cgi-bin/my-account" -t 2>err || rc=$? &&
	test "$rc" = 1 &&
	grep -F "the JWKS '\''$TRASH/jwks.json'\'' is writable by group or others" err &&
	chmod 644 jwks.json &&
	rc=0 && "$top_builddir/cgi-bin/my-account" -t 2>err || rc=$? &&
	! grep "writable by group" err
'

test_expect_success 'a log file that is a symbolic link is not followed' '
	write_config &&
	: >target.log &&
	rm -f reverify.log && ln -s target.log reverify.log &&
	{ run_cgi status GET /api/status 2>cgi-err || test $? = 1; } &&
	check_status 500 &&
	grep "cannot open log file" cgi-err &&
	test ! -s target.log &&
	rm reverify.log
'

default_conf=$("$top_builddir/cgi-bin/status" -h 2>&1 | sed -n 's/.*else \(\/.*reverify.xml\)).*/\1/p')
if test -e "$default_conf"; then
	test_skip 'without a file at the default path the defaults are used' \
		"$default_conf exists on this machine"
else
	test_expect_success 'without a file at the default path the defaults are used (and no store: 503)' '
		env -i PATH="$PATH" "$top_builddir/cgi-bin/status" -t >out &&
		grep "(built-in defaults)" out &&
		env -i PATH="$PATH" REQUEST_METHOD=GET PATH_INFO=/api/status \
			"$top_builddir/cgi-bin/status" >out 2>err &&
		head -n 1 out | grep "^Status: 503" &&
		grep "\"code\":\"service.unavailable\"" out &&
		grep "using the built-in defaults" err
	'
fi

test_done
