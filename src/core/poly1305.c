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

#ifdef WGC_POLY1305_AVX2
    /* The vector path pays for computing r^2..r^4 from about 16 blocks on. */
    if (n >= 16 && hibit && __builtin_cpu_supports("avx2")) {
        size_t done;
        p->h[0] = h0; p->h[1] = h1; p->h[2] = h2;
        done = wgc_poly1305_blocks_avx2(p->h, p->r, m, n);
        h0 = p->h[0]; h1 = p->h[1]; h2 = p->h[2];
        m += 16 * done;
        n -= done;
    }
#endif
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
 * That is 16 32x32->64 products per block (radix 2^26 needs 25), summed
 * column by column as MIPS maddu and ARM umlal accumulate.
 */

/* maddu exists from MIPS32r1 up to (not in) r6; 32-bit registers only. */
#if defined(__GNUC__) && defined(__mips) && __mips == 32 && !defined(__mips16) && \
    defined(__mips_isa_rev) && __mips_isa_rev < 6
#define WGC_POLY1305_MIPS_ASM
#endif

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

#ifndef WGC_POLY1305_MIPS_ASM
/* acc + a b. Chaining the columns through this (rather than writing each as
 * one long sum) keeps GCC from reassociating them into separate multiplies
 * and 64-bit additions: ARM gets one umlal per product. */
static inline u64 mac(u64 acc, u32 a, u32 b)
{
    return acc + (u64)a * b;
}
#endif

/*
 * h = (h + m + hibit 2^128) r, partially reduced; the loop keeps the 5 (h >>
 * 130) of one block in c and adds it with the next message block, so each
 * block has one carry chain rather than two.
 * Bounds: h4 <= 4 on entry, and after each block h0..h3 + (h4 & 3) 2^128 <
 * 2^130 and c < 2^32, so h + c + m < 2^131 (h4 <= 7). A column is then at
 * most (1 + 3 * 1.25) 2^60 plus a few 2^32 < 2^63 (column 0), the last one
 * is < 2^62 so its carry into h4 is < 2^30, and the new h4 = h4 r0 + carry
 * < 2^31 + 2^30 keeps c = 5 (h4 >> 2) < 2^32.
 */
static void poly_blocks(struct wgc_poly1305_ctx *p, const u8 *m, size_t n, u32 hibit)
{
    const u32 r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3];
    const u32 s1 = p->s[0], s2 = p->s[1], s3 = p->s[2];
    u32 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
    u32 c = 0, t, t0, t1, t2, t3;
#ifndef WGC_POLY1305_MIPS_ASM
    u64 d;
#endif

    for (; n; n--, m += 16) {
        /* h += c + m; carries are comparisons (sltu), never branches. */
        t = load32_le(m) + c;       c = t < c;  h0 += t;    c += h0 < t;
        t = load32_le(m + 4) + c;   c = t < c;  h1 += t;    c += h1 < t;
        t = load32_le(m + 8) + c;   c = t < c;  h2 += t;    c += h2 < t;
        t = load32_le(m + 12) + c;  c = t < c;  h3 += t;    c += h3 < t;
        h4 += c + hibit;

        /* t0..t3 = the low words of the columns, each column starting from
         * the previous one's high word; t = the carry into 2^128. */
#ifdef WGC_POLY1305_MIPS_ASM
        /* GCC splits long maddu chains apart and spills; written out, a
         * column is multu/maddu into HI:LO, mflo, and mfhi/mtlo/mthi to
         * start the next column from its carry. */
        {
            u32 hi;
            __asm__(
                "multu %[h0], %[r0]\n\t"
                "maddu %[h1], %[s3]\n\t"
                "maddu %[h2], %[s2]\n\t"
                "maddu %[h3], %[s1]\n\t"
                "mflo  %[t0]\n\t"
                "mfhi  %[hi]\n\t"
                "mtlo  %[hi]\n\t"
                "mthi  $0\n\t"
                "maddu %[h0], %[r1]\n\t"
                "maddu %[h1], %[r0]\n\t"
                "maddu %[h2], %[s3]\n\t"
                "maddu %[h3], %[s2]\n\t"
                "maddu %[h4], %[s1]\n\t"
                "mflo  %[t1]\n\t"
                "mfhi  %[hi]\n\t"
                "mtlo  %[hi]\n\t"
                "mthi  $0\n\t"
                "maddu %[h0], %[r2]\n\t"
                "maddu %[h1], %[r1]\n\t"
                "maddu %[h2], %[r0]\n\t"
                "maddu %[h3], %[s3]\n\t"
                "maddu %[h4], %[s2]\n\t"
                "mflo  %[t2]\n\t"
                "mfhi  %[hi]\n\t"
                "mtlo  %[hi]\n\t"
                "mthi  $0\n\t"
                "maddu %[h0], %[r3]\n\t"
                "maddu %[h1], %[r2]\n\t"
                "maddu %[h2], %[r1]\n\t"
                "maddu %[h3], %[r0]\n\t"
                "maddu %[h4], %[s3]\n\t"
                "mflo  %[t3]\n\t"
                "mfhi  %[t]"
                : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),
                  [t] "=r"(t), [hi] "=&r"(hi)
                : [h0] "r"(h0), [h1] "r"(h1), [h2] "r"(h2), [h3] "r"(h3),
                  [h4] "r"(h4), [r0] "r"(r0), [r1] "r"(r1), [r2] "r"(r2),
                  [r3] "r"(r3), [s1] "r"(s1), [s2] "r"(s2), [s3] "r"(s3)
                : "hi", "lo");
        }
#else
        d = (u64)h0 * r0;
        d = mac(d, h1, s3); d = mac(d, h2, s2); d = mac(d, h3, s1);
        t0 = (u32)d;
        d = mac(d >> 32, h0, r1); d = mac(d, h1, r0); d = mac(d, h2, s3);
        d = mac(d, h3, s2); d = mac(d, h4, s1);
        t1 = (u32)d;
        d = mac(d >> 32, h0, r2); d = mac(d, h1, r1); d = mac(d, h2, r0);
        d = mac(d, h3, s3); d = mac(d, h4, s2);
        t2 = (u32)d;
        d = mac(d >> 32, h0, r3); d = mac(d, h1, r2); d = mac(d, h2, r1);
        d = mac(d, h3, r0); d = mac(d, h4, s3);
        t3 = (u32)d;
        t = (u32)(d >> 32);
#endif
        h0 = t0;
        h1 = t1;
        h2 = t2;
        h3 = t3;
        h4 = h4 * r0 + t;

        /* Bits 130 and up, times 5, go in with the next block. */
        c = (h4 >> 2) * 5;
        h4 &= 3;
    }
    h0 += c;  c = h0 < c;
    h1 += c;  c = h1 < c;
    h2 += c;  c = h2 < c;
    h3 += c;  c = h3 < c;
    h4 += c;
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
