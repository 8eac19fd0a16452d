/* rv-xml.c: libxml2 wrappers: safe parsing, element walking, file:line errors */
#include "config.h"
#include "rv-xml.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "rv-data.h"
#include "rv-err.h"
#include "rv-util.h"

/*
 * No network, no entity substitution (XML_PARSE_NOENT stays off), no DTD
 * loading or validation, no XInclude, bounded by libxml2's default limits
 * (no XML_PARSE_HUGE). Errors are collected, not printed.
 */
#define PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOERROR | \
		     XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static char parse_error[256];

static void
collect_error(void *ctx, xmlErrorPtr e)
{
	size_t n;

	(void)ctx;
	if (parse_error[0] != '\0' || e == NULL || e->level < XML_ERR_ERROR)
		return;
	snprintf(parse_error, sizeof(parse_error), "%s:%d: %s",
		 e->file ? e->file : "(xml)", e->line,
		 e->message ? e->message : "parse error");
	n = strlen(parse_error);
	while (n > 0 && (parse_error[n - 1] == '\n' || parse_error[n - 1] == ' '))
		parse_error[--n] = '\0';
}

void
rv_xml_init(void)
{
	xmlInitParser();
	xmlSetStructuredErrorFunc(NULL, collect_error);
}

static int
finish(xmlDoc *doc, const char *name, xmlDoc **doc_r, struct rv_err *err)
{
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		if (doc != NULL)
			xmlFreeDoc(doc);
		if (parse_error[0] == '\0')
			snprintf(parse_error, sizeof(parse_error),
				 "%s: not an XML document", name);
		return rv_err_set(err, RV_E_INTERNAL, "%s", parse_error);
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return rv_err_set(err, RV_E_INTERNAL,
				  "%s: a DOCTYPE is not allowed", name);
	}
	*doc_r = doc;
	return 0;
}

int
rv_xml_read_file(const char *path, xmlDoc **doc_r, struct rv_err *err)
{
	parse_error[0] = '\0';
	return finish(xmlReadFile(path, NULL, PARSE_FLAGS), path, doc_r, err);
}

int
rv_xml_read_memory(const char *name, const char *data, size_t len,
		   xmlDoc **doc_r, struct rv_err *err)
{
	parse_error[0] = '\0';
	if (len > (size_t)0x7fffffff)
		return rv_err_set(err, RV_E_INTERNAL, "%s: too large", name);
	return finish(xmlReadMemory(data, (int)len, name, NULL, PARSE_FLAGS),
		      name, doc_r, err);
}

xmlNode *
rv_xml_next(xmlNode *node)
{
	for (; node != NULL; node = node->next)
		if (node->type == XML_ELEMENT_NODE)
			return node;
	return NULL;
}

xmlNode *
rv_xml_first(xmlNode *parent)
{
	return parent ? rv_xml_next(parent->children) : NULL;
}

bool
rv_xml_is(const xmlNode *node, const char *name)
{
	return node != NULL && node->ns == NULL &&
	       strcmp((const char *)node->name, name) == 0;
}

bool
rv_xml_has_stray_text(const xmlNode *node)
{
	const xmlNode *c;
	const xmlChar *p;

	for (c = node->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE)
			continue;
		for (p = c->content; p && *p; p++)
			if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				return true;
	}
	return false;
}

int
rv_xml_error(struct rv_err *err, const xmlNode *node, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return rv_err_set(err, RV_E_INTERNAL, "%s:%ld: %s",
			  node && node->doc && node->doc->URL ?
			  (const char *)node->doc->URL : "(xml)",
			  node ? (long)xmlGetLineNo(node) : 0L, what);
}

int
rv_xml_each_builtin(const char *prefix, rv_xml_lang_fn *fn, struct rv_err *err)
{
	const struct rv_data_file *f;
	size_t plen = strlen(prefix);

	for (f = rv_data_files; f->name != NULL; f++) {
		size_t len = strlen(f->name);
		xmlDoc *doc;
		int rc;

		if (strncmp(f->name, prefix, plen) != 0 || len < 4 ||
		    strcmp(f->name + len - 4, ".xml") != 0)
			continue;
		if (rv_xml_read_memory(f->name, f->data, f->len, &doc, err) < 0)
			return -1;
		rc = fn(doc, NULL, err);
		xmlFreeDoc(doc);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
rv_xml_each_lang_file(const char *dir, const char *what, rv_xml_lang_fn *fn,
		      struct rv_err *err)
{
	struct dirent **names;
	int n, i, rc = 0;

	if (dir == NULL || *dir == '\0')
		return 0;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return rv_err_set(err, RV_E_INTERNAL,
				  "cannot read the %s directory '%s': %s",
				  what, dir, strerror(errno));
	}
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char lang[16], *path;
		xmlDoc *doc;

		if (rc == 0 && len > 4 && len - 4 < sizeof(lang) &&
		    strcmp(name + len - 4, ".xml") == 0) {
			memcpy(lang, name, len - 4);
			lang[len - 4] = '\0';
			path = rv_xasprintf("%s/%s", dir, name);
			if (rv_xml_read_file(path, &doc, err) < 0) {
				rc = -1;
			} else {
				rc = fn(doc, lang, err);
				xmlFreeDoc(doc);
			}
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}
