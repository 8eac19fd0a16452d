/* import.c: reverify-admin user import: users from JSON lines */
#include "config.h"
#include "admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rv-buf.h"
#include "rv-import.h"
#include "rv-store.h"
#include "rv-util.h"

/* ---- user import ------------------------------------------------------ */

struct import {
	struct admin *a;
	bool dry_run;
	long line;
	long imported, failed;
	json_t *seen;		/* --dry-run: "kind:folded value" -> line */
};

static int __attribute__((format(printf, 2, 3)))
line_error(struct import *im, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	im->failed++;
	return error("line %ld: %s", im->line, what);
}

/* Reads one line of at most max bytes (without the newline) into b: 1 a
 * line, 2 a longer line (skipped), 0 the end, -1 a read error. */
static int
read_line(FILE *f, size_t max, struct rv_buf *b)
{
	bool over = false, any = false;
	int ch;

	rv_buf_reset(b);
	while ((ch = getc(f)) != EOF && ch != '\n') {
		any = true;
		if (b->len < max)
			rv_buf_addch(b, (char)ch);
		else
			over = true;
	}
	if (ferror(f))
		return -1;
	if (ch == EOF && !any)
		return 0;
	return over ? 2 : 1;
}

/* Parses and checks one non-blank line; *root_r holds the strings of in. */
static int
parse_line(struct import *im, const struct rv_buf *b, json_t **root_r,
	   struct user_input *in)
{
	char why[300];

	if (rv_import_parse_line(b->buf, b->len, root_r, in->v, why,
				 sizeof(why)) < 0)
		return line_error(im, "%s", why);
	in->mfa = json_object_get(*root_r, "mfaVerifications");
	return 0;
}

/* --dry-run: is a key of this user also in an earlier good line? */
static int
seen_before(struct import *im, const struct user_input *in)
{
	static const struct {
		enum field f;
		int key;	/* enum rv_user_key; -1: compared as it is */
		const char *code;
	} keys[] = {
		{ F_ID, -1, "user.id_already_in_use" },
		{ F_USERNAME, RV_USER_KEY_USERNAME, "user.username_already_in_use" },
		{ F_EMAIL, RV_USER_KEY_EMAIL, "user.email_already_in_use" },
		{ F_PHONE, RV_USER_KEY_PHONE, "user.phone_already_in_use" },
	};
	char *k[4];
	json_t *prev = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *v = in->v[keys[i].f];
		/* as the store's indexes compare them */
		char *folded = v == NULL ? NULL : keys[i].key < 0 ? rv_xstrdup(v) :
			       rv_store_fold((enum rv_user_key)keys[i].key, v);

		k[i] = v ? rv_xasprintf("%d:%s", keys[i].f, folded) : NULL;
		free(folded);
		if (prev != NULL || k[i] == NULL ||
		    (prev = json_object_get(im->seen, k[i])) == NULL)
			continue;
		line_error(im, "%s: the value is used by line %lld already",
			   keys[i].code, (long long)json_integer_value(prev));
	}
	for (i = 0; i < 4; i++) {
		if (prev == NULL && k[i] != NULL)
			json_object_set_new(im->seen, k[i], json_integer(im->line));
		free(k[i]);
	}
	return prev != NULL ? -1 : 0;
}

/* Imports (or with --dry-run, checks) one parsed line. */
static int
import_user(struct import *im, struct user_input *in)
{
	struct admin *a = im->a;
	char what[sizeof(a->err.msg) + 64];
	const char *given = in->v[F_ID];
	json_t *out;
	int rc;

	if (new_id(a, in) < 0) {
		im->failed++;
		return -1;
	}
	if (im->dry_run) {
		rc = check_user(a, in);
		if (rc == 0 && seen_before(im, in) < 0)
			return -1;
	} else {
		rc = create_user(a, in, "user.imported");
	}
	if (rc < 0) {
		describe_err(&a->err, what, sizeof(what));
		rv_err_release(&a->err);
		return line_error(im, "%s", what);
	}
	im->imported++;
	out = json_pack("{s:o, s:o}", "id", im->dry_run && given == NULL ?
			json_null() : json_string(in->v[F_ID]),
			"username", in->v[F_USERNAME] ? json_string(in->v[F_USERNAME]) :
			json_null());
	print_json(out);
	json_decref(out);
	return 0;
}

static bool
blank(const struct rv_buf *b)
{
	return strspn(b->buf, " \t\r") == b->len;
}

static int
import_stream(struct import *im, FILE *f)
{
	struct rv_buf b = RV_BUF_INIT;
	struct user_input in;
	json_t *root;
	int r;

	while ((r = read_line(f, RV_IMPORT_LINE_MAX, &b)) > 0) {
		im->line++;
		if (r == 2) {
			line_error(im, "longer than %zu KiB", RV_IMPORT_LINE_MAX / 1024);
			continue;
		}
		if (blank(&b))
			continue;
		memset(&in, 0, sizeof(in));
		if (parse_line(im, &b, &root, &in) == 0)
			import_user(im, &in);
		json_decref(root);
	}
	rv_buf_release(&b);
	return r;
}

static int
import_opts(struct admin *a, int argc, char **argv, bool *dry_r)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'n')
			return EXIT_USAGE;
		else
			*dry_r = true;
	return want_args(a, argc, argv, 1, 1);
}

int
cmd_user_import(struct admin *a, int argc, char **argv)
{
	struct import im = { a, false, 0, 0, 0, NULL };
	const char *src;
	FILE *f;
	int rc;

	if ((rc = import_opts(a, argc, argv, &im.dry_run)) != EXIT_OK)
		return rc;
	src = argv[optind];
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((f = strcmp(src, "-") == 0 ? stdin : fopen(src, "re")) == NULL)
		return fail("cannot open '%s': %s", src, strerror(errno));
	im.seen = json_object();
	if (import_stream(&im, f) < 0)
		rc = fail("cannot read '%s': %s", src, strerror(errno));
	if (f != stdin)
		fclose(f);
	json_decref(im.seen);
	if (!a->quiet && im.dry_run)
		fprintf(stderr, "%s: dry run: %ld would be imported, %ld failed; "
			"nothing written\n", PROG, im.imported, im.failed);
	else if (!a->quiet)
		fprintf(stderr, "%s: %ld imported, %ld failed\n", PROG, im.imported,
			im.failed);
	return rc == EXIT_OK && im.failed == 0 ? EXIT_OK : EXIT_FAIL;
}
