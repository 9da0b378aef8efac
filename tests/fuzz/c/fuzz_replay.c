/*
 * fuzz_replay.c - libFuzzer target for wgc_replay_check against a naive model.
 *
 * Invariant: a counter is accepted exactly when it is below REJECT_AFTER_MESSAGES,
 * not seen before, and either newer than the newest accepted one or at most
 * WGC_REPLAY_WINDOW behind it (the kernel's and wireguard-go's window).
 * Input: records of op[1] value[8]: op bit 0 chooses an absolute counter or a
 * signed step from the newest one (so the fuzzer stays near the window edges).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgcore.h"

#define MAX_OPS 4096

static void check(int ok) { if (!ok) abort(); }

static uint64_t seen[MAX_OPS];
static size_t n_seen;

static int model(uint64_t *last, int *any, uint64_t c)
{
    size_t i;
    if (c >= WGC_REJECT_AFTER_MESSAGES)
        return -1;
    if (*any && c <= *last && *last - c > WGC_REPLAY_WINDOW)
        return -1;
    for (i = 0; i < n_seen; i++)
        if (seen[i] == c)
            return -1;
    seen[n_seen++] = c;
    if (!*any || c > *last)
        *last = c;
    *any = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wgc_replay r;
    uint64_t last = 0;
    int any = 0;
    size_t pos;

    wgc_replay_init(&r);
    n_seen = 0;
    for (pos = 0; pos + 9 <= size && n_seen < MAX_OPS; pos += 9) {
        uint64_t v, c;
        memcpy(&v, data + pos + 1, 8);
        if (data[pos] & 1) {
            c = v;
        } else {
            int64_t step = (int64_t)(v % 20000) - 10000;
            c = last + (uint64_t)step;
            if (step < 0 && (uint64_t)(-step) > last)
                c = 0;
        }
        /* The model starts with "nothing seen, last = 0" as the C window does. */
        if (!any) {
            any = 1;
            last = 0;
        }
        check(wgc_replay_check(&r, c) == model(&last, &any, c));
    }
    return 0;
}
