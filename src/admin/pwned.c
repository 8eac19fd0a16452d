/* pwned.c: reverify-admin pwned build: the index behind
 * <password-policy pwned-list> */
#include "config.h"
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rv-pwned.h"

/* On a terminal: the lines read so far, on one line rewritten in place. */
static void
progress(unsigned long long lines, void *arg)
{
	(void)arg;
	fprintf(stderr, "\r%s: pwned build: %llu lines read", PROG, lines);
	fflush(stderr);
}

int
cmd_pwned_build(struct admin *a, int argc, char **argv)
{
	const char *in_name, *out;
	unsigned long long n = 0;
	bool tty = isatty(2);
	FILE *in;
	int rc;

	if ((rc = plain_args(a, argc, argv, 2, 2)) != EXIT_OK)
		return rc;
	in_name = argv[optind];
	out = argv[optind + 1];
	if (strcmp(in_name, "-") == 0) {
		in = stdin;
		in_name = "standard input";
	} else if ((in = fopen(in_name, "re")) == NULL) {
		return fail("cannot read '%s': %s", in_name, strerror(errno));
	}
	rc = rv_pwned_build(in, in_name, out, tty && !a->quiet ? progress : NULL,
			    NULL, &n, &a->err);
	if (tty && !a->quiet)
		fputc('\n', stderr);
	if (in != stdin)
		fclose(in);
	if (rc < 0)
		return fail_err(&a->err);
	note(a, "built '%s': %llu entries", out, n);
	return EXIT_OK;
}
