/*
 * chacha20.c - ChaCha20 (RFC 8439) and HChaCha20 (draft-irtf-cfrg-xchacha),
 * portable C. The 16 state words live in locals so the double round needs no
 * spills on MIPS32r2, and rotl32 lets GCC emit rotr there. Bytes go through
 * util.h's little-endian helpers: correct on big-endian MIPS, any alignment.
 * Multi-block SIMD paths live in chacha20_simd.c and are used from
 * wgc_chacha20_xor_state unless WGC_PORTABLE is defined.
 */
#include <string.h>

#include "wgcore.h"
#include "chacha20.h"
#include "chacha20_simd.h"

#define QR(a, b, c, d)              \
    a += b; d = rotl32(d ^ a, 16);  \
    c += d; b = rotl32(b ^ c, 12);  \
    a += b; d = rotl32(d ^ a, 8);   \
    c += d; b = rotl32(b ^ c, 7)

#define DOUBLE_ROUND()                                                 \
    QR(x0, x4, x8, x12); QR(x1, x5, x9, x13);                          \
    QR(x2, x6, x10, x14); QR(x3, x7, x11, x15);                        \
    QR(x0, x5, x10, x15); QR(x1, x6, x11, x12);                        \
    QR(x2, x7, x8, x13); QR(x3, x4, x9, x14)

/* 20 rounds over locals x0..x15, which must be in scope. Two double rounds
 * per iteration halve the loop overhead (10 instructions a block on MIPS). */
#define CHACHA20_ROUNDS()                                              \
    do {                                                               \
        int i_;                                                        \
        for (i_ = 0; i_ < 5; i_++) {                                   \
            DOUBLE_ROUND();                                            \
            DOUBLE_ROUND();                                            \
        }                                                              \
    } while (0)

#define LOAD_LOCALS(s)                                                 \
    u32 x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4],         \
        x5 = s[5], x6 = s[6], x7 = s[7], x8 = s[8], x9 = s[9],         \
        x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13],            \
        x14 = s[14], x15 = s[15]

/* Feed-forward, XOR and store word i straight from the round locals. */
#define OUT(i) xor32_le(dst + 4 * i, src + 4 * i, x##i + st[i])

/*
 * MIPS reads and writes an unaligned word with two instructions (lwl/lwr,
 * swl/swr) and an aligned one with one, so there the block loop is compiled
 * twice, once told that both pointers are aligned: 32 instructions fewer a
 * block when they are.
 */
#if defined(WGC_FAST_LE) && defined(__mips)
#define WGC_CHACHA_SPLIT_ALIGNED
#define BODY_INLINE static inline __attribute__((always_inline))
#else
#define BODY_INLINE static inline
#endif

/* n whole blocks from counter st[12] on (st itself is not advanced); the
 * keystream never touches memory and the loop stays inside one call. */
BODY_INLINE void blocks_xor_body(u8 *dst, const u8 *src, size_t n, const u32 st[16])
{
    u32 ctr = st[12];

    for (; n; n--, src += 64, dst += 64, ctr++) {
        LOAD_LOCALS(st);
        x12 = ctr;
        CHACHA20_ROUNDS();
        OUT(0); OUT(1); OUT(2); OUT(3); OUT(4); OUT(5); OUT(6); OUT(7);
        OUT(8); OUT(9); OUT(10); OUT(11);
        xor32_le(dst + 48, src + 48, x12 + ctr);
        OUT(13); OUT(14); OUT(15);
    }
}

#ifdef WGC_CHACHA_SPLIT_ALIGNED
static void blocks_xor_aligned(u8 *dst, const u8 *src, size_t n, const u32 st[16])
{
    blocks_xor_body((u8 *)__builtin_assume_aligned(dst, 4),
                    (const u8 *)__builtin_assume_aligned(src, 4), n, st);
}

static void blocks_xor_unaligned(u8 *dst, const u8 *src, size_t n, const u32 st[16])
{
    blocks_xor_body(dst, src, n, st);
}

static void blocks_xor(u8 *dst, const u8 *src, size_t n, const u32 st[16])
{
    if ((((uintptr_t)dst | (uintptr_t)src) & 3) == 0)
        blocks_xor_aligned(dst, src, n, st);
    else
        blocks_xor_unaligned(dst, src, n, st);
}
#else
static void blocks_xor(u8 *dst, const u8 *src, size_t n, const u32 st[16])
{
    blocks_xor_body(dst, src, n, st);
}
#endif

void wgc_chacha20_init(u32 st[16], const u8 key[32], const u8 nonce[12], u32 counter)
{
    int i;
    st[0] = 0x61707865; /* "expand 32-byte k" */
    st[1] = 0x3320646e;
    st[2] = 0x79622d32;
    st[3] = 0x6b206574;
    for (i = 0; i < 8; i++)
        st[4 + i] = load32_le(key + 4 * i);
    st[12] = counter;
    for (i = 0; i < 3; i++)
        st[13 + i] = load32_le(nonce + 4 * i);
}

void wgc_chacha20_block(u8 out[64], const u32 st[16])
{
    /* Keystream is the XOR into zeros; reading them from a constant saves
     * clearing out first. */
    static const u8 zero[64];
    blocks_xor(out, zero, 1, st);
}

void wgc_chacha20_xor_portable(u8 *dst, const u8 *src, size_t len, u32 st[16])
{
    u8 tail[64];
    size_t n = len / 64;

    blocks_xor(dst, src, n, st);
    st[12] += (u32)n;
    src += 64 * n;
    dst += 64 * n;
    len %= 64;
    if (len == 0)
        return;
    /* Short last block: run it through a stack copy so blocks_xor never
     * reads or writes past the caller's buffers. */
    memcpy(tail, src, len);
    blocks_xor(tail, tail, 1, st);
    st[12]++;
    memcpy(dst, tail, len);
    /* tail[0..len) is what dst now holds; the rest is unused keystream. */
    wgc_wipe(tail + len, sizeof(tail) - len);
}

void wgc_chacha20_xor_state(u8 *dst, const u8 *src, size_t len, u32 st[16])
{
    size_t done = wgc_chacha20_xor_simd(dst, src, len, st);
    wgc_chacha20_xor_portable(dst + done, src + done, len - done, st);
}

void wgc_chacha20(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter)
{
    u32 st[16];
    wgc_chacha20_init(st, key, nonce, counter);
    wgc_chacha20_xor_state(dst, src, len, st);
    WIPE(st);
}

/* HChaCha20: the rounds without feed-forward; words 0-3 and 12-15 are the key. */
void wgc_hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t nonce[16])
{
    u32 st[16];

    wgc_chacha20_init(st, key, nonce + 4, load32_le(nonce));
    {
        LOAD_LOCALS(st);
        CHACHA20_ROUNDS();
        store32_le(out + 0, x0);
        store32_le(out + 4, x1);
        store32_le(out + 8, x2);
        store32_le(out + 12, x3);
        store32_le(out + 16, x12);
        store32_le(out + 20, x13);
        store32_le(out + 24, x14);
        store32_le(out + 28, x15);
    }
    WIPE(st);
}
