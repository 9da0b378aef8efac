/* util.c - wiping and constant-time comparison. */
#include <string.h>

#include "wgcore.h"
#include "util.h"

#if defined(__GNUC__)
/* memset clears word- or line-wise; the empty asm takes p and clobbers
 * memory, so the compiler must assume the zeros are read and cannot drop
 * them, even under link-time optimization. */
void wgc_wipe(void *p, size_t len)
{
    memset(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
#else
/* Volatile stores may not be elided; byte-wise because that needs no
 * alignment or aliasing assumptions. */
void wgc_wipe(void *p, size_t len)
{
    volatile u8 *v = (volatile u8 *)p;
    while (len--)
        *v++ = 0;
}
#endif

/* Accumulates differences without branching on secret data. */
static int verify_n(const u8 *a, const u8 *b, size_t n)
{
    u32 diff = 0;
    size_t i;
    for (i = 0; i < n; i++)
        diff |= (u32)(a[i] ^ b[i]);
    /* diff in 0..255: (diff - 1) >> 8 is 1 only when diff == 0 */
    return (int)(((diff - 1) >> 8) & 1) - 1;
}

int wgc_verify16(const u8 a[16], const u8 b[16]) { return verify_n(a, b, 16); }
int wgc_verify32(const u8 a[32], const u8 b[32]) { return verify_n(a, b, 32); }
