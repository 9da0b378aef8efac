/*
 * x25519_mulx.c - X25519 field arithmetic in radix 2^64 for x86_64 CPUs with
 * BMI2 and ADX (chosen at run time by x25519.c): four 64-bit limbs, products
 * by mulx, and two independent carry chains per row of the schoolbook
 * product by adcx (CF) and adox (OF). The ladder is x25519_ladder.h's.
 *
 * Elements are any value below 2^256 (congruent mod p = 2^255 - 19); every
 * operation takes such values and returns one, folding the part at 2^256
 * and above back in as 38 (2^256 = 38 mod p). Only fe_tobytes reduces fully.
 * The arithmetic is inline assembly without branches or table lookups; carries
 * become masks (sbb, and), so the time does not depend on any value.
 */
#include "wgcore.h"
#include "x25519.h"

#ifdef WGC_X25519_MULX

#include <cpuid.h>

/* cpuid leaf 7: EBX bit 8 is BMI2, bit 19 ADX. Read directly because
 * clang's __builtin_cpu_supports does not know "adx"; kept because cpuid
 * traps to the hypervisor in a VM. Threads racing here store the same value. */
int wgc_x25519_have_mulx(void)
{
    static int have = -1;
    int h = __atomic_load_n(&have, __ATOMIC_RELAXED);

    if (h < 0) {
        unsigned a, b, c, d;
        h = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 8 & 1) && (b >> 19 & 1);
        __atomic_store_n(&have, h, __ATOMIC_RELAXED);
    }
    return h;
}

#define FE_LIMBS 4
typedef u64 limb;
typedef limb fe[FE_LIMBS];

/* Inlined into the ladder, as in x25519.c. */
#define FE_INLINE static inline __attribute__((always_inline))

static void fe_frombytes(fe h, const u8 s[32])
{
    h[0] = load64_le(s);
    h[1] = load64_le(s + 8);
    h[2] = load64_le(s + 16);
    h[3] = load64_le(s + 24) & 0x7fffffffffffffffULL; /* drops bit 255 of u */
}

/* The 512-bit value r8..r15 (r8 lowest) reduced to 256 bits at h:
 * lo + 38 hi is below 39 * 2^256, its top word (< 39) is folded again as
 * 38 times itself, and a final carry out of that (which leaves the low
 * words below 2^11) once more as 38. */
#define REDUCE_512                                                  \
    "movl $38, %%edx\n\t"                                          \
    "xorl %%eax, %%eax\n\t" /* clears CF and OF */                  \
    "mulx %%r12, %%rax, %%r12\n\t"                                  \
    "adcx %%rax, %%r8\n\t"                                          \
    "adox %%r12, %%r9\n\t"                                          \
    "mulx %%r13, %%rax, %%r13\n\t"                                  \
    "adcx %%rax, %%r9\n\t"                                          \
    "adox %%r13, %%r10\n\t"                                         \
    "mulx %%r14, %%rax, %%r14\n\t"                                  \
    "adcx %%rax, %%r10\n\t"                                         \
    "adox %%r14, %%r11\n\t"                                         \
    "mulx %%r15, %%rax, %%r12\n\t"                                  \
    "adcx %%rax, %%r11\n\t"                                         \
    "movl $0, %%eax\n\t" /* mov keeps the flags */                  \
    "adox %%rax, %%r12\n\t"                                         \
    "adcx %%rax, %%r12\n\t"                                         \
    "imul $38, %%r12, %%r12\n\t"                                    \
    "addq %%r12, %%r8\n\t"                                          \
    "adcq $0, %%r9\n\t"                                             \
    "adcq $0, %%r10\n\t"                                            \
    "adcq $0, %%r11\n\t"                                            \
    "sbbq %%rax, %%rax\n\t"                                         \
    "andl $38, %%eax\n\t"                                           \
    "addq %%rax, %%r8\n\t"                                          \
    "movq %%r8, (%[h])\n\t"                                         \
    "movq %%r9, 8(%[h])\n\t"                                        \
    "movq %%r10, 16(%[h])\n\t"                                      \
    "movq %%r11, 24(%[h])\n\t"

#define CLOBBER_512 "rax", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", \
    "cc", "memory"

/* One row i >= 1 of the schoolbook product: t(i..i+4) += f_i g, with f_i in
 * rdx, t(i..i+3) in A..D on entry and t(i+4) in E on exit; E holds each high
 * half until it is added, CF carries the low halves and OF the high ones. */
#define ROW(A, B, C, D, E)                                          \
    "xorl %%eax, %%eax\n\t"                                        \
    "mulx (%[g]), %%rax, %%" E "\n\t"                               \
    "adcx %%rax, %%" A "\n\t"                                       \
    "adox %%" E ", %%" B "\n\t"                                     \
    "mulx 8(%[g]), %%rax, %%" E "\n\t"                              \
    "adcx %%rax, %%" B "\n\t"                                       \
    "adox %%" E ", %%" C "\n\t"                                     \
    "mulx 16(%[g]), %%rax, %%" E "\n\t"                             \
    "adcx %%rax, %%" C "\n\t"                                       \
    "adox %%" E ", %%" D "\n\t"                                     \
    "mulx 24(%[g]), %%rax, %%" E "\n\t"                             \
    "adcx %%rax, %%" D "\n\t"                                       \
    "movl $0, %%eax\n\t"                                            \
    "adox %%rax, %%" E "\n\t"                                       \
    "adcx %%rax, %%" E "\n\t"

/* h = f g; h may be f or g (both are read before h is written). */
FE_INLINE void fe_mul(fe h, const fe f, const fe g)
{
    __asm__(
        /* row 0: t(0..4) = f0 g */
        "movq (%[f]), %%rdx\n\t"
        "mulx (%[g]), %%r8, %%r9\n\t"
        "mulx 8(%[g]), %%rax, %%r10\n\t"
        "addq %%rax, %%r9\n\t"
        "mulx 16(%[g]), %%rax, %%r11\n\t"
        "adcq %%rax, %%r10\n\t"
        "mulx 24(%[g]), %%rax, %%r12\n\t"
        "adcq %%rax, %%r11\n\t"
        "adcq $0, %%r12\n\t"
        "movq 8(%[f]), %%rdx\n\t"
        ROW("r9", "r10", "r11", "r12", "r13")
        "movq 16(%[f]), %%rdx\n\t"
        ROW("r10", "r11", "r12", "r13", "r14")
        "movq 24(%[f]), %%rdx\n\t"
        ROW("r11", "r12", "r13", "r14", "r15")
        REDUCE_512
        :
        : [h] "r"(h), [f] "r"(f), [g] "r"(g)
        : CLOBBER_512);
}

/* h = f^2: the six cross products once, doubled, plus the four squares. */
FE_INLINE void fe_sq(fe h, const fe f)
{
    __asm__(
        /* t(1..4) = f0 (f1, f2, f3) */
        "movq (%[f]), %%rdx\n\t"
        "mulx 8(%[f]), %%r9, %%r10\n\t"
        "mulx 16(%[f]), %%rax, %%r11\n\t"
        "addq %%rax, %%r10\n\t"
        "mulx 24(%[f]), %%rax, %%r12\n\t"
        "adcq %%rax, %%r11\n\t"
        "adcq $0, %%r12\n\t"
        /* t(3..5) += f1 (f2, f3): low halves on CF, high halves on OF */
        "movq 8(%[f]), %%rdx\n\t"
        "xorl %%r13d, %%r13d\n\t"
        "mulx 16(%[f]), %%rax, %%r14\n\t"
        "adcx %%rax, %%r11\n\t"
        "adox %%r14, %%r12\n\t"
        "mulx 24(%[f]), %%rax, %%r14\n\t"
        "adcx %%rax, %%r12\n\t"
        "adox %%r14, %%r13\n\t"
        "movl $0, %%eax\n\t"
        "adcx %%rax, %%r13\n\t"
        /* t(5..6) += f2 f3 */
        "movq 16(%[f]), %%rdx\n\t"
        "mulx 24(%[f]), %%rax, %%r14\n\t"
        "addq %%rax, %%r13\n\t"
        "adcq $0, %%r14\n\t"
        /* t(1..7) = 2 t(1..6) on CF while OF adds f_i^2 at t(2i, 2i+1) */
        "xorl %%r15d, %%r15d\n\t"
        "movq (%[f]), %%rdx\n\t"
        "mulx %%rdx, %%r8, %%rax\n\t"
        "adcx %%r9, %%r9\n\t"
        "adox %%rax, %%r9\n\t"
        "movq 8(%[f]), %%rdx\n\t"
        "mulx %%rdx, %%rax, %%rdx\n\t"
        "adcx %%r10, %%r10\n\t"
        "adox %%rax, %%r10\n\t"
        "adcx %%r11, %%r11\n\t"
        "adox %%rdx, %%r11\n\t"
        "movq 16(%[f]), %%rdx\n\t"
        "mulx %%rdx, %%rax, %%rdx\n\t"
        "adcx %%r12, %%r12\n\t"
        "adox %%rax, %%r12\n\t"
        "adcx %%r13, %%r13\n\t"
        "adox %%rdx, %%r13\n\t"
        "movq 24(%[f]), %%rdx\n\t"
        "mulx %%rdx, %%rax, %%rdx\n\t"
        "adcx %%r14, %%r14\n\t"
        "adox %%rax, %%r14\n\t"
        "adcx %%r15, %%r15\n\t" /* r15 was 0: the doubling's carry */
        "adox %%rdx, %%r15\n\t"
        REDUCE_512
        :
        : [h] "r"(h), [f] "r"(f)
        : CLOBBER_512);
}

/* h = 121666 f, where 121666 = (486662 + 2) / 4 = a24 + 1. */
FE_INLINE void fe_mul121666(fe h, const fe f)
{
    __asm__(
        "movl $121666, %%edx\n\t"
        "mulx (%[f]), %%r8, %%r9\n\t"
        "mulx 8(%[f]), %%rax, %%r10\n\t"
        "addq %%rax, %%r9\n\t"
        "mulx 16(%[f]), %%rax, %%r11\n\t"
        "adcq %%rax, %%r10\n\t"
        "mulx 24(%[f]), %%rax, %%rdx\n\t"
        "adcq %%rax, %%r11\n\t"
        "adcq $0, %%rdx\n\t"
        /* the top word (< 121666) wraps as 38 times itself */
        "imul $38, %%rdx, %%rdx\n\t"
        "addq %%rdx, %%r8\n\t"
        "adcq $0, %%r9\n\t"
        "adcq $0, %%r10\n\t"
        "adcq $0, %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "addq %%rax, %%r8\n\t"
        "movq %%r8, (%[h])\n\t"
        "movq %%r9, 8(%[h])\n\t"
        "movq %%r10, 16(%[h])\n\t"
        "movq %%r11, 24(%[h])\n\t"
        :
        : [h] "r"(h), [f] "r"(f)
        : "rax", "rdx", "r8", "r9", "r10", "r11", "cc", "memory");
}

/* h = f + g: a carry out of 2^256 is added back as 38; if that carries
 * again, the low words are below 38 and one more 38 cannot. */
FE_INLINE void fe_add(fe h, const fe f, const fe g)
{
    __asm__(
        "movq (%[f]), %%r8\n\t"
        "movq 8(%[f]), %%r9\n\t"
        "movq 16(%[f]), %%r10\n\t"
        "movq 24(%[f]), %%r11\n\t"
        "addq (%[g]), %%r8\n\t"
        "adcq 8(%[g]), %%r9\n\t"
        "adcq 16(%[g]), %%r10\n\t"
        "adcq 24(%[g]), %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "addq %%rax, %%r8\n\t"
        "adcq $0, %%r9\n\t"
        "adcq $0, %%r10\n\t"
        "adcq $0, %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "addq %%rax, %%r8\n\t"
        "movq %%r8, (%[h])\n\t"
        "movq %%r9, 8(%[h])\n\t"
        "movq %%r10, 16(%[h])\n\t"
        "movq %%r11, 24(%[h])\n\t"
        :
        : [h] "r"(h), [f] "r"(f), [g] "r"(g)
        : "rax", "r8", "r9", "r10", "r11", "cc", "memory");
}

/* h = f - g: a borrow is 2^256 too many, taken off again as 38; a second
 * borrow leaves the value at 2^256 - 38 or more, so the last 38 comes off
 * the low word without borrowing. */
FE_INLINE void fe_sub(fe h, const fe f, const fe g)
{
    __asm__(
        "movq (%[f]), %%r8\n\t"
        "movq 8(%[f]), %%r9\n\t"
        "movq 16(%[f]), %%r10\n\t"
        "movq 24(%[f]), %%r11\n\t"
        "subq (%[g]), %%r8\n\t"
        "sbbq 8(%[g]), %%r9\n\t"
        "sbbq 16(%[g]), %%r10\n\t"
        "sbbq 24(%[g]), %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "subq %%rax, %%r8\n\t"
        "sbbq $0, %%r9\n\t"
        "sbbq $0, %%r10\n\t"
        "sbbq $0, %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "subq %%rax, %%r8\n\t"
        "movq %%r8, (%[h])\n\t"
        "movq %%r9, 8(%[h])\n\t"
        "movq %%r10, 16(%[h])\n\t"
        "movq %%r11, 24(%[h])\n\t"
        :
        : [h] "r"(h), [f] "r"(f), [g] "r"(g)
        : "rax", "r8", "r9", "r10", "r11", "cc", "memory");
}

/* s = f + g and d = f - g from one load of f and g (the ladder's shape);
 * each folds as fe_add and fe_sub do. */
FE_INLINE void fe_addsub(fe s, fe d, const fe f, const fe g)
{
    __asm__(
        "movq (%[f]), %%r8\n\t"
        "movq 8(%[f]), %%r9\n\t"
        "movq 16(%[f]), %%r10\n\t"
        "movq 24(%[f]), %%r11\n\t"
        "movq %%r8, %%r12\n\t"
        "movq %%r9, %%r13\n\t"
        "movq %%r10, %%r14\n\t"
        "movq %%r11, %%r15\n\t"
        "addq (%[g]), %%r8\n\t"
        "adcq 8(%[g]), %%r9\n\t"
        "adcq 16(%[g]), %%r10\n\t"
        "adcq 24(%[g]), %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "addq %%rax, %%r8\n\t"
        "adcq $0, %%r9\n\t"
        "adcq $0, %%r10\n\t"
        "adcq $0, %%r11\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "addq %%rax, %%r8\n\t"
        "subq (%[g]), %%r12\n\t"
        "sbbq 8(%[g]), %%r13\n\t"
        "sbbq 16(%[g]), %%r14\n\t"
        "sbbq 24(%[g]), %%r15\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "subq %%rax, %%r12\n\t"
        "sbbq $0, %%r13\n\t"
        "sbbq $0, %%r14\n\t"
        "sbbq $0, %%r15\n\t"
        "sbbq %%rax, %%rax\n\t"
        "andl $38, %%eax\n\t"
        "subq %%rax, %%r12\n\t"
        "movq %%r8, (%[s])\n\t"
        "movq %%r9, 8(%[s])\n\t"
        "movq %%r10, 16(%[s])\n\t"
        "movq %%r11, 24(%[s])\n\t"
        "movq %%r12, (%[d])\n\t"
        "movq %%r13, 8(%[d])\n\t"
        "movq %%r14, 16(%[d])\n\t"
        "movq %%r15, 24(%[d])\n\t"
        :
        : [s] "r"(s), [d] "r"(d), [f] "r"(f), [g] "r"(g)
        : "rax", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc", "memory");
}

/* Swaps f and g when b == 1, leaves them when b == 0: the mask (all ones
 * or all zeros) selects, word by word in general registers (a vectorised
 * swap would make the next 8-byte loads miss store forwarding). */
FE_INLINE void fe_cswap(fe f, fe g, limb b)
{
    u64 mask = 0 - b;

    __asm__(
#define CSWAP_WORD(off)                                                 \
        "movq " off "(%[f]), %%r8\n\t"                                 \
        "movq " off "(%[g]), %%r9\n\t"                                 \
        "movq %%r8, %%rax\n\t"                                         \
        "xorq %%r9, %%rax\n\t"                                         \
        "andq %[mask], %%rax\n\t"                                      \
        "xorq %%rax, %%r8\n\t"                                         \
        "xorq %%rax, %%r9\n\t"                                         \
        "movq %%r8, " off "(%[f])\n\t"                                 \
        "movq %%r9, " off "(%[g])\n\t"
        CSWAP_WORD("0") CSWAP_WORD("8") CSWAP_WORD("16") CSWAP_WORD("24")
#undef CSWAP_WORD
        :
        : [f] "r"(f), [g] "r"(g), [mask] "r"(mask)
        : "rax", "r8", "r9", "cc", "memory");
}

__extension__ typedef unsigned __int128 u128;

/* h + 19 c for a bit c, carried through the four words; returns the carry
 * out of 2^256. */
static u64 add19(u64 h[4], u64 c)
{
    u128 t = (u128)h[0] + 19 * c;
    int i;

    h[0] = (u64)t;
    for (i = 1; i < 4; i++) {
        t = (u128)h[i] + (u64)(t >> 64);
        h[i] = (u64)t;
    }
    return (u64)(t >> 64);
}

/* Fully reduces f (< 2^256) and packs it: bit 255 folds in as 19, leaving
 * less than 2^255 + 19 < 2p; then h >= p iff h + 19 reaches bit 255. */
static void fe_tobytes(u8 s[32], const fe f)
{
    u64 h[4], g[4], mask;
    int i;

    for (i = 0; i < 4; i++)
        h[i] = f[i];
    mask = h[3] >> 63;
    h[3] &= 0x7fffffffffffffffULL;
    add19(h, mask);
    for (i = 0; i < 4; i++)
        g[i] = h[i];
    add19(g, 1);
    mask = 0 - (g[3] >> 63);        /* all ones iff h >= p */
    g[3] &= 0x7fffffffffffffffULL;  /* h + 19 - 2^255 = h - p */
    for (i = 0; i < 4; i++)
        store64_le(s + 8 * i, (h[i] & ~mask) | (g[i] & mask));
    WIPE(h);
    WIPE(g);
}

#include "x25519_ladder.h"

void wgc_x25519_mulx(u8 out[32], const u8 scalar[32], const u8 point[32])
{
    scalarmult(out, scalar, point);
}

#endif
