/*
 * Peers of the chosen interface: a table like LuCI's peer grid, and one form to add or
 * edit a peer (keypair and preshared-key generation, the next free address suggested),
 * plus disable/enable and delete. Fields are checked as they are typed (validate.js) and
 * again by the server, whose refusals appear under the field they name. Each save carries
 * the revision the peer was loaded at; when another tab saved first (a conflict), the peer is
 * loaded again and the user is told (conflict()).
 *
 * Sample reply of `wgpy interface {interface: "wg0"}` (peers part):
 * { "peers": [ { "section": "phone", "description": "Phone", "public_key": "Cd…=",
 *   "preshared_key_set": false, "allowed_ips": ["10.66.0.2/32"], "route_allowed_ips": false,
 *   "endpoint_host": "", "endpoint_port": null, "persistent_keepalive": null,
 *   "disabled": false } ] }
 */
'use strict';

wgpy.views.peers = (function () {
	var ctx = null, body = null, editing = null, loaded = [];

	function input(name, value, check, attrs) {
		var node = E('input', Object.assign({ 'type': 'text', 'name': name, 'id': 'peer-' + name,
			'class': 'cbi-input-text', 'value': value === null || value === undefined ? '' : value }, attrs || {}));
		if (check)
			wgpy.validate.bind(node, check);
		return node;
	}

	function checkbox(name, checked) {
		return E('input', { 'type': 'checkbox', 'name': name, 'id': 'peer-' + name, 'checked': !!checked });
	}

	/* a notice above whatever the tab shows */
	function tell(node) {
		body.insertBefore(node, body.firstChild);
	}

	function failed(err) {
		if (!err.conflict)
			tell(wgpy.dom.notice('error', err.message));
	}

	function formData(form, peer) {
		var v = function (n) { return form.elements[n].value.trim(); };
		var c = function (n) { return form.elements[n].checked; };
		var data = {
			description: v('description'), public_key: v('public_key'),
			allowed_ips: wgpy.validate.words(v('allowed_ips')), route_allowed_ips: c('route_allowed_ips'),
			endpoint_host: v('endpoint_host'), endpoint_port: v('endpoint_port'),
			persistent_keepalive: v('persistent_keepalive'), disabled: c('disabled')
		};
		/* the stored key is never sent to the page: an empty field keeps it */
		if (v('preshared_key') !== '')
			data.preshared_key = v('preshared_key');
		else if (form.elements.remove_psk && c('remove_psk'))
			data.preshared_key = '';
		if (peer.revision !== undefined)
			data.revision = peer.revision;
		return data;
	}

	/* the buttons fill `form` (looked up when clicked: the form is built after them) */
	function keyButtons(formOf, privateBox) {
		return [
			wgpy.dom.button(_('Generate key pair'), 'action', function () {
				wgpy.rpc.wgpy('keypair').then(function (k) {
					var form = formOf();
					form.elements.public_key.value = k.public_key;
					form.elements.public_key.dispatchEvent(new Event('input'));
					wgpy.dom.content(privateBox, [
						wgpy.dom.notice('warning', _('Give this private key to the device now: it is not saved on the router.')),
						E('code', { 'class': 'secret', 'id': 'peer-generated-private' }, k.private_key)
					]);
				});
			}, { 'id': 'peer-genkey' }),
			wgpy.dom.button(_('Generate preshared key'), 'action', function () {
				wgpy.rpc.wgpy('psk').then(function (k) {
					var form = formOf();
					form.elements.preshared_key.value = k.preshared_key;
					form.elements.preshared_key.dispatchEvent(new Event('input'));
				});
			}, { 'id': 'peer-genpsk' })
		];
	}

	function editor(peer, suggestion) {
		var isNew = !peer.section, privateBox = E('div', { 'class': 'generated-key' });
		editing = peer.section || null;
		var message = E('div'), form = null;
		var keys = keyButtons(function () { return form; }, privateBox);
		form = E('form', { 'class': 'cbi-section peer-editor', 'id': 'peer-form', 'novalidate': true }, [
			E('h3', isNew ? _('New peer') : _('Edit peer %s', wgpy.fmt.peerName(peer))),
			wgpy.dom.row(_('Description'), input('description', peer.description, null, { 'maxlength': 128 })),
			wgpy.dom.row(_('Public key'), input('public_key', peer.public_key, 'key', { 'spellcheck': 'false' }),
				_('The peer\'s public key (44 characters of base64).')),
			E('div', { 'class': 'cbi-value' }, [E('span', { 'class': 'cbi-value-title' }), E('div', { 'class': 'cbi-value-field' }, keys)]),
			privateBox,
			wgpy.dom.row(_('Preshared key'), input('preshared_key', '', 'optionalKey', { 'type': 'password', 'autocomplete': 'off',
				'placeholder': peer.preshared_key_set ? _('(set; leave empty to keep it)') : '' }),
				_('Optional extra symmetric key; both sides must use the same one.')),
			peer.preshared_key_set ? wgpy.dom.row(_('Remove preshared key'), checkbox('remove_psk', false)) : null,
			wgpy.dom.row(_('Allowed IPs'), input('allowed_ips', (peer.allowed_ips || suggestion || []).join(', '), 'cidrs'),
				_('Addresses and networks this peer may use, e.g. 10.66.0.2/32. Must not overlap other peers.')),
			wgpy.dom.row(_('Route allowed IPs'), checkbox('route_allowed_ips', peer.route_allowed_ips),
				_('Add routes for these networks through the tunnel.')),
			wgpy.dom.row(_('Endpoint host'), input('endpoint_host', peer.endpoint_host, 'host'),
				_('Only for peers the router connects to (a VPN server, another site).')),
			wgpy.dom.row(_('Endpoint port'), input('endpoint_port', peer.endpoint_port, 'port', { 'inputmode': 'numeric', 'placeholder': '51820' })),
			wgpy.dom.row(_('Persistent keepalive'), input('persistent_keepalive', peer.persistent_keepalive, 'keepalive', { 'inputmode': 'numeric', 'placeholder': _('off') }),
				_('Seconds; 25 is recommended behind NAT.')),
			wgpy.dom.row(_('Disabled'), checkbox('disabled', peer.disabled)),
			message,
			E('div', { 'class': 'cbi-page-actions' }, [
				wgpy.dom.button(_('Cancel'), 'reset', function () { show(); }),
				E('button', { 'class': 'cbi-button cbi-button-save', 'type': 'submit', 'id': 'peer-save' }, _('Save'))
			])
		]);
		form.addEventListener('submit', function (ev) {
			ev.preventDefault();
			if (!wgpy.validate.form(form))
				return;
			var where = isNew ? { interface: ctx.ifname } : { interface: ctx.ifname, peer: peer.section };
			var request = wgpy.rpc.wgpy(isNew ? 'peer_add' : 'peer_set', Object.assign(formData(form, peer), where));
			request.then(show).catch(function (err) {
				if (!err.conflict && !wgpy.validate.serverError(form, err))
					wgpy.dom.content(message, wgpy.dom.notice('error', err.message));
			});
		});
		return form;
	}

	function setDisabled(peer, disabled) {
		var data = Object.assign({}, peer, { disabled: disabled });
		delete data.section;
		return wgpy.rpc.wgpy('peer_set', Object.assign(data, { interface: ctx.ifname, peer: peer.section })).then(show).catch(failed);
	}

	function remove(peer) {
		if (!window.confirm(_('Delete peer "%s"? Its device will no longer connect.', wgpy.fmt.peerName(peer))))
			return;
		wgpy.rpc.wgpy('peer_delete', { interface: ctx.ifname, peer: peer.section }).then(show).catch(failed);
	}

	function row(peer) {
		return E('tr', { 'class': 'tr', 'data-section': peer.section }, [
			E('td', { 'class': 'td', 'data-title': _('Description') }, [
				E('span', { 'class': 'peer-name' }, wgpy.fmt.peerName(peer)), ' ',
				peer.disabled ? wgpy.dom.badge(_('Disabled'), 'notice') : null,
				peer.preshared_key_set ? wgpy.dom.badge(_('PSK')) : null
			]),
			E('td', { 'class': 'td', 'data-title': _('Public key') }, E('code', { 'title': peer.public_key }, wgpy.fmt.key(peer.public_key))),
			E('td', { 'class': 'td', 'data-title': _('Allowed IPs') }, peer.allowed_ips.join(', ') || _('(none)')),
			E('td', { 'class': 'td', 'data-title': _('Endpoint') },
				peer.endpoint_host ? wgpy.dom.endpoint(peer.endpoint_host, peer.endpoint_port) : '*'),
			E('td', { 'class': 'td cbi-section-actions' }, [
				wgpy.dom.button(_('Edit'), 'edit', function () { wgpy.dom.content(body, editor(peer)); }),
				wgpy.dom.button(peer.disabled ? _('Enable') : _('Disable'), 'neutral', function () { setDisabled(peer, !peer.disabled); }),
				wgpy.dom.button(_('Delete'), 'remove', function () { remove(peer); })
			])
		]);
	}

	function show() {
		editing = null;
		var where = { interface: ctx.ifname };
		return Promise.all([wgpy.rpc.wgpy('interface', where), wgpy.rpc.wgpy('suggest', where)]).then(function (r) {
			var detail = r[0], suggestion = r[1].addresses;
			loaded = detail.peers;
			wgpy.dom.content(body, [
				E('h2', _('Peers of %s', ctx.ifname)),
				detail.peers.length ? E('table', { 'class': 'table', 'id': 'peer-table' }, [
					E('tr', { 'class': 'tr table-titles' }, [_('Description'), _('Public key'), _('Allowed IPs'), _('Endpoint'), ''].map(function (t) {
						return E('th', { 'class': 'th' }, t);
					}))
				].concat(detail.peers.map(row))) : E('p', _('This interface has no peers yet.')),
				E('div', { 'class': 'cbi-section-create' },
					wgpy.dom.button(_('Add peer'), 'add', function () { wgpy.dom.content(body, editor({}, suggestion)); }, { 'id': 'peer-add' }))
			]);
			return body;
		});
	}

	/* a save refused as a conflict: load the peers again; the peer being edited reopens with what
	 * is stored now (unless it was deleted), under `notice` */
	function conflict(notice) {
		var section = editing;
		return show().then(function () {
			var peer = loaded.filter(function (p) { return p.section === section; })[0];
			if (peer)
				wgpy.dom.content(body, editor(peer));
			tell(notice);
		});
	}

	return {
		title: _('Peers'),
		conflict: conflict,
		render: function (context) {
			ctx = context;
			body = E('div', { 'id': 'peers' });
			return show();
		}
	};
})();
