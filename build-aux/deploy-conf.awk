# deploy-conf.awk: expand the route blocks of a deployment snippet (conf/*.in)
#
# Usage: awk -v routes=conf/endpoints -f build-aux/deploy-conf.awk FILE.in
# conf/endpoints is the one list of routes; every snippet takes its routes
# from it here, as tools/lighttpd-conf does for the tests and the demo.
# In FILE.in, the lines between a line "@for-each-route@" and a line "@end@"
# are repeated for each PROGRAM PREFIX pair of the routes file, in its order
# (most specific prefix first), with @PROGRAM@, @PREFIX@ (e.g.
# /api/my-account) and @PATH@ (the prefix without its leading slash)
# replaced; "@for-each-program@" blocks are repeated once per program with
# @PROGRAM@ replaced. On every line, @PROGRAMS_RE@ becomes the programs
# as one alternation (status|my-account|...). Everything else is copied;
# configure's directories
# (@rvexecdir@ ...) are left for sed in Makefile.am.
BEGIN {
	if (routes == "") {
		print "deploy-conf.awk: no routes file (-v routes=FILE)" > "/dev/stderr"
		exit 2
	}
	n = 0; np = 0
	while ((rc = (getline line < routes)) > 0) {
		sub(/#.*/, "", line)
		nf = split(line, f, /[ \t]+/)
		k = 0
		for (i = 1; i <= nf; i++)
			if (f[i] != "")
				w[++k] = f[i]
		if (k < 2)
			continue
		if (!(w[1] in seen)) {
			seen[w[1]] = 1
			prog[++np] = w[1]
			progs_re = progs_re (np > 1 ? "|" : "") w[1]
		}
		for (i = 2; i <= k; i++) {
			n++
			rprog[n] = w[1]
			rprefix[n] = w[i]
		}
	}
	if (rc < 0 || n == 0) {
		print "deploy-conf.awk: cannot read routes from " routes > "/dev/stderr"
		exit 2
	}
	mode = ""
}

function subst(s, program, prefix,    path) {
	path = prefix
	sub(/^\//, "", path)
	gsub(/@PROGRAM@/, program, s)
	gsub(/@PREFIX@/, prefix, s)
	gsub(/@PATH@/, path, s)
	return s
}

$0 == "@for-each-route@" || $0 == "@for-each-program@" {
	if (mode != "") {
		print FILENAME ":" FNR ": nested " $0 > "/dev/stderr"
		exit 2
	}
	mode = $0; nb = 0; start = FNR
	next
}

$0 == "@end@" {
	if (mode == "@for-each-route@") {
		for (r = 1; r <= n; r++)
			for (i = 1; i <= nb; i++)
				print subst(block[i], rprog[r], rprefix[r])
	} else if (mode == "@for-each-program@") {
		for (p = 1; p <= np; p++)
			for (i = 1; i <= nb; i++)
				print subst(block[i], prog[p], "")
	} else {
		print FILENAME ":" FNR ": @end@ without a block" > "/dev/stderr"
		exit 2
	}
	mode = ""
	next
}

{ gsub(/@PROGRAMS_RE@/, progs_re) }

mode != "" { block[++nb] = $0; next }

{ print }

END {
	if (mode != "") {
		print FILENAME ":" start ": " mode " without @end@" > "/dev/stderr"
		exit 2
	}
}
