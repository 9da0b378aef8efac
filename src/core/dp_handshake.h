/*
 * dp_handshake.h - the responder in the RX worker (dp_handshake.c), for
 * datapath.c (the table's lifetime) and dp_recv.c (answering a batch).
 */
#ifndef WGC_DP_HANDSHAKE_H
#define WGC_DP_HANDSHAKE_H
#include "dp_batch.h"

/* wgc_dp_new / wgc_dp_free: the table for dp->max_peers slots (0 / -1). */
int dp_hs_alloc(struct wgc_dp *dp);
void dp_hs_free(struct wgc_dp *dp);
/* Under mu: Python installed our static key, so initiations are answered here. */
int dp_hs_ready(const struct wgc_dp *dp);
/* Outside mu: answer the batch's PKT_HANDSHAKE initiations; each becomes its
 * response (PKT_REPLY) and a WGC_DP_UP_HANDSHAKE upcall, or is dropped and
 * counted (hs_* stats). */
void dp_hs_respond(struct wgc_dp *dp, struct dp_batch *b, u32 n, u64 now);
#endif
