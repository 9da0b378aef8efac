/*
 * The shell of the page: login (the router's root login through rpcd, or wgpy web's
 * password and first-start setup), the header with the router's
 * name, the tab menu, the interface chooser, and switching views on #hash changes.
 * Each view (view-*.js, wizard.js) is { title, render(ctx) -> Node or Promise, leave(),
 * conflict(notice) }; the last two are optional. A save refused as a conflict (changed elsewhere
 * since loaded) reloads the view, by its conflict() or by rendering it again, and puts the
 * notice on top.
 *
 * `wgpy.web info` is wgpy web's only (it says whether a password exists yet); on a router
 * the null session may not call it, and the page simply asks for root's password.
 */
'use strict';

wgpy.app = (function () {
	var TABS = ['status', 'peers', 'interface', 'wizard', 'import'];
	var state = { interfaces: [], ifname: null, view: null };
	var viewNode = function () { return document.getElementById('view'); };

	/* firstStart: no password exists yet; setupOpen: the server printed a setup code */
	function loginForm(firstStart, setupOpen) {
		var password = E('input', { 'type': 'password', 'id': 'login-password', 'name': 'password',
			'class': 'cbi-input-password', 'autocomplete': firstStart ? 'new-password' : 'current-password', 'required': true });
		var user = E('input', { 'type': 'text', 'id': 'login-username', 'name': 'username',
			'class': 'cbi-input-text', 'autocomplete': 'username', 'value': 'root', 'required': true });
		var code = E('input', { 'type': 'text', 'id': 'login-setup-code', 'name': 'setup_code', 'class': 'cbi-input-text',
			'autocomplete': 'off', 'spellcheck': 'false', 'required': true });
		var message = E('div', { 'id': 'login-message' });
		if (firstStart && !setupOpen)
			return E('div', { 'class': 'cbi-section login', 'id': 'login-form' }, [
				E('h2', _('Set a password')),
				wgpy.dom.notice('info', _('No password is set yet. Set one on the router with `wgpy passwd`, then reload this page.'))
			]);
		var form = E('form', { 'class': 'cbi-section login', 'id': 'login-form' }, [
			E('h2', firstStart ? _('Set a password') : _('Authorization Required')),
			E('p', firstStart
				? _('No password is set yet. Enter the setup code that wgpy web wrote to the system log (`logread | grep wgpy`) or to its console, and choose the password for this page (at least 8 characters).')
				: _('Please enter the router\'s root password (or the wgpy password).')),
			firstStart ? wgpy.dom.row(_('Setup code'), code) : wgpy.dom.row(_('Username'), user),
			wgpy.dom.row(_('Password'), password),
			message,
			E('div', { 'class': 'cbi-page-actions' },
				E('button', { 'class': 'cbi-button cbi-button-apply', 'type': 'submit', 'id': 'login-submit' },
					firstStart ? _('Set password') : _('Log in')))
		]);
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			var request = firstStart ? wgpy.rpc.login('wgpy.web', 'setup', { setup_code: code.value, password: password.value })
				: wgpy.rpc.login('session', 'login', { username: user.value, password: password.value });
			request.then(start).catch(function (err) {
				wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
				password.select();
			});
		});
		return form;
	}

	function showLogin() {
		leaveView();
		wgpy.rpc.setSession(null);
		wgpy.dom.content(document.getElementById('header-right'), []);
		return wgpy.rpc.ubus(wgpy.rpc.NULL_SID, 'wgpy.web', 'info', {}).then(function (result) {
			return result[1] || { password_set: true };
		}, function () { return { password_set: true }; }).then(function (s) {
			wgpy.dom.content(viewNode(), loginForm(!s.password_set, s.setup_open));
			var first = document.querySelector('#login-form input');
			if (first)
				first.focus();
		});
	}

	function logout() {
		wgpy.rpc.logout().finally(showLogin);
	}

	function leaveView() {
		if (state.view && state.view.leave)
			state.view.leave();
		state.view = null;
	}

	function tabMenu(current) {
		return E('ul', { 'class': 'cbi-tabmenu', 'role': 'tablist' }, TABS.map(function (name) {
			return E('li', { 'class': name === current ? 'cbi-tab' : 'cbi-tab-disabled' },
				E('a', { 'href': '#' + name, 'id': 'tab-' + name, 'role': 'tab',
					'aria-selected': name === current ? 'true' : 'false' }, wgpy.views[name].title));
		}));
	}

	function chooser() {
		if (state.interfaces.length < 2)
			return null;
		var select = E('select', { 'id': 'ifname-select', 'change': function () {
			state.ifname = select.value;
			render();
		} }, state.interfaces.map(function (name) {
			return E('option', { 'value': name, 'selected': name === state.ifname }, name);
		}));
		return E('label', { 'class': 'ifname-chooser' }, [_('Interface') + ' ', select]);
	}

	function context() {
		return {
			ifname: state.ifname,
			interfaces: state.interfaces,
			go: function (tab) { location.hash = '#' + tab; },
			refreshInterfaces: function (select) { return loadInterfaces(select).then(render); }
		};
	}

	function render() {
		var name = location.hash.replace(/^#/, '');
		if (TABS.indexOf(name) < 0)
			name = 'status';
		leaveView();
		state.view = wgpy.views[name];
		var body = E('div', { 'class': 'view-body', 'id': 'view-' + name });
		wgpy.dom.content(viewNode(), [E('div', { 'class': 'tabbar' }, [tabMenu(name), chooser()]), body]);
		var needsInterface = name !== 'status' && name !== 'import';
		if (needsInterface && !state.ifname) {
			wgpy.dom.content(body, wgpy.dom.notice('info',
				_('No wgpy interface is configured yet. Create one with Import.')));
			return Promise.resolve();
		}
		return Promise.resolve(state.view.render(context())).then(function (node) {
			if (state.view === wgpy.views[name])
				wgpy.dom.content(body, node);
		}).catch(function (err) {
			wgpy.dom.content(body, wgpy.dom.notice('error', err.message));
		});
	}

	/* a save refused as a conflict */
	function conflict(err) {
		var view = state.view;
		var notice = E('div', { 'id': 'conflict-notice' }, wgpy.dom.notice('warning', [
			_('This was changed elsewhere (another tab or device) after the page loaded it. The page now shows what is stored: check it and make your change again.'),
			' (', err.message, ')'
		]));
		if (view && view.conflict)
			return view.conflict(notice);
		return render().then(function () {
			var body = document.querySelector('.view-body');
			if (body && state.view === view)
				body.insertBefore(notice, body.firstChild);
		});
	}

	function loadInterfaces(select) {
		return wgpy.rpc.wgpy('interfaces').then(function (data) {
			state.interfaces = data.interfaces;
			wgpy.dom.content(document.getElementById('hostname'), data.hostname);
			document.title = data.hostname + ' - ' + _('WireGuard');
			if (select && state.interfaces.indexOf(select) >= 0)
				state.ifname = select;
			else if (state.interfaces.indexOf(state.ifname) < 0)
				state.ifname = state.interfaces[0] || null;
		});
	}

	function start() {
		if (!wgpy.rpc.sid)
			return showLogin();
		/* an expired or unknown session is refused (-32002): rpc.js shows the login then */
		return loadInterfaces().then(function () {
			wgpy.dom.content(document.getElementById('header-right'),
				wgpy.dom.button(_('Log out'), 'reset', logout, { 'id': 'logout' }));
			return render();
		}, function (err) {
			if (err.code !== wgpy.rpc.ACCESS_DENIED)
				throw err;
		});
	}

	document.addEventListener('DOMContentLoaded', function () {
		wgpy.rpc.onLogout = showLogin;
		wgpy.rpc.onConflict = conflict;
		window.addEventListener('hashchange', function () { if (wgpy.rpc.sid) render(); });
		/* inside LuCI (luci.js's view), LuCI hands over its own session */
		window.addEventListener('message', function (ev) {
			if (ev.origin === location.origin && ev.source === window.parent && ev.data && ev.data.wgpySession) {
				wgpy.rpc.setSession(ev.data.wgpySession);
				start();
			}
		});
		wgpy.rpc.sid = wgpy.rpc.storedSession();
		start().catch(function (err) {
			wgpy.dom.content(viewNode(), wgpy.dom.notice('error', err.message));
		});
	});

	return { render: render };
})();
