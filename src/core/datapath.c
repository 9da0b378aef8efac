/*
 * datapath.c - the datapath object: creation and teardown, the worker
 * threads' lifecycle, and the state Python installs (peers, endpoints,
 * keypairs and their receiver-index table, allowed IPs, the MTU, the cookie
 * state). The
 * workers' loops are the two pipelines, dp_send.c and dp_recv.c; what flows
 * back to Python is dp_event.c; the allowed-IPs table is dp_lpm.c. Every
 * function here that touches shared state holds dp->mu.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dp_batch.h"
#include "dp_handshake.h"

#define WORKER_STACK_BYTES (256 * 1024)

/* ---- receiver-index table: chained hash, buckets sized once from max_peers
 * (lookups: dp_find_keypair in datapath.h) ---- */

static void unhash(struct wgc_dp *dp, struct dp_keypair *kp)
{
    struct dp_keypair **pp = dp_bucket(dp, kp->local_index);
    while (*pp != kp)
        pp = &(*pp)->hnext;
    *pp = kp->hnext;
}

static void destroy_keypair(struct wgc_dp *dp, struct dp_keypair *kp)
{
    if (kp == NULL)
        return;
    unhash(dp, kp);
    wgc_wipe(kp, sizeof(*kp));
    free(kp);
}

/* ---- creation and teardown ---- */

static u32 pow2_at_least(u32 n)
{
    u32 p = 1;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

struct wgc_dp *wgc_dp_new(uint32_t max_peers, uint32_t packet_max, uint32_t mtu)
{
    struct wgc_dp *dp;
    u32 i;

    if (max_peers == 0 || max_peers > (1u << 20) || packet_max < 1280 || packet_max > 65535)
        return NULL;
    dp = calloc(1, sizeof(*dp));
    if (dp == NULL)
        return NULL;
    dp->event_fd = dp->stop_fd = -1;
    dp->max_peers = max_peers;
    dp->packet_max = packet_max;
    dp->mtu = mtu;
    dp->tun_fd = dp->udp_fd[0] = dp->udp_fd[1] = -1;
    dp->bucket_mask = pow2_at_least(max_peers) - 1;
    /* calloc'd tables are untouched zero pages until used: idle RSS stays small. */
    dp->peers = calloc(max_peers, sizeof(*dp->peers));
    dp->pending = calloc(max_peers, sizeof(*dp->pending));
    dp->buckets = calloc((size_t)dp->bucket_mask + 1, sizeof(*dp->buckets));
    dp->upcall_mem = malloc((size_t)WGC_DP_UPCALLS * packet_max);
    dp->send.buf = malloc((size_t)packet_max + DP_BUF_EXTRA);
    dp->tx.batch = dp_batch_new(packet_max, 1);
    dp->rx.batch = dp_batch_new(packet_max, 0);
    dp->rx.limit = malloc(sizeof(*dp->rx.limit));
    dp->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    dp->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!dp->peers || !dp->pending || !dp->buckets || !dp->upcall_mem || !dp->send.buf ||
        !dp->tx.batch || !dp->rx.batch || !dp->rx.limit || dp->event_fd < 0 || dp->stop_fd < 0 ||
        dp_hs_alloc(dp) != 0 ||
        pthread_mutex_init(&dp->mu, NULL) != 0) {
        wgc_dp_free(dp);
        return NULL;
    }
    pthread_mutex_init(&dp->send.mu, NULL);
    {
        u64 seed = 0;     /* keys the rate limiter's slots: unknown to senders */
        if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
            seed = dp_now_ns();
        wgc_ratelimit_init(dp->rx.limit, seed);
    }
    for (i = 0; i < WGC_DP_UPCALLS; i++)
        dp->ring[i].data = dp->upcall_mem + (size_t)i * packet_max;
    dp->activity_armed = 1;
    return dp;
}

void wgc_dp_free(struct wgc_dp *dp)
{
    u32 i;

    if (dp == NULL)
        return;
    wgc_dp_stop(dp);
    if (dp->peers != NULL)
        for (i = 0; i < dp->max_peers; i++)
            if (dp->peers[i] != NULL)
                wgc_dp_peer_remove(dp, (i32)i);
    if (dp->upcall_mem != NULL) /* handshake messages may hold secrets-adjacent data */
        wgc_wipe(dp->upcall_mem, (size_t)WGC_DP_UPCALLS * dp->packet_max);
    if (dp->send.buf != NULL)
        wgc_wipe(dp->send.buf, (size_t)dp->packet_max + DP_BUF_EXTRA);
    if (dp->event_fd >= 0)
        close(dp->event_fd);
    if (dp->stop_fd >= 0)
        close(dp->stop_fd);
    dp_batch_free(dp->tx.batch);
    dp_batch_free(dp->rx.batch);
    wgc_wipe(&dp->cookie, sizeof(dp->cookie));
    dp_hs_free(dp);
    free(dp->rx.limit);
    free(dp->lpm);
    free(dp->peers);
    free(dp->pending);
    free(dp->buckets);
    free(dp->upcall_mem);
    free(dp->send.buf);
    free(dp);
}

/* Workers block every signal: the interpreter's handlers belong to its
 * main thread, and a signal landing here would only interrupt syscalls. */
static int spawn(pthread_t *t, void *(*fn)(void *), struct wgc_dp *dp)
{
    pthread_attr_t attr;
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(t, &attr, fn, dp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

/* Python may read the sockets again once the workers stop: plain datagrams. */
static void gro_off(struct wgc_dp *dp)
{
    int i;
    if (dp->udp_gro)
        for (i = 0; i < 2; i++)
            dp_udp_gro_enable(dp->udp_fd[i], 0);
    dp->udp_gro = 0;
}

/* After the RX worker (which queues for them): the handshake workers return. */
static void join_hs(struct wgc_dp *dp)
{
    u32 i;
    dp_hs_stop(dp, 1);
    for (i = 0; i < dp->n_hs_threads; i++)
        pthread_join(dp->hs_threads[i], NULL);
    dp->n_hs_threads = 0;
}

int wgc_dp_start(struct wgc_dp *dp, int tun_fd, int udp4_fd, int udp6_fd, uint32_t flags)
{
    int i;

    if (dp->running)
        return -1;
    dp->tun_fd = tun_fd;
    dp->udp_fd[0] = udp4_fd;
    dp->udp_fd[1] = udp6_fd;
    dp->flags = flags;
    dp->tx.udp_gso = !(flags & WGC_DP_NO_UDP_GSO);
    /* Receive buffers are sized for super-datagrams only if a socket takes GRO. */
    dp->udp_gro = 0;
    for (i = 0; i < 2; i++)
        dp->udp_gro |= !(flags & WGC_DP_NO_UDP_GRO) && dp_udp_gro_enable(dp->udp_fd[i], 1);
    dp_batch_recv_layout(dp->rx.batch, dp->udp_gro);
    if (spawn(&dp->tx_thread, dp_tx_main, dp) != 0)
        goto fail;
    dp_hs_stop(dp, 0);
    for (dp->n_hs_threads = 0; dp->n_hs_threads < dp_hs_threads(); dp->n_hs_threads++)
        if (spawn(&dp->hs_threads[dp->n_hs_threads], dp_hs_main, dp) != 0)
            goto fail_hs;
    if (spawn(&dp->rx_thread, dp_rx_main, dp) != 0)
        goto fail_hs;
    dp->running = 1;
    return 0;
fail_hs:
    dp_notify(dp->stop_fd);
    pthread_join(dp->tx_thread, NULL);
    join_hs(dp);
fail:
    gro_off(dp);
    return -1;
}

/* linux/if_tun.h values (6.2) for older headers: the ioctl tells what the kernel has. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* TUN_F_CSUM is the precondition for TSO: the kernel then leaves checksums to us.
 * USO is asked for only to learn whether the kernel takes UDP GSO writes
 * (the TUN never hands us UDP super-packets unless a local sender makes them). */
int wgc_dp_tun_offload(int tun_fd)
{
    unsigned long offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(tun_fd, TUNSETOFFLOAD, offload | TUN_F_USO4 | TUN_F_USO6) == 0)
        return WGC_DP_TUN_USO;
    return ioctl(tun_fd, TUNSETOFFLOAD, offload) == 0 ? 0 : -1;
}

void wgc_dp_stop(struct wgc_dp *dp)
{
    u64 count;

    if (!dp->running)
        return;
    dp_notify(dp->stop_fd);
    pthread_join(dp->tx_thread, NULL);
    pthread_join(dp->rx_thread, NULL);
    join_hs(dp);
    if (read(dp->stop_fd, &count, sizeof(count)) < 0)
        count = 0; /* nothing to undo: the next start finds it cleared or set */
    gro_off(dp);
    dp->running = 0;
}

void wgc_dp_set_mtu(struct wgc_dp *dp, uint32_t mtu)
{
    pthread_mutex_lock(&dp->mu);
    dp->mtu = mtu;
    pthread_mutex_unlock(&dp->mu);
}

/* ---- peers ---- */

int32_t wgc_dp_peer_add(struct wgc_dp *dp)
{
    struct dp_peer *p = calloc(1, sizeof(*p));
    u32 i;

    if (p == NULL)
        return -1;
    pthread_mutex_lock(&dp->mu);
    for (i = 0; i < dp->max_peers && dp->peers[i] != NULL; i++)
        ;
    if (i == dp->max_peers) {
        pthread_mutex_unlock(&dp->mu);
        free(p);
        return -1;
    }
    p->slot = (i32)i;
    dp->peers[i] = p;
    dp->n_peers++;
    pthread_mutex_unlock(&dp->mu);
    return (i32)i;
}

int wgc_dp_peer_remove(struct wgc_dp *dp, int32_t slot)
{
    struct dp_peer *p;
    u32 i;

    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p == NULL) {
        pthread_mutex_unlock(&dp->mu);
        return -1;
    }
    for (i = 0; i < 3; i++)
        destroy_keypair(dp, p->kp[i]);
    dp_lpm_forget_peer(dp->lpm, slot);
    dp_unqueue(dp, slot);
    dp->peers[slot] = NULL;
    dp->n_peers--;
    pthread_mutex_unlock(&dp->mu);
    wgc_wipe(p, sizeof(*p));
    free(p);
    return 0;
}

int wgc_dp_peer_set_endpoint(struct wgc_dp *dp, int32_t slot, const struct wgc_dp_endpoint *ep)
{
    struct dp_peer *p;

    if (ep->family != 0 && ep->family != 4 && ep->family != 6)
        return -1;
    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p != NULL)
        p->endpoint = *ep;
    pthread_mutex_unlock(&dp->mu);
    return p == NULL ? -1 : 0;
}

/* ---- the sticky source: dp_peer.endpoint is its one owner; Python asks
 * here for its own sends (handshakes) rather than keeping a copy ---- */

/* Under mu: the first peer whose endpoint is remote (family, addr, port). */
static struct dp_peer *peer_at_endpoint(struct wgc_dp *dp, const struct wgc_dp_endpoint *remote)
{
    u32 i, seen = 0;
    for (i = 0; i < dp->max_peers && seen < dp->n_peers; i++) {
        const struct wgc_dp_endpoint *ep;
        if (dp->peers[i] == NULL)
            continue;
        seen++;
        ep = &dp->peers[i]->endpoint;
        if (ep->family != 0 && ep->family == remote->family && ep->port == remote->port &&
            memcmp(ep->addr, remote->addr, sizeof(ep->addr)) == 0)
            return dp->peers[i];
    }
    return NULL;
}

int wgc_dp_source_for(struct wgc_dp *dp, struct wgc_dp_endpoint *remote)
{
    struct dp_peer *p;

    pthread_mutex_lock(&dp->mu);
    p = peer_at_endpoint(dp, remote);
    if (p != NULL) {
        remote->has_src = p->endpoint.has_src;
        remote->src_ifindex = p->endpoint.src_ifindex;
        memcpy(remote->src, p->endpoint.src, sizeof(remote->src));
    }
    pthread_mutex_unlock(&dp->mu);
    return p == NULL ? -1 : 0;
}

int wgc_dp_forget_source(struct wgc_dp *dp, const struct wgc_dp_endpoint *remote)
{
    struct dp_peer *p;

    pthread_mutex_lock(&dp->mu);
    p = peer_at_endpoint(dp, remote);
    if (p != NULL)
        dp_forget_source(p);
    pthread_mutex_unlock(&dp->mu);
    return p == NULL ? -1 : 0;
}

/* The peer's installed keypair with this local index, if any. */
static struct dp_keypair *own_keypair(struct dp_peer *p, u32 local_index)
{
    int i;
    for (i = 0; i < 3; i++)
        if (p->kp[i] != NULL && p->kp[i]->local_index == local_index)
            return p->kp[i];
    return NULL;
}

static int keypairs_valid(struct wgc_dp *dp, struct dp_peer *p, const struct wgc_dp_keypair kp[3])
{
    int i, j;
    for (i = 0; i < 3; i++) {
        struct dp_keypair *other;
        if (!kp[i].present)
            continue;
        if (kp[i].local_index == 0)
            return 0;
        other = dp_find_keypair(dp, kp[i].local_index);
        if (other != NULL && other->peer != p)
            return 0;
        for (j = 0; j < i; j++)
            if (kp[j].present && kp[j].local_index == kp[i].local_index)
                return 0;
    }
    return 1;
}

static struct dp_keypair *new_keypair(struct wgc_dp *dp, struct dp_peer *p,
                                      const struct wgc_dp_keypair *cfg)
{
    struct dp_keypair *kp = calloc(1, sizeof(*kp));
    struct dp_keypair **head;
    if (kp == NULL)
        return NULL;
    kp->peer = p;
    kp->id = ++dp->next_kp_id;
    kp->local_index = cfg->local_index;
    memcpy(kp->send_key, cfg->send_key, 32);
    memcpy(kp->recv_key, cfg->recv_key, 32);
    wgc_replay_init(&kp->replay);
    head = dp_bucket(dp, kp->local_index);
    kp->hnext = *head;
    *head = kp;
    return kp;
}

int wgc_dp_peer_set_keypairs(struct wgc_dp *dp, int32_t slot, const struct wgc_dp_keypair cfg[3])
{
    struct dp_keypair *next[3] = {NULL, NULL, NULL};
    struct dp_peer *p;
    int i, rc = -1;

    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p == NULL || !keypairs_valid(dp, p, cfg))
        goto out;
    for (i = 0; i < 3; i++) {
        if (!cfg[i].present)
            continue;
        next[i] = own_keypair(p, cfg[i].local_index);
        if (next[i] == NULL)
            next[i] = new_keypair(dp, p, &cfg[i]);
        if (next[i] == NULL)
            goto undo;
        next[i]->remote_index = cfg[i].remote_index;
        next[i]->created_ns = cfg[i].created_ns;
        next[i]->is_initiator = cfg[i].is_initiator;
        next[i]->can_send = cfg[i].can_send;
    }
    /* Keypairs Python no longer names: wiped. Kept ones move slots intact. */
    for (i = 0; i < 3; i++)
        if (p->kp[i] != NULL && p->kp[i] != next[0] && p->kp[i] != next[1] &&
            p->kp[i] != next[2])
            destroy_keypair(dp, p->kp[i]);
    memcpy(p->kp, next, sizeof(next));
    rc = 0;
    goto out;
undo: /* out of memory: drop only what this call created */
    for (i = 0; i < 3; i++)
        if (next[i] != NULL && own_keypair(p, next[i]->local_index) != next[i])
            destroy_keypair(dp, next[i]);
out:
    pthread_mutex_unlock(&dp->mu);
    return rc;
}

int wgc_dp_replay_check(struct wgc_dp *dp, uint32_t local_index, uint64_t counter)
{
    struct dp_keypair *kp;
    int rc = 1;

    pthread_mutex_lock(&dp->mu);
    kp = dp_find_keypair(dp, local_index);
    if (kp != NULL)
        rc = wgc_replay_check(&kp->replay, counter) == 0 ? 0 : -1;
    pthread_mutex_unlock(&dp->mu);
    return rc;
}

int wgc_dp_peer_read(struct wgc_dp *dp, int32_t slot, struct wgc_dp_peer_state *out)
{
    struct dp_peer *p;

    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p != NULL) {
        out->events = p->events;
        out->confirmed_index = p->confirmed_index;
        out->rx_bytes = p->rx_bytes;
        out->tx_bytes = p->tx_bytes;
        out->last_data_sent_ns = p->last_data_sent_ns;
        out->last_auth_sent_ns = p->last_auth_sent_ns;
        out->last_data_recv_ns = p->last_data_recv_ns;
        out->last_auth_recv_ns = p->last_auth_recv_ns;
        out->endpoint = p->endpoint;
        p->events = 0;
    }
    pthread_mutex_unlock(&dp->mu);
    return p == NULL ? -1 : 0;
}

/* ---- allowed IPs ---- */

int wgc_dp_set_allowed_ips(struct wgc_dp *dp, const struct wgc_dp_prefix *prefixes, size_t n)
{
    struct dp_lpm *fresh = dp_lpm_build(prefixes, n), *old;

    if (fresh == NULL)
        return -1;
    pthread_mutex_lock(&dp->mu);
    old = dp->lpm;
    dp->lpm = fresh;
    pthread_mutex_unlock(&dp->mu);
    free(old);
    return 0;
}

int32_t wgc_dp_lookup(struct wgc_dp *dp, uint8_t family, const uint8_t *addr)
{
    i32 peer;
    pthread_mutex_lock(&dp->mu);
    peer = dp_lpm_lookup(dp->lpm, family, addr);
    pthread_mutex_unlock(&dp->mu);
    return peer;
}

/* ---- the responder's cookie state (Python's; dp_cookie.c uses it) ---- */

int wgc_dp_set_cookie(struct wgc_dp *dp, const uint8_t *pub, const uint8_t secret[32],
                      uint64_t secret_set_ns)
{
    pthread_mutex_lock(&dp->mu);
    dp->cookie.has_key = pub != NULL;
    if (pub != NULL)
        wgc_cookie_keys(dp->cookie.mac1_key, dp->cookie.cookie_key, pub);
    memcpy(dp->cookie.secret, secret, 32);
    dp->cookie.secret_set_ns = secret_set_ns;
    pthread_mutex_unlock(&dp->mu);
    return 0;
}
