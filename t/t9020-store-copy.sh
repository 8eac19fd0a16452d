#!/bin/sh
# t9020-store-copy: reverify-admin store copy from Berkeley DB to PostgreSQL
# and back, migrate, and the PostgreSQL schema and connection checks
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"
. "$top_srcdir/t/lib/instance.sh"
. "$top_srcdir/t/lib/admin.sh"

command -v jq >/dev/null 2>&1 || skip_all "jq not found (apt-get install jq)"
grep -q '^#define HAVE_PGSQL 1' "$top_builddir/config.h" ||
	skip_all "built without PostgreSQL (configure found no libpq)"

# the cluster: the suite's under make check-pgsql, else one of our own
PGC="sh $top_srcdir/t/lib/pgcluster"
if test_store_pgsql; then
	pghost=$REVERIFY_TEST_PGHOST
else
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
		skip_all "no PostgreSQL server (apt-get install postgresql-15)"
	pghost=$($PGC start 2>"$TRASH/pgcluster.err") ||
		bail_out "cannot start a PostgreSQL cluster: $(cat "$TRASH/pgcluster.err")"
	own_cluster_stop () {
		$PGC stop "$pghost" >/dev/null
	}
	test_cleanup_add own_cluster_stop
fi
dbs=
# newdb NAME: an empty database NAME (dropped when the script ends)
newdb () {
	$PGC dropdb "$pghost" "$1" >/dev/null 2>&1
	$PGC createdb "$pghost" "$1" >/dev/null && dbs="$dbs $1"
}
drop_dbs () {
	for d in $dbs; do
		$PGC dropdb "$pghost" "$d" >/dev/null 2>&1
	done
}
test_cleanup_add drop_dbs
psql_db () {
	db=$1
	shift
	$PGC psql "$pghost" "$db" -qtAX "$@"
}

# conf FILE STORE-ATTRIBUTES: a configuration with its own store and the
# pepper, audit key and signing key all of them share
conf () {
	cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<reverify>
  <log target="file" file="$TRASH/reverify.log" level="debug"/>
  <audit key="$TRASH/audit.key"/>
  <store pepper="$TRASH/pepper" $2/>
  $(instance_auth_)
</reverify>
EOF
}
db1=rvc_$$_a
db2=rvc_$$_b
{ newdb "$db1" && newdb "$db2"; } || bail_out "cannot create the databases"
conf bdb1.xml "home=\"$TRASH/bdb1\""
conf bdb2.xml "home=\"$TRASH/bdb2\""
conf pg.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"host=$pghost dbname=$db1 user=reverify\""
conf pg2.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"host=$pghost dbname=$db2 user=reverify\""
REVERIFY_CONFIG=$TRASH/bdb1.xml
export REVERIFY_CONFIG
PW='Tr0ub4dor&3 copy'

# dump CONFIG: users, live records (by handle), windows and the audit
# chain of a store, in a comparable form
dump () {
	admin -c "$1" user list | sort &&
	admin -c "$1" audit show --from 0 &&
	admin -c "$1" stats | jq -c '{users, liveRecords, windows, auditEntries}'
}

test_expect_success 'a Berkeley DB store with users, records, windows and a pruned chain' '
	expect_rc 0 admin init &&
	uid=$(printf "%s\n" "$PW" | admin user add --username alice \
		--email Alice@Example.com --phone 15550001 --password-stdin) &&
	admin user add --username bob --email bob@example.com >/dev/null &&
	sus=$(admin user add --username carol) &&
	admin user suspend "$sus" >/dev/null &&
	tok=$(mint "$uid") &&
	jq -cn --arg p "$PW" "{password: \$p}" >right.json &&
	jq -cn "{password: \"wrong\"}" >wrong.json &&
	run_cgi verification-password POST /api/verifications/password right.json \
		"HTTP_AUTHORIZATION=Bearer $tok" && check_status 201 &&
	json_get "$TRASH/body" .verificationRecordId >rec.id &&
	run_cgi verification-password POST /api/verifications/password wrong.json \
		"HTTP_AUTHORIZATION=Bearer $tok" && check_status 422 &&
	sleep 2 &&
	before=$(date -u -d "@$(($(date +%s) - 1))" +%Y-%m-%dT%H:%M:%SZ) &&
	expect_rc 0 admin audit prune --before "$before" &&
	grep "^pruned [1-9]" out &&
	admin user add --username dave >/dev/null &&
	expect_rc 0 admin stats &&
	jq -e ".users == 4 and .liveRecords == 1 and .windows >= 1" out &&
	expect_rc 0 admin audit verify && grep "pruned" out &&
	dump bdb1.xml >bdb1.dump
'

test_expect_success 'init on PostgreSQL creates the schema, once' '
	expect_rc 0 admin -c pg.xml init &&
	grep "created the reverify schema in the PostgreSQL database" out &&
	expect_rc 0 admin -c pg.xml init &&
	grep "nothing to do" out &&
	test "$(psql_db "$db1" -c "SELECT v FROM rv_meta WHERE k = '\''schema'\''")" = 1 &&
	expect_rc 0 admin -c pg.xml migrate &&
	grep "^the schema is up to date (version 1)$" out
'

test_expect_success 'store copy Berkeley DB -> PostgreSQL keeps everything, and the chain verifies' '
	expect_rc 0 admin store copy --to pg.xml &&
	grep "^copied 4 users, 1 live records, [1-9][0-9]* windows and [0-9]* audit entries (bdb to pgsql); the copy.s audit chain verifies$" out &&
	expect_rc 0 admin -c pg.xml audit verify &&
	dump pg.xml >pg.dump &&
	test_cmp bdb1.dump pg.dump &&
	test "$(admin -c pg.xml audit head)" = "$(admin audit head)"
'

test_expect_success 'the copy serves: the record, the password, and new entries chain on' '
	REVERIFY_CONFIG=$TRASH/pg.xml &&
	tok=$(mint "$uid") &&
	run_cgi my-account GET /api/my-account "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 200 && test "$(json_get "$TRASH/body" .username)" = alice &&
	run_cgi verification-records GET /api/verifications "HTTP_AUTHORIZATION=Bearer $tok" &&
	check_status 200 && test "$(json_get "$TRASH/body" "length")" = 1 &&
	run_cgi verification-password POST /api/verifications/password right.json \
		"HTTP_AUTHORIZATION=Bearer $tok" && check_status 201 &&
	REVERIFY_CONFIG=$TRASH/bdb1.xml &&
	expect_rc 0 admin -c pg.xml audit verify
'

test_expect_success 'store copy PostgreSQL -> Berkeley DB keeps everything' '
	mkdir -m 700 bdb2 &&
	expect_rc 0 admin -c bdb2.xml init &&
	expect_rc 0 admin -c pg.xml store copy --to bdb2.xml &&
	grep "(pgsql to bdb); the copy.s audit chain verifies$" out &&
	dump pg.xml >pg.dump2 &&
	dump bdb2.xml >bdb2.dump &&
	test_cmp pg.dump2 bdb2.dump &&
	expect_rc 0 admin -c bdb2.xml audit verify
'

test_expect_success 'store copy refuses a destination that is not empty' '
	expect_rc 1 admin store copy --to bdb2.xml &&
	grep "destination store is not empty" err
'

test_expect_success 'store copy refuses a destination with another pepper' '
	sed "s|$TRASH/pepper|$TRASH/pepper2|" pg2.xml >pg2b.xml &&
	expect_rc 0 admin -c pg2b.xml init &&
	expect_rc 1 admin store copy --to pg2b.xml &&
	grep "different peppers" err
'

test_expect_success 'store copy wants --to, and an initialised destination' '
	expect_rc 2 admin store copy &&
	grep "usage: reverify-admin store copy --to OTHER.xml" err &&
	conf nothing.xml "home=\"$TRASH/nothing\"" &&
	expect_rc 1 admin store copy --to nothing.xml &&
	grep "run reverify-admin -c nothing.xml init first" err
'

test_expect_success 'backup and recover on PostgreSQL say what to use instead' '
	expect_rc 1 admin -c pg.xml backup bk &&
	grep "pg_dump" err && test ! -e bk &&
	expect_rc 1 admin -c pg.xml recover &&
	grep "recovers by itself" err
'

test_expect_success 'a schema newer than the program is refused, by the programs too' '
	psql_db "$db1" -c "UPDATE rv_meta SET v = '\''99'\'' WHERE k = '\''schema'\''" &&
	expect_rc 1 admin -c pg.xml stats &&
	grep "schema (version 99) is newer than this program.s (1): upgrade reverify" err &&
	expect_rc 1 admin -c pg.xml migrate &&
	REVERIFY_CONFIG=$TRASH/pg.xml run_cgi status GET /api/status &&
	check_status 503 &&
	{ REVERIFY_CONFIG=$TRASH/pg.xml run_cgi my-account GET /api/my-account || :; } &&
	check_status 500 &&
	psql_db "$db1" -c "UPDATE rv_meta SET v = '\''1'\'' WHERE k = '\''schema'\''" &&
	expect_rc 0 admin -c pg.xml stats
'

test_expect_success 'a database without the schema: 503 and "run reverify-admin init"' '
	newdb "rvc_$$_c" &&
	sed "s|dbname=$db1|dbname=rvc_$$_c|" pg.xml >empty.xml &&
	expect_rc 1 admin -c empty.xml stats &&
	grep "no reverify schema: run reverify-admin init" err &&
	REVERIFY_CONFIG=$TRASH/empty.xml run_cgi status GET /api/status &&
	check_status 503 && grep -i "^Retry-After: " "$TRASH/headers"
'

test_expect_success 'a server that is not there: 503 with Retry-After' '
	sed "s|host=$pghost|host=$TRASH/nowhere|" pg.xml >down.xml &&
	expect_rc 1 admin -c down.xml stats &&
	grep "cannot connect to PostgreSQL" err &&
	REVERIFY_CONFIG=$TRASH/down.xml run_cgi status GET /api/status &&
	check_status 503 && grep -i "^Retry-After: " "$TRASH/headers" &&
	json_get "$TRASH/body" .code | grep -x service.unavailable
'

test_expect_success 'a password in the conninfo is refused, in either form' '
	conf pw1.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"host=$pghost dbname=$db1 password=secret\"" &&
	expect_rc 1 admin -c pw1.xml config check &&
	grep "holds a password" err && ! grep secret err &&
	conf pw2.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"postgresql://rv:secret@db.example/reverify\"" &&
	expect_rc 1 admin -c pw2.xml stats &&
	grep "holds a password" err &&
	conf pw3.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"PassWord = x dbname=a\"" &&
	expect_rc 1 admin -c pw3.xml stats &&
	conf nopw.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"postgresql://rv@db.example/reverify?sslmode=require\"" &&
	expect_rc 0 admin -c nopw.xml config check
'

test_expect_success 'config check warns of PostgreSQL over TCP without verified TLS' '
	grep "over TCP without sslmode=verify-full" err &&
	conf tls.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"host=db.example sslmode=verify-full dbname=r\"" &&
	expect_rc 0 admin -c tls.xml config check &&
	! grep "over TCP" err &&
	expect_rc 0 admin -c pg.xml config check &&
	! grep "over TCP" err &&
	conf bad.xml "home=\"$TRASH/pghome\" backend=\"pgsql\" conninfo=\"dbname=x nosuchkey=1\"" &&
	expect_rc 0 admin -c bad.xml config check &&
	grep "libpq cannot read <store conninfo>" err
'

test_expect_success 'backend="pgsql" needs a conninfo' '
	conf noci.xml "home=\"$TRASH/pghome\" backend=\"pgsql\"" &&
	expect_rc 1 admin -c noci.xml stats &&
	grep "needs conninfo" err
'

test_done
