#!/bin/sh
# t1010-pipeline-errors: every error of the request pipeline, as plain CGI
#
# t/helper/pipeline is a test program on the real rv_main pipeline with a
# JSON route (POST /api/test/echo); the endpoints use the same code.
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

P=../t/helper/pipeline
write_config

body () {
	printf '%s' "$1" >req.json
}

test_expect_success 'a good body reaches the handler: 201' '
	body "{\"value\":\"hello\",\"unknown\":1}" &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 201 &&
	test "$(json_get "$TRASH/body" .value)" = hello &&
	grep -x "Content-Type: application/json; charset=utf-8" "$TRASH/headers"
'

test_expect_success 'malformed JSON: 400 guard.invalid_input with details' '
	body "{\"value\":" &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	json_get "$TRASH/body" .details | grep "^Invalid JSON at line 1" &&
	test "$(json_get "$TRASH/body" .message)" = "The request body is invalid."
'

test_expect_success 'a body that is not an object: 400 with a zod-like issue' '
	body "[1,2,3]" &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].code")" = invalid_type &&
	test "$(json_get "$TRASH/body" ".data.issues[0].received")" = array
'

test_expect_success 'a missing field is named in details' '
	body "{}" &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	json_get "$TRASH/body" .details | grep "key path \"value\""
'

test_expect_success 'a field of the wrong type is named in details' '
	body "{\"value\":42}" &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 &&
	json_get "$TRASH/body" .details | grep "Expected string but received number"
'

test_expect_success 'an empty body on a JSON route is the empty object (Logto)' '
	run_cgi $P POST /api/test/echo &&
	check_status 400 && check_code guard.invalid_input
'

for case in \
	'duplicate keys|{"value":"a","value":"b"}' \
	'an escaped NUL|{"value":"a\u0000b"}' \
	'trailing garbage|{"value":"a"} x' \
	'a bare string|"value"'
do
	title=${case%%|*} json=${case#*|}
	test_expect_success "$title: 400 guard.invalid_input" '
		body "$json" &&
		run_cgi $P POST /api/test/echo req.json &&
		check_status 400 && check_code guard.invalid_input
	'
done

test_expect_success 'invalid UTF-8: 400 guard.invalid_input' '
	printf "{\"value\":\"\\303\\050\"}" >req.json &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'a raw NUL byte: 400 guard.invalid_input' '
	printf "{\"value\":\"a\\000b\"}" >req.json &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input
'

test_expect_success 'nesting deeper than 32: 400 guard.invalid_input' '
	awk "BEGIN { printf \"{\\\"value\\\":\"; for (i = 0; i < 40; i++) printf \"[\"; for (i = 0; i < 40; i++) printf \"]\"; printf \"}\" }" >req.json &&
	run_cgi $P POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	json_get "$TRASH/body" .details | grep "deeper than 32"
'

test_expect_success 'a body over the limit: 413 request.payload_too_large' '
	awk "BEGIN { printf \"{\\\"value\\\":\\\"\"; for (i = 0; i < 70000; i++) printf \"a\"; printf \"\\\"}\" }" >big.json &&
	run_cgi $P POST /api/test/echo big.json &&
	check_status 413 && check_code request.payload_too_large &&
	json_get "$TRASH/body" .message | grep 65536
'

test_expect_success 'the limit follows <http max-body>' '
	write_config "<http max-body=\"2048\"/>" &&
	awk "BEGIN { printf \"{\\\"value\\\":\\\"\"; for (i = 0; i < 3000; i++) printf \"a\"; printf \"\\\"}\" }" >mid.json &&
	run_cgi $P POST /api/test/echo mid.json &&
	check_status 413 &&
	write_config
'

test_expect_success 'a body that is not JSON: 415 request.unsupported_media_type' '
	body "value=hello" &&
	CGI_CONTENT_TYPE=application/x-www-form-urlencoded \
		run_cgi $P POST /api/test/echo req.json &&
	check_status 415 && check_code request.unsupported_media_type
'

test_expect_success 'a JSON body without any Content-Type: 415' '
	body "{\"value\":\"x\"}" &&
	CGI_CONTENT_TYPE= run_cgi $P POST /api/test/echo req.json &&
	check_status 415
'

test_expect_success 'a wrong method: 405 with Allow' '
	run_cgi $P PUT /api/test/echo &&
	check_status 405 && check_code request.method_not_allowed &&
	grep -x "Allow: GET, HEAD, POST, OPTIONS" "$TRASH/headers"
'

test_expect_success 'an unknown path: 404 request.not_found in JSON' '
	run_cgi $P GET /api/test/nowhere &&
	check_status 404 && check_code request.not_found
'

for lang in de fr ja ko; do
	test_expect_success "Accept-Language: $lang changes the message, not the code" '
		run_cgi $P GET /api/test/nowhere &&
		json_get "$TRASH/body" .message >en.msg &&
		run_cgi $P GET /api/test/nowhere HTTP_ACCEPT_LANGUAGE=$lang &&
		check_status 404 && check_code request.not_found &&
		json_get "$TRASH/body" .message >$lang.msg &&
		! test_cmp en.msg $lang.msg >/dev/null &&
		grep -F "$(cat $lang.msg)" "$top_srcdir/conf/locale/$lang.xml"
	'
done

test_expect_success 'de-CH falls back to de; ?locale= wins over the header' '
	run_cgi $P GET /api/test/echo HTTP_ACCEPT_LANGUAGE=de-CH &&
	test "$(json_get "$TRASH/body" .lang)" = de &&
	run_cgi $P "GET" "/api/test/echo?locale=ko" HTTP_ACCEPT_LANGUAGE=de &&
	test "$(json_get "$TRASH/body" .lang)" = ko
'

test_expect_success 'the configured fallback language is used when nothing matches' '
	write_config "<i18n fallback=\"fr\"/>" &&
	run_cgi $P GET /api/test/echo HTTP_ACCEPT_LANGUAGE=es &&
	test "$(json_get "$TRASH/body" .lang)" = fr &&
	write_config
'

test_expect_success 'an override catalog changes one message' '
	mkdir -p locale &&
	echo "<catalog lang=\"de\"><message code=\"request.not_found\">Hier nicht.</message></catalog>" >locale/de.xml &&
	write_config "<i18n overrides=\"locale\"/>" &&
	run_cgi $P GET /api/test/nowhere HTTP_ACCEPT_LANGUAGE=de &&
	test "$(json_get "$TRASH/body" .message)" = "Hier nicht." &&
	write_config
'

test_expect_success 'CORS: the Origin is echoed, preflight is answered' '
	run_cgi $P GET /api/test/echo HTTP_ORIGIN=https://app.example &&
	grep -x "Access-Control-Allow-Origin: https://app.example" "$TRASH/headers" &&
	run_cgi $P OPTIONS /api/test/echo HTTP_ORIGIN=https://app.example \
		HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST \
		"HTTP_ACCESS_CONTROL_REQUEST_HEADERS=authorization, content-type" &&
	check_status 204 &&
	grep -x "Access-Control-Allow-Methods: GET, HEAD, POST, OPTIONS" "$TRASH/headers" &&
	grep -x "Access-Control-Allow-Headers: authorization, content-type" "$TRASH/headers"
'

test_expect_success '<http cors="no"> sends no CORS headers' '
	write_config "<http cors=\"no\"/>" &&
	run_cgi $P GET /api/test/echo HTTP_ORIGIN=https://app.example &&
	! grep -i "^Access-Control" "$TRASH/headers" &&
	write_config
'

test_expect_success 'client mistakes are logged at info with their code, never as 5xx' '
	grep "415 request.unsupported_media_type" "$TRASH/reverify.log" &&
	! grep " 5[0-9][0-9] " "$TRASH/reverify.log"
'

test_done
