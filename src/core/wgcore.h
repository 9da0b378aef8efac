/*
 * wgcore.h - the whole ABI of wgpy's C core.
 *
 * Rules: caller-owned buffers, sizes passed beside pointers, no allocation,
 * no printing, no aborting. Functions that can fail return 0 on success and
 * -1 on failure; on an authentication failure the output is left untouched.
 * In-place operation (dst == src) is allowed wherever noted.
 *
 * This file is parsed by cffi's cdef(): integer #defines, plain declarations
 * and structs only. No inline functions, no #if around declarations.
 */
#ifndef WGCORE_H
#define WGCORE_H

#include <stddef.h>
#include <stdint.h>

#define WGC_KEY_LEN 32
#define WGC_TAG_LEN 16
#define WGC_NONCE_LEN 12
#define WGC_XNONCE_LEN 24
#define WGC_HCHACHA_NONCE_LEN 16
#define WGC_BLAKE2S_OUT_LEN 32
#define WGC_BLAKE2S_BLOCK_LEN 64
#define WGC_MAC_LEN 16

/* ---- ChaCha20 (RFC 8439: 32-bit block counter, 96-bit nonce) ---- */

/* XORs len bytes of keystream into src, writing dst (dst may equal src). */
void wgc_chacha20(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter);

/* HChaCha20 (draft-irtf-cfrg-xchacha): a 32-byte subkey from key and 16-byte nonce. */
void wgc_hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t nonce[16]);

/* ---- Poly1305 (RFC 8439) ---- */

void wgc_poly1305(uint8_t mac[16], const uint8_t *msg, size_t msg_len,
                  const uint8_t key[32]);

/* ---- ChaCha20-Poly1305 AEAD (RFC 8439) ----
 * seal: dst receives src_len bytes of ciphertext followed by the 16-byte tag;
 *       dst must hold src_len + 16 bytes; dst may equal src.
 * open: src is ciphertext followed by the tag (src_len >= 16); dst receives
 *       src_len - 16 bytes of plaintext; dst may equal src. Returns -1 (dst
 *       untouched) on a forged tag or src_len < 16.
 */
void wgc_aead_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                   const uint8_t *ad, size_t ad_len,
                   const uint8_t nonce[12], const uint8_t key[32]);
int wgc_aead_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                  const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[12], const uint8_t key[32]);

/* WireGuard's form: nonce = 4 zero bytes || little-endian 64-bit counter. */
void wgc_wg_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                 const uint8_t *ad, size_t ad_len,
                 uint64_t counter, const uint8_t key[32]);
int wgc_wg_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                const uint8_t *ad, size_t ad_len,
                uint64_t counter, const uint8_t key[32]);

/* XChaCha20-Poly1305 (24-byte nonce), same conventions as wgc_aead_*. */
void wgc_xaead_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                    const uint8_t *ad, size_t ad_len,
                    const uint8_t nonce[24], const uint8_t key[32]);
int wgc_xaead_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                   const uint8_t *ad, size_t ad_len,
                   const uint8_t nonce[24], const uint8_t key[32]);

/* ---- Batches: many WireGuard transport payloads under one key, in place ----
 * seal: data holds len bytes of plaintext and room for 16 more; becomes
 *       ciphertext || tag. open: data holds len bytes of ciphertext || tag;
 *       becomes plaintext (len - 16 bytes). status is set to 0 or -1 per item.
 * Both return the number of items whose status is 0. No associated data.
 */
struct wgc_batch_item {
    uint8_t *data;
    uint32_t len;
    int32_t status;
    uint64_t counter;
};
size_t wgc_wg_seal_batch(struct wgc_batch_item *items, size_t n, const uint8_t key[32]);
size_t wgc_wg_open_batch(struct wgc_batch_item *items, size_t n, const uint8_t key[32]);

/* ---- X25519 (RFC 7748) ----
 * out = X25519(scalar, point); the scalar is clamped internally and the top
 * bit of point is ignored. Returns -1 if out is all zeros (a low-order point:
 * WireGuard must refuse the handshake), else 0. out is always written.
 */
int wgc_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
/* public = X25519(private, 9). */
void wgc_x25519_public(uint8_t pub[32], const uint8_t priv[32]);

/* ---- BLAKE2s (RFC 7693) ---- */
struct wgc_blake2s_state {
    uint32_t h[8];
    uint32_t t[2];
    uint32_t f[2];
    uint8_t buf[64];
    uint32_t buf_len;
    uint32_t out_len;
};
/* out_len 1..32, key_len 0..32; returns -1 on a bad length. */
int wgc_blake2s_init(struct wgc_blake2s_state *s, size_t out_len,
                     const uint8_t *key, size_t key_len);
void wgc_blake2s_update(struct wgc_blake2s_state *s, const uint8_t *in, size_t in_len);
/* Writes s->out_len bytes and wipes the state. */
void wgc_blake2s_final(struct wgc_blake2s_state *s, uint8_t *out);
/* One call: returns -1 on a bad length. */
int wgc_blake2s(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len,
                const uint8_t *key, size_t key_len);

/* HMAC-BLAKE2s (RFC 2104 over BLAKE2s-256, 64-byte block); any key length. */
void wgc_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t key_len,
                      const uint8_t *in, size_t in_len);

/* WireGuard's KDF_n (n = 1..3): out receives n * 32 bytes,
 * T0 = HMAC(ck, in); T1 = HMAC(T0, 0x1); Ti = HMAC(T0, T(i-1) || i).
 * Returns -1 if n is not 1..3. */
int wgc_kdf(uint8_t *out, size_t n, const uint8_t ck[32],
            const uint8_t *in, size_t in_len);

/* ---- Utilities ---- */
/* Constant-time comparison of 16 and 32 bytes: 0 if equal, -1 otherwise. */
int wgc_verify16(const uint8_t a[16], const uint8_t b[16]);
int wgc_verify32(const uint8_t a[32], const uint8_t b[32]);
/* Overwrites len bytes with zeros in a way the compiler may not elide. */
void wgc_wipe(void *p, size_t len);

/* ---- Replay window (RFC 6479 ring of 128 x 64-bit blocks: 8128 usable
 * counters, as the Linux kernel and wireguard-go) ---- */
#define WGC_REPLAY_BLOCKS 128
#define WGC_REPLAY_WINDOW 8128
#define WGC_REJECT_AFTER_MESSAGES 18446744073709543423ULL
struct wgc_replay {
    uint64_t last;
    uint64_t bitmap[WGC_REPLAY_BLOCKS];
};
void wgc_replay_init(struct wgc_replay *r);
/* Returns 0 and records counter if it is fresh, -1 if replayed, too old or
 * at/after REJECT_AFTER_MESSAGES. Call only after the packet authenticated. */
int wgc_replay_check(struct wgc_replay *r, uint64_t counter);

/* Which build this is: "portable", or names of SIMD paths compiled in. */
const char *wgc_impl(void);

#endif
