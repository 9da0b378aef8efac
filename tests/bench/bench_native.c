/*
 * bench_native.c - wgpy's C core beside OpenSSL's, both called from C in a tight
 * loop on the same machine in the same run: what the data path pays per packet,
 * without Python's call overhead on either side.
 *
 * AEAD: one context per key, set up once; per packet only the nonce changes
 * (wgc_wg_seal takes the counter; OpenSSL gets EVP_EncryptInit_ex with the IV,
 * then Update/Final/GET_TAG), as a data path would use each.
 * X25519: one shared-secret computation per op (OpenSSL: EVP_PKEY_derive with
 * both keys set up once).
 * Time is CLOCK_MONOTONIC around batches of 8 calls; the fastest batch of
 * each side counts (see time_pair).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "wgcore.h"

static uint8_t buf[8192 + 16];
static uint8_t key[32];
static unsigned char sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef void (*op_fn)(size_t size, unsigned long i);

#define BATCH 8

/* Seconds per call of one batch of BATCH calls. */
static double batch_op(op_fn op, size_t size, unsigned long *n)
{
    double start = now_s();
    for (int i = 0; i < BATCH; i++)
        op(size, (*n)++);
    return (now_s() - start) / BATCH;
}

/* Fastest batch of each side, wgpy and OpenSSL alternating batch by batch,
 * for 0.4 s or 2,000 pairs. On a machine shared with other jobs a longer run
 * measures how often the core was taken away; a short batch that ran
 * undisturbed measures the code, and alternating gives both sides the same
 * chances. */
static void time_pair(op_fn a, op_fn b, size_t size, double *ta, double *tb)
{
    unsigned long na = 0, nb = 0;
    double start = now_s();
    *ta = *tb = 1e9;
    for (int k = 0; k < 2000 && now_s() - start < 0.4; k++) {
        double t = batch_op(a, size, &na);
        if (t < *ta)
            *ta = t;
        t = batch_op(b, size, &nb);
        if (t < *tb)
            *tb = t;
    }
}

static void wgpy_seal(size_t size, unsigned long i)
{
    wgc_wg_seal(buf, buf, size, NULL, 0, i, key);
    sink ^= buf[size];
}

static EVP_CIPHER_CTX *ctx;

static void ossl_seal(size_t size, unsigned long i)
{
    unsigned char nonce[12] = {0};
    int len;
    memcpy(nonce + 4, &i, sizeof(i) < 8 ? sizeof(i) : 8);
    EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce);
    EVP_EncryptUpdate(ctx, buf, &len, buf, (int)size);
    EVP_EncryptFinal_ex(ctx, buf + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, buf + size);
    sink ^= buf[size];
}

static uint8_t peer_pub[32], shared[32];

static void wgpy_x25519(size_t size, unsigned long i)
{
    (void)size;
    (void)i;
    wgc_x25519(shared, key, peer_pub);
    sink ^= shared[0];
}

static EVP_PKEY_CTX *dctx;

static void ossl_x25519(size_t size, unsigned long i)
{
    size_t len = 32;
    (void)size;
    (void)i;
    EVP_PKEY_derive(dctx, shared, &len);
    sink ^= shared[0];
}

static int setup_openssl(void)
{
    uint8_t priv2[32];
    EVP_PKEY *a, *b;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || !EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, NULL))
        return -1;
    for (int i = 0; i < 32; i++)
        priv2[i] = (uint8_t)(200 - i);
    wgc_x25519_public(peer_pub, priv2);
    a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, key, 32);
    b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
    dctx = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
    if (!b || !dctx || EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_derive_set_peer(dctx, b) <= 0)
        return -1;
    return 0;
}

int main(void)
{
    static const size_t sizes[] = {64, 512, 1420, 8192};
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    if (setup_openssl() != 0) {
        fprintf(stderr, "OpenSSL set-up failed\n");
        return 1;
    }
    printf("C level, no Python (tests/bench/bench_native.c): wgpy core %s vs %s\n",
           wgc_impl(), OpenSSL_version(OPENSSL_VERSION));
    printf("ChaCha20-Poly1305 seal   wgpy ns/pkt   MB/s | OpenSSL ns/pkt   MB/s | wgpy/OpenSSL\n");
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        double w, o;
        time_pair(wgpy_seal, ossl_seal, sizes[k], &w, &o);
        printf("  %5zu B               %9.0f %6.0f | %11.0f %6.0f | %5.2fx\n", sizes[k],
               w * 1e9, (double)sizes[k] / w / 1e6, o * 1e9, (double)sizes[k] / o / 1e6, o / w);
    }
    double w, o;
    time_pair(wgpy_x25519, ossl_x25519, 0, &w, &o);
    printf("X25519                   wgpy %7.0f ops/s | OpenSSL %7.0f ops/s | %5.2fx\n",
           1.0 / w, 1.0 / o, o / w);
    printf("(checksum %02x keeps the work from being optimised away)\n", sink);
    return 0;
}
