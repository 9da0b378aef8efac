/*
 * The page's only way to the server: JSON over fetch to /api (see openapi.json).
 * Every request that changes something carries the session's CSRF token in X-CSRF-Token;
 * the session cookie itself is HttpOnly and travels on its own. A 401 means the session
 * ended: the page goes back to the login form. A 409 to a save means somebody else changed
 * the thing since the page loaded it: onConflict reloads it and tells the user, and the
 * error (err.conflict) is not shown again by the form.
 */
'use strict';

wgpy.rpc = {
	csrf: null,
	onLogout: null,
	onConflict: null,

	request: function (method, path, body) {
		var headers = { 'Accept': 'application/json' };
		if (method !== 'GET')
			headers['X-CSRF-Token'] = wgpy.rpc.csrf || '';
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		return fetch('/api/' + path, {
			method: method,
			headers: headers,
			credentials: 'same-origin',
			body: body === undefined ? undefined : JSON.stringify(body)
		}).then(function (res) {
			return res.json().catch(function () { return {}; }).then(function (data) {
				if (res.status === 401 && path !== 'login' && path !== 'setup' && wgpy.rpc.onLogout)
					wgpy.rpc.onLogout();
				if (!res.ok) {
					var err = new Error(data.error || res.statusText);
					err.status = res.status;
					err.field = data.field;
					err.conflict = res.status === 409 && method !== 'GET';
					if (err.conflict && wgpy.rpc.onConflict)
						wgpy.rpc.onConflict(err);
					throw err;
				}
				return data;
			});
		});
	},

	get: function (path) { return wgpy.rpc.request('GET', path); },
	post: function (path, body) { return wgpy.rpc.request('POST', path, body || {}); },
	put: function (path, body) { return wgpy.rpc.request('PUT', path, body); },
	del: function (path) { return wgpy.rpc.request('DELETE', path); },

	/* path pieces are URL-encoded: interface and section names come from the config */
	path: function () {
		return Array.prototype.map.call(arguments, encodeURIComponent).join('/');
	}
};
