/* fuzz-util.h: what the libFuzzer targets in t/fuzz share */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Once: libxml2 set up, the log silenced (it would print one line per
 * rejected input). */
void fuzz_init(void);

/* A private directory made once under $TMPDIR (or /tmp) and removed with
 * everything in it at exit; targets write nowhere else. */
const char *fuzz_tmpdir(void);

/* Writes len bytes of data to name (a path under fuzz_tmpdir()), replacing
 * it; aborts when it cannot (that is a fault of the machine, not a find). */
void fuzz_write_file(const char *path, const void *data, size_t len);

/* A malloc'd NUL-terminated copy of n bytes. */
char *fuzz_strndup(const uint8_t *data, size_t n);

/* Splits the input at the first NUL byte: *a_r is the part before it (a
 * malloc'd string), *rest_r and *rest_len_r what follows (not copied; empty
 * when there is no NUL). */
void fuzz_split(const uint8_t *data, size_t size, char **a_r,
		const uint8_t **rest_r, size_t *rest_len_r);

/* Replaces a malloc'd string of a struct rv_conf. */
void fuzz_set_str(char **p, const char *v);

#endif
