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

	/* first 5 and last 6 characters, as LuCI abbreviates keys */
	key: function (key) {
		return key && key.length > 12 ? key.substr(0, 5) + '…' + key.substr(-6) : (key || '');
	}
};
