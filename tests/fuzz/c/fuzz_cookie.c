/*
 * fuzz_cookie.c - libFuzzer target for the RX worker's handshake gate
 * primitives (cookie.c): mac1/mac2 checks and cookie replies on any bytes,
 * and the per-source rate limit against a naive model.
 *
 * Invariants: a message whose mac1 we set checks, one bit flipped in the
 * covered bytes does not; a cookie reply opens under the cookie key with the
 * message's mac1 as AD, and the cookie inside makes a mac2 that checks for
 * that source and port only; the rate limit passes exactly what one token
 * bucket per source (ratelimiter.py) passes.
 * Input: key[32] secret[32] msg_len[1] msg[msg_len] then records of
 * src[1] step_us[2] for the rate limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"

#define COST (1000000000ULL / WGC_RATELIMIT_PACKETS_PER_SECOND)
#define MAX_TOKENS (COST * WGC_RATELIMIT_BURST)
#define SOURCES 8

static void check(int ok) { if (!ok) abort(); }

static struct wgc_ratelimit limit;

static void macs(const uint8_t *in, size_t len, const uint8_t key[32], const uint8_t secret[32])
{
    uint8_t msg[256 + 32], mac1_key[32], cookie_key[32], reply[64], cookie[16];
    const uint8_t addr[4] = {198, 51, 100, 7};
    size_t n = len + 32;

    memcpy(msg, in, len);
    memset(msg + len, 0, 32);
    wgc_cookie_keys(mac1_key, cookie_key, key);
    (void)wgc_mac1_check(in, len, mac1_key);            /* any bytes: no crash */
    wgc_blake2s(msg + len, 16, msg, len, mac1_key, 32);
    check(wgc_mac1_check(msg, n, mac1_key) == 0);
    msg[len ? in[0] % len : len] ^= 0x10;
    check(wgc_mac1_check(msg, n, mac1_key) == -1);
    msg[len ? in[0] % len : len] ^= 0x10;
    if (len < 8)
        return;
    check(wgc_cookie_reply(reply, msg, n, cookie_key, secret, addr, 4, 51820, secret) == 0);
    check(wgc_xaead_open(cookie, reply + 32, 32, msg + len, 16, reply + 8, cookie_key) == 0);
    check(memcmp(reply + 4, msg + 4, 4) == 0);
    wgc_blake2s(msg + len + 16, 16, msg, len + 16, cookie, 16);
    check(wgc_mac2_check(msg, n, secret, addr, 4, 51820) == 0);
    check(wgc_mac2_check(msg, n, secret, addr, 4, 51821) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t tokens[SOURCES], last[SOURCES], now = 1000000000ULL;
    int seen[SOURCES] = {0};
    size_t pos, len;

    if (size < 65)
        return 0;
    len = data[64];
    if (len > size - 65)
        len = size - 65;
    macs(data + 65, len, data, data + 32);

    wgc_ratelimit_init(&limit, 12345);
    for (pos = 65 + len; pos + 3 <= size; pos += 3) {
        uint8_t src[4] = {10, 0, 0, (uint8_t)(data[pos] % SOURCES)};
        unsigned s = src[3];
        int want;
        now += ((uint64_t)data[pos + 1] | (uint64_t)data[pos + 2] << 8) * 1000;
        if (!seen[s]) {
            seen[s] = 1;
            tokens[s] = MAX_TOKENS - COST;
            want = 0;
        } else {
            uint64_t t = tokens[s] + (now - last[s]);
            if (t > MAX_TOKENS)
                t = MAX_TOKENS;
            want = t >= COST ? 0 : -1;
            tokens[s] = want == 0 ? t - COST : t;
        }
        last[s] = now;
        check(wgc_ratelimit_allow(&limit, 4, src, now) == want);
    }
    return 0;
}
