/* token.js: where reverify's account page gets its access token.
 *
 * This is the one function a site replaces (doc/deploy.md, "The account
 * page"). accountToken() resolves to the bearer token of the signed-in
 * user: an access token of the site's OpenID provider for reverify's
 * audience, with the scopes "openid profile email phone identities"
 * (identities for the second factors), issued to a first-party client. It is called before every API request, so it may
 * return a fresh token each time (a refreshed one from the site's OIDC
 * client library, say); it must never put the token into the URL. It
 * rejects (or resolves to "") when there is no signed-in user.
 *
 * This default is the quick start's demo: it reads the demo token that
 * tools/quickstart serves at /account/demo-token (from the same origin,
 * on 127.0.0.1 only). A real site serves no such file. */
'use strict';

async function accountToken() {
	const r = await fetch('demo-token', {
		cache: 'no-store',
		credentials: 'same-origin',
		redirect: 'error',
	});
	if (!r.ok)
		throw new Error('no token');
	return (await r.text()).trim();
}
