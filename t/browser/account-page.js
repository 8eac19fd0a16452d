// account-page.js: drive reverify's account page (www/account/) in headless
// Chromium through playwright-core, for t/e2e/t3100-account-page.sh
//
// The page is served by a real lighttpd with the real programs behind it
// ($BASE). Each step writes "ok STEP" to $STEPS when every check of it
// held, and a screenshot NN-STEP.png to $SHOTS; the first failure stops
// the run (exit 1, the reason on stderr). The expected words come from
// the page's tables (www/account/i18n) and the API's catalogs
// (conf/locale), read here, not from the page.
//
// Environment: BASE, REVERIFY_OUTBOX, PASSWORD (alice's), NEW_EMAIL,
// TOKEN_FILE, and lib.js's.
'use strict';

const fs = require('fs');
const path = require('path');
const { TIMEOUT, env, pageText, apiText, fill, launch, Steps, main } = require('./lib.js');

const BASE = env('BASE');
const OUTBOX = env('REVERIFY_OUTBOX');
const PASSWORD = env('PASSWORD');
const NEW_EMAIL = env('NEW_EMAIL');

// the mail-*.eml files of the outbox
const mails = () => fs.readdirSync(OUTBOX).filter((f) => /^mail-.*\.eml$/.test(f));

// codeOfMail FILE: the 6-digit code of the text/plain part (base64) of FILE
// in the outbox, as t/lib/instance.sh's outbox_code reads it
function codeOfMail(file) {
	const raw = fs.readFileSync(path.join(OUTBOX, file), 'latin1');
	const m = raw.match(/^Content-Type: text\/plain[^\n]*\n(?:[^\n]+\n)*\n([\s\S]*?)\n--/m);
	if (!m)
		throw new Error(`no text part in ${file}`);
	const text = Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8');
	const c = text.match(/(?:^|[^0-9])([0-9]{6})(?:[^0-9]|$)/);
	if (!c)
		throw new Error(`no code in ${file}`);
	return c[1];
}

// waitForMail TO BEFORE: the name of a new message (not in BEFORE) to TO
async function waitForMail(to, before) {
	const until = Date.now() + TIMEOUT;
	for (;;) {
		for (const f of mails()) {
			if (before.includes(f))
				continue;
			const raw = fs.readFileSync(path.join(OUTBOX, f), 'latin1');
			if (new RegExp(`^To: .*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(raw))
				return f;
		}
		if (Date.now() > until)
			throw new Error(`no message to ${to} in ${OUTBOX}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

let page;
let st;
const expectText = (sel, want) => st.expectText(sel, want);
const expectAttr = (sel, name, want) => st.expectAttr(sel, name, want);
const visible = (sel, want) => st.visible(sel, want);
const step = (name, fn) => st.step(name, fn);

// tooShort PASSWORD LANG TABLE: the new PASSWORD is refused as too short
// (8 characters, logto-spec 6.5.3), with the API's message in LANG and the
// issue in the page's words
async function tooShort(password, lang, table) {
	await page.fill('#new-password', password);
	await page.press('#new-password', 'Enter');
	await expectAttr('#error', 'data-code', 'password.rejected');
	await expectText('#error-message', apiText(lang, 'password.rejected'));
	await expectText('#error-issues li[data-code="password_rejected.too_short"]',
		fill(table['password_rejected.too_short'], { min: 8 }));
	await visible('#error-issues-title', true);
	if (await page.inputValue('#new-password') !== '')
		throw new Error('the new password stayed in its input');
}

main('account-page.js', async () => {
	const de = pageText('de');
	const ja = pageText('ja');
	const browser = await launch();
	const requests = [];
	let code = '';
	try {
		const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1000, height: 900 } });
		page = await context.newPage();
		st = new Steps(page);
		page.on('request', (r) => requests.push(r.url()));

		await step('profile', async () => {
			await page.goto(BASE + '/account/');
			await page.waitForSelector('body[data-ready="1"]', { timeout: TIMEOUT });
			await expectText('h1', de.title);
			await expectAttr('html', 'lang', 'de');
			await expectText('#p-username', 'alice');
			await expectText('#p-email', 'alice@example.com');
			await expectText('#p-password', de.password_set);
			await visible('#error', false);
			// every input and the select has a label
			const unlabelled = await page.evaluate(() =>
				[...document.querySelectorAll('input, select')]
					.filter((e) => e.labels === null || e.labels.length === 0)
					.map((e) => e.id || e.name));
			if (unlabelled.length)
				throw new Error(`inputs without a label: ${unlabelled.join(' ')}`);
		});

		await step('stepup-password', async () => {
			// by keyboard: the method radio, then the password and Enter
			await page.focus('input[name=method][value=password]');
			await page.keyboard.press('Space');
			await page.focus('#stepup-password');
			await page.keyboard.type(PASSWORD);
			await page.keyboard.press('Enter');
			await expectText('#notice', de.stepup_done);
			const state = await page.textContent('#stepup-state');
			if (!state.startsWith(de.stepup_until.split('{')[0]))
				throw new Error(`step-up state "${state}"`);
			if (await page.inputValue('#stepup-password') !== '')
				throw new Error('the password stayed in its input');
		});

		await step('password-too-short', async () => {
			await tooShort('kurz', 'de', de);
		});

		await step('code-sent', async () => {
			const before = mails();
			await page.fill('#new-email', NEW_EMAIL);
			await page.press('#new-email', 'Enter');
			await expectText('#notice', fill(de.code_sent, { to: NEW_EMAIL }));
			await visible('#email-code', true);
			code = codeOfMail(await waitForMail(NEW_EMAIL, before));
		});

		await step('wrong-code', async () => {
			const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
			await page.fill('#email-code', wrong);
			await page.press('#email-code', 'Enter');
			await expectAttr('#error', 'data-code', 'verification_code.code_mismatch');
			await expectText('#error-message', apiText('de', 'verification_code.code_mismatch'));
			await expectText('#p-email', 'alice@example.com');
		});

		await step('email-changed', async () => {
			await page.fill('#email-code', code);
			await page.click('#email-code-form button[type=submit]');
			await expectText('#notice', fill(de.email_changed, { value: NEW_EMAIL }));
			await expectText('#p-email', NEW_EMAIL);
			await visible('#email-code-form', false);
			await visible('#error', false);
		});

		await step('stepup-code', async () => {
			// the step-up again, by a code to the (new) current address,
			// chosen by keyboard: from the password radio, arrow right
			await page.focus('input[name=method][value=password]');
			await page.keyboard.press('ArrowRight');
			await visible('#stepup-send-form', true);
			await visible('#stepup-password-form', false);
			const before = mails();
			await page.focus('#stepup-send');
			await page.keyboard.press('Enter');
			await expectText('#notice', fill(de.code_sent, { to: NEW_EMAIL }));
			const c = codeOfMail(await waitForMail(NEW_EMAIL, before));
			await page.fill('#stepup-code', c);
			await page.press('#stepup-code', 'Enter');
			await expectText('#notice', de.stepup_done);
		});

		await step('records-revoke', async () => {
			// newest first: the code step-up, then the password step-up
			await page.waitForFunction(() =>
				document.querySelectorAll('#records-body tr').length === 2, null, { timeout: TIMEOUT });
			await expectText('#records-body tr:first-child td:first-child', de.type_EmailVerificationCode);
			await expectText('#records-body tr:first-child td:nth-child(2)', 'a***@example.org');
			await expectText('#records-body tr:first-child td:nth-child(3)', de.yes);
			await expectText('#records-body tr:last-child td:first-child', de.type_Password);
			await page.click('#records-body tr:first-child button.revoke');
			await expectText('#notice', de.revoked);
			await page.waitForFunction(() =>
				document.querySelectorAll('#records-body tr').length === 1, null, { timeout: TIMEOUT });
			await expectText('#records-body tr:first-child td:first-child', de.type_Password);
		});

		await step('japanese', async () => {
			await page.selectOption('#lang', 'ja');
			await expectText('h1', ja.title);
			await expectAttr('html', 'lang', 'ja');
			await expectText('#p-email', NEW_EMAIL);
			await expectText('#records-body tr:first-child td:first-child', ja.type_Password);
			// the page's step-up was the revoked record: the API says so,
			// in the page's language now
			await page.fill('#new-password', 'x');
			await page.press('#new-password', 'Enter');
			await expectAttr('#error', 'data-code', 'verification_record.permission_denied');
			await expectText('#error-message', apiText('ja', 'verification_record.permission_denied'));
			await expectText('#stepup-state', ja.stepup_none);
			await page.check('input[name=method][value=password]');
			await page.fill('#stepup-password', PASSWORD);
			await page.press('#stepup-password', 'Enter');
			await expectText('#notice', ja.stepup_done);
			await tooShort('x', 'ja', ja);
		});

		await step('no-secrets-in-urls', async () => {
			if (page.url() !== BASE + '/account/')
				throw new Error(`the page moved to ${page.url()}`);
			const token = fs.readFileSync(env('TOKEN_FILE'), 'utf8').trim();
			for (const u of requests) {
				for (const s of [PASSWORD, encodeURIComponent(PASSWORD), code, token, 'kurz'])
					if (u.includes(s))
						throw new Error(`a secret in the URL ${u}`);
			}
			if (requests.length < 10)
				throw new Error(`only ${requests.length} requests seen`);
		});
	} finally {
		await browser.close();
	}
});
