/* rv-store-keys.c: the pepper and the audit key: key files, HMAC */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rv-buf.h"
#include "rv-crypto.h"
#include "rv-err.h"
#include "rv-log.h"
#include "rv-util.h"

int
rv_store_load_pepper(struct rv_store *st, bool create, struct rv_err *err)
{
	return rv_key_file_load(st->pepper_path, "pepper file",
				S_IROTH | S_IWOTH, "readable by others (chmod 600)",
				create, NULL, st->pepper, err);
}

/* The audit key: none when <audit key> is empty; a missing file is a
 * warning (the chain goes on unkeyed, as before 0.2). With create, a
 * missing file is made, when its directory exists (reverify-admin init
 * then insists on it: rv_store_audit_keyed). */
int
rv_store_load_audit_key(struct rv_store *st, bool create, struct rv_err *err)
{
	bool missing = false;

	if (st->audit_key_path == NULL)
		return 0;
	if (rv_key_file_load(st->audit_key_path, "audit key file",
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
