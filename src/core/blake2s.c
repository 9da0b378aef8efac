/*
 * blake2s.c - BLAKE2s (RFC 7693, keyed and unkeyed, 1..32-byte output),
 * HMAC-BLAKE2s (RFC 2104 with a 64-byte block) and WireGuard's KDF built
 * on it. Byte order is explicit: message words and the output are little
 * endian on every target. Every state and intermediate key is wiped.
 */
#include <string.h>

#include "wgcore.h"
#include "util.h"

static const u32 blake2s_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const u8 blake2s_sigma[10][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

#define G(a, b, c, d, x, y)                       \
    do {                                          \
        a += b + (x); d = rotr32(d ^ a, 16);      \
        c += d;       b = rotr32(b ^ c, 12);      \
        a += b + (y); d = rotr32(d ^ a, 8);       \
        c += d;       b = rotr32(b ^ c, 7);       \
    } while (0)

/* Mixes one 64-byte block into h; inc is the number of new message bytes
 * it accounts for (64, or fewer for the final block). */
static void blake2s_compress(struct wgc_blake2s_state *s, const u8 block[64], u32 inc)
{
    u32 m[16], v[16];
    int i;

    s->t[0] += inc;
    s->t[1] += (s->t[0] < inc); /* carry into the high counter word */
    for (i = 0; i < 16; i++)
        m[i] = load32_le(block + 4 * i);
    for (i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = blake2s_iv[i];
    }
    v[12] ^= s->t[0];
    v[13] ^= s->t[1];
    v[14] ^= s->f[0];
    v[15] ^= s->f[1];
    for (i = 0; i < 10; i++) {
        const u8 *sg = blake2s_sigma[i];
        G(v[0], v[4], v[8], v[12], m[sg[0]], m[sg[1]]);
        G(v[1], v[5], v[9], v[13], m[sg[2]], m[sg[3]]);
        G(v[2], v[6], v[10], v[14], m[sg[4]], m[sg[5]]);
        G(v[3], v[7], v[11], v[15], m[sg[6]], m[sg[7]]);
        G(v[0], v[5], v[10], v[15], m[sg[8]], m[sg[9]]);
        G(v[1], v[6], v[11], v[12], m[sg[10]], m[sg[11]]);
        G(v[2], v[7], v[8], v[13], m[sg[12]], m[sg[13]]);
        G(v[3], v[4], v[9], v[14], m[sg[14]], m[sg[15]]);
    }
    for (i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
    WIPE(m);
    WIPE(v);
}

int wgc_blake2s_init(struct wgc_blake2s_state *s, size_t out_len,
                     const uint8_t *key, size_t key_len)
{
    int i;

    if (out_len < 1 || out_len > 32 || key_len > 32)
        return -1;
    for (i = 0; i < 8; i++)
        s->h[i] = blake2s_iv[i];
    /* Parameter block word 0: digest length, key length, fanout 1, depth 1. */
    s->h[0] ^= 0x01010000u ^ ((u32)key_len << 8) ^ (u32)out_len;
    s->t[0] = s->t[1] = 0;
    s->f[0] = s->f[1] = 0;
    s->out_len = (u32)out_len;
    memset(s->buf, 0, sizeof(s->buf));
    s->buf_len = 0;
    if (key_len > 0) {
        /* The key, zero-padded, is the first block. It stays buffered so it
         * becomes the final block when no message follows. */
        memcpy(s->buf, key, key_len);
        s->buf_len = 64;
    }
    return 0;
}

void wgc_blake2s_update(struct wgc_blake2s_state *s, const uint8_t *in, size_t in_len)
{
    size_t room = 64 - s->buf_len;

    if (in_len == 0)
        return;
    /* A full buffer is compressed only once more input is known to follow:
     * the last block must be compressed by final with the final flag. */
    if (in_len > room) {
        memcpy(s->buf + s->buf_len, in, room);
        blake2s_compress(s, s->buf, 64);
        in += room;
        in_len -= room;
        s->buf_len = 0;
        while (in_len > 64) {
            blake2s_compress(s, in, 64);
            in += 64;
            in_len -= 64;
        }
    }
    memcpy(s->buf + s->buf_len, in, in_len);
    s->buf_len += (u32)in_len;
}

void wgc_blake2s_final(struct wgc_blake2s_state *s, uint8_t *out)
{
    u8 full[32];
    u32 i;

    memset(s->buf + s->buf_len, 0, 64 - s->buf_len);
    s->f[0] = 0xffffffffu;
    blake2s_compress(s, s->buf, s->buf_len);
    for (i = 0; i < 8; i++)
        store32_le(full + 4 * i, s->h[i]);
    memcpy(out, full, s->out_len);
    WIPE(full);
    wgc_wipe(s, sizeof(*s));
}

int wgc_blake2s(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len,
                const uint8_t *key, size_t key_len)
{
    struct wgc_blake2s_state s;

    if (wgc_blake2s_init(&s, out_len, key, key_len) != 0)
        return -1;
    wgc_blake2s_update(&s, in, in_len);
    wgc_blake2s_final(&s, out);
    return 0;
}

/* HMAC with BLAKE2s-256: H((K ^ opad) || H((K ^ ipad) || m)), K padded to
 * 64 bytes (hashed first if longer). out may alias key or in. */
void wgc_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t key_len,
                      const uint8_t *in, size_t in_len)
{
    struct wgc_blake2s_state s;
    u8 k[64], pad[64], inner[32];
    int i;

    memset(k, 0, sizeof(k));
    if (key_len > 64)
        wgc_blake2s(k, 32, key, key_len, NULL, 0);
    else if (key_len > 0)
        memcpy(k, key, key_len);

    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    wgc_blake2s_init(&s, 32, NULL, 0);
    wgc_blake2s_update(&s, pad, 64);
    wgc_blake2s_update(&s, in, in_len);
    wgc_blake2s_final(&s, inner);

    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    wgc_blake2s_init(&s, 32, NULL, 0);
    wgc_blake2s_update(&s, pad, 64);
    wgc_blake2s_update(&s, inner, 32);
    wgc_blake2s_final(&s, out);

    WIPE(k);
    WIPE(pad);
    WIPE(inner);
}

/* WireGuard's KDF (HKDF with HMAC-BLAKE2s and an empty info). out may
 * alias ck or in: both are consumed before out is written. */
int wgc_kdf(uint8_t *out, size_t n, const uint8_t ck[32],
            const uint8_t *in, size_t in_len)
{
    u8 prk[32], t[33];
    size_t i;

    if (n < 1 || n > 3)
        return -1;
    wgc_hmac_blake2s(prk, ck, 32, in, in_len);
    /* T1 = HMAC(prk, 0x01), Ti = HMAC(prk, T(i-1) || i): t holds T(i-1)
     * followed by the counter byte. */
    t[32] = 1;
    wgc_hmac_blake2s(t, prk, 32, t + 32, 1);
    memcpy(out, t, 32);
    for (i = 2; i <= n; i++) {
        t[32] = (u8)i;
        wgc_hmac_blake2s(t, prk, 32, t, 33);
        memcpy(out + 32 * (i - 1), t, 32);
    }
    WIPE(prk);
    WIPE(t);
    return 0;
}
