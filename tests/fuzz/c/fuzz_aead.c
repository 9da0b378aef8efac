/*
 * fuzz_aead.c - libFuzzer target for the AEAD open paths of wgpy's C core:
 * wgc_aead_open, wgc_wg_open, wgc_xaead_open (separate and in-place buffers).
 *
 * Invariant: arbitrary ciphertext under an arbitrary key is refused (-1) with
 * the output untouched, unless it is exactly what the matching seal produced;
 * open(seal(x)) == x; any single flipped bit of a sealed message is refused.
 * Input: key[32] nonce[24] ad_len[1] counter[8] flip[2] rest = payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"

#define HDR (32 + 24 + 1 + 8 + 2)
#define SENTINEL 0xA5

static void check(int ok) { if (!ok) abort(); }

static int untouched(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != SENTINEL)
            return 0;
    return 1;
}

/* One AEAD flavour: 0 RFC 8439, 1 WireGuard counter nonce, 2 XChaCha. */
static void seal(int kind, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad,
                 size_t ad_len, const uint8_t *nonce, uint64_t counter, const uint8_t *key)
{
    if (kind == 0) wgc_aead_seal(dst, src, n, ad, ad_len, nonce, key);
    else if (kind == 1) wgc_wg_seal(dst, src, n, ad, ad_len, counter, key);
    else wgc_xaead_seal(dst, src, n, ad, ad_len, nonce, key);
}

static int open_(int kind, uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ad,
                 size_t ad_len, const uint8_t *nonce, uint64_t counter, const uint8_t *key)
{
    if (kind == 0) return wgc_aead_open(dst, src, n, ad, ad_len, nonce, key);
    if (kind == 1) return wgc_wg_open(dst, src, n, ad, ad_len, counter, key);
    return wgc_xaead_open(dst, src, n, ad, ad_len, nonce, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *key, *nonce, *ad, *payload;
    size_t ad_len, n;
    uint64_t counter;
    unsigned flip;
    uint8_t *out, *sealed, *inplace;
    int kind;

    if (size < HDR)
        return 0;
    key = data;
    nonce = data + 32;
    ad_len = data[56];
    memcpy(&counter, data + 57, 8);
    flip = (unsigned)data[65] | (unsigned)data[66] << 8;
    payload = data + HDR;
    n = size - HDR;
    if (ad_len > n)
        ad_len = n;
    ad = payload;           /* the first ad_len payload bytes double as associated data */

    out = malloc(n + 16 + 1);
    sealed = malloc(n + 16 + 1);
    inplace = malloc(n + 16 + 1);
    check(out && sealed && inplace);
    for (kind = 0; kind < 3; kind++) {
        /* 1. The raw bytes as a forgery: refused, output untouched (almost surely). */
        memset(out, SENTINEL, n + 1);
        if (open_(kind, out, payload, n, ad, ad_len, nonce, counter, key) == 0) {
            /* Only acceptable if it really is a valid seal of what came out. */
            seal(kind, sealed, out, n - 16, ad, ad_len, nonce, counter, key);
            check(memcmp(sealed, payload, n) == 0);
        } else {
            check(untouched(out, n + 1));
        }
        /* 2. Round trip, separate buffers and in place. */
        seal(kind, sealed, payload, n, ad, ad_len, nonce, counter, key);
        memset(out, SENTINEL, n + 1);
        check(open_(kind, out, sealed, n + 16, ad, ad_len, nonce, counter, key) == 0);
        check(memcmp(out, payload, n) == 0 && out[n] == SENTINEL);
        memcpy(inplace, sealed, n + 16);
        check(open_(kind, inplace, inplace, n + 16, ad, ad_len, nonce, counter, key) == 0);
        check(memcmp(inplace, payload, n) == 0);
        /* 3. One flipped bit anywhere in ciphertext||tag: refused, output untouched. */
        sealed[(flip >> 3) % (n + 16)] ^= (uint8_t)(1u << (flip & 7));
        memset(out, SENTINEL, n + 1);
        check(open_(kind, out, sealed, n + 16, ad, ad_len, nonce, counter, key) != 0);
        check(untouched(out, n + 1));
        /* 4. Truncated below the tag: refused. */
        check(open_(kind, out, sealed, (size_t)(flip % 16), ad, ad_len, nonce, counter, key) != 0);
    }
    free(out);
    free(sealed);
    free(inplace);
    return 0;
}
