/*
 * chacha20_simd.c - multi-block ChaCha20: SSE2 (4 blocks) and AVX2 (8 blocks,
 * chosen at run time) on x86_64, NEON (4 blocks) on 32-bit ARM. The layout is
 * "vertical": vector i holds state word i of consecutive blocks, so a round is
 * the scalar round on vectors; a 4x4 transpose at the end restores byte order.
 * Lanes differ only in the block counter, which wraps at 32 bits like the
 * portable path. Input and output use unaligned loads and stores.
 */
#include <string.h>

#include "chacha20.h"
#include "chacha20_simd.h"

#ifdef WGC_HAVE_SIMD

/* QR on vectors, given ADD, XOR and ROT for the vector type. */
#define VQR(a, b, c, d)                                 \
    a = ADD(a, b); d = ROT(XOR(d, a), 16);              \
    c = ADD(c, d); b = ROT(XOR(b, c), 12);              \
    a = ADD(a, b); d = ROT(XOR(d, a), 8);               \
    c = ADD(c, d); b = ROT(XOR(b, c), 7)

#define VROUNDS(x)                                                      \
    do {                                                                \
        int i_;                                                         \
        _Pragma("GCC unroll 2") for (i_ = 0; i_ < 10; i_++) {           \
            VQR(x[0], x[4], x[8], x[12]); VQR(x[1], x[5], x[9], x[13]); \
            VQR(x[2], x[6], x[10], x[14]); VQR(x[3], x[7], x[11], x[15]); \
            VQR(x[0], x[5], x[10], x[15]); VQR(x[1], x[6], x[11], x[12]); \
            VQR(x[2], x[7], x[8], x[13]); VQR(x[3], x[4], x[9], x[14]); \
        }                                                               \
    } while (0)

#if defined(__x86_64__)
#include <immintrin.h>

#define ADD _mm_add_epi32
#define XOR _mm_xor_si128
#define ROT(v, n) _mm_or_si128(_mm_slli_epi32(v, n), _mm_srli_epi32(v, 32 - (n)))

/* Transposes words a..d of 4 blocks into 16-byte rows and XORs them in. */
static void sse2_out4(u8 *dst, const u8 *src, __m128i a, __m128i b, __m128i c, __m128i d)
{
    __m128i ab0 = _mm_unpacklo_epi32(a, b), ab1 = _mm_unpackhi_epi32(a, b);
    __m128i cd0 = _mm_unpacklo_epi32(c, d), cd1 = _mm_unpackhi_epi32(c, d);
    __m128i r[4];
    int k;
    r[0] = _mm_unpacklo_epi64(ab0, cd0);
    r[1] = _mm_unpackhi_epi64(ab0, cd0);
    r[2] = _mm_unpacklo_epi64(ab1, cd1);
    r[3] = _mm_unpackhi_epi64(ab1, cd1);
    for (k = 0; k < 4; k++) {
        __m128i in = _mm_loadu_si128((const __m128i *)(const void *)(src + 64 * k));
        _mm_storeu_si128((__m128i *)(void *)(dst + 64 * k), _mm_xor_si128(in, r[k]));
    }
}

static void sse2_blocks4(u8 *dst, const u8 *src, const u32 st[16])
{
    __m128i x[16], o[16];
    int i;
    for (i = 0; i < 16; i++)
        o[i] = _mm_set1_epi32((int)st[i]);
    o[12] = _mm_add_epi32(o[12], _mm_set_epi32(3, 2, 1, 0));
    for (i = 0; i < 16; i++)
        x[i] = o[i];
    VROUNDS(x);
    for (i = 0; i < 16; i++)
        x[i] = _mm_add_epi32(x[i], o[i]);
    for (i = 0; i < 4; i++)
        sse2_out4(dst + 16 * i, src + 16 * i, x[4 * i], x[4 * i + 1], x[4 * i + 2], x[4 * i + 3]);
}

#undef ADD
#undef XOR
#undef ROT

/* AVX2: 16- and 8-bit rotations are byte shuffles, the others shifts. */
#define AVX2 __attribute__((target("avx2")))
#define ADD _mm256_add_epi32
#define XOR _mm256_xor_si256
#define ROT(v, n) avx2_rot##n(v)

AVX2 static inline __m256i avx2_rot16(__m256i v)
{
    const __m256i m = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
                                      13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
    return _mm256_shuffle_epi8(v, m);
}
AVX2 static inline __m256i avx2_rot8(__m256i v)
{
    const __m256i m = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3,
                                      14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
    return _mm256_shuffle_epi8(v, m);
}
AVX2 static inline __m256i avx2_rot12(__m256i v)
{
    return _mm256_or_si256(_mm256_slli_epi32(v, 12), _mm256_srli_epi32(v, 20));
}
AVX2 static inline __m256i avx2_rot7(__m256i v)
{
    return _mm256_or_si256(_mm256_slli_epi32(v, 7), _mm256_srli_epi32(v, 25));
}

/* Words 4g..4g+3 of 8 blocks: 128-bit lane 0 holds blocks 0-3, lane 1 blocks
 * 4-7. After an in-lane transpose, row k holds block k (low) and k+4 (high). */
AVX2 static void avx2_rows(__m256i r[4], __m256i a, __m256i b, __m256i c, __m256i d)
{
    __m256i ab0 = _mm256_unpacklo_epi32(a, b), ab1 = _mm256_unpackhi_epi32(a, b);
    __m256i cd0 = _mm256_unpacklo_epi32(c, d), cd1 = _mm256_unpackhi_epi32(c, d);
    r[0] = _mm256_unpacklo_epi64(ab0, cd0);
    r[1] = _mm256_unpackhi_epi64(ab0, cd0);
    r[2] = _mm256_unpacklo_epi64(ab1, cd1);
    r[3] = _mm256_unpackhi_epi64(ab1, cd1);
}

AVX2 static void avx2_xor32(u8 *dst, const u8 *src, __m256i v)
{
    __m256i in = _mm256_loadu_si256((const __m256i *)(const void *)src);
    _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_xor_si256(in, v));
}

AVX2 static void avx2_blocks8(u8 *dst, const u8 *src, const u32 st[16])
{
    __m256i x[16], o[16], lo[4], hi[4];
    int i, k;
    _Pragma("GCC unroll 16") for (i = 0; i < 16; i++)
        o[i] = _mm256_set1_epi32((int)st[i]);
    o[12] = _mm256_add_epi32(o[12], _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
    _Pragma("GCC unroll 16") for (i = 0; i < 16; i++)
        x[i] = o[i];
    VROUNDS(x);
    _Pragma("GCC unroll 16") for (i = 0; i < 16; i++)
        x[i] = _mm256_add_epi32(x[i], o[i]);
    _Pragma("GCC unroll 2") for (i = 0; i < 16; i += 8) {
        avx2_rows(lo, x[i], x[i + 1], x[i + 2], x[i + 3]);
        avx2_rows(hi, x[i + 4], x[i + 5], x[i + 6], x[i + 7]);
        _Pragma("GCC unroll 4") for (k = 0; k < 4; k++) {
            /* words i..i+7 of block k, then of block k+4 */
            avx2_xor32(dst + 64 * k + 4 * i, src + 64 * k + 4 * i,
                       _mm256_permute2x128_si256(lo[k], hi[k], 0x20));
            avx2_xor32(dst + 64 * (k + 4) + 4 * i, src + 64 * (k + 4) + 4 * i,
                       _mm256_permute2x128_si256(lo[k], hi[k], 0x31));
        }
    }
}

#undef ADD
#undef XOR
#undef ROT

#define BLOCKS4 sse2_blocks4

#elif defined(__ARM_NEON)
#include <arm_neon.h>

#define ADD vaddq_u32
#define XOR veorq_u32
/* vsli: shift left and insert, so a rotation is two instructions. */
#define ROT(v, n) vsliq_n_u32(vshrq_n_u32(v, 32 - (n)), v, n)

static void neon_out4(u8 *dst, const u8 *src, uint32x4_t a, uint32x4_t b,
                      uint32x4_t c, uint32x4_t d)
{
    uint32x4x2_t ab = vtrnq_u32(a, b), cd = vtrnq_u32(c, d);
    uint32x4_t r[4];
    int k;
    r[0] = vcombine_u32(vget_low_u32(ab.val[0]), vget_low_u32(cd.val[0]));
    r[1] = vcombine_u32(vget_low_u32(ab.val[1]), vget_low_u32(cd.val[1]));
    r[2] = vcombine_u32(vget_high_u32(ab.val[0]), vget_high_u32(cd.val[0]));
    r[3] = vcombine_u32(vget_high_u32(ab.val[1]), vget_high_u32(cd.val[1]));
    for (k = 0; k < 4; k++) {
        /* vld1q_u8/vst1q_u8 are alignment-free and byte-ordered, so this is
         * also right on big-endian ARM once the words are little-endian. */
        uint8x16_t in = vld1q_u8(src + 64 * k);
        uint8x16_t ks = vreinterpretq_u8_u32(r[k]);
#if defined(__ARMEB__)
        ks = vrev32q_u8(ks);
#endif
        vst1q_u8(dst + 64 * k, veorq_u8(in, ks));
    }
}

static void neon_blocks4(u8 *dst, const u8 *src, const u32 st[16])
{
    uint32x4_t x[16], o[16];
    static const u32 lanes[4] = { 0, 1, 2, 3 };
    int i;
    for (i = 0; i < 16; i++)
        o[i] = vdupq_n_u32(st[i]);
    o[12] = vaddq_u32(o[12], vld1q_u32(lanes));
    for (i = 0; i < 16; i++)
        x[i] = o[i];
    VROUNDS(x);
    for (i = 0; i < 16; i++)
        x[i] = vaddq_u32(x[i], o[i]);
    for (i = 0; i < 4; i++)
        neon_out4(dst + 16 * i, src + 16 * i, x[4 * i], x[4 * i + 1], x[4 * i + 2], x[4 * i + 3]);
}

#undef ADD
#undef XOR
#undef ROT

#define BLOCKS4 neon_blocks4
#endif

typedef void blocks_fn(u8 *dst, const u8 *src, const u32 st[16]);

/* A short tail goes through a stack copy: one more SIMD call is cheaper than
 * several scalar blocks at the end of every packet. */
static size_t simd_tail(blocks_fn *fn, u8 *dst, const u8 *src, size_t len, u32 st[16])
{
    u8 buf[512];
    memcpy(buf, src, len);
    fn(buf, buf, st);
    memcpy(dst, buf, len);
    wgc_wipe(buf, len);
    st[12] += (u32)((len + 63) / 64);
    return len;
}

size_t wgc_chacha20_xor_simd(u8 *dst, const u8 *src, size_t len, u32 st[16])
{
    size_t done = 0;

#if defined(__x86_64__)
    if (len > 256 && __builtin_cpu_supports("avx2")) {
        for (; len - done >= 512; done += 512) {
            avx2_blocks8(dst + done, src + done, st);
            st[12] += 8;
        }
        if (len - done > 256)
            done += simd_tail(avx2_blocks8, dst + done, src + done, len - done, st);
    }
#endif
    for (; len - done >= 256; done += 256) {
        BLOCKS4(dst + done, src + done, st);
        st[12] += 4;
    }
    if (len - done > 64)
        done += simd_tail(BLOCKS4, dst + done, src + done, len - done, st);
    return done;
}

size_t wgc_chacha20_head_simd(u8 *ks, size_t len, u32 st[16])
{
    static const u8 zero[WGC_CHACHA_HEAD];
    size_t blocks = 1 + (len + 63) / 64;

#if defined(__x86_64__)
    if (blocks > 4 && __builtin_cpu_supports("avx2")) {
        avx2_blocks8(ks, zero, st);
        st[12] += 8;
        return 512;
    }
#endif
    /* Two blocks cost about what four in parallel do: stay scalar. */
    if (blocks <= 2)
        return 0;
    BLOCKS4(ks, zero, st);
    st[12] += 4;
    return 256;
}

#endif /* WGC_HAVE_SIMD */
