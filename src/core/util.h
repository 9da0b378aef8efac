/*
 * util.h - private helpers shared by the core's .c files: explicit
 * little-endian loads and stores that are correct on big-endian MIPS and
 * never trap on strict-alignment CPUs, rotations, and the constant-time and
 * wiping helpers. Not part of the ABI.
 */
#ifndef WGC_UTIL_H
#define WGC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t i32;
typedef int64_t i64;

/*
 * With GCC or clang and a known byte order, a 4-byte memcpy is one unaligned
 * load or store (lwl/lwr and swl/swr on MIPS, ldr/str on ARMv7, mov on x86),
 * never an aligned-only lw/sw, and big-endian hosts add one byte swap (wsbh +
 * rotr on MIPS32r2). Any other compiler gets the byte-wise code, which is
 * correct everywhere.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define WGC_FAST_LE

/* Little-endian value <-> native value (its own inverse). */
static inline u32 wgc_le32(u32 v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* Native-order word at any alignment: XOR against wgc_le32(keystream) lets
 * ChaCha20 skip swapping the data words on big-endian hosts. */
static inline u32 load32_ne(const u8 *p)
{
    u32 v;
    memcpy(&v, p, 4);
    return v;
}

static inline void store32_ne(u8 *p, u32 v)
{
    memcpy(p, &v, 4);
}

static inline u32 load32_le(const u8 *p) { return wgc_le32(load32_ne(p)); }
static inline void store32_le(u8 *p, u32 v) { store32_ne(p, wgc_le32(v)); }

/* dst = src ^ ks, 4 bytes, ks taken as a little-endian word (ChaCha20). */
static inline void xor32_le(u8 *dst, const u8 *src, u32 ks)
{
    store32_ne(dst, load32_ne(src) ^ wgc_le32(ks));
}

#else

static inline u32 load32_le(const u8 *p)
{
    return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24);
}

static inline void store32_le(u8 *p, u32 v)
{
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
    p[2] = (u8)(v >> 16);
    p[3] = (u8)(v >> 24);
}

static inline void xor32_le(u8 *dst, const u8 *src, u32 ks)
{
    store32_le(dst, load32_le(src) ^ ks);
}

#endif

static inline u64 load64_le(const u8 *p)
{
    return (u64)load32_le(p) | ((u64)load32_le(p + 4) << 32);
}

static inline void store64_le(u8 *p, u64 v)
{
    store32_le(p, (u32)v);
    store32_le(p + 4, (u32)(v >> 32));
}

static inline u32 rotl32(u32 x, int n) { return (x << n) | (x >> (32 - n)); }
static inline u32 rotr32(u32 x, int n) { return (x >> n) | (x << (32 - n)); }

/* Defined in util.c: kept out of line so the compiler cannot drop the stores. */
void wgc_wipe(void *p, size_t len);
int wgc_verify16(const u8 a[16], const u8 b[16]);
int wgc_verify32(const u8 a[32], const u8 b[32]);

#define WIPE(x) wgc_wipe(&(x), sizeof(x))

#endif
