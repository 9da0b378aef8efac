/*
 * selftest.c - C-only known-answer runner for the whole core (no Python), so the
 * same vectors run natively, under ASan/UBSan and valgrind, and under qemu-user
 * on MIPS32r2 BE/LE and ARMv7. The vectors come from the JSON files in tests/vectors via
 * tests/cross/gen_vectors.py -> build/vectors.h (compile with -I build).
 *
 * Each check counts one pass or one failure; the last line printed is
 * "N passed, N failed" and the exit status is nonzero on any failure.
 * Usage: selftest [--slow]   (--slow adds RFC 7748's 1,000,000-iteration test)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"
#include "poly1305.h"
#include "x25519.h"
#include "vectors.h"

/* Under valgrind (make selftest), secrets are marked undefined for the
 * constant-time checks: memcheck then reports every branch and memory
 * address that depends on them, as ctgrind does. Elsewhere these are no-ops. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define WGC_MEMCHECK
#endif
#endif
#ifndef WGC_MEMCHECK
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define RUNNING_ON_VALGRIND 0
#endif

#define MAX_PACKET 4200
#define SENTINEL 0xa5

static unsigned long passed, failed;

static void check(int ok, const char *what, const char *id)
{
    if (ok) {
        passed++;
        return;
    }
    if (failed < 60)
        printf("FAIL %s: %s\n", what, id);
    else if (failed == 60)
        printf("(further failures not printed)\n");
    failed++;
}

static int all_equal(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static int eq(const uint8_t *a, const uint8_t *b, size_t len)
{
    return len == 0 || memcmp(a, b, len) == 0;
}

/* Deterministic filler (32-bit LCG): reproducible across hosts and endianness. */
static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 24);
    }
}

static uint8_t buf_a[MAX_PACKET + 64], buf_b[MAX_PACKET + 64], buf_c[MAX_PACKET + 64];

/* ---- ChaCha20, Poly1305, HChaCha20 (RFC 8439 §2.3-2.6, A.1-A.4; XChaCha draft §2.2.1) ---- */

static void test_chacha20(void)
{
    for (size_t i = 0; i < N_CHACHA; i++) {
        const struct v_chacha *v = &chacha_vectors[i];
        wgc_chacha20(buf_a, v->pt, v->len, v->key, v->nonce, v->counter);
        check(eq(buf_a, v->ct, v->len), "chacha20", v->id);
        memcpy(buf_b + 1, v->pt, v->len); /* in place, odd address */
        wgc_chacha20(buf_b + 1, buf_b + 1, v->len, v->key, v->nonce, v->counter);
        check(eq(buf_b + 1, v->ct, v->len), "chacha20 in place unaligned", v->id);
    }
    for (size_t i = 0; i < N_KEYGEN; i++) {
        const struct v_keygen *v = &keygen_vectors[i];
        uint8_t zero[32] = {0}, otk[32];
        wgc_chacha20(otk, zero, 32, v->key, v->nonce, 0);
        check(eq(otk, v->otk, 32), "poly1305 key generation", v->id);
    }
    /* Multi-block (SIMD) paths vs one block at a time, at every length around block edges. */
    uint8_t key[32], nonce[12];
    fill(key, 32, 1);
    fill(nonce, 12, 2);
    for (size_t len = 0; len <= 1100; len += (len < 130 || len > 1000) ? 1 : 61) {
        fill(buf_a, len, (uint32_t)len);
        wgc_chacha20(buf_b, buf_a, len, key, nonce, 7);
        for (size_t off = 0; off < len; off += 64) {
            size_t n = len - off < 64 ? len - off : 64;
            wgc_chacha20(buf_c + off, buf_a + off, n, key, nonce, 7 + (uint32_t)(off / 64));
        }
        check(eq(buf_b, buf_c, len), "chacha20 multi-block == block by block", "lengths 0..1100");
    }
}

static void test_poly1305(void)
{
    for (size_t i = 0; i < N_POLY; i++) {
        const struct v_poly *v = &poly_vectors[i];
        uint8_t mac[16];
        wgc_poly1305(mac, v->msg, v->msg_len, v->key);
        check(eq(mac, v->tag, 16), "poly1305", v->id);
        memcpy(buf_a + 3, v->msg, v->msg_len);
        wgc_poly1305(mac, buf_a + 3, v->msg_len, v->key);
        check(eq(mac, v->tag, 16), "poly1305 unaligned message", v->id);
    }
    /* Multi-block (SIMD) path vs one block per call, random and all-ones
     * keys and messages (the largest limbs and carries); from 2,048 bytes
     * (128 blocks) on, the AVX2 path runs two sets of lanes. */
    for (int ones = 0; ones < 2; ones++) {
        uint8_t key[32], mac[16], ref[16];
        fill(key, 32, 3);
        if (ones) {
            memset(key, 0xff, 32);
            memset(buf_a, 0xff, MAX_PACKET);
        }
        for (size_t len = 0; len <= MAX_PACKET;
             len += (len < 300 || (len > 1000 && len < 1100) || (len > 2000 && len < 2100)) ? 1 : 37) {
            struct wgc_poly1305_ctx p;
            if (!ones)
                fill(buf_a, len, (uint32_t)len);
            wgc_poly1305(mac, buf_a, len, key);
            wgc_poly1305_init(&p, key);
            for (size_t off = 0; off < len; off += 16)
                wgc_poly1305_update(&p, buf_a + off, len - off < 16 ? len - off : 16);
            wgc_poly1305_final(&p, ref);
            check(eq(mac, ref, 16), "poly1305 multi-block == block by block",
                  ones ? "all ones, lengths 0..4200" : "lengths 0..4200");
        }
    }
}

static void test_hchacha20(void)
{
    for (size_t i = 0; i < N_HCHACHA; i++) {
        const struct v_hchacha *v = &hchacha_vectors[i];
        uint8_t out[32];
        wgc_hchacha20(out, v->key, v->nonce);
        check(eq(out, v->out, 32), "hchacha20", v->id);
    }
}

/* ---- AEAD: RFC 8439 §2.8.2/A.5, XChaCha draft A.3.1, all Wycheproof cases ---- */

static void seal(const struct v_aead *v, uint8_t *dst, const uint8_t *src)
{
    if (v->xchacha)
        wgc_xaead_seal(dst, src, v->msg_len, v->aad, v->aad_len, v->nonce, v->key);
    else
        wgc_aead_seal(dst, src, v->msg_len, v->aad, v->aad_len, v->nonce, v->key);
}

static int open_(const struct v_aead *v, uint8_t *dst, const uint8_t *src, size_t src_len)
{
    if (v->xchacha)
        return wgc_xaead_open(dst, src, src_len, v->aad, v->aad_len, v->nonce, v->key);
    return wgc_aead_open(dst, src, src_len, v->aad, v->aad_len, v->nonce, v->key);
}

static void test_aead_vector(const struct v_aead *v)
{
    size_t want_nonce = v->xchacha ? 24 : 12;
    if (v->nonce_len != want_nonce || v->tag_len != 16 || v->ct_len != v->msg_len ||
        v->ct_len + 16 > MAX_PACKET) {
        /* The ABI cannot even express this nonce size: rejected by construction. */
        check(!v->valid, "aead vector with unsupported sizes marked valid", v->id);
        return;
    }
    size_t n = v->ct_len;
    if (n > MAX_PACKET - 16)
        return;
    memcpy(buf_a, v->ct, n); /* ciphertext || tag */
    memcpy(buf_a + n, v->tag, 16);
    memset(buf_b, SENTINEL, n + 16);
    int rc = open_(v, buf_b, buf_a, n + 16);
    if (!v->valid) {
        check(rc == -1, "aead open accepted an invalid case", v->id);
        check(all_equal(buf_b, n + 16, SENTINEL), "aead open wrote output on failure", v->id);
        return;
    }
    check(rc == 0 && eq(buf_b, v->msg, n), "aead open", v->id);
    memset(buf_b, SENTINEL, n + 17);
    seal(v, buf_b, v->msg);
    check(eq(buf_b, buf_a, n + 16) && buf_b[n + 16] == SENTINEL, "aead seal", v->id);

    /* In place, at an odd address. */
    memcpy(buf_c + 1, v->msg, n);
    seal(v, buf_c + 1, buf_c + 1);
    check(eq(buf_c + 1, buf_a, n + 16), "aead seal in place", v->id);
    check(open_(v, buf_c + 1, buf_c + 1, n + 16) == 0 && eq(buf_c + 1, v->msg, n),
          "aead open in place", v->id);

    /* Forgeries: one flipped bit in the tag, in the ciphertext, a short input. */
    buf_a[n + 15] ^= 0x80;
    memset(buf_b, SENTINEL, n + 16);
    check(open_(v, buf_b, buf_a, n + 16) == -1 && all_equal(buf_b, n + 16, SENTINEL),
          "aead open accepted a flipped tag bit", v->id);
    buf_a[n + 15] ^= 0x80;
    if (n > 0) {
        buf_a[n / 2] ^= 0x01;
        check(open_(v, buf_b, buf_a, n + 16) == -1 && all_equal(buf_b, n + 16, SENTINEL),
              "aead open accepted a flipped ciphertext bit", v->id);
        buf_a[n / 2] ^= 0x01;
        /* In place: a forged tag must leave the ciphertext untouched too. */
        memcpy(buf_c, buf_a, n + 16);
        buf_c[n] ^= 1;
        check(open_(v, buf_c, buf_c, n + 16) == -1 && eq(buf_c, buf_a, n),
              "aead open in place modified data on failure", v->id);
    }
    check(open_(v, buf_b, buf_a, 15) == -1 && all_equal(buf_b, 16, SENTINEL),
          "aead open accepted src_len < 16", v->id);

    /* WireGuard form: wg_seal(counter) == aead_seal(0^4 || le64(counter)). */
    if (!v->xchacha) {
        uint64_t ctr = 0;
        uint8_t nonce[12] = {0};
        for (int i = 7; i >= 0; i--)
            ctr = (ctr << 8) | v->nonce[4 + i];
        memcpy(nonce + 4, v->nonce + 4, 8);
        wgc_wg_seal(buf_b, v->msg, n, v->aad, v->aad_len, ctr, v->key);
        wgc_aead_seal(buf_c, v->msg, n, v->aad, v->aad_len, nonce, v->key);
        check(eq(buf_b, buf_c, n + 16), "wg_seal == aead_seal with 0^4||le64 nonce", v->id);
        check(wgc_wg_open(buf_a, buf_b, n + 16, v->aad, v->aad_len, ctr, v->key) == 0 &&
                  eq(buf_a, v->msg, n), "wg_open", v->id);
        if (v->nonce[0] == 0 && v->nonce[1] == 0 && v->nonce[2] == 0 && v->nonce[3] == 0)
            check(eq(buf_b, v->ct, n) && eq(buf_b + n, v->tag, 16), "wg_seal known answer", v->id);
    }
}

static void test_aead(void)
{
    for (size_t i = 0; i < N_AEAD; i++)
        test_aead_vector(&aead_vectors[i]);
}

/* Same packet at every src/dst alignment: catches u32-cast fast paths (MIPS traps). */
static void test_aead_alignment(void)
{
    static const size_t lens[] = {0, 1, 3, 15, 16, 17, 31, 63, 64, 65, 127, 128, 129,
                                  255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 1420, 1500};
    uint8_t key[32], ad[13];
    fill(key, 32, 11);
    fill(ad, 13, 12);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        uint8_t ref[1600];
        fill(buf_a, n, (uint32_t)(n + 5));
        wgc_wg_seal(ref, buf_a, n, ad, 13, 0x0102030405060708ull, key);
        for (int so = 0; so < 4; so++)
            for (int dof = 0; dof < 4; dof++) {
                memcpy(buf_b + so, buf_a, n);
                wgc_wg_seal(buf_c + dof, buf_b + so, n, ad, 13, 0x0102030405060708ull, key);
                check(eq(buf_c + dof, ref, n + 16), "wg_seal at src/dst alignment 0..3", "alignment");
                memset(buf_b, 0, sizeof buf_b);
                check(wgc_wg_open(buf_b + so, buf_c + dof, n + 16, ad, 13, 0x0102030405060708ull, key) == 0 &&
                          eq(buf_b + so, buf_a, n), "wg_open at src/dst alignment 0..3", "alignment");
            }
    }
}

/* ---- Batches (in place, no AD): each item must equal wgc_wg_seal of the same packet ---- */

static void test_batch(void)
{
    static const uint32_t lens[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 1420, 1500, 4096};
    static const uint64_t ctrs[] = {0, 1, 2, 0xffffffffull, 0x100000000ull, 0x0102030405060708ull,
                                    0xfffffffffffffffeull, 0xffffffffffffffffull, 42, 1000, 7, 8, 9, 10, 11, 12};
    enum { N = sizeof lens / sizeof lens[0] };
    static uint8_t data[N][4096 + 16], plain[N][4096 + 16], want[N][4096 + 16];
    struct wgc_batch_item items[N];
    uint8_t key[32];
    fill(key, 32, 21);
    for (size_t i = 0; i < N; i++) {
        fill(plain[i], lens[i], (uint32_t)(100 + i));
        memcpy(data[i], plain[i], lens[i]);
        wgc_wg_seal(want[i], plain[i], lens[i], NULL, 0, ctrs[i], key);
        items[i].data = data[i];
        items[i].len = lens[i];
        items[i].counter = ctrs[i];
        items[i].status = 99;
    }
    check(wgc_wg_seal_batch(items, N, key) == N, "seal batch count", "batch");
    for (size_t i = 0; i < N; i++)
        check(items[i].status == 0 && eq(data[i], want[i], lens[i] + 16), "seal batch item == wg_seal", "batch");
    for (size_t i = 0; i < N; i++) {
        items[i].len = lens[i] + 16;
        items[i].status = 99;
    }
    check(wgc_wg_open_batch(items, N, key) == N, "open batch count", "batch");
    for (size_t i = 0; i < N; i++)
        check(items[i].status == 0 && eq(data[i], plain[i], lens[i]), "open batch item", "batch");

    /* Re-seal, then spoil items 3 (tag), 5 (counter) and 0 (shorter than a tag). */
    for (size_t i = 0; i < N; i++) {
        memcpy(data[i], want[i], lens[i] + 16);
        items[i].len = lens[i] + 16;
        items[i].status = 99;
    }
    data[3][lens[3] + 2] ^= 4;
    items[5].counter ^= 1;
    items[0].len = 15;
    check(wgc_wg_open_batch(items, N, key) == N - 3, "open batch count with 3 forgeries", "batch");
    for (size_t i = 0; i < N; i++) {
        int bad = i == 0 || i == 3 || i == 5;
        check(items[i].status == (bad ? -1 : 0), "open batch status", "batch");
        if (bad && i != 3)
            check(eq(data[i], want[i], lens[i] + 16), "open batch left a forged item untouched", "batch");
        else if (!bad)
            check(eq(data[i], plain[i], lens[i]), "open batch good item next to forgeries", "batch");
    }
    check(wgc_wg_seal_batch(items, 0, key) == 0 && wgc_wg_open_batch(items, 0, key) == 0,
          "empty batch", "batch");
}

/* ---- X25519 (RFC 7748 §5.2, §6.1, iterated; all Wycheproof cases) ---- */

static void test_x25519(int slow)
{
    for (size_t i = 0; i < N_X25519; i++) {
        const struct v_x25519 *v = &x25519_vectors[i];
        uint8_t out[32];
        memset(out, SENTINEL, 32);
        int rc = wgc_x25519(out, v->scalar, v->point);
        check(eq(out, v->shared, 32), "x25519 output", v->id);
        check(rc == (v->zero ? -1 : 0), v->zero ? "x25519 all-zero output must return -1"
                                                : "x25519 returned -1 on a good point", v->id);
    }
    uint8_t nine[32] = {9}, k[32], u[32], t[32], pub[32], pub2[32];
    for (size_t i = 0; i < N_X25519; i++) { /* public key == X25519(k, 9) */
        const struct v_x25519 *v = &x25519_vectors[i];
        wgc_x25519_public(pub, v->scalar);
        wgc_x25519(pub2, v->scalar, nine);
        check(eq(pub, pub2, 32), "x25519_public == x25519(k, 9)", v->id);
    }
    for (size_t i = 0; i < N_X25519_ITER; i++) {
        const struct v_x25519_iter *v = &x25519_iter_vectors[i];
        memcpy(k, nine, 32);
        memcpy(u, nine, 32);
        for (unsigned j = 0; j < v->iterations; j++) {
            wgc_x25519(t, k, u);
            memcpy(u, k, 32);
            memcpy(k, t, 32);
        }
        check(eq(k, v->out, 32), "x25519 iterated", v->id);
    }
    if (slow) {
        memcpy(k, nine, 32);
        memcpy(u, nine, 32);
        for (unsigned j = 0; j < 1000000; j++) {
            wgc_x25519(t, k, u);
            memcpy(u, k, 32);
            memcpy(k, t, 32);
        }
        check(eq(k, x25519_million, 32), "x25519 iterated", "RFC 7748 §5.2, 1,000,000 iterations");
    }
}

/* ---- X25519 implementations against each other, and constant time ---- */

typedef void x25519_fn(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);

/* wgc_x25519's ladder without the all-zero check, for the differential. */
static void x25519_default(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
    (void)wgc_x25519(out, scalar, point);
}

/* Every implementation this host can run: the one wgc_x25519 picks and,
 * on x86_64, both of x25519.c's and x25519_mulx.c's (valgrind's CPU lacks
 * ADX but executes adcx/adox, so the constant-time run covers mulx too). */
static size_t x25519_impls(x25519_fn *fns[3], const char *names[3])
{
    size_t n = 0;
    fns[n] = x25519_default;
    names[n++] = "wgc_x25519";
#ifdef WGC_X25519_MULX
    fns[n] = wgc_x25519_portable;
    names[n++] = "radix 2^51";
    if (wgc_x25519_have_mulx() || (RUNNING_ON_VALGRIND && __builtin_cpu_supports("bmi2"))) {
        fns[n] = wgc_x25519_mulx;
        names[n++] = "radix 2^64 mulx";
    }
#endif
    return n;
}

/* Points at the edges: 0, 1, p - 1, p, p + 1, 2^255 - 1 (the last three
 * non-canonical), two points of order 8; each also with bit 255 set. */
static void x25519_edge_point(uint8_t u[32], size_t i)
{
    static const uint8_t order8[2][32] = {
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
         0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
        {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
         0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    };
    static const uint8_t low[6] = {0, 1, 0xec, 0xed, 0xee, 0xff};
    size_t k = i / 2;

    memset(u, 0, 32);
    if (k < 6) {
        u[0] = low[k];
        if (k >= 2) { /* p - 1 .. 2^255 - 1: 0x7fff...ff with the low byte above */
            memset(u + 1, 0xff, 30);
            u[31] = 0x7f;
        }
    } else {
        memcpy(u, order8[k - 6], 32);
    }
    if (i & 1)
        u[31] |= 0x80;
}
#define X25519_EDGES 16

static void test_x25519_impls(void)
{
    x25519_fn *fns[3];
    const char *names[3];
    size_t n = x25519_impls(fns, names);
    uint8_t k[32], u[32], want[32], got[32];

    for (size_t f = 1; f < n; f++)
        for (size_t i = 0; i < N_X25519; i++) {
            const struct v_x25519 *v = &x25519_vectors[i];
            fns[f](got, v->scalar, v->point);
            check(eq(got, v->shared, 32), names[f], v->id);
        }
    /* Random scalars against random and edge points. */
    for (uint32_t i = 0; i < 200 + X25519_EDGES; i++) {
        fill(k, 32, 7000 + i);
        if (i < X25519_EDGES)
            x25519_edge_point(u, i);
        else
            fill(u, 32, 9000 + i);
        fns[0](want, k, u);
        for (size_t f = 1; f < n; f++) {
            fns[f](got, k, u);
            check(eq(got, want, 32), names[f], i < X25519_EDGES ? "edge point" : "random point");
        }
    }
}

/* Run with the secret bytes undefined, then the result declared defined so
 * the comparison itself is not reported; memcheck exits 99 on any report. */
static void test_constant_time(void)
{
    static const size_t lens[] = {0, 64, 200, 1420, 4096};
    x25519_fn *fns[3];
    const char *names[3];
    size_t n = x25519_impls(fns, names);
    uint8_t k[32], u[32], want[32], got[32], key[32];

    fill(k, 32, 31);
    fill(u, 32, 32);
    fns[0](want, k, u);
    for (size_t f = 0; f < n; f++) {
        VALGRIND_MAKE_MEM_UNDEFINED(k, 32);
        fns[f](got, k, u);
        VALGRIND_MAKE_MEM_DEFINED(k, 32);
        VALGRIND_MAKE_MEM_DEFINED(got, 32);
        check(eq(got, want, 32), "constant-time run", names[f]);
    }
    VALGRIND_MAKE_MEM_UNDEFINED(k, 32);
    wgc_x25519_public(got, k);
    VALGRIND_MAKE_MEM_DEFINED(k, 32);
    VALGRIND_MAKE_MEM_DEFINED(got, 32);
    wgc_x25519_public(want, k);
    check(eq(got, want, 32), "constant-time run", "wgc_x25519_public");

    fill(key, 32, 33);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        fill(buf_a, len, (uint32_t)len);
        wgc_wg_seal(buf_b, buf_a, len, NULL, 0, 7, key);
        VALGRIND_MAKE_MEM_UNDEFINED(key, 32);
        wgc_wg_seal(buf_c, buf_a, len, NULL, 0, 7, key);
        VALGRIND_MAKE_MEM_DEFINED(key, 32);
        VALGRIND_MAKE_MEM_DEFINED(buf_c, len + 16);
        check(eq(buf_c, buf_b, len + 16), "constant-time run", "wg_seal");
    }
}

/* ---- BLAKE2s (512 KATs, RFC 7693 App. B, other output lengths), HMAC, KDF ---- */

static void test_blake2s(void)
{
    for (size_t i = 0; i < N_BLAKE2S; i++) {
        const struct v_blake2s *v = &blake2s_vectors[i];
        uint8_t out[32];
        struct wgc_blake2s_state s;
        memset(out, SENTINEL, 32);
        int rc = wgc_blake2s(out, v->out_len, v->in, v->in_len, v->key, v->key_len);
        check(rc == 0 && eq(out, v->out, v->out_len) && all_equal(out + v->out_len, 32 - v->out_len, SENTINEL),
              "blake2s one call", v->id);
        /* Incremental: in pieces of 1, 63, 64 and 65 bytes, and in two halves. */
        static const size_t steps[] = {1, 63, 64, 65};
        for (size_t j = 0; j < 5; j++) {
            rc = wgc_blake2s_init(&s, v->out_len, v->key, v->key_len);
            if (j < 4) {
                for (size_t off = 0; off < v->in_len; off += steps[j]) {
                    size_t n = v->in_len - off < steps[j] ? v->in_len - off : steps[j];
                    wgc_blake2s_update(&s, v->in + off, n);
                }
            } else {
                wgc_blake2s_update(&s, v->in, v->in_len / 2);
                wgc_blake2s_update(&s, v->in + v->in_len / 2, v->in_len - v->in_len / 2);
            }
            memset(out, 0, 32);
            wgc_blake2s_final(&s, out);
            check(rc == 0 && eq(out, v->out, v->out_len), "blake2s init/update/final", v->id);
        }
    }
    uint8_t out[32], key[33] = {0};
    struct wgc_blake2s_state s;
    check(wgc_blake2s(out, 0, key, 1, NULL, 0) == -1, "blake2s out_len 0 must fail", "bad length");
    check(wgc_blake2s(out, 33, key, 1, NULL, 0) == -1, "blake2s out_len 33 must fail", "bad length");
    check(wgc_blake2s(out, 32, key, 1, key, 33) == -1, "blake2s key_len 33 must fail", "bad length");
    check(wgc_blake2s_init(&s, 0, NULL, 0) == -1 && wgc_blake2s_init(&s, 33, NULL, 0) == -1 &&
              wgc_blake2s_init(&s, 32, key, 33) == -1, "blake2s_init bad lengths must fail", "bad length");
}

static void test_hmac_kdf(void)
{
    for (size_t i = 0; i < N_HMAC; i++) {
        const struct v_hmac *v = &hmac_vectors[i];
        uint8_t out[32];
        wgc_hmac_blake2s(out, v->key, v->key_len, v->in, v->in_len);
        check(eq(out, v->out, 32), "hmac-blake2s vs Python hmac", v->id);
    }
    for (size_t i = 0; i < N_KDF; i++) {
        const struct v_kdf *v = &kdf_vectors[i];
        uint8_t out[97];
        memset(out, SENTINEL, sizeof out);
        int rc = wgc_kdf(out, v->n, v->ck, v->in, v->in_len);
        check(rc == 0 && eq(out, v->out, 32 * v->n) && all_equal(out + 32 * v->n, 97 - 32 * v->n, SENTINEL),
              "kdf vs Python hmac", v->id);
    }
    uint8_t out[128], ck[32] = {1};
    check(wgc_kdf(out, 0, ck, ck, 32) == -1 && wgc_kdf(out, 4, ck, ck, 32) == -1, "kdf n outside 1..3 must fail",
          "bad n");
}

/* ---- Utilities ---- */

static void test_util(void)
{
    uint8_t a[32], b[32];
    fill(a, 32, 5);
    memcpy(b, a, 32);
    check(wgc_verify16(a, b) == 0 && wgc_verify32(a, b) == 0, "verify equal", "util");
    for (int i = 0; i < 32; i++) {
        b[i] ^= 0x40;
        check(wgc_verify32(a, b) == -1, "verify32 differing byte", "util");
        if (i < 16)
            check(wgc_verify16(a, b) == -1, "verify16 differing byte", "util");
        else
            check(wgc_verify16(a, b) == 0, "verify16 ignores bytes 16..31", "util");
        b[i] ^= 0x40;
    }
    wgc_wipe(a + 1, 30);
    check(all_equal(a + 1, 30, 0) && a[0] == b[0] && a[31] == b[31], "wipe touches exactly len bytes", "util");
    const char *impl = wgc_impl();
    check(impl != NULL && strlen(impl) > 0, "wgc_impl", "util");
}

/* ---- Replay window: the kernel's selftest/counter.c cases (numbered as there and in
 * wireguard-go replay_test.go), written here against wgc_replay_check ---- */

static struct wgc_replay rw;

static int fresh(uint64_t n) { return wgc_replay_check(&rw, n) == 0; }

static void T(unsigned num, uint64_t n, int want_fresh)
{
    char id[80];
    snprintf(id, sizeof id, "replay case %u (counter %llu, expect %s)", num, (unsigned long long)n,
             want_fresh ? "fresh" : "reject");
    check(fresh(n) == want_fresh, "replay", id);
}

static void test_replay(void)
{
    const uint64_t W = WGC_REPLAY_WINDOW, LIM = W + 1, R = WGC_REJECT_AFTER_MESSAGES;
    uint64_t i;
    int ok;
    wgc_replay_init(&rw);
    T(1, 0, 1); T(2, 1, 1); T(3, 1, 0); T(4, 9, 1); T(5, 8, 1); T(6, 7, 1); T(7, 7, 0);
    T(8, LIM, 1); T(9, LIM - 1, 1); T(10, LIM - 1, 0); T(11, LIM - 2, 1); T(12, 2, 1); T(13, 2, 0);
    T(14, LIM + 16, 1); T(15, 3, 0); T(16, LIM + 16, 0); T(17, LIM * 4, 1);
    T(18, LIM * 4 - (LIM - 1), 1); T(19, 10, 0); T(20, LIM * 4 - LIM, 0);
    T(21, LIM * 4 - (LIM + 1), 0); T(22, LIM * 4 - (LIM - 2), 1); T(23, LIM * 4 + 1 - LIM, 0);
    T(24, 0, 0); T(25, R, 0); T(26, R - 1, 1); T(27, R, 0); T(28, R - 1, 0); T(29, R - 2, 1);
    T(30, R + 1, 0); T(31, R + 2, 0); T(32, R - 2, 0); T(33, R - 3, 1); T(34, 0, 0);
    T(35, UINT64_MAX, 0); /* ours from here: the largest counter */
    /* Jumps of exactly a whole ring (128 blocks = 8192) reuse the same block: its stale
     * bits must have been cleared. A 127-block jump must keep block 0. */
    wgc_replay_init(&rw);
    T(36, 5, 1); T(37, 5 + 8192, 1); T(38, 5, 0); T(39, 5 + 3 * 8192, 1); T(40, 5 + 2 * 8192, 0);
    wgc_replay_init(&rw);
    T(41, 5, 1); T(42, 5 + 127 * 64, 1); T(43, 5, 0); T(44, 6, 1); T(45, 4, 0);
    T(46, 5 + 129 * 64, 1); T(47, 6 + 64, 0); T(48, 5 + 128 * 64, 1);

    /* Bulk tests 1-6: one check each. */
    wgc_replay_init(&rw);
    for (ok = 1, i = 1; i <= W; i++) ok &= fresh(i);
    check(ok && fresh(0) && !fresh(0), "replay", "bulk 1: 1..W fresh, then 0 fresh once");
    wgc_replay_init(&rw);
    for (ok = 1, i = 2; i <= W + 1; i++) ok &= fresh(i);
    check(ok && fresh(1) && !fresh(0), "replay", "bulk 2: 2..W+1 fresh, 1 fresh, 0 too old");
    wgc_replay_init(&rw);
    for (ok = 1, i = W + 1; i > 0; i--) ok &= fresh(i);
    check(ok, "replay", "bulk 3: W+1 down to 1 all fresh");
    wgc_replay_init(&rw);
    for (ok = 1, i = W + 2; i > 1; i--) ok &= fresh(i);
    check(ok && !fresh(0), "replay", "bulk 4: W+2 down to 2 fresh, 0 too old");
    wgc_replay_init(&rw);
    for (ok = 1, i = W; i > 0; i--) ok &= fresh(i);
    check(ok && fresh(W + 1) && !fresh(0), "replay", "bulk 5: W down to 1, W+1 fresh, 0 too old");
    wgc_replay_init(&rw);
    for (ok = 1, i = W; i > 0; i--) ok &= fresh(i);
    check(ok && fresh(0) && fresh(W + 1), "replay", "bulk 6: W down to 1, 0 fresh, W+1 fresh");
}

static void group(const char *name, void (*fn)(void))
{
    unsigned long p0 = passed, f0 = failed;
    fn();
    printf("  %-10s %6lu passed, %lu failed\n", name, passed - p0, failed - f0);
}

static int slow;
/* ---- WireGuard handshake and cookie reply (handshake.c, cookie.c) ----
 * Known answers from the pure-Python spec (protocol/noise.py and cookie.py
 * with noise.NATIVE = None) on fixed keys: BLAKE2s of the wire bytes and
 * keys, so the whole exchange is checked in 32 bytes each. */
static const uint8_t HS_DIGEST[32] = {
    0xa6, 0x5d, 0x02, 0xd3, 0xae, 0x84, 0x3e, 0x56,
    0x04, 0xe8, 0xb0, 0xe5, 0x4d, 0xce, 0x40, 0xcd,
    0x0d, 0xef, 0xbd, 0xbb, 0x83, 0x1e, 0x62, 0x4d,
    0xf6, 0xb6, 0xdc, 0xd2, 0xbd, 0xaf, 0xee, 0xb1,
};
static const uint8_t COOKIE_DIGEST[32] = {
    0x09, 0x07, 0xec, 0xc6, 0xd3, 0x85, 0xe0, 0x37,
    0x9f, 0x1f, 0x55, 0xc0, 0xfe, 0xe8, 0xe5, 0x2a,
    0xf7, 0xd4, 0x31, 0x44, 0x89, 0xb9, 0xf1, 0x1c,
    0x3b, 0xca, 0xa2, 0x6e, 0x43, 0x11, 0xea, 0x34,
};

static void clamped(uint8_t k[32], uint8_t first)
{
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)(first + i);
    k[0] &= 248;
    k[31] = (k[31] & 127) | 64;
}

static void test_handshake(void)
{
    uint8_t ip[32], rp[32], ie[32], re[32], ipub[32], rpub[32], ss_i[32], ss_r[32];
    uint8_t psk[32], ts[12], got_static[32], got_ts[12], keys[4][32], digest[32];
    uint8_t init[148], resp[92], bad[92], all[148 + 92 + 64], signed_init[148], reply[64];
    uint8_t mac1_key[32], cookie_key[32], secret[32], nonce[24], saved[sizeof(struct wgc_hs)];
    const uint8_t addr[4] = {192, 0, 2, 1};
    struct wgc_hs hi, hr;
    struct wgc_blake2s_state b;

    clamped(ip, 1);
    clamped(rp, 33);
    clamped(ie, 65);
    clamped(re, 97);
    memset(psk, 0x42, 32);
    for (int i = 0; i < 12; i++)
        ts[i] = (uint8_t)i;
    wgc_x25519_public(ipub, ip);
    wgc_x25519_public(rpub, rp);
    wgc_x25519(ss_i, ip, rpub);
    wgc_x25519(ss_r, rp, ipub);
    check(wgc_hs_create_initiation(&hi, init, ipub, rpub, ss_i, ie, ts, 0x11223344) == 0,
          "handshake", "create_initiation");
    check(wgc_hs_consume_initiation(&hr, got_static, init, rp, rpub) == 0 &&
          eq(got_static, ipub, 32), "handshake", "consume_initiation");
    check(wgc_hs_consume_initiation_payload(&hr, got_ts, init, ss_r) == 0 && eq(got_ts, ts, 12),
          "handshake", "initiation timestamp");
    check(wgc_hs_create_response(&hr, resp, ipub, psk, re, 0x55667788, 0x11223344) == 0,
          "handshake", "create_response");
    /* A forged response fails and leaves the initiator's state as it was. */
    memcpy(bad, resp, sizeof(bad));
    bad[50] ^= 1;
    memcpy(saved, &hi, sizeof(saved));
    check(wgc_hs_consume_response(&hi, bad, ip, psk) == -1 && eq(saved, (uint8_t *)&hi, sizeof(saved)),
          "handshake", "forged response refused, state unchanged");
    check(wgc_hs_consume_response(&hi, resp, ip, psk) == 0, "handshake", "consume_response");
    wgc_hs_derive_keys(&hi, keys[0], keys[1], 1);
    wgc_hs_derive_keys(&hr, keys[2], keys[3], 0);
    check(eq(keys[0], keys[3], 32) && eq(keys[1], keys[2], 32), "handshake", "keys agree");
    check(all_equal((uint8_t *)&hi, sizeof(hi), 0), "handshake", "derive_keys wipes");
    memcpy(all, init, 148);
    memcpy(all + 148, resp, 92);
    memcpy(all + 240, keys[0], 32);
    memcpy(all + 272, keys[1], 32);
    wgc_blake2s(digest, 32, all, sizeof(all), NULL, 0);
    check(eq(digest, HS_DIGEST, 32), "handshake", "known answer (noise.py)");

    wgc_cookie_keys(mac1_key, cookie_key, rpub);
    memcpy(signed_init, init, 148);
    wgc_blake2s(signed_init + 116, 16, init, 116, mac1_key, 32);
    check(wgc_mac1_check(signed_init, 148, mac1_key) == 0 && wgc_mac1_check(init, 148, mac1_key) == -1,
          "cookie", "mac1");
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 24; i++)
        nonce[i] = (uint8_t)(0xc0 + i);
    check(wgc_cookie_reply(reply, signed_init, 148, cookie_key, secret, addr, 4, 51820, nonce) == 0,
          "cookie", "reply");
    wgc_blake2s_init(&b, 32, NULL, 0);
    wgc_blake2s_update(&b, signed_init, 148);
    wgc_blake2s_update(&b, reply, 64);
    wgc_blake2s_final(&b, digest);
    check(eq(digest, COOKIE_DIGEST, 32), "cookie", "known answer (cookie.py)");
    check(wgc_mac2_check(signed_init, 148, secret, addr, 4, 51820) == -1, "cookie", "no mac2");
}

static void test_x25519_default(void) { test_x25519(slow); }

int main(int argc, char **argv)
{
    slow = argc > 1 && strcmp(argv[1], "--slow") == 0;
    printf("wgcore selftest, implementation: %s\n", wgc_impl());
    group("util", test_util);
    group("chacha20", test_chacha20);
    group("poly1305", test_poly1305);
    group("hchacha20", test_hchacha20);
    group("aead", test_aead);
    group("alignment", test_aead_alignment);
    group("batch", test_batch);
    group("blake2s", test_blake2s);
    group("hmac/kdf", test_hmac_kdf);
    group("replay", test_replay);
    group("x25519", test_x25519_default);
    group("x25519-cmp", test_x25519_impls);
    group("const-time", test_constant_time);
    group("handshake", test_handshake);
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
