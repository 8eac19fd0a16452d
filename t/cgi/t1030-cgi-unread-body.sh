#!/bin/sh
# t1030-cgi-unread-body: a CGI program that answers without needing the body
# (413, 404) still reads it to the end, so that a web server that writes the
# whole body before it reads the answer (Apache mod_cgid) does not fail on a
# closed pipe and reset the connection instead of sending the answer
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

P=$top_builddir/t/helper/pipeline
write_config '<http max-body="1024"/>'

# post URI BYTES: pipe BYTES bytes into the program as the body of a POST to
# URI, like a web server; the writer's exit status goes to writer.rc (0 when
# the program took every byte, not 0 after SIGPIPE or EPIPE)
post () {
	{ head -c "$2" /dev/zero; echo "$?" >writer.rc; } |
		env -i PATH="$PATH" REVERIFY_CONFIG="$REVERIFY_CONFIG" \
			GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
			REQUEST_METHOD=POST REQUEST_URI="$1" SCRIPT_NAME="$1" \
			CONTENT_TYPE=application/json CONTENT_LENGTH="$2" \
			"$P" >"$TRASH/cgi-output"
	split_response_ "$TRASH/cgi-output" >/dev/null &&
	sed -n "s/^Status: \([0-9]*\).*/\1/p" "$TRASH/headers" >status
}

test_expect_success 'a body over the limit is read to the end; the answer is 413' '
	post /api/test/echo 300000 &&
	test "$(cat writer.rc)" = 0 &&
	test "$(cat status)" = 413 &&
	test "$(json_get "$TRASH/body" .code)" = request.payload_too_large
'

test_expect_success 'a body sent to no endpoint is read to the end; the answer is 404' '
	post /api/test/nowhere 300000 &&
	test "$(cat writer.rc)" = 0 &&
	test "$(cat status)" = 404 &&
	test "$(json_get "$TRASH/body" .code)" = request.not_found
'

test_expect_success 'a small body over the limit is still a 413' '
	post /api/test/echo 2000 &&
	test "$(cat writer.rc)" = 0 &&
	test "$(cat status)" = 413
'

test_done
