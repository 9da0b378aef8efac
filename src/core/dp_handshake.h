/*
 * dp_handshake.h - the responder and its handshake workers (dp_handshake.c), for
 * datapath.c (the table's and the workers' lifetime) and dp_recv.c (queueing).
 */
#ifndef WGC_DP_HANDSHAKE_H
#define WGC_DP_HANDSHAKE_H
#include "dp_batch.h"

/* wgc_dp_new / wgc_dp_free: the table for dp->max_peers slots (0 / -1). */
int dp_hs_alloc(struct wgc_dp *dp);
void dp_hs_free(struct wgc_dp *dp);
/* Under mu: Python installed our static key, so initiations are answered here. */
int dp_hs_ready(const struct wgc_dp *dp);
/* RX worker, outside mu: queue the batch's PKT_HANDSHAKE initiations for the
 * handshake workers (hs_queue_full counts what did not fit). */
void dp_hs_queue(struct wgc_dp *dp, struct dp_batch *b, u32 n);
/* A handshake worker's body: each initiation becomes its response and a
 * WGC_DP_UP_HANDSHAKE upcall, or is dropped and counted (hs_* stats). */
void *dp_hs_main(void *arg);
/* How many handshake workers: one per online CPU, at most DP_HS_THREADS_MAX. */
u32 dp_hs_threads(void);
/* Python's thread: stopping 1 makes the workers return (to be joined), 0
 * before they start again; both empty the queue. */
void dp_hs_stop(struct wgc_dp *dp, int stopping);
#endif
