/*
 * dp_event.c - what flows back to Python: per-peer event bits and the
 * queue of peers that have some, the upcall ring (datagrams and packets C
 * leaves to Python), the drop counters, and when event_fd becomes readable.
 * The workers call dp_signal and dp_upcall under dp->mu; Python's calls
 * here take it themselves.
 */
#define _GNU_SOURCE
#include <string.h>

#include "datapath.h"

/* Under mu: add events to p and queue it for wgc_dp_poll (once). Urgent
 * events wake Python at once; activity only if Python armed it. */
void dp_signal(struct wgc_dp *dp, struct dp_peer *p, u32 events)
{
    u32 old = p->events;
    int wake = (events & DP_URGENT & ~old) != 0;

    p->events = old | events;
    if (!p->queued) {
        p->queued = 1;
        dp->pending[dp->n_pending++] = (u32)p->slot;
    }
    if ((events & WGC_DP_EV_ACTIVITY) && dp->activity_armed) {
        dp->activity_armed = 0;
        wake = 1;
    }
    if (wake)
        dp_notify(dp->event_fd);
}

/* Under mu: a removed peer leaves the queue. */
void dp_unqueue(struct wgc_dp *dp, i32 slot)
{
    u32 i, j;
    for (i = j = 0; i < dp->n_pending; i++)
        if (dp->pending[i] != (u32)slot)
            dp->pending[j++] = dp->pending[i];
    dp->n_pending = j;
}

/* Under mu: copy a datagram (with its addresses) or a packet into the ring;
 * counted and dropped when it is full. */
void dp_upcall(struct wgc_dp *dp, u32 kind, const u8 *data, u32 len,
               const struct wgc_dp_endpoint *from)
{
    struct dp_upcall_rec *rec;

    if (len > dp->packet_max) {
        dp->stats.upcall_too_big++;
        return;
    }
    if (dp->ring_count == WGC_DP_UPCALLS) {
        dp->stats.upcall_full++;
        return;
    }
    rec = &dp->ring[(dp->ring_head + dp->ring_count) % WGC_DP_UPCALLS];
    rec->kind = kind;
    rec->len = len;
    if (from != NULL)
        rec->from = *from;
    else
        memset(&rec->from, 0, sizeof(rec->from));
    memcpy(rec->data, data, len);
    if (dp->ring_count++ == 0)
        dp_notify(dp->event_fd);
}

/* ---- Python's side ---- */

int wgc_dp_event_fd(const struct wgc_dp *dp)
{
    return dp->event_fd;
}

size_t wgc_dp_poll(struct wgc_dp *dp, int32_t *peers, size_t cap)
{
    size_t n, i;

    pthread_mutex_lock(&dp->mu);
    n = dp->n_pending < cap ? dp->n_pending : cap;
    for (i = 0; i < n; i++) {
        peers[i] = (i32)dp->pending[i];
        dp->peers[dp->pending[i]]->queued = 0;
    }
    memmove(dp->pending, dp->pending + n, (dp->n_pending - n) * sizeof(*dp->pending));
    dp->n_pending -= (u32)n;
    pthread_mutex_unlock(&dp->mu);
    return n;
}

void wgc_dp_arm(struct wgc_dp *dp)
{
    pthread_mutex_lock(&dp->mu);
    dp->activity_armed = 1;
    pthread_mutex_unlock(&dp->mu);
}

size_t wgc_dp_upcalls(struct wgc_dp *dp, struct wgc_dp_upcall *out, size_t max,
                      uint8_t *buf, size_t buf_len)
{
    size_t n = 0, used = 0;

    pthread_mutex_lock(&dp->mu);
    while (n < max && dp->ring_count > 0) {
        struct dp_upcall_rec *rec = &dp->ring[dp->ring_head];
        if (buf_len - used < rec->len)
            break;
        memcpy(buf + used, rec->data, rec->len);
        if (rec->kind == WGC_DP_UP_HANDSHAKE)
            wgc_wipe(rec->data, rec->len);      /* it holds session keys */
        out[n].kind = rec->kind;
        out[n].len = rec->len;
        out[n].data = buf + used;
        out[n].from = rec->from;
        used += rec->len;
        n++;
        dp->ring_head = (dp->ring_head + 1) % WGC_DP_UPCALLS;
        dp->ring_count--;
    }
    pthread_mutex_unlock(&dp->mu);
    return n;
}

void wgc_dp_get_stats(struct wgc_dp *dp, struct wgc_dp_stats *out)
{
    pthread_mutex_lock(&dp->mu);
    *out = dp->stats;
    pthread_mutex_unlock(&dp->mu);
}
