/*
 * dp_io.c - the workers' batches, sealing and opening, and the RX worker
 * (kernel receive.c, wireguard-go receive.go, minus the decisions, which
 * are Python's); the TX worker is in dp_tx.c.
 *
 * RX: recvmmsg (UDP GRO super-datagrams split in place); under mu find each
 * keypair by receiver index (anything else becomes an upcall); outside it
 * open in place; under mu again replay-check (only after authentication),
 * confirm next keypairs, roam, check the inner source; outside it write to
 * the TUN, same-flow TCP segments coalesced into one write (GRO). No
 * allocation in the workers: every buffer belongs to the worker's dp_io,
 * made once by dp_io_new.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "datapath.h"

struct dp_io *dp_io_new(u32 packet_max, int tx)
{
    struct dp_io *io = calloc(1, sizeof(*io));
    u32 n_msgs;
    size_t mem;
    if (io == NULL)
        return NULL;
    io->buf_len = packet_max + DP_BUF_EXTRA;
    io->cap = tx ? DP_TX_SEGS : DP_RX_PKTS;
    n_msgs = tx ? DP_TX_SEGS : DP_RX_MSGS;
    /* RX: room for either layout (wgc_dp_start picks one); untouched pages cost no RSS. */
    mem = tx ? (size_t)DP_TX_SEGS * io->buf_len : (size_t)DP_GRO_BUFS * DP_GRO_BUF_LEN;
    if (!tx && mem < (size_t)DP_RX_MSGS * io->buf_len)
        mem = (size_t)DP_RX_MSGS * io->buf_len;
    io->pkt = calloc(io->cap, sizeof(*io->pkt));
    io->items = calloc(io->cap, sizeof(*io->items));
    io->msgs = calloc(n_msgs, sizeof(*io->msgs));
    /* crypt_runs indexes msg_pkt by packet too, so it has cap entries. */
    io->msg_pkt = calloc(io->cap, sizeof(*io->msg_pkt));
    io->members = calloc(io->cap, sizeof(*io->members));
    io->msg_segs = calloc(n_msgs, sizeof(*io->msg_segs));
    io->iov = calloc(io->cap, sizeof(*io->iov));
    io->names = calloc(n_msgs, sizeof(*io->names));
    io->cmsg = calloc(n_msgs, sizeof(*io->cmsg));
    io->mem = malloc(mem);
    io->super = tx ? malloc(DP_SUPER_LEN + DP_VNET_LEN) : NULL;
    if (!io->pkt || !io->items || !io->msgs || !io->msg_pkt || !io->msg_segs || !io->members || !io->iov ||
        !io->names || !io->cmsg || !io->mem || (tx && !io->super)) {
        dp_io_free(io);
        return NULL;
    }
    if (tx) {
        u32 i;
        for (i = 0; i < io->cap; i++)
            io->pkt[i].buf = io->mem + (size_t)i * io->buf_len;
    }
    return io;
}

/* RX: carve mem into receive buffers for the chosen layout. */
void dp_io_recv_layout(struct dp_io *io, int gro)
{
    io->n_recv = gro ? DP_GRO_BUFS : DP_RX_MSGS;
    io->recv_len = gro ? DP_GRO_BUF_LEN : io->buf_len;
}

void dp_io_free(struct dp_io *io)
{
    if (io == NULL)
        return;
    free(io->pkt);
    free(io->items);
    free(io->msgs);
    free(io->msg_pkt);
    free(io->msg_segs);
    free(io->members);
    free(io->iov);
    free(io->names);
    free(io->cmsg);
    free(io->mem);
    free(io->super);
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
u32 dp_crypt_runs(struct dp_io *io, u32 n, int want, int sealing)
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

/* ---- RX worker ---- */

static int recv_msgs(struct dp_io *io, int fd)
{
    int r;
    u32 i;
    for (i = 0; i < io->n_recv; i++) {
        struct msghdr *h = &io->msgs[i].msg_hdr;
        io->iov[i].iov_base = io->mem + (size_t)i * io->recv_len;
        io->iov[i].iov_len = io->recv_len;
        memset(h, 0, sizeof(*h));
        h->msg_name = &io->names[i];
        h->msg_namelen = sizeof(io->names[i]);
        h->msg_iov = &io->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = io->cmsg[i].bytes;
        h->msg_controllen = sizeof(io->cmsg[i]);
    }
    do
        r = recvmmsg(fd, io->msgs, io->n_recv, MSG_DONTWAIT, NULL);
    while (r < 0 && errno == EINTR);
    /* Other errors (an ICMP error queued by an earlier send) are not fatal. */
    return r;
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

/* Write pkt[i] and the packets GRO coalesces with it as one TUN write;
 * returns 1 if the write failed. The virtio_net_hdr goes into the header
 * room in front of the first packet, the followers add only their payload. */
static u32 tun_write_group(struct wgc_dp *dp, struct dp_io *io, u32 n, u32 i)
{
    u32 *members = io->members;
    struct dp_pkt *pkt = &io->pkt[i];
    u32 count = 1, k, hdr;
    ssize_t r;

    if (!(dp->flags & WGC_DP_NO_TUN_GRO))
        count = dp_gro_group(io->pkt, n, i, members, io->cap, (dp->flags & WGC_DP_TUN_USO) != 0);
    if (count == 1) {
        memset(pkt->buf + DP_VNET_AT, 0, DP_VNET_LEN);     /* gso_type NONE, checksum done */
        return write(dp->tun_fd, pkt->buf + DP_VNET_AT, DP_VNET_LEN + pkt->len) < 0;
    }
    hdr = dp_gro_payload_off(pkt->buf + DP_HEADER_LEN);
    io->iov[0].iov_base = pkt->buf + DP_VNET_AT;
    io->iov[0].iov_len = DP_VNET_LEN + pkt->len;
    for (k = 1; k < count; k++) {
        struct dp_pkt *m = &io->pkt[members[k]];
        io->iov[k].iov_base = m->buf + DP_HEADER_LEN + hdr;
        io->iov[k].iov_len = m->len - hdr;
        m->state = PKT_DROP;        /* written with its group */
    }
    dp_gro_finish(io->pkt, members, count, pkt->buf + DP_VNET_AT);
    do
        r = writev(dp->tun_fd, io->iov, (int)count);
    while (r < 0 && errno == EINTR);
    return r < 0;
}

static void rx_batch(struct wgc_dp *dp, struct dp_io *io, u32 n)
{
    u64 now = dp_now_ns();
    u32 i, failed, write_errors = 0;

    pthread_mutex_lock(&dp->mu);
    rx_classify(dp, io, n, now);
    pthread_mutex_unlock(&dp->mu);
    failed = dp_crypt_runs(io, n, PKT_OPEN, 0);
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
        if (pkt->state != PKT_WRITE)
            continue;
        if (dp->flags & WGC_DP_VNET_HDR)
            write_errors += tun_write_group(dp, io, n, i);
        else if (write(dp->tun_fd, pkt->buf + DP_HEADER_LEN, pkt->len) < 0)
            write_errors++;
    }
    if (write_errors > 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.tun_write_errors += write_errors;
        pthread_mutex_unlock(&dp->mu);
    }
}

/* One recvmmsg from fd and its datagrams in batches of io->cap: a UDP GRO
 * super-datagram is split in place into its gso_size pieces. */
static void rx_socket(struct wgc_dp *dp, struct dp_io *io, int fd)
{
    int r = recv_msgs(io, fd), i;
    u32 n = 0;

    for (i = 0; i < r; i++) {
        const struct msghdr *h = &io->msgs[i].msg_hdr;
        /* Not iov[i]: a batch flushed mid-split reuses iov for TUN writes. */
        u8 *base = io->mem + (size_t)i * io->recv_len;
        struct wgc_dp_endpoint ep;
        u32 seg = dp_parse_msg(h, &ep), len, off = 0;

        len = h->msg_flags & MSG_TRUNC ? 0 : io->msgs[i].msg_len;
        if (seg == 0 || seg > len)
            seg = len;
        do {
            struct dp_pkt *pkt;
            if (n == io->cap) {
                rx_batch(dp, io, n);
                n = 0;
            }
            pkt = &io->pkt[n++];
            pkt->buf = base + off;
            pkt->len = len - off < seg ? len - off : seg;
            pkt->state = PKT_DROP;
            pkt->ep = ep;
            off += seg;
        } while (off < len);
    }
    if (n > 0)
        rx_batch(dp, io, n);
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
                rx_socket(dp, io, fds[i].fd);
    }
    return NULL;
}
