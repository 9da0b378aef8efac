/*
 * fuzz_batch.c - libFuzzer target for wgc_wg_open_batch (and wgc_wg_seal_batch).
 *
 * Invariant: each item's status is 0 exactly when it is a genuine seal under the
 * batch key and its counter, then its plaintext is exact; forged, tampered or
 * short items get -1 and their bytes are untouched; the return value counts the
 * zeros; the result equals opening each item alone with wgc_wg_open.
 * Input: key[32], then records: flags[1] len[2] counter[8] bytes[len].
 * flags bit 0: seal the bytes first (a valid item); bit 1: then flip one bit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"

#define MAX_ITEMS 48
#define MAX_LEN 2048

static void check(int ok) { if (!ok) abort(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wgc_batch_item items[MAX_ITEMS];
    uint8_t *bufs[MAX_ITEMS], *orig[MAX_ITEMS], *plain[MAX_ITEMS];
    int expect[MAX_ITEMS];
    const uint8_t *key;
    size_t n = 0, pos = 32, i, ok = 0, got;
    uint8_t tmp[MAX_LEN + 16];

    if (size < 32)
        return 0;
    key = data;
    while (n < MAX_ITEMS && pos + 11 <= size) {
        uint8_t flags = data[pos];
        size_t len = ((size_t)data[pos + 1] | (size_t)data[pos + 2] << 8) % MAX_LEN;
        uint64_t counter;
        memcpy(&counter, data + pos + 3, 8);
        pos += 11;
        if (len > size - pos)
            len = size - pos;
        bufs[n] = malloc(len + 16 + 1);
        orig[n] = malloc(len + 16 + 1);
        plain[n] = malloc(len + 1);
        check(bufs[n] && orig[n] && plain[n]);
        memcpy(plain[n], data + pos, len);
        pos += len;
        items[n].counter = counter;
        items[n].status = 12345;
        if (flags & 1) {
            memcpy(bufs[n], plain[n], len);
            wgc_wg_seal(bufs[n], bufs[n], len, NULL, 0, counter, key);
            items[n].len = (uint32_t)(len + 16);
            expect[n] = 0;
            if (flags & 2) {
                bufs[n][(flags >> 2) % (len + 16)] ^= (uint8_t)(1u << (counter & 7));
                expect[n] = -1;
            }
        } else {
            memcpy(bufs[n], plain[n], len);
            items[n].len = (uint32_t)len;
            expect[n] = -2;     /* unknown: decided by wgc_wg_open below */
        }
        items[n].data = bufs[n];
        memcpy(orig[n], bufs[n], items[n].len);
        n++;
    }
    if (n == 0)
        return 0;
    /* The reference: each item alone. */
    for (i = 0; i < n; i++) {
        int r = items[i].len >= 16 ?
            wgc_wg_open(tmp, orig[i], items[i].len, NULL, 0, items[i].counter, key) : -1;
        if (expect[i] == -2)
            expect[i] = r;
        check(r == expect[i]);
    }
    got = wgc_wg_open_batch(items, n, key);
    for (i = 0; i < n; i++) {
        check(items[i].status == expect[i]);
        if (expect[i] == 0) {
            ok++;
            wgc_wg_open(tmp, orig[i], items[i].len, NULL, 0, items[i].counter, key);
            check(memcmp(items[i].data, tmp, items[i].len - 16) == 0);
        } else {
            check(memcmp(items[i].data, orig[i], items[i].len) == 0);
        }
    }
    check(got == ok);
    /* Seal batch round trip on the opened items. */
    for (i = 0; i < n; i++)
        if (expect[i] == 0)
            items[i].len -= 16;
    for (i = 0; i < n; i++) {
        if (expect[i] != 0)
            items[i].len = 0;
    }
    check(wgc_wg_seal_batch(items, n, key) == n);
    for (i = 0; i < n; i++)
        if (expect[i] == 0)
            check(memcmp(items[i].data, orig[i], items[i].len) == 0);
    for (i = 0; i < n; i++) {
        free(bufs[i]);
        free(orig[i]);
        free(plain[i]);
    }
    return 0;
}
