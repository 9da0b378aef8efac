/*
 * dp_handshake.c - the responder beside the RX worker: an initiation that
 * passed the gate (dp_cookie.c) is consumed and answered here (kernel noise.c's
 * consume_initiation + create_response, wireguard-go's handshake routine),
 * so a handshake costs Python one upcall instead of four X25519 on its
 * thread. Python keeps deciding: it installs our static key and, per peer
 * slot, the peer's static key, PSK, static-static DH, replay timestamp and
 * last initiation time (wgc_dp_hs_*), and it turns the WGC_DP_UP_HANDSHAKE
 * upcall into the keypair, the index and the timers. The rules are
 * protocol/noise.py's consume_initiation: timestamp strictly later, at most
 * one initiation per HANDSHAKE_INITIATION_RATE per peer, and nothing
 * changes on a failure.
 *
 * Threads: the RX worker only queues initiations (dp_hs_queue); one
 * handshake worker per CPU (dp_hs_main) answers them, so the X25519s use
 * every core and transport packets never wait behind them (wireguard-go's
 * handshake queue and routines, the kernel's handshake workqueue). Cookie
 * replies stay in the RX worker (dp_cookie.c): at a few microseconds each,
 * a hand-off would cost more than it spreads.
 *
 * Locking: the table is shared (under dp->mu); the queue has its own q_mu;
 * the crypto runs outside both on copies, and a peer reconfigured meanwhile
 * (its gen moved) drops the message.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "dp_batch.h"
#include "dp_handshake.h"

#define INITIATION_RATE_NS (DP_NS / WGC_HANDSHAKE_INITIATIONS_PER_SECOND)

struct dp_hs_peer {
    u32 gen;                        /* bumped by every change: 0 never used */
    u8 used;
    u8 remote_static[32], psk[32], static_static[32];
    u8 mac1_key[32];                /* for our response: HASH("mac1----" || remote static) */
    u8 cookie[WGC_MAC_LEN];         /* the peer's cookie for our mac2, if fresh */
    u64 cookie_set_ns;              /* 0: none */
    u8 last_ts[12];
    u64 last_init_ns;
};

/* An initiation waiting for a handshake worker. */
struct dp_hs_job {
    u8 msg[WGC_HS_INITIATION_LEN];
    struct wgc_dp_endpoint ep;
};
/* Initiations waiting at most; more are dropped (the initiator retries). */
#define QUEUE_LEN 256
/* Jobs a worker takes per wake-up at most. */
#define TAKE_MAX 32

struct dp_hs {
    /* The queue, under q_mu (not mu: the workers wait on it). */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    u32 q_head, q_count;
    int stopping;                   /* the workers return */
    struct dp_hs_job jobs[QUEUE_LEN];
    /* The table, under dp->mu. */
    u8 has_key;
    u8 s_priv[32], s_pub[32];
    u32 hash_mask;                  /* remote static -> slot + 1, linear probing */
    u32 *hash;
    struct dp_hs_peer peers[];      /* by slot */
};

int dp_hs_alloc(struct wgc_dp *dp)
{
    u32 cap = 4;
    while (cap < 2 * dp->max_peers)
        cap <<= 1;
    /* calloc'd: the table's pages stay untouched until peers use them. */
    dp->hs = calloc(1, sizeof(*dp->hs) + (size_t)dp->max_peers * sizeof(dp->hs->peers[0]));
    if (dp->hs == NULL)
        return -1;
    dp->hs->hash = calloc(cap, sizeof(u32));
    if (dp->hs->hash == NULL) {
        free(dp->hs);
        dp->hs = NULL;
        return -1;
    }
    dp->hs->hash_mask = cap - 1;
    pthread_mutex_init(&dp->hs->q_mu, NULL);
    pthread_cond_init(&dp->hs->q_cv, NULL);
    return 0;
}

u32 dp_hs_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > DP_HS_THREADS_MAX ? DP_HS_THREADS_MAX : (u32)n;
}

void dp_hs_stop(struct wgc_dp *dp, int stopping)
{
    pthread_mutex_lock(&dp->hs->q_mu);
    dp->hs->stopping = stopping;
    dp->hs->q_count = 0;
    pthread_cond_broadcast(&dp->hs->q_cv);
    pthread_mutex_unlock(&dp->hs->q_mu);
}

void dp_hs_free(struct wgc_dp *dp)
{
    if (dp->hs == NULL)
        return;
    free(dp->hs->hash);
    pthread_mutex_destroy(&dp->hs->q_mu);
    pthread_cond_destroy(&dp->hs->q_cv);
    wgc_wipe(dp->hs, sizeof(*dp->hs) + (size_t)dp->max_peers * sizeof(dp->hs->peers[0]));
    free(dp->hs);
    dp->hs = NULL;
}

/* Public keys are not secret and come from configured peers or from a
 * message that decrypted under our key, so a plain hash does. */
static u32 key_hash(const struct dp_hs *hs, const u8 key[32])
{
    return (load32_le(key) ^ load32_le(key + 12) * 0x9e3779b1u) & hs->hash_mask;
}

/* Under mu: the slot whose peer has this static key, or -1. */
static i32 find_slot(const struct dp_hs *hs, const u8 key[32])
{
    u32 i = key_hash(hs, key);
    while (hs->hash[i] != 0) {
        const struct dp_hs_peer *p = &hs->peers[hs->hash[i] - 1];
        if (memcmp(p->remote_static, key, 32) == 0)
            return (i32)(hs->hash[i] - 1);
        i = (i + 1) & hs->hash_mask;
    }
    return -1;
}

static void hash_insert(struct dp_hs *hs, u32 slot)
{
    u32 i = key_hash(hs, hs->peers[slot].remote_static);
    while (hs->hash[i] != 0)
        i = (i + 1) & hs->hash_mask;
    hs->hash[i] = slot + 1;
}

/* Linear probing's deletion: later entries of the run move back into the hole. */
static void hash_remove(struct dp_hs *hs, u32 slot)
{
    u32 i = key_hash(hs, hs->peers[slot].remote_static), j;
    while (hs->hash[i] != slot + 1)
        i = (i + 1) & hs->hash_mask;
    hs->hash[i] = 0;
    for (j = (i + 1) & hs->hash_mask; hs->hash[j] != 0; j = (j + 1) & hs->hash_mask) {
        u32 home = key_hash(hs, hs->peers[hs->hash[j] - 1].remote_static);
        /* Move j back unless its home lies cyclically in (i, j]. */
        if (((j - home) & hs->hash_mask) >= ((j - i) & hs->hash_mask)) {
            hs->hash[i] = hs->hash[j];
            hs->hash[j] = 0;
            i = j;
        }
    }
}

int wgc_dp_hs_set_key(struct wgc_dp *dp, const uint8_t *priv, const uint8_t *pub)
{
    pthread_mutex_lock(&dp->mu);
    dp->hs->has_key = priv != NULL && pub != NULL;
    if (dp->hs->has_key) {
        memcpy(dp->hs->s_priv, priv, 32);
        memcpy(dp->hs->s_pub, pub, 32);
    } else {
        wgc_wipe(dp->hs->s_priv, 32);
    }
    pthread_mutex_unlock(&dp->mu);
    return 0;
}

int wgc_dp_hs_peer(struct wgc_dp *dp, int32_t slot, const uint8_t *remote_static,
                   const uint8_t psk[32], const uint8_t static_static[32],
                   const uint8_t last_timestamp[12], uint64_t last_initiation_ns)
{
    struct dp_hs *hs = dp->hs;
    struct dp_hs_peer *p;
    u8 unused[32], ts[12];
    u64 init_ns = last_initiation_ns;
    u32 gen;

    if (slot < 0 || (u32)slot >= dp->max_peers)
        return -1;
    pthread_mutex_lock(&dp->mu);
    p = &hs->peers[slot];
    gen = p->gen + 1 ? p->gen + 1 : 1;
    if (remote_static != NULL)
        memcpy(ts, last_timestamp, 12);
    /* The same peer again (a new PSK, say): its replay floor and last time only
     * move forward, as answers Python has not read yet may have moved them. */
    if (p->used && remote_static != NULL && memcmp(p->remote_static, remote_static, 32) == 0) {
        if (memcmp(p->last_ts, ts, 12) > 0)
            memcpy(ts, p->last_ts, 12);
        if (p->last_init_ns > init_ns)
            init_ns = p->last_init_ns;
    }
    if (p->used)
        hash_remove(hs, (u32)slot);
    wgc_wipe(p, sizeof(*p));
    p->gen = gen;
    if (remote_static != NULL && find_slot(hs, remote_static) < 0) {
        p->used = 1;
        memcpy(p->remote_static, remote_static, 32);
        memcpy(p->psk, psk, 32);
        memcpy(p->static_static, static_static, 32);
        memcpy(p->last_ts, ts, 12);
        p->last_init_ns = init_ns;
        wgc_cookie_keys(p->mac1_key, unused, remote_static);
        hash_insert(hs, (u32)slot);
    }
    pthread_mutex_unlock(&dp->mu);
    return remote_static == NULL || p->used ? 0 : -1;
}

int wgc_dp_hs_cookie(struct wgc_dp *dp, int32_t slot, const uint8_t cookie[16],
                     uint64_t cookie_set_ns)
{
    if (slot < 0 || (u32)slot >= dp->max_peers)
        return -1;
    pthread_mutex_lock(&dp->mu);
    memcpy(dp->hs->peers[slot].cookie, cookie, WGC_MAC_LEN);
    dp->hs->peers[slot].cookie_set_ns = cookie_set_ns;
    pthread_mutex_unlock(&dp->mu);
    return 0;
}

int dp_hs_ready(const struct wgc_dp *dp)
{
    return dp->hs->has_key;
}

/* What one answer needs from the table, copied under mu. */
struct answer {
    struct wgc_hs hs;
    u8 s_priv[32], s_pub[32], initiator[32];
    struct dp_hs_peer peer;
    i32 slot;
    u8 ts[12];
};

/* Under mu: 0 and the peer copied into a, or a stats counter to bump. */
static u64 *lookup(struct wgc_dp *dp, struct answer *a)
{
    a->slot = find_slot(dp->hs, a->initiator);
    if (a->slot < 0)
        return &dp->stats.hs_unknown_peer;
    a->peer = dp->hs->peers[a->slot];
    return NULL;
}

/* Under mu: noise.py's replay and flood rules, then the peer's new state;
 * NULL, or the counter of the reason it was refused. */
static u64 *admit(struct wgc_dp *dp, struct answer *a, u64 now)
{
    struct dp_hs_peer *p = &dp->hs->peers[a->slot];
    if (!p->used || p->gen != a->peer.gen)
        return &dp->stats.hs_unknown_peer;      /* reconfigured meanwhile */
    /* TAI64N is big-endian seconds then nanoseconds: later = larger bytes. */
    if (memcmp(a->ts, p->last_ts, 12) <= 0)
        return &dp->stats.hs_replay;
    /* Signed, as noise.py's floats: a last time ahead of now is too soon too. */
    if (p->last_init_ns != 0 && (i64)(now - p->last_init_ns) <= (i64)INITIATION_RATE_NS)
        return &dp->stats.hs_flood;
    memcpy(p->last_ts, a->ts, 12);
    if (now > p->last_init_ns)
        p->last_init_ns = now;
    return NULL;
}

/* A clamped X25519 key and a nonzero index from the kernel's RNG. */
static int fresh(u8 e_priv[32], u32 *index)
{
    u8 r[36];
    do {
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        *index = load32_le(r + 32);
    } while (*index == 0);
    r[0] &= 248;
    r[31] = (r[31] & 127) | 64;
    memcpy(e_priv, r, 32);
    wgc_wipe(r, sizeof(r));
    return 0;
}

/* The response's macs: mac1 under the peer's key, mac2 under its cookie
 * while that is fresh (cookie.py's add_macs). */
static void add_macs(u8 msg[WGC_HS_RESPONSE_LEN], const struct dp_hs_peer *p, u64 now)
{
    u32 end = WGC_HS_RESPONSE_LEN - 2 * WGC_MAC_LEN;
    wgc_blake2s(msg + end, WGC_MAC_LEN, msg, end, p->mac1_key, 32);
    if (p->cookie_set_ns != 0 && now - p->cookie_set_ns <= WGC_COOKIE_REFRESH_S * DP_NS)
        wgc_blake2s(msg + end + WGC_MAC_LEN, WGC_MAC_LEN, msg, end + WGC_MAC_LEN,
                    p->cookie, WGC_MAC_LEN);
}

/* Send msg back from the address the message came to; a failure is only
 * counted (the initiator retries). */
static void send_back(struct wgc_dp *dp, u8 *msg, u32 len, const struct wgc_dp_endpoint *ep)
{
    struct dp_pkt pkt;
    struct iovec iov;
    memset(&pkt, 0, sizeof(pkt));
    pkt.ep = *ep;
    iov.iov_base = msg;
    iov.iov_len = len;
    if (dp_send_datagram(dp->udp_fd[ep->family == 6], &iov, &pkt) != 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.send_errors++;
        pthread_mutex_unlock(&dp->mu);
    }
}

/* Outside mu: answer the initiation or drop it; the upcall is queued before
 * the response goes, so Python has the keypair before the initiator's first
 * transport packet can reach it. */
static void respond(struct wgc_dp *dp, const struct dp_hs_job *job, u64 now)
{
    struct answer a;
    u8 up[WGC_DP_HANDSHAKE_LEN], e_priv[32], msg[WGC_HS_RESPONSE_LEN];
    u32 local_index, remote_index = load32_le(job->msg + 4);
    u64 *refused = &dp->stats.hs_decrypt;

    pthread_mutex_lock(&dp->mu);
    memcpy(a.s_priv, dp->hs->s_priv, 32);
    memcpy(a.s_pub, dp->hs->s_pub, 32);
    pthread_mutex_unlock(&dp->mu);
    if (wgc_hs_consume_initiation(&a.hs, a.initiator, job->msg, a.s_priv, a.s_pub) != 0)
        goto done;
    pthread_mutex_lock(&dp->mu);
    refused = lookup(dp, &a);
    pthread_mutex_unlock(&dp->mu);
    if (refused != NULL)
        goto done;
    refused = &dp->stats.hs_decrypt;
    if (wgc_hs_consume_initiation_payload(&a.hs, a.ts, job->msg, a.peer.static_static) != 0)
        goto done;
    pthread_mutex_lock(&dp->mu);
    refused = admit(dp, &a, now);
    pthread_mutex_unlock(&dp->mu);
    if (refused != NULL)
        goto done;
    refused = &dp->stats.hs_decrypt;
    if (fresh(e_priv, &local_index) != 0 ||
        wgc_hs_create_response(&a.hs, msg, a.peer.remote_static, a.peer.psk, e_priv,
                               local_index, remote_index) != 0)
        goto done;
    add_macs(msg, &a.peer, now);
    store32_le(up, (u32)a.slot);
    store32_le(up + 4, local_index);
    store32_le(up + 8, remote_index);
    memcpy(up + 12, a.ts, 12);
    memcpy(up + 24, msg + WGC_HS_RESPONSE_LEN - 2 * WGC_MAC_LEN, WGC_MAC_LEN);
    wgc_hs_derive_keys(&a.hs, up + 40, up + 72, 0);
    refused = NULL;
    pthread_mutex_lock(&dp->mu);
    dp->stats.hs_responses++;
    dp_upcall(dp, WGC_DP_UP_HANDSHAKE, up, sizeof(up), &job->ep);
    pthread_mutex_unlock(&dp->mu);
    send_back(dp, msg, sizeof(msg), &job->ep);
done:
    if (refused != NULL) {
        pthread_mutex_lock(&dp->mu);
        (*refused)++;
        pthread_mutex_unlock(&dp->mu);
    }
    wgc_wipe(&a, sizeof(a));
    wgc_wipe(up, sizeof(up));
    wgc_wipe(e_priv, sizeof(e_priv));
}

void dp_hs_queue(struct wgc_dp *dp, struct dp_batch *b, u32 n)
{
    struct dp_hs *hs = dp->hs;
    u32 i, full = 0;

    u32 queued = 0;

    pthread_mutex_lock(&hs->q_mu);
    for (i = 0; i < n; i++) {
        struct dp_pkt *pkt = &b->pkt[i];
        struct dp_hs_job *job;
        if (pkt->state != PKT_HANDSHAKE)
            continue;
        if (hs->q_count == QUEUE_LEN) {
            pkt->state = PKT_DROP;
            full++;
            continue;
        }
        job = &hs->jobs[(hs->q_head + hs->q_count++) % QUEUE_LEN];
        memcpy(job->msg, pkt->buf, sizeof(job->msg));
        job->ep = pkt->ep;
        pkt->state = PKT_DROP;
        queued++;
    }
    /* One wake-up per batch: a worker that finds more keeps going. */
    if (queued > 1)
        pthread_cond_broadcast(&hs->q_cv);
    else if (queued == 1)
        pthread_cond_signal(&hs->q_cv);
    pthread_mutex_unlock(&hs->q_mu);
    if (full > 0) {
        pthread_mutex_lock(&dp->mu);
        dp->stats.hs_queue_full += full;
        pthread_mutex_unlock(&dp->mu);
    }
}

void *dp_hs_main(void *arg)
{
    struct wgc_dp *dp = arg;
    struct dp_hs *hs = dp->hs;
    struct dp_hs_job jobs[TAKE_MAX];
    u32 i, n;

    for (;;) {
        pthread_mutex_lock(&hs->q_mu);
        while (hs->q_count == 0 && !hs->stopping)
            pthread_cond_wait(&hs->q_cv, &hs->q_mu);
        if (hs->stopping) {
            pthread_mutex_unlock(&hs->q_mu);
            break;
        }
        /* Half of what waits (the other workers take the rest), one at least. */
        n = (hs->q_count + 1) / 2;
        n = n > TAKE_MAX ? TAKE_MAX : n;
        for (i = 0; i < n; i++) {
            jobs[i] = hs->jobs[hs->q_head];
            hs->q_head = (hs->q_head + 1) % QUEUE_LEN;
        }
        hs->q_count -= n;
        pthread_mutex_unlock(&hs->q_mu);
        for (i = 0; i < n; i++)
            respond(dp, &jobs[i], dp_now_ns());
    }
    return NULL;
}
