/*
 * dp_io.c - the two workers and their batches (kernel send.c/receive.c,
 * wireguard-go send.go/receive.go, minus the decisions, which are Python's).
 *
 * TX: read up to WGC_DP_BATCH packets from the TUN; under mu route them,
 * reserve counters and copy keys and endpoints; outside it pad, seal in
 * place (one key schedule per run of packets under the same keypair) and
 * sendmmsg per address family with the sticky source address.
 * RX: recvmmsg; under mu find each keypair by receiver index (anything else
 * becomes an upcall); outside it open in place; under mu again replay-check
 * (only after authentication), confirm next keypairs, roam, check the inner
 * source; outside it write to the TUN. No allocation here: every buffer
 * belongs to the worker's dp_io, made once by dp_io_new.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"

#define B WGC_DP_BATCH

struct dp_io *dp_io_new(u32 packet_max)
{
    struct dp_io *io = calloc(1, sizeof(*io));
    u32 i;
    if (io == NULL)
        return NULL;
    io->buf_len = packet_max + DP_BUF_EXTRA;
    io->mem = malloc((size_t)B * io->buf_len);
    if (io->mem == NULL) {
        free(io);
        return NULL;
    }
    for (i = 0; i < B; i++)
        io->pkt[i].buf = io->mem + (size_t)i * io->buf_len;
    return io;
}

void dp_io_free(struct dp_io *io)
{
    if (io == NULL)
        return;
    free(io->mem);
    free(io);
}

/* ---- sealing (TX and wgc_dp_send) ---- */

/* Under mu: number the packet, copy key and endpoint, account for it. */
void dp_seal_prepare(struct wgc_dp *dp, struct dp_peer *p, struct dp_keypair *kp,
                         struct dp_pkt *pkt, u64 now, int worker)
{
    u32 ev = WGC_DP_EV_ACTIVITY;

    pkt->data_len = pkt->len;
    pkt->len = dp_padded_len(pkt->len, dp->mtu);
    pkt->counter = kp->send_counter++;
    pkt->slot = p->slot;
    pkt->ep = p->endpoint;
    pkt->state = PKT_SEAL;
    memcpy(pkt->key, kp->send_key, 32);
    store32_le(pkt->buf, 4);
    store32_le(pkt->buf + 4, kp->remote_index);
    store64_le(pkt->buf + 8, pkt->counter);
    p->tx_bytes += DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
    /* Python runs the timers hooks for its own sends (wgc_dp_send) itself. */
    if (worker) {
        p->last_auth_sent_ns = now;
        if (pkt->data_len > 0)
            p->last_data_sent_ns = now;
    }
    if ((pkt->counter >= DP_REKEY_AFTER_MESSAGES ||
         (kp->is_initiator && now - kp->created_ns > DP_REKEY_AFTER_TIME_NS)) &&
        now >= p->rekey_signal_ns) {
        ev |= WGC_DP_EV_REKEY_SEND;
        p->rekey_signal_ns = now + DP_REKEY_SIGNAL_NS;
    }
    dp_signal(dp, p, ev);
}

/* Seal or open every packet in state `want`, one batch call per run of
 * packets sharing a key; wipes the key copies. Returns the failures. */
static u32 crypt_runs(struct dp_io *io, u32 n, int want, int sealing)
{
    u32 i = 0, failed = 0;

    while (i < n) {
        u32 j, m = 0;
        if (io->pkt[i].state != want) {
            i++;
            continue;
        }
        for (j = i; j < n; j++) {
            struct dp_pkt *pkt = &io->pkt[j];
            if (pkt->state != want)
                continue;
            if (memcmp(pkt->key, io->pkt[i].key, 32) != 0)
                break;
            io->items[m].data = pkt->buf + DP_HEADER_LEN;
            io->items[m].len = pkt->len;
            io->items[m].counter = pkt->counter;
            io->msg_pkt[m++] = j;
        }
        if (sealing) {
            wgc_wg_seal_batch(io->items, m, io->pkt[i].key);
        } else {
            u32 k;
            wgc_wg_open_batch(io->items, m, io->pkt[i].key);
            for (k = 0; k < m; k++)
                if (io->items[k].status != 0) {
                    io->pkt[io->msg_pkt[k]].state = PKT_DROP;
                    failed++;
                }
        }
        i = j;      /* the first packet under another key, or n */
    }
    for (i = 0; i < n; i++)
        wgc_wipe(io->pkt[i].key, 32);
    return failed;
}

/* ---- TX worker ---- */

/* Up to B packets from the TUN: the count, or -1 when the TUN is gone. */
static int tun_read(struct wgc_dp *dp, struct dp_io *io)
{
    u32 n = 0;
    while (n < B) {
        ssize_t r = read(dp->tun_fd, io->pkt[n].buf + DP_HEADER_LEN, dp->packet_max);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || n > 0)
                break;
            return -1;
        }
        io->pkt[n].len = (u32)r;
        io->pkt[n].state = PKT_DROP;
        n += r > 0;
    }
    return (int)n;
}

/* Under mu: route each packet; seal_prepare it, upcall it or drop it. */
static void tx_route(struct wgc_dp *dp, struct dp_io *io, u32 n, u64 now)
{
    u32 i;
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

static void tx_send(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    u32 failed = 0, i;
    u8 family;

    for (family = 4; family <= 6; family += 2) {
        u32 m = 0;
        for (i = 0; i < n; i++) {
            struct dp_pkt *pkt = &io->pkt[i];
            if (pkt->state != PKT_SEAL || pkt->ep.family != family)
                continue;
            io->iov[m].iov_base = pkt->buf;
            io->iov[m].iov_len = DP_HEADER_LEN + pkt->len + WGC_TAG_LEN;
            dp_fill_msg(&io->msgs[m].msg_hdr, &io->names[m], &io->cmsg[m], &io->iov[m], &pkt->ep);
            io->msg_pkt[m++] = i;
        }
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
    for (;;) {
        int n;
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (!fds[1].revents)
            continue;
        n = tun_read(dp, io);
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
        crypt_runs(io, (u32)n, PKT_SEAL, 1);
        tx_send(dp, io, (u32)n);
    }
    return NULL;
}

/* ---- RX worker ---- */

static u32 udp_receive(struct dp_io *io, int fd)
{
    int r, i;
    for (i = 0; i < B; i++) {
        struct msghdr *h = &io->msgs[i].msg_hdr;
        io->iov[i].iov_base = io->pkt[i].buf;
        io->iov[i].iov_len = io->buf_len;
        memset(h, 0, sizeof(*h));
        h->msg_name = &io->names[i];
        h->msg_namelen = sizeof(io->names[i]);
        h->msg_iov = &io->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = io->cmsg[i].bytes;
        h->msg_controllen = sizeof(io->cmsg[i]);
    }
    do
        r = recvmmsg(fd, io->msgs, B, MSG_DONTWAIT, NULL);
    while (r < 0 && errno == EINTR);
    /* Other errors (an ICMP error queued by an earlier send) are not fatal. */
    for (i = 0; i < r; i++) {
        struct dp_pkt *pkt = &io->pkt[i];
        pkt->len = io->msgs[i].msg_hdr.msg_flags & MSG_TRUNC ? 0 : io->msgs[i].msg_len;
        pkt->state = PKT_DROP;
        dp_parse_msg(&io->msgs[i].msg_hdr, &pkt->ep);
    }
    return r < 0 ? 0 : (u32)r;
}

/* Under mu: transport packets for installed keypairs get their key copied;
 * everything else goes up to Python. */
static void rx_classify(struct wgc_dp *dp, struct dp_io *io, u32 n, u64 now)
{
    u32 i;
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &io->pkt[i];
        struct dp_keypair *kp = NULL;

        if (pkt->len >= DP_HEADER_LEN + WGC_TAG_LEN && load32_le(pkt->buf) == 4)
            kp = dp_find_keypair(dp, load32_le(pkt->buf + 4));
        if (kp == NULL) {
            dp_upcall(dp, WGC_DP_UP_UDP, pkt->buf, pkt->len, &pkt->ep);
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

/* Under mu: an authenticated packet (pkt->len = plaintext length) counts
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
    if (memcmp(&p->endpoint, &pkt->ep, sizeof(pkt->ep)) != 0)
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

static void rx_batch(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    u64 now = dp_now_ns();
    u32 i, failed, write_errors = 0;

    pthread_mutex_lock(&dp->mu);
    rx_classify(dp, io, n, now);
    pthread_mutex_unlock(&dp->mu);
    failed = crypt_runs(io, n, PKT_OPEN, 0);
    pthread_mutex_lock(&dp->mu);
    dp->stats.rx_decrypt += failed;
    for (i = 0; i < n; i++)
        if (io->pkt[i].state == PKT_OPEN) {
            io->pkt[i].len -= WGC_TAG_LEN;
            rx_accept(dp, &io->pkt[i], now);
        }
    pthread_mutex_unlock(&dp->mu);
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &io->pkt[i];
        if (pkt->state == PKT_WRITE && write(dp->tun_fd, pkt->buf + DP_HEADER_LEN, pkt->len) < 0)
            write_errors++;
    }
    if (write_errors > 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.tun_write_errors += write_errors;
        pthread_mutex_unlock(&dp->mu);
    }
}

void *dp_rx_main(void *arg)
{
    struct wgc_dp *dp = arg;
    struct dp_io *io = dp->rx_io;
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
                rx_batch(dp, io, udp_receive(io, fds[i].fd));
    }
    return NULL;
}
