/* fuzz-store-doc.c: the store's document reader (rv-store-doc.c) against
 * jansson: any input must be read by both alike (t/unit/doc-diff.h), or
 * refused by the reader where doc-diff.h says it may be */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz-util.h"
#include "../unit/doc-diff.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = doc_diff((const char *)data, size);

	if (why != NULL) {
		fprintf(stderr, "fuzz-store-doc: %s\n", why);
		abort();
	}
	return 0;
}
