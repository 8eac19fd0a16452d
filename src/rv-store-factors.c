/* rv-store-factors.c: a user's second factors, as the user's document
 * keeps them (member "mfa": an array of factor objects; issue 20) */
#include "config.h"
#include "rv-store.h"
#include "rv-store-int.h"

#include <stdlib.h>
#include <string.h>

#include "rv-crypto.h"
#include "rv-util.h"

static const char *const factor_types[] = { "Totp", "BackupCode", "WebAuthn" };

const char *
rv_factor_type_name(enum rv_factor_type t)
{
	return factor_types[t];
}

void
rv_factor_release(struct rv_factor *f)
{
	free(f->name);
	free(f->agent);
	if (f->secret != NULL) {
		rv_wipe(f->secret, strlen(f->secret));
		free(f->secret);
	}
	free(f->cred_id);
	free(f->public_key);
	free(f->transports);
	rv_wipe(f, sizeof(*f));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? rv_xstrdup(s) : NULL;
}

static void
factor_copy(const struct rv_factor *f, struct rv_factor *out)
{
	*out = *f;
	out->name = dup_or_null(f->name);
	out->agent = dup_or_null(f->agent);
	out->secret = dup_or_null(f->secret);
	out->cred_id = dup_or_null(f->cred_id);
	out->public_key = dup_or_null(f->public_key);
	out->transports = dup_or_null(f->transports);
}

void
rv_user_copy_factors(const struct rv_user *u, struct rv_user *out)
{
	size_t i;

	for (i = 0; i < out->nfactors; i++)
		rv_factor_release(&out->factors[i]);
	free(out->factors);
	out->factors = NULL;
	out->nfactors = 0;
	if (u->nfactors == 0)
		return;
	out->factors = rv_xcalloc(u->nfactors, sizeof(*out->factors));
	for (i = 0; i < u->nfactors; i++)
		factor_copy(&u->factors[i], &out->factors[i]);
	out->nfactors = u->nfactors;
}

struct rv_factor *
rv_user_factor(const struct rv_user *u, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < u->nfactors; i++)
		if (strcmp(u->factors[i].id, id) == 0)
			return &u->factors[i];
	return NULL;
}

struct rv_factor *
rv_user_factor_of(const struct rv_user *u, enum rv_factor_type t)
{
	size_t i;

	for (i = 0; i < u->nfactors; i++)
		if (u->factors[i].type == t)
			return &u->factors[i];
	return NULL;
}

struct rv_factor *
rv_user_factor_add(struct rv_user *u)
{
	struct rv_factor *f;

	if (u->nfactors >= RV_FACTOR_MAX)
		return NULL;
	u->factors = rv_xrealloc(u->factors, (u->nfactors + 1) * sizeof(*f));
	f = &u->factors[u->nfactors++];
	memset(f, 0, sizeof(*f));
	f->last_step = -1;
	return f;
}

void
rv_user_factor_del(struct rv_user *u, struct rv_factor *f)
{
	size_t i = (size_t)(f - u->factors);

	if (i >= u->nfactors)
		return;
	rv_factor_release(f);
	memmove(f, f + 1, (u->nfactors - i - 1) * sizeof(*f));
	u->nfactors--;
}

/* ---- the stored form ------------------------------------------------------ */

json_t *
rv_factor_to_json(const struct rv_factor *f)
{
	json_t *j = json_object(), *codes;
	char hex[2 * RV_MAC_LEN + 1];
	int i;

	set_str(j, "id", f->id);
	set_str(j, "type", factor_types[f->type]);
	json_object_set_new(j, "createdAt", json_integer(f->created_at));
	json_object_set_new(j, "lastUsedAt", json_integer(f->last_used_at));
	switch (f->type) {
	case RV_FACTOR_TOTP:
		set_str(j, "secret", f->secret);
		json_object_set_new(j, "lastStep", json_integer(f->last_step));
		break;
	case RV_FACTOR_BACKUP_CODES:
		codes = json_array();
		for (i = 0; i < RV_FACTOR_CODES; i++) {
			rv_hex(f->code_mac[i], RV_MAC_LEN, hex);
			json_array_append_new(codes, json_pack("{s:s, s:I}", "mac", hex,
				"usedAt", (json_int_t)f->code_used_at[i]));
		}
		json_object_set_new(j, "codes", codes);
		break;
	case RV_FACTOR_WEBAUTHN:
		set_str(j, "name", f->name);
		set_str(j, "agent", f->agent);
		set_str(j, "credentialId", f->cred_id);
		json_object_set_new(j, "alg", json_integer(f->cose_alg));
		set_str(j, "publicKey", f->public_key);
		json_object_set_new(j, "counter", json_integer((json_int_t)f->sign_count));
		set_str(j, "aaguid", f->aaguid);
		set_str(j, "transports", f->transports);
		json_object_set_new(j, "backupEligible", json_boolean(f->backup_eligible));
		json_object_set_new(j, "backedUp", json_boolean(f->backed_up));
		break;
	}
	return j;
}

static long long
get_int(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

int
rv_factor_from_json(json_t *j, struct rv_factor *f)
{
	const char *type = json_string_value(json_object_get(j, "type")),
		   *id = json_string_value(json_object_get(j, "id")), *s;
	json_t *codes, *c;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->last_step = -1;
	if (type == NULL || id == NULL || !rv_record_id_valid(id))
		return -1;
	for (i = 0; i < 3; i++)
		if (strcmp(type, factor_types[i]) == 0)
			break;
	if (i == 3)
		return -1;
	f->type = (enum rv_factor_type)i;
	rv_strlcpy(f->id, id, sizeof(f->id));
	f->created_at = get_int(j, "createdAt");
	f->last_used_at = get_int(j, "lastUsedAt");
	switch (f->type) {
	case RV_FACTOR_TOTP:
		if ((f->secret = jdup(j, "secret")) == NULL)
			return -1;
		f->last_step = get_int(j, "lastStep");
		break;
	case RV_FACTOR_BACKUP_CODES:
		codes = json_object_get(j, "codes");
		if (json_array_size(codes) != RV_FACTOR_CODES)
			return -1;
		json_array_foreach(codes, i, c) {
			s = json_string_value(json_object_get(c, "mac"));
			if (s == NULL || strlen(s) != 2 * RV_MAC_LEN ||
			    rv_unhex(s, f->code_mac[i], RV_MAC_LEN) < 0)
				return -1;
			f->code_used_at[i] = get_int(c, "usedAt");
		}
		break;
	case RV_FACTOR_WEBAUTHN:
		f->name = jdup(j, "name");
		f->agent = jdup(j, "agent");
		f->cred_id = jdup(j, "credentialId");
		f->public_key = jdup(j, "publicKey");
		f->transports = jdup(j, "transports");
		f->cose_alg = (int)get_int(j, "alg");
		f->sign_count = (unsigned long)get_int(j, "counter");
		if ((s = json_string_value(json_object_get(j, "aaguid"))) != NULL)
			rv_strlcpy(f->aaguid, s, sizeof(f->aaguid));
		f->backup_eligible = json_is_true(json_object_get(j, "backupEligible"));
		f->backed_up = json_is_true(json_object_get(j, "backedUp"));
		if (f->cred_id == NULL || f->public_key == NULL)
			return -1;
		break;
	}
	return 0;
}

/* The "mfa" member of a user's document (text), into u; factors that do
 * not read are dropped with the whole member refused: -1. */
int
rv_store_factors_read(const char *text, size_t len, struct rv_user *u)
{
	json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *e;
	size_t i;
	int rc = 0;

	if (!json_is_array(a) || json_array_size(a) > RV_FACTOR_MAX) {
		json_decref(a);
		return -1;
	}
	u->factors = json_array_size(a) ?
		rv_xcalloc(json_array_size(a), sizeof(*u->factors)) : NULL;
	json_array_foreach(a, i, e) {
		if (rv_factor_from_json(e, &u->factors[u->nfactors]) < 0) {
			rv_factor_release(&u->factors[u->nfactors]);
			rc = -1;
			break;
		}
		u->nfactors++;
	}
	json_decref(a);
	return rc;
}

/* The "mfa" member for a user's document, or NULL when u has none. */
json_t *
rv_store_factors_json(const struct rv_user *u)
{
	json_t *a;
	size_t i;

	if (u->nfactors == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < u->nfactors; i++)
		json_array_append_new(a, rv_factor_to_json(&u->factors[i]));
	return a;
}
