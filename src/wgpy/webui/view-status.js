/*
 * Overview: every interface (up/down, public key, port, addresses) and its peers, polled
 * every POLL_MS. Per peer: handshake age, rx/tx, a small traffic graph drawn from the
 * byte-counter deltas between polls, and a "stale" mark when the last handshake is older
 * than 3 minutes (as LuCI's status page), so a dead device stands out.
 *
 * Sample reply of `wgpy status`:
 * { "hostname": "OpenWrt", "interfaces": { "wg0": { "up": true, "public_key": "Ab…=",
 *   "listen_port": 51820, "addresses": ["10.66.0.1/24"], "errors": [],
 *   "mtu_in_use": { "mtu": 1392, "source": "auto", "reason": "…" }, "peers": [
 *   { "section": "phone", "description": "Phone", "public_key": "Cd…=",
 *     "endpoint": "192.0.2.7:40111", "allowed_ips": ["10.66.0.2/32"],
 *     "latest_handshake": 1732520000, "handshake_age_s": 37, "rx_bytes": 1234,
 *     "tx_bytes": 5678, "state": "ok", "errors": [] } ] } } }
 */
'use strict';

wgpy.views.status = (function () {
	var POLL_MS = 3000, HISTORY = 40, GRAPH_W = 120, GRAPH_H = 28;
	var timer = null, history = {}, root = null;

	var STATES = {
		ok: [_('connected'), 'success'],
		stale: [_('stale'), 'warning'],
		never: [_('no handshake yet'), 'notice'],
		skipped: [_('not applied'), 'warning'],
		disabled: [_('disabled'), 'notice'],
		error: [_('config error'), 'danger']
	};

	/* remember counters; -> [[rx/s, tx/s], ...] oldest first */
	function rates(key, peer) {
		var samples = history[key] = (history[key] || []).concat([{ t: Date.now() / 1000, rx: peer.rx_bytes, tx: peer.tx_bytes }]);
		if (samples.length > HISTORY + 1)
			samples.shift();
		var out = [];
		for (var i = 1; i < samples.length; i++) {
			var dt = Math.max(samples[i].t - samples[i - 1].t, 0.001);
			out.push([Math.max(0, samples[i].rx - samples[i - 1].rx) / dt, Math.max(0, samples[i].tx - samples[i - 1].tx) / dt]);
		}
		return out;
	}

	/* the samples so far span the whole width (a sparkline, newest at the right edge) */
	function polyline(points, index, max, kind) {
		var step = GRAPH_W / Math.max(points.length - 1, 1);
		var coords = points.map(function (p, i) {
			return (i * step).toFixed(1) + ',' + (GRAPH_H - 1 - (GRAPH_H - 2) * p[index] / max).toFixed(1);
		});
		return E('svg:polyline', { 'class': 'graph-' + kind, 'points': coords.join(' ') });
	}

	function graph(key, peer) {
		var points = rates(key, peer);
		var max = Math.max.apply(null, [1].concat(points.map(function (p) { return Math.max(p[0], p[1]); })));
		var last = points[points.length - 1] || [0, 0];
		return E('svg:svg', { 'class': 'traffic-graph', 'viewBox': '0 0 ' + GRAPH_W + ' ' + GRAPH_H,
			'width': GRAPH_W, 'height': GRAPH_H, 'role': 'img',
			'aria-label': _('Received %s, transmitted %s', wgpy.fmt.rate(last[0]), wgpy.fmt.rate(last[1])) }, [
			E('svg:title', _('Received %s, transmitted %s', wgpy.fmt.rate(last[0]), wgpy.fmt.rate(last[1]))),
			points.length > 1 ? polyline(points, 0, max, 'rx') : null,
			points.length > 1 ? polyline(points, 1, max, 'tx') : null
		]);
	}

	function peerRow(ifname, peer) {
		var state = STATES[peer.state] || [peer.state, 'notice'];
		var handshake = peer.latest_handshake ? wgpy.fmt.age(peer.handshake_age_s) : _('Never');
		var errors = (peer.errors || []).map(wgpy.fmt.configError);
		return E('tr', { 'class': 'tr peer-row' + (peer.state === 'stale' ? ' stale' : ''), 'data-key': peer.public_key || peer.section }, [
			E('td', { 'class': 'td', 'data-title': _('Peer') }, [
				E('strong', { 'class': 'peer-name' }, wgpy.fmt.peerName(peer)), E('br'),
				E('code', { 'title': peer.public_key }, wgpy.fmt.key(peer.public_key)), ' ',
				wgpy.dom.badge(state[0], state[1]),
				errors.length ? E('div', { 'class': 'peer-errors' }, errors.join('; ')) : null
			]),
			E('td', { 'class': 'td', 'data-title': _('Endpoint') }, peer.endpoint || wgpy.dom.endpoint(peer.endpoint_host)),
			E('td', { 'class': 'td', 'data-title': _('Allowed IPs') }, (peer.allowed_ips || []).join(', ') || _('(none)')),
			E('td', { 'class': 'td handshake' + (peer.state === 'stale' ? ' stale-mark' : ''), 'data-title': _('Latest handshake'),
				'title': peer.state === 'stale' ? _('No handshake for more than 3 minutes') : null },
				(peer.state === 'stale' ? '⚠ ' : '') + handshake),
			E('td', { 'class': 'td rx', 'data-title': _('Received') }, wgpy.fmt.bytes(peer.rx_bytes)),
			E('td', { 'class': 'td tx', 'data-title': _('Transmitted') }, wgpy.fmt.bytes(peer.tx_bytes)),
			E('td', { 'class': 'td', 'data-title': _('Traffic') }, graph(ifname + '/' + (peer.public_key || peer.section), peer))
		]);
	}

	function interfaceSection(ifname, iface) {
		var peers = iface.peers || [];
		return E('div', { 'class': 'cbi-section', 'data-interface': ifname }, [
			E('h3', [_('Interface %s', ifname), ' ', iface.up ? wgpy.dom.badge(_('up'), 'success') : wgpy.dom.badge(_('down'), 'danger')]),
			(iface.errors || []).map(function (e) { return wgpy.dom.notice('error', wgpy.fmt.configError(e)); }),
			E('table', { 'class': 'table kv' }, [
				E('tr', { 'class': 'tr' }, [E('th', { 'class': 'th' }, _('Public key')), E('td', { 'class': 'td' }, E('code', iface.public_key || _('(not generated yet)')))]),
				E('tr', { 'class': 'tr' }, [E('th', { 'class': 'th' }, _('Listen port')), E('td', { 'class': 'td' }, iface.listen_port ? String(iface.listen_port) : _('random'))]),
				E('tr', { 'class': 'tr' }, [E('th', { 'class': 'th' }, _('Addresses')), E('td', { 'class': 'td' }, (iface.addresses || []).join(', ') || '-')]),
				iface.mtu_in_use ? E('tr', { 'class': 'tr' }, [E('th', { 'class': 'th' }, _('MTU')),
					E('td', { 'class': 'td', 'id': 'mtu-' + ifname }, String(iface.mtu_in_use.mtu) + ' (' + iface.mtu_in_use.reason + ')')]) : null
			]),
			peers.length ? E('table', { 'class': 'table peers' }, [
				E('tr', { 'class': 'tr table-titles' }, [_('Peer'), _('Endpoint'), _('Allowed IPs'), _('Latest handshake'),
					_('Received'), _('Transmitted'), _('Traffic')].map(function (t) { return E('th', { 'class': 'th' }, t); }))
			].concat(peers.map(function (p) { return peerRow(ifname, p); })))
				: E('p', { 'class': 'cbi-section-descr' }, _('No peers yet. Use "Add a device" to connect a phone or laptop.'))
		]);
	}

	function draw(status) {
		var names = Object.keys(status.interfaces || {});
		wgpy.dom.content(root, [
			(status.errors || []).map(function (e) { return wgpy.dom.notice('error', e); }),
			names.length ? names.map(function (n) { return interfaceSection(n, status.interfaces[n]); })
				: wgpy.dom.notice('info', _('No wgpy interfaces are configured. Create one with Import.')),
			E('p', { 'class': 'poll-note' }, _('Updated every %d seconds.', POLL_MS / 1000))
		]);
	}

	function poll() {
		wgpy.rpc.wgpy('status').then(function (status) {
			if (root)
				draw(status);
		}).catch(function (err) {
			if (root && err.code !== wgpy.rpc.ACCESS_DENIED)
				wgpy.dom.content(root, wgpy.dom.notice('error', err.message));
		}).finally(function () {
			if (root)
				timer = window.setTimeout(poll, POLL_MS);
		});
	}

	return {
		title: _('Overview'),
		render: function () {
			root = E('div', { 'id': 'status' }, E('p', _('Loading…')));
			poll();
			return root;
		},
		leave: function () {
			window.clearTimeout(timer);
			root = null;
		}
	};
})();
