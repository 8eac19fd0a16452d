# race.sh: many concurrent requests through the web server, for race tests
# shellcheck shell=sh disable=SC2154,SC2034 # CURL, BASE come from lighttpd.sh, N from the script; race_settings sets variables for the script
#
# Sourced after lighttpd.sh:
#	. "$top_srcdir/t/lib/race.sh"
#	race_begin dir &&
#	race_add dir POST /api/verifications/password body.json "Authorization: Bearer $tok" &&
#	...
#	race_run dir
# All requests of a batch are made by one curl in parallel mode
# (--parallel --parallel-immediate): every connection is opened at once, so
# the requests reach the web server together, as real concurrent clients
# do. Each request is bounded by --max-time ${RACE_TIMEOUT:-60}.
# RACE_BASES="URL..." (e.g. "$BASE_a $BASE_b", lighttpd.sh's LIGHTTPD_NAME)
# spreads every batch over several hosts: race_run sends request N to the
# ((N - 1) mod K + 1)-th of the K URLs, whatever BASE it was added with.
#
# The scenarios of the races (t6000, t6110) below also need instance.sh
# and stepup.sh, $N (clients per race) from the script, and $PW and $PWHASH
# from race_settings.

# race_settings PASSWORD: what the race scripts share: PW (the users'
# password), PWHASH (the same as SHA-crypt; perl is essential on Debian),
# the outbox (outbox_setup), DELIVERY (its <delivery> line) and HASH (cheap
# argon2id: the races are about counters, not about argon2's cost)
race_settings () {
	PW=$1
	PWHASH=$(perl -e 'print crypt($ARGV[0], "\$6\$racesalt\$")' "$PW") &&
	outbox_setup || return 1
	DELIVERY="<delivery sendmail=\"$top_srcdir/tools/outbox-sendmail -t -i\" mail-from=\"reverify@example.org\"/>"
	HASH='<password scheme="argon2id" argon2-memory="1024" argon2-time="1" argon2-parallelism="1"/>'
}

# race_begin DIR: start an empty batch of requests in DIR (emptied first)
race_begin () {
	rm -rf "$1" && mkdir -p "$1" && : >"$1/curl.cfg"
}

# race_add DIR METHOD PATH BODY_FILE [HEADER...]: add request number N
# (1, 2, ...) to the batch: METHOD $BASE$PATH with the JSON body BODY_FILE
# ("" for none) and the given "Name: value" headers; its answer goes to
# DIR/N.json. No value may hold a double quote or a backslash. Forks
# nothing, so that a batch of hundreds is quick on a loaded machine.
race_add () {
	ra_dir_=$1 ra_method_=$2 ra_path_=$3 ra_body_=$4
	shift 4
	for ra_v_ in "$ra_dir_" "$ra_method_" "$BASE$ra_path_" "$ra_body_" "$@"; do
		case $ra_v_ in
		*[\\\"]*) echo "race_add: no \" or \\ allowed: $ra_v_" >&2; return 1 ;;
		esac
	done
	{
		# race_run numbers the requests: @N@
		printf 'next\nurl = "%s"\noutput = "%s/@N@.json"\n' "$BASE$ra_path_" "$ra_dir_"
		printf 'write-out = "@N@ %%{http_code}\\n"\nmax-time = %s\n' "${RACE_TIMEOUT:-60}"
		printf 'header = "Expect:"\nrequest = "%s"\n' "$ra_method_"
		if test -n "$ra_body_"; then
			printf 'header = "Content-Type: application/json"\ndata-binary = "@%s"\n' "$ra_body_"
		fi
		for ra_h_ in "$@"; do
			printf 'header = "%s"\n' "$ra_h_"
		done
	} >>"$ra_dir_/curl.cfg"
}

# race_run DIR: make all requests of the batch at once. Writes DIR/statuses
# (the status of request N on line N; 000 when nothing answered) and
# DIR/codes (the .code of answer N, "-" for none) and prints the counts of
# both; fails unless every request got an answer. Spreads the batch over
# the hosts of $RACE_BASES, when set.
race_run () {
	awk -v bases="${RACE_BASES-}" '
		BEGIN { k = split(bases, b, " ") }
		$0 == "next" { if (n++ == 0) next }
		k > 0 && /^url = "/ { sub(/^url = "[a-z]+:\/\/[^\/"]*/, "url = \"" b[(n - 1) % k + 1]) }
		{ gsub(/@N@/, n); print }' \
		"$1/curl.cfg" >"$1/numbered.cfg" || return 1
	rr_n_=$(grep -c '^url = ' "$1/numbered.cfg")
	"$CURL" -q -s --parallel --parallel-immediate --parallel-max 300 \
		-K "$1/numbered.cfg" >"$1/out"
	sort -n "$1/out" | awk '{ print $2 }' >"$1/statuses"
	test "$(wc -l <"$1/statuses")" = "$rr_n_" || {
		echo "race_run: $(wc -l <"$1/statuses") answers to $rr_n_ requests"
		return 1
	}
	# one jq for all answers, in order; an empty answer counts as "-"
	rr_dir_=$1
	rr_i_=1
	set --
	while test "$rr_i_" -le "$rr_n_"; do
		test -s "$rr_dir_/$rr_i_.json" || echo '{}' >"$rr_dir_/$rr_i_.json"
		set -- "$@" "$rr_dir_/$rr_i_.json"
		rr_i_=$((rr_i_ + 1))
	done
	jq -r '.code // "-"' "$@" >"$rr_dir_/codes" &&
	test "$(wc -l <"$rr_dir_/codes")" = "$rr_n_" &&
	echo "statuses:" && sort "$rr_dir_/statuses" | uniq -c &&
	echo "codes:" && sort "$rr_dir_/codes" | uniq -c &&
	! grep -qx 000 "$rr_dir_/statuses"
}

# race N DIR PATH TOKEN BODY_FILE: N concurrent POSTs of BODY_FILE to PATH
# as TOKEN's user (race_run's files in DIR)
race () {
	race_begin "$2" || return 1
	r_i_=0
	while test "$r_i_" -lt "$1"; do
		race_add "$2" POST "$3" "$5" "Authorization: Bearer $4" || return 1
		r_i_=$((r_i_ + 1))
	done
	race_run "$2"
}

# count WORD FILE: the number of lines of FILE that are exactly WORD
count () {
	grep -cx -- "$1" "$2"
}

# ---- the scenarios of the races (t6000, t6110) ----------------------------

# users PREFIX COUNT: import the users PREFIX1..PREFIXCOUNT (password $PW
# as a SHA-crypt hash, which the first step-up upgrades; e-mail
# PREFIXi@example.com) in one go and mint a token for each, 8 at a time;
# writes $TRASH/users-PREFIX, line i "ID TOKEN" for PREFIXi
# shellcheck disable=SC2016 # the script of sh -c
users () {
	seq "$2" | awk -v p="$1" -v h="$PWHASH" '{
		printf "{\"username\":\"%s%d\",\"primaryEmail\":\"%s%d@example.com\",\"passwordHash\":\"%s\"}\n",
			p, $1, p, $1, h }' >"$TRASH/import-$1" &&
	"$ADMIN" user import "$TRASH/import-$1" >"$TRASH/imported-$1" &&
	jq -r '"\(.username | ltrimstr("'"$1"'")) \(.id)"' "$TRASH/imported-$1" |
		sort -n >"$TRASH/ids-$1" &&
	test "$(wc -l <"$TRASH/ids-$1")" = "$2" &&
	xargs -P 8 -n 2 sh -c '"$0" token "$3" >"$1/.t-$2"' "$ADMIN" "$TRASH" \
		<"$TRASH/ids-$1" || return 1
	while read -r us_i_ us_id_; do
		read -r us_tok_ <"$TRASH/.t-$us_i_" && test -n "$us_tok_" &&
		echo "$us_id_ $us_tok_" || return 1
	done <"$TRASH/ids-$1" >"$TRASH/users-$1"
}

# user PREFIX I: sets $uid and $utok to user PREFIXI's id and token
# shellcheck disable=SC2034 # uid and utok are the caller's
user () {
	uid='' utok=''
	us_i_=0
	while read -r us_id_ us_tok_; do
		us_i_=$((us_i_ + 1))
		test "$us_i_" = "$2" && uid=$us_id_ utok=$us_tok_ && return 0
	done <"$TRASH/users-$1"
	return 1
}

# audit_for KEY VALUE EVENT: the number of audit events EVENT whose KEY is VALUE
audit_for () {
	"$ADMIN" audit show |
		jq -c --arg k "$1" --arg v "$2" --arg e "$3" \
			'select(.[$k] == $v and .event == $e)' | wc -l | tr -d ' '
}

# renames DIR PREFIX TOKEN RECORD: a batch in DIR of $N renames to PREFIX1,
# PREFIX2... with the step-up RECORD
renames () {
	race_begin "$1" || return 1
	rn_i_=1
	while test "$rn_i_" -le "$N"; do
		printf '{"username":"%s%s"}\n' "$2" "$rn_i_" >"$TRASH/$1-$rn_i_.json" &&
		race_add "$1" PATCH /api/my-account "$TRASH/$1-$rn_i_.json" \
			"Authorization: Bearer $3" "logto-verification-id: $4" || return 1
		rn_i_=$((rn_i_ + 1))
	done
}

# ids DIR: the verificationRecordId of each answer of the batch in DIR, in
# order ("null" for none)
ids () {
	id_dir_=$1
	id_i_=1
	set --
	while test -f "$id_dir_/$id_i_.json"; do
		set -- "$@" "$id_dir_/$id_i_.json"
		id_i_=$((id_i_ + 1))
	done
	jq -r .verificationRecordId "$@"
}

# claim_codes: "I CODE" for each message of the outbox, sorted by I, where
# the message greets claimerI (one awk and one base64 per message)
claim_codes () {
	rm -rf "$TRASH/dec" && mkdir "$TRASH/dec" &&
	awk -v d="$TRASH/dec" '
		FNR == 1 { if (out != "") close(out); part = 0; out = d "/" ++k ".b64" }
		/^Content-Type: text\/plain/ { part = 1; next }
		part == 1 && /^$/ { part = 2; next }
		part == 2 && /^--/ { part = 3; next }
		part == 2 { print > out }' "$REVERIFY_OUTBOX"/mail-*.eml || return 1
	for cc_f_ in "$TRASH"/dec/*.b64; do
		base64 -d "$cc_f_" >"${cc_f_%.b64}.txt" || return 1
	done
	awk '
		FNR == 1 { n = ""; c = "" }
		/^Hello claimer[0-9]+,$/ { n = substr($2, 8); sub(/,$/, "", n) }
		/^[0-9][0-9][0-9][0-9][0-9][0-9]$/ { c = $0 }
		n != "" && c != "" && !done[FILENAME]++ { print n, c }' \
		"$TRASH"/dec/*.txt | sort -n
}

# claims DIR ADDRESS: a batch in DIR where claimer I (line I of
# $TRASH/users-claimer) sets its primary e-mail to ADDRESS, with a fresh
# password step-up and a verified code to ADDRESS, both made concurrently
# too (the messages tell their user by the greeting)
claims () {
	printf '{"identifier":{"type":"email","value":"%s"}}\n' "$2" >"$TRASH/claim-send.json" &&
	printf '{"password":"%s"}\n' "$PW" >"$TRASH/right.json" &&
	race_begin "$TRASH/stepups" && race_begin "$TRASH/sends" || return 1
	while read -r _ cl_t_; do
		race_add "$TRASH/stepups" POST /api/verifications/password \
			"$TRASH/right.json" "Authorization: Bearer $cl_t_" &&
		race_add "$TRASH/sends" POST /api/verifications/verification-code \
			"$TRASH/claim-send.json" "Authorization: Bearer $cl_t_" || return 1
	done <"$TRASH/users-claimer"
	outbox_clear &&
	race_run "$TRASH/stepups" >/dev/null &&
	test "$(count 201 "$TRASH/stepups/statuses")" = "$N" &&
	race_run "$TRASH/sends" >/dev/null &&
	test "$(count 201 "$TRASH/sends/statuses")" = "$N" &&
	test "$(outbox_count mail)" = "$N" &&
	ids "$TRASH/stepups" >"$TRASH/stepup-ids" &&
	ids "$TRASH/sends" >"$TRASH/send-ids" &&
	claim_codes >"$TRASH/claim-codes" &&
	test "$(cut -d" " -f1 "$TRASH/claim-codes" | paste -sd" " -)" = "$(seq "$N" | paste -sd" " -)" &&
	paste -d" " "$TRASH/users-claimer" "$TRASH/stepup-ids" "$TRASH/send-ids" \
		"$TRASH/claim-codes" >"$TRASH/claim-plan" &&
	race_begin "$TRASH/verifies" && race_begin "$1" || return 1
	cl_i_=1
	while read -r _ cl_t_ cl_s_ cl_v_ _ cl_c_; do
		printf '{"identifier":{"type":"email","value":"%s"},"verificationId":"%s","code":"%s"}\n' \
			"$2" "$cl_v_" "$cl_c_" >"$TRASH/verify-$cl_i_.json" &&
		race_add "$TRASH/verifies" POST /api/verifications/verification-code/verify \
			"$TRASH/verify-$cl_i_.json" "Authorization: Bearer $cl_t_" &&
		printf '{"email":"%s","newIdentifierVerificationRecordId":"%s"}\n' \
			"$2" "$cl_v_" >"$TRASH/$1-$cl_i_.json" &&
		race_add "$1" POST /api/my-account/primary-email "$TRASH/$1-$cl_i_.json" \
			"Authorization: Bearer $cl_t_" "logto-verification-id: $cl_s_" || return 1
		cl_i_=$((cl_i_ + 1))
	done <"$TRASH/claim-plan"
	race_run "$TRASH/verifies" >/dev/null &&
	test "$(count 200 "$TRASH/verifies/statuses")" = "$N"
}
