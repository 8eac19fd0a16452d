#!/bin/sh
# smoke.sh: runs each libFuzzer target for FUZZ_SECONDS (default 30) on a
# copy of its seed corpus (t/fuzz/corpus/NAME) with its dictionary
# (t/fuzz/NAME.dict); fails when any target crashes, leaks, runs out of
# memory or time. Run by "make fuzz-smoke" (see doc/fuzzing.md).
#   usage: smoke.sh FUZZDIR TARGET...
# A failing target leaves its log and the input that failed in
# t/trash.fuzz/NAME/ of the build tree.
set -u
fuzzdir=$1
shift
seconds=${FUZZ_SECONDS:-30}
case $seconds in
''|*[!0-9]*) echo "smoke.sh: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;;
esac
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
work=$(mktemp -d "${TMPDIR:-/tmp}/rv-fuzz-smoke.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ran=0
failed=0
total=0
for t in "$@"; do
	name=$(basename "$t")
	seeds=$fuzzdir/corpus/$name
	dict=$fuzzdir/$name.dict
	keep=t/trash.fuzz/$name
	rm -rf "$keep"
	mkdir -p "$work/$name/corpus" "$keep" || exit 1
	# a copy: libFuzzer adds what it finds to its first corpus directory
	if [ -d "$seeds" ]; then
		cp "$seeds"/* "$work/$name/corpus/" 2>/dev/null
	fi
	set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$keep/"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	# TMPDIR: the targets make their private directory there
	TMPDIR=$work/$name "$t" "$@" "$work/$name/corpus" \
		>"$keep/log" 2>&1 </dev/null
	rc=$?
	ran=$((ran + 1))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$keep/log" | tail -n 1)
	cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$keep/log" | tail -n 1)
	total=$((total + ${execs:-0}))
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL: $name: exit status $rc after ${execs:-?} executions; log and input in $keep/"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$keep/log" | head -n 5
		tail -n 40 "$keep/log"
	else
		echo "ok: $name: ${execs:-?} executions in ${seconds} s, coverage ${cov:-?}"
		rm -rf "$keep"
	fi
done
rmdir t/trash.fuzz 2>/dev/null
echo "fuzz-smoke: $ran targets, $failed failing, $total executions in all"
[ "$failed" -eq 0 ]
