/* rv-i18n.c: message catalogs and language negotiation */
#include "config.h"
#include "rv-i18n.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/tree.h>

#include "rv-buf.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"
#include "rv-xml.h"

#define MAX_LANGS 32
#define MAX_MESSAGE 1024	/* bytes of one message */

struct msg {
	char *code;
	char *text;
};

struct catalog {
	char lang[16];
	struct msg *msgs;
	size_t n, alloc;
};

static struct catalog catalogs[MAX_LANGS];
static size_t ncatalogs;

static void ensure_loaded(void);

size_t
rv_i18n_count(void)
{
	ensure_loaded();
	return ncatalogs;
}

bool
rv_i18n_lang_valid(const char *s)
{
	size_t i = 0, n;

	for (n = 0; s[i] >= 'a' && s[i] <= 'z'; i++, n++)
		;
	if (n < 2 || n > 3)
		return false;
	if (s[i] == '\0')
		return true;
	if (s[i++] != '-')
		return false;
	for (n = 0; (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'Z'); i++, n++)
		;
	return n >= 2 && n <= 8 && s[i] == '\0';
}

int
rv_i18n_check_root(xmlNode *root, const char *root_name, const char *child_name,
		   const char *expect_lang, char *lang_r, size_t size,
		   struct rv_err *err)
{
	xmlChar *lang;
	xmlAttr *a;
	int rc = -1;

	if (!rv_xml_is(root, root_name))
		return rv_xml_error(err, root, "the root element must be <%s>", root_name);
	for (a = root->properties; a != NULL; a = a->next)
		if (strcmp((const char *)a->name, "lang") != 0)
			return rv_xml_error(err, root, "unknown attribute '%s' of <%s>",
					    (const char *)a->name, root_name);
	lang = xmlGetNoNsProp(root, (const xmlChar *)"lang");
	if (lang == NULL || !rv_i18n_lang_valid((const char *)lang) ||
	    strlen((const char *)lang) >= size)
		rv_xml_error(err, root,
			     "<%s> needs lang=\"xx\" (a language tag like en or pt-br)",
			     root_name);
	else if (expect_lang != NULL && !rv_str_ieq((const char *)lang, expect_lang))
		rv_xml_error(err, root, "lang=\"%s\" does not match the file name",
			     (const char *)lang);
	else if (rv_xml_has_stray_text(root))
		rv_xml_error(err, root, "text outside <%s> elements", child_name);
	else {
		rv_strlcpy(lang_r, (const char *)lang, size);
		rc = 0;
	}
	xmlFree(lang);
	return rc;
}

static struct catalog *
find_catalog(const char *lang)
{
	size_t i;

	for (i = 0; i < ncatalogs; i++)
		if (rv_str_ieq(catalogs[i].lang, lang))
			return &catalogs[i];
	return NULL;
}

static struct msg *
find_msg(struct catalog *c, const char *code)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->msgs[i].code, code) == 0)
			return &c->msgs[i];
	return NULL;
}

static bool
valid_code(const char *s)
{
	if (*s == '\0' || strlen(s) > 96)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

/* Did an earlier <message> of this document have the same code? */
static bool
said_before(xmlNode *root, xmlNode *upto, const char *code)
{
	xmlNode *n;
	xmlChar *c;
	bool same;

	for (n = rv_xml_first(root); n != NULL && n != upto;
	     n = rv_xml_next(n->next)) {
		c = xmlGetNoNsProp(n, (const xmlChar *)"code");
		same = c != NULL && strcmp((const char *)c, code) == 0;
		xmlFree(c);
		if (same)
			return true;
	}
	return false;
}

/* Loads one catalog document; messages override those already loaded. */
static int
load_doc(xmlDoc *doc, const char *expect_lang, struct rv_err *err)
{
	xmlNode *root = xmlDocGetRootElement(doc), *n;
	char lang[16];
	xmlAttr *a;
	struct catalog *c;
	int rc = -1;

	if (rv_i18n_check_root(root, "catalog", "message", expect_lang, lang,
			       sizeof(lang), err) < 0)
		return -1;
	if ((c = find_catalog(lang)) == NULL) {
		if (ncatalogs == MAX_LANGS) {
			rv_xml_error(err, root, "too many languages (at most %d)",
				     MAX_LANGS);
			goto out;
		}
		c = &catalogs[ncatalogs++];
		memset(c, 0, sizeof(*c));
		rv_strlcpy(c->lang, lang, sizeof(c->lang));
		for (char *p = c->lang; *p; p++)
			*p = rv_ascii_lower(*p);
	}
	for (n = rv_xml_first(root); n != NULL; n = rv_xml_next(n->next)) {
		xmlChar *code, *text;
		struct msg *m;

		if (!rv_xml_is(n, "message")) {
			rv_xml_error(err, n, "unknown element <%s>; only <message> is allowed",
				     (const char *)n->name);
			goto out;
		}
		if (rv_xml_first(n) != NULL) {
			rv_xml_error(err, n, "<message> holds text only");
			goto out;
		}
		for (a = n->properties; a != NULL; a = a->next)
			if (strcmp((const char *)a->name, "code") != 0) {
				rv_xml_error(err, n, "unknown attribute '%s' of <message>",
					     (const char *)a->name);
				goto out;
			}
		code = xmlGetNoNsProp(n, (const xmlChar *)"code");
		if (code == NULL || !valid_code((const char *)code)) {
			rv_xml_error(err, n, "<message> needs code=\"a.code\" of [a-z0-9_.]");
			xmlFree(code);
			goto out;
		}
		text = xmlNodeGetContent(n);
		if (text == NULL || *text == '\0' ||
		    strlen((const char *)text) > MAX_MESSAGE) {
			rv_xml_error(err, n, "message '%s' is empty or longer than %d bytes",
				     (const char *)code, MAX_MESSAGE);
			xmlFree(code);
			xmlFree(text);
			goto out;
		}
		if (said_before(root, n, (const char *)code)) {
			rv_xml_error(err, n, "message '%s' appears twice",
				     (const char *)code);
			xmlFree(code);
			xmlFree(text);
			goto out;
		}
		/* a later file (an override) replaces the message */
		if ((m = find_msg(c, (const char *)code)) != NULL) {
			free(m->text);
		} else {
			if (c->n == c->alloc) {
				c->alloc = c->alloc ? c->alloc * 2 : 64;
				c->msgs = rv_xrealloc(c->msgs, c->alloc * sizeof(*c->msgs));
			}
			m = &c->msgs[c->n++];
			m->code = rv_xstrdup((const char *)code);
		}
		m->text = rv_xstrdup((const char *)text);
		xmlFree(code);
		xmlFree(text);
	}
	rc = 0;
out:
	return rc;
}

static int
load_all(const char *overrides_dir, struct rv_err *err)
{
	if (rv_xml_each_builtin("locale/", load_doc, err) < 0)
		return -1;
	if (find_catalog("en") == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the built-in English catalog is missing");
	return rv_xml_each_lang_file(overrides_dir, "catalog", load_doc, err);
}

/*
 * Deferred (rv_setup_defer: a CGI process): the catalogs are parsed when
 * a request first needs a language or a message. Parsing the five was a
 * quarter of a CGI GET /api/my-account, which needs neither. An override
 * file that fails then is logged and left out; -t and FastCGI still
 * refuse to start with it.
 */
static bool pending;
static char *pending_dir;

static void
ensure_loaded(void)
{
	struct rv_err err;

	if (!pending)
		return;
	pending = false;
	rv_err_init(&err);
	if (load_all(pending_dir, &err) < 0)
		rv_log_warnx("message catalogs: %s", err.msg);
	rv_err_release(&err);
	free(pending_dir);
	pending_dir = NULL;
}

int
rv_i18n_init(const char *overrides_dir, struct rv_err *err)
{
	rv_i18n_release();
	if (rv_setup_deferred()) {
		pending_dir = overrides_dir != NULL ? rv_xstrdup(overrides_dir) : NULL;
		pending = true;
		return 0;
	}
	return load_all(overrides_dir, err);
}

void
rv_i18n_release(void)
{
	size_t i, j;

	for (i = 0; i < ncatalogs; i++) {
		for (j = 0; j < catalogs[i].n; j++) {
			free(catalogs[i].msgs[j].code);
			free(catalogs[i].msgs[j].text);
		}
		free(catalogs[i].msgs);
	}
	ncatalogs = 0;
	free(pending_dir);
	pending_dir = NULL;
	pending = false;
}

/* The language we have for one tag: exact, then base language. */
static const char *
match_tag(const char *tag, size_t len)
{
	char buf[40];
	struct catalog *c;
	char *dash;

	if (len == 0 || len >= sizeof(buf))
		return NULL;
	memcpy(buf, tag, len);
	buf[len] = '\0';
	if ((c = find_catalog(buf)) != NULL)
		return c->lang;
	if ((dash = strchr(buf, '-')) != NULL || (dash = strchr(buf, '_')) != NULL) {
		*dash = '\0';
		if ((c = find_catalog(buf)) != NULL)
			return c->lang;
	}
	return NULL;
}

/* q-value "1", "0.5", "0.123" as thousandths; -1 when malformed. */
static int
parse_q(const char *s, size_t len)
{
	int q = 0, scale = 1000;
	size_t i;

	if (len == 0 || len > 5 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (s[1] != '.')
		return -1;
	for (i = 2; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		scale /= 10;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

#define MAX_RANGES 16

/*
 * Walks an Accept-Language list (RFC 9110 12.5.4), with whitespace allowed
 * around every token (the Logto changeset 'khaki-moons-repeat', spec 9), and
 * returns the best language we have, or NULL.
 */
static const char *
pick(const char *list)
{
	struct {
		const char *tag;
		size_t len;
		int q, pos;
	} r[MAX_RANGES];
	int n = 0, i, j, best;
	const char *p = list;

	while (*p != '\0' && n < MAX_RANGES) {
		const char *tag, *end;
		int q = 1000;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		tag = p;
		while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		while (*p == ';') {
			const char *v;

			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q')) {
				const char *e = p + 1;

				while (*e == ' ' || *e == '\t')
					e++;
				if (*e == '=') {
					e++;
					while (*e == ' ' || *e == '\t')
						e++;
					v = e;
					while (*e && *e != ';' && *e != ',' && *e != ' ' && *e != '\t')
						e++;
					q = parse_q(v, (size_t)(e - v));
					p = e;
				}
			}
			while (*p && *p != ';' && *p != ',')
				p++;
		}
		while (*p && *p != ',')
			p++;
		if (q > 0) {
			r[n].tag = tag;
			r[n].len = (size_t)(end - tag);
			r[n].q = q;
			r[n].pos = n;
			n++;
		}
	}
	/* highest q first, the header's order among equals */
	for (i = 0; i < n; i++) {
		best = i;
		for (j = i + 1; j < n; j++)
			if (r[j].q > r[best].q ||
			    (r[j].q == r[best].q && r[j].pos < r[best].pos))
				best = j;
		if (best != i) {
			__typeof__(r[0]) t = r[i];

			r[i] = r[best];
			r[best] = t;
		}
		{
			const char *lang = match_tag(r[i].tag, r[i].len);

			if (lang != NULL)
				return lang;
		}
	}
	return NULL;
}

const char *
rv_i18n_negotiate(const char *query_locale, const char *accept_language,
		  const char *fallback)
{
	const char *lang = NULL;
	struct catalog *c;

	ensure_loaded();
	if (query_locale != NULL && *query_locale != '\0')
		lang = pick(query_locale);
	if (lang == NULL && accept_language != NULL && *accept_language != '\0')
		lang = pick(accept_language);
	if (lang == NULL && fallback != NULL && (c = find_catalog(fallback)) != NULL)
		lang = c->lang;
	if (lang == NULL)
		lang = "en";
	return lang;
}

const char *
rv_i18n_message(const char *lang, const char *code)
{
	struct catalog *c;
	struct msg *m;

	ensure_loaded();
	if ((c = find_catalog(lang)) != NULL && (m = find_msg(c, code)) != NULL)
		return m->text;
	if ((c = find_catalog("en")) != NULL && (m = find_msg(c, code)) != NULL)
		return m->text;
	return NULL;
}

static void
render_minutes(const char *lang, const char *count, struct rv_buf *out)
{
	const char *tpl = rv_i18n_message(lang, strcmp(count, "1") == 0 ?
					  "time.in_minutes.one" :
					  "time.in_minutes.other");
	const char *p;

	if (tpl == NULL) {
		rv_buf_addf(out, "in %s minutes", count);
		return;
	}
	while ((p = strstr(tpl, "{{count}}")) != NULL) {
		rv_buf_add(out, tpl, (size_t)(p - tpl));
		rv_buf_addstr(out, count);
		tpl = p + 9;
	}
	rv_buf_addstr(out, tpl);
}

void
rv_i18n_render(const char *lang, const struct rv_err *err, struct rv_buf *out)
{
	const char *tpl = rv_i18n_message(lang, err->code);
	const char *p, *open, *close;

	if (tpl == NULL) {
		rv_buf_addstr(out, err->code);
		return;
	}
	p = tpl;
	while ((open = strstr(p, "{{")) != NULL &&
	       (close = strstr(open + 2, "}}")) != NULL) {
		const char *name = open + 2;
		size_t nlen = (size_t)(close - name);
		int i;

		while (nlen > 0 && *name == ' ')
			name++, nlen--;
		while (nlen > 0 && name[nlen - 1] == ' ')
			nlen--;
		rv_buf_add(out, p, (size_t)(open - p));
		for (i = 0; i < err->nvars; i++)
			if (strlen(err->vars[i].name) == nlen &&
			    memcmp(err->vars[i].name, name, nlen) == 0)
				break;
		if (i == err->nvars)
			rv_buf_add(out, open, (size_t)(close + 2 - open));
		else if (err->vars[i].minutes)
			render_minutes(lang, err->vars[i].value, out);
		else
			rv_buf_addstr(out, err->vars[i].value);
		p = close + 2;
	}
	rv_buf_addstr(out, p);
}
