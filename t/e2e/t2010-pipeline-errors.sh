#!/bin/sh
# t2010-pipeline-errors: the pipeline's errors through a real lighttpd
#
# Serves t/helper/pipeline (a test program on the real rv_main pipeline
# with a JSON route) behind lighttpd + mod_fastcgi, so the JSON, size,
# method and Content-Type errors are checked over real HTTP.
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"

echo "pipeline /api/test" >routes
LIGHTTPD_ROUTES=$TRASH/routes LIGHTTPD_BINDIR=$top_builddir/t/helper
write_config
start_lighttpd pipeline || bail_out "lighttpd did not start"

body () {
	printf '%s' "$1" >req.json
}

test_expect_success 'a good body: 201' '
	body "{\"value\":\"hello\"}" &&
	http POST /api/test/echo req.json &&
	check_status 201 &&
	test "$(json_get "$TRASH/body" .value)" = hello
'

test_expect_success 'malformed JSON: 400 guard.invalid_input with details' '
	body "{\"value\":" &&
	http POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	json_get "$TRASH/body" .details | grep "^Invalid JSON"
'

test_expect_success 'a non-object body: 400 guard.invalid_input' '
	body "[\"value\"]" &&
	http POST /api/test/echo req.json &&
	check_status 400 && check_code guard.invalid_input &&
	test "$(json_get "$TRASH/body" ".data.issues[0].received")" = array
'

test_expect_success 'a body over the limit: 413 request.payload_too_large' '
	awk "BEGIN { printf \"{\\\"value\\\":\\\"\"; for (i = 0; i < 70000; i++) printf \"a\"; printf \"\\\"}\" }" >big.json &&
	http POST /api/test/echo big.json &&
	check_status 413 && check_code request.payload_too_large
'

test_expect_success 'a wrong method: 405 with Allow' '
	http DELETE /api/test/echo &&
	check_status 405 && check_code request.method_not_allowed &&
	grep -ix "Allow: GET, HEAD, POST, OPTIONS" "$TRASH/headers"
'

test_expect_success 'a wrong Content-Type: 415' '
	body "{\"value\":\"hello\"}" &&
	HTTP_CONTENT_TYPE=text/plain http POST /api/test/echo req.json &&
	check_status 415 && check_code request.unsupported_media_type
'

test_expect_success 'an unknown path: 404 JSON' '
	http GET /api/test/nowhere &&
	check_status 404 && check_code request.not_found
'

for lang in de fr ja ko; do
	test_expect_success "Accept-Language: $lang changes the message, not the code" '
		body "{\"value\":1}" &&
		http POST /api/test/echo req.json &&
		json_get "$TRASH/body" .message >en.msg &&
		http POST /api/test/echo req.json -H "Accept-Language: $lang" &&
		check_status 400 && check_code guard.invalid_input &&
		json_get "$TRASH/body" .message >$lang.msg &&
		! test_cmp en.msg $lang.msg >/dev/null
	'
done

test_expect_success 'a CORS preflight through the server' '
	http OPTIONS /api/test/echo -H "Origin: https://app.example" \
		-H "Access-Control-Request-Method: POST" &&
	check_status 204 &&
	grep -ix "Access-Control-Allow-Origin: https://app.example" "$TRASH/headers"
'

test_expect_success 'the server still serves after all that' '
	body "{\"value\":\"still\"}" &&
	http POST /api/test/echo req.json &&
	check_status 201
'

test_expect_success 'no client mistake was answered or logged as a 5xx' '
	! grep -E "(warning: 5[0-9][0-9] | 5[0-9][0-9] [0-9.]*ms)" "$TRASH/reverify.log"
'

test_done
