#!/bin/sh
# t9010-audit: reverify-admin audit head, verify --head, prune; the audit key
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/admin.sh"

command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"

# last_entry FIELD: FIELD of the last entry of audit show
last_entry () {
	admin audit show | tail -n 1 | jq -r ".$1"
}

test_expect_success 'init creates the audit key file, 0600' '
	setup_instance &&
	test "$(stat -c %a audit.key)" = 600 &&
	test "$(wc -c <audit.key)" = 65 &&
	expect_rc 0 admin init &&
	grep "nothing to do" out
'

test_expect_success 'entries are keyed' '
	add_user --username alice >alice.id &&
	add_user --username bob >bob.id &&
	admin user suspend "$(cat bob.id)" >/dev/null &&
	test "$(last_entry mac)" = hmac-sha256 &&
	expect_rc 0 admin audit verify &&
	test "$(cat out)" = "audit chain intact: 3 entries"
'

test_expect_success 'audit head prints SEQ:HASH of the last entry' '
	expect_rc 0 admin audit head &&
	test "$(cat out)" = "$(last_entry seq):$(last_entry hash)" &&
	cp out head.3
'

test_expect_success 'audit verify --head accepts the head it printed' '
	expect_rc 0 admin audit verify --head "$(cat head.3)" &&
	grep "^audit chain intact: 3 entries$" out &&
	grep "^the expected head 3 is in the chain$" out
'

test_expect_success 'audit verify --head refuses a head with another hash' '
	expect_rc 1 admin audit verify --head "3:$(printf "0%.0s" $(seq 64))" &&
	grep "broken at entry 3: does not match the expected head" err
'

test_expect_success 'audit verify --head wants SEQ:HASH' '
	expect_rc 2 admin audit verify --head 3 &&
	grep "SEQ:HASH" err &&
	expect_rc 2 admin audit verify --head "3:xyz"
'

if test_store_pgsql; then
	# what the tests below need of the one that is skipped
	test_expect_success 'a fourth entry, and its head' '
		add_user --username carol >/dev/null &&
		expect_rc 0 admin audit head && cp out head.4 &&
		grep "^4:" head.4
	'
	test_skip_bdb 'a store that lost its tail fails the check of a later head' \
		'it restores a reverify-admin backup'
else
	test_expect_success 'a store that lost its tail fails the check of a later head' '
		expect_rc 0 admin backup "$TRASH/old" &&
		add_user --username carol >/dev/null &&
		expect_rc 0 admin audit head && cp out head.4 &&
		sed "s|<store home=\"$TRASH/store\"/>|<store home=\"$TRASH/old\" pepper=\"$TRASH/store/pepper\"/>|" \
			reverify.xml >old.xml &&
		grep "$TRASH/old" old.xml &&
		expect_rc 0 admin -c old.xml audit verify &&
		expect_rc 1 admin -c old.xml audit verify --head "$(cat head.4)" &&
		grep "broken at entry 4: missing: the chain ends at entry 3, before the expected head 4" err
	'
fi

test_expect_success 'audit prune needs a date, days or <audit retention>' '
	expect_rc 2 admin audit prune &&
	grep "<audit retention> is 0" err &&
	expect_rc 2 admin audit prune --before yesterday &&
	expect_rc 2 admin audit prune --keep-days 0 &&
	expect_rc 2 admin audit prune --before 2000-01-01 --keep-days 3 &&
	expect_rc 2 admin audit prune --before 2999-01-01 &&
	grep "in the future" err
'

test_expect_success 'audit prune with nothing old enough prunes nothing' '
	expect_rc 0 admin audit prune --before 2000-01-01 &&
	test "$(cat out)" = "pruned 0 audit entries written before 2000-01-01T00:00:00Z" &&
	expect_rc 0 admin audit prune --keep-days 30 &&
	grep "^pruned 0 " out &&
	test "$(admin audit show | wc -l)" = 4
'

test_expect_success 'audit prune deletes the old entries and audits itself' '
	sleep 1 &&
	before=$(date -u +%Y-%m-%dT%H:%M:%SZ) &&
	expect_rc 0 admin audit prune --before "$before" &&
	test "$(cat out)" = "pruned 4 audit entries written before $before" &&
	admin audit show >shown &&
	test "$(wc -l <shown)" = 1 &&
	test "$(jq -r .event shown)" = audit.pruned &&
	test "$(jq -r .count shown)" = 4 &&
	test "$(jq -r .anchorSeq shown)" = 4 &&
	test "$(jq -r .anchorHash shown)" = "$(cut -d: -f2 head.4)"
'

test_expect_success 'after a prune the chain verifies from the anchor' '
	expect_rc 0 admin audit verify &&
	grep "^audit chain intact: 1 entries$" out &&
	grep "^pruned up to entry 4 on " out &&
	expect_rc 0 admin audit verify --head "$(cat head.4)" &&
	expect_rc 1 admin audit verify --head "$(cat head.3)" &&
	grep "it was pruned" err &&
	add_user --username dave >/dev/null &&
	expect_rc 0 admin audit verify &&
	grep "^audit chain intact: 2 entries$" out &&
	expect_rc 0 admin stats &&
	test "$(json_get out .auditEntries)" = 2
'

test_expect_success 'purge applies <audit retention>' '
	sed "s|<audit key=\"$TRASH/audit.key\"/>|<audit key=\"$TRASH/audit.key\" retention=\"30\"/>|" \
		reverify.xml >retention.xml &&
	grep "retention=" retention.xml &&
	expect_rc 0 admin -c retention.xml purge &&
	grep "^purged [0-9]*$" out &&
	grep "^pruned 0 audit entries written before " out &&
	expect_rc 0 admin -c retention.xml audit prune &&
	grep "^pruned 0 " out
'

test_expect_success 'without the key keyed entries cannot be checked' '
	sed "s|key=\"$TRASH/audit.key\"|key=\"\"|" reverify.xml >nokey.xml &&
	grep "key=\"\"" nokey.xml &&
	expect_rc 1 admin -c nokey.xml audit verify &&
	grep "no audit key is loaded" err &&
	expect_rc 1 admin -c nokey.xml audit prune --before 2000-01-01
'

test_expect_success 'an audit key file open to the group is refused' '
	chmod 640 audit.key &&
	expect_rc 1 admin audit verify &&
	grep "audit key file .*audit.key.* must not be readable or writable by group or others" err &&
	chmod 600 audit.key &&
	ln -s audit.key audit.link &&
	sed "s|$TRASH/audit.key|$TRASH/audit.link|" reverify.xml >link.xml &&
	expect_rc 1 admin -c link.xml audit verify &&
	grep "cannot open the audit key file" err &&
	printf "xyz\n" >bad.key && chmod 600 bad.key &&
	sed "s|$TRASH/audit.key|$TRASH/bad.key|" reverify.xml >bad.xml &&
	expect_rc 1 admin -c bad.xml audit verify &&
	grep "must hold 64 hex digits" err &&
	! grep xyz err
'

test_expect_success 'config check warns about an empty or missing audit key' '
	expect_rc 0 admin config check nokey.xml &&
	grep "warning: <audit key> is empty" err &&
	sed "s|$TRASH/audit.key|$TRASH/none.key|" reverify.xml >none.xml &&
	expect_rc 0 admin config check none.xml &&
	grep "warning: the audit key file .*none.key.* does not exist" err
'

test_expect_success 'an unkeyed chain of before goes on keyed' '
	mkdir legacy &&
	legacy_store=$(store_line_ "$TRASH/legacy/store") &&
	sed -e "s|<store [^>]*/>|$legacy_store|" -e "s|key=\"$TRASH/audit.key\"|key=\"\"|" \
		reverify.xml >legacy/old.xml &&
	expect_rc 0 admin -c legacy/old.xml init &&
	expect_rc 0 admin -c legacy/old.xml user add --username erin &&
	expect_rc 0 admin -c legacy/old.xml audit verify &&
	grep "warning: the audit chain is not keyed" err &&
	sed "s|key=\"\"|key=\"$TRASH/legacy/audit.key\"|" legacy/old.xml >legacy/new.xml &&
	expect_rc 0 admin -c legacy/new.xml user add --username frank &&
	grep "warning: the audit key file .*is missing" err &&
	grep "audit key file .*is missing" reverify.log &&
	expect_rc 0 admin -c legacy/new.xml init &&
	grep "created the audit key file" out &&
	expect_rc 0 admin -c legacy/new.xml user add --username gina &&
	expect_rc 0 admin -c legacy/new.xml audit verify &&
	grep "^audit chain intact: 3 entries$" out &&
	grep "^2 entries before the audit key (plain SHA-256), 1 keyed$" out
'

test_done
