/*
 * The page's only way to the router: ubus over JSON-RPC at /ubus, as LuCI's rpc.js speaks
 * it. On a router uhttpd answers it and rpcd checks the session and its ACL for every
 * method; under `wgpy web` (development boxes, the demo) wgpy's server answers the same
 * calls through the same method table (wgpy/web/methods.py).
 *
 * `session login` gives a session id; every call carries it as the first parameter, in
 * the body. Nothing authenticates a request by itself (no cookie, no HTTP auth), so a
 * request another site makes the browser send has no session and can do no more than log
 * in: that is why no CSRF token is needed. The id lives in sessionStorage (this tab only,
 * gone when it closes); in LuCI's menu the view hands over LuCI's own session (luci.js).
 *
 * Answers: a JSON-RPC error -32002 (access denied: no session, an expired one, or an ACL
 * that does not grant the method) ends the session: the page goes back to the login form.
 * A ubus status other than 0 is an error with that status. A reply {error, code, field?,
 * revision?} is a handler's refusal (methods.py): err.field names the refused field;
 * code "conflict" means somebody else changed the thing since the page loaded it:
 * onConflict reloads it and tells the user, and the form does not show it again.
 */
'use strict';

wgpy.rpc = {
	NULL_SID: '00000000000000000000000000000000',
	ACCESS_DENIED: -32002,
	STATUS: ['ok', 'invalid command', 'invalid argument', 'method not found', 'not found',
		'no data', 'permission denied', 'timeout', 'not supported', 'unknown error',
		'connection failed'],
	sid: null,
	onLogout: null,
	onConflict: null,
	nextId: 1,

	/* one JSON-RPC `call`; -> [status, reply] */
	ubus: function (sid, object, method, args) {
		return fetch('/ubus', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
			/* same-origin (fetch's default), though no cookie is needed: Chromium keeps
			   requests without credentials on connections of their own, which would double
			   the connections the page holds and trip wgpy web's per-source limit */
			credentials: 'same-origin',
			body: JSON.stringify({ jsonrpc: '2.0', id: wgpy.rpc.nextId++, method: 'call',
				params: [sid, object, method, args || {}] })
		}).then(function (res) {
			return res.json().catch(function () { return {}; }).then(function (data) {
				if (data.error || !Array.isArray(data.result)) {
					var e = data.error || {};
					var err = new Error(e.message || res.statusText || 'no answer');
					err.code = e.code;
					throw err;
				}
				return data.result;
			});
		});
	},

	setSession: function (sid) {
		wgpy.rpc.sid = sid;
		try {
			if (sid)
				sessionStorage.setItem('wgpy_sid', sid);
			else
				sessionStorage.removeItem('wgpy_sid');
		} catch (e) { /* storage disabled: the session lasts as long as the page */ }
	},

	storedSession: function () {
		try { return sessionStorage.getItem('wgpy_sid'); } catch (e) { return null; }
	},

	/* a call in the session; -> the reply, or throws (see the top) */
	call: function (object, method, args) {
		return wgpy.rpc.ubus(wgpy.rpc.sid || wgpy.rpc.NULL_SID, object, method, args).catch(function (err) {
			if (err.code === wgpy.rpc.ACCESS_DENIED && wgpy.rpc.onLogout)
				wgpy.rpc.onLogout();
			throw err;
		}).then(function (result) {
			var reply = result[1] || {};
			if (result[0] !== 0 || reply.error) {
				var err = new Error(reply.error || wgpy.rpc.STATUS[result[0]] || ('ubus status ' + result[0]));
				err.status = result[0];
				err.field = reply.field;
				err.conflict = reply.code === 'conflict';
				if (err.conflict && wgpy.rpc.onConflict)
					wgpy.rpc.onConflict(err);
				throw err;
			}
			return reply;
		});
	},

	/* `session login` (or wgpy web's first-start setup); -> the new session id */
	login: function (object, method, args) {
		return wgpy.rpc.ubus(wgpy.rpc.NULL_SID, object, method, args).then(function (result) {
			var reply = result[1] || {};
			if (result[0] !== 0 || !reply.ubus_rpc_session) {
				var err = new Error(reply.error || _('Wrong password'));
				err.field = reply.field;
				throw err;
			}
			wgpy.rpc.setSession(reply.ubus_rpc_session);
			return reply;
		});
	},

	logout: function () {
		var sid = wgpy.rpc.sid;
		wgpy.rpc.setSession(null);
		return sid ? wgpy.rpc.ubus(sid, 'session', 'destroy', {}).catch(function () {}) : Promise.resolve();
	},

	/* the page's own object */
	wgpy: function (method, args) { return wgpy.rpc.call('wgpy', method, args); }
};
