/* rv-pwned.h: the breached-password index: a sorted file of SHA-1s, mmap'd */
#ifndef RV_PWNED_H
#define RV_PWNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct rv_err;

#define RV_PWNED_SHA1 20

/*
 * The index file (built by rv_pwned_build(), "reverify-admin pwned build"):
 *
 *   offset 0   8 bytes  magic "RVPWNED\n"
 *          8   4 bytes  version, 1 (little-endian)
 *         12   4 bytes  size of an entry, 20
 *         16   8 bytes  count of entries (little-endian)
 *         24   count entries of 20 bytes: SHA-1 digests, sorted in
 *              ascending byte order, no duplicates
 *
 * and nothing else: a file whose size is not 24 + 20 * count is refused,
 * so a truncated copy never serves. Every process maps it read-only and
 * shared (one copy in the page cache for all workers) and searches it by
 * bisection: about log2(count) comparisons, no loading.
 */
#define RV_PWNED_MAGIC "RVPWNED\n"
#define RV_PWNED_HEADER 24

struct rv_pwned;

/* Does the file at path start with RV_PWNED_MAGIC? (false when it cannot
 * be read: rv_pwned_open() then says why) */
bool rv_pwned_is_index(const char *path);

/*
 * Opens and maps the index at path and checks its header, its size and
 * the order of a sample of its entries. 0 with *idx_r (give it back with
 * rv_pwned_close()); -1 with err (500 internal_error) and err->msg
 * "'PATH': why" ("not a pwned index (bad magic)", "version 7, expected
 * 1", "truncated: N bytes, the header says M", "entries out of order").
 */
int rv_pwned_open(const char *path, struct rv_pwned **idx_r,
		  struct rv_err *err);
/* Unmaps and frees *idx, sets it to NULL; NULL is fine. */
void rv_pwned_close(struct rv_pwned **idx);
/* The number of entries. */
unsigned long long rv_pwned_count(const struct rv_pwned *idx);

/*
 * Is sha1 in the index? 1 yes, 0 no. First, when the file at the index's
 * path was replaced or changed since it was mapped (device, inode, size or
 * modification time), the new file is opened and replaces the mapping; a
 * new file that does not open keeps the old mapping, with a warning in the
 * log once per change. -1 (err) only when no mapping is left.
 */
int rv_pwned_lookup(struct rv_pwned *idx, const unsigned char sha1[RV_PWNED_SHA1],
		    struct rv_err *err);

/* Is s[0..len) (no line end) a SHA-1 line: 40 hex digits of either case,
 * alone or followed by ":count" (digits)? true with its digest in d. */
bool rv_pwned_sha1_line(const char *s, size_t len,
			unsigned char d[RV_PWNED_SHA1]);

/*
 * Builds an index at out from the text in in (named in_name in messages):
 * one SHA-1 a line as 40 hex digits of either case, alone or followed by
 * ":count" (the Have I Been Pwned downloads); a line end of LF or CR LF;
 * blank lines, lines starting with '#' and a UTF-8 byte order mark are
 * skipped. Input already in order (as the downloads are) is streamed in
 * constant memory; other input is sorted in memory (20 bytes an entry).
 * Duplicates are kept once. The index is written to a temporary file
 * beside out, flushed, then renamed over out, so a running service sees
 * either the old index or the new one.
 *
 * progress (may be NULL) is called with the lines read so far about every
 * million lines and once at the end.
 *
 * 0 with *count_r entries written; -1 with err->msg "IN:LINE: why" for a
 * bad line (not 40 hex digits, a bad count, a NUL byte) or "cannot ...
 * 'FILE': why"; out is then left as it was.
 */
int rv_pwned_build(FILE *in, const char *in_name, const char *out,
		   void (*progress)(unsigned long long lines, void *arg),
		   void *arg, unsigned long long *count_r, struct rv_err *err);

#endif
