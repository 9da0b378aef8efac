/*
 * cookie.c - mac1/mac2, cookie replies and the per-source handshake rate
 * limit (kernel cookie.c + ratelimiter.c, wireguard-go cookie.go +
 * ratelimiter/), for the receive worker to answer floods without Python.
 * src/wgpy/protocol/cookie.py and ratelimiter.py are the spec; the
 * differential tests in tests/protocol/test_cookie_native.py hold C to
 * their bytes and verdicts.
 */
#include "util.h"
#include "wgcore.h"

#define NS_PER_S 1000000000ULL
#define PACKET_COST_NS (NS_PER_S / WGC_RATELIMIT_PACKETS_PER_SECOND)
#define MAX_TOKENS_NS (PACKET_COST_NS * WGC_RATELIMIT_BURST)
/* An entry idle this long has a full bucket whatever it held, so its slot is
 * as good as free (ratelimiter.py forgets it at its next collection). */
#define IDLE_NS NS_PER_S
/* Slots looked at per source before the table counts as full. */
#define PROBES 8

static void label_hash(u8 out[32], const char label[8], const u8 pub[32])
{
    struct wgc_blake2s_state s;
    wgc_blake2s_init(&s, 32, NULL, 0);
    wgc_blake2s_update(&s, (const u8 *)label, 8);
    wgc_blake2s_update(&s, pub, 32);
    wgc_blake2s_final(&s, out);
}

void wgc_cookie_keys(uint8_t mac1_key[32], uint8_t cookie_key[32], const uint8_t pub[32])
{
    label_hash(mac1_key, "mac1----", pub);
    label_hash(cookie_key, "cookie--", pub);
}

int wgc_mac1_check(const uint8_t *msg, size_t len, const uint8_t mac1_key[32])
{
    u8 mac[WGC_MAC_LEN];
    if (len < 2 * WGC_MAC_LEN)
        return -1;
    wgc_blake2s(mac, WGC_MAC_LEN, msg, len - 2 * WGC_MAC_LEN, mac1_key, 32);
    return wgc_verify16(mac, msg + len - 2 * WGC_MAC_LEN);
}

/* The source's cookie: MAC(secret, address || port big-endian). */
static void source_cookie(u8 cookie[WGC_MAC_LEN], const u8 secret[32],
                          const u8 *addr, size_t addr_len, uint16_t port)
{
    u8 in[18];
    memcpy(in, addr, addr_len);
    in[addr_len] = (u8)(port >> 8);
    in[addr_len + 1] = (u8)port;
    wgc_blake2s(cookie, WGC_MAC_LEN, in, addr_len + 2, secret, 32);
}

int wgc_mac2_check(const uint8_t *msg, size_t len, const uint8_t secret[32],
                   const uint8_t *addr, size_t addr_len, uint16_t port)
{
    u8 cookie[WGC_MAC_LEN], mac[WGC_MAC_LEN];
    int r;
    if (len < 2 * WGC_MAC_LEN || (addr_len != 4 && addr_len != 16))
        return -1;
    source_cookie(cookie, secret, addr, addr_len, port);
    wgc_blake2s(mac, WGC_MAC_LEN, msg, len - WGC_MAC_LEN, cookie, WGC_MAC_LEN);
    r = wgc_verify16(mac, msg + len - WGC_MAC_LEN);
    wgc_wipe(cookie, sizeof(cookie));
    return r;
}

int wgc_cookie_reply(uint8_t out[WGC_COOKIE_REPLY_LEN], const uint8_t *msg, size_t len,
                     const uint8_t cookie_key[32], const uint8_t secret[32],
                     const uint8_t *addr, size_t addr_len, uint16_t port,
                     const uint8_t nonce[24])
{
    u8 cookie[WGC_MAC_LEN];
    if (len < 8 + 2 * WGC_MAC_LEN || (addr_len != 4 && addr_len != 16))
        return -1;
    source_cookie(cookie, secret, addr, addr_len, port);
    store32_le(out, 3);
    memcpy(out + 4, msg + 4, 4);        /* receiver: the message's sender index */
    memcpy(out + 8, nonce, 24);
    /* Bound to the message's mac1, so only its sender can use the cookie. */
    wgc_xaead_seal(out + 32, cookie, WGC_MAC_LEN, msg + len - 2 * WGC_MAC_LEN, WGC_MAC_LEN,
                   nonce, cookie_key);
    wgc_wipe(cookie, sizeof(cookie));
    return 0;
}

void wgc_ratelimit_init(struct wgc_ratelimit *r, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->seed = seed | 1;
}

/* A keyed mix of the source, so remote peers cannot aim at one probe run. */
static u32 slot_of(const struct wgc_ratelimit *r, const u8 *addr, size_t addr_len)
{
    u64 h = r->seed;
    size_t i;
    for (i = 0; i < addr_len; i += 4) {
        h = (h ^ load32_le(addr + i)) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    h = (h ^ (h >> 32)) * 0xd6e8feb86659fd93ULL;
    return (u32)(h >> 32) & (WGC_RATELIMIT_SLOTS - 1);
}

int wgc_ratelimit_allow(struct wgc_ratelimit *r, uint8_t family, const uint8_t *addr,
                        uint64_t now_ns)
{
    size_t addr_len = family == 4 ? 4 : 16;
    struct wgc_ratelimit_entry *e, *free_e = NULL;
    u32 base = slot_of(r, addr, addr_len), i;
    u64 tokens;

    for (i = 0; i < PROBES; i++) {
        e = &r->e[(base + i) & (WGC_RATELIMIT_SLOTS - 1)];
        if (e->family == family && memcmp(e->addr, addr, addr_len) == 0)
            break;
        if (free_e == NULL && (e->family == 0 || (i64)(now_ns - e->last_ns) > (i64)IDLE_NS))
            free_e = e;
    }
    if (i == PROBES) {
        if (free_e == NULL)
            return -1;      /* full: refuse, as the kernel past its table size */
        e = free_e;
        e->family = family;
        memset(e->addr, 0, sizeof(e->addr));
        memcpy(e->addr, addr, addr_len);
        e->tokens_ns = MAX_TOKENS_NS - PACKET_COST_NS;
        e->last_ns = now_ns;
        return 0;
    }
    tokens = e->tokens_ns;
    if ((i64)(now_ns - e->last_ns) > 0)
        tokens += now_ns - e->last_ns;
    if (tokens > MAX_TOKENS_NS)
        tokens = MAX_TOKENS_NS;
    e->last_ns = now_ns;
    if (tokens >= PACKET_COST_NS) {
        e->tokens_ns = tokens - PACKET_COST_NS;
        return 0;
    }
    e->tokens_ns = tokens;
    return -1;
}
