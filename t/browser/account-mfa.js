// account-mfa.js: second factors through reverify's account page
// (www/account/) in headless Chromium, for t/e2e/t3110-account-mfa.sh
//
// The authenticator is Chromium's virtual one (the DevTools Protocol's
// WebAuthn domain), on a CDP session of the page: CTAP2, internal (a
// platform authenticator), with resident keys and user verification that
// always succeeds. alice steps up by password, adds a passkey, loses her
// step-up (the page is loaded again: it keeps it in memory only), steps
// up with the passkey alone, changes her username under it, and removes
// the passkey. Then she sets up an authenticator app (its codes made by
// oathtool from the key the page shows), steps up with its code and
// removes it. Each step writes "ok STEP" to $STEPS and a screenshot
// (lib.js).
//
// Environment: PAGE_BASE (http://localhost:PORT, the origin that the
// instance's <webauthn origins> names), PASSWORD (alice's), NEW_USERNAME,
// PASSKEY_NAME, OATHTOOL, and lib.js's.
'use strict';

const { execFileSync } = require('child_process');
const { env, pageText, fill, launch, Steps, main } = require('./lib.js');

// totp SECRET OFFSET: the code of base32 SECRET at now + OFFSET seconds
const totp = (secret, offset) => execFileSync(env('OATHTOOL'),
	['--totp', '-b', '--now', '@' + (Math.floor(Date.now() / 1000) + offset), secret],
	{ encoding: 'utf8' }).trim();

const PAGE_BASE = env('PAGE_BASE');
const PASSWORD = env('PASSWORD');
const NEW_USERNAME = env('NEW_USERNAME');
const PASSKEY_NAME = env('PASSKEY_NAME');
env('OATHTOOL');

main('account-mfa.js', async () => {
	const en = pageText('en');
	const browser = await launch();
	try {
		const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 900 } });
		const page = await context.newPage();
		const st = new Steps(page);
		const cdp = await context.newCDPSession(page);
		await cdp.send('WebAuthn.enable');
		const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
			options: {
				protocol: 'ctap2',
				transport: 'internal',
				hasResidentKey: true,
				hasUserVerification: true,
				isUserVerified: true,
			},
		});
		const credentials = async () =>
			(await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
		const passkeyRadio = 'input[name=method][value=passkey]';
		// open USERNAME: the page, loaded afresh, with alice as USERNAME
		const open = async (username) => {
			await page.goto(PAGE_BASE + '/account/');
			await page.waitForSelector('body[data-ready="1"]', { timeout: 8000 });
			await st.expectText('#p-username', username);
			await st.visible('#error', false);
		};

		await st.step('no-factors', async () => {
			await open('alice');
			if (!await page.evaluate(() => window.isSecureContext))
				throw new Error(`${PAGE_BASE} is no secure context`);
			await st.expectText('#mfa-h', en.mfa);
			await st.expectText('#factors-empty', en.factors_empty);
			await st.visible('#factors-state', false);
			if (!await page.isDisabled(passkeyRadio))
				throw new Error('a passkey step-up is offered without a passkey');
		});

		await st.step('stepup-password', async () => {
			await page.check('input[name=method][value=password]');
			await page.fill('#stepup-password', PASSWORD);
			await page.press('#stepup-password', 'Enter');
			await st.expectText('#notice', en.stepup_done);
		});

		await st.step('passkey-added', async () => {
			await page.fill('#passkey-name', PASSKEY_NAME);
			await page.click('#passkey-form button[type=submit]');
			await st.expectText('#notice', en.passkey_added);
			await st.count('#factors-body tr', 1);
			await st.expectText('#factors-body tr td:first-child', en.factor_WebAuthn);
			await st.expectText('#factors-body tr td:nth-child(2)', PASSKEY_NAME);
			await st.expectText('#factors-body tr td:nth-child(4)', en.never);
			const creds = await credentials();
			if (creds.length !== 1 || !creds[0].isResidentCredential || creds[0].rpId !== 'localhost')
				throw new Error(`the authenticator holds ${JSON.stringify(creds.map((c) => [c.rpId, c.isResidentCredential]))}`);
			if (await page.isDisabled(passkeyRadio))
				throw new Error('no passkey step-up offered with a passkey');
			if (await page.inputValue('#passkey-name') !== '')
				throw new Error('the name stayed in its input');
		});

		await st.step('stepup-passkey', async () => {
			// a fresh page has no step-up (the page keeps it in memory)
			await open('alice');
			await st.expectText('#stepup-state', en.stepup_none);
			await st.count('#factors-body tr', 1);
			await page.check(passkeyRadio);
			await st.visible('#stepup-password-form', false);
			await st.visible('#stepup-send-form', false);
			const before = (await credentials())[0].signCount;
			await page.click('#stepup-passkey');
			await st.expectText('#notice', en.stepup_done);
			await st.expectText('#records-body tr:first-child td:first-child', en.type_Passkey);
			// its "last used" from the API now
			await page.waitForFunction((never) => {
				const td = document.querySelector('#factors-body tr td:nth-child(4)');
				return td !== null && td.textContent.trim() !== never;
			}, en.never, { timeout: 8000 });
			const after = (await credentials())[0].signCount;
			if (!(after > before))
				throw new Error(`the passkey was not used (its counter ${before}, then ${after})`);
		});

		await st.step('username-changed', async () => {
			await page.fill('#new-username', NEW_USERNAME);
			await page.press('#new-username', 'Enter');
			await st.expectText('#notice', fill(en.username_changed, { value: NEW_USERNAME }));
			await st.expectText('#p-username', NEW_USERNAME);
			await st.visible('#error', false);
		});

		await st.step('passkey-removed', async () => {
			await page.click('#factors-body tr:first-child button.remove');
			await st.expectText('#notice', en.factor_removed);
			await st.expectText('#factors-empty', en.factors_empty);
			await st.count('#factors-body tr', 0);
			if (!await page.isDisabled(passkeyRadio))
				throw new Error('a passkey step-up is offered after the passkey was removed');
		});

		let secret = '';
		await st.step('totp-added', async () => {
			// under the passkey's step-up still
			await page.click('#totp-start');
			await st.visible('#totp-form', true);
			await st.visible('#totp-start', false);
			secret = (await page.textContent('#totp-secret')).trim();
			if (!/^[A-Z2-7]{32}$/.test(secret))
				throw new Error(`the key shown is "${secret}"`);
			// the QR code is an image the page's CSP lets load (img-src data:)
			await page.waitForFunction(() => {
				const img = document.getElementById('totp-qr');
				return img.complete && img.naturalWidth > 0 &&
					img.src.startsWith('data:image/svg+xml;base64,');
			}, null, { timeout: 8000 });
			await page.fill('#totp-code', totp(secret, 0));
			await page.press('#totp-code', 'Enter');
			await st.expectText('#notice', en.totp_added);
			await st.count('#factors-body tr', 1);
			await st.expectText('#factors-body tr td:first-child', en.factor_Totp);
			await st.visible('#totp-form', false);
			await st.visible('#totp-start', false);
			if (await page.textContent('#totp-secret') !== '' ||
			    await page.getAttribute('#totp-qr', 'src') !== null)
				throw new Error('the key stayed in the page once bound');
		});

		await st.step('stepup-totp', async () => {
			await open(NEW_USERNAME);
			await st.expectText('#stepup-state', en.stepup_none);
			await st.count('#factors-body tr', 1);
			await page.check('input[name=method][value=totp]');
			await st.visible('#stepup-totp-form', true);
			// the binding used this step's code: the next step's (one
			// step of skew is allowed)
			await page.fill('#stepup-totp', totp(secret, 30));
			await page.press('#stepup-totp', 'Enter');
			await st.expectText('#notice', en.stepup_done);
			await st.expectText('#records-body tr:first-child td:first-child', en.type_Totp);
		});

		await st.step('totp-removed', async () => {
			await page.click('#factors-body tr:first-child button.remove');
			await st.expectText('#notice', en.factor_removed);
			await st.expectText('#factors-empty', en.factors_empty);
			await st.visible('#totp-start', true);
			if (!await page.isDisabled('input[name=method][value=totp]'))
				throw new Error('a TOTP step-up is offered after the app was removed');
		});
	} finally {
		await browser.close();
	}
});
