/*
 * wipe_check.c - is key material gone after use? Built by test_secrets.py with the shipped
 * flags (-O2) and -Wl,--wrap=free, run once; prints one `NAME wiped|LEFT|skipped` line each.
 *
 * 1. Data path keypairs: every block the data path frees is inspected by __wrap_free just
 *    before glibc gets it; a keypair whose send/recv key bytes are still there is LEFT.
 *    Covers keypairs replaced by wgc_dp_peer_set_keypairs, wgc_dp_peer_remove, wgc_dp_free.
 * 2. Dead stack: a primitive runs on a stack painted with 0x5a, then the painted region is
 *    searched for its secret intermediates (the Poly1305 one-time key of an AEAD seal/open,
 *    the clamped X25519 scalar, KDF's T0 = HMAC(ck, input)). Only catches what lands in
 *    this process's stack at those depths; registers and compiler spills elsewhere are not
 *    visible, so `wiped` means "not found", not "proved absent".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath.h"

#define STACK_SCAN 32768

void __real_free(void *p);
static const uint8_t SEND_KEY[32] = "SEND-KEY-0123456789abcdefghijkl";
static const uint8_t RECV_KEY[32] = "RECV-KEY-0123456789abcdefghijkl";
static int dp_keys_freed, dp_keys_left;
static int watching;

void __wrap_free(void *p)
{
    if (watching && p != NULL) {
        size_t n = sizeof(struct dp_keypair);
        if (memmem(p, n, SEND_KEY, 16) || memmem(p, n, RECV_KEY, 16))
            dp_keys_left++;
        dp_keys_freed++;
    }
    __real_free(p);
}

static void keypairs(struct wgc_dp_keypair kp[3], uint32_t base)
{
    int i;
    memset(kp, 0, 3 * sizeof(*kp));
    for (i = 0; i < 3; i++) {
        kp[i].present = 1;
        kp[i].local_index = base + (uint32_t)i;
        kp[i].can_send = 1;
        memcpy(kp[i].send_key, SEND_KEY, 32);
        memcpy(kp[i].recv_key, RECV_KEY, 32);
    }
}

static void check_datapath(void)
{
    struct wgc_dp *dp = wgc_dp_new(4, 2048, 1420);
    struct wgc_dp_keypair kp[3];
    int32_t p0 = wgc_dp_peer_add(dp), p1 = wgc_dp_peer_add(dp);
    watching = 1;
    keypairs(kp, 100);
    wgc_dp_peer_set_keypairs(dp, p0, kp);
    keypairs(kp, 200);                       /* replaces all three: 100..102 are destroyed */
    wgc_dp_peer_set_keypairs(dp, p0, kp);
    keypairs(kp, 300);
    wgc_dp_peer_set_keypairs(dp, p1, kp);
    wgc_dp_peer_remove(dp, p1);              /* 300..302 */
    wgc_dp_free(dp);                         /* 200..202 */
    watching = 0;
    printf("dp_keypairs %s (%d blocks freed, %d with key bytes)\n",
           dp_keys_left ? "LEFT" : "wiped", dp_keys_freed, dp_keys_left);
}

static __attribute__((noinline)) void paint(void)
{
    volatile uint8_t buf[STACK_SCAN];
    memset((void *)buf, 0x5a, sizeof(buf));
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) int dead_stack_has(const uint8_t *needle, size_t n)
{
    volatile uint8_t buf[STACK_SCAN];     /* deliberately uninitialised: the dead stack */
    size_t i, j;
    for (i = 0; i + n <= sizeof(buf); i++) {
        for (j = 0; j < n && buf[i + j] == needle[j]; j++)
            ;
        if (j == n)
            return 1;
    }
    return 0;
}

static __attribute__((noinline)) void run_seal(const uint8_t *key)
{
    uint8_t out[64 + 16], in[64] = {0}, nonce[12] = {0};
    wgc_aead_seal(out, in, sizeof(in), NULL, 0, nonce, key);
    __asm__ volatile("" : : "r"(out) : "memory");
}

static __attribute__((noinline)) void run_open(const uint8_t *key, const uint8_t *ct)
{
    uint8_t out[64], nonce[12] = {0};
    wgc_aead_open(out, ct, 64 + 16, NULL, 0, nonce, key);
    __asm__ volatile("" : : "r"(out) : "memory");
}

static __attribute__((noinline)) void run_x25519(const uint8_t *scalar)
{
    uint8_t pub[32];
    wgc_x25519_public(pub, scalar);
    __asm__ volatile("" : : "r"(pub) : "memory");
}

static __attribute__((noinline)) void run_kdf(const uint8_t *ck, const uint8_t *in)
{
    uint8_t out[96];
    wgc_kdf(out, 3, ck, in, 32);
    __asm__ volatile("" : : "r"(out) : "memory");
}

/* The control: a function that leaves a secret on its stack. Must report LEFT, or the scan
 * cannot see the region the primitives use and its `wiped` results mean nothing. */
static __attribute__((noinline)) void run_leaky(const uint8_t *secret)
{
    volatile uint8_t local[256];
    size_t i;
    for (i = 0; i < 32; i++)
        local[100 + i] = secret[i];
    __asm__ volatile("" : : "r"(local) : "memory");
}

static void report(const char *name, const uint8_t *secret, size_t n)
{
    printf("%s %s\n", name, dead_stack_has(secret, n) ? "LEFT" : "wiped");
}

int main(void)
{
    uint8_t key[32], otk[32], zeros[32] = {0}, nonce[12] = {0}, ct[80], in[64] = {0};
    uint8_t scalar[32], ck[32], input[32], t0[32];
    int i;

    check_datapath();
    for (i = 0; i < 32; i++) {
        key[i] = (uint8_t)(0xC0 + i);
        scalar[i] = (uint8_t)(0x40 + 3 * i);
        ck[i] = (uint8_t)(0x11 * i + 1);
        input[i] = (uint8_t)(0x77 ^ i);
    }
    wgc_chacha20(otk, zeros, 32, key, nonce, 0);        /* Poly1305 one-time key */
    paint(); run_leaky(key); report("control_unwiped_copy", key, 32);
    paint(); run_seal(key); report("aead_seal_poly1305_key", otk, 32);
    wgc_aead_seal(ct, in, 64, NULL, 0, nonce, key);
    paint(); run_open(key, ct); report("aead_open_poly1305_key", otk, 32);
    paint(); run_x25519(scalar);
    scalar[0] &= 248; scalar[31] = (scalar[31] & 127) | 64;
    report("x25519_clamped_scalar", scalar, 32);
    wgc_hmac_blake2s(t0, ck, 32, input, 32);
    paint(); run_kdf(ck, input); report("kdf_t0", t0, 32);
    return 0;
}
