/*
 * replay.c - the receive-side replay window (RFC 6479), shaped as the Linux
 * kernel's counter_validate and wireguard-go's replay.Filter: a ring of 128
 * 64-bit blocks where bit (c mod 64) of block (c / 64 mod 128) records c.
 * Moving the window forward clears whole blocks, so one block of the ring
 * is always partly stale and 8192 - 64 = 8128 counters are usable.
 * Counters are public, so plain branches are fine here.
 */
#include "wgcore.h"
#include "util.h"

#define BLOCK_BITS_LOG 6
#define BLOCK_BITS (1u << BLOCK_BITS_LOG)

void wgc_replay_init(struct wgc_replay *r)
{
    int i;

    r->last = 0;
    for (i = 0; i < WGC_REPLAY_BLOCKS; i++)
        r->bitmap[i] = 0;
}

/* Clears the blocks strictly after the one holding r->last up to the one
 * holding counter (at most the whole ring), then makes counter the newest. */
static void advance(struct wgc_replay *r, u64 counter)
{
    u64 current = r->last >> BLOCK_BITS_LOG;
    u64 diff = (counter >> BLOCK_BITS_LOG) - current;
    u64 i;

    if (diff > WGC_REPLAY_BLOCKS)
        diff = WGC_REPLAY_BLOCKS;
    for (i = 1; i <= diff; i++)
        r->bitmap[(current + i) % WGC_REPLAY_BLOCKS] = 0;
    r->last = counter;
}

int wgc_replay_check(struct wgc_replay *r, uint64_t counter)
{
    u64 *block, bit;

    if (counter >= WGC_REJECT_AFTER_MESSAGES)
        return -1;
    if (counter > r->last)
        advance(r, counter);
    else if (r->last - counter > WGC_REPLAY_WINDOW)
        return -1; /* behind the window */

    block = &r->bitmap[(counter >> BLOCK_BITS_LOG) % WGC_REPLAY_BLOCKS];
    bit = (u64)1 << (counter & (BLOCK_BITS - 1));
    if (*block & bit)
        return -1;
    *block |= bit;
    return 0;
}
