/*
 * Import a wg-quick .conf, pasted or uploaded (what VPN providers hand out): either as a
 * new interface with its peer, optionally sending the whole LAN through it (0.0.0.0/0 and
 * ::/0 routed; the router keeps a host route to the endpoint), or as one more peer of an
 * existing interface. The file is read in the browser and sent as text; the server parses
 * and validates it (PostUp and other shell hooks are ignored, never run).
 */
'use strict';

wgpy.views['import'] = (function () {
	var ctx = null;

	function radio(value, checked, label) {
		return E('label', { 'class': 'radio' }, [
			E('input', { 'type': 'radio', 'name': 'mode', 'value': value, 'id': 'import-mode-' + value, 'checked': checked }), ' ' + label
		]);
	}

	function importForm() {
		var message = E('div', { 'id': 'import-message' });
		var text = E('textarea', { 'name': 'config', 'id': 'import-config', 'rows': 12, 'class': 'cbi-input-textarea',
			'spellcheck': 'false', 'placeholder': '[Interface]\nPrivateKey = …\nAddress = …\n\n[Peer]\nPublicKey = …\nEndpoint = …\nAllowedIPs = 0.0.0.0/0, ::/0' });
		var file = E('input', { 'type': 'file', 'id': 'import-file', 'accept': '.conf,text/plain', 'change': function () {
			if (file.files[0])
				file.files[0].text().then(function (t) { text.value = t; });
		} });
		var name = E('input', { 'type': 'text', 'name': 'name', 'id': 'import-name', 'class': 'cbi-input-text', 'value': 'wgvpn' });
		wgpy.validate.bind(name, 'ifname');
		var target = E('select', { 'name': 'interface', 'id': 'import-interface' },
			ctx.interfaces.map(function (n) { return E('option', { 'value': n, 'selected': n === ctx.ifname }, n); }));
		var form = E('form', { 'class': 'cbi-section', 'id': 'import-form', 'novalidate': true }, [
			E('h2', _('Import a configuration')),
			E('p', { 'class': 'cbi-section-descr' }, _('Paste or upload a wg-quick .conf file, e.g. from your VPN provider.')),
			wgpy.dom.row(_('Configuration'), text),
			wgpy.dom.row(_('Or upload'), file),
			wgpy.dom.row(_('Import as'), E('div', [
				radio('interface', true, _('a new interface named')), ' ', name, E('br'),
				radio('peer', false, _('one more peer of')), ' ', ctx.interfaces.length ? target : _('(no interface yet)')
			])),
			wgpy.dom.row(_('Whole LAN'), E('label', [E('input', { 'type': 'checkbox', 'name': 'route_all', 'id': 'import-route-all' }), ' ',
				_('Send the whole LAN through this tunnel')]),
				_('Routes 0.0.0.0/0 and ::/0 through the tunnel; the VPN server stays reachable through the WAN.')),
			wgpy.dom.row(_('Start'), E('label', [E('input', { 'type': 'checkbox', 'name': 'start', 'id': 'import-start', 'checked': true }), ' ',
				_('Bring a new interface up right away')])),
			message,
			E('div', { 'class': 'cbi-page-actions' },
				E('button', { 'class': 'cbi-button cbi-button-apply', 'type': 'submit', 'id': 'import-submit' }, _('Import')))
		]);
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			var mode = form.elements.mode.value;
			if (mode === 'interface' && !wgpy.validate.form(form))
				return;
			wgpy.rpc.wgpy('import', {
				config: text.value, mode: mode, name: name.value.trim(), interface: target.value,
				route_all: form.elements.route_all.checked, start: form.elements.start.checked
			}).then(function (answer) {
				var notes = [wgpy.views.interface.applyNotice(answer)].concat(answer.warnings.map(function (w) {
					return wgpy.dom.notice('warning', w);
				}));
				return ctx.refreshInterfaces(answer.interface).then(function () {
					var box = document.getElementById('import-message');
					if (box)
						wgpy.dom.content(box, notes);
				});
			}).catch(function (err) {
				if (!err.conflict && !wgpy.validate.serverError(form, err))
					wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
			});
		});
		return form;
	}

	return {
		title: _('Import'),
		render: function (context) {
			ctx = context;
			return importForm();
		}
	};
})();
