'use strict';
'require view';

/*
 * LuCI's menu entry for wgpy: the page uhttpd serves at /wgpy/ (the same files that work
 * without LuCI), in a frame, logged in with LuCI's own session: the frame gets the session
 * id by postMessage to its own origin only, so it never appears in a URL.
 */
return view.extend({
	render: function () {
		var frame = E('iframe', {
			'src': '/wgpy/index.html',
			'title': _('WireGuard (wgpy)'),
			'style': 'width:100%;min-height:80vh;border:0'
		});
		frame.addEventListener('load', function () {
			frame.contentWindow.postMessage({ wgpySession: L.env.sessionid }, window.location.origin);
		});
		return frame;
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
