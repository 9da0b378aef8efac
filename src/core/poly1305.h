/*
 * poly1305.h - private streaming Poly1305 for aead.c (not part of the ABI).
 * Two limb layouts, chosen at compile time: radix 2^64 with unsigned
 * __int128 where the compiler has a 64x64->128 multiply, else radix 2^32
 * (32x32->64 multiplies, MIPS multu/maddu and ARM umull/umlal).
 * Define WGC_POLY1305_32 to force radix 2^32 on a 64-bit host for tests.
 */
#ifndef WGC_POLY1305_H
#define WGC_POLY1305_H

#include "util.h"

#if defined(__SIZEOF_INT128__) && !defined(WGC_POLY1305_32)
#define WGC_POLY1305_64
#endif

/* x86_64: poly1305_avx2.c takes runs of 4 or 8 blocks when the CPU has AVX2. */
#if defined(WGC_POLY1305_64) && !defined(WGC_PORTABLE) && defined(__GNUC__) && \
    defined(__x86_64__)
#define WGC_POLY1305_AVX2
/* Absorbs the largest multiple of 4 (of 8 from 128 blocks on) of the n >= 4
 * full blocks at m (2^128 bit set) into h as that many scalar steps would;
 * h2 < 8 in and out. Returns the blocks done. */
size_t wgc_poly1305_blocks_avx2(u64 h[3], const u64 r[2], const u8 *m, size_t n);
#endif

struct wgc_poly1305_ctx {
#ifdef WGC_POLY1305_64
    u64 r[2], s1;   /* s1 = r1 * 5/4: r1 has its low 2 bits clamped off */
    u64 h[3];
#else
    u32 r[4], s[3]; /* s[i] = r[i + 1] * 5/4, see poly1305.c */
    u32 h[5];
#endif
    u32 pad[4];
    u8 buf[16];
    size_t buf_len;
};

void wgc_poly1305_init(struct wgc_poly1305_ctx *p, const u8 key[32]);
void wgc_poly1305_update(struct wgc_poly1305_ctx *p, const u8 *msg, size_t len);
/* Zero-pads what was absorbed so far to a multiple of 16 (RFC 8439 AEAD). */
void wgc_poly1305_pad16(struct wgc_poly1305_ctx *p);
/* Writes the tag and wipes the context. */
void wgc_poly1305_final(struct wgc_poly1305_ctx *p, u8 mac[16]);

#endif
