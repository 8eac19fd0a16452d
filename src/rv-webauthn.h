/* rv-webauthn.h: passkeys: WebAuthn registration and assertion checks
 * with libfido2 (W3C Web Authentication Level 2, sections 7.1 and 7.2;
 * logto-spec 2.5; issue 20) */
#ifndef RV_WEBAUTHN_H
#define RV_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct rv_err;

#define RV_WEBAUTHN_CHALLENGE_LEN 32	/* bytes; base64url 43 characters */

/* The relying party, from config (never from the request's Host alone). */
struct rv_webauthn_rp {
	const char *rp_id;		/* <webauthn rp-id>, e.g. "example.com" */
	const char *rp_name;		/* shown by the authenticator */
	const char *const *origins;	/* allowed origins ("https://example.com"),
					   NULL-terminated, at least one */
	bool require_uv;		/* user verification required (flag UV) */
};

/* A registered credential as the store keeps it (every string malloc'd). */
struct rv_webauthn_cred {
	char *cred_id;		/* base64url (no padding) of the credential id */
	int cose_alg;		/* -7 ES256, -257 RS256, -8 EdDSA */
	char *public_key;	/* base64url of the public key in the form
				   libfido2 takes back (es256_pk_from_ptr,
				   rs256_pk_from_ptr, eddsa_pk_from_ptr) */
	unsigned long sign_count;
	char aaguid[37];	/* the authenticator model: a UUID, 8-4-4-4-12 hex digits */
	char *transports;	/* words separated by spaces ("usb internal"),
				   or NULL */
	bool backup_eligible, backed_up;	/* flags BE, BS */
};
void rv_webauthn_cred_release(struct rv_webauthn_cred *c);

/*
 * PublicKeyCredentialCreationOptions as @simplewebauthn/server makes them
 * (what Logto's registrationOptions carry): rp {name, id}, user {id
 * (base64url of user_id), name, displayName}, challenge (base64url),
 * pubKeyCredParams (ES256, EdDSA, RS256), timeout 300000, attestation
 * "none", excludeCredentials (exclude[] base64url ids, n of them),
 * authenticatorSelection {residentKey "preferred", userVerification
 * "required" or "preferred" as rp->require_uv}. A new reference.
 */
json_t *rv_webauthn_creation_options(const struct rv_webauthn_rp *rp,
				     const char *user_id, const char *user_name,
				     const char *display_name,
				     const unsigned char *challenge, size_t clen,
				     const char *const *exclude, size_t n);
/* PublicKeyCredentialRequestOptions: challenge, timeout, rpId,
 * allowCredentials ({id, type "public-key", transports?} of allow[], n),
 * userVerification. A new reference. */
json_t *rv_webauthn_request_options(const struct rv_webauthn_rp *rp,
				    const unsigned char *challenge, size_t clen,
				    const struct rv_webauthn_cred *allow,
				    size_t n);

/*
 * Verifies a registration (7.1): payload is RegistrationResponseJSON as
 * @simplewebauthn/browser sends it ({id, rawId, type "public-key",
 * response {clientDataJSON, attestationObject, transports?}}, binary
 * fields base64url): clientDataJSON's type "webauthn.create", its
 * challenge equal to challenge (constant time), its origin one of
 * rp->origins, crossOrigin not true; the attestation object (CBOR) with
 * the SHA-256 of rp->rp_id as rpIdHash, flags UP (and UV when
 * rp->require_uv) and AT, a credential id equal to rawId, a supported
 * key; its statement checked with libfido2 ("none"; "packed", self or
 * with a certificate chain, whose signature is verified but whose root
 * is not judged). Any failure: -1 with 400
 * session.mfa.webauthn_verification_failed, err->msg saying why (for the
 * log). 0 with *cred_r filled (release it).
 */
int rv_webauthn_register(const struct rv_webauthn_rp *rp,
			 const unsigned char *challenge, size_t clen,
			 json_t *payload, struct rv_webauthn_cred *cred_r,
			 struct rv_err *err);

/* The credential id (base64url) a payload names ("id", which must equal
 * "rawId"), to find the stored credential; NULL when there is none. */
const char *rv_webauthn_payload_id(json_t *payload);

/*
 * Verifies an assertion (7.2): payload is AuthenticationResponseJSON
 * ({id, rawId, type, response {clientDataJSON, authenticatorData,
 * signature, userHandle?}}) for the stored cred: the id is cred's,
 * clientDataJSON's type "webauthn.get", challenge and origin as above,
 * authenticatorData's rpIdHash and flags (UP; UV when required), and the
 * signature over authenticatorData || SHA-256(clientDataJSON) under the
 * stored key (fido_assert_verify). The signature counter (7.2 step 21):
 * when either the stored or the new count is non-zero and the new one is
 * not greater, *clone_r is set and -1 returned (a cloned authenticator:
 * the caller audits it). 0 with *count_r the new count; -1 with 400
 * session.mfa.webauthn_verification_failed and err->msg (but 500
 * internal_error when the stored cred's key cannot be read back: the
 * store's fault, not the caller's). userHandle is not checked here: the
 * caller compares it, when present, with the credential's user (7.2
 * step 6).
 */
int rv_webauthn_assert(const struct rv_webauthn_rp *rp,
		       const unsigned char *challenge, size_t clen,
		       json_t *payload, const struct rv_webauthn_cred *cred,
		       unsigned long *count_r, bool *clone_r,
		       struct rv_err *err);

#endif
