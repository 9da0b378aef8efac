/*
 * dp_tx.c - the TX worker (kernel send.c, wireguard-go send.go): read
 * packets from the TUN (TSO super-packets are cut into segments right into
 * the packet buffers) until DP_TX_SEGS; under mu route them, reserve
 * counters and copy keys and endpoints; outside it pad, seal in place (one
 * key schedule per run of packets under the same keypair) and sendmmsg per
 * address family with the sticky source address, a run of equal-sized
 * datagrams to one endpoint as one UDP_SEGMENT message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "datapath.h"

/* Cut segments of the pending super-packet into pkt[n..cap); returns the new n. */
static u32 tso_emit(struct dp_io *io, u32 n)
{
    while (n < io->cap && io->tso.pkt != NULL) {
        struct dp_pkt *pkt = &io->pkt[n];
        pkt->len = dp_tso_next(&io->tso, pkt->buf + DP_HEADER_LEN);
        pkt->state = PKT_DROP;
        n++;
    }
    return n;
}

/* One TUN read with a virtio_net_hdr into pkt[n]. A super-packet larger than
 * the buffer continues in io->super; either way it is moved to io->super
 * (segments are written over the packet buffers) and segmented from there.
 * Returns the new n, or -1 with errno from read. */
static int tun_read_vnet(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    struct dp_pkt *pkt = &io->pkt[n];
    u8 *ip = pkt->buf + DP_HEADER_LEN;
    struct iovec iov[2];
    struct dp_vnet v;
    ssize_t r;
    u32 len;

    iov[0].iov_base = pkt->buf + DP_VNET_AT;
    iov[0].iov_len = DP_VNET_LEN + dp->packet_max;
    iov[1].iov_base = io->super + dp->packet_max;
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
            io->bad_offload++;
            return (int)n;
        }
        pkt->len = len;
        pkt->state = PKT_DROP;
        return (int)n + 1;
    }
    memcpy(io->super, ip, len < dp->packet_max ? len : dp->packet_max);
    /* Segments must fit a packet buffer and the MTU padding rule's input. */
    if (dp_tso_begin(&io->tso, &v, io->super, len, dp->packet_max) != 0) {
        io->bad_offload++;
        return (int)n;
    }
    return (int)tso_emit(io, n);
}

/* Plain TUN: one packet per read straight into its buffer. */
static int tun_read_plain(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    ssize_t r = read(dp->tun_fd, io->pkt[n].buf + DP_HEADER_LEN, dp->packet_max);
    if (r < 0)
        return -1;
    io->pkt[n].len = (u32)r;
    io->pkt[n].state = PKT_DROP;
    return (int)n + (r > 0);
}

/* Fill the batch: the rest of a pending super-packet, then TUN reads until
 * the batch is full or the TUN is empty. The count, or -1 when the TUN is gone. */
static int tun_fill(struct wgc_dp *dp, struct dp_io *io)
{
    u32 n = tso_emit(io, 0);
    while (n < io->cap && io->tso.pkt == NULL) {
        int r = dp->flags & WGC_DP_VNET_HDR ? tun_read_vnet(dp, io, n) : tun_read_plain(dp, io, n);
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

/* Under mu: route each packet; seal_prepare it, upcall it or drop it. */
static void tx_route(struct wgc_dp *dp, struct dp_io *io, u32 n, u64 now)
{
    u32 i;
    dp->stats.tun_bad_offload += io->bad_offload;
    io->bad_offload = 0;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &io->pkt[i];
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
        } else if ((kp = dp_send_keypair(p, now)) == NULL) {
            /* Python stages it and starts a handshake. */
            dp_upcall(dp, WGC_DP_UP_TUN, ip, pkt->len, NULL);
        } else if (p->endpoint.family == 0) {
            dp->stats.no_endpoint++;
        } else {
            dp_seal_prepare(dp, p, kp, pkt, now, 1);
        }
    }
}

static void tx_pad(struct dp_io *io, u32 n)
{
    u32 i;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &io->pkt[i];
        if (pkt->state == PKT_SEAL)
            memset(pkt->buf + DP_HEADER_LEN + pkt->data_len, 0, pkt->len - pkt->data_len);
    }
}

static u32 wire_len(const struct dp_pkt *pkt)
{
    return DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
}

/* Messages for the sealed packets of one family, in order. With UDP GSO a
 * run of packets to the same endpoint, all of the first one's size but the
 * last (which may be shorter), becomes one message. Returns the count. */
static u32 tx_messages(struct wgc_dp *dp, struct dp_io *io, u32 n, u8 family)
{
    u32 m = 0, k = 0, i = 0, gso = dp->udp_gso;

    while (i < n) {
        struct dp_pkt *first = &io->pkt[i];
        u32 size, total, segs = 1, j;
        if (first->state != PKT_SEAL || first->ep.family != family) {
            i++;
            continue;
        }
        size = total = wire_len(first);
        io->iov[k].iov_base = first->buf;
        io->iov[k].iov_len = size;
        for (j = i + 1; gso && j < n && segs < DP_UDP_GSO_SEGS; j++) {
            struct dp_pkt *pkt = &io->pkt[j];
            u32 len = wire_len(pkt);
            if (pkt->state != PKT_SEAL || pkt->ep.family != family)
                continue;
            if (len > size || total + len > DP_UDP_GSO_BYTES ||
                memcmp(&pkt->ep, &first->ep, sizeof(pkt->ep)) != 0)
                break;
            io->iov[k + segs].iov_base = pkt->buf;
            io->iov[k + segs].iov_len = len;
            segs++;
            total += len;
            if (len < size) {
                j++;
                break;      /* a shorter datagram ends the run */
            }
        }
        dp_fill_msg(&io->msgs[m].msg_hdr, &io->names[m], &io->cmsg[m], &io->iov[k], segs,
                    &first->ep, segs > 1 ? size : 0);
        io->msg_pkt[m] = i;
        io->msg_segs[m++] = segs;
        k += segs;
        /* Packets skipped inside the run belong to the other family. */
        i = segs > 1 ? j : i + 1;
    }
    return m;
}

static void tx_send(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    u32 failed = 0;
    u8 family;

    for (family = 4; family <= 6; family += 2) {
        u32 m = tx_messages(dp, io, n, family);
        if (m > 0)
            failed += dp_send_msgs(dp, io, dp->udp_fd[family == 6], m);
    }
    if (failed > 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.send_errors += failed;
        pthread_mutex_unlock(&dp->mu);
    }
}

void *dp_tx_main(void *arg)
{
    struct wgc_dp *dp = arg;
    struct dp_io *io = dp->tx_io;
    struct pollfd fds[2];

    fds[0].fd = dp->stop_fd;
    fds[0].events = POLLIN;
    fds[1].fd = dp->tun_fd;
    fds[1].events = POLLIN;
    io->tso.pkt = NULL;
    for (;;) {
        int n;
        /* A super-packet cut short by a full batch continues without waiting. */
        if (io->tso.pkt == NULL) {
            if (poll(fds, 2, -1) < 0 && errno != EINTR)
                break;
            if (fds[0].revents)
                break;
            if (!fds[1].revents)
                continue;
        }
        n = tun_fill(dp, io);
        if (n < 0) {
            pthread_mutex_lock(&dp->mu);
            dp->stats.tun_gone = 1;
            pthread_mutex_unlock(&dp->mu);
            dp_wake(dp);
            break;
        }
        pthread_mutex_lock(&dp->mu);
        tx_route(dp, io, (u32)n, dp_now_ns());
        pthread_mutex_unlock(&dp->mu);
        tx_pad(io, (u32)n);
        dp_crypt_runs(io, (u32)n, PKT_SEAL, 1);
        tx_send(dp, io, (u32)n);
    }
    return NULL;
}
