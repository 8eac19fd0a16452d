/* rv-template.c: message templates (e-mail and SMS) and their rendering */
#include "config.h"
#include "rv-template.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "rv-err.h"
#include "rv-i18n.h"
#include "rv-util.h"
#include "rv-xml.h"

#define MAX_LANGS 32
#define MAX_SUBJECT 512		/* bytes of a subject template */
#define MAX_PART 65536		/* bytes of a text, html or sms template */

enum { P_SUBJECT, P_TEXT, P_HTML, P_SMS, NPARTS };
static const char *const part_names[NPARTS] = { "subject", "text", "html", "sms" };

#define NTYPES 9
#define T_GENERIC 3
static const char *const type_names[NTYPES] = {
	"UserPermissionValidation", "BindNewIdentifier", "BindMfa", "Generic",
	"PasswordChanged", "EmailChanged", "PhoneChanged", "UsernameChanged",
	"MfaChanged",
};

/* One language; part[t][P_SUBJECT] == NULL means the type is absent. */
struct tset {
	char lang[16];
	char *part[NTYPES][NPARTS];
};

static struct tset sets[MAX_LANGS];
static size_t nsets;
/* deferred (rv_setup_deferred): loaded by the first render */
static bool pending;
static char *pending_dir;

static int
type_index(const char *type)
{
	int t;

	for (t = 0; type != NULL && t < NTYPES; t++)
		if (strcmp(type_names[t], type) == 0)
			return t;
	return -1;
}

bool
rv_template_type_valid(const char *type)
{
	return type_index(type) >= 0;
}

static int
part_index(const xmlNode *n)
{
	int i;

	for (i = 0; i < NPARTS; i++)
		if (rv_xml_is(n, part_names[i]))
			return i;
	return -1;
}

static struct tset *
find_set(const char *lang)
{
	size_t i;

	for (i = 0; i < nsets; i++)
		if (rv_str_ieq(sets[i].lang, lang))
			return &sets[i];
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A copy of s without leading and trailing white space. */
static char *
trimmed(const char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return rv_xstrndup(s, n);
}

/* Length of a control character (C0, DEL, C1, U+2028, U+2029) at s, in
 * bytes; 0 when s starts with something else. */
static size_t
control_len(const unsigned char *s)
{
	if (*s < 0x20 || *s == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	return 0;
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if (control_len((const unsigned char *)s) > 0)
			return true;
	return false;
}

/* Reads one part (n is <subject>, <text>, <html> or <sms>) into *out. */
static int
load_part(xmlNode *n, int i, const char *type, char **out, struct rv_err *err)
{
	xmlChar *content;
	char *s;
	size_t len;

	if (n->properties != NULL)
		return rv_xml_error(err, n, "unknown attribute '%s' of <%s>",
				    (const char *)n->properties->name, part_names[i]);
	if (rv_xml_first(n) != NULL)
		return rv_xml_error(err, n, "<%s> holds text only (write HTML in a "
				    "CDATA section or escaped)", part_names[i]);
	content = xmlNodeGetContent(n);
	s = trimmed(content != NULL ? (const char *)content : "");
	xmlFree(content);
	len = strlen(s);
	if (len > (i == P_SUBJECT ? MAX_SUBJECT : MAX_PART)) {
		rv_xml_error(err, n, "<%s> of template '%s' is longer than %d bytes",
			     part_names[i], type,
			     i == P_SUBJECT ? MAX_SUBJECT : MAX_PART);
		goto fail;
	}
	if (len == 0 && i != P_HTML) {
		rv_xml_error(err, n, "<%s> of template '%s' is empty",
			     part_names[i], type);
		goto fail;
	}
	if (i == P_SUBJECT && has_control(s)) {
		rv_xml_error(err, n, "the subject of template '%s' must be one line "
			     "without control characters", type);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	free(s);
	return -1;
}

/* Reads the four parts of one <template>. */
static int
load_template(xmlNode *tn, const char *type, char **parts, struct rv_err *err)
{
	xmlNode *c = rv_xml_first(tn);
	int i, j;

	if (rv_xml_has_stray_text(tn))
		return rv_xml_error(err, tn, "text outside <subject>, <text>, <html> "
				    "and <sms> in template '%s'", type);
	for (i = 0; i < NPARTS; i++, c = rv_xml_next(c->next)) {
		if (c == NULL)
			return rv_xml_error(err, tn, "template '%s' has no <%s>",
					    type, part_names[i]);
		if ((j = part_index(c)) < 0)
			return rv_xml_error(err, c, "unknown element <%s> in template "
					    "'%s'; only <subject>, <text>, <html> "
					    "and <sms> are allowed",
					    (const char *)c->name, type);
		if (j < i)
			return rv_xml_error(err, c, "<%s> appears twice in template '%s'",
					    part_names[j], type);
		if (j > i)
			return rv_xml_error(err, c, "template '%s' has no <%s> before "
					    "<%s> (the order is subject, text, "
					    "html, sms)", type, part_names[i],
					    part_names[j]);
		if (load_part(c, i, type, &parts[i], err) < 0)
			return -1;
	}
	if (c != NULL) {
		if (part_index(c) >= 0)
			return rv_xml_error(err, c, "<%s> appears twice in template '%s'",
					    (const char *)c->name, type);
		return rv_xml_error(err, c, "unknown element <%s> in template '%s'; "
				    "only <subject>, <text>, <html> and <sms> "
				    "are allowed", (const char *)c->name, type);
	}
	return 0;
}

static void
free_parts(char *parts[NTYPES][NPARTS])
{
	int t, i;

	for (t = 0; t < NTYPES; t++)
		for (i = 0; i < NPARTS; i++) {
			free(parts[t][i]);
			parts[t][i] = NULL;
		}
}

/*
 * Loads one templates document; its templates replace those already loaded
 * for the same language and type. The whole file is checked before any of
 * it is used.
 */
static int
load_doc(xmlDoc *doc, const char *expect_lang, struct rv_err *err)
{
	xmlNode *root = xmlDocGetRootElement(doc), *n;
	char *parts[NTYPES][NPARTS] = { { NULL } };
	char lang[16];
	struct tset *s;
	xmlAttr *a;
	int rc = -1, t, i;

	if (rv_i18n_check_root(root, "templates", "template", expect_lang, lang,
			       sizeof(lang), err) < 0)
		return -1;
	for (n = rv_xml_first(root); n != NULL; n = rv_xml_next(n->next)) {
		xmlChar *type;

		if (!rv_xml_is(n, "template")) {
			rv_xml_error(err, n, "unknown element <%s>; only <template> is allowed",
				     (const char *)n->name);
			goto out;
		}
		for (a = n->properties; a != NULL; a = a->next)
			if (strcmp((const char *)a->name, "type") != 0) {
				rv_xml_error(err, n, "unknown attribute '%s' of <template>",
					     (const char *)a->name);
				goto out;
			}
		type = xmlGetNoNsProp(n, (const xmlChar *)"type");
		if (type == NULL) {
			rv_xml_error(err, n, "<template> needs type=\"...\"");
			goto out;
		}
		if ((t = type_index((const char *)type)) < 0) {
			rv_xml_error(err, n, "unknown template type '%s'",
				     (const char *)type);
			xmlFree(type);
			goto out;
		}
		xmlFree(type);
		if (parts[t][P_SUBJECT] != NULL) {
			rv_xml_error(err, n, "template '%s' appears twice", type_names[t]);
			goto out;
		}
		if (load_template(n, type_names[t], parts[t], err) < 0)
			goto out;
	}
	if ((s = find_set(lang)) == NULL) {
		if (nsets == MAX_LANGS) {
			rv_xml_error(err, root, "too many languages (at most %d)",
				     MAX_LANGS);
			goto out;
		}
		s = &sets[nsets++];
		memset(s, 0, sizeof(*s));
		rv_strlcpy(s->lang, lang, sizeof(s->lang));
		for (char *p = s->lang; *p; p++)
			*p = rv_ascii_lower(*p);
	}
	for (t = 0; t < NTYPES; t++) {
		if (parts[t][P_SUBJECT] == NULL)
			continue;
		for (i = 0; i < NPARTS; i++) {
			free(s->part[t][i]);
			s->part[t][i] = parts[t][i];
			parts[t][i] = NULL;
		}
	}
	rc = 0;
out:
	free_parts(parts);
	return rc;
}

static int
load_all(const char *overrides_dir, struct rv_err *err)
{
	struct tset *en;
	int t;

	if (rv_xml_each_builtin("templates/", load_doc, err) < 0)
		return -1;
	if ((en = find_set("en")) == NULL)
		return rv_err_set(err, RV_E_INTERNAL,
				  "the built-in English templates are missing");
	for (t = 0; t < NTYPES; t++)
		if (en->part[t][P_SUBJECT] == NULL)
			return rv_err_set(err, RV_E_INTERNAL,
					  "the built-in English template '%s' is missing",
					  type_names[t]);
	return rv_xml_each_lang_file(overrides_dir, "template", load_doc, err);
}

int
rv_template_init(const char *overrides_dir, struct rv_err *err)
{
	rv_template_release();
	if (rv_setup_deferred()) {
		/* parsing 35 templates was 13% of a CGI GET /api/my-account,
		 * which renders none */
		pending_dir = overrides_dir != NULL ? rv_xstrdup(overrides_dir) : NULL;
		pending = true;
		return 0;
	}
	return load_all(overrides_dir, err);
}

void
rv_template_release(void)
{
	size_t i;

	for (i = 0; i < nsets; i++)
		free_parts(sets[i].part);
	nsets = 0;
	free(pending_dir);
	pending_dir = NULL;
	pending = false;
}

/* ---- rendering ---------------------------------------------------------- */

/* Where rendered bytes go: counted only while buf is NULL. */
struct out {
	char *buf;
	size_t len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->buf != NULL)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

enum mode { M_RAW, M_SUBJECT, M_HTML };

static void
put_value(struct out *o, const char *v, enum mode mode)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n;

	if (v == NULL)
		return;
	if (mode == M_RAW) {
		put(o, v, strlen(v));
		return;
	}
	while (*p != '\0') {
		if (mode == M_SUBJECT) {
			if ((n = control_len(p)) > 0) {
				/* never past the NUL of a truncated sequence */
				while (n-- > 0 && *p != '\0')
					p++;
				continue;
			}
			put(o, (const char *)p++, 1);
			continue;
		}
		switch (*p) {
		case '&': put(o, "&amp;", 5); break;
		case '<': put(o, "&lt;", 4); break;
		case '>': put(o, "&gt;", 4); break;
		case '"': put(o, "&quot;", 6); break;
		case '\'': put(o, "&#39;", 5); break;
		default: put(o, (const char *)p, 1); break;
		}
		p++;
	}
}

static bool
js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static bool
js_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* If s starts a placeholder /{{\s*([\w.]+)\s*}}/, its length, with the name
 * in *name_r / *nlen_r; else 0. */
static size_t
placeholder(const char *s, const char **name_r, size_t *nlen_r)
{
	const char *p = s + 2;

	if (s[0] != '{' || s[1] != '{')
		return 0;
	while (js_space(*p))
		p++;
	*name_r = p;
	while (js_word(*p) || *p == '.')
		p++;
	if (p == *name_r)
		return 0;
	*nlen_r = (size_t)(p - *name_r);
	while (js_space(*p))
		p++;
	if (p[0] != '}' || p[1] != '}')
		return 0;
	return (size_t)(p + 2 - s);
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

/*
 * The value of a placeholder name ("user.username"), as Logto's
 * replaceSendMessageHandlebars: false when the root is not in the payload
 * (leave the placeholder as it is); else true with *value_r set, NULL for a
 * missing or non-string value (renders empty).
 */
static bool
lookup(const struct rv_template_vars *v, const char *name, size_t len,
       const char **value_r)
{
	static const struct {
		const char *name;
		size_t off;
	} scalars[] = {
		{ "code", offsetof(struct rv_template_vars, code) },
		{ "expiresInMinutes", offsetof(struct rv_template_vars, expires_in_minutes) },
		{ "locale", offsetof(struct rv_template_vars, locale) },
		{ "time", offsetof(struct rv_template_vars, time) },
	}, users[] = {
		{ "id", offsetof(struct rv_template_vars, user_id) },
		{ "username", offsetof(struct rv_template_vars, user_username) },
		{ "primaryEmail", offsetof(struct rv_template_vars, user_primary_email) },
		{ "primaryPhone", offsetof(struct rv_template_vars, user_primary_phone) },
		{ "name", offsetof(struct rv_template_vars, user_name) },
	}, apps[] = {
		{ "id", offsetof(struct rv_template_vars, app_id) },
		{ "name", offsetof(struct rv_template_vars, app_name) },
	};
	const char *dot = memchr(name, '.', len), *leaf;
	size_t rlen = dot ? (size_t)(dot - name) : len, llen, i;

#define FIELD(off) (*(const char *const *)(const void *)((const char *)v + (off)))
	*value_r = NULL;
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (name_is(name, rlen, scalars[i].name)) {
			if (dot == NULL)	/* "code.x": a leaf of a string */
				*value_r = FIELD(scalars[i].off);
			return true;
		}
	if (dot == NULL)
		leaf = NULL, llen = 0;
	else
		leaf = dot + 1, llen = len - rlen - 1;
	if (v->has_user && name_is(name, rlen, "user")) {
		for (i = 0; leaf != NULL && i < sizeof(users) / sizeof(users[0]); i++)
			if (name_is(leaf, llen, users[i].name))
				*value_r = FIELD(users[i].off);
		return true;
	}
	if (v->has_application && name_is(name, rlen, "application")) {
		for (i = 0; leaf != NULL && i < sizeof(apps) / sizeof(apps[0]); i++)
			if (name_is(leaf, llen, apps[i].name))
				*value_r = FIELD(apps[i].off);
		return true;
	}
#undef FIELD
	return false;
}

static void
render_into(struct out *o, const char *tpl, const struct rv_template_vars *v,
	    enum mode mode)
{
	const char *p = tpl, *name, *value;
	size_t n, nlen;

	while (*p != '\0') {
		if (p[0] == '{' && p[1] == '{' &&
		    (n = placeholder(p, &name, &nlen)) > 0) {
			if (lookup(v, name, nlen, &value))
				put_value(o, value, mode);
			else
				put(o, p, n);
			p += n;
			continue;
		}
		put(o, p++, 1);
	}
}

/* Renders into a buffer of the exact size, so that no copy of the code is
 * left behind by a realloc. */
static char *
render_part(const char *tpl, const struct rv_template_vars *v, enum mode mode)
{
	struct out o = { NULL, 0 };

	render_into(&o, tpl, v, mode);
	o.buf = rv_xmalloc(o.len + 1);
	o.len = 0;
	render_into(&o, tpl, v, mode);
	o.buf[o.len] = '\0';
	return o.buf;
}

/* The language set having type t for tag: exact, then base language. */
static struct tset *
find_with(const char *tag, int t)
{
	char base[16];
	struct tset *s;
	size_t n;

	if (tag == NULL || *tag == '\0')
		return NULL;
	if ((s = find_set(tag)) != NULL && s->part[t][P_SUBJECT] != NULL)
		return s;
	n = strcspn(tag, "-_");
	if (tag[n] == '\0' || n >= sizeof(base))
		return NULL;
	memcpy(base, tag, n);
	base[n] = '\0';
	if ((s = find_set(base)) != NULL && s->part[t][P_SUBJECT] != NULL)
		return s;
	return NULL;
}

int
rv_template_render(const char *type, const char *lang, const char *fallback,
		   const struct rv_template_vars *v, struct rv_message *m,
		   const char **lang_r, struct rv_err *err)
{
	int t = type_index(type), used;
	struct tset *s;

	RV_ASSERT(v != NULL && m != NULL);
	memset(m, 0, sizeof(*m));
	if (pending) {
		pending = false;
		if (load_all(pending_dir, err) < 0) {
			rv_template_release();
			return -1;
		}
	}
	if (t < 0)
		return rv_err_set(err, "connector.invalid_config",
				  "unknown template type '%s'", type ? type : "(null)");
	used = t;
	/* the shipped English templates are the last resort, as English is
	 * for the error messages: a <i18n fallback> without templates must
	 * not stop every message */
	if ((s = find_with(lang, t)) == NULL &&
	    (s = find_with(fallback, t)) == NULL) {
		used = T_GENERIC;
		if ((s = find_with(fallback, T_GENERIC)) == NULL &&
		    (used = t, s = find_with("en", t)) == NULL &&
		    (used = T_GENERIC, s = find_with("en", T_GENERIC)) == NULL)
			return rv_err_set(err, "connector.template_not_found",
					  "no template '%s' for '%s' nor for the "
					  "fallback '%s'", type_names[t],
					  lang ? lang : "", fallback ? fallback : "");
	}
	m->subject = render_part(s->part[used][P_SUBJECT], v, M_SUBJECT);
	m->text = render_part(s->part[used][P_TEXT], v, M_RAW);
	m->html = render_part(s->part[used][P_HTML], v, M_HTML);
	m->sms = render_part(s->part[used][P_SMS], v, M_RAW);
	if (lang_r != NULL)
		*lang_r = s->lang;
	return 0;
}

static void
wipe_free(char **p)
{
	if (*p != NULL) {
		rv_wipe(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void
rv_message_release(struct rv_message *m)
{
	wipe_free(&m->subject);
	wipe_free(&m->text);
	wipe_free(&m->html);
	wipe_free(&m->sms);
}

/* ---- SMS segments ------------------------------------------------------- */

/* Decodes one UTF-8 character at *p; -1 when invalid. */
static int32_t
utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	int32_t c;
	int n, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		c = p[0] & 0x1f, n = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		c = p[0] & 0x0f, n = 2;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		c = p[0] & 0x07, n = 3;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*pp = p + n + 1;
	return c;
}

/* Septets of c in GSM 03.38: 1 (default alphabet), 2 (extension table,
 * behind an escape), 0 (not encodable). */
static int
gsm7_cost(int32_t c)
{
	static const int32_t basic[] = {
		0x00a3, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7,
		0x00d8, 0x00f8, 0x00c5, 0x00e5, 0x0394, 0x03a6, 0x0393, 0x039b,
		0x03a9, 0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e, 0x00c6, 0x00e6,
		0x00df, 0x00c9, 0x00a4, 0x00a1, 0x00c4, 0x00d6, 0x00d1, 0x00dc,
		0x00a7, 0x00bf, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
	};
	size_t i;

	if (c == '\n' || c == '\r')
		return 1;
	if (c == '\f' || c == '^' || c == '{' || c == '}' || c == '\\' ||
	    c == '[' || c == '~' || c == ']' || c == '|' || c == 0x20ac)
		return 2;
	if (c >= 0x20 && c < 0x7f)
		return c == '`' ? 0 : 1;
	for (i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
		if (basic[i] == c)
			return 1;
	return 0;
}

int
rv_sms_segments(const char *utf8, bool *gsm7_r)
{
	const unsigned char *p;
	bool gsm7 = true;
	size_t total = 0, cur = 0, single, part;
	int32_t c;
	int parts = 1, cost;

	for (p = (const unsigned char *)utf8; *p != '\0';) {
		if ((c = utf8_next(&p)) < 0)
			return -1;
		if (gsm7_cost(c) == 0)
			gsm7 = false;
	}
	if (gsm7_r != NULL)
		*gsm7_r = gsm7;
	single = gsm7 ? 160 : 70;
	part = gsm7 ? 153 : 67;
	for (p = (const unsigned char *)utf8; *p != '\0';) {
		c = utf8_next(&p);
		cost = gsm7 ? gsm7_cost(c) : (c >= 0x10000 ? 2 : 1);
		total += (size_t)cost;
		if (cur + (size_t)cost > part) {
			parts++;
			cur = 0;
		}
		cur += (size_t)cost;
	}
	if (total == 0)
		return 0;
	return total <= single ? 1 : parts;
}
