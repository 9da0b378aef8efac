/*
 * poly1305_avx2.c - Poly1305 blocks four at a time with AVX2 (x86_64 only,
 * chosen at run time by poly1305.c; only these functions are compiled for
 * AVX2, so the rest of the build stays baseline x86-64).
 *
 * Radix 2^26: each 64-bit lane holds one limb of one of four accumulators,
 * which vpmuludq multiplies 32x32->64. Lane j absorbs blocks j, j+4, j+8, ...
 * and is multiplied by r^4 per step; at the end lane j is multiplied by
 * r^(4-j) and the lanes are summed, which is Horner's rule regrouped:
 * h' = (h + m0) r^n + m1 r^(n-1) + ... + m(n-1) r.
 * Constant time: no branch or index depends on r, h or the message.
 */
#include <string.h>

#include "poly1305.h"

#ifdef WGC_POLY1305_AVX2

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))
#define M26 ((u64)0x3ffffff)

__extension__ typedef unsigned __int128 u128;

/* a = a b mod 2^130 - 5 on 26-bit limbs (scalar; only for the powers of r). */
static void mul26(u64 a[5], const u64 b[5])
{
    u64 s1 = 5 * b[1], s2 = 5 * b[2], s3 = 5 * b[3], s4 = 5 * b[4], c;
    u64 d0 = a[0] * b[0] + a[1] * s4 + a[2] * s3 + a[3] * s2 + a[4] * s1;
    u64 d1 = a[0] * b[1] + a[1] * b[0] + a[2] * s4 + a[3] * s3 + a[4] * s2;
    u64 d2 = a[0] * b[2] + a[1] * b[1] + a[2] * b[0] + a[3] * s4 + a[4] * s3;
    u64 d3 = a[0] * b[3] + a[1] * b[2] + a[2] * b[1] + a[3] * b[0] + a[4] * s4;
    u64 d4 = a[0] * b[4] + a[1] * b[3] + a[2] * b[2] + a[3] * b[1] + a[4] * b[0];

    c = d0 >> 26; d0 &= M26; d1 += c;
    c = d1 >> 26; d1 &= M26; d2 += c;
    c = d2 >> 26; d2 &= M26; d3 += c;
    c = d3 >> 26; d3 &= M26; d4 += c;
    c = d4 >> 26; d4 &= M26; d0 += 5 * c;
    c = d0 >> 26; d0 &= M26; d1 += c;
    a[0] = d0; a[1] = d1; a[2] = d2; a[3] = d3; a[4] = d4;
}

/* The 130-bit value h0 + h1 2^64 + h2 2^128 (h2 < 8) as 26-bit limbs. */
static void to26(u64 l[5], u64 h0, u64 h1, u64 h2)
{
    l[0] = h0 & M26;
    l[1] = (h0 >> 26) & M26;
    l[2] = ((h0 >> 52) | (h1 << 12)) & M26;
    l[3] = (h1 >> 14) & M26;
    l[4] = (h1 >> 40) | (h2 << 24);
}

/* d = h r per lane, 25 vpmuludq; s = 5 r for the wrapped products. */
#define VMUL(d, h, r, s)                                                        \
    do {                                                                        \
        d[0] = _mm256_add_epi64(                                                \
            _mm256_add_epi64(_mm256_mul_epu32(h[0], r[0]), _mm256_mul_epu32(h[1], s[4])), \
            _mm256_add_epi64(_mm256_mul_epu32(h[2], s[3]),                      \
                             _mm256_add_epi64(_mm256_mul_epu32(h[3], s[2]),     \
                                              _mm256_mul_epu32(h[4], s[1]))));  \
        d[1] = _mm256_add_epi64(                                                \
            _mm256_add_epi64(_mm256_mul_epu32(h[0], r[1]), _mm256_mul_epu32(h[1], r[0])), \
            _mm256_add_epi64(_mm256_mul_epu32(h[2], s[4]),                      \
                             _mm256_add_epi64(_mm256_mul_epu32(h[3], s[3]),     \
                                              _mm256_mul_epu32(h[4], s[2]))));  \
        d[2] = _mm256_add_epi64(                                                \
            _mm256_add_epi64(_mm256_mul_epu32(h[0], r[2]), _mm256_mul_epu32(h[1], r[1])), \
            _mm256_add_epi64(_mm256_mul_epu32(h[2], r[0]),                      \
                             _mm256_add_epi64(_mm256_mul_epu32(h[3], s[4]),     \
                                              _mm256_mul_epu32(h[4], s[3]))));  \
        d[3] = _mm256_add_epi64(                                                \
            _mm256_add_epi64(_mm256_mul_epu32(h[0], r[3]), _mm256_mul_epu32(h[1], r[2])), \
            _mm256_add_epi64(_mm256_mul_epu32(h[2], r[1]),                      \
                             _mm256_add_epi64(_mm256_mul_epu32(h[3], r[0]),     \
                                              _mm256_mul_epu32(h[4], s[4]))));  \
        d[4] = _mm256_add_epi64(                                                \
            _mm256_add_epi64(_mm256_mul_epu32(h[0], r[4]), _mm256_mul_epu32(h[1], r[3])), \
            _mm256_add_epi64(_mm256_mul_epu32(h[2], r[2]),                      \
                             _mm256_add_epi64(_mm256_mul_epu32(h[3], r[1]),     \
                                              _mm256_mul_epu32(h[4], r[0]))));  \
    } while (0)

/* Adds four blocks at m, with their 2^128 bit, to lanes 0..3 of h. */
AVX2 static inline void add4(__m256i h[5], const u8 *m)
{
    const __m256i mask = _mm256_set1_epi64x((long long)M26);
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)m);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(m + 32));
    __m256i p = _mm256_permute2x128_si256(a, b, 0x20); /* m0 | m2 */
    __m256i q = _mm256_permute2x128_si256(a, b, 0x31); /* m1 | m3 */
    __m256i lo = _mm256_unpacklo_epi64(p, q);          /* low halves of m0..m3 */
    __m256i hi = _mm256_unpackhi_epi64(p, q);          /* high halves */

    h[0] = _mm256_add_epi64(h[0], _mm256_and_si256(lo, mask));
    h[1] = _mm256_add_epi64(h[1], _mm256_and_si256(_mm256_srli_epi64(lo, 26), mask));
    h[2] = _mm256_add_epi64(h[2], _mm256_and_si256(_mm256_or_si256(_mm256_srli_epi64(lo, 52),
                                                                   _mm256_slli_epi64(hi, 12)),
                                                   mask));
    h[3] = _mm256_add_epi64(h[3], _mm256_and_si256(_mm256_srli_epi64(hi, 14), mask));
    h[4] = _mm256_add_epi64(h[4], _mm256_or_si256(_mm256_srli_epi64(hi, 40),
                                                  _mm256_set1_epi64x(1 << 24)));
}

/* Partial carry of all lanes: limbs end a little above 26 bits at most, so
 * after adding a block each is < 2^28 and a column of five products with
 * 5 r (< 2^29) stays below 2^60. */
AVX2 static inline void vcarry(__m256i h[5], __m256i d[5])
{
    const __m256i mask = _mm256_set1_epi64x((long long)M26);
    __m256i c;

    c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], mask);
    d[1] = _mm256_add_epi64(d[1], c);
    c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], mask);
    d[4] = _mm256_add_epi64(d[4], c);
    c = _mm256_srli_epi64(d[1], 26); d[1] = _mm256_and_si256(d[1], mask);
    d[2] = _mm256_add_epi64(d[2], c);
    c = _mm256_srli_epi64(d[4], 26); d[4] = _mm256_and_si256(d[4], mask);
    d[0] = _mm256_add_epi64(d[0], _mm256_add_epi64(c, _mm256_slli_epi64(c, 2)));
    c = _mm256_srli_epi64(d[2], 26); d[2] = _mm256_and_si256(d[2], mask);
    d[3] = _mm256_add_epi64(d[3], c);
    c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], mask);
    d[1] = _mm256_add_epi64(d[1], c);
    c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], mask);
    d[4] = _mm256_add_epi64(d[4], c);
    h[0] = d[0]; h[1] = d[1]; h[2] = d[2]; h[3] = d[3]; h[4] = d[4];
}

AVX2 static inline u64 hsum(__m256i v)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (u64)_mm_cvtsi128_si64(_mm_add_epi64(s, _mm_unpackhi_epi64(s, s)));
}

AVX2 size_t wgc_poly1305_blocks_avx2(u64 h[3], const u64 r[2], const u8 *m, size_t n)
{
    /* From 128 blocks on, a second set of four lanes runs beside the first:
     * lanes 0-3 take blocks 8i..8i+3, lanes 4-7 blocks 8i+4..8i+7, each set
     * stepping by r^8. A step is one long chain of dependent multiplies and
     * carries, and two independent chains keep the core busy. Below that,
     * computing r^5..r^8 costs about what it saves. */
    const int two = n >= 128;
    const int lanes = two ? 8 : 4;
    u64 p[8][5], c, d0, d1, d2, d3, d4;
    __m256i RN[5], SN[5], R[5], S[5], R2[5], S2[5], acc[5], acc2[5], d[5], e[5];
    u128 t;
    size_t done = n & ~(size_t)(lanes - 1);
    int i;

    /* p[k] = r^(k+1) as limbs. */
    to26(p[0], r[0], r[1], 0);
    for (i = 1; i < lanes; i++) {
        memcpy(p[i], p[i - 1], sizeof(p[i]));
        mul26(p[i], p[0]);
    }
    for (i = 0; i < 5; i++) {
        RN[i] = _mm256_set1_epi64x((long long)p[lanes - 1][i]);
        SN[i] = _mm256_set1_epi64x((long long)(5 * p[lanes - 1][i]));
        /* lane j multiplies by r^(4-j) at the end (r^(8-j) in the first of two sets) */
        R[i] = _mm256_set_epi64x((long long)p[lanes - 4][i], (long long)p[lanes - 3][i],
                                 (long long)p[lanes - 2][i], (long long)p[lanes - 1][i]);
        S[i] = _mm256_set_epi64x((long long)(5 * p[lanes - 4][i]), (long long)(5 * p[lanes - 3][i]),
                                 (long long)(5 * p[lanes - 2][i]), (long long)(5 * p[lanes - 1][i]));
    }

    /* Lane 0 starts from h, the others from 0. */
    to26(p[4], h[0], h[1], h[2]);
    for (i = 0; i < 5; i++)
        acc[i] = _mm256_set_epi64x(0, 0, 0, (long long)p[4][i]);
    add4(acc, m);
    if (two) {
        for (i = 0; i < 5; i++) {
            R2[i] = _mm256_set_epi64x((long long)p[0][i], (long long)p[1][i],
                                      (long long)p[2][i], (long long)p[3][i]);
            S2[i] = _mm256_set_epi64x((long long)(5 * p[0][i]), (long long)(5 * p[1][i]),
                                      (long long)(5 * p[2][i]), (long long)(5 * p[3][i]));
            acc2[i] = _mm256_setzero_si256();
        }
        add4(acc2, m + 64);
        for (m += 128, n -= 8; n >= 8; n -= 8, m += 128) {
            VMUL(d, acc, RN, SN);
            VMUL(e, acc2, RN, SN);
            vcarry(acc, d);
            vcarry(acc2, e);
            add4(acc, m);
            add4(acc2, m + 64);
        }
        VMUL(d, acc, R, S);
        VMUL(e, acc2, R2, S2);
        for (i = 0; i < 5; i++)
            d[i] = _mm256_add_epi64(d[i], e[i]);
    } else {
        for (m += 64, n -= 4; n >= 4; n -= 4, m += 64) {
            VMUL(d, acc, RN, SN);
            vcarry(acc, d);
            add4(acc, m);
        }
        VMUL(d, acc, R, S);
    }

    /* Sum the lanes (each lane column < 2^61, so eight stay below 2^64)
     * and carry back to 26-bit limbs. */
    d0 = hsum(d[0]); d1 = hsum(d[1]); d2 = hsum(d[2]); d3 = hsum(d[3]); d4 = hsum(d[4]);
    c = d0 >> 26; d0 &= M26; d1 += c;
    c = d1 >> 26; d1 &= M26; d2 += c;
    c = d2 >> 26; d2 &= M26; d3 += c;
    c = d3 >> 26; d3 &= M26; d4 += c;
    c = d4 >> 26; d4 &= M26; d0 += 5 * c;
    c = d0 >> 26; d0 &= M26; d1 += c;

    /* Back to radix 2^64: h < 2^130 + 2^27, so h2 stays below 8. */
    t = (u128)d0 + ((u128)d1 << 26) + ((u128)d2 << 52);
    h[0] = (u64)t;
    t = (t >> 64) + ((u128)d3 << 14) + ((u128)d4 << 40);
    h[1] = (u64)t;
    h[2] = (u64)(t >> 64);
    wgc_wipe(p, sizeof(p));
    return done;
}

#endif
