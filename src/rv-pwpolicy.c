/* rv-pwpolicy.c: the policy a new password must meet (logto-spec 6.5.3) */
#include "config.h"
#include "rv-pwpolicy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "rv-conf.h"
#include "rv-crypto.h"
#include "rv-data.h"
#include "rv-err.h"
#include "rv-password.h"
#include "rv-pwned.h"
#include "rv-util.h"

#define SHA1_LEN 20
#define ISSUE "password_rejected."
#define BUILTIN "pwned-passwords.txt"	/* in rv_data_files */

/*
 * A byte that does not start a valid UTF-8 sequence is kept as one
 * "character" BAD_BYTE + byte: outside Unicode, so it equals no real
 * character, has no class and no case.
 */
#define BAD_BYTE 0x110000u

enum {
	CLASS_LOWER = 1 << 0,
	CLASS_UPPER = 1 << 1,
	CLASS_DIGIT = 1 << 2,
	CLASS_SYMBOL = 1 << 3,
	CLASS_OTHER = 1 << 4,	/* unsupported */
};

/* Runs along these count as sequences, in either direction. */
static const char *const sequences[] = {
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"1234567890",	/* the digits row of a keyboard */
	"qwertyuiop",
	"asdfghjkl",
	"zxcvbnm",
};

/* The loaded list: sorted SHA-1 digests without duplicates, or the mapped
 * index (rv-pwned.c) when <pwned-list> names one. */
static struct {
	unsigned char (*sha1)[SHA1_LEN];
	size_t n;
	struct rv_pwned *idx;
	bool loaded;
	bool pending;		/* deferred: load at the first check */
	char *path;		/* <pwned-list>, for the deferred load */
} pwned;

/* ---- characters ------------------------------------------------------- */

/* Decodes s into out (room for len characters); returns the count. */
static size_t
decode(const char *s, size_t len, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n = 0;
	long cp;

	while (p < end) {
		if ((cp = rv_utf8_next(&p, end)) < 0)
			out[n++] = BAD_BYTE + *p++;
		else
			out[n++] = (uint32_t)cp;
	}
	return n;
}

/*
 * Logto's four kinds, and Unicode beyond them (NIST SP 800-63B-4 3.1.1.2,
 * ASVS 6.2.5: any printing character is accepted): a non-ASCII character
 * counts as a symbol. Control characters (C0, DEL, C1) and bytes that are
 * not UTF-8 stay unsupported.
 */
static unsigned
class_of(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return CLASS_LOWER;
	if (c >= 'A' && c <= 'Z')
		return CLASS_UPPER;
	if (c >= '0' && c <= '9')
		return CLASS_DIGIT;
	if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c < BAD_BYTE))
		return CLASS_SYMBOL;
	return CLASS_OTHER;
}

/* ASCII case folding only, as everywhere else in the checks. */
static void
fold(uint32_t *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] >= 'A' && c[i] <= 'Z')
			c[i] += 'a' - 'A';
}

/* A folded copy of s[0..len) in a new array (caller must free()). With
 * drop_space, ASCII white space is left out. */
static uint32_t *
folded(const char *s, size_t len, bool drop_space, size_t *n_r)
{
	uint32_t *c = rv_xcalloc(len + 1, sizeof(*c));
	size_t i, j, n;

	n = decode(s, len, c);
	fold(c, n);
	if (drop_space) {
		for (i = j = 0; i < n; i++)
			if (c[i] != ' ' && (c[i] < '\t' || c[i] > '\r'))
				c[j++] = c[i];
		n = j;
	}
	*n_r = n;
	return c;
}

/* ---- coverage of the restricted.* issues ------------------------------ */

static size_t
count_marks(const bool *mark, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		count += mark[i];
	return count;
}

static void
set_marks(bool *mark, size_t from, size_t to)
{
	while (from < to)
		mark[from++] = true;
}

/* Characters in runs of three or more of the same character. */
static size_t
cover_repetition(const uint32_t *c, size_t n, bool *mark)
{
	size_t i, j;

	memset(mark, 0, n * sizeof(*mark));
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && c[j] == c[i]; j++)
			;
		if (j - i >= 3)
			set_marks(mark, i, j);
	}
	return count_marks(mark, n);
}

/* Is b the character after a (dir 1) or before it (dir -1) in seq? */
static bool
seq_step(const char *seq, uint32_t a, uint32_t b, int dir)
{
	const char *pa, *pb;

	if (a == 0 || b == 0 || a > 0x7f || b > 0x7f)
		return false;
	pa = strchr(seq, (int)a);
	pb = strchr(seq, (int)b);
	return pa != NULL && pb != NULL && pb - pa == dir;
}

/* Characters in runs of three or more along one of the sequences. */
static size_t
cover_sequence(const uint32_t *c, size_t n, bool *mark)
{
	size_t s, i, j;
	int dir;

	memset(mark, 0, n * sizeof(*mark));
	for (s = 0; s < sizeof(sequences) / sizeof(sequences[0]); s++) {
		for (dir = -1; dir <= 1; dir += 2) {
			for (i = 0; i < n; i = j) {
				for (j = i + 1; j < n &&
				     seq_step(sequences[s], c[j - 1], c[j], dir); j++)
					;
				if (j - i >= 3)
					set_marks(mark, i, j);
			}
		}
	}
	return count_marks(mark, n);
}

struct text {
	uint32_t *c;
	size_t n;
};

static void
text_add(struct text *t, size_t *nt, const char *s, size_t len, bool drop_space)
{
	t[*nt].c = folded(s, len, drop_space, &t[*nt].n);
	(*nt)++;
}

/* Does t contain the three characters at c? */
static bool
text_has3(const struct text *t, const uint32_t *c)
{
	size_t j;

	for (j = 0; j + 3 <= t->n; j++)
		if (t->c[j] == c[0] && t->c[j + 1] == c[1] && t->c[j + 2] == c[2])
			return true;
	return false;
}

/*
 * Characters in pieces of three or more that also occur in the user's
 * name, username, e-mail local part or phone: the union of every window of
 * three characters found in one of them.
 */
static size_t
cover_user_info(const uint32_t *c, size_t n, const struct rv_pw_userinfo *ui,
		bool *mark)
{
	struct text t[5];
	size_t nt = 0, i, k;
	const char *at;

	if (ui->name != NULL) {
		text_add(t, &nt, ui->name, strlen(ui->name), false);
		text_add(t, &nt, ui->name, strlen(ui->name), true);
	}
	if (ui->username != NULL)
		text_add(t, &nt, ui->username, strlen(ui->username), false);
	if (ui->email != NULL) {
		at = strrchr(ui->email, '@');
		text_add(t, &nt, ui->email,
			 at != NULL ? (size_t)(at - ui->email) : strlen(ui->email),
			 false);
	}
	if (ui->phone != NULL)
		text_add(t, &nt, ui->phone, strlen(ui->phone), false);

	memset(mark, 0, n * sizeof(*mark));
	for (i = 0; i + 3 <= n; i++)
		for (k = 0; k < nt; k++)
			if (text_has3(&t[k], c + i)) {
				set_marks(mark, i, i + 3);
				break;
			}
	for (k = 0; k < nt; k++)
		free(t[k].c);
	return count_marks(mark, n);
}

/* Characters in occurrences of the words of list (space-separated). */
static size_t
cover_words(const uint32_t *c, size_t n, const char *list, bool *mark)
{
	const char *p, *end;
	uint32_t *w;
	size_t m, i;

	memset(mark, 0, n * sizeof(*mark));
	for (p = list; p != NULL && *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		if (end == p)
			continue;
		w = folded(p, (size_t)(end - p), false, &m);
		for (i = 0; m > 0 && i + m <= n; i++)
			if (memcmp(c + i, w, m * sizeof(*w)) == 0)
				set_marks(mark, i, i + m);
		free(w);
	}
	return count_marks(mark, n);
}

/* ---- the pwned list --------------------------------------------------- */

static void
sha1(const void *data, size_t n, unsigned char out[SHA1_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_sha1(), NULL) != 1 ||
	    len != SHA1_LEN)
		rv_bug(__FILE__, __LINE__, "SHA-1 failed");
}

static int
cmp_sha1(const void *a, const void *b)
{
	return memcmp(a, b, SHA1_LEN);
}

/* One line (its end included): 1 with the digest in out, 0 to skip it,
 * -1 when it holds a NUL byte. */
static int
parse_line(const char *s, size_t len, bool first, unsigned char out[SHA1_LEN])
{
	if (first && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, len -= 3;
	if (memchr(s, '\0', len) != NULL)
		return -1;
	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	if (!rv_pwned_sha1_line(s, len, out))
		sha1(s, len, out);
	return 1;
}

void
rv_pwpolicy_release(void)
{
	rv_pwned_close(&pwned.idx);
	free(pwned.sha1);
	free(pwned.path);
	memset(&pwned, 0, sizeof(pwned));
}

/* The list being loaded. */
struct list {
	unsigned char (*v)[SHA1_LEN];
	size_t n, alloc;
};

/* Adds the entry of one line (its end included), if any; -1 with err on a
 * NUL byte. name is the file, for the message. */
static int
list_add(struct list *l, const char *s, size_t len, const char *name,
	 unsigned long lineno, struct rv_err *err)
{
	int r;

	if (l->n == l->alloc) {
		RV_ASSERT(l->alloc < SIZE_MAX / 2 / sizeof(*l->v));
		l->alloc = l->alloc ? 2 * l->alloc : 1024;
		l->v = rv_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	if ((r = parse_line(s, len, lineno == 1, l->v[l->n])) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "%s:%lu: NUL byte in line",
				  name, lineno);
	l->n += (size_t)r;
	return 0;
}

static int
load_file(struct list *l, const char *path, struct rv_err *err)
{
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "re")) == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "cannot read '%s': %s",
				  path, strerror(errno));
	while ((got = getline(&line, &cap, fp)) != -1)
		if (list_add(l, line, (size_t)got, path, ++lineno, err) < 0)
			goto out;
	if (ferror(fp)) {
		rv_err_set(err, RV_E_INTERNAL, "cannot read '%s': %s", path,
			   strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(fp);
	return rc;
}

/* The sample conf/pwned-passwords.txt compiled into the programs. */
static int
load_builtin(struct list *l, struct rv_err *err)
{
	const struct rv_data_file *f;
	unsigned long lineno = 0;
	const char *p, *end, *nl;

	for (f = rv_data_files; f->name != NULL; f++)
		if (strcmp(f->name, BUILTIN) == 0)
			break;
	if (f->name == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "no built-in '%s'", BUILTIN);
	for (p = f->data, end = f->data + f->len; p < end; p = nl) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		if (list_add(l, p, (size_t)(nl - p), "built-in " BUILTIN, ++lineno,
			     err) < 0)
			return -1;
	}
	return 0;
}

static int
load_pwned(const char *path, struct rv_err *err)
{
	struct list l = { NULL, 0, 0 };
	size_t i, j;
	int rc;

	if (path != NULL && *path != '\0' && rv_pwned_is_index(path)) {
		/* mapped, not loaded: one copy for every worker */
		if (rv_pwned_open(path, &pwned.idx, err) < 0)
			return -1;
		pwned.loaded = true;
		pwned.pending = false;
		return 0;
	}
	if (path == NULL || *path == '\0')
		rc = load_builtin(&l, err);
	else
		rc = load_file(&l, path, err);
	if (rc < 0) {
		free(l.v);
		return -1;
	}
	if (l.n > 0) {
		qsort(l.v, l.n, sizeof(*l.v), cmp_sha1);
		for (i = j = 1; i < l.n; i++)
			if (memcmp(l.v[i], l.v[j - 1], SHA1_LEN) != 0)
				memcpy(l.v[j++], l.v[i], SHA1_LEN);
		l.n = j;
	}
	pwned.sha1 = l.v;
	pwned.n = l.n;
	pwned.loaded = true;
	pwned.pending = false;
	return 0;
}

int
rv_pwpolicy_init(const struct rv_conf *conf, struct rv_err *err)
{
	rv_pwpolicy_release();
	if (!conf->pp_reject_pwned)
		return 0;
	if (rv_setup_deferred()) {
		/* hashing the list was 16% of a CGI GET /api/my-account */
		pwned.path = conf->pp_pwned_list != NULL ?
			rv_xstrdup(conf->pp_pwned_list) : NULL;
		pwned.pending = true;
		return 0;
	}
	return load_pwned(conf->pp_pwned_list, err);
}

/* 1 listed, 0 not, -1 err (the index is gone) */
static int
is_pwned(const char *password, size_t len, struct rv_err *err)
{
	unsigned char d[SHA1_LEN];
	int found;

	if (pwned.idx == NULL && pwned.n == 0)
		return 0;
	sha1(password, len, d);
	if (pwned.idx != NULL)
		found = rv_pwned_lookup(pwned.idx, d, err);
	else
		found = bsearch(d, pwned.sha1, pwned.n, SHA1_LEN, cmp_sha1) != NULL;
	rv_wipe(d, sizeof(d));
	return found;
}

/* ---- the check -------------------------------------------------------- */

static void
issue(json_t *issues, const char *code, const char *key, long long value)
{
	json_t *o;

	if (key != NULL)
		o = json_pack("{s:s, s:{s:I}}", "code", code, "interpolation",
			      key, (json_int_t)value);
	else
		o = json_pack("{s:s}", "code", code);
	RV_ASSERT(o != NULL);
	json_array_append_new(issues, o);
}

/* too_long in bytes: Logto's shape, with the unit said */
static void
issue_bytes(json_t *issues, long long max)
{
	json_t *o = json_pack("{s:s, s:{s:I, s:s}}", "code", ISSUE "too_long",
			      "interpolation", "max", (json_int_t)max,
			      "unit", "bytes");

	RV_ASSERT(o != NULL);
	json_array_append_new(issues, o);
}

int
rv_pwpolicy_check(const struct rv_conf *conf, const char *password,
		  size_t len, const struct rv_pw_userinfo *ui,
		  struct rv_err *err)
{
	char codes[160];	/* the eight codes take 134 */
	unsigned classes = 0, ntypes = 0;
	size_t n, i, limit, off;
	json_t *issues, *o;
	uint32_t *c;
	bool *mark;
	int listed = 0;

	if (conf->pp_reject_pwned && pwned.pending &&
	    load_pwned(pwned.path, err) < 0)
		return -1;
	if (conf->pp_reject_pwned && !pwned.loaded)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the pwned list is not loaded");
	if (conf->pp_reject_pwned &&
	    (listed = is_pwned(password, len, err)) < 0)
		return -1;

	c = rv_xcalloc(len + 1, sizeof(*c));
	mark = rv_xcalloc(len + 1, sizeof(*mark));
	n = decode(password, len, c);
	for (i = 0; i < n; i++)
		classes |= class_of(c[i]);
	for (i = 0; i < 4; i++)
		ntypes += (classes >> i) & 1;
	/* restricted.* issues need more than this many characters covered */
	limit = n > 4 ? n - 3 : 1;

	issues = json_array();
	RV_ASSERT(issues != NULL);
	if ((long long)n < conf->pp_min_length)
		issue(issues, ISSUE "too_short", "min", conf->pp_min_length);
	else if ((long long)n > conf->pp_max_length)
		issue(issues, ISSUE "too_long", "max", conf->pp_max_length);
	else if (conf->pw_scheme == RV_PW_BCRYPT && len > RV_BCRYPT_MAX)
		/* bcrypt would read only the first 72 bytes: no silent
		 * truncation (NIST SP 800-63B-4 3.1.1.2, ASVS 6.2.8) */
		issue_bytes(issues, RV_BCRYPT_MAX);
	if ((long long)ntypes < conf->pp_character_types)
		issue(issues, ISSUE "character_types", "min",
		      conf->pp_character_types);
	if (classes & CLASS_OTHER)
		issue(issues, ISSUE "unsupported_characters", NULL, 0);
	if (listed == 1)
		issue(issues, ISSUE "pwned", NULL, 0);

	fold(c, n);
	if (conf->pp_reject_repetition) {
		if (cover_repetition(c, n, mark) > limit)
			issue(issues, ISSUE "restricted.repetition", NULL, 0);
		if (cover_sequence(c, n, mark) > limit)
			issue(issues, ISSUE "restricted.sequence", NULL, 0);
	}
	if (conf->pp_reject_user_info && ui != NULL &&
	    cover_user_info(c, n, ui, mark) > limit)
		issue(issues, ISSUE "restricted.user_info", NULL, 0);
	if (cover_words(c, n, conf->pp_reject_words, mark) > limit)
		issue(issues, ISSUE "restricted.words", NULL, 0);

	rv_wipe(c, (len + 1) * sizeof(*c));
	rv_wipe(mark, (len + 1) * sizeof(*mark));
	free(c);
	free(mark);

	if (json_array_size(issues) == 0) {
		json_decref(issues);
		return 0;
	}
	/* the log line names the issues, never the password */
	off = 0;
	codes[0] = '\0';
	json_array_foreach(issues, i, o) {
		const char *code = json_string_value(json_object_get(o, "code"));

		off += (size_t)snprintf(codes + off, sizeof(codes) - off, "%s%s",
					i ? " " : "", code + strlen(ISSUE));
		if (off >= sizeof(codes))
			break;
	}
	rv_err_set(err, "password.rejected",
		   "new password rejected by the policy: %s", codes);
	if (err == NULL) {
		json_decref(issues);
		return -1;
	}
	if (err->data != NULL)
		json_decref(err->data);
	err->data = issues;
	return -1;
}
