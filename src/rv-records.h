/* rv-records.h: list, revoke and introspect verification records
 * (DESIGN.md deviation 7: extensions to Logto's Account API) */
#ifndef RV_RECORDS_H
#define RV_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct rv_caller;
struct rv_conf;
struct rv_err;
struct rv_req;
struct rv_resp;
struct rv_store;

/* ---- the caller's own records (program verification-records) ---------- */

/*
 * Masks an identifier for display: an e-mail keeps the first character
 * (code point) of its local part and the domain, "a***@example.com"; a
 * phone keeps its last 4 characters and stars the rest, same length,
 * "*******1234" (all stars when it has 4 or fewer). Writes at most size
 * bytes with the NUL into out (truncated to fit).
 */
void rv_records_mask_email(const char *email, char *out, size_t size);
void rv_records_mask_phone(const char *phone, char *out, size_t size);

/*
 * GET /api/verifications: the caller's live records (owned, or created by
 * the caller for a new identifier), newest first, as
 * {"records":[{"handle", "type", "verified", "identifier" (masked; null
 * for Password), "templateType" (null for Password), "createdAt",
 * "expiresAt"}]}. Never the record id (only its handle,
 * rv_account_handle: F1), code hashes, tries, owner or creator. The
 * first-party check is the caller's, before this. 0 with
 * *list_r (a new reference), or -1 with err (404 entity.not_found when the
 * caller's user no longer exists, 5xx from the store).
 */
int rv_records_list(struct rv_store *st, const struct rv_caller *c,
		    json_t **list_r, struct rv_err *err);

/*
 * DELETE /api/verifications/:id: deletes one of the caller's live records
 * (owned, or unowned and created by the caller), named by its id or by
 * its handle, and audits "record.revoked" (with the handle) in the same
 * transaction. A missing, expired, malformed or someone else's id or
 * handle all give the same -1 with 404 verification_record.not_found. The first-party check is the caller's,
 * before this. 0 when revoked.
 */
int rv_records_revoke(struct rv_store *st, const struct rv_caller *c,
		      const char *id, struct rv_err *err);
/* Can s name a record: a record id or a handle? (The route's param_ok:
 * anything else is no resource at all, a 404 of the router.) */
bool rv_records_ref_ok(const char *s);

/* ---- introspection for relying services (verification-introspect) ----- */

/*
 * The setup hook of verification-introspect: reads <introspection
 * clients> (words CLIENT_ID:SHA256_HEX_OF_SECRET; a client id is 1-255
 * printable ASCII characters without ':', given once).
 * A malformed list is a start-up error (-1, 500 with the reason in msg).
 * No clients is allowed: every request is then refused. Loads no JWKS:
 * user tokens are never accepted here. rv_records_intro_teardown() forgets
 * the clients.
 */
int rv_records_intro_setup(const struct rv_conf *conf, struct rv_err *err);
void rv_records_intro_teardown(void);

/*
 * The gate of verification-introspect (rv_endpoint.gate): HTTP Basic
 * credentials (RFC 7617, scheme case-insensitive, base64 with or without
 * padding) checked against the configured clients. The SHA-256 of the
 * secret is compared with every entry in constant time (no early exit).
 * Every failure (no header, another scheme such as a Bearer user token,
 * bad base64, no ':', unknown client, wrong secret, no clients
 * configured) is the same 401 auth.unauthorized with
 * WWW-Authenticate: Basic realm="reverify introspection"; msg says why,
 * for the log only. On success req->caller (arena) holds the service:
 * client_id set, user empty, first_party false.
 */
int rv_records_intro_gate(struct rv_req *req, struct rv_resp *resp,
			  struct rv_err *err);

/* The body of POST /api/verifications/introspect. Strings point into the
 * parsed body (valid while it lives). */
struct rv_records_query {
	const char *record_id;	/* "verificationRecordId", required */
	const char *user_id;	/* "userId", required */
	const char *action;	/* "action", optional (NULL); 1-64 of [a-z0-9._:-] */
	bool consume;		/* "consume", optional boolean, default false */
};

/* Reads the body object into *q: 0, or -1 with 400 guard.invalid_input
 * naming the field. */
int rv_records_intro_parse(json_t *body, struct rv_records_query *q,
			   struct rv_err *err);

/*
 * Answers an introspection (in the spirit of RFC 7662) for the service
 * client_id. Active when the record exists, is live, is owned by
 * q->user_id, is verified and is step-up proof (logto-spec 3.7: a
 * Password record, or a code record with templateType
 * UserPermissionValidation), serves the action asked (a record made with
 * an action serves only that action; one without, only a question that
 * names none: deviation 4), and its owner exists and is not suspended.
 * Then *answer_r = {"active":true, "type", "verifiedAt", "expiresAt",
 * "userId", "action" (only when q->action, which matched), "consumed":
 * true (only when consumed)}; otherwise {"active":false} and nothing else,
 * whatever the reason.
 * q->consume deletes an active record in the same transaction that found
 * it (write-locked), in either step-up mode, so of any number of
 * concurrent consumes exactly one sees it active (F6). Every answer is
 * audited ("record.introspected": client, active, consumed, the record's
 * handle when the id is well-formed, the action). 0 with
 * *answer_r (a new reference), or -1 with err (5xx from the store).
 */
int rv_records_introspect(struct rv_store *st, const struct rv_conf *conf,
			  const char *client_id,
			  const struct rv_records_query *q, json_t **answer_r,
			  struct rv_err *err);

#endif
