/*
 * dp_lpm.c - the allowed-IPs table mirrored from Python, for the workers:
 * longest-prefix match by destination (TX routing) and by source (RX check).
 *
 * Not a trie: a sorted array, one run per (family, prefix length), longest
 * first; a lookup masks the address to each length in use and binary-searches
 * that run. Routers have a few prefix lengths and a few thousand prefixes, so
 * that is a handful of probes, and the whole table is one allocation that is
 * built outside the lock and swapped in (rebuild-and-swap).
 */
#define _GNU_SOURCE /* struct mmsghdr in datapath.h */
#include <stdlib.h>

#include "datapath.h"

static u64 load64_be(const u8 *p)
{
    u64 v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The address as a 128-bit big-endian key; IPv4 sits in the top 32 bits. */
static void to_key(u8 family, const u8 *addr, u64 *hi, u64 *lo)
{
    if (family == 4) {
        *hi = (u64)((u32)addr[0] << 24 | (u32)addr[1] << 16 | (u32)addr[2] << 8 | addr[3]) << 32;
        *lo = 0;
    } else {
        *hi = load64_be(addr);
        *lo = load64_be(addr + 8);
    }
}

static u64 mask64(unsigned bits)
{
    return bits == 0 ? 0 : bits >= 64 ? ~(u64)0 : ~(u64)0 << (64 - bits);
}

static void mask_key(unsigned len, u64 *hi, u64 *lo)
{
    *hi &= mask64(len);
    *lo &= len > 64 ? mask64(len - 64) : 0;
}

static int cmp_key(u64 ahi, u64 alo, u64 bhi, u64 blo)
{
    if (ahi != bhi)
        return ahi < bhi ? -1 : 1;
    return alo < blo ? -1 : alo > blo;
}

/* Order: family, longer prefix first, then key (so each run is searchable). */
static int cmp_route(const void *a, const void *b)
{
    const struct dp_route *x = a, *y = b;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return cmp_key(x->hi, x->lo, y->hi, y->lo);
}

static void build_groups(struct dp_lpm *t)
{
    u32 i;
    t->n_groups = 0;
    for (i = 0; i < t->n_routes; i++) {
        const struct dp_route *r = &t->routes[i];
        struct dp_group *g = t->n_groups ? &t->groups[t->n_groups - 1] : NULL;
        if (g == NULL || g->family != r->family || g->len != r->len) {
            g = &t->groups[t->n_groups++];
            g->start = i;
            g->count = 0;
            g->family = r->family;
            g->len = r->len;
        }
        g->count++;
    }
}

struct dp_lpm *dp_lpm_build(const struct wgc_dp_prefix *p, size_t n)
{
    struct dp_lpm *t;
    size_t i;

    if (n > 0xffffffffu / 2)
        return NULL;
    t = malloc(sizeof(*t) + n * sizeof(struct dp_route));
    if (t == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        struct dp_route *r = &t->routes[i];
        if ((p[i].family != 4 && p[i].family != 6) ||
            p[i].len > (p[i].family == 4 ? 32 : 128) || p[i].peer < 0) {
            free(t);
            return NULL;
        }
        r->family = p[i].family;
        r->len = p[i].len;
        r->peer = p[i].peer;
        to_key(r->family, p[i].addr, &r->hi, &r->lo);
        mask_key(r->len, &r->hi, &r->lo);
    }
    t->n_routes = (u32)n;
    qsort(t->routes, n, sizeof(struct dp_route), cmp_route);
    build_groups(t);
    return t;
}

static i32 search_group(const struct dp_lpm *t, const struct dp_group *g, u64 hi, u64 lo)
{
    u32 low = g->start, high = g->start + g->count;
    while (low < high) {
        u32 mid = low + (high - low) / 2;
        int c = cmp_key(t->routes[mid].hi, t->routes[mid].lo, hi, lo);
        if (c == 0)
            return t->routes[mid].peer;
        if (c < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return -1;
}

i32 dp_lpm_lookup(const struct dp_lpm *t, u8 family, const u8 *addr)
{
    u64 hi, lo;
    u32 g;

    if (t == NULL)
        return -1;
    to_key(family, addr, &hi, &lo);
    for (g = 0; g < t->n_groups; g++) {
        const struct dp_group *grp = &t->groups[g];
        u64 mhi = hi, mlo = lo;
        i32 peer;
        if (grp->family != family)
            continue;
        mask_key(grp->len, &mhi, &mlo);
        peer = search_group(t, grp, mhi, mlo);
        /* A removed peer's routes read -1 (dp_lpm_forget_peer): no match,
         * exactly as if Python had already pushed the table without them. */
        if (peer >= 0)
            return peer;
    }
    return -1;
}

void dp_lpm_forget_peer(struct dp_lpm *t, i32 peer)
{
    u32 i;
    if (t == NULL)
        return;
    for (i = 0; i < t->n_routes; i++)
        if (t->routes[i].peer == peer)
            t->routes[i].peer = -1;
}
