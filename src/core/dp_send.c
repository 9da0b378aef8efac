/*
 * dp_send.c - the send pipeline (kernel send.c, wireguard-go send.go): the
 * TX worker, and wgc_dp_send for the packets Python originates (keepalives,
 * staged packets), both numbering from the same counter.
 *
 * Outbound flow, one batch at a time:
 *   1. read the TUN until the batch is full; TSO super-packets are cut into
 *      segments right into the packet buffers (tun_fill)
 *   2. route by destination (allowed IPs) and choose the keypair; packets
 *      with no usable keypair go up to Python (tx_route, send_keypair)
 *   3. number each packet, copy its key and endpoint, account for it and
 *      signal a rekey when one is due (seal_prepare)
 *   4. pad (padded_len) and seal in place, one key schedule per run of
 *      one keypair (tx_pad, dp_crypt_runs)
 *   5. sendmmsg per address family from the sticky source address; a run of
 *      equal-sized datagrams to one endpoint is one UDP_SEGMENT message
 *      (tx_messages, dp_send_msgs); a source found gone is forgotten
 * wgc_dp_send runs steps 3 to 5 for one packet. The functions below come in
 * that order: the steps both senders share, the TX worker, wgc_dp_send.
 *
 * Locking: steps 2 and 3 run under dp->mu, all of a batch's packets in one
 * hold; steps 1, 4 and 5 run outside it, on the worker's own batch
 * (dp->tx.batch) and key copies. wgc_dp_send may run on any thread: it
 * holds dp->send.mu for its buffer and takes dp->mu as the worker does.
 * Nothing here allocates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>

#include "dp_batch.h"

/* ---- the steps both senders share ---- */

/* 2. Under mu: the peer's current keypair if it may still send, else NULL. */
static struct dp_keypair *send_keypair(struct dp_peer *p, u64 now)
{
    struct dp_keypair *kp = p->kp[1];
    if (kp == NULL || !kp->can_send || kp->send_counter >= WGC_REJECT_AFTER_MESSAGES ||
        now - kp->created_ns >= DP_REJECT_AFTER_TIME_NS)
        return NULL;
    return kp;
}

/* send.go's padding: to a multiple of 16, but never past the MTU. */
static u32 padded_len(u32 len, u32 mtu)
{
    u32 last, padded;
    if (mtu == 0)
        return len + (WGC_PADDING_MULTIPLE - len % WGC_PADDING_MULTIPLE) % WGC_PADDING_MULTIPLE;
    last = len > mtu ? len % mtu : len;
    padded = last + (WGC_PADDING_MULTIPLE - last % WGC_PADDING_MULTIPLE) % WGC_PADDING_MULTIPLE;
    if (padded > mtu)
        padded = mtu;
    return padded > last ? len + (padded - last) : len;
}

/* 3. Under mu: number the packet, copy key and endpoint, account for it.
 * caller_runs_timers: Python runs the timers hooks for its own sends
 * (wgc_dp_send), so only the worker's sends stamp last_*_sent_ns. */
static void seal_prepare(struct wgc_dp *dp, struct dp_peer *p, struct dp_keypair *kp,
                         struct dp_pkt *pkt, u64 now, int caller_runs_timers)
{
    u32 ev = WGC_DP_EV_ACTIVITY;

    pkt->data_len = pkt->len;
    pkt->len = padded_len(pkt->len, dp->mtu);
    pkt->counter = kp->send_counter++;
    pkt->kp_id = kp->id;
    pkt->slot = p->slot;
    pkt->ep = p->endpoint;
    pkt->src_gone = 0;
    pkt->state = PKT_SEAL;
    memcpy(pkt->key, kp->send_key, 32);
    store32_le(pkt->buf, 4);
    store32_le(pkt->buf + 4, kp->remote_index);
    store64_le(pkt->buf + 8, pkt->counter);
    p->tx_bytes += DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
    if (!caller_runs_timers) {
        p->last_auth_sent_ns = now;
        if (pkt->data_len > 0)
            p->last_data_sent_ns = now;
    }
    if ((pkt->counter >= WGC_REKEY_AFTER_MESSAGES ||
         (kp->is_initiator && now - kp->created_ns > DP_REKEY_AFTER_TIME_NS)) &&
        now >= p->rekey_signal_ns) {
        ev |= WGC_DP_EV_REKEY_SEND;
        p->rekey_signal_ns = now + DP_REKEY_SIGNAL_NS;
    }
    dp_signal(dp, p, ev);
}

/* 5. Under mu: a send found the source address gone (DHCP renew, roaming);
 * the peer sends without it until a datagram tells its new one (dp_recv.c),
 * unless its endpoint changed meanwhile (wireguard-go's clearSrcOnTx). */
static void forget_source(struct wgc_dp *dp, const struct dp_pkt *pkt)
{
    struct dp_peer *p = dp_peer_at(dp, pkt->slot);
    if (p != NULL && dp_ep_equal(&p->endpoint, &pkt->ep))
        dp_forget_source(p);
}

/* ---- the TX worker ---- */

/* 1. Cut segments of the pending super-packet into pkt[n..cap); returns the new n. */
static u32 tso_emit(struct dp_batch *b, u32 n)
{
    while (n < b->cap && b->tso.pkt != NULL) {
        struct dp_pkt *pkt = &b->pkt[n];
        pkt->len = dp_tso_next(&b->tso, pkt->buf + DP_HEADER_LEN);
        pkt->state = PKT_DROP;
        n++;
    }
    return n;
}

/* 1. One TUN read with a virtio_net_hdr into pkt[n]. A super-packet larger than
 * the buffer continues in b->super; either way it is moved to b->super
 * (segments are written over the packet buffers) and segmented from there.
 * Returns the new n, or -1 with errno from read. */
static int tun_read_vnet(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    struct dp_pkt *pkt = &b->pkt[n];
    u8 *ip = pkt->buf + DP_HEADER_LEN;
    struct iovec iov[2];
    struct dp_vnet v;
    ssize_t r;
    u32 len;

    iov[0].iov_base = pkt->buf + DP_VNET_AT;
    iov[0].iov_len = DP_VNET_LEN + dp->packet_max;
    iov[1].iov_base = b->super + dp->packet_max;
    iov[1].iov_len = DP_SUPER_LEN - dp->packet_max;
    r = readv(dp->tun_fd, iov, 2);
    if (r < 0)
        return -1;
    if (r <= DP_VNET_LEN)
        return (int)n;
    len = (u32)r - DP_VNET_LEN;
    dp_vnet_load(&v, pkt->buf + DP_VNET_AT);
    if (v.gso_type == DP_VNET_GSO_NONE) {
        if (len > dp->packet_max ||
            ((v.flags & DP_VNET_F_NEEDS_CSUM) && dp_csum_finish(&v, ip, len) != 0)) {
            b->bad_offload++;
            return (int)n;
        }
        pkt->len = len;
        pkt->state = PKT_DROP;
        return (int)n + 1;
    }
    memcpy(b->super, ip, len < dp->packet_max ? len : dp->packet_max);
    /* Segments must fit a packet buffer and the MTU padding rule's input. */
    if (dp_tso_begin(&b->tso, &v, b->super, len, dp->packet_max) != 0) {
        b->bad_offload++;
        return (int)n;
    }
    return (int)tso_emit(b, n);
}

/* 1. Plain TUN: one packet per read straight into its buffer. */
static int tun_read_plain(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    ssize_t r = read(dp->tun_fd, b->pkt[n].buf + DP_HEADER_LEN, dp->packet_max);
    if (r < 0)
        return -1;
    b->pkt[n].len = (u32)r;
    b->pkt[n].state = PKT_DROP;
    return (int)n + (r > 0);
}

/* 1. Fill the batch: the rest of a pending super-packet, then TUN reads until
 * the batch is full or the TUN is empty. The count, or -1 when the TUN is gone. */
static int tun_fill(struct wgc_dp *dp, struct dp_batch *b)
{
    u32 n = tso_emit(b, 0);
    while (n < b->cap && b->tso.pkt == NULL) {
        int r = dp->flags & WGC_DP_VNET_HDR ? tun_read_vnet(dp, b, n) : tun_read_plain(dp, b, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || n > 0)
                break;
            return -1;
        }
        n = (u32)r;
    }
    return (int)n;
}

/* 2. Under mu: route each packet; seal_prepare it, upcall it or drop it. */
static void tx_route(struct wgc_dp *dp, struct dp_batch *b, u32 n, u64 now)
{
    u32 i;
    dp->stats.tun_bad_offload += b->bad_offload;
    b->bad_offload = 0;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        const u8 *ip = pkt->buf + DP_HEADER_LEN;
        u8 version = ip[0] >> 4, family;
        struct dp_peer *p;
        struct dp_keypair *kp;

        if (version == 4 && pkt->len >= 20) {
            family = 4;
        } else if (version == 6 && pkt->len >= 40) {
            family = 6;
        } else {
            dp->stats.tun_not_ip++;
            continue;
        }
        p = dp_peer_at(dp, dp_lpm_lookup(dp->lpm, family, ip + (family == 4 ? 16 : 24)));
        if (p == NULL) {
            dp->stats.tun_no_route++;
        } else if ((kp = send_keypair(p, now)) == NULL) {
            /* Python stages it and starts a handshake. */
            dp_upcall(dp, WGC_DP_UP_TUN, ip, pkt->len, NULL);
        } else if (p->endpoint.family == 0) {
            dp->stats.no_endpoint++;
        } else {
            seal_prepare(dp, p, kp, pkt, now, 0);
        }
    }
}

/* 4. Zero the padding seal_prepare added. */
static void tx_pad(struct dp_batch *b, u32 n)
{
    u32 i;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        if (pkt->state == PKT_SEAL)
            memset(pkt->buf + DP_HEADER_LEN + pkt->data_len, 0, pkt->len - pkt->data_len);
    }
}

static u32 wire_len(const struct dp_pkt *pkt)
{
    return DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
}

/* 5. Messages for the sealed packets of one family, in order. With UDP GSO a
 * run of packets to the same endpoint, all of the first one's size but the
 * last (which may be shorter), becomes one message. Returns the count. */
static u32 tx_messages(struct wgc_dp *dp, struct dp_batch *b, u32 n, u8 family)
{
    u32 m = 0, k = 0, i = 0, gso = dp->tx.udp_gso;

    while (i < n) {
        struct dp_pkt *first = &b->pkt[i];
        u32 size, total, segs = 1, j;
        if (first->state != PKT_SEAL || first->ep.family != family) {
            i++;
            continue;
        }
        size = total = wire_len(first);
        b->iov[k].iov_base = first->buf;
        b->iov[k].iov_len = size;
        for (j = i + 1; gso && j < n && segs < DP_UDP_GSO_SEGS; j++) {
            struct dp_pkt *pkt = &b->pkt[j];
            u32 len = wire_len(pkt);
            if (pkt->state != PKT_SEAL || pkt->ep.family != family)
                continue;
            if (len > size || total + len > DP_UDP_GSO_BYTES ||
                !dp_ep_equal(&pkt->ep, &first->ep))
                break;
            b->iov[k + segs].iov_base = pkt->buf;
            b->iov[k + segs].iov_len = len;
            segs++;
            total += len;
            if (len < size) {
                j++;
                break;      /* a shorter datagram ends the run */
            }
        }
        dp_fill_msg(&b->msgs[m].msg_hdr, &b->names[m], &b->cmsg[m], &b->iov[k], segs,
                    &first->ep, segs > 1 ? size : 0);
        b->msg_pkt[m] = i;
        b->msg_segs[m++] = segs;
        k += segs;
        /* Packets skipped inside the run belong to the other family. */
        i = segs > 1 ? j : i + 1;
    }
    return m;
}

/* 5. Send the batch, then tell the shared state what the sends learned. */
static void tx_send(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    int had_gso = dp->tx.udp_gso, src_gone = 0;
    u32 failed = 0, i;
    u8 family;

    for (family = 4; family <= 6; family += 2) {
        u32 m = tx_messages(dp, b, n, family);
        if (m > 0)
            failed += dp_send_msgs(b, dp->udp_fd[family == 6], m, &dp->tx.udp_gso);
    }
    for (i = 0; i < n; i++)
        src_gone |= b->pkt[i].state == PKT_SEAL && b->pkt[i].src_gone;
    if (failed == 0 && had_gso == dp->tx.udp_gso && !src_gone)
        return;
    pthread_mutex_lock(&dp->mu);
    dp->stats.send_errors += failed;
    if (had_gso != dp->tx.udp_gso)
        dp->stats.udp_gso_refused = 1;
    for (i = 0; src_gone && i < n; i++)
        if (b->pkt[i].state == PKT_SEAL && b->pkt[i].src_gone)
            forget_source(dp, &b->pkt[i]);
    pthread_mutex_unlock(&dp->mu);
}

void *dp_tx_main(void *arg)
{
    struct wgc_dp *dp = arg;
    struct dp_batch *b = dp->tx.batch;
    struct pollfd fds[2];

    fds[0].fd = dp->stop_fd;
    fds[0].events = POLLIN;
    fds[1].fd = dp->tun_fd;
    fds[1].events = POLLIN;
    b->tso.pkt = NULL;
    for (;;) {
        int n;
        /* A super-packet cut short by a full batch continues without waiting. */
        if (b->tso.pkt == NULL) {
            if (poll(fds, 2, -1) < 0 && errno != EINTR)
                break;
            if (fds[0].revents)
                break;
            if (!fds[1].revents)
                continue;
        }
        n = tun_fill(dp, b);
        if (n < 0) {
            pthread_mutex_lock(&dp->mu);
            dp->stats.tun_gone = 1;
            pthread_mutex_unlock(&dp->mu);
            dp_notify(dp->event_fd);
            break;
        }
        pthread_mutex_lock(&dp->mu);
        tx_route(dp, b, (u32)n, dp_now_ns());
        pthread_mutex_unlock(&dp->mu);
        tx_pad(b, (u32)n);
        dp_crypt_runs(b, (u32)n, PKT_SEAL);
        tx_send(dp, b, (u32)n);
    }
    return NULL;
}

/* ---- wgc_dp_send: one packet from Python ---- */

/* Steps 3 to 5 under send.mu, in dp->send.buf. */
static int send_one(struct wgc_dp *dp, i32 slot, const u8 *packet, size_t len)
{
    struct dp_pkt pkt;
    struct iovec iov;
    struct dp_peer *p;
    struct dp_keypair *kp = NULL;
    u64 now = dp_now_ns();
    int rc;

    memset(&pkt, 0, sizeof(pkt));
    pkt.buf = dp->send.buf;
    pkt.len = (u32)len;
    if (len > 0)
        memcpy(pkt.buf + DP_HEADER_LEN, packet, len);
    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p != NULL && p->endpoint.family != 0)
        kp = send_keypair(p, now);
    if (kp != NULL) {
        memset(pkt.buf + DP_HEADER_LEN + len, 0, padded_len((u32)len, dp->mtu) - len);
        seal_prepare(dp, p, kp, &pkt, now, 1);
    }
    pthread_mutex_unlock(&dp->mu);
    if (kp == NULL)
        return -1;
    wgc_wg_seal(pkt.buf + DP_HEADER_LEN, pkt.buf + DP_HEADER_LEN, pkt.len, NULL, 0,
                pkt.counter, pkt.key);
    wgc_wipe(pkt.key, 32);
    iov.iov_base = pkt.buf;
    iov.iov_len = wire_len(&pkt);
    rc = dp_send_datagram(dp->udp_fd[pkt.ep.family == 6], &iov, &pkt);
    if (pkt.src_gone) {
        pthread_mutex_lock(&dp->mu);
        forget_source(dp, &pkt);
        pthread_mutex_unlock(&dp->mu);
    }
    return rc;
}

int wgc_dp_send(struct wgc_dp *dp, int32_t slot, const uint8_t *packet, size_t len)
{
    int rc;

    if (len > dp->packet_max)
        return -1;
    pthread_mutex_lock(&dp->send.mu);
    rc = send_one(dp, slot, packet, len);
    pthread_mutex_unlock(&dp->send.mu);
    return rc;
}
