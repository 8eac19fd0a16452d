/* doc-diff.h: the store's document reader (rv-store-doc.c) against
 * jansson on the same bytes; t/unit/store-doc and t/fuzz/fuzz-store-doc */
#ifndef DOC_DIFF_H
#define DOC_DIFF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rv-err.h"
#include "rv-store-int.h"

/* a real anywhere in j: the reader refuses those, jansson does not */
static bool
doc_diff_has_real(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(j))
		return true;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			if (doc_diff_has_real(v))
				return true;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (doc_diff_has_real(v))
				return true;
	}
	return false;
}

/* NULL when the reader and jansson agree on buf[len], else how not */
static const char *
doc_diff_member(const struct rv_doc *d, const char *k, json_t *v)
{
	const struct rv_doc_member *m = rv_store_doc_get(d, k);
	const char *why = NULL;
	char *s;

	if (m == NULL)
		return "a member jansson reads is missing";
	switch (json_typeof(v)) {
	case JSON_STRING:
		s = rv_store_doc_dup(d, k);
		if (s == NULL || strlen(s) != json_string_length(v) ||
		    strcmp(s, json_string_value(v)) != 0)
			why = "a string decodes differently";
		free(s);
		return why;
	case JSON_INTEGER:
		return m->type == RV_DOC_INT && m->num == json_integer_value(v) ?
		       NULL : "an integer differs";
	case JSON_TRUE:
		return m->type == RV_DOC_TRUE ? NULL : "true differs";
	case JSON_FALSE:
		return m->type == RV_DOC_FALSE ? NULL : "false differs";
	case JSON_NULL:
		return m->type == RV_DOC_NULL ? NULL : "null differs";
	case JSON_ARRAY: {
		long long ints[64];
		size_t i, n;

		if (m->type != RV_DOC_NESTED)
			return "an array differs";
		/* rv_store_doc_ints: each element as json_integer_value */
		n = rv_store_doc_ints(d, k, ints, 64);
		if (n != (json_array_size(v) < 64 ? json_array_size(v) : 64))
			return "an array's length differs";
		for (i = 0; i < n; i++)
			if (ints[i] != json_integer_value(json_array_get(v, i)))
				return "an array element differs";
		return NULL;
	}
	default:
		return m->type == RV_DOC_NESTED ? NULL : "a nested value differs";
	}
}

static const char *
doc_diff(const char *buf, size_t len)
{
	struct rv_doc d;
	struct rv_err err;
	const char *k, *why = NULL;
	json_t *j, *v;
	bool ours;

	rv_err_init(&err);
	ours = rv_store_doc_parse(buf, len, &d, &err) == 0;
	rv_err_release(&err);
	j = json_loadb(buf, len, 0, NULL);
	if (!ours) {
		if (j != NULL && json_is_object(j) &&
		    json_is_integer(json_object_get(j, "v")) &&
		    json_integer_value(json_object_get(j, "v")) == 1 &&
		    !doc_diff_has_real(j) && json_object_size(j) <= RV_DOC_MAX)
			why = "refuses what jansson reads";
	} else if (j == NULL || !json_is_object(j)) {
		why = "reads what jansson refuses";
	} else if (json_object_size(j) != d.n) {
		why = "the member count differs";
	} else {
		json_object_foreach(j, k, v)
			if ((why = doc_diff_member(&d, k, v)) != NULL)
				break;
	}
	if (ours)
		rv_store_doc_release(&d);
	if (j != NULL)
		json_decref(j);
	return why;
}

#endif
