/* rv-pwned.c: the breached-password index: a sorted file of SHA-1s, mmap'd */
#include "config.h"
#include "rv-pwned.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

#define INDEX_VERSION 1
#define SAMPLES 64		/* entries whose order rv_pwned_open() checks */
#define CHUNK (1u << 16)	/* entries written at a time when streaming */
#define PROGRESS_EVERY 1000000ull

struct map {
	const unsigned char *base;	/* the whole file */
	size_t size;
	unsigned long long n;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
};

struct rv_pwned {
	char *path;
	struct map m;
	struct timespec bad_mtime;	/* of a replacement that did not open */
	ino_t bad_ino;
};

static uint64_t
get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0)
		v = v << 8 | p[bytes];
	return v;
}

static void
put_le(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

bool
rv_pwned_is_index(const char *path)
{
	char magic[8];
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	got = read(fd, magic, sizeof(magic));
	close(fd);
	return got == (ssize_t)sizeof(magic) &&
	       memcmp(magic, RV_PWNED_MAGIC, sizeof(magic)) == 0;
}

static const unsigned char *
entry(const struct map *m, unsigned long long i)
{
	return m->base + RV_PWNED_HEADER + i * RV_PWNED_SHA1;
}

/* Checks what was mapped: header, size, the order of a sample. */
static int
map_check(const struct map *m, const char *path, struct rv_err *err)
{
	const unsigned char *h = m->base;
	unsigned long long n, i, prev = 0;
	uint64_t version, esize;

	if (m->size < RV_PWNED_HEADER ||
	    memcmp(h, RV_PWNED_MAGIC, 8) != 0)
		return rv_err_set(err, RV_E_INTERNAL,
				  "'%s': not a pwned index (bad magic)", path);
	version = get_le(h + 8, 4);
	esize = get_le(h + 12, 4);
	n = get_le(h + 16, 8);
	if (version != INDEX_VERSION)
		return rv_err_set(err, RV_E_INTERNAL,
				  "'%s': pwned index version %llu, expected %d",
				  path, (unsigned long long)version, INDEX_VERSION);
	if (esize != RV_PWNED_SHA1)
		return rv_err_set(err, RV_E_INTERNAL,
				  "'%s': entries of %llu bytes, expected %d",
				  path, (unsigned long long)esize, RV_PWNED_SHA1);
	if (n > (SIZE_MAX - RV_PWNED_HEADER) / RV_PWNED_SHA1 ||
	    m->size != RV_PWNED_HEADER + n * RV_PWNED_SHA1)
		return rv_err_set(err, RV_E_INTERNAL,
				  "'%s': truncated or damaged: %zu bytes, the header "
				  "says %llu entries", path, m->size, n);
	/* a sample, spread over the file: a file that was not built by
	 * rv_pwned_build() fails here rather than answering wrongly */
	for (i = 1; n > 1 && i <= SAMPLES; i++) {
		unsigned long long at = (n - 1) * i / SAMPLES;

		if (at > prev && memcmp(entry(m, prev), entry(m, at),
					RV_PWNED_SHA1) >= 0)
			return rv_err_set(err, RV_E_INTERNAL,
					  "'%s': entries out of order", path);
		if (at > 0 && memcmp(entry(m, at - 1), entry(m, at),
				     RV_PWNED_SHA1) >= 0)
			return rv_err_set(err, RV_E_INTERNAL,
					  "'%s': entries out of order", path);
		prev = at;
	}
	return 0;
}

static int
map_open(const char *path, struct map *m, struct rv_err *err)
{
	struct stat st;
	void *p;
	int fd;

	memset(m, 0, sizeof(*m));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot open '%s': %s",
				  path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rv_err_set(err, RV_E_INTERNAL, "cannot stat '%s': %s", path,
			   strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < RV_PWNED_HEADER ||
	    (unsigned long long)st.st_size > SIZE_MAX) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL,
				  "'%s': not a pwned index (%lld bytes)", path,
				  (long long)st.st_size);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return rv_err_set(err, RV_E_INTERNAL, "cannot map '%s': %s",
				  path, strerror(errno));
	m->base = p;
	m->size = (size_t)st.st_size;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->mtime = st.st_mtim;
	if (map_check(m, path, err) < 0) {
		munmap(p, m->size);
		memset(m, 0, sizeof(*m));
		return -1;
	}
	m->n = get_le(m->base + 16, 8);
	/* bisection jumps about: no read-ahead */
	(void)madvise(p, m->size, MADV_RANDOM);
	return 0;
}

static void
map_close(struct map *m)
{
	if (m->base != NULL)
		munmap((void *)m->base, m->size);
	memset(m, 0, sizeof(*m));
}

int
rv_pwned_open(const char *path, struct rv_pwned **idx_r, struct rv_err *err)
{
	struct rv_pwned *idx = rv_xcalloc(1, sizeof(*idx));

	*idx_r = NULL;
	if (map_open(path, &idx->m, err) < 0) {
		free(idx);
		return -1;
	}
	idx->path = rv_xstrdup(path);
	*idx_r = idx;
	return 0;
}

void
rv_pwned_close(struct rv_pwned **idx)
{
	if (*idx == NULL)
		return;
	map_close(&(*idx)->m);
	free((*idx)->path);
	free(*idx);
	*idx = NULL;
}

unsigned long long
rv_pwned_count(const struct rv_pwned *idx)
{
	return idx->m.n;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Re-maps the file when it is not the one mapped any more. */
static void
refresh(struct rv_pwned *idx)
{
	struct rv_err err;
	struct stat st;
	struct map m;

	if (stat(idx->path, &st) < 0)
		return;		/* gone: keep serving the old one */
	if (st.st_dev == idx->m.dev && st.st_ino == idx->m.ino &&
	    (size_t)st.st_size == idx->m.size &&
	    same_time(&st.st_mtim, &idx->m.mtime))
		return;
	if (st.st_ino == idx->bad_ino && same_time(&st.st_mtim, &idx->bad_mtime))
		return;		/* already refused */
	rv_err_init(&err);
	if (map_open(idx->path, &m, &err) < 0) {
		rv_log_warnx("pwned index changed but does not open, the old one "
			     "stays: %s", err.msg);
		idx->bad_ino = st.st_ino;
		idx->bad_mtime = st.st_mtim;
	} else {
		map_close(&idx->m);
		idx->m = m;
	}
	rv_err_release(&err);
}

int
rv_pwned_lookup(struct rv_pwned *idx, const unsigned char sha1[RV_PWNED_SHA1],
		struct rv_err *err)
{
	unsigned long long lo = 0, hi;
	int c;

	refresh(idx);
	if (idx->m.base == NULL)
		return rv_err_set(err, RV_E_INTERNAL, "no pwned index mapped");
	hi = idx->m.n;
	while (lo < hi) {
		unsigned long long mid = lo + (hi - lo) / 2;

		c = memcmp(sha1, entry(&idx->m, mid), RV_PWNED_SHA1);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* ---- building ----------------------------------------------------------- */

struct build {
	const char *in_name, *out;
	char tmp[4096];
	int fd;
	unsigned char (*v)[RV_PWNED_SHA1];	/* entries not yet written */
	size_t nv, alloc;
	unsigned long long written;	/* entries in the file, sorted */
	unsigned char last[RV_PWNED_SHA1];	/* the greatest entry so far */
	bool any, sorted;
};

static int
write_all(struct build *b, const void *p, size_t n, struct rv_err *err)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(b->fd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			return rv_err_set(err, RV_E_INTERNAL, "cannot write '%s': %s",
					  b->tmp, strerror(errno));
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the entries held in memory (sorted, no duplicates). */
static int
flush(struct build *b, struct rv_err *err)
{
	if (b->nv > 0 && write_all(b, b->v, b->nv * RV_PWNED_SHA1, err) < 0)
		return -1;
	b->written += b->nv;
	b->nv = 0;
	return 0;
}

static void
hold(struct build *b, const unsigned char d[RV_PWNED_SHA1])
{
	if (b->nv == b->alloc) {
		RV_ASSERT(b->alloc < SIZE_MAX / 2 / RV_PWNED_SHA1);
		b->alloc = b->alloc ? 2 * b->alloc : CHUNK;
		b->v = rv_xrealloc(b->v, b->alloc * RV_PWNED_SHA1);
	}
	memcpy(b->v[b->nv++], d, RV_PWNED_SHA1);
}

/* Input out of order: everything goes to memory, the file's part too. */
static int
unstream(struct build *b, struct rv_err *err)
{
	size_t held = b->nv, bytes, done;
	ssize_t got;

	b->sorted = false;
	if (b->written == 0)
		return 0;
	RV_ASSERT(b->written < SIZE_MAX / RV_PWNED_SHA1 - held);
	b->alloc = (size_t)b->written + held + CHUNK;
	b->v = rv_xrealloc(b->v, b->alloc * RV_PWNED_SHA1);
	memmove(b->v[b->written], b->v, held * RV_PWNED_SHA1);
	bytes = (size_t)b->written * RV_PWNED_SHA1;
	for (done = 0; done < bytes; done += (size_t)got)
		if ((got = pread(b->fd, (char *)b->v + done, bytes - done,
				 (off_t)(RV_PWNED_HEADER + done))) <= 0)
			return rv_err_set(err, RV_E_INTERNAL,
					  "cannot read back '%s'", b->tmp);
	b->nv = (size_t)b->written + held;
	b->written = 0;
	if (lseek(b->fd, RV_PWNED_HEADER, SEEK_SET) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot seek '%s': %s",
				  b->tmp, strerror(errno));
	return 0;
}

static int
add(struct build *b, const unsigned char d[RV_PWNED_SHA1], struct rv_err *err)
{
	int c = b->any ? memcmp(d, b->last, RV_PWNED_SHA1) : 1;

	if (b->sorted && c == 0)
		return 0;	/* a duplicate in sorted input */
	if (b->sorted && c < 0 && unstream(b, err) < 0)
		return -1;
	hold(b, d);
	if (c > 0) {
		memcpy(b->last, d, RV_PWNED_SHA1);
		b->any = true;
	}
	if (b->sorted && b->nv >= CHUNK)
		return flush(b, err);
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	return memcmp(a, b, RV_PWNED_SHA1);
}

bool
rv_pwned_sha1_line(const char *s, size_t len, unsigned char d[RV_PWNED_SHA1])
{
	char hex[2 * RV_PWNED_SHA1 + 1];
	size_t i;

	if (len < 2 * RV_PWNED_SHA1)
		return false;
	for (i = 0; i < 2 * RV_PWNED_SHA1; i++)
		if (rv_hexdigit(s[i]) < 0)
			return false;
	if (len > i && (s[i] != ':' || len == i + 1))
		return false;
	for (i++; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	memcpy(hex, s, 2 * RV_PWNED_SHA1);
	hex[2 * RV_PWNED_SHA1] = '\0';
	if (rv_unhex(hex, d, RV_PWNED_SHA1) < 0)
		rv_bug(__FILE__, __LINE__, "hex digits did not decode");
	return true;
}

/* One line without its end: 1 an entry in d, 0 nothing, -1 bad (err). */
static int
parse(const char *s, size_t len, bool first, unsigned long long lineno,
      const char *in_name, unsigned char d[RV_PWNED_SHA1], struct rv_err *err)
{
	if (first && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, len -= 3;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (memchr(s, '\0', len) != NULL)
		return rv_err_set(err, RV_E_INTERNAL, "%s:%llu: NUL byte in line",
				  in_name, lineno);
	if (len == 0 || s[0] == '#')
		return 0;
	if (!rv_pwned_sha1_line(s, len, d))
		return rv_err_set(err, RV_E_INTERNAL,
				  "%s:%llu: not a SHA-1 (40 hex digits, optionally "
				  "followed by :count)", in_name, lineno);
	return 1;
}

/* The end: sort when needed, the header, flush, rename. */
static int
finish(struct build *b, unsigned long long *count_r, struct rv_err *err)
{
	unsigned char h[RV_PWNED_HEADER];
	size_t i, j;

	if (!b->sorted && b->nv > 0) {
		qsort(b->v, b->nv, RV_PWNED_SHA1, cmp_entry);
		for (i = j = 1; i < b->nv; i++)
			if (memcmp(b->v[i], b->v[j - 1], RV_PWNED_SHA1) != 0)
				memcpy(b->v[j++], b->v[i], RV_PWNED_SHA1);
		b->nv = j;
	}
	if (flush(b, err) < 0)
		return -1;
	memcpy(h, RV_PWNED_MAGIC, 8);
	put_le(h + 8, INDEX_VERSION, 4);
	put_le(h + 12, RV_PWNED_SHA1, 4);
	put_le(h + 16, b->written, 8);
	if (pwrite(b->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    fchmod(b->fd, 0644) < 0 || fsync(b->fd) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot write '%s': %s",
				  b->tmp, strerror(errno));
	if (close(b->fd) < 0) {
		b->fd = -1;
		return rv_err_set(err, RV_E_INTERNAL, "cannot write '%s': %s",
				  b->tmp, strerror(errno));
	}
	b->fd = -1;
	if (rename(b->tmp, b->out) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot rename '%s' to '%s': %s",
				  b->tmp, b->out, strerror(errno));
	b->tmp[0] = '\0';
	*count_r = b->written;
	return 0;
}

int
rv_pwned_build(FILE *in, const char *in_name, const char *out,
	       void (*progress)(unsigned long long lines, void *arg),
	       void *arg, unsigned long long *count_r, struct rv_err *err)
{
	unsigned char zero[RV_PWNED_HEADER] = { 0 }, d[RV_PWNED_SHA1];
	unsigned long long lineno = 0;
	struct build b;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int r, rc = -1;

	memset(&b, 0, sizeof(b));
	b.in_name = in_name;
	b.out = out;
	b.sorted = true;
	*count_r = 0;
	if ((size_t)snprintf(b.tmp, sizeof(b.tmp), "%s.tmp.XXXXXX", out) >=
	    sizeof(b.tmp))
		return rv_err_set(err, RV_E_INTERNAL, "'%s': path too long", out);
	if ((b.fd = mkstemp(b.tmp)) < 0)
		return rv_err_set(err, RV_E_INTERNAL, "cannot create '%s': %s",
				  b.tmp, strerror(errno));
	if (write_all(&b, zero, sizeof(zero), err) < 0)
		goto out;
	while ((got = getline(&line, &cap, in)) != -1) {
		size_t len = (size_t)got;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((r = parse(line, len, lineno == 1, lineno, in_name, d, err)) < 0)
			goto out;
		if (r == 1 && add(&b, d, err) < 0)
			goto out;
		if (progress != NULL && lineno % PROGRESS_EVERY == 0)
			progress(lineno, arg);
	}
	if (ferror(in)) {
		rv_err_set(err, RV_E_INTERNAL, "cannot read '%s': %s", in_name,
			   strerror(errno));
		goto out;
	}
	if (finish(&b, count_r, err) < 0)
		goto out;
	if (progress != NULL)
		progress(lineno, arg);
	rc = 0;
out:
	free(line);
	free(b.v);
	if (b.fd >= 0)
		close(b.fd);
	if (b.tmp[0] != '\0')
		unlink(b.tmp);
	return rc;
}
