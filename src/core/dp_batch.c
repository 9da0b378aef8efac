/*
 * dp_batch.c - a worker's batch (dp_batch.h): made once by dp_batch_new, so
 * the workers never allocate, and sealed or opened in runs of packets that
 * share a key (one key schedule per run).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "dp_batch.h"

struct dp_batch *dp_batch_new(u32 packet_max, int tx)
{
    struct dp_batch *b = calloc(1, sizeof(*b));
    u32 n_msgs;
    size_t mem;
    if (b == NULL)
        return NULL;
    b->buf_len = packet_max + DP_BUF_EXTRA;
    b->cap = tx ? DP_TX_SEGS : DP_RX_PKTS;
    n_msgs = tx ? DP_TX_SEGS : DP_RX_MSGS;
    /* RX: room for either layout (wgc_dp_start picks one); untouched pages cost no RSS. */
    mem = tx ? (size_t)DP_TX_SEGS * b->buf_len : (size_t)DP_GRO_BUFS * DP_GRO_BUF_LEN;
    if (!tx && mem < (size_t)DP_RX_MSGS * b->buf_len)
        mem = (size_t)DP_RX_MSGS * b->buf_len;
    b->pkt = calloc(b->cap, sizeof(*b->pkt));
    b->items = calloc(b->cap, sizeof(*b->items));
    b->msgs = calloc(n_msgs, sizeof(*b->msgs));
    /* crypt_runs indexes msg_pkt by packet too, so it has cap entries. */
    b->msg_pkt = calloc(b->cap, sizeof(*b->msg_pkt));
    b->members = calloc(b->cap, sizeof(*b->members));
    b->msg_segs = calloc(n_msgs, sizeof(*b->msg_segs));
    /* RX: the receive iovecs follow the TUN writes' (dp_batch_recv_layout). */
    b->iov = calloc(tx ? b->cap : b->cap + n_msgs, sizeof(*b->iov));
    b->names = calloc(n_msgs, sizeof(*b->names));
    b->cmsg = calloc(n_msgs, sizeof(*b->cmsg));
    b->mem = malloc(mem);
    b->super = tx ? malloc(DP_SUPER_LEN + DP_VNET_LEN) : NULL;
    if (!b->pkt || !b->items || !b->msgs || !b->msg_pkt || !b->msg_segs || !b->members ||
        !b->iov || !b->names || !b->cmsg || !b->mem || (tx && !b->super)) {
        dp_batch_free(b);
        return NULL;
    }
    if (tx) {
        u32 i;
        for (i = 0; i < b->cap; i++)
            b->pkt[i].buf = b->mem + (size_t)i * b->buf_len;
    }
    return b;
}

/* RX: carve mem into receive buffers for the chosen layout and point the
 * recvmmsg headers at them, once: a receive rewrites only the lengths. */
void dp_batch_recv_layout(struct dp_batch *b, int gro)
{
    u32 i;
    b->n_recv = gro ? DP_GRO_BUFS : DP_RX_MSGS;
    b->recv_len = gro ? DP_GRO_BUF_LEN : b->buf_len;
    b->recv_iov = b->iov + b->cap;
    for (i = 0; i < b->n_recv; i++) {
        struct msghdr *h = &b->msgs[i].msg_hdr;
        b->recv_iov[i].iov_base = b->mem + (size_t)i * b->recv_len;
        b->recv_iov[i].iov_len = b->recv_len;
        memset(h, 0, sizeof(*h));
        h->msg_name = &b->names[i];
        h->msg_iov = &b->recv_iov[i];
        h->msg_iovlen = 1;
        h->msg_control = b->cmsg[i].bytes;
    }
    b->n_dirty = b->n_recv;
}

void dp_batch_free(struct dp_batch *b)
{
    if (b == NULL)
        return;
    free(b->pkt);
    free(b->items);
    free(b->msgs);
    free(b->msg_pkt);
    free(b->msg_segs);
    free(b->members);
    free(b->iov);
    free(b->names);
    free(b->cmsg);
    free(b->mem);
    free(b->super);
    free(b);
}

/* Seal (want PKT_SEAL) or open (PKT_OPEN) every packet in state want, one
 * batch call per run of packets of one keypair (kp_id: one key per install);
 * wipes the key copies.
 * Returns how many failed to open (a failed one becomes PKT_DROP). */
u32 dp_crypt_runs(struct dp_batch *b, u32 n, int want)
{
    u32 i = 0, failed = 0;

    while (i < n) {
        u32 j, m = 0;
        if (b->pkt[i].state != want) {
            i++;
            continue;
        }
        for (j = i; j < n; j++) {
            struct dp_pkt *pkt = &b->pkt[j];
            if (pkt->state != want)
                continue;
            if (pkt->kp_id != b->pkt[i].kp_id)
                break;
            b->items[m].data = pkt->buf + DP_HEADER_LEN;
            b->items[m].len = pkt->len;
            b->items[m].counter = pkt->counter;
            b->msg_pkt[m++] = j;
        }
        if (want == PKT_SEAL) {
            wgc_wg_seal_batch(b->items, m, b->pkt[i].key);
        } else {
            u32 k;
            wgc_wg_open_batch(b->items, m, b->pkt[i].key);
            for (k = 0; k < m; k++)
                if (b->items[k].status != 0) {
                    b->pkt[b->msg_pkt[k]].state = PKT_DROP;
                    failed++;
                }
        }
        i = j;      /* the first packet under another key, or n */
    }
    for (i = 0; i < n; i++)
        wgc_wipe(b->pkt[i].key, 32);
    return failed;
}
