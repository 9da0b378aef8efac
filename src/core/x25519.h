/*
 * x25519.h - private: the x86_64 X25519 in radix 2^64 (x25519_mulx.c), which
 * x25519.c calls instead of its own when the CPU has BMI2 (mulx) and ADX
 * (adcx/adox). WGC_PORTABLE or WGC_X25519_32 leave it out, so the portable
 * representations can still be tested on such a host.
 */
#ifndef WGC_X25519_H
#define WGC_X25519_H

#include "util.h"

#if !defined(WGC_PORTABLE) && !defined(WGC_X25519_32) && defined(__GNUC__) && \
    defined(__x86_64__)
#define WGC_X25519_MULX
/* X25519(scalar, point) into out, as x25519.c's ladder; only call it when
 * wgc_x25519_have_mulx() says the CPU can run it. */
void wgc_x25519_mulx(u8 out[32], const u8 scalar[32], const u8 point[32]);
/* x25519.c's own ladder, which such CPUs otherwise never run: the selftest
 * compares the two. */
void wgc_x25519_portable(u8 out[32], const u8 scalar[32], const u8 point[32]);
/* Whether this CPU has BMI2 and ADX (cpuid, asked once). */
int wgc_x25519_have_mulx(void);
#endif

#endif
