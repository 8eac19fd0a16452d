#!/bin/sh
# t4540-contrib-sms: the gateway programs users copy: contrib/sms/sms-http through reverify against a local HTTP listener that records the request, and contrib/sms/sms-smstools into an smstools3 spool
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/sms.sh"

SMS_HTTP=$top_srcdir/contrib/sms/sms-http
SMS_SMSTOOLS=$top_srcdir/contrib/sms/sms-smstools
require_server python3 "$(command -v python3)"
TOKEN_SECRET=s3cr3t-t0ken-of-the-gateway

# the provider's API: t/lib/http-recorder.py on a free port
mkdir -p "$TRASH/api" || bail_out "no directory"
recorder_start () {
	python3 "$top_srcdir/t/lib/http-recorder.py" 127.0.0.1 "$1" "$TRASH/api" \
		"recorder $TRASH" 2>"$TRASH/recorder.log" &
	SERVER_PID=$!
}
recorder_stop () {
	test -n "${RECORDER_PID-}" || return 0
	kill "$RECORDER_PID" 2>/dev/null
	wait "$RECORDER_PID" 2>/dev/null
	RECORDER_PID=
}
serve_on_free_port 18600 recorder_start recorder_stop "recorder $TRASH" \
	"$TRASH/recorder.log" || bail_out "the HTTP recorder did not start"
RECORDER_PID=$SERVER_PID
API=$BASE

# the site's curl config: the URL, the token, a fixed field
write_curlrc () {
	cat >"$TRASH/sms.curlrc" <<EOF
url = "$API/v1/messages"
header = "Authorization: Bearer $TOKEN_SECRET"
data-urlencode = "From=Example"
EOF
	chmod 600 "$TRASH/sms.curlrc"
}
write_curlrc

sms_setup "$SMS_HTTP -t To -b Body $TRASH/sms.curlrc"

# req N FILTER: jq FILTER of the Nth recorded request, with .form the body
# decoded as a form
req () {
	python3 -c 'import json, sys, urllib.parse
r = json.load(open(sys.argv[1]))
r["form"] = dict(urllib.parse.parse_qsl(r["body"], strict_parsing=True))
r["headers"] = {k.lower(): v for k, v in r["headers"]}
json.dump(r, sys.stdout, ensure_ascii=False)' "$TRASH/api/req-$1.json" | jq -r "$2"
}

# code_step_up LANG N: a code to alice's phone in LANG: the Nth request
# holds the text of LANG, the code in it verifies
code_step_up () {
	send_code "$tok" phone 64211234567 "" -H "Accept-Language: $1" &&
	check_status 201 &&
	rec=$(record_id) &&
	test -f "$TRASH/api/req-$2.json" &&
	test "$(req "$2" .method)" = POST &&
	test "$(req "$2" .path)" = /v1/messages &&
	test "$(req "$2" '.headers.authorization')" = "Bearer $TOKEN_SECRET" &&
	test "$(req "$2" '.headers["content-type"]')" = application/x-www-form-urlencoded &&
	test "$(req "$2" '.form | keys | join(",")')" = Body,From,To &&
	test "$(req "$2" .form.To)" = +64211234567 &&
	test "$(req "$2" .form.From)" = Example &&
	req "$2" .form.Body | tr -d "\n" >body.txt &&
	code=$(grep -oE "[0-9]{6}" body.txt | head -n 1) &&
	sms_template "$1" "$code" demo-app >want.txt &&
	test_cmp want.txt body.txt &&
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 200
}

test_expect_success 'sms-http through reverify: one POST with the token from the file, the text verifies' '
	code_step_up en 1
'

test_expect_success 'sms-http through reverify: a Japanese text arrives intact' '
	code_step_up ja 2
'

test_expect_success 'the gateway answers 503: reverify answers 503 connector.general' '
	echo 503 >"$TRASH/api/status" &&
	send_code "$tok" phone 64211234567 &&
	check_status 503 && check_code connector.general &&
	grep -q "the gateway answered 503" "$TRASH/reverify.log"
'

test_expect_success 'the gateway answers 400: reverify answers 502 connector.general' '
	echo 400 >"$TRASH/api/status" &&
	send_code "$tok" phone 64211234567 &&
	check_status 502 && check_code connector.general
'

# direct SMS-TEXT STATUS: run sms-http as reverify does, the recorder
# answering STATUS; prints the exit status
direct () {
	echo "$2" >"$TRASH/api/status"
	printf '%s' "$1" | "$SMS_HTTP" "$TRASH/sms.curlrc" 491701234567 2>>direct.err
	echo $?
}

test_expect_success 'sms-http exit status: 2xx 0, 429 and 5xx 75, other 4xx 1' '
	test "$(direct "a" 200)" = 0 &&
	test "$(direct "a" 204)" = 0 &&
	test "$(direct "a" 429)" = 75 &&
	test "$(direct "a" 500)" = 75 &&
	test "$(direct "a" 401)" = 1 &&
	test "$(direct "a" 404)" = 1
'

test_expect_success 'sms-http: a timeout is 75, and the token is on no command line' '
	echo 2 >"$TRASH/api/delay" &&
	n=$(ls "$TRASH/api" | grep -c "^req-") &&
	{ printf x | "$SMS_HTTP" -m 1 "$TRASH/sms.curlrc" 491701234567 2>timeout.err; echo $? >timeout.rc; } &
	bg=$! &&
	i=0 && pid= &&
	while test -z "$pid" && test "$i" -lt 50; do
		pid=$(pgrep -f "^curl .*$TRASH/sms.curlrc" | head -n 1)
		test -n "$pid" || { sleep 0.02; i=$((i + 1)); }
	done &&
	test -n "$pid" &&
	tr "\0" " " </proc/$pid/cmdline >cmdline &&
	cat cmdline &&
	grep -q -- "-K $TRASH/sms.curlrc" cmdline &&
	! grep -q "$TOKEN_SECRET" cmdline &&
	wait "$bg" &&
	rm -f "$TRASH/api/delay" &&
	test "$(cat timeout.rc)" = 75 &&
	grep -q "exit 28" timeout.err
'

test_expect_success 'sms-http: no listener is 75; refusals (a readable token file, a bad number) are 1 and send nothing' '
	recorder_stop &&
	test "$(direct "a" 200)" = 75 &&
	n=$(ls "$TRASH/api" | grep -c "^req-") &&
	chmod 644 "$TRASH/sms.curlrc" &&
	test "$(direct "a" 200)" = 1 &&
	grep -q "readable by others" direct.err &&
	write_curlrc &&
	{ echo x | "$SMS_HTTP" "$TRASH/sms.curlrc" "+491701234567"; test $? = 1; } &&
	{ echo x | "$SMS_HTTP" "$TRASH/sms.curlrc" "49170 1234567"; test $? = 1; } &&
	{ echo x | "$SMS_HTTP" "$TRASH/sms.curlrc"; test $? = 1; } &&
	test "$(ls "$TRASH/api" | grep -c "^req-")" = "$n"
'

test_expect_success 'sms-smstools: one complete file in the spool, in smsd format, nothing else left' '
	mkdir -p spool/outgoing &&
	printf "123456 は確認コードです.\nsecond line \$(id) \`id\`" >text &&
	"$SMS_SMSTOOLS" -d "$TRASH/spool/outgoing" 491701234567 <text &&
	test "$(ls -A spool/outgoing | wc -l)" = 1 &&
	f=$(ls spool/outgoing/reverify.*) &&
	{ printf "To: 491701234567\nAlphabet: UTF-8\n\n" && cat text; } >want &&
	cmp want "$f" &&
	test "$(ls -A spool)" = outgoing
'

test_expect_success 'sms-smstools: no spool is 75, a bad number 1, and nothing is written' '
	{ "$SMS_SMSTOOLS" -d "$TRASH/spool/missing" 491701234567 <text; test $? = 75; } &&
	{ "$SMS_SMSTOOLS" -d "$TRASH/spool/outgoing" "+491701234567" <text; test $? = 1; } &&
	{ "$SMS_SMSTOOLS" -d "$TRASH/spool/outgoing" "491701234567;id" <text; test $? = 1; } &&
	test "$(ls -A spool/outgoing | wc -l)" = 1 &&
	test "$(ls -A spool)" = outgoing
'

test_done
