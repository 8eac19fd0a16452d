#!/bin/sh
# t0020-security-map: doc/security.md, the map of the standards'
# requirements, names only tests that exist: every row has an allowed
# status and an id of its own, a "met" row names a test, a quoted test
# description occurs in the file it follows, and the tally adds up; a
# planted bad row of each kind is caught (issue 18)
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

MAP=$top_srcdir/doc/security.md
test -f "$MAP" || bail_out "no $MAP"

# map_rows FILE: the rows of FILE's requirement tables (those whose header
# is "| Id | Requirement | Status | Config | Test |"), one a line:
# LINE<TAB>ID<TAB>STATUS<TAB>TESTS, where STATUS is the status cell up to
# its first ":" (bold and HTML comments removed, lowercase) and TESTS the
# test cell; a row without five cells is printed with STATUS "(cells)"
map_rows () {
	awk '
		function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		{ line = $0; gsub(/<!--[^>]*-->/, "", line) }
		/^\|/ {
			n = split(line, c, "|")
			if (trim(c[2]) == "Id" && trim(c[3]) == "Requirement" &&
			    trim(c[4]) == "Status" && trim(c[5]) == "Config" &&
			    trim(c[6]) == "Test") { intable = 1; next }
			if (!intable || line ~ /^\|[ :|-]+$/) next
			if (n != 7) { printf "%d\t%s\t(cells)\t\n", NR, trim(c[2]); next }
			st = c[4]; gsub(/\*/, "", st); sub(/:.*/, "", st)
			printf "%d\t%s\t%s\t%s\n", NR, trim(c[2]), tolower(trim(st)), trim(c[6])
			next
		}
		{ intable = 0 }' "$1"
}

# check_map FILE: print each problem of FILE as FILE:LINE: ID: WHAT; fails
# when there is one. A test cell holds entries separated by ";", each a
# `path` (of a test under t/, read from $top_srcdir) and an optional
# "description" that must occur in that file.
check_map () {
	map_rows "$1" >"$TRASH/rows" || return 1
	test -s "$TRASH/rows" || { echo "$1: no requirement rows"; return 1; }
	awk -F '\t' -v map="$1" -v top="$top_srcdir" '
		# slurp PATH: the text of PATH; missing[PATH] is set when it
		# cannot be read
		function slurp(path,    l, t, r) {
			if (path in text) return text[path]
			t = ""
			while ((r = (getline l < path)) > 0) t = t l "\n"
			if (r < 0) missing[path] = 1
			close(path)
			return text[path] = t
		}
		function bad(what) { printf "%s:%d: %s: %s\n", map, $1, $2, what; nbad++ }
		BEGIN { q = sprintf("%c", 39) }
		{
			if ($3 == "(cells)") { bad("not five cells"); next }
			if ($3 != "met" && $3 != "partly" && $3 != "not met" && $3 != "not applicable")
				bad("status " q $3 q " is none of met, partly, not met, not applicable")
			if ($2 == "") bad("no id")
			if (++seen[$2] == 2) { printf "%s: id %s appears twice\n", map, q $2 q; nbad++ }
			n = split($4, entry, ";")
			named = 0
			for (i = 1; i <= n; i++) {
				if (!match(entry[i], /`[^`]*`/)) continue
				path = substr(entry[i], RSTART + 1, RLENGTH - 2)
				rest = substr(entry[i], RSTART + RLENGTH)
				named++
				if (path !~ /^t\//) { bad(q path q " is not a test under t/"); continue }
				t = slurp(top "/" path)
				if ((top "/" path) in missing) { bad("no test " path); continue }
				if (!match(rest, /"[^"]*"/)) continue
				desc = substr(rest, RSTART + 1, RLENGTH - 2)
				# a title in a shell test may spell an apostrophe as
				# quote, backslash, quote, quote
				k = split(desc, part, q)
				sh = part[1]
				for (j = 2; j <= k; j++) sh = sh q "\\" q q part[j]
				if (index(t, desc) == 0 && index(t, sh) == 0)
					bad("\"" desc "\" is not in " path)
			}
			if ($3 == "met" && named == 0) bad("met, but no test is named")
		}
		END { exit nbad > 0 }' "$TRASH/rows"
}

# check_tally FILE: FILE's line "Tally: N rows; A applicable: M met, P
# partly, Q not met; R not applicable." agrees with its rows
check_tally () {
	map_rows "$1" >"$TRASH/rows" || return 1
	ct_n_=$(wc -l <"$TRASH/rows")
	ct_met_=$(cut -f3 "$TRASH/rows" | grep -c -x 'met')
	ct_partly_=$(cut -f3 "$TRASH/rows" | grep -c -x 'partly')
	ct_not_=$(cut -f3 "$TRASH/rows" | grep -c -x 'not met')
	ct_na_=$(cut -f3 "$TRASH/rows" | grep -c -x 'not applicable')
	ct_want_="Tally: $ct_n_ rows; $((ct_n_ - ct_na_)) applicable: $ct_met_ met, $ct_partly_ partly, $ct_not_ not met; $ct_na_ not applicable."
	echo "the rows say: $ct_want_"
	grep -F -x -e "$ct_want_" "$1"
}

test_expect_success 'doc/security.md: every row has an allowed status, an id of its own and tests that exist, a met row names one, every quoted description is in its test' '
	check_map "$MAP"
'

test_expect_success 'doc/security.md: the tally line agrees with the rows' '
	check_tally "$MAP"
'

test_expect_success 'it has rows of each standard, and a closing list of gaps' '
	map_rows "$MAP" | cut -f2 >ids &&
	grep -q "^800-63B " ids && grep -q "^ASVS " ids && grep -q "^RFC 9470 " ids &&
	grep -q "^## Remaining gaps" "$MAP"
'

# check_defaults FILE: every `<element attribute="value">` that FILE quotes
# is set so in conf/reverify.xml.sample (comments removed, an element's
# attributes over several lines)
check_defaults () {
	grep -o '`<[a-z-]* [a-z-]*="[^"]*">`' "$1" | sed 's/^`<//; s/">`$//' |
		sort -u >"$TRASH/quoted" || return 1
	test -s "$TRASH/quoted" || { echo "$1 quotes no default"; return 1; }
	awk '
		FNR == NR { xml = xml $0 " "; next }
		!stripped {
			while ((i = index(xml, "<!--")) > 0) {
				rest = substr(xml, i + 4)
				xml = substr(xml, 1, i - 1) substr(rest, index(rest, "-->") + 3)
			}
			stripped = 1
		}
		{
			el = $1; eq = index($2, "=\"")
			attr = substr($2, 1, eq - 1); val = substr($2, eq + 2)
			found = 0; text = xml
			while ((i = index(text, "<" el " ")) > 0) {
				text = substr(text, i + length(el) + 1)
				tag = substr(text, 1, index(text, ">"))
				if (index(tag, " " attr "=\"" val "\"") > 0) found = 1
			}
			if (!found) { printf "<%s %s=\"%s\"> is not the sample'\''s default\n", el, attr, val; bad = 1 }
		}
		END { exit bad }' "$top_srcdir/conf/reverify.xml.sample" "$TRASH/quoted"
}

test_expect_success 'every default it quotes as <element attribute="value"> is the one of conf/reverify.xml.sample' '
	check_defaults "$MAP" &&
	wc -l <"$TRASH/quoted" &&
	grep -x "codes ttl=\"600" "$TRASH/quoted" &&
	grep -x "verification record-ttl=\"600" "$TRASH/quoted"
'

test_expect_success 'a default changed in a copy is caught' '
	sed "s/<codes ttl=\"600\">/<codes ttl=\"900\">/" "$MAP" >bad.md &&
	! check_defaults bad.md >problems &&
	cat problems &&
	grep -F "<codes ttl=\"900\"> is not the sample" problems
'

test_expect_success 'the log inventory names every <log target> of the schema, the audit trail and its retention' '
	sed -n "/<xs:element name=\"log\"/,/<\/xs:complexType>/p" "$top_srcdir/conf/reverify.xsd" |
		sed -n "/name=\"target\"/,/<\/xs:attribute>/p" |
		grep -o "enumeration value=\"[^\"]*\"" | sed "s/.*=\"//; s/\"$//" >targets &&
	test "$(wc -l <targets)" -ge 3 &&
	sed -n "/^### Log inventory/,/^##/p" "$MAP" >inventory &&
	while read -r t; do
		grep -q -F "target=\"$t\"" inventory || echo "no target=\"$t\""
	done <targets >missing &&
	cat targets missing && test ! -s missing &&
	grep -F "audit trail" inventory && grep -F "<audit retention=" inventory
'

# plant LINE: a copy of the map, bad.md, with LINE appended to its first
# requirement table (after its first row)
plant () {
	awk -v row="$1" '
		{ print }
		/^\| Id \| Requirement \| Status \| Config \| Test \|/ { h = NR }
		h && NR == h + 2 && !done { print row; done = 1 }' "$MAP" >bad.md
}

# caught LINE WHAT: check_map fails on the map with LINE planted, saying WHAT
caught () {
	plant "$1" &&
	if check_map bad.md >problems; then
		echo "not caught: $1"
		return 1
	fi &&
	cat problems &&
	grep -F -e "$2" problems
}

test_expect_success 'a planted row naming a test that does not exist is caught' '
	caught "| X-1 | planted | met | | \`t/e2e/t9999-nothing.sh\` |" "no test t/e2e/t9999-nothing.sh"
'

test_expect_success 'a planted met row that names no test is caught' '
	caught "| X-2 | planted | met: by reading | | |" "met, but no test is named"
'

test_expect_success 'a planted row with a status outside the four words is caught' '
	caught "| X-3 | planted | met (code) | | |" "status '\''met (code)'\'' is none of" &&
	caught "| X-4 | planted | mostly: yes | | \`t/t0000-basics.sh\` |" "status '\''mostly'\''"
'

test_expect_success 'a planted row whose id is already there is caught' '
	id=$(map_rows "$MAP" | sed -n 2p | cut -f2) &&
	caught "| $id | again | not met: planted | | |" "id '\''$id'\'' appears twice"
'

test_expect_success 'a planted row quoting a description its test does not have is caught' '
	caught "| X-5 | planted | met | | \`t/t0000-basics.sh\` \"a title nobody wrote\" |" "\"a title nobody wrote\" is not in t/t0000-basics.sh" &&
	caught "| X-6 | planted | met | | \`doc/security.md\` |" "is not a test under t/" &&
	caught "| X-7 | planted | met | |" "not five cells"
'

test_expect_success 'a planted row throws the tally off' '
	plant "| X-8 | planted | partly: planted | | |" &&
	! check_tally bad.md
'

test_done
