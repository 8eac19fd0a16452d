# race.sh: many concurrent requests through the web server, for race tests
# shellcheck shell=sh disable=SC2154 # CURL, BASE come from lighttpd.sh
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
# both; fails unless every request got an answer.
race_run () {
	awk '$0 == "next" { if (n++ == 0) next } { gsub(/@N@/, n); print }' \
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
