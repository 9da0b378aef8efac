/*
 * E(): build DOM nodes the LuCI way, E('div', { 'class': 'x', 'click': fn }, [children]).
 * Strings become text nodes (createTextNode), never markup: this is what keeps a peer
 * description like "<script>" inert. Nothing in the page uses innerHTML with data.
 */
'use strict';

function E(tag, attrs, children) {
	var svg = /^svg:/.test(tag);
	var node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.substr(4))
		: document.createElement(tag);
	if (Array.isArray(attrs) || typeof attrs === 'string' || attrs instanceof Node) {
		children = attrs;
		attrs = null;
	}
	Object.keys(attrs || {}).forEach(function (name) {
		var value = attrs[name];
		if (typeof value === 'function')
			node.addEventListener(name, value);
		else if (value === true)
			node.setAttribute(name, name);
		else if (value !== null && value !== undefined && value !== false)
			node.setAttribute(name, String(value));
	});
	wgpy.dom.append(node, children);
	return node;
}

wgpy.dom = {
	/* children: a node, a string, or (nested) arrays of them; null/false are skipped */
	append: function (node, children) {
		if (children === null || children === undefined)
			return node;
		(Array.isArray(children) ? children : [children]).forEach(function (child) {
			if (child === null || child === undefined || child === false)
				return;
			if (Array.isArray(child))
				return wgpy.dom.append(node, child);
			node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
		});
		return node;
	},

	content: function (node, children) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
		return wgpy.dom.append(node, children);
	},

	/* a labelled form row: LuCI's .cbi-value with title, field and help/error text */
	row: function (title, field, help) {
		return E('div', { 'class': 'cbi-value' }, [
			E('label', { 'class': 'cbi-value-title', 'for': field.id || null }, title),
			E('div', { 'class': 'cbi-value-field' }, [
				field,
				help ? E('div', { 'class': 'cbi-value-description' }, help) : null,
				E('div', { 'class': 'cbi-value-error', 'data-error-for': field.id || '' })
			])
		]);
	},

	/* a notice bar: kind is 'info', 'warning' or 'error' */
	notice: function (kind, text) {
		return E('div', { 'class': 'alert-message ' + kind, 'role': kind === 'error' ? 'alert' : 'status' }, text);
	},

	/* a configured endpoint; a stored host that is not a valid name or address is shown
	 * whole (clipped), as text, and marked, never cut at its first space */
	endpoint: function (host, port) {
		var shown = wgpy.fmt.endpoint(host, port);
		if (shown !== null || !host)
			return shown || '-';
		return E('span', { 'class': 'invalid-value', 'title': wgpy.fmt.clip(host, 300) }, [
			wgpy.fmt.clip(host, 40), ' ', wgpy.dom.badge(_('invalid endpoint'), 'danger')
		]);
	},

	badge: function (text, kind) {
		return E('span', { 'class': 'badge' + (kind ? ' badge-' + kind : '') }, text);
	},

	button: function (text, kind, onclick, attrs) {
		var a = Object.assign({ 'class': 'cbi-button cbi-button-' + kind, 'type': 'button', 'click': onclick }, attrs || {});
		return E('button', a, text);
	}
};
