#!/bin/sh
# t4530-sms-gammu: codes by SMS through a real gateway daemon: gammu-smsd (files backend, the dummy phone driver) fed by contrib/sms/sms-gammu (gammu-smsd-inject); the sent message read back from its spool
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317); ls lists gammu's own spool names,
# which are [A-Za-z0-9_+.] (SC2012).
# shellcheck disable=SC1091,SC2012,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/lighttpd.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/sms.sh"

require_server gammu-smsd "$(command -v gammu-smsd || echo /usr/bin/gammu-smsd)"
require_server gammu-smsd-inject "$(command -v gammu-smsd-inject || echo /usr/bin/gammu-smsd-inject)"
require_server python3 "$(command -v python3)"

# the daemon: the dummy driver emulates a phone in phone/ (docs.gammu.org,
# "Dummy Driver"); the files backend spools in outbox/, sent/, error/
G=$TRASH/gammu
mkdir -p "$G/phone" "$G/inbox" "$G/outbox" "$G/sent" "$G/error" || bail_out "no spool"
cat >"$G/smsdrc" <<EOF || bail_out "no smsdrc"
[gammu]
model = dummy
connection = none
device = $G/phone/

[smsd]
service = files
logfile = $G/smsd.log
debuglevel = 0
phoneid = reverify-test
inboxpath = $G/inbox/
outboxpath = $G/outbox/
sentsmspath = $G/sent/
errorsmspath = $G/error/
outboxformat = unicode
transmitformat = unicode
loopsleep = 1
commtimeout = 1
sendtimeout = 5
receivefrequency = 3600
statusfrequency = 0
checksecurity = 0
checkbattery = 0
checksignal = 0
checknetwork = 0
hangupcalls = 0
EOF

smsd_stop () {
	test -n "${SMSD_PID-}" || return 0
	kill "$SMSD_PID" 2>/dev/null
	wait "$SMSD_PID" 2>/dev/null
	SMSD_PID=
}
gammu-smsd -c "$G/smsdrc" >"$G/smsd.out" 2>&1 &
SMSD_PID=$!
test_cleanup_add smsd_stop
i=0
until grep -q "Starting phone communication" "$G/smsd.log" 2>/dev/null; do
	if ! kill -0 "$SMSD_PID" 2>/dev/null || test "$i" -ge 100; then
		cat "$G/smsd.out" "$G/smsd.log" >&2
		bail_out "gammu-smsd did not start"
	fi
	sleep 0.1
	i=$((i + 1))
done

sms_setup "$top_srcdir/contrib/sms/sms-gammu -c $G/smsdrc" rv

# sent N: wait up to 15 s until sent/ holds N messages, and error/ none;
# print the text of the newest (the unicode format is UTF-16)
sent () {
	i=0
	while test "$(ls "$G/sent" | wc -l)" -lt "$1"; do
		test "$i" -lt 150 || { ls -l "$G/outbox" "$G/error"; tail "$G/smsd.log"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	test "$(ls "$G/sent" | wc -l)" = "$1" &&
	test -z "$(ls "$G/error")" &&
	f=$(ls -t "$G/sent"/* | head -n 1) &&
	python3 -c 'import sys; sys.stdout.write(open(sys.argv[1], "rb").read().decode("utf-16"))' "$f"
}

# code_step_up LANG N: a code in LANG; the daemon sent it (the Nth), its
# text is the template's, and the code in it verifies
code_step_up () {
	send_code "$tok" phone 64211234567 "" -H "Accept-Language: $1" &&
	check_status 201 &&
	rec=$(record_id) &&
	sent "$2" >got.txt &&
	code=$(grep -oE "[0-9]{6}" got.txt | head -n 1) &&
	sms_template "$1" "$code" rv >want.txt &&
	test_cmp want.txt got.txt &&
	test "$(ls "$G/sent" | tail -n 1 | sed -n "s/.*_\(+[0-9]*\)_sms0.txt$/\1/p")" = +64211234567 &&
	grep -q "Transmitted .* to +64211234567" "$G/smsd.log" &&
	verify_code "$tok" phone 64211234567 "$rec" "$code" &&
	check_status 200
}

test_expect_success 'a code in English: gammu-smsd sent it through the phone, the text verifies' '
	code_step_up en 1
'

test_expect_success 'a code in Korean: sent intact (Unicode)' '
	code_step_up ko 2
'

test_expect_success 'no outbox to queue in: sms-gammu exits 75, reverify answers 503, nothing sent' '
	mv "$G/outbox" "$G/outbox.away" &&
	send_code "$tok" phone 64211234567 &&
	mv "$G/outbox.away" "$G/outbox" &&
	check_status 503 && check_code connector.general &&
	grep -q "sms program .*sms-gammu. exited with status 75" "$TRASH/reverify.log" &&
	test "$(ls "$G/sent" | wc -l)" = 2 && test -z "$(ls "$G/outbox")"
'

test_done
