/*
 * x25519.c - X25519 Diffie-Hellman (RFC 7748): field arithmetic mod
 * p = 2^255 - 19, the Montgomery ladder, and the two public entry points.
 *
 * Two field representations, chosen at compile time: 5 limbs of 51 bits with
 * 64x64->128 products where the compiler has unsigned __int128, otherwise
 * 10 limbs alternating 26/25 bits with 32x32->64 products (MIPS32, ARMv7).
 * Defining WGC_X25519_32 forces the 10-limb form so both can be tested on a
 * 64-bit host. Everything here is constant time: no branch or memory index
 * depends on the scalar or on intermediate values.
 */
#include "wgcore.h"
#include "util.h"
#include "x25519.h"

#if defined(__SIZEOF_INT128__) && !defined(WGC_X25519_32)

/* ---- radix 2^51: h = h0 + h1 2^51 + h2 2^102 + h3 2^153 + h4 2^204 ----
 * "Carried" elements have limbs below 2^51 (+ a little in h1); sums and
 * differences stay below 3 * 2^51, which keeps every product sum < 2^113. */
#define FE_LIMBS 5
typedef u64 limb;
__extension__ typedef unsigned __int128 u128; /* quiet -pedantic */
typedef limb fe[FE_LIMBS];

#define M51 ((u64)0x7ffffffffffff)

static void fe_frombytes(fe h, const u8 s[32])
{
    h[0] = load64_le(s) & M51;
    h[1] = (load64_le(s + 6) >> 3) & M51;
    h[2] = (load64_le(s + 12) >> 6) & M51;
    h[3] = (load64_le(s + 19) >> 1) & M51;
    h[4] = (load64_le(s + 24) >> 12) & M51; /* drops bit 255 of u */
}

/* Inlined into the ladder step, so the core can overlap its independent
 * multiplications (AA with BB, DA with CB) instead of waiting on each call. */
#define FE_INLINE static inline __attribute__((always_inline))

/* Carries 128-bit column sums (< 2^113) into a carried element. Two chains,
 * r0 -> r1 -> r2 -> r3 and r3 -> r4 -> r0 -> r1, run side by side, which
 * halves the dependent steps of a single pass round the ring. The fold of
 * r4's carry times 19 can exceed 64 bits, so r0 stays 128-bit until carried. */
FE_INLINE void fe_carry(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    u64 h0, h1, h2, h3, h4;

    r1 += (u64)(r0 >> 51);                  r4 += (u64)(r3 >> 51);
    h0 = (u64)r0 & M51;                     h3 = (u64)r3 & M51;
    r2 += (u64)(r1 >> 51);                  r0 = (u128)(u64)(r4 >> 51) * 19 + h0;
    h1 = (u64)r1 & M51;                     h4 = (u64)r4 & M51;
    r3 = (u128)h3 + (u64)(r2 >> 51);        h1 += (u64)(r0 >> 51);
    h2 = (u64)r2 & M51;                     h0 = (u64)r0 & M51;
    h3 = (u64)r3 & M51;
    h4 += (u64)(r3 >> 51);
    /* h1 < 2^51 + 2^16, h4 < 2^51 + 2^12, the others < 2^51 */
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
}

/* Written out: GCC -O2 keeps the 5-step loop, which costs ~15% here. */
FE_INLINE void fe_add(fe h, const fe f, const fe g)
{
    h[0] = f[0] + g[0]; h[1] = f[1] + g[1]; h[2] = f[2] + g[2];
    h[3] = f[3] + g[3]; h[4] = f[4] + g[4];
}

/* f - g + 2p, so limbs never go negative. */
FE_INLINE void fe_sub(fe h, const fe f, const fe g)
{
    h[0] = f[0] + 0xfffffffffffdaULL - g[0];
    h[1] = f[1] + 0xffffffffffffeULL - g[1];
    h[2] = f[2] + 0xffffffffffffeULL - g[2];
    h[3] = f[3] + 0xffffffffffffeULL - g[3];
    h[4] = f[4] + 0xffffffffffffeULL - g[4];
}

#define MUL(a, b) ((u128)(a) * (b))

/* 2^255 = 19 mod p: products that land at 2^255 and above wrap with *19. */
FE_INLINE void fe_mul(fe h, const fe f, const fe g)
{
    u64 g1 = 19 * g[1], g2 = 19 * g[2], g3 = 19 * g[3], g4 = 19 * g[4];

    fe_carry(h,
             MUL(f[0], g[0]) + MUL(f[1], g4) + MUL(f[2], g3) + MUL(f[3], g2) + MUL(f[4], g1),
             MUL(f[0], g[1]) + MUL(f[1], g[0]) + MUL(f[2], g4) + MUL(f[3], g3) + MUL(f[4], g2),
             MUL(f[0], g[2]) + MUL(f[1], g[1]) + MUL(f[2], g[0]) + MUL(f[3], g4) + MUL(f[4], g3),
             MUL(f[0], g[3]) + MUL(f[1], g[2]) + MUL(f[2], g[1]) + MUL(f[3], g[0]) + MUL(f[4], g4),
             MUL(f[0], g[4]) + MUL(f[1], g[3]) + MUL(f[2], g[2]) + MUL(f[3], g[1]) + MUL(f[4], g[0]));
}

/* Squaring: each cross term f_i f_j (i != j) is computed once and doubled. */
FE_INLINE void fe_sq(fe h, const fe f)
{
    u64 d0 = 2 * f[0], d1 = 2 * f[1], d2 = 2 * f[2], d3 = 2 * f[3];
    u64 f3_19 = 19 * f[3], f4_19 = 19 * f[4];

    fe_carry(h,
             MUL(f[0], f[0]) + MUL(d1, f4_19) + MUL(d2, f3_19),
             MUL(d0, f[1]) + MUL(d2, f4_19) + MUL(f[3], f3_19),
             MUL(d0, f[2]) + MUL(f[1], f[1]) + MUL(d3, f4_19),
             MUL(d0, f[3]) + MUL(d1, f[2]) + MUL(f[4], f4_19),
             MUL(d0, f[4]) + MUL(d1, f[3]) + MUL(f[2], f[2]));
}

/* h = 121666 f, where 121666 = (486662 + 2) / 4 = a24 + 1. */
FE_INLINE void fe_mul121666(fe h, const fe f)
{
    fe_carry(h, MUL(f[0], 121666), MUL(f[1], 121666), MUL(f[2], 121666),
             MUL(f[3], 121666), MUL(f[4], 121666));
}

/* Fully reduces a carried element (value < 2^255 + 2^52 < 2p) and packs it. */
static void fe_tobytes(u8 s[32], const fe f)
{
    u64 h0 = f[0], h1 = f[1], h2 = f[2], h3 = f[3], h4 = f[4], q;

    /* Spread h1's excess first so every limb is below 2^51. */
    h2 += h1 >> 51; h1 &= M51;
    h3 += h2 >> 51; h2 &= M51;
    h4 += h3 >> 51; h3 &= M51;
    h0 += 19 * (h4 >> 51); h4 &= M51;
    /* q = 1 iff h >= p, i.e. iff h + 19 carries out of bit 255. */
    q = (h0 + 19) >> 51;
    q = (h1 + q) >> 51;
    q = (h2 + q) >> 51;
    q = (h3 + q) >> 51;
    q = (h4 + q) >> 51;
    /* h - q p = h + 19 q - q 2^255: add 19 q, carry, drop bit 255. */
    h0 += 19 * q;
    h1 += h0 >> 51; h0 &= M51;
    h2 += h1 >> 51; h1 &= M51;
    h3 += h2 >> 51; h2 &= M51;
    h4 += h3 >> 51; h3 &= M51;
    h4 &= M51;
    store64_le(s, h0 | (h1 << 51));
    store64_le(s + 8, (h1 >> 13) | (h2 << 38));
    store64_le(s + 16, (h2 >> 26) | (h3 << 25));
    store64_le(s + 24, (h3 >> 39) | (h4 << 12));
}

#else /* 32-bit limbs */

/* ---- radix 2^25.5: limb i sits at bit ceil(25.5 i); even limbs hold 26
 * bits, odd limbs 25. Carried elements have limbs within their width (+ a
 * little in h1); sums and differences stay below about 3 * 2^26 / 3 * 2^25,
 * so 19 * limb fits in 32 bits and every column sum stays below 2^63. */
#define FE_LIMBS 10
typedef u32 limb;
typedef limb fe[FE_LIMBS];

#define M26 0x3ffffffu
#define M25 0x1ffffffu

static void fe_frombytes(fe h, const u8 s[32])
{
    h[0] = load32_le(s) & M26;
    h[1] = (load32_le(s + 3) >> 2) & M25;
    h[2] = (load32_le(s + 6) >> 3) & M26;
    h[3] = (load32_le(s + 9) >> 5) & M25;
    h[4] = (load32_le(s + 12) >> 6) & M26;
    h[5] = load32_le(s + 16) & M25;
    h[6] = (load32_le(s + 19) >> 1) & M26;
    h[7] = (load32_le(s + 22) >> 3) & M25;
    h[8] = (load32_le(s + 25) >> 4) & M26;
    h[9] = (load32_le(s + 28) >> 6) & M25; /* drops bit 255 of u */
}

/* Carries 64-bit column sums into a carried element: one pass up the
 * limbs, the carry out of the top folded back times 19, then one more step
 * so only h1 can exceed its width (by less than 2^18). Works on copies so
 * the compiler need not write the masked sums back to t. */
static void fe_carry(fe h, const u64 t[10])
{
    u64 t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4];
    u64 t5 = t[5], t6 = t[6], t7 = t[7], t8 = t[8], t9 = t[9];

    t1 += t0 >> 26; t0 &= M26;
    t2 += t1 >> 25; t1 &= M25;
    t3 += t2 >> 26; t2 &= M26;
    t4 += t3 >> 25; t3 &= M25;
    t5 += t4 >> 26; t4 &= M26;
    t6 += t5 >> 25; t5 &= M25;
    t7 += t6 >> 26; t6 &= M26;
    t8 += t7 >> 25; t7 &= M25;
    t9 += t8 >> 26; t8 &= M26;
    t0 += 19 * (t9 >> 25); t9 &= M25;
    t1 += t0 >> 26; t0 &= M26;
    h[0] = (u32)t0; h[1] = (u32)t1; h[2] = (u32)t2; h[3] = (u32)t3;
    h[4] = (u32)t4; h[5] = (u32)t5; h[6] = (u32)t6; h[7] = (u32)t7;
    h[8] = (u32)t8; h[9] = (u32)t9;
}

/* Written out: GCC keeps a 10-step loop here, costing 3x the instructions. */
static void fe_add(fe h, const fe f, const fe g)
{
    h[0] = f[0] + g[0]; h[1] = f[1] + g[1]; h[2] = f[2] + g[2];
    h[3] = f[3] + g[3]; h[4] = f[4] + g[4]; h[5] = f[5] + g[5];
    h[6] = f[6] + g[6]; h[7] = f[7] + g[7]; h[8] = f[8] + g[8];
    h[9] = f[9] + g[9];
}

/* f - g + 2p, so limbs never go negative. */
static void fe_sub(fe h, const fe f, const fe g)
{
    h[0] = f[0] + 0x7ffffdau - g[0]; h[1] = f[1] + 0x3fffffeu - g[1];
    h[2] = f[2] + 0x7fffffeu - g[2]; h[3] = f[3] + 0x3fffffeu - g[3];
    h[4] = f[4] + 0x7fffffeu - g[4]; h[5] = f[5] + 0x3fffffeu - g[5];
    h[6] = f[6] + 0x7fffffeu - g[6]; h[7] = f[7] + 0x3fffffeu - g[7];
    h[8] = f[8] + 0x7fffffeu - g[8]; h[9] = f[9] + 0x3fffffeu - g[9];
}

#define MUL(a, b) ((u64)(a) * (b))

/* GCC's pre-allocation scheduler (on by default for MIPS at -O2) interleaves
 * the ten column sums, which shuttles every accumulator through HI/LO and
 * the stack: 3x the instructions. An empty volatile asm is a scheduling
 * barrier, so each column is summed in one multiply-accumulate chain. */
#if defined(__GNUC__)
#define COLUMN_END() __asm__ __volatile__("")
#else
#define COLUMN_END()
#endif

/* 2^255 = 19 mod p: products landing at 2^255 and above wrap with *19.
 * Odd x odd limb products sit one bit below their column (25.5 rounding
 * up twice), hence the doubled odd f limbs in the even columns. */
static void fe_mul(fe h, const fe f, const fe g)
{
    u32 f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    u32 f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
    u32 g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
    u32 g5 = g[5], g6 = g[6], g7 = g[7], g8 = g[8], g9 = g[9];
    u32 f1_2 = 2 * f1, f3_2 = 2 * f3, f5_2 = 2 * f5, f7_2 = 2 * f7, f9_2 = 2 * f9;
    u32 g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u32 g5_19 = 19 * g5, g6_19 = 19 * g6, g7_19 = 19 * g7, g8_19 = 19 * g8;
    u32 g9_19 = 19 * g9;
    u64 t[10];

    t[0] = MUL(f0, g0) + MUL(f1_2, g9_19) + MUL(f2, g8_19) + MUL(f3_2, g7_19) + MUL(f4, g6_19)
         + MUL(f5_2, g5_19) + MUL(f6, g4_19) + MUL(f7_2, g3_19) + MUL(f8, g2_19) + MUL(f9_2, g1_19);
    COLUMN_END();
    t[1] = MUL(f0, g1) + MUL(f1, g0) + MUL(f2, g9_19) + MUL(f3, g8_19) + MUL(f4, g7_19)
         + MUL(f5, g6_19) + MUL(f6, g5_19) + MUL(f7, g4_19) + MUL(f8, g3_19) + MUL(f9, g2_19);
    COLUMN_END();
    t[2] = MUL(f0, g2) + MUL(f1_2, g1) + MUL(f2, g0) + MUL(f3_2, g9_19) + MUL(f4, g8_19)
         + MUL(f5_2, g7_19) + MUL(f6, g6_19) + MUL(f7_2, g5_19) + MUL(f8, g4_19) + MUL(f9_2, g3_19);
    COLUMN_END();
    t[3] = MUL(f0, g3) + MUL(f1, g2) + MUL(f2, g1) + MUL(f3, g0) + MUL(f4, g9_19)
         + MUL(f5, g8_19) + MUL(f6, g7_19) + MUL(f7, g6_19) + MUL(f8, g5_19) + MUL(f9, g4_19);
    COLUMN_END();
    t[4] = MUL(f0, g4) + MUL(f1_2, g3) + MUL(f2, g2) + MUL(f3_2, g1) + MUL(f4, g0)
         + MUL(f5_2, g9_19) + MUL(f6, g8_19) + MUL(f7_2, g7_19) + MUL(f8, g6_19) + MUL(f9_2, g5_19);
    COLUMN_END();
    t[5] = MUL(f0, g5) + MUL(f1, g4) + MUL(f2, g3) + MUL(f3, g2) + MUL(f4, g1)
         + MUL(f5, g0) + MUL(f6, g9_19) + MUL(f7, g8_19) + MUL(f8, g7_19) + MUL(f9, g6_19);
    COLUMN_END();
    t[6] = MUL(f0, g6) + MUL(f1_2, g5) + MUL(f2, g4) + MUL(f3_2, g3) + MUL(f4, g2)
         + MUL(f5_2, g1) + MUL(f6, g0) + MUL(f7_2, g9_19) + MUL(f8, g8_19) + MUL(f9_2, g7_19);
    COLUMN_END();
    t[7] = MUL(f0, g7) + MUL(f1, g6) + MUL(f2, g5) + MUL(f3, g4) + MUL(f4, g3)
         + MUL(f5, g2) + MUL(f6, g1) + MUL(f7, g0) + MUL(f8, g9_19) + MUL(f9, g8_19);
    COLUMN_END();
    t[8] = MUL(f0, g8) + MUL(f1_2, g7) + MUL(f2, g6) + MUL(f3_2, g5) + MUL(f4, g4)
         + MUL(f5_2, g3) + MUL(f6, g2) + MUL(f7_2, g1) + MUL(f8, g0) + MUL(f9_2, g9_19);
    COLUMN_END();
    t[9] = MUL(f0, g9) + MUL(f1, g8) + MUL(f2, g7) + MUL(f3, g6) + MUL(f4, g5)
         + MUL(f5, g4) + MUL(f6, g3) + MUL(f7, g2) + MUL(f8, g1) + MUL(f9, g0);
    COLUMN_END();
    fe_carry(h, t);
}

/* Squaring: 55 products instead of 100; cross terms are doubled through
 * fN_2, the wrap factor 19 (38 for odd x odd) is folded into the other. */
static void fe_sq(fe h, const fe f)
{
    u32 f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    u32 f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
    u32 f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
    u32 f4_2 = 2 * f4, f5_2 = 2 * f5, f6_2 = 2 * f6, f7_2 = 2 * f7;
    u32 f5_38 = 38 * f5, f6_19 = 19 * f6, f7_38 = 38 * f7;
    u32 f8_19 = 19 * f8, f9_38 = 38 * f9;
    u64 t[10];

    t[0] = MUL(f0, f0) + MUL(f1_2, f9_38) + MUL(f2_2, f8_19) + MUL(f3_2, f7_38)
         + MUL(f4_2, f6_19) + MUL(f5, f5_38);
    COLUMN_END();
    t[1] = MUL(f0_2, f1) + MUL(f2, f9_38) + MUL(f3_2, f8_19) + MUL(f4, f7_38)
         + MUL(f5_2, f6_19);
    COLUMN_END();
    t[2] = MUL(f0_2, f2) + MUL(f1_2, f1) + MUL(f3_2, f9_38) + MUL(f4_2, f8_19)
         + MUL(f5_2, f7_38) + MUL(f6, f6_19);
    COLUMN_END();
    t[3] = MUL(f0_2, f3) + MUL(f1_2, f2) + MUL(f4, f9_38) + MUL(f5_2, f8_19)
         + MUL(f6, f7_38);
    COLUMN_END();
    t[4] = MUL(f0_2, f4) + MUL(f1_2, f3_2) + MUL(f2, f2) + MUL(f5_2, f9_38)
         + MUL(f6_2, f8_19) + MUL(f7, f7_38);
    COLUMN_END();
    t[5] = MUL(f0_2, f5) + MUL(f1_2, f4) + MUL(f2_2, f3) + MUL(f6, f9_38)
         + MUL(f7_2, f8_19);
    COLUMN_END();
    t[6] = MUL(f0_2, f6) + MUL(f1_2, f5_2) + MUL(f2_2, f4) + MUL(f3_2, f3)
         + MUL(f7_2, f9_38) + MUL(f8, f8_19);
    COLUMN_END();
    t[7] = MUL(f0_2, f7) + MUL(f1_2, f6) + MUL(f2_2, f5) + MUL(f3_2, f4)
         + MUL(f8, f9_38);
    COLUMN_END();
    t[8] = MUL(f0_2, f8) + MUL(f1_2, f7_2) + MUL(f2_2, f6) + MUL(f3_2, f5_2)
         + MUL(f4, f4) + MUL(f9, f9_38);
    COLUMN_END();
    t[9] = MUL(f0_2, f9) + MUL(f1_2, f8) + MUL(f2_2, f7) + MUL(f3_2, f6)
         + MUL(f4_2, f5);
    COLUMN_END();
    fe_carry(h, t);
}

/* h = 121666 f, where 121666 = (486662 + 2) / 4 = a24 + 1. */
static void fe_mul121666(fe h, const fe f)
{
    u64 t[10];
    int i;
    for (i = 0; i < 10; i++)
        t[i] = MUL(f[i], 121666);
    fe_carry(h, t);
}

/* Fully reduces a carried element (value < 2p) and packs it. */
static void fe_tobytes(u8 s[32], const fe f)
{
    static const u8 width[10] = { 26, 25, 26, 25, 26, 25, 26, 25, 26, 25 };
    u32 h[10], q;
    int i;

    for (i = 0; i < 10; i++)
        h[i] = f[i];
    /* Spread the excess in h1 so every limb is within its width. */
    for (i = 0; i < 9; i++) {
        h[i + 1] += h[i] >> width[i];
        h[i] &= (1u << width[i]) - 1;
    }
    h[0] += 19 * (h[9] >> 25);
    h[9] &= M25;
    /* q = 1 iff h >= p, i.e. iff h + 19 carries out of bit 255. */
    q = (h[0] + 19) >> 26;
    for (i = 1; i < 10; i++)
        q = (h[i] + q) >> width[i];
    /* h - q p = h + 19 q - q 2^255: add 19 q, carry, drop bit 255. */
    h[0] += 19 * q;
    for (i = 0; i < 9; i++) {
        h[i + 1] += h[i] >> width[i];
        h[i] &= (1u << width[i]) - 1;
    }
    h[9] &= M25;
    store32_le(s, h[0] | (h[1] << 26));
    store32_le(s + 4, (h[1] >> 6) | (h[2] << 19));
    store32_le(s + 8, (h[2] >> 13) | (h[3] << 13));
    store32_le(s + 12, (h[3] >> 19) | (h[4] << 6));
    store32_le(s + 16, h[5] | (h[6] << 25));
    store32_le(s + 20, (h[6] >> 7) | (h[7] << 19));
    store32_le(s + 24, (h[7] >> 13) | (h[8] << 12));
    store32_le(s + 28, (h[8] >> 20) | (h[9] << 6));
    WIPE(h);
}

#endif

/* ---- Shared by both representations ---- */

/* Swaps f and g when b == 1, leaves them when b == 0, without a branch:
 * the mask is all ones or all zeros. volatile keeps the compiler from
 * turning the select back into a conditional. */
static void fe_cswap(fe f, fe g, limb b)
{
    volatile limb vmask = (limb)0 - b;
    limb mask = vmask, x;
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        x = mask & (f[i] ^ g[i]);
        f[i] ^= x;
        g[i] ^= x;
    }
}

/* The ladder adds and subtracts the same pair three times. */
static void fe_addsub(fe s, fe d, const fe f, const fe g)
{
    fe_add(s, f, g);
    fe_sub(d, f, g);
}

#include "x25519_ladder.h"

/* x86_64 with BMI2 and ADX takes x25519_mulx.c's radix 2^64 (the faster
 * one there); everything else, and those CPUs without them, the code above. */
static void x25519_any(u8 out[32], const u8 scalar[32], const u8 point[32])
{
#ifdef WGC_X25519_MULX
    if (wgc_x25519_have_mulx()) {
        wgc_x25519_mulx(out, scalar, point);
        return;
    }
#endif
    scalarmult(out, scalar, point);
}

#ifdef WGC_X25519_MULX
void wgc_x25519_portable(u8 out[32], const u8 scalar[32], const u8 point[32])
{
    scalarmult(out, scalar, point);
}
#endif

int wgc_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
    static const u8 zero[32] = { 0 };

    x25519_any(out, scalar, point);
    /* verify32 gives 0 for all zeros (-> -1) and -1 otherwise (-> 0). */
    return -1 - wgc_verify32(out, zero);
}

void wgc_x25519_public(uint8_t pub[32], const uint8_t priv[32])
{
    static const u8 base[32] = { 9 };

    x25519_any(pub, priv, base);
}
