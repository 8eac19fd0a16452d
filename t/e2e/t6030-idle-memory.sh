#!/bin/sh
# t6030-idle-memory: a FastCGI password worker gives its argon2 buffer back
# when no request has come for a while, and makes it again for the next
# verify (issue 17: memory that returns to idle; doc/performance.md)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"

test -r /proc/self/smaps_rollup || skip_all "no /proc/PID/smaps_rollup"

# 32 MiB of argon2 memory: far above what a worker holds otherwise
PW='idle memory password'
setup_instance '<password scheme="argon2id" argon2-memory="32768" argon2-time="1" argon2-parallelism="1"/>' ||
	bail_out "cannot set up the instance"
uid=$(printf '%s\n' "$PW" | add_user --username alice --password-stdin) || bail_out "no user"
start_lighttpd verification-password || bail_out "lighttpd did not start"
tok=$(mint "$uid")

# worker_kib: the private memory (KiB) of the verification-password
# worker(s) of this test, summed
worker_kib () {
	test_procs | while read -r wk_pid_ wk_rest_; do
		case $wk_rest_ in
		*verification-password*) awk '/^Private_(Clean|Dirty):/ { n += $2 }
			END { print n + 0 }' "/proc/$wk_pid_/smaps_rollup" 2>/dev/null ;;
		esac
	done | awk '{ n += $1 } END { print n + 0 }'
}

stepup () {
	jq -cn --arg p "$PW" '{password: $p}' >req.json &&
	http POST /api/verifications/password req.json -H "Authorization: Bearer $tok" &&
	check_status 201
}

test_expect_success 'after a verify the worker holds the argon2 buffer (32 MiB)' '
	stepup &&
	kib=$(worker_kib) &&
	echo "private after a verify: $kib KiB" &&
	test "$kib" -ge 32768
'

test_expect_success 'with no request for a few seconds it gives the buffer back' '
	n=0 &&
	while kib=$(worker_kib) && test "$kib" -ge 16384 && test "$n" -lt 100; do
		sleep 0.1
		n=$((n + 1))
	done &&
	echo "private when idle: $kib KiB (after $n tenths of a second)" &&
	test "$kib" -lt 16384
'

test_expect_success 'the next verify works and makes it again' '
	stepup &&
	test "$(worker_kib)" -ge 32768
'

test_done
