/*
 * QR code encoder (ISO/IEC 18004), written for this page so the router needs no
 * qrencode: byte mode (UTF-8), error correction level M (L if the text is too long for
 * M), the smallest version that fits, Reed-Solomon over GF(256), all 8 masks scored with
 * the standard's four penalty rules. wgpy.qr.svg(text) returns an <svg> element.
 * Coordinates are (x = column, y = row) with (0, 0) top left.
 */
'use strict';

wgpy.qr = (function () {
	/* Per version 1..40 (index 0 unused): EC codewords per block and number of blocks,
	 * from the standard's error correction table, for levels L and M. */
	var LEVELS = {
		L: { formatBits: 1,
			ecPerBlock: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
				28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
			blocks: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
				8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25] },
		M: { formatBits: 0,
			ecPerBlock: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
				26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
			blocks: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
				17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49] }
	};

	/* ---- GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 ---- */
	var EXP = new Array(512), LOG = new Array(256);
	(function () {
		for (var i = 0, x = 1; i < 255; i++) {
			EXP[i] = x;
			LOG[x] = i;
			x <<= 1;
			if (x & 0x100)
				x ^= 0x11d;
		}
		for (i = 255; i < 512; i++)
			EXP[i] = EXP[i - 255];
	})();

	function mul(a, b) { return a && b ? EXP[LOG[a] + LOG[b]] : 0; }

	/* generator polynomial (x - a^0)(x - a^1)...(x - a^(n-1)), highest term first, monic */
	function generator(n) {
		var poly = [1];
		for (var i = 0; i < n; i++) {
			var next = new Array(poly.length + 1).fill(0);
			for (var j = 0; j < poly.length; j++) {
				next[j] ^= poly[j];
				next[j + 1] ^= mul(poly[j], EXP[i]);
			}
			poly = next;
		}
		return poly;
	}

	/* the n EC codewords: remainder of data(x) * x^n divided by the generator */
	function ecCodewords(data, n) {
		var gen = generator(n), rem = new Array(n).fill(0);
		data.forEach(function (byte) {
			var factor = byte ^ rem.shift();
			rem.push(0);
			for (var i = 0; i < n; i++)
				rem[i] ^= mul(gen[i + 1], factor);
		});
		return rem;
	}

	/* ---- BCH-protected format and version information ---- */
	function bch(value, poly, polyDegree) {
		var rem = value << polyDegree;
		for (var bit = 31 - Math.clz32(rem); bit >= polyDegree; bit--)
			if (rem & (1 << bit))
				rem ^= poly << (bit - polyDegree);
		return (value << polyDegree) | rem;
	}

	function formatBits(level, mask) {
		return bch((LEVELS[level].formatBits << 3) | mask, 0x537, 10) ^ 0x5412;
	}

	function alignmentPositions(version) {
		if (version === 1)
			return [];
		var size = version * 4 + 17, count = Math.floor(version / 7) + 2;
		var step = version === 32 ? 26 : Math.ceil((size - 13) / (count * 2 - 2)) * 2;
		var out = [];
		for (var i = 0, p = size - 7; i < count - 1; i++, p -= step)
			out.unshift(p);
		out.unshift(6);
		return out;
	}

	/* ---- the symbol: modules plus which of them are function patterns ---- */
	function Symbol(version) {
		this.version = version;
		this.size = version * 4 + 17;
		this.dark = [];
		this.reserved = [];
		for (var y = 0; y < this.size; y++) {
			this.dark.push(new Array(this.size).fill(false));
			this.reserved.push(new Array(this.size).fill(false));
		}
		this.drawFunctionPatterns();
	}

	Symbol.prototype.set = function (x, y, dark) {
		this.dark[y][x] = dark;
		this.reserved[y][x] = true;
	};

	Symbol.prototype.drawFunctionPatterns = function () {
		var size = this.size, self = this;
		for (var i = 0; i < size; i++) {  /* timing patterns */
			this.set(6, i, i % 2 === 0);
			this.set(i, 6, i % 2 === 0);
		}
		[[3, 3], [size - 4, 3], [3, size - 4]].forEach(function (c) { self.finder(c[0], c[1]); });
		var pos = alignmentPositions(this.version), last = pos.length - 1;
		pos.forEach(function (x, i) {
			pos.forEach(function (y, j) {
				var corner = (i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0);
				if (!corner)
					self.alignment(x, y);
			});
		});
		this.drawFormat(0);  /* reserve the areas; the real bits come with the mask */
		this.drawVersion();
	};

	/* 7x7 finder centred on (cx, cy) with its light separator, clipped to the symbol */
	Symbol.prototype.finder = function (cx, cy) {
		for (var dy = -4; dy <= 4; dy++)
			for (var dx = -4; dx <= 4; dx++) {
				var x = cx + dx, y = cy + dy, d = Math.max(Math.abs(dx), Math.abs(dy));
				if (x >= 0 && x < this.size && y >= 0 && y < this.size)
					this.set(x, y, d !== 2 && d !== 4);
			}
	};

	Symbol.prototype.alignment = function (cx, cy) {
		for (var dy = -2; dy <= 2; dy++)
			for (var dx = -2; dx <= 2; dx++)
				this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
	};

	/* 15 format bits, twice: around the top-left finder, and split between the other two */
	Symbol.prototype.drawFormat = function (bits) {
		var size = this.size, bit = function (i) { return ((bits >> i) & 1) === 1; };
		for (var i = 0; i <= 5; i++)
			this.set(8, i, bit(i));
		this.set(8, 7, bit(6));
		this.set(8, 8, bit(7));
		this.set(7, 8, bit(8));
		for (i = 9; i < 15; i++)
			this.set(14 - i, 8, bit(i));
		for (i = 0; i < 8; i++)
			this.set(size - 1 - i, 8, bit(i));
		for (i = 8; i < 15; i++)
			this.set(8, size - 15 + i, bit(i));
		this.set(8, size - 8, true);  /* the dark module */
	};

	/* versions 7+: 18 bits in two 6x3 blocks next to the top-right and bottom-left finders */
	Symbol.prototype.drawVersion = function () {
		if (this.version < 7)
			return;
		var bits = bch(this.version, 0x1f25, 12);
		for (var i = 0; i < 18; i++) {
			var dark = ((bits >> i) & 1) === 1, a = this.size - 11 + i % 3, b = Math.floor(i / 3);
			this.set(a, b, dark);
			this.set(b, a, dark);
		}
	};

	/* data modules in the standard's order: two-column strips from the right, zigzag */
	Symbol.prototype.dataPositions = function () {
		var out = [], size = this.size;
		for (var right = size - 1; right >= 1; right -= 2) {
			if (right === 6)
				right = 5;  /* the vertical timing pattern is skipped */
			var upward = ((right + 1) & 2) === 0;
			for (var v = 0; v < size; v++)
				for (var j = 0; j < 2; j++) {
					var x = right - j, y = upward ? size - 1 - v : v;
					if (!this.reserved[y][x])
						out.push([x, y]);
				}
		}
		return out;
	};

	var MASKS = [
		function (x, y) { return (x + y) % 2 === 0; },
		function (x, y) { return y % 2 === 0; },
		function (x, y) { return x % 3 === 0; },
		function (x, y) { return (x + y) % 3 === 0; },
		function (x, y) { return (Math.floor(y / 2) + Math.floor(x / 3)) % 2 === 0; },
		function (x, y) { return (x * y) % 2 + (x * y) % 3 === 0; },
		function (x, y) { return ((x * y) % 2 + (x * y) % 3) % 2 === 0; },
		function (x, y) { return ((x + y) % 2 + (x * y) % 3) % 2 === 0; }
	];

	/* ---- penalty rules N1..N4, to pick the mask that scans best ---- */
	function lines(dark) {
		var size = dark.length, out = dark.slice();
		for (var x = 0; x < size; x++)
			out.push(dark.map(function (row) { return row[x]; }));
		return out;
	}

	function runPenalty(line) {  /* N1: 3 + (n - 5) for each run of 5+ same-coloured modules */
		var score = 0, run = 1;
		for (var i = 1; i <= line.length; i++) {
			if (i < line.length && line[i] === line[i - 1]) {
				run++;
				continue;
			}
			if (run >= 5)
				score += run - 2;
			run = 1;
		}
		return score;
	}

	var FINDER_LIKE = ['10111010000', '00001011101'];

	function finderPenalty(line) {  /* N3: 40 for each 1:1:3:1:1 pattern with 4 light beside */
		var text = line.map(function (d) { return d ? '1' : '0'; }).join(''), score = 0;
		FINDER_LIKE.forEach(function (pattern) {
			for (var i = text.indexOf(pattern); i >= 0; i = text.indexOf(pattern, i + 1))
				score += 40;
		});
		return score;
	}

	function penalty(dark) {
		var size = dark.length, score = 0, darkCount = 0;
		lines(dark).forEach(function (line) { score += runPenalty(line) + finderPenalty(line); });
		for (var y = 0; y < size; y++)
			for (var x = 0; x < size; x++) {
				darkCount += dark[y][x] ? 1 : 0;
				if (x < size - 1 && y < size - 1 && dark[y][x] === dark[y][x + 1] &&
					dark[y][x] === dark[y + 1][x] && dark[y][x] === dark[y + 1][x + 1])
					score += 3;  /* N2: each 2x2 block of one colour */
			}
		/* N4: 10 per 5% the dark share is away from 50% */
		return score + 10 * Math.floor(Math.abs(darkCount * 100 / (size * size) - 50) / 5);
	}

	/* ---- data: bit stream, blocks, interleaving ---- */
	function capacity(version, level) {
		var total = Math.floor(new Symbol(version).dataPositions().length / 8);
		var l = LEVELS[level];
		return { total: total, data: total - l.ecPerBlock[version] * l.blocks[version] };
	}

	function dataCodewords(bytes, version, dataLength) {
		var bits = [];
		function put(value, count) {
			for (var i = count - 1; i >= 0; i--)
				bits.push((value >> i) & 1);
		}
		put(4, 4);  /* byte mode */
		put(bytes.length, version <= 9 ? 8 : 16);
		bytes.forEach(function (b) { put(b, 8); });
		put(0, Math.min(4, dataLength * 8 - bits.length));  /* terminator */
		put(0, (8 - bits.length % 8) % 8);
		var out = [];
		for (var i = 0; i < bits.length; i += 8)
			out.push(parseInt(bits.slice(i, i + 8).join(''), 2));
		for (var pad = 0; out.length < dataLength; pad ^= 1)
			out.push(pad ? 0x11 : 0xec);
		return out;
	}

	function interleave(data, version, level, total) {
		var count = LEVELS[level].blocks[version], ecLength = LEVELS[level].ecPerBlock[version];
		var shortLength = Math.floor(total / count) - ecLength, longFrom = count - total % count;
		var blocks = [], offset = 0;
		for (var b = 0; b < count; b++) {
			var length = shortLength + (b >= longFrom ? 1 : 0);
			var chunk = data.slice(offset, offset + length);
			offset += length;
			blocks.push({ data: chunk, ec: ecCodewords(chunk, ecLength) });
		}
		var out = [];
		for (var i = 0; i <= shortLength; i++)
			blocks.forEach(function (blk) { if (i < blk.data.length) out.push(blk.data[i]); });
		for (i = 0; i < ecLength; i++)
			blocks.forEach(function (blk) { out.push(blk.ec[i]); });
		return out;
	}

	function chooseVersion(length) {
		var levels = ['M', 'L'];
		for (var l = 0; l < levels.length; l++)
			for (var version = 1; version <= 40; version++) {
				var cap = capacity(version, levels[l]);
				if (4 + (version <= 9 ? 8 : 16) + length * 8 <= cap.data * 8)
					return { version: version, level: levels[l], cap: cap };
			}
		throw new Error(_('Too much data for a QR code'));
	}

	/* text -> { version, level, size, mask, dark[y][x] } */
	function encode(text) {
		var bytes = Array.from(new TextEncoder().encode(text));
		var pick = chooseVersion(bytes.length);
		var codewords = interleave(dataCodewords(bytes, pick.version, pick.cap.data),
			pick.version, pick.level, pick.cap.total);
		var best = null;
		MASKS.forEach(function (maskFn, mask) {
			var sym = new Symbol(pick.version);
			sym.dataPositions().forEach(function (p, i) {
				var bit = i < codewords.length * 8 && ((codewords[i >> 3] >> (7 - (i & 7))) & 1) === 1;
				sym.dark[p[1]][p[0]] = bit !== maskFn(p[0], p[1]);
			});
			sym.drawFormat(formatBits(pick.level, mask));
			var score = penalty(sym.dark);
			if (best === null || score < best.score)
				best = { score: score, sym: sym, mask: mask };
		});
		return { version: pick.version, level: pick.level, size: best.sym.size, mask: best.mask,
			dark: best.sym.dark };
	}

	/* an <svg> of the code with the 4-module quiet zone the standard asks for */
	function svg(text) {
		var code = encode(text), quiet = 4, side = code.size + 2 * quiet, path = [];
		code.dark.forEach(function (row, y) {
			row.forEach(function (d, x) {
				if (d)
					path.push('M' + (x + quiet) + ' ' + (y + quiet) + 'h1v1h-1z');
			});
		});
		return E('svg:svg', {
			'class': 'qr-code', 'viewBox': '0 0 ' + side + ' ' + side, 'role': 'img',
			'shape-rendering': 'crispEdges', 'data-version': code.version, 'data-level': code.level,
			'aria-label': _('QR code of the client configuration')
		}, [
			E('svg:rect', { 'width': side, 'height': side, 'fill': '#fff' }),
			E('svg:path', { 'd': path.join(''), 'fill': '#000' })
		]);
	}

	return { encode: encode, svg: svg };
})();
