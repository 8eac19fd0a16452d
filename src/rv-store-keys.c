/* rv-store-keys.c: the pepper and the audit key: key files, HMAC */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

/*
 * A key file (the pepper, the audit key) holds 64 hex digits and maybe a
 * newline. It is opened with O_NOFOLLOW and refused when its mode has a
 * bit of forbid; the text read is wiped. With create, a missing file is
 * made (0600) with a random key. With missing_r non-NULL, a missing file
 * is no error: *missing_r is set and out is left alone.
 */
static int
load_key_file(const char *path, const char *what, mode_t forbid,
	      const char *chmod_hint, bool create, bool *missing_r,
	      unsigned char out[KEY_LEN], struct rv_err *err)
{
	char buf[80];
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && create) {
		unsigned char key[KEY_LEN];
		char hex[2 * KEY_LEN + 2];

		if (rv_random_bytes(key, sizeof(key), err) < 0)
			return -1;
		rv_hex(key, sizeof(key), hex);
		rv_wipe(key, sizeof(key));
		hex[sizeof(hex) - 2] = '\n';
		hex[sizeof(hex) - 1] = '\0';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) ||
		    fsync(fd) != 0) {
			int e = errno;

			rv_wipe(hex, sizeof(hex));
			if (fd >= 0)
				close(fd);
			return rv_err_set(err, RV_E_INTERNAL,
					  "cannot write the %s '%s': %s", what, path,
					  strerror(e));
		}
		rv_wipe(hex, sizeof(hex));
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0 && errno == ENOENT && missing_r != NULL) {
		*missing_r = true;
		return 0;
	}
	if (fd < 0)
		return rv_err_set(err, RV_E_UNAVAILABLE,
				  "cannot open the %s '%s': %s%s", what, path,
				  strerror(errno),
				  errno == ENOENT ? " (run reverify-admin init)" : "");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & forbid)) {
		close(fd);
		return rv_err_set(err, RV_E_INTERNAL, "the %s '%s' must not be %s",
				  what, path, chmod_hint);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (rv_unhex(buf, out, KEY_LEN) < 0) {
		rv_wipe(buf, sizeof(buf));
		return rv_err_set(err, RV_E_INTERNAL,
				  "the %s '%s' must hold 64 hex digits", what, path);
	}
	rv_wipe(buf, sizeof(buf));
	return 0;
}

int
rv_store_load_pepper(struct rv_store *st, bool create, struct rv_err *err)
{
	return load_key_file(st->pepper_path, "pepper file", S_IROTH | S_IWOTH,
			     "readable by others (chmod 600)", create, NULL,
			     st->pepper, err);
}

/* The audit key: none when <audit key> is empty; a missing file is a
 * warning (the chain goes on unkeyed, as before 0.2). With create, a
 * missing file is made, when its directory exists (reverify-admin init
 * then insists on it: rv_store_audit_keyed). */
int
rv_store_load_audit_key(struct rv_store *st, bool create, struct rv_err *err)
{
	const char *slash;
	bool missing = false;

	if (st->audit_key_path == NULL)
		return 0;
	if (create && (slash = strrchr(st->audit_key_path, '/')) != NULL) {
		char *dir = rv_xasprintf("%.*s", (int)(slash - st->audit_key_path),
					 st->audit_key_path);
		struct stat sb;

		if (*dir != '\0' && stat(dir, &sb) != 0)
			create = false;
		free(dir);
	}
	if (load_key_file(st->audit_key_path, "audit key file",
			  S_IRWXG | S_IRWXO,
			  "readable or writable by group or others (chmod 600)",
			  create, &missing, st->audit_key, err) < 0)
		return -1;
	if (missing) {
		rv_log_warnx("the audit key file '%s' is missing: audit entries are "
			     "chained without a key (run reverify-admin init)",
			     st->audit_key_path);
		return 0;
	}
	st->audit_keyed = true;
	return 0;
}

const unsigned char *
rv_store_pepper(const struct rv_store *st)
{
	return st->pepper;
}

void
rv_store_mac_hex(const struct rv_store *st, const char *kind,
		 const char *value, char out[65])
{
	unsigned char mac[32];
	struct rv_buf b = RV_BUF_INIT;

	rv_buf_addstr(&b, kind);
	rv_buf_addch(&b, '\0');
	rv_buf_addstr(&b, value);
	rv_hmac_sha256(st->pepper, sizeof(st->pepper), b.buf, b.len, NULL, 0, mac);
	rv_hex(mac, sizeof(mac), out);
	rv_buf_release_secret(&b);
}
