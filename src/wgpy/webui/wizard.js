/*
 * "Add a device": one form creates the peer (keys generated on the router), applies it
 * live, and shows the client's complete configuration as a QR code for the WireGuard apps
 * and as a .conf download. The client's private key exists only in this answer: it is
 * not stored anywhere, so leaving the page is the last chance to copy it.
 *
 * Sample reply of `wgpy suggest {interface: "wg0"}`:
 * { "addresses": ["10.66.0.3/32", "fd66::3/128"], "endpoint_hosts": ["home.example.net"],
 *   "endpoint_note": null, "endpoint_port": 51820, "dns": ["192.168.1.1"],
 *   "split_allowed_ips": ["10.66.0.0/24", "192.168.1.0/24"], "persistent_keepalive": 25 }
 */
'use strict';

wgpy.views.wizard = (function () {
	var ctx = null, body = null, downloadUrl = null;

	function field(name, value, check, attrs) {
		var node = E('input', Object.assign({ 'type': 'text', 'name': name, 'id': 'wizard-' + name,
			'class': 'cbi-input-text', 'value': value === null || value === undefined ? '' : value }, attrs || {}));
		if (check)
			wgpy.validate.bind(node, check);
		return node;
	}

	function radio(name, value, checked, label) {
		return E('label', { 'class': 'radio' }, [
			E('input', { 'type': 'radio', 'name': name, 'value': value, 'id': 'wizard-' + name + '-' + value, 'checked': checked }),
			' ' + label
		]);
	}

	function request(form) {
		var v = function (n) { return form.elements[n].value.trim(); };
		return {
			description: v('description'), addresses: wgpy.validate.words(v('addresses')),
			tunnel: form.elements.tunnel.value, split_allowed_ips: wgpy.validate.words(v('split_allowed_ips')),
			dns: wgpy.validate.words(v('dns')), endpoint_host: v('endpoint_host'), endpoint_port: v('endpoint_port'),
			persistent_keepalive: v('persistent_keepalive'), preshared_key: form.elements.preshared_key.checked
		};
	}

	function result(answer) {
		if (downloadUrl)
			URL.revokeObjectURL(downloadUrl);
		downloadUrl = URL.createObjectURL(new Blob([answer.config], { type: 'text/plain' }));
		return E('div', { 'class': 'cbi-section wizard-result', 'id': 'wizard-result' }, [
			E('h2', _('Device added')),
			wgpy.views.interface.applyNotice(answer),
			wgpy.dom.notice('warning', _('The private key in this configuration is shown only now and is not stored on the router. Scan or download it before leaving this page.')),
			E('div', { 'class': 'wizard-output' }, [
				E('div', { 'class': 'qr-box', 'id': 'wizard-qr' }, wgpy.qr.svg(answer.config)),
				E('div', { 'class': 'conf-box' }, [
					E('pre', { 'id': 'wizard-conf', 'class': 'conf' }, answer.config),
					E('a', { 'class': 'cbi-button cbi-button-apply', 'id': 'wizard-download', 'href': downloadUrl,
						'download': answer.filename }, _('Download %s', answer.filename))
				])
			]),
			E('p', _('Scan the code with the WireGuard app ("Add tunnel", "Scan from QR code"), or import the file.')),
			E('div', { 'class': 'cbi-page-actions' }, [
				wgpy.dom.button(_('Add another device'), 'add', function () { show(); }, { 'id': 'wizard-again' }),
				wgpy.dom.button(_('Done'), 'apply', function () { ctx.go('status'); }, { 'id': 'wizard-done' })
			])
		]);
	}

	function wizardForm(s) {
		var message = E('div');
		var hosts = E('datalist', { 'id': 'wizard-endpoint-hosts' }, s.endpoint_hosts.map(function (h) { return E('option', { 'value': h }); }));
		var split = field('split_allowed_ips', s.split_allowed_ips.join(', '), 'someCidrs');
		var form = E('form', { 'class': 'cbi-section', 'id': 'wizard-form', 'novalidate': true }, [
			E('h2', _('Add a device to %s', ctx.ifname)),
			E('p', { 'class': 'cbi-section-descr' }, _('Creates a new peer with its own keys and shows the configuration for the device.')),
			wgpy.dom.row(_('Device name'), field('description', '', 'required', { 'maxlength': 128, 'placeholder': _('e.g. Anna\'s phone') })),
			wgpy.dom.row(_('Traffic'), E('div', { 'id': 'wizard-tunnel' }, [
				radio('tunnel', 'full', true, _('Everything through the router (whole tunnel)')), E('br'),
				radio('tunnel', 'split', false, _('Only the router\'s networks (split tunnel):'))
			])),
			wgpy.dom.row(_('Networks for split tunnel'), split),
			wgpy.dom.row(_('Endpoint'), field('endpoint_host', s.endpoint_hosts[0] || '', 'requiredHost', { 'list': 'wizard-endpoint-hosts', 'placeholder': _('public address or DDNS name') }),
				[_('How the device reaches the router from the Internet: its public IP or DDNS name.'),
					s.endpoint_note ? E('div', { 'id': 'wizard-endpoint-note' }, wgpy.dom.notice('warning', s.endpoint_note)) : null]),
			hosts,
			wgpy.dom.row(_('Endpoint port'), field('endpoint_port', s.endpoint_port, 'port', { 'inputmode': 'numeric' })),
			wgpy.dom.row(_('Tunnel address'), field('addresses', s.addresses.join(', '), 'someCidrs'),
				_('The next free address in the interface\'s subnets.')),
			wgpy.dom.row(_('DNS servers'), field('dns', s.dns.join(', '), 'ips')),
			wgpy.dom.row(_('Persistent keepalive'), field('persistent_keepalive', s.persistent_keepalive, 'keepalive', { 'inputmode': 'numeric' })),
			wgpy.dom.row(_('Preshared key'), E('input', { 'type': 'checkbox', 'name': 'preshared_key', 'id': 'wizard-preshared_key', 'checked': true }),
				_('Add a preshared key for extra protection.')),
			message,
			E('div', { 'class': 'cbi-page-actions' },
				E('button', { 'class': 'cbi-button cbi-button-apply', 'type': 'submit', 'id': 'wizard-create' }, _('Create device')))
		]);
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			if (!wgpy.validate.form(form))
				return;
			wgpy.rpc.wgpy('device_add', Object.assign(request(form), { interface: ctx.ifname })).then(function (answer) {
				wgpy.dom.content(body, result(answer));
			}).catch(function (err) {
				if (!err.conflict && !wgpy.validate.serverError(form, err))
					wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
			});
		});
		return form;
	}

	function show() {
		return wgpy.rpc.wgpy('suggest', { interface: ctx.ifname }).then(function (s) {
			wgpy.dom.content(body, wizardForm(s));
			return body;
		});
	}

	return {
		title: _('Add a device'),
		render: function (context) {
			ctx = context;
			body = E('div', { 'id': 'wizard' });
			return show();
		},
		leave: function () {
			if (downloadUrl)
				URL.revokeObjectURL(downloadUrl);
			downloadUrl = null;
		}
	};
})();
