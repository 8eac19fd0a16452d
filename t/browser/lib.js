// lib.js: what the browser scripts of the e2e tests share (account-page.js,
// account-mfa.js): the environment, the page's and the API's words,
// waiting for an element's text or attribute, and a step with its
// screenshot and its "ok STEP" line in $STEPS
//
// Environment: SHOTS, STEPS, PLAYWRIGHT_CORE (the module's directory),
// CHROMIUM (the browser), top_srcdir.
'use strict';

const fs = require('fs');
const path = require('path');

const TIMEOUT = 8000;

const env = (name) => {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set`);
	return v;
};

// pageText LANG: the page's table www/account/i18n/LANG.json
const pageText = (lang) =>
	JSON.parse(fs.readFileSync(path.join(env('top_srcdir'), 'www/account/i18n', lang + '.json'), 'utf8'));

// apiText LANG CODE: the message of CODE in the API's catalog conf/locale/LANG.xml
const apiText = (lang, code) => {
	const xml = fs.readFileSync(path.join(env('top_srcdir'), 'conf/locale', lang + '.xml'), 'utf8');
	const m = xml.match(new RegExp(`<message code="${code.replace(/\./g, '\\.')}">([^<]*)</message>`));
	if (!m)
		throw new Error(`no message ${code} in conf/locale/${lang}.xml`);
	return m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
		.replace(/&quot;/g, '"').replace(/&apos;/g, "'");
};

const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

// launch: Debian's Chromium, headless, quiet
async function launch() {
	const { chromium } = require(env('PLAYWRIGHT_CORE'));
	return chromium.launch({
		executablePath: env('CHROMIUM'),
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
}

// Steps(PAGE): the checks on PAGE
class Steps {
	constructor(page) {
		this.page = page;
		this.shot = 0;
		page.on('console', (m) => {
			if (m.type() === 'error')
				process.stderr.write(`browser console: ${m.text()}\n`);
		});
	}

	// expectText SELECTOR WANT: wait until SELECTOR's text is WANT
	async expectText(sel, want) {
		const page = this.page;
		try {
			await page.waitForFunction(([s, w]) => {
				const el = document.querySelector(s);
				return el !== null && el.textContent.trim() === w;
			}, [sel, want], { timeout: TIMEOUT });
		} catch (e) {
			const got = await page.evaluate((s) => {
				const el = document.querySelector(s);
				return el === null ? '(no element)' : el.textContent.trim();
			}, sel);
			const err = await page.evaluate(() => document.getElementById('error').textContent.trim());
			throw new Error(`${sel}: want "${want}", got "${got}" (error box: "${err}")`);
		}
	}

	// expectAttr SELECTOR NAME WANT: wait until SELECTOR's attribute NAME is WANT
	async expectAttr(sel, name, want) {
		const page = this.page;
		try {
			await page.waitForFunction(([s, n, w]) => {
				const el = document.querySelector(s);
				return el !== null && el.getAttribute(n) === w;
			}, [sel, name, want], { timeout: TIMEOUT });
		} catch (e) {
			const got = await page.evaluate(([s, n]) => {
				const el = document.querySelector(s);
				return el === null ? '(no element)' : el.getAttribute(n);
			}, [sel, name]);
			throw new Error(`${sel} ${name}: want "${want}", got "${got}"`);
		}
	}

	// visible SELECTOR WANT: wait until SELECTOR is shown (WANT) or hidden
	async visible(sel, want) {
		await this.page.waitForSelector(sel, { state: want ? 'visible' : 'hidden', timeout: TIMEOUT });
	}

	// count SELECTOR N: wait until N elements match SELECTOR
	async count(sel, n) {
		try {
			await this.page.waitForFunction(([s, k]) =>
				document.querySelectorAll(s).length === k, [sel, n], { timeout: TIMEOUT });
		} catch (e) {
			const got = await this.page.evaluate((s) => document.querySelectorAll(s).length, sel);
			throw new Error(`${sel}: want ${n} of them, got ${got}`);
		}
	}

	// step NAME FN: run FN, then a screenshot NN-NAME.png in $SHOTS, then
	// "ok NAME" in $STEPS
	async step(name, fn) {
		await fn();
		this.shot++;
		await this.page.screenshot({
			path: path.join(env('SHOTS'), `${String(this.shot).padStart(2, '0')}-${name}.png`),
			fullPage: true,
		});
		fs.appendFileSync(env('STEPS'), `ok ${name}\n`);
	}
}

// main FN: run FN; the first failure ends the script with 1, its reason on stderr
function main(name, fn) {
	fn().catch((e) => {
		process.stderr.write(`${name}: ${e && e.stack ? e.stack : e}\n`);
		process.exit(1);
	});
}

module.exports = { TIMEOUT, env, pageText, apiText, fill, launch, Steps, main };
