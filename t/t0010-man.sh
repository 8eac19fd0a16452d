#!/bin/sh
# t0010-man: every man page in doc/ lints clean, renders without warnings,
# is named and installed as its .TH line says and points at pages that exist;
# reverify-admin(8) and reverify(7) cover every command, option and route
# The libraries are sourced from $top_srcdir (SC1091), which comes from the
# environment (SC2154); the test bodies are strings for eval (SC2016), so the
# variables set here for them look unused (SC2034) and the functions defined
# here for them unreachable (SC2317).
# shellcheck disable=SC1091,SC2016,SC2034,SC2154,SC2317
. "$top_srcdir/t/lib/test-lib.sh"

have_mandoc=
have_groff=
command -v mandoc >/dev/null 2>&1 && have_mandoc=1
command -v groff >/dev/null 2>&1 && have_groff=1

# man_list VAR: the words assigned to VAR (with = or +=) in Makefile.am
man_list () {
	awk -v var="$1" '
		{ line = line $0 }
		/\\$/ { sub(/\\$/, " ", line); next }
		{
			n = split(line, w, /[ \t]+/)
			if (w[1] == var && (w[2] == "=" || w[2] == "+="))
				for (i = 3; i <= n; i++)
					if (w[i] != "") print w[i]
			line = ""
		}' "$top_srcdir/Makefile.am"
}

pages=
for page in "$top_srcdir"/doc/*.[1-8]; do
	test -f "$page" && pages="$pages $page"
done
test -n "$pages" || bail_out "no man pages in $top_srcdir/doc"

for page in $pages; do
	name=${page##*/}
	sec=${name##*.}
	title=${name%.*}

	if test -n "$have_mandoc"; then
		test_expect_success "$name: mandoc -Tlint -W warning is clean" '
			rc=0 &&
			mandoc -Tlint -W warning "$page" >lint 2>&1 || rc=$? &&
			cat lint &&
			test "$rc" = 0 && test ! -s lint
		'
	else
		test_skip "$name: mandoc -Tlint -W warning is clean" \
			'mandoc not found (apt-get install mandoc)'
	fi

	if test -n "$have_groff"; then
		test_expect_success "$name: groff -ww -man prints no warning" '
			LC_ALL=C.UTF-8 groff -ww -man -Tutf8 -z "$page" >warn 2>&1 &&
			cat warn &&
			test ! -s warn
		'
	else
		test_skip "$name: groff -ww -man prints no warning" \
			'groff not found (apt-get install groff)'
	fi

	test_expect_success "$name: .TH names $title in section $sec" '
		th=$(sed -n "s/^\.TH  *\([^ ]*\)  *\([0-9]\).*/\1 \2/p" "$page") &&
		echo ".TH: $th" &&
		upper=$(printf "%s" "$title" | tr "[:lower:]" "[:upper:]") &&
		test "$th" = "$upper $sec"
	'

	test_expect_success "$name: installed by dist_man${sec}_MANS" '
		man_list "dist_man${sec}_MANS" >installed &&
		cat installed &&
		grep -qx "doc/$name" installed
	'

	test_expect_success "$name: SEE ALSO names only pages that exist" '
		sed -n "/^\.SH SEE ALSO/,/^\.SH/p" "$page" |
			sed -n "s/^\.BR \(reverify[^ ]*\) (\([0-9]\)).*/\1 \2/p" |
			sed "s/\\\\-/-/g" >refs &&
		cat refs &&
		missing= &&
		while read -r ref rsec; do
			test -f "$top_srcdir/doc/$ref.$rsec" ||
				missing="$missing doc/$ref.$rsec"
		done <refs &&
		test -z "$missing" || { echo "missing:$missing"; false; }
	'
done

# plain: a man page with the escapes that matter here undone (\- and fonts)
plain () {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' "$1"
}

admin=$top_builddir/src/reverify-admin
if test -x "$admin"; then
	test_expect_success 'reverify-admin(8) describes every command and option of --help' '
		"$admin" --help >usage &&
		plain "$top_srcdir/doc/reverify-admin.8" >page &&
		awk "/^commands:/ { on = 1; next } on && /^  [a-z]/" usage >commands &&
		test "$(wc -l <commands)" -ge 10 &&
		missing= &&
		while read -r cmd sub rest; do
			case $sub in
			[a-z]*) name="$cmd $sub" ;;
			*) name=$cmd rest="$sub $rest" ;;
			esac
			grep -q "^\.[BITQRP]* .*\<$name\>" page ||
				missing="$missing [$name]"
			for opt in $(printf "%s\n" "$rest" | grep -o -- "--[a-z-]*"); do
				grep -q -- "$opt\>" page || missing="$missing [$name $opt]"
			done
		done <commands &&
		for opt in $(sed -n "s/^  \(-[a-zA-Z]\) .*/\1/p" usage); do
			grep -q -- "^\.[BIR]* *\"*$opt\>" page || missing="$missing [$opt]"
		done &&
		test -z "$missing" || { echo "not in reverify-admin.8:$missing"; false; }
	'
else
	test_skip 'reverify-admin(8) describes every command and option of --help' \
		'src/reverify-admin is not built'
fi

status=$top_builddir/cgi-bin/status
if test -x "$status"; then
	test_expect_success 'reverify(7) describes every option of the programs' '
		"$status" -h >usage 2>&1; test -s usage &&
		plain "$top_srcdir/doc/reverify.7" >page &&
		missing= &&
		for opt in $(sed -n "s/^  \(-[a-zA-Z]\) .*/\1/p" usage); do
			grep -q -- "^\.[BIR]* *\"*$opt\>" page || missing="$missing $opt"
		done &&
		test "$(sed -n "s/^  \(-[a-zA-Z]\) .*/\1/p" usage | wc -l)" -ge 4 &&
		test -z "$missing" || { echo "not in reverify.7:$missing"; false; }
	'
else
	test_skip 'reverify(7) describes every option of the programs' \
		'cgi-bin/status is not built'
fi

test_expect_success 'reverify(7) names every route of cgi-bin/' '
	plain "$top_srcdir/doc/reverify.7" >page &&
	cat "$top_srcdir"/cgi-bin/*.c |
		sed -n "s/^	{ \"[A-Z]*\", \"\(\/api\/[^\"]*\)\".*/\1/p" |
		sed "s/:[a-z]*$//" | sort -u >routes &&
	test "$(wc -l <routes)" -ge 10 &&
	missing= &&
	while read -r route; do
		grep -q -- "$route" page || missing="$missing $route"
	done <routes &&
	test -z "$missing" || { echo "not in reverify.7:$missing"; false; }
'

test_done
