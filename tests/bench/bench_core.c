/*
 * bench_core.c - a minimal driver for counting guest instructions under qemu-user
 * with tests/cross/insn_plugin.c (not a timer: it does a fixed amount of work).
 *
 *   bench_core seal SIZE N     N x wgc_wg_seal of SIZE bytes (no AD), one key
 *   bench_core open SIZE N     N x wgc_wg_open of SIZE bytes
 *   bench_core x25519 N        N x wgc_x25519
 *   bench_core blake2s SIZE N  N x wgc_blake2s of SIZE bytes
 *   bench_core chacha20 SIZE N N x wgc_chacha20 of SIZE bytes (the AEAD's cipher part)
 *   bench_core poly1305 SIZE N N x wgc_poly1305 of SIZE bytes (the AEAD's MAC part)
 *
 * Run once with N = 0 as the baseline (startup, setup) and subtract. Prints a
 * checksum of the outputs so the work cannot be optimized away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"

static uint8_t buf[65536 + 16], ref[65536 + 16];

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_core seal|open|chacha20|poly1305|blake2s SIZE N | x25519 N\n");
        return 2;
    }
    const char *what = argv[1];
    int is_x = strcmp(what, "x25519") == 0;
    size_t size = is_x ? 32 : strtoul(argv[2], NULL, 10);
    unsigned long n = strtoul(argv[is_x ? 2 : 3], NULL, 10);
    uint8_t key[32], acc = 0;
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    if (size > 65536)
        return 2;
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)i;

    if (strcmp(what, "seal") == 0) {
        for (unsigned long i = 0; i < n; i++) {
            wgc_wg_seal(buf, buf, size, NULL, 0, i, key);
            acc ^= buf[size];
        }
    } else if (strcmp(what, "open") == 0) {
        wgc_wg_seal(ref, buf, size, NULL, 0, 5, key);
        for (unsigned long i = 0; i < n; i++) {
            memcpy(buf, ref, size + 16); /* open works in place: restore the ciphertext */
            acc ^= (uint8_t)wgc_wg_open(buf, buf, size + 16, NULL, 0, 5, key);
        }
    } else if (is_x) {
        uint8_t u[32] = {9}, out[32];
        for (unsigned long i = 0; i < n; i++) {
            wgc_x25519(out, key, u);
            memcpy(key, out, 32);
        }
        acc = key[0];
    } else if (strcmp(what, "chacha20") == 0) {
        static const uint8_t nonce[12] = {0};
        for (unsigned long i = 0; i < n; i++)
            wgc_chacha20(buf, buf, size, key, nonce, 1);
        acc = buf[0];
    } else if (strcmp(what, "poly1305") == 0) {
        uint8_t mac[16];
        for (unsigned long i = 0; i < n; i++) {
            wgc_poly1305(mac, buf, size, key);
            key[0] ^= mac[0];
        }
        acc = key[0];
    } else if (strcmp(what, "blake2s") == 0) {
        uint8_t out[32];
        for (unsigned long i = 0; i < n; i++) {
            wgc_blake2s(out, 32, buf, size, NULL, 0);
            buf[0] ^= out[0];
        }
        acc = buf[0];
    } else {
        fprintf(stderr, "unknown benchmark %s\n", what);
        return 2;
    }
    printf("%s size %lu n %lu checksum %u\n", what, (unsigned long)size, n, acc);
    return 0;
}
