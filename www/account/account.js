/* account.js: reverify's account page (index.html), plain JavaScript
 *
 * It talks to the Account API of the same origin exactly as Logto's
 * Account Center does (logto-spec 6.3): a step-up first (POST
 * /api/verifications/password, or a code to the current address:
 * .../verification-code and .../verify), then the change with the step-up
 * record's id in the logto-verification-id header (6.1), and for a new
 * e-mail address or phone number a second verified code to the new one
 * (newIdentifierVerificationRecordId, 6.6.1). Passkeys (logto-spec 2.5,
 * 8.1.9; issue 20): the browser's WebAuthn API with the options the API
 * gives, registered and then bound to the account under a step-up, or
 * used as a step-up themselves; an authenticator app (TOTP) likewise.
 * The API's error messages come localised through Accept-Language and are
 * shown as they come; the page's own strings are in i18n/LANG.json.
 *
 * Secrets (the token, passwords, codes, record ids) stay in this closure:
 * never in the URL, the DOM's attributes or storage; an input that held
 * one is emptied once it was sent; a new TOTP secret alone is shown (as
 * text and as its QR code) until it is bound. Everything from the server is shown
 * with textContent, never parsed as HTML. The token comes from
 * accountToken() (token.js), which a site replaces. */
'use strict';

(function () {
	const LANGS = ['en', 'de', 'fr', 'ja', 'ko'];
	const $ = (id) => document.getElementById(id);

	let lang = 'en';
	let text = {};
	let profile = null;
	let records = null;
	/* the second factors (GET /api/my-account/mfa-verifications), null
	 * until loaded; factorsError: why they could not be */
	let factors = null;
	let factorsError = '';
	/* a TOTP secret being set up: {secret}, shown until it is bound */
	let totp = null;
	/* the step-up record: {id, expires (ms)}, or null */
	let stepup = null;
	/* a code sent for the step-up: {type, value, id, expires} */
	let stepupCode = null;
	/* a code sent to a new address: {email: {value, id, verified}, phone: ...} */
	const pending = {};

	/* t KEY [VARS]: the page's string KEY, {name} replaced from VARS */
	function t(key, vars) {
		const s = Object.prototype.hasOwnProperty.call(text, key) ? text[key] : key;
		return s.replace(/\{(\w+)\}/g, (m, k) =>
			vars && Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m);
	}

	function pickLang() {
		try {
			const s = localStorage.getItem('reverify.lang');
			if (LANGS.includes(s))
				return s;
		} catch (e) { /* storage may be off */ }
		for (const l of navigator.languages || [navigator.language || 'en']) {
			const base = String(l).toLowerCase().split('-')[0];
			if (LANGS.includes(base))
				return base;
		}
		return 'en';
	}

	async function setLang(l) {
		if (!LANGS.includes(l))
			l = 'en';
		const r = await fetch('i18n/' + l + '.json', { cache: 'no-store', redirect: 'error' });
		if (!r.ok)
			throw new Error('no strings for ' + l);
		text = await r.json();
		lang = l;
		document.documentElement.lang = l;
		for (const el of document.querySelectorAll('[data-i18n]'))
			el.textContent = t(el.dataset.i18n);
		$('lang').value = l;
		renderProfile();
		renderStepup();
		renderFactors();
		renderRecords();
	}

	/* api METHOD PATH [BODY [STEPUP-ID]]: the JSON answer (null for 204);
	 * throws {code, message, data, status} with the API's error, or with a
	 * code of '' for a missing token or no answer */
	async function api(method, path, body, stepupId) {
		let token = '';
		try {
			token = await accountToken();
		} catch (e) {
			token = '';
		}
		if (!token)
			throw { code: '', message: t('no_token') };
		const headers = {
			'Authorization': 'Bearer ' + token,
			'Accept': 'application/json',
			'Accept-Language': lang,
		};
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		if (stepupId)
			headers['logto-verification-id'] = stepupId;
		let r;
		try {
			r = await fetch('/api' + path, {
				method: method,
				headers: headers,
				body: body === undefined ? undefined : JSON.stringify(body),
				cache: 'no-store',
				credentials: 'omit',
				redirect: 'error',
			});
		} catch (e) {
			throw { code: '', message: t('network_error') };
		}
		let data = null;
		if ((r.headers.get('Content-Type') || '').startsWith('application/json')) {
			try {
				data = await r.json();
			} catch (e) {
				data = null;
			}
		}
		if (!r.ok) {
			if (data && typeof data.code === 'string' && typeof data.message === 'string')
				throw { code: data.code, message: data.message, data: data.data, status: r.status };
			throw { code: 'http_' + r.status, message: 'HTTP ' + r.status, status: r.status };
		}
		return data;
	}

	function clearMessages() {
		$('notice').hidden = true;
		$('notice').textContent = '';
		$('error').hidden = true;
		delete $('error').dataset.code;
		$('error-message').textContent = '';
		$('error-issues').replaceChildren();
		$('error-issues-title').hidden = true;
	}

	function notice(key, vars) {
		$('notice').textContent = t(key, vars);
		$('notice').hidden = false;
	}

	/* showError ERR: the API's message as it came, and for password.rejected
	 * each issue of its data (logto-spec 6.5.3), in the page's words when
	 * it knows the issue, else by its code */
	function showError(err) {
		$('error-message').textContent = err.message || String(err);
		$('error').dataset.code = err.code || '';
		const list = $('error-issues');
		list.replaceChildren();
		if (Array.isArray(err.data)) {
			for (const issue of err.data) {
				if (!issue || typeof issue.code !== 'string')
					continue;
				const li = document.createElement('li');
				li.dataset.code = issue.code;
				li.textContent = t(issue.code, issue.interpolation);
				list.append(li);
			}
		}
		$('error-issues-title').hidden = list.children.length === 0;
		$('error').hidden = false;
		if (err.code === 'verification_record.permission_denied') {
			stepup = null;
			renderStepup();
		}
	}

	/* run BUTTON FN: FN with the messages cleared and BUTTON disabled
	 * meanwhile; an error is shown */
	async function run(button, fn) {
		clearMessages();
		if (button)
			button.disabled = true;
		try {
			await fn();
		} catch (err) {
			showError(err);
		} finally {
			if (button)
				button.disabled = false;
		}
	}

	function onSubmit(formId, fn) {
		const form = $(formId);
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			run(form.querySelector('button[type=submit]'), fn);
		});
	}

	function onClick(id, fn) {
		const b = $(id);
		b.addEventListener('click', () => run(b, fn));
	}

	/* take ID: the value of input ID, which is emptied */
	function take(id) {
		const v = $(id).value;
		$(id).value = '';
		return v;
	}

	function show(id, on) {
		$(id).hidden = !on;
	}

	function fmtTime(ms) {
		return new Date(ms).toLocaleTimeString(lang);
	}

	/* ---- the profile (logto-spec 6.4) ---- */

	function renderProfile() {
		const none = t('none');
		const p = profile || {};
		$('p-username').textContent = p.username || none;
		$('p-name').textContent = p.name || none;
		$('p-email').textContent = p.primaryEmail || none;
		$('p-phone').textContent = p.primaryPhone || none;
		$('p-password').textContent = p.hasPassword ? t('password_set') : t('password_unset');
		$('profile').setAttribute('aria-busy', profile ? 'false' : 'true');
		for (const input of document.querySelectorAll('input[name=method]')) {
			if (input.value === 'email')
				input.disabled = !p.primaryEmail;
			else if (input.value === 'phone')
				input.disabled = !p.primaryPhone;
			else if (input.value === 'passkey')
				input.disabled = !hasPasskey();
			else if (input.value === 'totp')
				input.disabled = !hasFactor('Totp');
			else
				input.disabled = profile !== null && !p.hasPassword;
		}
	}

	async function loadProfile() {
		profile = await api('GET', '/my-account');
		renderProfile();
	}

	/* ---- the step-up (logto-spec 2.1-2.3, 3.7) ---- */

	function method() {
		const c = document.querySelector('input[name=method]:checked');
		return c ? c.value : 'password';
	}

	function renderStepup() {
		if (stepup && Date.now() < stepup.expires)
			$('stepup-state').textContent = t('stepup_until', { time: fmtTime(stepup.expires) });
		else
			$('stepup-state').textContent = t('stepup_none');
		const m = method();
		const byCode = m === 'email' || m === 'phone';
		show('stepup-password-form', m === 'password');
		show('stepup-send-form', byCode);
		show('stepup-code-form', byCode && stepupCode !== null && stepupCode.type === m);
		show('stepup-passkey-form', m === 'passkey');
		show('stepup-totp-form', m === 'totp');
	}

	/* stepupId: the id of a live step-up record; else it says so, moves
	 * the focus to the step-up and returns null */
	function stepupId() {
		if (stepup && Date.now() < stepup.expires - 5000)
			return stepup.id;
		const key = stepup ? 'stepup_expired' : 'stepup_first';
		stepup = null;
		renderStepup();
		showError({ code: '', message: t(key) });
		$('stepup').focus();
		return null;
	}

	function stepupDone(id, expiresAt) {
		const e = Date.parse(expiresAt || '');
		/* a record lives 600 s (logto-spec 3.4) when the answer says not */
		stepup = { id: id, expires: Number.isNaN(e) ? Date.now() + 600000 : e };
		stepupCode = null;
		renderStepup();
		notice('stepup_done');
	}

	onSubmit('stepup-password-form', async () => {
		const r = await api('POST', '/verifications/password',
			{ password: take('stepup-password') });
		stepupDone(r.verificationRecordId, r.expiresAt);
		await loadRecords();
	});

	onSubmit('stepup-send-form', async () => {
		const type = method();
		const value = type === 'email' ? profile && profile.primaryEmail
			: profile && profile.primaryPhone;
		if (!value)
			return;
		const r = await api('POST', '/verifications/verification-code',
			{ identifier: { type: type, value: value } });
		stepupCode = { type: type, value: value, id: r.verificationRecordId, expires: r.expiresAt };
		renderStepup();
		notice('code_sent', { to: value });
		$('stepup-code').focus();
	});

	onSubmit('stepup-code-form', async () => {
		const c = stepupCode;
		if (!c)
			return;
		await api('POST', '/verifications/verification-code/verify', {
			identifier: { type: c.type, value: c.value },
			verificationId: c.id,
			code: take('stepup-code'),
		});
		stepupDone(c.id, c.expires);
		await loadRecords();
	});

	/* a step-up by a passkey (ours, issue 20): the ceremony's options,
	 * the browser's assertion, its check; the record is the step-up */
	onSubmit('stepup-passkey-form', async () => {
		const r = await api('POST', '/verifications/web-authn/authentication');
		const o = r.authenticationOptions || {};
		const publicKey = Object.assign({}, o, {
			challenge: fromB64u(o.challenge),
			allowCredentials: (o.allowCredentials || []).map((c) =>
				Object.assign({}, c, { id: fromB64u(c.id) })),
		});
		const cred = await ceremony(() => navigator.credentials.get({ publicKey: publicKey }));
		await api('POST', '/verifications/web-authn/authentication/verify',
			{ verificationRecordId: r.verificationRecordId, payload: credentialJSON(cred) });
		stepupDone(r.verificationRecordId, r.expiresAt);
		await loadRecords();
		await loadFactors();
	});

	/* a step-up by an authenticator app's code (ours, issue 20) */
	onSubmit('stepup-totp-form', async () => {
		const r = await api('POST', '/verifications/totp', { code: take('stepup-totp').trim() });
		stepupDone(r.verificationRecordId, r.expiresAt);
		await loadRecords();
		await loadFactors();
	});

	for (const input of document.querySelectorAll('input[name=method]'))
		input.addEventListener('change', () => {
			clearMessages();
			renderStepup();
		});

	/* ---- a new e-mail address or phone number (logto-spec 6.3, 6.6) ---- */

	function identifierFlow(kind) {
		onSubmit(kind + '-send-form', async () => {
			if (!stepupId())
				return;
			let value = $('new-' + kind).value.trim();
			if (kind === 'phone')
				value = value.replace(/[\s()+.-]/g, '');
			const r = await api('POST', '/verifications/verification-code',
				{ identifier: { type: kind, value: value } });
			pending[kind] = { value: value, id: r.verificationRecordId, verified: false };
			$(kind + '-code').required = true;
			show(kind + '-code-form', true);
			notice('code_sent', { to: value });
			$(kind + '-code').focus();
		});

		onSubmit(kind + '-code-form', async () => {
			const p = pending[kind];
			if (!p)
				return;
			const code = take(kind + '-code');
			const id = stepupId();
			if (!id)
				return;
			if (!p.verified) {
				await api('POST', '/verifications/verification-code/verify', {
					identifier: { type: kind, value: p.value },
					verificationId: p.id,
					code: code,
				});
				p.verified = true;
				/* a retry (after a new step-up, say) needs no code */
				$(kind + '-code').required = false;
			}
			await api('POST', '/my-account/primary-' + kind,
				{ [kind]: p.value, newIdentifierVerificationRecordId: p.id }, id);
			delete pending[kind];
			$(kind + '-code').required = true;
			$('new-' + kind).value = '';
			show(kind + '-code-form', false);
			await loadProfile();
			await loadRecords();
			notice(kind + '_changed', { value: p.value });
		});

		onClick(kind + '-remove', async () => {
			const id = stepupId();
			if (!id)
				return;
			await api('DELETE', '/my-account/primary-' + kind, undefined, id);
			await loadProfile();
			notice(kind + '_removed');
		});
	}
	identifierFlow('email');
	identifierFlow('phone');

	/* ---- password, username, name (logto-spec 6.5, 6.7) ---- */

	onSubmit('password-form', async () => {
		/* the initial password needs no step-up (6.5.1) */
		const needs = !profile || profile.hasSecurityVerificationMethod !== false;
		const id = needs ? stepupId() : null;
		if (needs && !id)
			return;
		await api('POST', '/my-account/password', { password: take('new-password') }, id);
		await loadProfile();
		notice('password_changed');
	});

	onSubmit('username-form', async () => {
		const id = stepupId();
		if (!id)
			return;
		const value = $('new-username').value.trim();
		await api('PATCH', '/my-account', { username: value }, id);
		$('new-username').value = '';
		await loadProfile();
		notice('username_changed', { value: value });
	});

	onSubmit('name-form', async () => {
		const value = $('new-name').value.trim();
		await api('PATCH', '/my-account', { name: value === '' ? null : value });
		$('new-name').value = '';
		await loadProfile();
		notice('name_changed');
	});

	/* tableRow CELLS ACTION LABEL FN: a row of the texts CELLS and a
	 * button ACTION (its class, and the page's word) labelled LABEL,
	 * which runs FN */
	function tableRow(cells, action, label, fn) {
		const tr = document.createElement('tr');
		for (const c of cells) {
			const td = document.createElement('td');
			td.textContent = c;
			tr.append(td);
		}
		const td = document.createElement('td');
		const b = document.createElement('button');
		b.type = 'button';
		b.className = action;
		b.textContent = t(action);
		b.setAttribute('aria-label', t(action) + ': ' + label);
		b.addEventListener('click', () => run(b, fn));
		td.append(b);
		tr.append(td);
		return tr;
	}

	/* ---- second factors: list, add a passkey, remove (issue 20) ---- */

	/* fromB64u S: the bytes of base64url S, as an ArrayBuffer */
	function fromB64u(s) {
		const str = String(s || '').replace(/-/g, '+').replace(/_/g, '/');
		const bin = atob(str + '==='.slice((str.length + 3) % 4));
		const bytes = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++)
			bytes[i] = bin.charCodeAt(i);
		return bytes.buffer;
	}

	/* toB64u BUF: base64url of an ArrayBuffer, no padding */
	function toB64u(buf) {
		const bytes = new Uint8Array(buf);
		let bin = '';
		for (let i = 0; i < bytes.length; i++)
			bin += String.fromCharCode(bytes[i]);
		return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
	}

	/* credentialJSON CRED: a PublicKeyCredential as the JSON the API takes
	 * (RegistrationResponseJSON, AuthenticationResponseJSON) */
	function credentialJSON(cred) {
		const r = cred.response;
		const response = { clientDataJSON: toB64u(r.clientDataJSON) };
		if (r.attestationObject) {
			response.attestationObject = toB64u(r.attestationObject);
			response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
		} else {
			response.authenticatorData = toB64u(r.authenticatorData);
			response.signature = toB64u(r.signature);
			if (r.userHandle)
				response.userHandle = toB64u(r.userHandle);
		}
		const json = {
			id: cred.id,
			rawId: toB64u(cred.rawId),
			type: cred.type,
			response: response,
			clientExtensionResults: cred.getClientExtensionResults(),
		};
		if (cred.authenticatorAttachment)
			json.authenticatorAttachment = cred.authenticatorAttachment;
		return json;
	}

	/* ceremony FN: the credential FN's promise gives; a refusal of the
	 * browser or the authenticator in the page's words */
	async function ceremony(fn) {
		if (!window.PublicKeyCredential || !navigator.credentials)
			throw { code: '', message: t('passkey_unsupported') };
		try {
			const cred = await fn();
			if (!cred)
				throw new Error('no credential');
			return cred;
		} catch (e) {
			const key = e && e.name === 'NotAllowedError' ? 'passkey_cancelled'
				: e && e.name === 'InvalidStateError' ? 'passkey_exists' : 'passkey_failed';
			throw { code: '', message: t(key) };
		}
	}

	function hasFactor(type) {
		return Array.isArray(factors) && factors.some((f) => f.type === type);
	}

	function hasPasskey() {
		return hasFactor('WebAuthn') && Boolean(window.PublicKeyCredential);
	}

	function renderFactors() {
		const body = $('factors-body');
		body.replaceChildren();
		const list = factors || [];
		for (const f of list) {
			const cells = [
				t('factor_' + f.type),
				f.name || '',
				fmtTime(Date.parse(f.createdAt)),
				f.lastUsedAt ? fmtTime(Date.parse(f.lastUsedAt)) : t('never'),
			];
			body.append(tableRow(cells, 'remove', cells[0] + ' ' + cells[1], async () => {
				const id = stepupId();
				if (!id)
					return;
				await api('DELETE', '/my-account/mfa-verifications/' + encodeURIComponent(f.id),
					undefined, id);
				await loadFactors();
				notice('factor_removed');
			}));
		}
		$('factors').hidden = list.length === 0;
		$('factors-empty').hidden = factors === null || list.length > 0;
		$('factors-state').textContent = factorsError;
		$('factors-state').hidden = factorsError === '';
		/* one authenticator app at most (user.totp_already_in_use) */
		show('totp-start-form', factors !== null && !hasFactor('Totp') && totp === null);
		show('totp-form', totp !== null);
		$('totp-qr').alt = t('totp_qr');
		renderProfile();
	}

	async function loadFactors() {
		const r = await api('GET', '/my-account/mfa-verifications');
		factors = Array.isArray(r) ? r : [];
		factorsError = '';
		renderFactors();
	}

	/* a new passkey: the step-up first (the binding needs it), then the
	 * registration ceremony (2.5) and the binding (8.1.9) */
	onSubmit('passkey-form', async () => {
		const id = stepupId();
		if (!id)
			return;
		const r = await api('POST', '/verifications/web-authn/registration');
		const o = r.registrationOptions || {};
		const publicKey = Object.assign({}, o, {
			challenge: fromB64u(o.challenge),
			user: Object.assign({}, o.user, { id: fromB64u(o.user && o.user.id) }),
			excludeCredentials: (o.excludeCredentials || []).map((c) =>
				Object.assign({}, c, { id: fromB64u(c.id) })),
		});
		const cred = await ceremony(() => navigator.credentials.create({ publicKey: publicKey }));
		await api('POST', '/verifications/web-authn/registration/verify',
			{ verificationRecordId: r.verificationRecordId, payload: credentialJSON(cred) });
		const name = $('passkey-name').value.trim();
		const bind = { type: 'WebAuthn', newIdentifierVerificationRecordId: r.verificationRecordId };
		if (name !== '')
			bind.name = name;
		await api('POST', '/my-account/mfa-verifications', bind, id);
		$('passkey-name').value = '';
		await loadFactors();
		notice('passkey_added');
	});

	/* an authenticator app (8.1.9): a new secret, shown as a QR code and
	 * as text (the one place where the page shows a secret: the user
	 * needs it), then bound with the app's first code under a step-up;
	 * the secret leaves the page once bound */
	onSubmit('totp-start-form', async () => {
		if (!stepupId())
			return;
		const r = await api('POST', '/my-account/mfa-verifications/totp-secret/generate');
		totp = { secret: r.secret };
		/* only an image of ours: an SVG as a data: URL (CSP img-src data:) */
		const qr = String(r.secretQrCode || '');
		$('totp-qr').src = qr.startsWith('data:image/svg+xml;base64,') ? qr : '';
		$('totp-secret').textContent = r.secret;
		renderFactors();
		$('totp-code').focus();
	});

	function endTotp() {
		totp = null;
		$('totp-qr').removeAttribute('src');
		$('totp-secret').textContent = '';
		$('totp-code').value = '';
	}

	onSubmit('totp-form', async () => {
		if (!totp)
			return;
		const id = stepupId();
		if (!id)
			return;
		await api('POST', '/my-account/mfa-verifications',
			{ type: 'Totp', secret: totp.secret, code: take('totp-code').trim() }, id);
		endTotp();
		await loadFactors();
		notice('totp_added');
	});

	/* ---- one's step-ups: list and revoke (reverify's extension) ---- */

	function renderRecords() {
		const body = $('records-body');
		body.replaceChildren();
		const list = records || [];
		for (const r of list) {
			const cells = [
				t('type_' + r.type),
				r.identifier || '',
				r.verified ? t('yes') : t('no'),
				fmtTime(Date.parse(r.createdAt)),
				fmtTime(Date.parse(r.expiresAt)),
			];
			body.append(tableRow(cells, 'revoke', cells[0] + ' ' + cells[3], async () => {
				await api('DELETE', '/verifications/' + encodeURIComponent(r.handle));
				await loadRecords();
				notice('revoked');
			}));
		}
		$('records').hidden = list.length === 0;
		$('records-empty').hidden = records === null || list.length > 0;
	}

	async function loadRecords() {
		const r = await api('GET', '/verifications');
		records = r && Array.isArray(r.records) ? r.records : [];
		renderRecords();
	}

	onClick('reload', loadProfile);
	onClick('records-refresh', loadRecords);

	$('lang').addEventListener('change', () => {
		const l = $('lang').value;
		try {
			localStorage.setItem('reverify.lang', l);
		} catch (e) { /* storage may be off */ }
		run(null, () => setLang(l));
	});

	run(null, async () => {
		await setLang(pickLang());
		await loadProfile();
		await loadRecords();
		/* a token without the identities scope, or second factors off
		 * (<account-center mfa>): the rest of the page works */
		try {
			await loadFactors();
		} catch (err) {
			factorsError = err.message || String(err);
			renderFactors();
		}
	}).then(() => {
		/* the first load is over, well or not (the browser test waits) */
		document.body.dataset.ready = '1';
	});
})();
