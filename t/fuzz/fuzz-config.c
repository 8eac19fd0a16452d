/* fuzz-config.c: reverify.xml, through the loader and its key table
 *
 * The input is the file's contents. rv_conf_load_memory() is the loader
 * rv_conf_load() uses after reading the file; a configuration that loads is
 * written back with rv_conf_dump(), loaded again, and must give the same
 * dump (the dump is documented as a reverify.xml document).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "rv.h"

static char path[4300];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	snprintf(path, sizeof(path), "%s/reverify.xml", fuzz_tmpdir());
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rv_conf conf, again;
	struct rv_buf d1 = RV_BUF_INIT, d2 = RV_BUF_INIT;
	struct rv_err err;

	rv_err_init(&err);
	if (rv_conf_load_memory(path, (const char *)data, size, &conf, &err) == 0) {
		rv_conf_dump(&conf, &d1);
		if (rv_conf_load_memory(path, d1.buf, d1.len, &again, &err) < 0) {
			fprintf(stderr, "the dump does not load again: %s\n%s",
				err.msg, d1.buf);
			abort();
		}
		rv_conf_dump(&again, &d2);
		if (d1.len != d2.len || memcmp(d1.buf, d2.buf, d1.len) != 0) {
			fprintf(stderr, "the dump changes when loaded again:\n%s\n"
				"----\n%s", d1.buf, d2.buf);
			abort();
		}
		rv_conf_release(&again);
	}
	rv_conf_release(&conf);
	rv_err_release(&err);
	rv_buf_release(&d1);
	rv_buf_release(&d2);
	return 0;
}
