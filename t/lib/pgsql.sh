# pgsql.sh: a PostgreSQL cluster of a test script's own, for the tests
# that stop and start it (which must not disturb the scripts sharing the
# cluster of make check-pgsql) or that run without one
# shellcheck shell=sh disable=SC2154 # top_srcdir, top_builddir come from test-lib.sh
#
# Sourced after test-lib.sh:
#	. "$top_srcdir/t/lib/pgsql.sh"
#	require_pgsql
#	pgsql_own_cluster || bail_out "no PostgreSQL cluster"
#	INSTANCE_STORE=$(pgsql_store_line "$TRASH/store" rvfaults) &&
#	setup_instance ...
#	pgsql rvfaults -c 'SELECT 1'

PGCLUSTER=$top_srcdir/t/lib/pgcluster

# require_pgsql: skip the script unless the build has PostgreSQL support
# (HAVE_PGSQL in config.h) and a cluster can run here (pgcluster check:
# the PostgreSQL binaries, and as root the postgres user)
require_pgsql () {
	grep -q '^#define HAVE_PGSQL 1' "$top_builddir/config.h" 2>/dev/null ||
		skip_all "built without PostgreSQL support (no HAVE_PGSQL in config.h)"
	rp_why_=$(sh "$PGCLUSTER" check 2>&1 >/dev/null) ||
		skip_all "no PostgreSQL to run: ${rp_why_#pgcluster: error: }"
}

# pgsql_own_cluster: start a throw-away cluster of this script (pgcluster
# start, in a new /tmp/rvpg.XXXXXX), its socket directory in PGDIR
# (exported). It is stopped and removed at the end of the script whatever
# happens (the cleanup is added before the start), and its server's
# processes count as the script's (test_watch_dir), so that test_done
# finds one left running.
pgsql_own_cluster () {
	PGDIR=$(mktemp -d /tmp/rvpg.XXXXXX) || return 1
	PGDIR=$(cd "$PGDIR" && pwd -P) || return 1
	export PGDIR
	test_cleanup_add "pgsql_remove_cluster_ '$PGDIR'"
	test_watch_dir "$PGDIR"
	sh "$PGCLUSTER" start "$PGDIR" >/dev/null
}

# pgsql_remove_cluster_ DIR: stop (-m immediate) and remove the cluster
# in DIR, or DIR alone when it holds none (a cleanup)
pgsql_remove_cluster_ () {
	if test -f "$1/.pgcluster"; then
		sh "$PGCLUSTER" stop "$1"
	fi
	rm -rf "$1"
}

# pgsql_stop: a clean shutdown (pg_ctl stop -m fast) of the cluster of
# pgsql_own_cluster that keeps its data; pgsql_start starts it again
pgsql_stop () {
	sh "$PGCLUSTER" stop --keep "$PGDIR"
}

pgsql_start () {
	sh "$PGCLUSTER" start "$PGDIR" >/dev/null
}

# pgsql_store_line HOME DB: create the empty database DB in the cluster of
# pgsql_own_cluster and print the <store> element of a store in HOME on it
# (as store_line_ writes it under REVERIFY_TEST_STORE=pgsql)
pgsql_store_line () {
	sh "$PGCLUSTER" createdb "$PGDIR" "$2" >&2 || return 1
	printf '<store home="%s" backend="pgsql" conninfo="host=%s dbname=%s user=reverify" statement-timeout="5000"/>\n' \
		"$1" "$PGDIR" "$2"
}

# pgsql DB [PSQL ARGUMENTS...]: psql as reverify to DB in the cluster of
# pgsql_own_cluster (unaligned, tuples only: one value a line)
pgsql () {
	ps_db_=$1
	shift
	sh "$PGCLUSTER" psql "$PGDIR" "$ps_db_" -A -t "$@"
}
