#!/usr/bin/env bash
# bench.sh: reverify's benchmark (make bench): wrk against a real lighttpd
# on 127.0.0.1, each scenario next to its reference in the same run
#
# Environment:
#   BENCH_SECONDS=10       length of one wrk run
#   BENCH_CONNECTIONS=16   connections (64 is run too)
#   BENCH_ROUNDS=3         interleaved rounds (min/median/max over them)
#   BENCH_USERS=2000       bench users (argon2id passwords)
#   BENCH_GROWTH=0         1: also the growth part (1 M users and records,
#                          several minutes); only: just that part
#   BENCH_GROWTH_N=1000000 users and records of the growth part
#   BENCH_DIR=bench/run    the trash directory (removed first)
#   BENCH_STORE=bdb        pgsql: the store on a throw-away PostgreSQL
#                          cluster (t/lib/pgcluster, durable, on this
#                          host), started and removed by the bench
#   BENCH_INSTR=1          instructions per request under callgrind
#                          (bench/instr.sh); 0: not; only: just that part
#   BENCH_INSTR_N=200      requests counted per scenario
#   BENCH_INSTR_SCENARIOS= only these (names, space-separated)
# Writes bench/results.json, bench/results.tsv and bench/results.png (when
# gnuplot is there) and ends with one "bench: ..." line. See
# doc/performance.md.
set -u -o pipefail

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
rounds=${BENCH_ROUNDS:-3}
nusers=${BENCH_USERS:-2000}
growth=${BENCH_GROWTH:-0}
growth_n=${BENCH_GROWTH_N:-1000000}
bench_store=${BENCH_STORE:-bdb}
instr=${BENCH_INSTR:-1}
run=${BENCH_DIR:-$top_builddir/bench/run}
out=$top_builddir/bench
cores=$(nproc 2>/dev/null || echo 2)
threads=$cores
password="correct horse battery staple"
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}
WRK=${WRK:-$(command -v wrk || true)}
conn_levels=$conns
[ "$conns" = 64 ] || conn_levels="$conns 64"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ -x "$LIGHTTPD" ] || die "lighttpd not found (tools/quickstart installs it)"
[ -n "$WRK" ] || die "wrk not found (tools/quickstart installs it)"
for p in hello-fcgi hash-bench seed mail-sink spawn-bench; do
	[ -x "$top_builddir/bench/$p" ] || die "bench/$p is not built (make bench builds it)"
done
case $secs$conns$rounds$nusers in *[!0-9]*) die "BENCH_* must be numbers" ;; esac
case $bench_store in bdb|pgsql) ;; *) die "BENCH_STORE is bdb or pgsql" ;; esac
case $instr in 0|1|only) ;; *) die "BENCH_INSTR is 0, 1 or only" ;; esac
# shellcheck source=bench/instr.sh
. "$top_srcdir/bench/instr.sh"

# ---- the servers, stopped whatever happens --------------------------------
pids=()
declare -A server_pid
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -z "${sockdir_tmp-}" ] || rm -rf "$sockdir_tmp"
	[ -z "${pgdir-}" ] || "$top_srcdir/t/lib/pgcluster" stop "$pgdir" >/dev/null
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'exit 143' TERM

rm -rf "$run"
mkdir -p "$run/outbox" "$run/www" "$run/log" || die "cannot make $run"
sockdir=$run/sock
if [ $((${#sockdir} + 40)) -gt 107 ]; then
	sockdir_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rv-bench.XXXXXX") || die "mktemp"
	sockdir=$sockdir_tmp
fi
mkdir -p "$sockdir"
export REVERIFY_OUTBOX=$run/outbox

# write_config FILE STORE [XML...]: a bench instance's reverify.xml; the
# limits are raised so that the bench measures the work, not a 429
write_config() {
	local f=$1 store=$2 db
	shift 2
	# on PostgreSQL, a database per store home (configs may share one)
	db=rv_$(printf '%s' "$store" | md5sum | cut -c1-12)
	if [ -n "${pgdir-}" ] && [ -z "${pg_made[$db]-}" ]; then
		"$top_srcdir/t/lib/pgcluster" createdb "$pgdir" "$db" >/dev/null ||
			die "cannot create the database for $f"
		pg_made[$db]=1
	fi
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<reverify>'
		echo "  <log target=\"file\" file=\"$run/log/reverify.log\" level=\"warn\"/>"
		if [ -n "${pgdir-}" ]; then
			echo "  <store home=\"$store\" backend=\"pgsql\" conninfo=\"host=$pgdir dbname=$db user=reverify\"/>"
		else
			echo "  <store home=\"$store\"/>"
		fi
		echo "  <audit key=\"$run/audit.key\"/>"
		echo "  <auth issuer=\"https://issuer.test\" audience=\"reverify\" jwks=\"$run/jwks.json\" local-key=\"$run/local.jwk\" first-party=\"demo-app\"/>"
		# the C stand-in: send-code measures us and the spawn, not sh
		echo "  <delivery sendmail=\"$top_builddir/bench/mail-sink -t -i\" mail-from=\"bench@example.org\"/>"
		echo '  <codes max-tries="100" send-max="1000" send-window="60"/>'
		echo '  <lockout max-attempts="256" window="60" duration="60"/>'
		printf '  %s\n' "$@"
		echo '</reverify>'
	} >"$f"
}

declare -A pg_made
if [ "$bench_store" = pgsql ]; then
	pgdir=$(PGCLUSTER_DURABLE=1 "$top_srcdir/t/lib/pgcluster" start) ||
		die "cannot start a PostgreSQL cluster (t/lib/pgcluster)"
	say "store: PostgreSQL in $pgdir"
fi
admin=$top_builddir/src/reverify-admin
seed=$top_builddir/bench/seed
mkdir -p "$run/store"
chmod 700 "$run/store"
write_config "$run/argon2.xml" "$run/store"
write_config "$run/bcrypt.xml" "$run/store" \
	'<http base-path="/bcrypt"/>' '<password scheme="bcrypt" bcrypt-cost="10"/>'
# an RS256 key first (init keeps it): RS256 tokens are the common case
"$seed" "$run/argon2.xml" rsa-key || die "seed rsa-key failed"
chmod 644 "$run/jwks.json"
"$admin" -q -c "$run/argon2.xml" init >/dev/null || die "reverify-admin init failed"

# fcgi_entry PREFIX PROGRAM SOCKET CONFIG: one fastcgi.server entry
fcgi_entry() {
	cat <<EOF
	"$1" => ((
		"bin-path" => "$2",
		"socket" => "$sockdir/$3",
		"max-procs" => $cores,
		"check-local" => "disable",
		"bin-environment" => ( "REVERIFY_CONFIG" => "$4" ),
		"bin-copy-environment" => ( "PATH", "REVERIFY_OUTBOX" ),
	)),
EOF
}

# start_server NAME PORT CONFIG-BODY: lighttpd -D with that config;
# waits until /ready answers
start_server() {
	local name=$1 port=$2 i
	{
		echo "server.bind = \"127.0.0.1\""
		echo "server.port = $port"
		echo "server.document-root = \"$run/www\""
		echo "server.errorlog = \"$run/log/$name-error.log\""
		echo "server.breakagelog = \"$run/log/$name-stderr.log\""
		echo "server.max-connections = 1024"
		echo "$3"
	} >"$run/$name.conf"
	"$LIGHTTPD" -D -f "$run/$name.conf" </dev/null >"$run/log/$name.out" 2>&1 &
	pids+=("$!")
	server_pid[$name]=$!
	for ((i = 0; i < 100; i++)); do
		if [ "$(curl -s --max-time 2 "http://127.0.0.1:$port/ready")" = "bench $$" ]; then
			return 0
		fi
		sleep 0.1
	done
	cat "$run/log/$name.out" "$run/log/$name-error.log" >&2 2>/dev/null
	die "lighttpd $name did not start on port $port"
}

# free_port: a port nothing answers on
free_port() {
	local p
	for ((p = 28000 + $$ % 1000; p < 29100; p++)); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" || { echo "$p"; return 0; }
	done
	die "no free port"
}

echo "bench $$" >"$run/www/ready"
bin=$top_builddir/cgi-bin
fcgi_conf=$(
	echo 'server.modules += ( "mod_fastcgi" )'
	echo 'fastcgi.server = ('
	fcgi_entry /hello "$top_builddir/bench/hello-fcgi" hello "$run/argon2.xml"
	fcgi_entry /api/verifications/verification-code/verify "$bin/verification-code-verify" code-verify "$run/argon2.xml"
	fcgi_entry /api/verifications/verification-code "$bin/verification-code" code-send "$run/argon2.xml"
	fcgi_entry /api/verifications/password "$bin/verification-password" password "$run/argon2.xml"
	fcgi_entry /bcrypt/api/verifications/password "$bin/verification-password" password-bcrypt "$run/bcrypt.xml"
	fcgi_entry /api/status "$bin/status" status "$run/argon2.xml"
	fcgi_entry /api/my-account "$bin/my-account" my-account "$run/argon2.xml"
	echo ')'
)
cgi_conf=$(
	echo 'server.modules += ( "mod_alias", "mod_cgi", "mod_setenv" )'
	echo 'alias.url = ('
	echo "	\"/hello\" => \"$top_builddir/bench/hello-fcgi\","
	echo "	\"/api/status\" => \"$bin/status\","
	echo "	\"/api/my-account\" => \"$bin/my-account\","
	echo ')'
	# shellcheck disable=SC2016 # a lighttpd condition, not a shell expansion
	echo '$HTTP["url"] =~ "^/(api|hello)" { cgi.assign = ( "" => "" ) }'
	echo "setenv.add-environment = ( \"PATH\" => \"${PATH}\", \"REVERIFY_CONFIG\" => \"$run/argon2.xml\" )"
)

say "seeding $nusers users (argon2id) and 200 (bcrypt-10)"
"$seed" "$run/argon2.xml" users u "$nusers" "$password" >"$run/tokens-u.txt" ||
	die "seed users failed"
"$seed" "$run/bcrypt.xml" users b 200 "$password" >"$run/tokens-b.txt" ||
	die "seed users failed"

fport=$(free_port)
start_server fcgi "$fport" "$fcgi_conf"
cport=$(free_port)
start_server cgi "$cport" "$cgi_conf"
FBASE=http://127.0.0.1:$fport
CBASE=http://127.0.0.1:$cport

# ---- request lists -----------------------------------------------------
printf 'GET\t/hello\t\n' >"$run/hello.list"
printf 'GET\t/api/status\t\n' >"$run/status.list"
awk -F'\t' '{ printf "GET\t/api/my-account\t%s\n", $2 }' "$run/tokens-u.txt" >"$run/my-account.list"
awk -F'\t' '{ printf "POST\t/api/verifications/verification-code\t%s\t{\"identifier\":{\"type\":\"email\",\"value\":\"%s\"}}\n", $2, $3 }' \
	"$run/tokens-u.txt" >"$run/send-code.list"
awk -F'\t' -v pw="$password" '{ printf "POST\t/api/verifications/password\t%s\t{\"password\":\"%s\"}\n", $2, pw }' \
	"$run/tokens-u.txt" >"$run/password-argon2id.list"
awk -F'\t' -v pw="$password" '{ printf "POST\t/bcrypt/api/verifications/password\t%s\t{\"password\":\"%s\"}\n", $2, pw }' \
	"$run/tokens-b.txt" >"$run/password-bcrypt.list"

# check BASE LIST STATUS [CODE]: the first request of LIST answers STATUS
# (and the error code CODE): the bench measures what it means to
check() {
	local base=$1 list=$2 want=$3 code=${4-} method path tok body got
	IFS=$'\t' read -r method path tok body <"$list"
	set -- -s -o "$run/check.body" -w '%{http_code}' --max-time 30 -X "$method"
	[ -z "$tok" ] || set -- "$@" -H "Authorization: Bearer $tok"
	[ -z "$body" ] || set -- "$@" -H 'Content-Type: application/json' --data-binary "$body"
	got=$(curl "$@" "$base$path")
	if [ "$got" != "$want" ] || { [ -n "$code" ] && ! grep -q "\"code\":\"$code\"" "$run/check.body"; }; then
		say "$path answers $got, not $want $code: $(head -c 300 "$run/check.body")"
		return 1
	fi
}

# to_ms VALUE: wrk's 1.23us / 4.56ms / 1.2s in ms
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else printf "0" }'
}

# wrk_run BASE LIST CONNS: one wrk run; sets rps p50 p99 errs wraps
wrk_run() {
	local base=$1 list=$2 c=$3 o=$run/wrk.out
	BENCH_LIST=$list BENCH_THREADS=$threads "$WRK" -t "$threads" -c "$c" \
		-d "${secs}s" --timeout 30s --latency -s "$top_srcdir/bench/list.lua" \
		"$base/" >"$o" 2>&1
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$o")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$o")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$o")")
	errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { n += 1 } END { print n + 0 }' "$o")
	wraps=$(awk '/^list-wraps:/ { print $2 }' "$o")
	if [ -z "$rps" ]; then
		cat "$o" >&2
		die "wrk gave no result for $list"
	fi
}

results=$out/results.tsv
printf 'scenario\tconns\tround\trps\tp50\tp99\tref\tref_rps\tref_p99\terrors\twraps\n' >"$results"
# record SCENARIO CONNS ROUND REF REF_RPS REF_P99
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$rps" "$p50" "$p99" "$4" "$5" "$6" "$errs" "${wraps:-0}" >>"$results"
	printf 'bench:   %-20s c=%-3s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms%s\n' \
		"$1" "$2" "$rps" "$p50" "$p99" \
		"$( [ "${errs:-0}" = 0 ] || echo "  ($errs non-2xx)")" >&2
}

# fresh verify lists: WRONG has one record per user, so that no record
# sees more than max-tries (100) guesses nor a user more than the lockout
# (256); RIGHT has enough fresh records for the run
seed_codes() {
	local kind=$1 per=$2
	"$seed" "$run/argon2.xml" codes "$run/tokens-u.txt" "$per" "$kind" \
		>"$run/verify-$kind.list" || die "seed codes failed"
}

# memory PID...: "rss private" in KiB of each, from smaps_rollup
memory() {
	local p
	for p in "$@"; do
		awk -v pid="$p" '
			/^Rss:/ { rss = $2 } /^Private_(Clean|Dirty):/ { priv += $2 }
			END { printf "%s %d %d\n", pid, rss, priv }' "/proc/$p/smaps_rollup" 2>/dev/null
	done
}

# workers: "program pid" of the FastCGI backends of the fcgi lighttpd
workers() {
	local p
	for p in $(pgrep -P "${server_pid[fcgi]}"); do
		printf '%s %s\n' "$(basename "$(readlink "/proc/$p/exe")")" "$p"
	done
}

# memory_table WHEN: the memory of every worker into results-memory.tsv
memory_table() {
	local prog pid m
	workers | while read -r prog pid; do
		m=$(memory "$pid")
		[ -n "$m" ] && printf '%s\t%s\t%s\n' "$1" "$prog" "${m#* }" | tr ' ' '\t'
	done >>"$out/results-memory.tsv"
}
printf 'when\tprogram\trss_kib\tprivate_kib\n' >"$out/results-memory.tsv"
rm -f "$out/results-hash.txt" "$out/results.png"
sleep 0.5
memory_table idle

# the argon2 and bcrypt parameters of the configs (the defaults)
a_t=$("$admin" -c "$run/argon2.xml" config check 2>/dev/null | sed -n 's/.*argon2-time="\([0-9]*\)".*/\1/p' | head -n 1)
a_m=$("$admin" -c "$run/argon2.xml" config check 2>/dev/null | sed -n 's/.*argon2-memory="\([0-9]*\)".*/\1/p' | head -n 1)
a_t=${a_t:-2} a_m=${a_m:-19456}

check "$FBASE" "$run/hello.list" 200 || die "hello-fcgi does not answer"
check "$FBASE" "$run/status.list" 204 || die "status does not answer"
check "$FBASE" "$run/my-account.list" 200 || die "my-account does not answer"
check "$FBASE" "$run/password-argon2id.list" 201 || die "verification-password does not answer"
check "$FBASE" "$run/password-bcrypt.list" 201 || die "verification-password (bcrypt) does not answer"
check "$FBASE" "$run/send-code.list" 201 || die "verification-code does not answer"
# a code mail as sent, for the spawn reference (bench/spawn-bench)
for f in "$run"/outbox/mail-*; do
	[ -f "$f" ] && cp "$f" "$run/message.eml" && break
done
[ -s "$run/message.eml" ] || die "verification-code sent no mail to the outbox"
check "$CBASE" "$run/hello.list" 200 || die "hello CGI does not answer"
check "$CBASE" "$run/my-account.list" 200 || die "my-account CGI does not answer"

rm -f "$out/results-instr.tsv"
[ "$instr" = 0 ] || instr_all
[ "$instr" != only ] || growth=none

if [ "$growth" != only ] && [ "$growth" != none ]; then
	for ((r = 1; r <= rounds; r++)); do
		for c in $conn_levels; do
			say "round $r/$rounds, $c connections"
			wrk_run "$FBASE" "$run/hello.list" "$c"
			ref_rps=$rps ref_p99=$p99
			record hello-fcgi "$c" "$r" hello-fcgi "$ref_rps" "$ref_p99"
			for s in status my-account; do
				wrk_run "$FBASE" "$run/$s.list" "$c"
				record "$s" "$c" "$r" hello-fcgi "$ref_rps" "$ref_p99"
			done
			seed_codes wrong 1
			check "$FBASE" "$run/verify-wrong.list" 400 verification_code.code_mismatch ||
				die "a wrong code is not a code_mismatch"
			wrk_run "$FBASE" "$run/verify-wrong.list" "$c"
			[ "${wraps:-0}" -lt 99 ] || say "warning: more than 100 guesses per record"
			errs=0	# all 400, as meant
			record verify-code-wrong "$c" "$r" hello-fcgi "$ref_rps" "$ref_p99"
			# fresh records: one per request, at most the ceiling's rate
			seed_codes right $(((${ref_rps%.*} * secs * 5 / 4) / nusers + 1))
			wrk_run "$FBASE" "$run/verify-right.list" "$c"
			[ "${wraps:-0}" = 0 ] || say "warning: the fresh records ran out"
			record verify-code "$c" "$r" hello-fcgi "$ref_rps" "$ref_p99"
			rm -f "$run"/outbox/mail-*
			# the reference: the sendmail command spawned from C, as
			# many at once as there are workers
			"$top_builddir/bench/spawn-bench" "$secs" "$cores" "$run/message.eml" \
				"$top_builddir/bench/mail-sink" -t -i >"$run/spawn.out" 2>&1 ||
				die "spawn-bench failed: $(cat "$run/spawn.out")"
			awk '$(NF - 1) > 0 { exit 1 }' "$run/spawn.out" ||
				say "warning: $(cat "$run/spawn.out")"
			spawn_rps=$(awk '{ print $2 }' "$run/spawn.out")
			spawn_p99=$(awk '{ print $9 }' "$run/spawn.out")
			rm -f "$run"/outbox/mail-*
			wrk_run "$FBASE" "$run/send-code.list" "$c"
			record send-code "$c" "$r" spawn-sendmail "$spawn_rps" "$spawn_p99"
			rm -f "$run"/outbox/mail-*
			wrk_run "$CBASE" "$run/hello.list" "$c"
			cref_rps=$rps cref_p99=$p99
			record hello-cgi "$c" "$r" hello-cgi "$cref_rps" "$cref_p99"
			for s in status my-account; do
				wrk_run "$CBASE" "$run/$s.list" "$c"
				record "cgi-$s" "$c" "$r" hello-cgi "$cref_rps" "$cref_p99"
			done
		done
		# the password scenarios next to the raw hash, at the base level:
		# the ceiling is cores / (one raw verify)
		c=${conn_levels%% *}
		"$top_builddir/bench/hash-bench" argon2id "$a_t" "$a_m" 5 >"$run/hash.out" ||
			die "hash-bench failed"
		"$top_builddir/bench/hash-bench" bcrypt 10 5 >>"$run/hash.out" || die "hash-bench failed"
		cat "$run/hash.out" >>"$out/results-hash.txt"
		ms_fresh=$(awk '/-fresh/ { print $2 }' "$run/hash.out")
		ms_reused=$(awk '/-reused/ { print $2 }' "$run/hash.out")
		ms_bcrypt=$(awk '/^bcrypt/ { print $2 }' "$run/hash.out")
		say "raw verify: argon2id t=$a_t m=$a_m fresh $ms_fresh ms, reused $ms_reused ms; bcrypt-10 $ms_bcrypt ms"
		wrk_run "$FBASE" "$run/password-argon2id.list" "$c"
		record password-argon2id "$c" "$r" hash-argon2id \
			"$(awk -v n="$cores" -v t="$ms_reused" 'BEGIN { printf "%.2f", n * 1000 / t }')" "$ms_reused"
		wrk_run "$FBASE" "$run/password-bcrypt.list" "$c"
		record password-bcrypt "$c" "$r" hash-bcrypt \
			"$(awk -v n="$cores" -v t="$ms_bcrypt" 'BEGIN { printf "%.2f", n * 1000 / t }')" "$ms_bcrypt"
	done
	memory_table after
fi

# ---- growth: 1 M users and records, expired, purged -----------------------
if [ "$growth" != 0 ] && [ "$growth" != none ]; then
	say "growth: $growth_n users and records into a store of their own (minutes)"
	mkdir -p "$run/growth"
	write_config "$run/growth.xml" "$run/growth/store"
	"$admin" -q -c "$run/growth.xml" init >/dev/null || die "init (growth) failed"
	"$seed" "$run/growth.xml" growth "$growth_n" >"$out/results-growth.jsonl" ||
		die "seed growth failed"
	cat "$out/results-growth.jsonl" >&2
	"$seed" "$run/growth.xml" users g 1000 >"$run/tokens-g.txt" || die "tokens failed"
	awk -F'\t' '{ printf "GET\t/api/my-account\t%s\n", $2 }' "$run/tokens-g.txt" >"$run/my-account-1m.list"
	head -n 1000 "$run/my-account.list" >"$run/my-account-1k.list"
	gport=$(free_port)
	start_server growth "$gport" "$(
		echo 'server.modules += ( "mod_fastcgi" )'
		echo 'fastcgi.server = ('
		fcgi_entry /api/my-account "$bin/my-account" my-account-g "$run/growth.xml"
		echo ')'
	)"
	check "http://127.0.0.1:$gport" "$run/my-account-1m.list" 200 || die "my-account (growth) does not answer"
	c=${conn_levels%% *}
	for ((r = 1; r <= rounds; r++)); do
		wrk_run "$FBASE" "$run/my-account-1k.list" "$c"
		ref_rps=$rps ref_p99=$p99
		record my-account-users-small "$c" "$r" my-account-users-small "$ref_rps" "$ref_p99"
		wrk_run "http://127.0.0.1:$gport" "$run/my-account-1m.list" "$c"
		record my-account-users-1m "$c" "$r" my-account-users-small "$ref_rps" "$ref_p99"
	done
fi

# ---- report --------------------------------------------------------------
awk -F'\t' -v out="$out/results.json" -v cores="$cores" -v secs="$secs" \
	-v rounds="$rounds" -v memf="$out/results-memory.tsv" \
	-v instrf="$out/results-instr.tsv" '
function sort3(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
# stat KEY FIELD: "min med max" of FIELD over the rounds of KEY
function stat(key, f,   n, i, v) {
	n = cnt[key]
	for (i = 1; i <= n; i++) v[i] = val[key, i, f]
	sort3(v, n)
	lo[f] = v[1]; hi[f] = v[n]
	md[f] = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# kinstr NAME: " (151k instr, hello 24k)" when NAME was counted
function kinstr(name,   r) {
	if (!(name in ins)) return ""
	r = name ~ /^cgi-/ ? "hello-cgi" : "hello-fcgi"
	return sprintf(" (%.0fk instr%s)", ins[name] / 1000,
		(r in ins) ? sprintf(", hello %.0fk", ins[r] / 1000) : "")
}
# part NAME: " NAME 0.86 (151k instr, hello 24k)" from what was measured
function part(name,   k, s) {
	k = first[name]
	s = ((name, k) in med) ? sprintf(" %s %.2f", name, med[name, k]) : ""
	if (s == "" && (name in ins)) s = " " name
	return s (s == "" ? "" : kinstr(name))
}
BEGIN {
	while ((getline l <instrf) > 0) {
		split(l, a, "\t")
		if (a[1] == "scenario") continue
		ins[a[1]] = a[2]; iorder[++ni] = a[1]
	}
}
NR == 1 { next }
{
	key = $1 SUBSEP $2
	if (!(key in cnt)) { order[++nk] = key }
	n = ++cnt[key]
	val[key, n, "rps"] = $4; val[key, n, "p50"] = $5; val[key, n, "p99"] = $6
	val[key, n, "ratio"] = $8 > 0 ? $4 / $8 : 0
	val[key, n, "p99ratio"] = $9 > 0 ? $6 / $9 : 0
	ref[key] = $7; err[key] += $10
}
END {
	printf "{\n  \"cores\": %d, \"seconds\": %d, \"rounds\": %d,\n  \"scenarios\": [\n", cores, secs, rounds >out
	for (k = 1; k <= nk; k++) {
		key = order[k]; split(key, kk, SUBSEP)
		printf "\n== %s, %s connections (%d rounds: min / median / max)\n", kk[1], kk[2], cnt[key]
		split("rps p50 p99 ratio p99ratio", fs, " ")
		line = ""
		for (i = 1; i <= 5; i++) {
			f = fs[i]; stat(key, f)
			m[f] = md[f]
			printf "  %-9s %10.2f %10.2f %10.2f\n", (f == "rps" ? "req/s" : f == "p50" ? "p50 ms" : f == "p99" ? "p99 ms" : f == "ratio" ? "ratio" : "p99/ref"), lo[f], md[f], hi[f]
			line = line sprintf("%s\"%s\": [%.3f, %.3f, %.3f]", i > 1 ? ", " : "", f, lo[f], md[f], hi[f])
		}
		printf "  (reference: %s%s)\n", ref[key], err[key] ? sprintf("; %d non-2xx answers", err[key]) : ""
		printf "    {\"scenario\": \"%s\", \"connections\": %d, \"reference\": \"%s\", \"errors\": %d, %s}%s\n",
			kk[1], kk[2], ref[key], err[key], line, k < nk ? "," : "" >out
		med[kk[1], kk[2]] = m["ratio"]; medrps[kk[1], kk[2]] = m["rps"]; medp99[kk[1], kk[2]] = m["p99"]
		if (!(kk[1] in first)) first[kk[1]] = kk[2]
	}
	printf "  ],\n  \"memory\": [\n" >out
	nm = 0
	while ((getline l <memf) > 0) {
		if (l ~ /^when/) continue
		split(l, a, "\t")
		printf "%s    {\"when\": \"%s\", \"program\": \"%s\", \"rssKiB\": %d, \"privateKiB\": %d}", nm++ ? ",\n" : "", a[1], a[2], a[3], a[4] >out
		if (a[1] == "idle" && a[2] != "hello-fcgi" && a[4] > maxpriv) { maxpriv = a[4]; maxrss = a[3] }
	}
	printf "\n  ],\n  \"instructions\": {" >out
	for (i = 1; i <= ni; i++)
		printf "%s\"%s\": %d", (i > 1 ? ", " : ""), iorder[i], ins[iorder[i]] >out
	printf "}\n}\n" >out
	s = "bench:" part("my-account") part("verify-code") part("verify-code-wrong")
	if (("my-account", first["my-account"]) in medp99) s = s sprintf(" my-account-p99 %.1fx", medp99["my-account", first["my-account"]] / medp99["hello-fcgi", first["my-account"]])
	if (("send-code", first["send-code"]) in medp99) s = s sprintf(" send-code %.2f p99 %.0fms", med["send-code", first["send-code"]], medp99["send-code", first["send-code"]])
	if (("password-argon2id", first["password-argon2id"]) in med) s = s sprintf(" password-argon2id %.2f", med["password-argon2id", first["password-argon2id"]])
	if (("password-bcrypt", first["password-bcrypt"]) in med) s = s sprintf(" password-bcrypt %.2f", med["password-bcrypt", first["password-bcrypt"]])
	if (("cgi-my-account", first["cgi-my-account"]) in medrps) s = s sprintf(" cgi-my-account %.0frps %.2f", medrps["cgi-my-account", first["cgi-my-account"]], med["cgi-my-account", first["cgi-my-account"]])
	else if ("cgi-my-account" in ins) s = s " cgi-my-account"
	s = s kinstr("cgi-my-account")
	if (("my-account-users-1m", first["my-account-users-1m"]) in med) s = s sprintf(" my-account-1m-users %.2f", med["my-account-users-1m", first["my-account-users-1m"]])
	if (maxpriv) s = s sprintf(" idle-private %.1fMiB rss %.1fMiB", maxpriv / 1024, maxrss / 1024)
	print "\n" s
	print s >(out ".line")
}' "$results" || die "cannot summarise"

echo
echo "memory of the FastCGI workers (KiB, from /proc/PID/smaps_rollup):"
column -t "$out/results-memory.tsv" 2>/dev/null || cat "$out/results-memory.tsv"
if [ -f "$out/results-growth.jsonl" ] && [ "$growth" != 0 ]; then
	echo "growth (store size and log files at each step):"
	cat "$out/results-growth.jsonl"
fi

if command -v gnuplot >/dev/null 2>&1; then
	c=${conn_levels%% *}
	# scenario, median req/s, median p99, median reference req/s and p99
	awk -F'\t' -v c="$c" 'NR > 1 && $2 == c && $1 !~ /^hello/ && $1 !~ /users/ {
		if (!($1 in n)) o[++k] = $1
		n[$1]++; r[$1] += $4; p[$1] += $6; rr[$1] += $8; rp[$1] += $9 }
		END { for (i = 1; i <= k; i++) { s = o[i]
			printf "%s\t%.2f\t%.3f\t%.2f\t%.3f\n", s, r[s] / n[s], p[s] / n[s], rr[s] / n[s], rp[s] / n[s] } }' \
		"$results" >"$run/plot.dat"
	[ ! -s "$run/plot.dat" ] ||
	gnuplot -e "datafile='$run/plot.dat'; outfile='$out/results.png'; conns='$c'" \
		"$top_srcdir/bench/plot.gp" 2>"$run/gnuplot.err" ||
		say "gnuplot failed: $(head -c 300 "$run/gnuplot.err")"
fi
say "results in $out: results.json results.tsv results-memory.tsv results-hash.txt$( [ -f "$out/results.png" ] && echo " results.png")"
cat "$out/results.json.line"
