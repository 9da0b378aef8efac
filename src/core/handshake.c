/*
 * handshake.c - WireGuard's Noise_IKpsk2 messages, one call per message
 * (kernel noise.c, wireguard-go noise-protocol.go), so that Python, which
 * keeps every decision (peer lookup, replay and flood checks, indices,
 * timers), spends a few microseconds per handshake instead of ~40 crypto
 * calls. src/wgpy/protocol/noise.py is the spec: its pure-Python path must
 * give the same bytes, which tests/protocol/test_noise_native.py checks.
 *
 * Every call works on locals and copies into the caller's wgc_hs only on
 * success, so a failed consume leaves the handshake as it was.
 */
#include "util.h"
#include "wgcore.h"

static const char CONSTRUCTION[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char IDENTIFIER[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* h = HASH(h || data) */
static void mix_hash(u8 h[32], const u8 *data, size_t len)
{
    struct wgc_blake2s_state s;
    wgc_blake2s_init(&s, 32, NULL, 0);
    wgc_blake2s_update(&s, h, 32);
    wgc_blake2s_update(&s, data, len);
    wgc_blake2s_final(&s, h);
}

/* ck, k = KDF2(ck, data) (k may be NULL: KDF1) */
static void mix_key(u8 ck[32], u8 k[32], const u8 *data, size_t len)
{
    u8 out[64];
    wgc_kdf(out, k ? 2 : 1, ck, data, len);
    memcpy(ck, out, 32);
    if (k)
        memcpy(k, out + 32, 32);
    wgc_wipe(out, sizeof(out));
}

/* ck, k = DH result mixed in; -1 (nothing to mix) for a low-order point. */
static int mix_dh(u8 ck[32], u8 k[32], const u8 priv[32], const u8 pub[32])
{
    u8 shared[32];
    int r = wgc_x25519(shared, priv, pub);
    if (r == 0)
        mix_key(ck, k, shared, 32);
    wgc_wipe(shared, sizeof(shared));
    return r;
}

/* dst = AEAD(k, 0, src, h); h = HASH(h || dst) */
static void seal_hash(u8 *dst, const u8 *src, size_t len, const u8 k[32], u8 h[32])
{
    wgc_wg_seal(dst, src, len, h, 32, 0, k);
    mix_hash(h, dst, len + WGC_TAG_LEN);
}

static int open_hash(u8 *dst, const u8 *src, size_t len, const u8 k[32], u8 h[32])
{
    if (wgc_wg_open(dst, src, len + WGC_TAG_LEN, h, 32, 0, k) != 0)
        return -1;
    mix_hash(h, src, len + WGC_TAG_LEN);
    return 0;
}

/* ck = HASH(CONSTRUCTION), h = HASH(HASH(ck || IDENTIFIER) || responder static) */
static void initial(u8 ck[32], u8 h[32], const u8 responder_static[32])
{
    wgc_blake2s(ck, 32, (const u8 *)CONSTRUCTION, sizeof(CONSTRUCTION) - 1, NULL, 0);
    memcpy(h, ck, 32);
    mix_hash(h, (const u8 *)IDENTIFIER, sizeof(IDENTIFIER) - 1);
    mix_hash(h, responder_static, 32);
}

/* The "e" token: mixed into h and (psk mode) into ck. */
static void mix_ephemeral(u8 ck[32], u8 h[32], const u8 e_pub[32])
{
    mix_hash(h, e_pub, 32);
    mix_key(ck, NULL, e_pub, 32);
}

static void commit(struct wgc_hs *hs, const struct wgc_hs *t)
{
    memcpy(hs, t, sizeof(*t));
}

int wgc_hs_create_initiation(struct wgc_hs *hs, uint8_t msg[WGC_HS_INITIATION_LEN],
                             const uint8_t s_pub[32], const uint8_t rs_pub[32],
                             const uint8_t static_static[32], const uint8_t e_priv[32],
                             const uint8_t timestamp[12], uint32_t sender)
{
    struct wgc_hs t;
    u8 k[32], out[WGC_HS_INITIATION_LEN];
    int r = -1;

    memset(out, 0, sizeof(out));
    store32_le(out, 1);
    store32_le(out + 4, sender);
    initial(t.ck, t.h, rs_pub);
    memcpy(t.e_priv, e_priv, 32);
    memset(t.re_pub, 0, 32);
    wgc_x25519_public(out + 8, e_priv);
    mix_ephemeral(t.ck, t.h, out + 8);                          /* e */
    if (mix_dh(t.ck, k, e_priv, rs_pub) != 0)                   /* es */
        goto done;
    seal_hash(out + 40, s_pub, 32, k, t.h);                     /* s */
    mix_key(t.ck, k, static_static, 32);                        /* ss */
    seal_hash(out + 88, timestamp, 12, k, t.h);                 /* payload */
    memcpy(msg, out, sizeof(out));
    commit(hs, &t);
    r = 0;
done:
    wgc_wipe(&t, sizeof(t));
    wgc_wipe(k, sizeof(k));
    return r;
}

int wgc_hs_consume_initiation(struct wgc_hs *hs, uint8_t initiator_static[32],
                              const uint8_t msg[WGC_HS_INITIATION_LEN],
                              const uint8_t s_priv[32], const uint8_t s_pub[32])
{
    struct wgc_hs t;
    u8 k[32], st[32];
    int r = -1;

    initial(t.ck, t.h, s_pub);
    memset(t.e_priv, 0, 32);
    memcpy(t.re_pub, msg + 8, 32);
    mix_ephemeral(t.ck, t.h, t.re_pub);                         /* e */
    if (mix_dh(t.ck, k, s_priv, t.re_pub) != 0)                 /* es */
        goto done;
    if (open_hash(st, msg + 40, 32, k, t.h) != 0)               /* s */
        goto done;
    memcpy(initiator_static, st, 32);
    commit(hs, &t);
    r = 0;
done:
    wgc_wipe(&t, sizeof(t));
    wgc_wipe(k, sizeof(k));
    return r;
}

int wgc_hs_consume_initiation_payload(struct wgc_hs *hs, uint8_t timestamp[12],
                                      const uint8_t msg[WGC_HS_INITIATION_LEN],
                                      const uint8_t static_static[32])
{
    struct wgc_hs t = *hs;
    u8 k[32], ts[12];
    int r = -1;

    mix_key(t.ck, k, static_static, 32);                        /* ss */
    if (open_hash(ts, msg + 88, 12, k, t.h) != 0)               /* payload */
        goto done;
    memcpy(timestamp, ts, 12);
    commit(hs, &t);
    r = 0;
done:
    wgc_wipe(&t, sizeof(t));
    wgc_wipe(k, sizeof(k));
    return r;
}

/* psk token: ck, tau, k = KDF3(ck, psk); h = HASH(h || tau) */
static void mix_psk(u8 ck[32], u8 h[32], u8 k[32], const u8 psk[32])
{
    u8 out[96];
    wgc_kdf(out, 3, ck, psk, 32);
    memcpy(ck, out, 32);
    mix_hash(h, out + 32, 32);
    memcpy(k, out + 64, 32);
    wgc_wipe(out, sizeof(out));
}

int wgc_hs_create_response(struct wgc_hs *hs, uint8_t msg[WGC_HS_RESPONSE_LEN],
                           const uint8_t rs_pub[32], const uint8_t psk[32],
                           const uint8_t e_priv[32], uint32_t sender, uint32_t receiver)
{
    struct wgc_hs t = *hs;
    u8 k[32], out[WGC_HS_RESPONSE_LEN];
    int r = -1;

    memset(out, 0, sizeof(out));
    store32_le(out, 2);
    store32_le(out + 4, sender);
    store32_le(out + 8, receiver);
    memcpy(t.e_priv, e_priv, 32);
    wgc_x25519_public(out + 12, e_priv);
    mix_ephemeral(t.ck, t.h, out + 12);                         /* e */
    if (mix_dh(t.ck, NULL, e_priv, t.re_pub) != 0 ||            /* ee */
        mix_dh(t.ck, NULL, e_priv, rs_pub) != 0)                /* se */
        goto done;
    mix_psk(t.ck, t.h, k, psk);                                 /* psk */
    seal_hash(out + 44, out, 0, k, t.h);                        /* empty payload */
    memcpy(msg, out, sizeof(out));
    commit(hs, &t);
    r = 0;
done:
    wgc_wipe(&t, sizeof(t));
    wgc_wipe(k, sizeof(k));
    return r;
}

int wgc_hs_consume_response(struct wgc_hs *hs, const uint8_t msg[WGC_HS_RESPONSE_LEN],
                            const uint8_t s_priv[32], const uint8_t psk[32])
{
    struct wgc_hs t = *hs;
    u8 k[32], empty[1];
    int r = -1;

    memcpy(t.re_pub, msg + 12, 32);
    mix_ephemeral(t.ck, t.h, t.re_pub);                         /* e */
    if (mix_dh(t.ck, NULL, t.e_priv, t.re_pub) != 0 ||          /* ee */
        mix_dh(t.ck, NULL, s_priv, t.re_pub) != 0)              /* se */
        goto done;
    mix_psk(t.ck, t.h, k, psk);                                 /* psk */
    if (open_hash(empty, msg + 44, 0, k, t.h) != 0)             /* empty payload */
        goto done;
    commit(hs, &t);
    r = 0;
done:
    wgc_wipe(&t, sizeof(t));
    wgc_wipe(k, sizeof(k));
    return r;
}

void wgc_hs_derive_keys(struct wgc_hs *hs, uint8_t send_key[32], uint8_t recv_key[32],
                        int32_t is_initiator)
{
    static const u8 empty[1];
    u8 out[64];
    wgc_kdf(out, 2, hs->ck, empty, 0);
    memcpy(send_key, out + (is_initiator ? 0 : 32), 32);
    memcpy(recv_key, out + (is_initiator ? 32 : 0), 32);
    wgc_wipe(out, sizeof(out));
    wgc_wipe(hs, sizeof(*hs));
}
