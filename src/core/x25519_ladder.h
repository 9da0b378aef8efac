/*
 * x25519_ladder.h - the representation-independent half of X25519: the
 * inversion chain and the Montgomery ladder. Included
 * by x25519.c (radix 2^51 / 2^25.5) and x25519_mulx.c (radix 2^64), each
 * after defining limb, fe, FE_LIMBS and fe_frombytes, fe_tobytes, fe_cswap,
 * fe_add, fe_sub, fe_addsub (both of one pair), fe_mul, fe_sq and
 * fe_mul121666, so both run the same ladder.
 * Carried elements are whatever the including file's fe_mul accepts; the
 * ladder only feeds it sums and differences of carried elements.
 */
#ifndef WGC_X25519_LADDER_H
#define WGC_X25519_LADDER_H

static void fe_sqn(fe h, const fe f, int n)
{
    fe_sq(h, f);
    while (--n > 0)
        fe_sq(h, h);
}

/* h = z^(p - 2) = 1/z (Fermat), by the usual chain: 254 squarings, 11 mul. */
static void fe_invert(fe h, const fe z)
{
    fe z2, z9, z11, a, b, c;

    fe_sq(z2, z);              /* 2 */
    fe_sqn(a, z2, 2);          /* 8 */
    fe_mul(z9, a, z);          /* 9 */
    fe_mul(z11, z9, z2);       /* 11 */
    fe_sq(a, z11);             /* 22 */
    fe_mul(a, a, z9);          /* 2^5 - 1 */
    fe_sqn(b, a, 5);
    fe_mul(a, b, a);           /* 2^10 - 1 */
    fe_sqn(b, a, 10);
    fe_mul(b, b, a);           /* 2^20 - 1 */
    fe_sqn(c, b, 20);
    fe_mul(c, c, b);           /* 2^40 - 1 */
    fe_sqn(c, c, 10);
    fe_mul(a, c, a);           /* 2^50 - 1 */
    fe_sqn(b, a, 50);
    fe_mul(b, b, a);           /* 2^100 - 1 */
    fe_sqn(c, b, 100);
    fe_mul(c, c, b);           /* 2^200 - 1 */
    fe_sqn(c, c, 50);
    fe_mul(c, c, a);           /* 2^250 - 1 */
    fe_sqn(c, c, 5);
    fe_mul(h, c, z11);         /* 2^255 - 32 + 11 = p - 2 */
    WIPE(z2); WIPE(z9); WIPE(z11); WIPE(a); WIPE(b); WIPE(c);
}

/* The ladder of RFC 7748 section 5, with the swap deferred one step so
 * each iteration needs a single pair of cswaps. */
static void scalarmult(u8 out[32], const u8 scalar[32], const u8 point[32])
{
    struct {
        u8 e[32];
        fe x1, x2, z2, x3, z3, a, b, c, d, aa, bb;
    } s;
    limb swap = 0, bit;
    int i;

    for (i = 0; i < 32; i++)
        s.e[i] = scalar[i];
    s.e[0] &= 248;  /* clamp: a multiple of the cofactor 8 ... */
    s.e[31] &= 127;
    s.e[31] |= 64;  /* ... with bit 254 set */

    fe_frombytes(s.x1, point);
    for (i = 0; i < FE_LIMBS; i++) {
        s.x2[i] = 0;
        s.z2[i] = 0;
        s.z3[i] = 0;
        s.x3[i] = s.x1[i];
    }
    s.x2[0] = 1;
    s.z3[0] = 1;

    for (i = 254; i >= 0; i--) {
        bit = (s.e[i >> 3] >> (i & 7)) & 1;
        swap ^= bit;
        fe_cswap(s.x2, s.x3, swap);
        fe_cswap(s.z2, s.z3, swap);
        swap = bit;

        /* Program order matters on out-of-order cores whose window holds
         * only a few of these long carry chains: each product is issued as
         * early as its inputs allow, with independent ones in between. */
        fe_addsub(s.a, s.b, s.x2, s.z2); /* A = x2 + z2, B = x2 - z2 */
        fe_addsub(s.c, s.d, s.x3, s.z3); /* C = x3 + z3, D = x3 - z3 */
        fe_mul(s.d, s.d, s.a);          /* DA */
        fe_mul(s.c, s.c, s.b);          /* CB */
        fe_sq(s.aa, s.a);               /* AA */
        fe_sq(s.bb, s.b);               /* BB */
        fe_addsub(s.a, s.b, s.d, s.c);  /* DA + CB, DA - CB */
        fe_mul(s.x2, s.aa, s.bb);       /* x2 = AA BB */
        fe_sub(s.c, s.aa, s.bb);        /* E = AA - BB */
        fe_sq(s.b, s.b);
        fe_mul121666(s.d, s.c);
        fe_sq(s.x3, s.a);               /* x3 = (DA + CB)^2 */
        fe_add(s.d, s.d, s.bb);         /* BB + 121666 E = AA + a24 E */
        fe_mul(s.z3, s.x1, s.b);        /* z3 = x1 (DA - CB)^2 */
        fe_mul(s.z2, s.c, s.d);         /* z2 = E (AA + a24 E) */
    }
    fe_cswap(s.x2, s.x3, swap);
    fe_cswap(s.z2, s.z3, swap);

    fe_invert(s.z2, s.z2);
    fe_mul(s.x2, s.x2, s.z2);
    fe_tobytes(out, s.x2);
    WIPE(s);
}

#endif
