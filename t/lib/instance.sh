# instance.sh: a reverify instance in the trash directory for tests
# shellcheck shell=sh disable=SC2154 # TRASH, top_builddir come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/instance.sh"
#	setup_instance || bail_out "cannot set up the instance"
#	uid=$(add_user --username alice --email alice@example.com)
#	tok=$(mint "$uid")
# Every instance has its own store, a local signing key trusted through
# its JWKS, issuer https://issuer.test, audience reverify and the
# first-party client demo-app.

ADMIN=$top_builddir/src/reverify-admin
ISSUER=https://issuer.test
AUDIENCE=reverify
export ADMIN ISSUER AUDIENCE

# instance_auth_ [EXTRA ATTRIBUTES]: the <auth> line of the instance; its
# first-party clients are $INSTANCE_FIRST_PARTY (default demo-app, a list)
instance_auth_ () {
	printf '<auth issuer="%s" audience="%s" jwks="%s" local-key="%s" first-party="%s" %s/>' \
		"$ISSUER" "$AUDIENCE" "$TRASH/jwks.json" "$TRASH/local.jwk" \
		"${INSTANCE_FIRST_PARTY:-demo-app}" "${1-}"
}

# setup_instance [XML LINE...]: write the config (store, auth, and the
# given lines, which must not repeat <store> or <auth>) and initialise the
# store and the local key with reverify-admin init. The store is in
# $TRASH/store (store_line_: on PostgreSQL under REVERIFY_TEST_STORE=pgsql),
# or where $INSTANCE_STORE says: a <store> line of the script's own.
# shellcheck disable=SC2120 # the XML lines are optional
setup_instance () {
	si_store_=${INSTANCE_STORE-}
	test -n "$si_store_" || si_store_=$(store_line_ "$TRASH/store") || return 1
	write_config "$si_store_" "$(instance_auth_ "${INSTANCE_AUTH-}")" "$@"
	if ! "$ADMIN" -q init >"$TRASH/init.out" 2>&1; then
		cat "$TRASH/init.out" >&2
		return 1
	fi
}

# add_user ARGS...: reverify-admin user add ARGS, printing the new id
add_user () {
	"$ADMIN" user add "$@"
}

# mint USER_ID [ARGS...]: an access token for the user (default scopes
# "openid profile email phone", client demo-app)
mint () {
	mint_user_=$1
	shift
	"$ADMIN" token --scope "${MINT_SCOPE-openid profile email phone}" "$@" "$mint_user_"
}

# b64url: base64url of stdin, no padding
b64url () {
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

# forge_token HEADER_JSON PAYLOAD_JSON [SIGNATURE]: an unsigned or
# hand-signed compact JWS, for attacks
forge_token () {
	printf '%s.%s.%s' "$(printf '%s' "$1" | b64url)" "$(printf '%s' "$2" | b64url)" "${3-}"
}

# claims_for USER_ID [EXP_OFFSET]: a claims object like the local key's
claims_for () {
	now_=$(date +%s)
	printf '{"iss":"%s","aud":"%s","sub":"%s","client_id":"demo-app","scope":"openid profile email","iat":%s,"exp":%s}' \
		"$ISSUER" "$AUDIENCE" "$1" "$now_" "$((now_ + ${2-3600}))"
}

# local_kid: the kid of the instance's local key
local_kid () {
	jq -r .kid "$TRASH/local.jwk"
}

# ---- codes and the outbox (tools/outbox-sendmail, tools/outbox-sms) ----
#
# A code test calls outbox_setup before start_lighttpd (or passes
# REVERIFY_OUTBOX=... to run_cgi), and sets up the instance with
#	<delivery sendmail="$top_srcdir/tools/outbox-sendmail -t -i"
#	 mail-from="reverify@example.org" sms-command="$top_srcdir/tools/outbox-sms"/>

# outbox_setup: the outbox of the instance: REVERIFY_OUTBOX=$TRASH/outbox,
# exported and created (for start_lighttpd and run_cgi); fails when it
# cannot be made
outbox_setup () {
	REVERIFY_OUTBOX=$TRASH/outbox
	export REVERIFY_OUTBOX
	mkdir -p "$REVERIFY_OUTBOX"
}

# outbox_files_ KIND: the mail-*.eml (KIND mail) or sms-*.txt (KIND sms)
# files of the outbox, newest first, one per line
outbox_files_ () {
	case $1 in
	mail) ob_glob_='mail-*.eml' ;;
	sms) ob_glob_='sms-*.txt' ;;
	*) echo "outbox: KIND is mail or sms, not '$1'" >&2; return 2 ;;
	esac
	# newest by mtime, then by name (the names hold only [a-z0-9.-])
	find "$REVERIFY_OUTBOX" -maxdepth 1 -type f -name "$ob_glob_" \
		-printf '%T@ %f\n' | sort -k1,1nr -k2,2r | awk '{ print $2 }'
}

# outbox_last KIND: the path of the newest message of KIND (mail or sms);
# fails when there is none
outbox_last () {
	ob_f_=$(outbox_files_ "$1" | head -n 1) || return 1
	test -n "$ob_f_" || { echo "outbox_last: no $1 message in $REVERIFY_OUTBOX" >&2; return 1; }
	echo "$REVERIFY_OUTBOX/$ob_f_"
}

# outbox_count KIND: the number of messages of KIND in the outbox
outbox_count () {
	outbox_files_ "$1" | wc -l | tr -d ' '
}

# outbox_clear: remove every message (and FAIL) from the outbox
outbox_clear () {
	rm -f "$REVERIFY_OUTBOX"/mail-*.eml "$REVERIFY_OUTBOX"/sms-*.txt \
		"$REVERIFY_OUTBOX"/FAIL
}

# outbox_header FILE NAME: the value of header NAME of the e-mail FILE
# (the first one, unfolded)
outbox_header () {
	awk -v name="$2" '
		/^$/ { exit }
		/^[ \t]/ { if (found == 1) { v = v $0 }; next }
		{ if (found == 1) { found = 2 } }
		found == 0 && tolower(substr($0, 1, length(name) + 1)) == tolower(name) ":" {
			v = substr($0, length(name) + 2); sub(/^[ \t]+/, "", v); found = 1
		}
		END { if (found) print v; else exit 1 }' "$1"
}

# outbox_text FILE: the text of a message: for an e-mail its text/plain
# part, base64-decoded; for an SMS everything after the blank line
outbox_text () {
	case $1 in
	*.eml)
		awk '
			/^Content-Type: text\/plain/ { part = 1; next }
			part == 1 && /^$/ { part = 2; next }
			part == 2 && /^--/ { exit }
			part == 2 { print }' "$1" | base64 -d ;;
	*.txt)
		sed '1,/^$/d' "$1" ;;
	*)
		echo "outbox_text: '$1' is no outbox message" >&2
		return 2 ;;
	esac
}

# outbox_code FILE: the 6-digit code in the message FILE (the first run of
# exactly 6 digits of its text); fails when there is none
outbox_code () {
	outbox_text "$1" | grep -oE '(^|[^0-9])[0-9]{6}([^0-9]|$)' | head -n 1 |
		grep -oE '[0-9]{6}'
}

# send_code TOKEN TYPE VALUE [TEMPLATE [CURL ARGS...]]: POST
# /api/verifications/verification-code (http of lighttpd.sh) to the email
# or phone VALUE, with templateType TEMPLATE unless it is empty.
# $SEND_CODE_QUERY (e.g. "?locale=ja") is appended to the path.
send_code () {
	sc_tok_=$1 sc_type_=$2 sc_value_=$3 sc_tpl_=${4-}
	shift 3
	test "$#" -gt 0 && shift
	jq -cn --arg t "$sc_type_" --arg v "$sc_value_" --arg tpl "$sc_tpl_" \
		'{identifier: {type: $t, value: $v}} +
		 (if $tpl == "" then {} else {templateType: $tpl} end)' \
		>"$TRASH/send-code.json" || return 1
	http POST "/api/verifications/verification-code${SEND_CODE_QUERY-}" \
		"$TRASH/send-code.json" -H "Authorization: Bearer $sc_tok_" "$@"
}

# verify_code TOKEN TYPE VALUE RECORD CODE [CURL ARGS...]: POST
# /api/verifications/verification-code/verify
verify_code () {
	vc_tok_=$1
	jq -cn --arg t "$2" --arg v "$3" --arg id "$4" --arg code "$5" \
		'{identifier: {type: $t, value: $v}, verificationId: $id, code: $code}' \
		>"$TRASH/verify-code.json" || return 1
	shift 5
	http POST /api/verifications/verification-code/verify \
		"$TRASH/verify-code.json" -H "Authorization: Bearer $vc_tok_" "$@"
}

# record_id: the verificationRecordId of the last response
record_id () {
	json_get "$TRASH/body" .verificationRecordId
}
