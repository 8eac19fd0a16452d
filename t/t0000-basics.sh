#!/bin/sh
# t0000-basics: the tree's own consistency: schema, sample, catalogs, man pages
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

test_expect_success 'conf/reverify.xsd is the one generated from the key table' '
	"$top_builddir/t/helper/conf-xsd" >generated.xsd &&
	test_cmp "$top_srcdir/conf/reverify.xsd" generated.xsd ||
	{ echo "conf/reverify.xsd is stale: run make update-xsd"; false; }
'

# section:attribute of every setting, from the generated schema
awk '/<xs:element name="[a-z0-9-]*" minOccurs/ { split($0, a, "\""); s = a[2] }
     /<xs:attribute name=/ { split($0, a, "\""); print s ":" a[2] }' \
	generated.xsd >keys

test_expect_success 'the key table has settings' '
	test "$(wc -l <keys)" -ge 9
'

test_expect_success 'the sample configuration shows every setting' '
	missing= &&
	while IFS=: read -r sec key; do
		sed -n "/<$sec /,/>/p" "$top_srcdir/conf/reverify.xml.sample" |
			grep -q " $key=\"" || missing="$missing $sec/$key"
	done <keys &&
	test -z "$missing" || { echo "not in the sample:$missing"; false; }
'

test_expect_success 'reverify.xml(5) describes every setting' '
	missing= &&
	while IFS=: read -r sec key; do
		sed -n "/^\.SS <$sec>/,/^\.S[SH]/p" "$top_srcdir/doc/reverify.xml.5" |
			grep -qE "^\.B[IR]* (.*[ \"])?$key( ?=| ?\")" ||
			missing="$missing $sec/$key"
	done <keys &&
	test -z "$missing" || { echo "not in reverify.xml.5:$missing"; false; }
'

if test -n "${XMLLINT-}"; then
	test_expect_success 'the sample validates against the schema' '
		"$XMLLINT" --noout --schema "$top_srcdir/conf/reverify.xsd" \
			"$top_srcdir/conf/reverify.xml.sample"
	'
	for f in "$top_srcdir"/conf/locale/*.xml; do
		test_expect_success "catalog ${f##*/} validates against catalog.xsd" '
			"$XMLLINT" --noout --schema "$top_srcdir/conf/locale/catalog.xsd" "$f"
		'
	done
else
	test_skip 'the sample and catalogs validate against their schemas' \
		'xmllint not found (apt-get install libxml2-utils)'
fi

test_expect_success 'every catalog has the codes of the English one, in order' '
	sed -n "s/.*<message code=\"\([^\"]*\)\".*/\1/p" \
		"$top_srcdir/conf/locale/en.xml" >en.codes &&
	test "$(wc -l <en.codes)" -ge 40 &&
	for l in de fr ja ko; do
		sed -n "s/.*<message code=\"\([^\"]*\)\".*/\1/p" \
			"$top_srcdir/conf/locale/$l.xml" >$l.codes &&
		test_cmp en.codes $l.codes || return 1
	done
'

test_expect_success 'placeholders are kept in every translation' '
	for l in de fr ja ko; do
		while read -r code; do
			for f in en $l; do
				grep "code=\"$code\"" "$top_srcdir/conf/locale/$f.xml" |
					grep -o "{{[a-zA-Z]*}}" | sort >$f.ph
			done &&
			test_cmp en.ph $l.ph || { echo "$l: $code"; return 1; }
		done <en.codes
	done
'

for page in "$top_srcdir"/doc/*.[1-9]; do
	name=${page##*/}
	if command -v mandoc >/dev/null 2>&1; then
		test_expect_success "man page $name is clean under mandoc -Tlint" '
			mandoc -Tlint -Wstyle "$page" >lint 2>&1 || true &&
			test ! -s lint || { cat lint; false; }
		'
	fi
	if command -v groff >/dev/null 2>&1; then
		test_expect_success "man page $name renders without groff warnings" '
			LC_ALL=C.UTF-8 groff -ww -z -man -Tutf8 "$page" 2>warn &&
			test ! -s warn || { cat warn; false; }
		'
	fi
done

# One status per error name (issue 15): every name a call site passes is
# in the table of src/rv-err.c, which gives its code and status.
test_expect_success 'every error name passed to rv_err_set is in the table of rv-err.c' '
	sed -n "s/^[[:space:]]*[EV](\\(\"[^\"]*\"\\|RV_E_[A-Z_]*\\),.*/\\1/p" \
		"$top_srcdir/src/rv-err.c" >names &&
	test "$(wc -l <names)" -ge 40 &&
	cat "$top_srcdir"/src/*.c "$top_srcdir"/cgi-bin/*.c | tr "\\n\\t" "  " |
		grep -oE "rv_err_set\\([^,]+, *(\"[^\"]*\"|RV_E_[A-Z_]+)" |
		sed "s/.*, *//" | sort -u >used &&
	test "$(wc -l <used)" -ge 30 &&
	missing= &&
	while read -r n; do
		case $n in
		RV_E_*)
			v=$(sed -n "s/^#define $n[[:space:]]*\\(\"[^\"]*\"\\).*/\\1/p" \
				"$top_srcdir/src/rv-err.h")
			grep -qx "$n" names || { test -n "$v" && grep -qxF "$v" names; } ||
				missing="$missing $n" ;;
		*) grep -qxF "$n" names || missing="$missing $n" ;;
		esac
	done <used &&
	test -z "$missing" || { echo "not in the table:$missing"; false; }
'

# a script that leaves two processes in its trash directory: one by its
# working directory, one by an open file
cat >t0000-leftover-probe.sh <<'EOF'
. "$top_srcdir/t/lib/test-lib.sh"
test_expect_success 'start two processes and leave them' '
	: >held &&
	{ sleep 300 & } &&
	echo $! >"$top_builddir/t/leftover-probe.pids" &&
	{ (cd / && exec sleep 301) 3<held & } &&
	echo $! >>"$top_builddir/t/leftover-probe.pids"
'
test_done
EOF

test_expect_success 'test_done fails a script that leaves a process running, and kills it' '
	{ sh ./t0000-leftover-probe.sh >probe.out 2>&1; rc=$?; } &&
	cat probe.out &&
	test "$rc" = 1 &&
	grep -q "^not ok 2 - no process of this script is left running" probe.out &&
	test "$(grep -c "^# left running: [0-9]* sleep 30[01]" probe.out)" = 2 &&
	grep -q "^1\.\.2$" probe.out &&
	(
		for p in $(cat "$top_builddir/t/leftover-probe.pids"); do
			test ! -d "/proc/$p" || { echo "$p still runs"; exit 1; }
		done
	)
'
rm -rf "$top_builddir/t/trash.t0000-leftover-probe" "$top_builddir/t/leftover-probe.pids"

test_done
