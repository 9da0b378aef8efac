/*
 * chacha20_simd.h - private hook for multi-block SIMD ChaCha20.
 * wgc_chacha20_xor_simd encrypts a whole number of blocks from the front of
 * the buffer (possibly none), advances st[12] to match and returns the bytes
 * done; the portable code finishes the rest. WGC_PORTABLE compiles it out so
 * tests can exercise the portable path on any host.
 */
#ifndef WGC_CHACHA20_SIMD_H
#define WGC_CHACHA20_SIMD_H

#include "util.h"

#if !defined(WGC_PORTABLE) && defined(__GNUC__) && defined(__x86_64__)
#define WGC_HAVE_SIMD
#define WGC_SIMD_NAMES "portable+sse2+avx2"
#define WGC_CHACHA_HEAD 512 /* one 8-block AVX2 call */
#elif !defined(WGC_PORTABLE) && defined(__GNUC__) && defined(__ARM_NEON) && \
    !defined(__aarch64__)
#define WGC_HAVE_SIMD
#define WGC_SIMD_NAMES "portable+neon"
#define WGC_CHACHA_HEAD 256 /* one 4-block NEON call */
#endif

#ifdef WGC_HAVE_SIMD
size_t wgc_chacha20_xor_simd(u8 *dst, const u8 *src, size_t len, u32 st[16]);
/* wgc_chacha20_head's SIMD part: 0 when one scalar block is the better buy. */
size_t wgc_chacha20_head_simd(u8 *ks, size_t len, u32 st[16]);
#else
#define WGC_SIMD_NAMES "portable"
#define WGC_CHACHA_HEAD 64 /* the Poly1305 key block alone */
static inline size_t wgc_chacha20_xor_simd(u8 *dst, const u8 *src, size_t len, u32 st[16])
{
    (void)dst; (void)src; (void)len; (void)st;
    return 0;
}
static inline size_t wgc_chacha20_head_simd(u8 *ks, size_t len, u32 st[16])
{
    (void)ks; (void)len; (void)st;
    return 0;
}
#endif

#endif
