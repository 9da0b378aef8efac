/*
 * chacha20.h - private ChaCha20 interface for aead.c (not part of the ABI).
 * The state is the RFC 8439 16-word matrix; word 12 is the block counter
 * and is advanced by wgc_chacha20_xor_state, so one state can encrypt a
 * message in pieces as long as every piece but the last is a multiple of 64.
 */
#ifndef WGC_CHACHA20_H
#define WGC_CHACHA20_H

#include "util.h"
#include "chacha20_simd.h" /* WGC_CHACHA_HEAD */

#define WGC_CHACHA_BLOCK 64

void wgc_chacha20_init(u32 st[16], const u8 key[32], const u8 nonce[12], u32 counter);
/* One 64-byte keystream block for the current counter; does not advance it. */
void wgc_chacha20_block(u8 out[64], const u32 st[16]);

/* Keystream from the current counter on, into ks: one block, or as many as
 * one SIMD call makes when that pays for 64 + len bytes (at most
 * WGC_CHACHA_HEAD). Advances the counter; returns the bytes written. The
 * AEAD keys Poly1305 with block 0 and XORs the rest into the payload.
 * Inline so that builds without SIMD see the constant 64. */
static inline size_t wgc_chacha20_head(u8 ks[WGC_CHACHA_HEAD], size_t len, u32 st[16])
{
    size_t n = wgc_chacha20_head_simd(ks, len, st);

    if (n)
        return n;
    wgc_chacha20_block(ks, st);
    st[12]++;
    return 64;
}

/* XORs len bytes of keystream into src, writing dst (dst may equal src). */
void wgc_chacha20_xor_state(u8 *dst, const u8 *src, size_t len, u32 st[16]);

/* Portable multi-block path; the SIMD files fall back to it for the tail. */
void wgc_chacha20_xor_portable(u8 *dst, const u8 *src, size_t len, u32 st[16]);

#endif
