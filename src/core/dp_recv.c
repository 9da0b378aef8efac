/*
 * dp_recv.c - the receive pipeline, the RX worker (kernel receive.c,
 * wireguard-go receive.go, minus the decisions, which are Python's).
 *
 * Inbound flow, one batch at a time:
 *   1. recvmmsg on a UDP socket; UDP GRO super-datagrams split in place (rx_socket)
 *   2. classify by receiver index: transport packets for installed keypairs
 *      get their key copied; handshake messages pass the gate (dp_cookie.c:
 *      mac1, under load a cookie reply or the rate limit); initiations
 *      are left for the responder, the rest becomes an upcall (rx_classify)
 *   2b. outside mu: initiations queued for the handshake workers (dp_handshake.c)
 *   3. open in place, one key schedule per run of one keypair (dp_crypt_runs)
 *   4. accept: replay check (only after authentication), confirm the next
 *      keypair, roam, count, check the inner source (rx_accept)
 *   5. write to the TUN, same-flow segments coalesced into one write (tun_write_group);
 *      send the gate's cookie replies (rx_replies)
 * The functions below come in that order, then the loops that drive them.
 *
 * Locking: steps 2 and 4 run under dp->mu, all of a batch's packets in one
 * hold; steps 1, 3 and 5 run outside it, on the worker's own batch
 * (dp->rx.batch) and key copies. Nothing here allocates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>

#include "dp_batch.h"
#include "dp_handshake.h"

/* 1. One recvmmsg into the batch's receive buffers; the headers are set up
 * once (dp_batch_recv_layout), only the lengths a receive overwrote are reset. */
static int recv_msgs(struct dp_batch *b, int fd)
{
    int r;
    u32 i;
    for (i = 0; i < b->n_dirty; i++) {
        b->msgs[i].msg_hdr.msg_namelen = sizeof(b->names[i]);
        b->msgs[i].msg_hdr.msg_controllen = sizeof(b->cmsg[i]);
    }
    do
        r = recvmmsg(fd, b->msgs, b->n_recv, MSG_DONTWAIT, NULL);
    while (r < 0 && errno == EINTR);
    b->n_dirty = r > 0 ? (u32)r : b->n_recv;
    /* Other errors (an ICMP error queued by an earlier send) are not fatal. */
    return r;
}

/* 2. Under mu: transport packets for installed keypairs get their key copied;
 * everything else goes up to Python. */
static void rx_classify(struct wgc_dp *dp, struct dp_batch *b, u32 n, u64 now)
{
    u32 i;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        struct dp_keypair *kp = NULL;

        if (pkt->len >= DP_HEADER_LEN + WGC_TAG_LEN && load32_le(pkt->buf) == 4)
            kp = dp_find_keypair(dp, load32_le(pkt->buf + 4));
        if (kp == NULL) {
            int gate = dp_cookie_gate(dp, pkt, now);
            if (gate == DP_GATE_PASS && load32_le(pkt->buf) == 1 && dp_hs_ready(dp))
                pkt->state = PKT_HANDSHAKE;
            else if (gate == DP_GATE_UP || gate == DP_GATE_PASS)
                dp_upcall(dp, WGC_DP_UP_UDP, pkt->buf, pkt->len, &pkt->ep);
            else if (gate == DP_GATE_REPLY)
                pkt->state = PKT_REPLY;
        } else if (now - kp->created_ns > DP_REJECT_AFTER_TIME_NS) {
            dp->stats.rx_expired_keypair++;
        } else {
            pkt->state = PKT_OPEN;
            pkt->kp_id = kp->id;
            pkt->local_index = kp->local_index;
            pkt->counter = load64_le(pkt->buf + 8);
            memcpy(pkt->key, kp->recv_key, 32);
            pkt->len -= DP_HEADER_LEN;      /* ciphertext || tag */
        }
    }
}

/* Length of the IP packet inside padded plaintext, 0 if its fields do not fit. */
static u32 inner_len(const u8 *ip, u32 len)
{
    u32 total;
    if ((ip[0] >> 4) == 4 && len >= 20) {
        total = (u32)ip[2] << 8 | ip[3];
        return total >= 20 && total <= len ? total : 0;
    }
    if ((ip[0] >> 4) == 6 && len >= 40) {
        total = ((u32)ip[4] << 8 | ip[5]) + 40;
        return total <= len ? total : 0;
    }
    return 0;
}

static u32 rekey_recv_event(struct dp_peer *p, u64 now)
{
    struct dp_keypair *cur = p->kp[1];
    if (cur == NULL || !cur->is_initiator || now - cur->created_ns <= DP_REKEY_RECV_AFTER_NS ||
        now < p->rekey_signal_ns)
        return 0;
    p->rekey_signal_ns = now + DP_REKEY_SIGNAL_NS;
    return WGC_DP_EV_REKEY_RECV;
}

/* 4. Under mu: an authenticated packet (pkt->len = plaintext length) counts
 * only after the replay check; then the receive.go bookkeeping. */
static void rx_accept(struct wgc_dp *dp, struct dp_pkt *pkt, u64 now)
{
    struct dp_keypair *kp = dp_find_keypair(dp, pkt->local_index);
    const u8 *ip = pkt->buf + DP_HEADER_LEN;
    struct dp_peer *p;
    u32 ev = WGC_DP_EV_ACTIVITY, len;

    pkt->state = PKT_DROP;
    if (kp == NULL || kp->id != pkt->kp_id)
        return;     /* Python replaced the keypair while we decrypted */
    if (wgc_replay_check(&kp->replay, pkt->counter) != 0) {
        dp->stats.rx_replay++;
        return;
    }
    p = kp->peer;
    if (kp == p->kp[2]) {
        p->confirmed_index = kp->local_index;
        ev |= WGC_DP_EV_CONFIRMED;
    }
    p->rx_bytes += DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
    p->last_auth_recv_ns = now;
    if (!dp_ep_equal(&p->endpoint, &pkt->ep))
        p->endpoint = pkt->ep;      /* roaming */
    ev |= rekey_recv_event(p, now);
    dp_signal(dp, p, ev);
    if (pkt->len == 0)
        return;     /* keepalive */
    /* Non-empty plaintext is data for the timers even if refused below (receive.go). */
    p->last_data_recv_ns = now;
    len = inner_len(ip, pkt->len);
    if (len == 0) {
        dp->stats.rx_inner_malformed++;
    } else if (dp_lpm_lookup(dp->lpm, ip[0] >> 4 == 4 ? 4 : 6,
                             ip + (ip[0] >> 4 == 4 ? 12 : 8)) != p->slot) {
        dp->stats.rx_inner_not_allowed++;
    } else {
        pkt->len = len;
        pkt->state = PKT_WRITE;
    }
}

/* 5. Write pkt[i] and the packets GRO coalesces with it as one TUN write;
 * returns 1 if the write failed. The virtio_net_hdr goes into the header
 * room in front of the first packet, the followers add only their payload. */
static u32 tun_write_group(struct wgc_dp *dp, struct dp_batch *b, u32 n, u32 i)
{
    u32 *members = b->members;
    struct dp_pkt *pkt = &b->pkt[i];
    u32 count = 1, k, hdr;
    ssize_t r;

    if (!(dp->flags & WGC_DP_NO_TUN_GRO))
        count = dp_gro_group(b->pkt, n, i, members, b->cap, (dp->flags & WGC_DP_TUN_USO) != 0);
    if (count == 1) {
        memset(pkt->buf + DP_VNET_AT, 0, DP_VNET_LEN);     /* gso_type NONE, checksum done */
        return write(dp->tun_fd, pkt->buf + DP_VNET_AT, DP_VNET_LEN + pkt->len) < 0;
    }
    hdr = dp_gro_payload_off(pkt->buf + DP_HEADER_LEN);
    b->iov[0].iov_base = pkt->buf + DP_VNET_AT;
    b->iov[0].iov_len = DP_VNET_LEN + pkt->len;
    for (k = 1; k < count; k++) {
        struct dp_pkt *m = &b->pkt[members[k]];
        b->iov[k].iov_base = m->buf + DP_HEADER_LEN + hdr;
        b->iov[k].iov_len = m->len - hdr;
        m->state = PKT_DROP;        /* written with its group */
    }
    dp_gro_finish(b->pkt, members, count, pkt->buf + DP_VNET_AT);
    do
        r = writev(dp->tun_fd, b->iov, (int)count);
    while (r < 0 && errno == EINTR);
    return r < 0;
}

/* 5. Cookie replies go back from the address the message came to; a
 * failed send is only counted (the initiator retries). */
static u32 rx_replies(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    u32 i, failed = 0;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        if (pkt->state != PKT_REPLY)
            continue;
        b->iov[0].iov_base = pkt->buf;
        b->iov[0].iov_len = pkt->len;
        failed += dp_send_datagram(dp->udp_fd[pkt->ep.family == 6], &b->iov[0], pkt) != 0;
    }
    return failed;
}

/* Steps 2 to 5 for n received datagrams. */
static void rx_batch(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    u64 now = dp_now_ns();
    u32 i, failed, write_errors = 0, send_errors;

    pthread_mutex_lock(&dp->mu);
    rx_classify(dp, b, n, now);
    pthread_mutex_unlock(&dp->mu);
    dp_hs_queue(dp, b, n);
    send_errors = rx_replies(dp, b, n);
    failed = dp_crypt_runs(b, n, PKT_OPEN);
    pthread_mutex_lock(&dp->mu);
    dp->stats.rx_decrypt += failed;
    for (i = 0; i < n; i++)
        if (b->pkt[i].state == PKT_OPEN) {
            b->pkt[i].len -= WGC_TAG_LEN;
            rx_accept(dp, &b->pkt[i], now);
        }
    pthread_mutex_unlock(&dp->mu);
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        if (pkt->state != PKT_WRITE)
            continue;
        if (dp->flags & WGC_DP_VNET_HDR)
            write_errors += tun_write_group(dp, b, n, i);
        else if (write(dp->tun_fd, pkt->buf + DP_HEADER_LEN, pkt->len) < 0)
            write_errors++;
    }
    if (write_errors > 0 || send_errors > 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.tun_write_errors += write_errors;
        dp->stats.send_errors += send_errors;
        pthread_mutex_unlock(&dp->mu);
    }
}

/* One recvmmsg from fd and its datagrams in batches of b->cap: a UDP GRO
 * super-datagram is split in place into its gso_size pieces. */
static void rx_socket(struct wgc_dp *dp, struct dp_batch *b, int fd)
{
    int r = recv_msgs(b, fd), i;
    u32 n = 0;

    for (i = 0; i < r; i++) {
        const struct msghdr *h = &b->msgs[i].msg_hdr;
        u8 *base = b->mem + (size_t)i * b->recv_len;
        struct wgc_dp_endpoint ep;
        u32 seg = dp_parse_msg(h, &ep), len, off = 0;

        len = h->msg_flags & MSG_TRUNC ? 0 : b->msgs[i].msg_len;
        if (seg == 0 || seg > len)
            seg = len;
        do {
            struct dp_pkt *pkt;
            if (n == b->cap) {
                rx_batch(dp, b, n);
                n = 0;
            }
            pkt = &b->pkt[n++];
            pkt->buf = base + off;
            pkt->len = len - off < seg ? len - off : seg;
            pkt->state = PKT_DROP;
            pkt->ep = ep;
            off += seg;
        } while (off < len);
    }
    if (n > 0)
        rx_batch(dp, b, n);
}

void *dp_rx_main(void *arg)
{
    struct wgc_dp *dp = arg;
    struct dp_batch *b = dp->rx.batch;
    struct pollfd fds[3];
    int i;

    fds[0].fd = dp->stop_fd;
    fds[1].fd = dp->udp_fd[0];
    fds[2].fd = dp->udp_fd[1];
    for (i = 0; i < 3; i++)
        fds[i].events = POLLIN;
    for (;;) {
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (i = 1; i < 3; i++)
            if (fds[i].revents)
                rx_socket(dp, b, fds[i].fd);
    }
    return NULL;
}
