/*
 * poly1305.c - Poly1305 (RFC 8439), one of two limb layouts (see poly1305.h).
 * Full 16-byte blocks are read straight from the caller's buffer; only a
 * partial block is copied into the context. Everything is constant-time:
 * no branches or indexes depend on the key, the message bytes or h.
 */
#include <string.h>

#include "wgcore.h"
#include "poly1305.h"

#ifdef WGC_POLY1305_64

__extension__ typedef unsigned __int128 u128;

static void poly_key(struct wgc_poly1305_ctx *p, const u8 key[16])
{
    p->r[0] = load64_le(key) & 0x0ffffffc0fffffffULL;
    p->r[1] = load64_le(key + 8) & 0x0ffffffc0ffffffcULL;
    p->s1 = p->r[1] + (p->r[1] >> 2);
    p->h[0] = p->h[1] = p->h[2] = 0;
}

/* h = (h + m + hibit * 2^128) * r, partially reduced: h[2] stays below 8. */
static void poly_blocks(struct wgc_poly1305_ctx *p, const u8 *m, size_t n, u64 hibit)
{
    const u64 r0 = p->r[0], r1 = p->r[1], s1 = p->s1;
    u64 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], c;
    u128 d0, d1;

    for (; n; n--, m += 16) {
        d0 = (u128)h0 + load64_le(m);
        d1 = (u128)h1 + load64_le(m + 8) + (u64)(d0 >> 64);
        h0 = (u64)d0;
        h1 = (u64)d1;
        h2 += (u64)(d1 >> 64) + hibit;

        /* 2^128 * r1 = 2^130 * r1/4 = 5 * r1/4 = s1 (mod p) */
        d0 = (u128)h0 * r0 + (u128)h1 * s1;
        d1 = (u128)h0 * r1 + (u128)h1 * r0 + h2 * s1;
        h2 = h2 * r0;
        h0 = (u64)d0;
        d1 += (u64)(d0 >> 64);
        h1 = (u64)d1;
        h2 += (u64)(d1 >> 64);

        /* Fold bits 130 and up back in as 5 * (h2 >> 2). */
        c = (h2 >> 2) + (h2 & ~(u64)3);
        h2 &= 3;
        h0 += c;
        c = h0 < c;
        h1 += c;
        c = h1 < c;
        h2 += c;
    }
    p->h[0] = h0;
    p->h[1] = h1;
    p->h[2] = h2;
}

/* Fully reduces h mod 2^130 - 5, adds the pad mod 2^128, writes the tag. */
static void poly_emit(struct wgc_poly1305_ctx *p, u8 mac[16])
{
    u64 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2];
    u64 g0, g1, g2, c, mask;
    u128 t;

    g0 = h0 + 5;
    c = g0 < 5;
    g1 = h1 + c;
    c = g1 < c;
    g2 = h2 + c;
    mask = 0 - (g2 >> 2); /* all ones when h + 5 >= 2^130, i.e. h >= p */
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);

    t = (u128)h0 + (p->pad[0] | (u64)p->pad[1] << 32);
    store64_le(mac, (u64)t);
    t = (u128)h1 + (p->pad[2] | (u64)p->pad[3] << 32) + (u64)(t >> 64);
    store64_le(mac + 8, (u64)t);
}

#else /* radix 2^32 */

/*
 * h = h0 + h1 2^32 + h2 2^64 + h3 2^96 + h4 2^128 with h4 small, and r in
 * four 32-bit words. Clamping leaves r0 < 2^28 and r1..r3 < 2^28 with their
 * low 2 bits clear, so a product landing at 2^(128 + 32k) folds back to
 * 2^(32k) as 2^128 r_j = 2^130 (r_j / 4) = 5 r_j / 4 = s_j (mod 2^130 - 5).
 * 16 32x32->64 products per block (radix 2^26 needs 25); the sums of up to
 * five products per column are what MIPS maddu and ARM umlal accumulate.
 */

static void poly_key(struct wgc_poly1305_ctx *p, const u8 key[16])
{
    int i;
    p->r[0] = load32_le(key) & 0x0fffffff;
    for (i = 1; i < 4; i++) {
        p->r[i] = load32_le(key + 4 * i) & 0x0ffffffc;
        p->s[i - 1] = p->r[i] + (p->r[i] >> 2);
    }
    for (i = 0; i < 5; i++)
        p->h[i] = 0;
}

/*
 * h = (h + m + hibit 2^128) r, partially reduced. Bounds: on entry h4 <= 4,
 * so after adding m h4 <= 6; each column is at most 4 2^32 1.25 2^28 +
 * 6 1.25 2^28 < 2^63, and the carried h4 = h4 r0 + (d3 >> 32) < 2^32.
 * Folding 5 (h4 >> 2) into h0..h3 leaves h4 <= 3 + 1.
 */
static void poly_blocks(struct wgc_poly1305_ctx *p, const u8 *m, size_t n, u32 hibit)
{
    const u32 r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3];
    const u32 s1 = p->s[0], s2 = p->s[1], s3 = p->s[2];
    u32 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
    u32 c;
    u64 d0, d1, d2, d3;

    for (; n; n--, m += 16) {
        d0 = (u64)h0 + load32_le(m);
        d1 = (u64)h1 + load32_le(m + 4) + (u32)(d0 >> 32);
        d2 = (u64)h2 + load32_le(m + 8) + (u32)(d1 >> 32);
        d3 = (u64)h3 + load32_le(m + 12) + (u32)(d2 >> 32);
        h0 = (u32)d0;
        h1 = (u32)d1;
        h2 = (u32)d2;
        h3 = (u32)d3;
        h4 += (u32)(d3 >> 32) + hibit;

        d0 = (u64)h0 * r0 + (u64)h1 * s3 + (u64)h2 * s2 + (u64)h3 * s1;
        d1 = (u64)h0 * r1 + (u64)h1 * r0 + (u64)h2 * s3 + (u64)h3 * s2 + (u64)h4 * s1;
        d2 = (u64)h0 * r2 + (u64)h1 * r1 + (u64)h2 * r0 + (u64)h3 * s3 + (u64)h4 * s2;
        d3 = (u64)h0 * r3 + (u64)h1 * r2 + (u64)h2 * r1 + (u64)h3 * r0 + (u64)h4 * s3;
        h4 *= r0;

        h0 = (u32)d0;
        d1 += (u32)(d0 >> 32);
        h1 = (u32)d1;
        d2 += (u32)(d1 >> 32);
        h2 = (u32)d2;
        d3 += (u32)(d2 >> 32);
        h3 = (u32)d3;
        h4 += (u32)(d3 >> 32);

        /* Bits 130 and up times 5, added back with a carry chain; the
         * carries are comparisons (sltu), never branches. */
        c = (h4 >> 2) + (h4 & ~3u);
        h4 &= 3;
        h0 += c;
        c = h0 < c;
        h1 += c;
        c = h1 < c;
        h2 += c;
        c = h2 < c;
        h3 += c;
        c = h3 < c;
        h4 += c;
    }
    p->h[0] = h0; p->h[1] = h1; p->h[2] = h2; p->h[3] = h3; p->h[4] = h4;
}

/* Fully reduces h (< 2^130 + 2^32 < 2p, so one conditional subtraction of p
 * is enough), adds the pad mod 2^128 and writes the tag. */
static void poly_emit(struct wgc_poly1305_ctx *p, u8 mac[16])
{
    u32 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
    u32 g0, g1, g2, g3, mask;
    u64 f;

    /* g = h + 5; h >= p exactly when g reaches 2^130. */
    f = (u64)h0 + 5;                g0 = (u32)f;
    f = (u64)h1 + (u32)(f >> 32);   g1 = (u32)f;
    f = (u64)h2 + (u32)(f >> 32);   g2 = (u32)f;
    f = (u64)h3 + (u32)(f >> 32);   g3 = (u32)f;
    mask = 0 - ((h4 + (u32)(f >> 32)) >> 2);
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);
    h2 = (h2 & ~mask) | (g2 & mask);
    h3 = (h3 & ~mask) | (g3 & mask);

    f = (u64)h0 + p->pad[0];                store32_le(mac, (u32)f);
    f = (u64)h1 + p->pad[1] + (f >> 32);    store32_le(mac + 4, (u32)f);
    f = (u64)h2 + p->pad[2] + (f >> 32);    store32_le(mac + 8, (u32)f);
    f = (u64)h3 + p->pad[3] + (f >> 32);    store32_le(mac + 12, (u32)f);
}

#endif

void wgc_poly1305_init(struct wgc_poly1305_ctx *p, const u8 key[32])
{
    int i;
    poly_key(p, key);
    for (i = 0; i < 4; i++)
        p->pad[i] = load32_le(key + 16 + 4 * i);
    p->buf_len = 0;
}

void wgc_poly1305_update(struct wgc_poly1305_ctx *p, const u8 *msg, size_t len)
{
    size_t k;

    if (p->buf_len) {
        k = 16 - p->buf_len;
        if (k > len)
            k = len;
        memcpy(p->buf + p->buf_len, msg, k);
        p->buf_len += k;
        msg += k;
        len -= k;
        if (p->buf_len < 16)
            return;
        poly_blocks(p, p->buf, 1, 1);
        p->buf_len = 0;
    }
    if (len >= 16) {
        poly_blocks(p, msg, len / 16, 1);
        msg += len & ~(size_t)15;
        len &= 15;
    }
    if (len) {
        memcpy(p->buf, msg, len);
        p->buf_len = len;
    }
}

void wgc_poly1305_pad16(struct wgc_poly1305_ctx *p)
{
    if (p->buf_len == 0)
        return;
    memset(p->buf + p->buf_len, 0, 16 - p->buf_len);
    poly_blocks(p, p->buf, 1, 1);
    p->buf_len = 0;
}

void wgc_poly1305_final(struct wgc_poly1305_ctx *p, u8 mac[16])
{
    /* A short last block ends with a 1 byte instead of the 2^128 bit. */
    if (p->buf_len) {
        p->buf[p->buf_len] = 1;
        memset(p->buf + p->buf_len + 1, 0, 15 - p->buf_len);
        poly_blocks(p, p->buf, 1, 0);
    }
    poly_emit(p, mac);
    WIPE(*p);
}

void wgc_poly1305(uint8_t mac[16], const uint8_t *msg, size_t msg_len,
                  const uint8_t key[32])
{
    struct wgc_poly1305_ctx p;
    wgc_poly1305_init(&p, key);
    wgc_poly1305_update(&p, msg, msg_len);
    wgc_poly1305_final(&p, mac);
}
