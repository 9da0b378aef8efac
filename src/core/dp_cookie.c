/*
 * dp_cookie.c - the responder's gate for handshake messages in the RX
 * worker (kernel receive.c's wg_receive_handshake_packet up to the queue,
 * wireguard-go's RoutineReceiveIncoming + RoutineHandshake checks), so a
 * flood of spoofed initiations is answered in C and never reaches Python:
 * a wrong mac1 is dropped; under load a missing or stale mac2 gets a cookie
 * reply and the rest pass a per-source token bucket. What passes is
 * answered by the responder (dp_handshake.c) or goes up, where device.py
 * checks again with the same keys and secret (Python owns
 * them and pushes them with wgc_dp_set_cookie), so both agree.
 */
#define _GNU_SOURCE
#include <sys/random.h>

#include "dp_batch.h"

/* device.py's rule: under load when UNDER_LOAD_HANDSHAKES_PER_SECOND handshake
 * messages arrived within a second, and for UNDER_LOAD_AFTER_S after that. */
static int under_load(struct wgc_dp *dp, u64 now)
{
    u32 n = WGC_UNDER_LOAD_HANDSHAKES_PER_SECOND;
    u64 oldest;

    dp->rx.hs_times[dp->rx.hs_pos] = now;
    dp->rx.hs_pos = (dp->rx.hs_pos + 1) % n;
    oldest = dp->rx.hs_times[dp->rx.hs_pos];     /* n - 1 messages before this one */
    if (oldest != 0 && now - oldest < DP_NS)
        dp->rx.under_load_until_ns = now + WGC_UNDER_LOAD_AFTER_S * DP_NS;
    return dp->rx.under_load_until_ns > now;
}

/* A fresh cookie reply nonce; getrandom once per 32 of them. 0 or -1. */
static int next_nonce(struct wgc_dp *dp, u8 nonce[24])
{
    u32 n = sizeof(dp->rx.nonces) / 24;
    if (dp->rx.nonces_used == 0 || dp->rx.nonces_used >= n) {
        if (getrandom(dp->rx.nonces, sizeof(dp->rx.nonces), GRND_NONBLOCK) !=
            (ssize_t)sizeof(dp->rx.nonces))
            return -1;
        dp->rx.nonces_used = 0;
    }
    memcpy(nonce, dp->rx.nonces + 24 * dp->rx.nonces_used, 24);
    memset(dp->rx.nonces + 24 * dp->rx.nonces_used, 0, 24);
    dp->rx.nonces_used++;
    return 0;
}

/* A sender without a cookie leaves mac2 zero (cookie.py's add_macs); a right
 * mac2 is zero with probability 2^-128, so such a message gets its cookie
 * reply without the two keyed hashes of the check. mac2 is public: the
 * branch tells nothing about the secret. */
static int zero_mac(const u8 mac[WGC_MAC_LEN])
{
    u8 any = 0;
    u32 i;
    for (i = 0; i < WGC_MAC_LEN; i++)
        any |= mac[i];
    return any == 0;
}

static u32 handshake_len(u32 type)
{
    return type == 1 ? 148 : type == 2 ? 92 : type == 3 ? WGC_COOKIE_REPLY_LEN : 0;
}

int dp_cookie_gate(struct wgc_dp *dp, struct dp_pkt *pkt, u64 now)
{
    const u8 *addr = pkt->ep.addr;
    u32 type = pkt->len >= 4 ? load32_le(pkt->buf) : 0, addr_len = pkt->ep.family == 4 ? 4 : 16;
    u8 reply[WGC_COOKIE_REPLY_LEN], nonce[24];
    int loaded;

    /* Anything malformed goes up for device.py to count. */
    if (!dp->cookie.has_key || handshake_len(type) == 0 || pkt->len != handshake_len(type))
        return DP_GATE_UP;
    loaded = under_load(dp, now);
    if (type == 3)
        return DP_GATE_UP;
    if (wgc_mac1_check(pkt->buf, pkt->len, dp->cookie.mac1_key) != 0) {
        dp->stats.hs_mac1++;
        return DP_GATE_DROP;
    }
    if (!loaded)
        return DP_GATE_PASS;
    /* A stale secret is Python's to rotate: it answers until it pushes the next. */
    if (dp->cookie.secret_set_ns == 0 ||
        now - dp->cookie.secret_set_ns > WGC_COOKIE_REFRESH_S * DP_NS)
        return DP_GATE_UP;
    if (zero_mac(pkt->buf + pkt->len - WGC_MAC_LEN) ||
        wgc_mac2_check(pkt->buf, pkt->len, dp->cookie.secret, addr, addr_len,
                       pkt->ep.port) != 0) {
        if (next_nonce(dp, nonce) != 0)
            return DP_GATE_UP;
        wgc_cookie_reply(reply, pkt->buf, pkt->len, dp->cookie.cookie_key, dp->cookie.secret,
                         addr, addr_len, pkt->ep.port, nonce);
        memcpy(pkt->buf, reply, sizeof(reply));
        pkt->len = sizeof(reply);
        pkt->src_gone = 0;
        dp->stats.hs_cookie_sent++;
        return DP_GATE_REPLY;
    }
    if (wgc_ratelimit_allow(dp->rx.limit, pkt->ep.family, addr, now) != 0) {
        dp->stats.hs_ratelimited++;
        return DP_GATE_DROP;
    }
    return DP_GATE_PASS;
}
