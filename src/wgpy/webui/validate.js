/*
 * Inline validation, the same rules the server applies (src/wgpy/uci/validate.py, with
 * the ranges of WEB_LIMITS in src/wgpy/uci/schema.py; tests/uci/test_rules.py checks that
 * LIMITS and LABEL below equal the server's):
 * a check returns null when the value is fine, else the message shown under the field.
 * wgpy.validate.bind() re-checks a field on every keystroke and marks it invalid, so a
 * bad key, CIDR or port is caught before anything is sent.
 */
'use strict';

wgpy.validate = (function () {
	var LIMITS = {"endpoint_port": [1, 65535], "fwmark": [0, 4294967295], "listen_port": [1, 65535], "mtu": [1280, 8940], "persistent_keepalive": [0, 65535]};
	var LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;  /* RFC 1123 */

	function inRange(v, name) {
		return /^\d{1,10}$/.test(v) && Number(v) >= LIMITS[name][0] && Number(v) <= LIMITS[name][1];
	}

	function ipv4(text) {
		var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
		return !!m && m.slice(1).every(function (o) { return Number(o) <= 255 && String(Number(o)) === o; });
	}

	function ipv6(text) {
		if (!/^[0-9A-Fa-f:.]+$/.test(text) || /:::/.test(text) || (text.match(/::/g) || []).length > 1)
			return false;
		var groups = text.split(':'), count = 0, ok = true;
		groups.forEach(function (g, i) {
			if (g === '')
				return;
			if (i === groups.length - 1 && g.indexOf('.') >= 0) {
				ok = ok && ipv4(g);
				count += 2;
			}
			else {
				ok = ok && /^[0-9A-Fa-f]{1,4}$/.test(g);
				count += 1;
			}
		});
		if (/^:[^:]/.test(text) || /[^:]:$/.test(text))
			return false;
		return ok && (text.indexOf('::') >= 0 ? count < 8 : count === 8);
	}

	function ip(text) { return ipv4(text) || ipv6(text); }

	function cidr(text) {
		var parts = text.split('/');
		if (parts.length > 2 || !ip(parts[0]))
			return false;
		if (parts.length === 1)
			return true;
		var max = ipv4(parts[0]) ? 32 : 128;
		return /^\d{1,3}$/.test(parts[1]) && Number(parts[1]) <= max;
	}

	function words(text) {
		return String(text || '').split(/[\s,]+/).filter(function (w) { return w; });
	}

	var checks = {
		/* 32 bytes in base64: 43 characters, '=', and the last one has no stray bits */
		key: function (v) {
			if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(v))
				return _('Expected a WireGuard key: 44 characters of base64 ending in "="');
			return null;
		},
		optionalKey: function (v) { return v === '' ? null : checks.key(v); },
		cidrs: function (v) {
			var bad = words(v).filter(function (w) { return !cidr(w); });
			return bad.length ? _('Not a valid CIDR: %s', bad[0]) : null;
		},
		someCidrs: function (v) {
			return words(v).length ? checks.cidrs(v) : _('At least one network is required');
		},
		addresses: function (v) {
			var bad = words(v).filter(function (w) { return !cidr(w) || w.indexOf('/') < 0; });
			if (!words(v).length)
				return _('At least one address with prefix is required, e.g. 10.66.0.1/24');
			return bad.length ? _('Not an address with prefix: %s', bad[0]) : null;
		},
		ips: function (v) {
			var bad = words(v).filter(function (w) { return !ip(w); });
			return bad.length ? _('Not an IP address: %s', bad[0]) : null;
		},
		port: function (v) {
			return v === '' || inRange(v, 'listen_port') ? null
				: _('Expected a port between %d and %d', LIMITS.listen_port[0], LIMITS.listen_port[1]);
		},
		keepalive: function (v) {
			return v === '' || inRange(v, 'persistent_keepalive') ? null
				: _('Expected seconds between %d and %d', LIMITS.persistent_keepalive[0], LIMITS.persistent_keepalive[1]);
		},
		mtu: function (v) {
			return v === '' || inRange(v, 'mtu') ? null
				: _('Expected an MTU between %d and %d', LIMITS.mtu[0], LIMITS.mtu[1]);
		},
		host: function (v) {
			var bare = v.replace(/^\[(.*)\]$/, '$1'), name = bare.replace(/\.$/, '');
			if (bare === '' || ip(bare))
				return null;
			return name.length <= 253 && !/^[\d.]+$/.test(name) && name.split('.').every(function (l) { return LABEL.test(l); })
				? null : _('Expected a hostname or IP address');
		},
		requiredHost: function (v) { return v === '' ? _('Required') : checks.host(v); },
		required: function (v) { return v.trim() === '' ? _('Required') : null; },
		ifname: function (v) {
			return /^[A-Za-z][A-Za-z0-9_]{0,14}$/.test(v) ? null
				: _('A letter, then up to 14 letters, digits or "_"');
		}
	};

	function show(input, message) {
		var slot = input.form ? input.form.querySelector('[data-error-for="' + input.id + '"]') : null;
		input.classList.toggle('cbi-input-invalid', !!message);
		input.setAttribute('aria-invalid', message ? 'true' : 'false');
		if (slot)
			wgpy.dom.content(slot, message || '');
	}

	return {
		checks: checks,
		words: words,
		show: show,

		/* check `input` with checks[name] now and on every edit */
		bind: function (input, name) {
			input.dataset.check = name;
			input.addEventListener('input', function () { show(input, checks[name](input.value.trim())); });
		},

		/* check every bound field of a form; true if all pass */
		form: function (form) {
			var ok = true;
			form.querySelectorAll('[data-check]').forEach(function (input) {
				var message = checks[input.dataset.check](input.value.trim());
				show(input, message);
				ok = ok && !message;
			});
			return ok;
		},

		/* a server-side refusal (HTTP 400 with a field) shown under that field */
		serverError: function (form, err) {
			var input = err.field ? form.querySelector('[name="' + err.field + '"]') : null;
			if (input) {
				show(input, err.message);
				input.focus();
				return true;
			}
			return false;
		}
	};
})();
