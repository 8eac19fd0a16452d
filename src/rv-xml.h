/* rv-xml.h: libxml2 wrappers: safe parsing, element walking, file:line errors */
#ifndef RV_XML_H
#define RV_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>

struct rv_err;

/* Once per process, before any other XML call (rv_main does it). */
void rv_xml_init(void);

/*
 * Parses a file (or memory, name used in messages) with no network access,
 * no entity expansion, no DTD loading and no XInclude. 0 on success with
 * *doc_r set (caller frees with xmlFreeDoc); -1 with err->msg holding
 * "name:line: what" from the parser.
 */
int rv_xml_read_file(const char *path, xmlDoc **doc_r, struct rv_err *err);
int rv_xml_read_memory(const char *name, const char *data, size_t len,
		       xmlDoc **doc_r, struct rv_err *err);

/* Loads one document; expect_lang is the LANG of a LANG.xml file, or NULL
 * for a built-in one. */
typedef int rv_xml_lang_fn(xmlDoc *doc, const char *expect_lang,
			   struct rv_err *err);
/* Calls fn for each built-in data file (rv-data.h) whose name starts with
 * prefix ("locale/") and ends in ".xml"; stops at the first -1. */
int rv_xml_each_builtin(const char *prefix, rv_xml_lang_fn *fn,
			struct rv_err *err);
/* Calls fn for each LANG.xml in dir, in name order (other files are
 * ignored; a missing dir has none); what names the directory's purpose in
 * an error. Stops at the first -1. */
int rv_xml_each_lang_file(const char *dir, const char *what,
			  rv_xml_lang_fn *fn, struct rv_err *err);

/* The next element sibling (skips text, comments); NULL at the end.
 * Start with rv_xml_first(parent). */
xmlNode *rv_xml_first(xmlNode *parent);
xmlNode *rv_xml_next(xmlNode *node);
bool rv_xml_is(const xmlNode *node, const char *name);
/* Non-whitespace text directly inside an element (not in a child)? */
bool rv_xml_has_stray_text(const xmlNode *node);
/* Reports "file:line: fmt" into err->msg (status 500, internal) and
 * returns -1. */
int rv_xml_error(struct rv_err *err, const xmlNode *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
