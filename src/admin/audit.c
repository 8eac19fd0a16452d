/* audit.c: reverify-admin audit show, verify, head and prune */
#include "config.h"
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rv-buf.h"
#include "rv-store.h"
#include "rv-util.h"

/* ---- audit show ------------------------------------------------------- */

struct show_ctx {
	struct rv_buf out;
	long long last;		/* the last sequence number collected */
};

static int
show_one(json_t *entry, void *vctx)
{
	struct show_ctx *c = vctx;
	long long seq = json_integer_value(json_object_get(entry, "_key"));
	char *s;

	if (seq <= c->last)	/* the walk was retried: start again */
		rv_buf_reset(&c->out);
	c->last = seq;
	json_object_del(entry, "_key");
	s = json_dumps(entry, JSON_COMPACT);
	RV_ASSERT(s != NULL);
	rv_buf_addstr(&c->out, s);
	rv_buf_addch(&c->out, '\n');
	free(s);
	return 0;
}

int
cmd_audit_show(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_ctx c = { RV_BUF_INIT, 0 };
	long long from = 1;
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'f')
			return EXIT_USAGE;
		else if (rv_parse_ll(optarg, 0, 9223372036854775807LL, &from) < 0)
			return usage_error(a, "--from wants an entry number (0: the prune anchor first)");
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_audit_each(a->st, from, show_one, &c, &a->err) < 0)
		rc = fail_err(&a->err);
	else
		fwrite(c.out.buf, 1, c.out.len, stdout);
	rv_buf_release(&c.out);
	return rc;
}

/* ---- audit: verify, head, prune ----------------------------------------- */

/* SEQ:HASH (64 lowercase hex digits), as "audit head" prints it */
static int
parse_head(const char *s, long long *seq_r, char hash[65])
{
	const char *colon = strchr(s, ':');
	char num[24];
	size_t i;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(num) || strlen(colon + 1) != 64)
		return -1;
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	if (rv_parse_ll(num, 0, 9223372036854775807LL, seq_r) < 0)
		return -1;
	for (i = 0; i < 64; i++)
		if (!((colon[1 + i] >= '0' && colon[1 + i] <= '9') ||
		      (colon[1 + i] >= 'a' && colon[1 + i] <= 'f')))
			return -1;
	memcpy(hash, colon + 1, 65);
	return 0;
}

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ": epoch ms */
static int
parse_date(const char *s, long long *ms_r)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end + 1, "%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || tm.tm_year < 70)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms_r = (long long)t * 1000;
	return 0;
}

static void
print_date(long long ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", ms);
}

int
cmd_audit_verify(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "head", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct rv_audit_check c;
	const char *why;
	char when[32];
	int ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1)
		if (ch != 'H')
			return EXIT_USAGE;
		else if (parse_head(optarg, &c.head_seq, c.head_hash) < 0 || c.head_seq < 1)
			return usage_error(a, "--head wants SEQ:HASH as 'audit head' prints it");
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if ((rc = rv_store_audit_check(a->st, &c, &a->err)) < 0)
		return fail_err(&a->err);
	if (rc == 1) {
		note(a, "audit chain intact: %lld entries", c.count);
		if (c.anchor_seq > 0) {
			print_date(c.anchor_ts, when, sizeof(when));
			note(a, "pruned up to entry %lld on %s", c.anchor_seq, when);
		}
		if (c.head_seq > 0)
			note(a, "the expected head %lld is in the chain", c.head_seq);
		if (c.unkeyed > 0 && c.keyed == 0 && c.count > 0)
			warning("the audit chain is not keyed (plain SHA-256): whoever "
				"can write the store can rewrite it; see <audit key>");
		else if (c.unkeyed > 0)
			note(a, "%lld entries before the audit key (plain SHA-256), "
			     "%lld keyed", c.unkeyed, c.keyed);
		return EXIT_OK;
	}
	/* err->msg: "audit chain broken: entry N: why" */
	if ((why = strstr(a->err.msg, ": entry ")) != NULL &&
	    (why = strchr(why + 8, ':')) != NULL)
		why += 2;
	else
		why = a->err.msg;
	return fail("audit chain broken at entry %lld: %s", c.bad_seq, why);
}

int
cmd_audit_head(struct admin *a, int argc, char **argv)
{
	long long seq;
	char hash[65];
	int rc;

	if ((rc = plain_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	if (rv_store_audit_head(a->st, &seq, hash, &a->err) < 0)
		return fail_err(&a->err);
	printf("%lld:%s\n", seq, hash);
	return EXIT_OK;
}

static void
prune_progress(long long done, long long total, void *ctx)
{
	fprintf(stderr, "\r%s: pruned %lld of %lld audit entries", PROG, done, total);
}

int
audit_prune(struct admin *a, long long before_ms)
{
	bool tty = isatty(STDERR_FILENO) && !a->quiet;
	long long n = 0;
	char when[32];
	int rc;

	rc = rv_store_audit_prune(a->st, before_ms, tty ? prune_progress : NULL, NULL,
				  &n, &a->err);
	if (tty && n > 0)
		fputc('\n', stderr);
	if (rc < 0)
		return error_err(&a->err);
	print_date(before_ms, when, sizeof(when));
	note(a, "pruned %lld audit entries written before %s", n, when);
	return 0;
}

int
cmd_audit_prune(struct admin *a, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "before", required_argument, NULL, 'b' },
		{ "keep-days", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	long long before = 0, days = -1, now = rv_store_now();
	int ch, rc;

	while ((ch = cmd_getopt(a, argc, argv, lo)) != -1) {
		if (ch == 'b') {
			if (parse_date(optarg, &before) < 0)
				return usage_error(a, "--before wants a date, YYYY-MM-DD "
						   "or YYYY-MM-DDTHH:MM:SSZ (UTC)");
		} else if (ch == 'k') {
			if (rv_parse_ll(optarg, 1, 36500, &days) < 0)
				return usage_error(a, "--keep-days wants a number of days "
						   "from 1 to 36500");
		} else {
			return EXIT_USAGE;
		}
	}
	if ((rc = want_args(a, argc, argv, 0, 0)) != EXIT_OK)
		return rc;
	if (before > 0 && days >= 0)
		return usage_error(a, "give --before or --keep-days, not both");
	if (before == 0 && days < 0) {
		if (a->conf.audit_retention == 0)
			return usage_error(a, "<audit retention> is 0 (keep forever): "
					   "give --before or --keep-days");
		days = a->conf.audit_retention;
	}
	if (days >= 0)
		before = now - days * 86400000LL;
	if (before > now)
		return usage_error(a, "--before is in the future");
	if (open_store(a, false) < 0)
		return EXIT_FAIL;
	return audit_prune(a, before) < 0 ? EXIT_FAIL : EXIT_OK;
}
