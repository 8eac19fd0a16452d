# shellcheck shell=bash disable=SC2154 # run, out, bin... are bench.sh's
# instr.sh: instructions per request, sourced by bench.sh (make bench;
# make bench-instr runs only this part)
#
# Seconds on a shared 2-core machine move with whatever else runs there;
# instructions do not. Each FastCGI scenario runs one worker under
# valgrind's callgrind, fed requests one at a time by cgi-fcgi through a
# socket of its own, twice: N requests that only warm it (their tokens
# checked and cached, as in a wrk run), then the same N warm-ups followed
# by the N requests. The difference over N is the cost of one request in
# the steady state, with the start, the warm-up and the exit taken out. A
# CGI scenario is one process per request, start included: one run, all
# of it. The same parameters reach every program, hello-fcgi (the ceiling)
# included, as lighttpd would send them. Needs valgrind and cgi-fcgi
# (libfcgi-bin): tools/quickstart installs both.
#
# Uses from bench.sh: run sockdir out bin top_builddir say die seed_codes,
# the request lists ($run/*.list: METHOD TAB PATH TAB TOKEN TAB BODY).

instr_n=${BENCH_INSTR_N:-200}
instr_only=${BENCH_INSTR_SCENARIOS-}	# names, space-separated; empty: all

# instr_wanted SCENARIO: 0 when SCENARIO is to be counted
instr_wanted() {
	[ -z "$instr_only" ] || case " $instr_only " in *" $1 "*) ;; *) return 1 ;; esac
}

# instr_env METHOD PATH TOKEN BODY-LENGTH: the CGI/1.1 parameters of one
# request, one per line, the way lighttpd's mod_fastcgi sends them
instr_env() {
	printf '%s\n' \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_SOFTWARE=lighttpd \
		SERVER_NAME=127.0.0.1 SERVER_ADDR=127.0.0.1 SERVER_PORT=8080 \
		SERVER_PROTOCOL=HTTP/1.1 REQUEST_SCHEME=http \
		REMOTE_ADDR=127.0.0.1 REMOTE_PORT=40000 REDIRECT_STATUS=200 \
		"REQUEST_METHOD=$1" "REQUEST_URI=$2" "SCRIPT_NAME=$2" \
		"SCRIPT_FILENAME=$run/www$2" "DOCUMENT_ROOT=$run/www" QUERY_STRING= \
		HTTP_HOST=127.0.0.1:8080 HTTP_USER_AGENT=wrk 'HTTP_ACCEPT=*/*' \
		"REVERIFY_CONFIG=$run/instr.xml" "REVERIFY_OUTBOX=$run/outbox" \
		"PATH=$PATH"
	[ -z "$3" ] || printf 'HTTP_AUTHORIZATION=Bearer %s\n' "$3"
	[ "$4" = 0 ] || printf '%s\n' CONTENT_TYPE=application/json "CONTENT_LENGTH=$4"
}

# instr_total FILE: the instruction total of a callgrind output file
instr_total() {
	awk '/^(summary|totals):/ { print $2; exit }' "$1" 2>/dev/null
}

# instr_requests LIST COUNT SOCKET [warm]: the first COUNT requests of LIST
# (from the top again when shorter) through cgi-fcgi; fails on a 5xx. warm: each with the body "{}" instead
# (a POST then ends in a 400 after the token check, consuming nothing)
instr_requests() {
	local list=$1 count=$2 sock=$3 warm=${4-} method path tok body i=0 e
	while IFS=$'\t' read -r method path tok body; do
		[ "$i" -lt "$count" ] || break
		i=$((i + 1))
		[ -z "$warm" ] || [ -z "$body" ] || body='{}'
		mapfile -t e < <(instr_env "$method" "$path" "$tok" "${#body}")
		printf '%s' "$body" | env -i "${e[@]}" cgi-fcgi -bind -connect "$sock" \
			>"$run/instr.answer" 2>&1 ||
			die "cgi-fcgi failed on $path: $(head -c 200 "$run/instr.answer")"
		if grep -q '^Status: 5' "$run/instr.answer"; then
			die "$path answered $(head -n 1 "$run/instr.answer") under callgrind"
		fi
	done < <(awk -v n="$count" '{ l[NR] = $0 }
		END { for (i = 0; NR && i < n; i++) print l[i % NR + 1] }' "$list")
	[ "$i" = "$count" ] || die "$list is empty"
}

# instr_fcgi_run PROGRAM LIST COUNT OUT MEASURE: PROGRAM as a FastCGI
# worker under callgrind, the first COUNT requests of LIST as warm-ups,
# then (MEASURE 1) as they are; then SIGTERM, and the totals in OUT
instr_fcgi_run() {
	local prog=$1 list=$2 count=$3 outf=$4 sock=$sockdir/instr.sock i pid
	rm -f "$sock" "$outf" "$run/instr.pid"
	{
		echo '#!/bin/sh'
		echo "echo \$\$ >\"$run/instr.pid\""
		echo "exec valgrind -q --tool=callgrind --callgrind-out-file=\"$outf\" \"$prog\" 2>>\"$run/log/instr.err\""
	} >"$run/instr-wrap"
	chmod +x "$run/instr-wrap"
	REVERIFY_CONFIG=$run/instr.xml REVERIFY_OUTBOX=$run/outbox \
		cgi-fcgi -start -connect "$sock" "$run/instr-wrap" 1 >/dev/null ||
		die "cgi-fcgi -start failed for $prog"
	for ((i = 0; i < 50; i++)); do
		[ -s "$run/instr.pid" ] && break
		sleep 0.1
	done
	pid=$(cat "$run/instr.pid") || die "$prog did not start"
	instr_requests "$list" "$count" "$sock" warm
	[ "$5" = 0 ] || instr_requests "$list" "$count" "$sock"
	kill "$pid" 2>/dev/null
	# the totals are written at exit: wait until the process is gone
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		die "$prog did not end on SIGTERM within 10 s"
	fi
	[ -n "$(instr_total "$outf")" ] || die "no callgrind totals for $prog"
}

# instr_fcgi SCENARIO PROGRAM LIST [N]: instructions per request in the
# steady state: the run with N requests less the run without, over N
instr_fcgi() {
	local name=$1 prog=$2 list=$3 n=${4:-$instr_n} a b
	instr_wanted "$name" || return 0
	instr_fcgi_run "$prog" "$list" "$n" "$run/callgrind.$name.a" 0
	instr_fcgi_run "$prog" "$list" "$n" "$run/callgrind.$name.b" 1
	a=$(instr_total "$run/callgrind.$name.a")
	b=$(instr_total "$run/callgrind.$name.b")
	printf '%s\t%d\n' "$name" $(((b - a) / n)) >>"$out/results-instr.tsv"
	say "  $(printf '%-20s %10d instructions per request' "$name" $(((b - a) / n)))"
}

# instr_cgi SCENARIO PROGRAM LIST: one whole CGI process, start included
instr_cgi() {
	local name=$1 prog=$2 list=$3 method path tok body t e
	instr_wanted "$name" || return 0
	IFS=$'\t' read -r method path tok body <"$list"
	mapfile -t e < <(instr_env "$method" "$path" "$tok" "${#body}")
	printf '%s' "$body" | env -i "${e[@]}" valgrind -q --tool=callgrind \
		--callgrind-out-file="$run/callgrind.$name" "$prog" >"$run/instr.answer" 2>&1 ||
		die "$prog failed as CGI under callgrind"
	grep -q '^Status: [23]' "$run/instr.answer" ||
		die "$prog as CGI: $(head -n 1 "$run/instr.answer")"
	t=$(instr_total "$run/callgrind.$name")
	printf '%s\t%d\n' "$name" "$t" >>"$out/results-instr.tsv"
	say "  $(printf '%-20s %10d instructions per request' "$name" "$t")"
}

# instr_all: every scenario, into results-instr.tsv (scenario, instructions)
instr_all() {
	command -v valgrind >/dev/null || die "valgrind not found (tools/quickstart installs it)"
	command -v cgi-fcgi >/dev/null ||
		die "cgi-fcgi not found (libfcgi-bin; tools/quickstart installs it)"
	printf 'scenario\tinstructions\n' >"$out/results-instr.tsv"
	# the purge after a request runs at most once a second: under
	# callgrind that is every few requests, a count that moves with the
	# machine. It is left to the end of the run here (its cost is
	# amortised over the requests that made the expired entries)
	sed 's|<store |&purge-batch="0" |' "$run/argon2.xml" >"$run/instr.xml"
	grep -q 'purge-batch="0"' "$run/instr.xml" || die "no <store> in argon2.xml"
	say "instructions per request (callgrind, $instr_n requests to one worker)"
	instr_fcgi hello-fcgi "$top_builddir/bench/hello-fcgi" "$run/hello.list"
	instr_fcgi status "$bin/status" "$run/status.list"
	instr_fcgi my-account "$bin/my-account" "$run/my-account.list"
	seed_codes wrong 1
	instr_fcgi verify-code-wrong "$bin/verification-code-verify" "$run/verify-wrong.list"
	seed_codes right 1
	instr_fcgi verify-code "$bin/verification-code-verify" "$run/verify-right.list"
	rm -f "$run"/outbox/mail-*
	instr_fcgi send-code "$bin/verification-code" "$run/send-code.list"
	rm -f "$run"/outbox/mail-*
	instr_fcgi password-argon2id "$bin/verification-password" "$run/password-argon2id.list" 5
	instr_cgi hello-cgi "$top_builddir/bench/hello-fcgi" "$run/hello.list"
	instr_cgi cgi-status "$bin/status" "$run/status.list"
	instr_cgi cgi-my-account "$bin/my-account" "$run/my-account.list"
}
