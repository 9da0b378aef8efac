/*
 * Interface settings: listen port, addresses, MTU, and regenerating the private key
 * (after a warning: every peer then needs the new public key). Saving writes UCI and
 * reloads the running interface in place; peers keep their sessions unless the key changes.
 *
 * Sample reply of `wgpy interface {interface: "wg0"}`:
 * { "name": "wg0", "public_key": "Ab…=", "listen_port": 51820,
 *   "addresses": ["10.66.0.1/24", "fd66::1/64"], "mtu": null, "peers": [ … ] }
 */
'use strict';

wgpy.views.interface = (function () {
	var ctx = null, body = null;

	function field(name, value, check, attrs) {
		var node = E('input', Object.assign({ 'type': 'text', 'name': name, 'id': 'iface-' + name,
			'class': 'cbi-input-text', 'value': value === null || value === undefined ? '' : value }, attrs || {}));
		wgpy.validate.bind(node, check);
		return node;
	}

	function applyNotice(result) {
		var a = result.apply || { ok: true, errors: [], warnings: [] };
		if (!a.ok)
			return wgpy.dom.notice('error', a.errors.join('; '));
		return wgpy.dom.notice(a.warnings.length ? 'warning' : 'info',
			[_('Saved and applied.')].concat(a.warnings).join(' '));
	}

	function regenerate(message) {
		if (!window.confirm(_('Regenerate the private key of %s? Every peer must then be given the new public key, and all connections drop until they are.', ctx.ifname)))
			return;
		wgpy.rpc.wgpy('private_key_regenerate', { interface: ctx.ifname }).then(function (result) {
			return show().then(function () { wgpy.dom.content(message, applyNotice(result)); });
		}).catch(function (err) {
			if (!err.conflict)
				wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
		});
	}

	function settingsForm(detail) {
		var message = E('div', { 'id': 'iface-message' });
		var form = E('form', { 'class': 'cbi-section', 'id': 'iface-form', 'novalidate': true }, [
			E('h2', _('Interface %s', detail.name)),
			wgpy.dom.row(_('Public key'), E('code', { 'id': 'iface-public-key' }, detail.public_key || _('(generated when the interface first starts)'))),
			wgpy.dom.row(_('Listen port'), field('listen_port', detail.listen_port, 'port', { 'inputmode': 'numeric', 'placeholder': _('random') }),
				_('A fixed port is needed for devices to connect; forward it on the WAN firewall.')),
			wgpy.dom.row(_('IP addresses'), field('addresses', detail.addresses.join(', '), 'addresses'),
				_('The router\'s tunnel addresses with prefix; new devices get addresses from these subnets.')),
			wgpy.dom.row(_('MTU'), field('mtu', detail.mtu, 'mtu', { 'inputmode': 'numeric', 'placeholder': '1420' })),
			message,
			E('div', { 'class': 'cbi-page-actions' }, [
				wgpy.dom.button(_('Regenerate private key…'), 'negative', function () { regenerate(message); }, { 'id': 'iface-regenerate' }),
				E('button', { 'class': 'cbi-button cbi-button-save', 'type': 'submit', 'id': 'iface-save' }, _('Save & Apply'))
			])
		]);
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			if (!wgpy.validate.form(form))
				return;
			var v = function (n) { return form.elements[n].value.trim(); };
			var data = { listen_port: v('listen_port'), addresses: wgpy.validate.words(v('addresses')), mtu: v('mtu') };
			if (detail.revision !== undefined)
				data.revision = detail.revision;
			wgpy.rpc.wgpy('interface_set', Object.assign(data, { interface: ctx.ifname })).then(function (result) {
				wgpy.dom.content(message, applyNotice(result));
			}).catch(function (err) {
				if (!err.conflict && !wgpy.validate.serverError(form, err))
					wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
			});
		});
		return form;
	}

	function show() {
		return wgpy.rpc.wgpy('interface', { interface: ctx.ifname }).then(function (detail) {
			wgpy.dom.content(body, settingsForm(detail));
			return body;
		});
	}

	return {
		title: _('Interface'),
		applyNotice: applyNotice,
		render: function (context) {
			ctx = context;
			body = E('div', { 'id': 'interface' });
			return show();
		}
	};
})();
