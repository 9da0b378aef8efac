/*
 * Translation and formatting, LuCI style: every user-visible string goes through _().
 * _('Latest handshake %s ago', age) looks the text up in the catalog (English built in,
 * so the catalog is empty by default) and fills %s/%d from the arguments in order.
 * Loaded first: every other file uses the global wgpy object this file creates.
 */
'use strict';

var wgpy = { views: {}, i18n: { catalog: {} } };

function _(text) {
	var args = Array.prototype.slice.call(arguments, 1);
	var out = wgpy.i18n.catalog[text] || text;
	return out.replace(/%[sd]/g, function (spec) {
		return args.length ? String(args.shift()) : spec;
	});
}

wgpy.fmt = {
	/* 1024-based units as LuCI's status page shows traffic */
	bytes: function (n) {
		var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
		n = Number(n) || 0;
		while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
		return (i ? n.toFixed(2) : String(n)) + ' ' + units[i];
	},

	rate: function (bytesPerSecond) {
		return wgpy.fmt.bytes(Math.round(bytesPerSecond)) + '/s';
	},

	/* "37 s ago", "4 min ago", "2 h ago", "over a day ago", "Never" */
	age: function (seconds) {
		if (seconds === null || seconds === undefined)
			return _('Never');
		if (seconds < 120)
			return _('%d s ago', Math.max(0, seconds));
		if (seconds < 7200)
			return _('%d min ago', Math.floor(seconds / 60));
		if (seconds < 86400)
			return _('%d h ago', Math.floor(seconds / 3600));
		return _('over a day ago');
	},

	/* at most `max` characters, with an ellipsis: a stored value may be any length */
	clip: function (text, max) {
		text = String(text);
		return text.length > max ? text.substr(0, max - 1) + '…' : text;
	},

	/* "host:port" / "[v6]:port" for a valid endpoint host; null when the stored host is
	 * not one (an old or hand-edited config), so the caller shows it as invalid */
	endpoint: function (host, port) {
		var bare = String(host || '').replace(/^\[(.*)\]$/, '$1');
		if (!bare || wgpy.validate.checks.host(bare) !== null)
			return null;
		return (bare.indexOf(':') >= 0 ? '[' + bare + ']' : bare) + ':' + (port || 51820);
	},

	/* a schema error ({option, message}) as one line */
	configError: function (e) {
		if (typeof e === 'string')
			return e;
		return (e.option ? _('option %s', e.option) + ': ' : '') + (e.message || '');
	},

	/* how the page names a peer: its description, else its UCI section */
	peerName: function (peer) {
		return peer.description || (peer.section ? _('peer %s', peer.section) : _('Untitled peer'));
	},

	/* first 5 and last 6 characters, as LuCI abbreviates keys */
	key: function (key) {
		return key && key.length > 12 ? key.substr(0, 5) + '…' + key.substr(-6) : (key || '');
	}
};
