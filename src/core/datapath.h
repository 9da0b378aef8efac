/*
 * datapath.h - the datapath's shared state: struct wgc_dp, peers, keypairs,
 * allowed IPs and the upcall ring, with who owns each field. Not part of
 * the ABI. Every includer defines _GNU_SOURCE first (struct mmsghdr).
 *
 * Files, each calling only the ones below it (test_call_graph.py checks it):
 *   datapath.c  the object's lifecycle and the state Python installs
 *   dp_send.c   the send pipeline: TX worker and wgc_dp_send (send.go)
 *   dp_recv.c   the receive pipeline: RX worker (receive.go)
 *   dp_handshake.c the responder: initiations answered in the RX worker
 *   dp_cookie.c the responder's gate for handshake messages: mac1, load,
 *               cookie replies, per-source rate limit (cookie.c computes)
 *   dp_event.c  what flows back to Python: events, upcalls, counters
 *   dp_batch.c  a worker's batch (dp_batch.h) and its crypto runs
 *   dp_udp.c    the socket edge: msghdr, PKTINFO, GSO/GRO, sendmmsg (conn/)
 *   dp_offload.c, dp_lpm.c  pure functions on buffers and on the table
 *
 * Concurrency (the only place in wgpy that has any): the fields of struct
 * wgc_dp are grouped by owner. The shared group is guarded by dp->mu; the
 * workers take it for short bookkeeping phases per batch and do the crypto
 * and the syscalls outside it, on copies of the keys, so TX and RX run in
 * parallel on two cores. Everything reachable from a peer or keypair is
 * shared (under mu) too. wgc_dp_send has its own buffer under send.mu.
 */
#ifndef WGC_DATAPATH_H
#define WGC_DATAPATH_H

#ifndef __linux__
#error "the datapath uses Linux interfaces (recvmmsg, eventfd, IP_PKTINFO)"
#endif

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wgcore.h"
#include "util.h"

typedef uint16_t u16;           /* util.h has the crypto code's widths only */

#define DP_HEADER_LEN 16            /* type, receiver, counter */
/* A packet buffer: header, packet_max, up to 15 padding bytes, tag; rounded up. */
#define DP_BUF_EXTRA 64
#define DP_NS 1000000000ull
/* The protocol constants the workers act on (wgcore.h, WGC_*), in nanoseconds. */
#define DP_REKEY_AFTER_TIME_NS (WGC_REKEY_AFTER_TIME_S * DP_NS)
#define DP_REJECT_AFTER_TIME_NS (WGC_REJECT_AFTER_TIME_S * DP_NS)
/* REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (keep_key_fresh_receiving). */
#define DP_REKEY_RECV_AFTER_NS \
    ((WGC_REJECT_AFTER_TIME_S - WGC_KEEPALIVE_TIMEOUT_S - WGC_REKEY_TIMEOUT_S) * DP_NS)
/* A rekey signal per peer at most this often: Python rate-limits initiations itself. */
#define DP_REKEY_SIGNAL_NS DP_NS
#define DP_URGENT (WGC_DP_EV_CONFIRMED | WGC_DP_EV_REKEY_SEND | WGC_DP_EV_REKEY_RECV)

/* Handshake workers at most (one per CPU): X25519 on every core of a router. */
#define DP_HS_THREADS_MAX 4
struct dp_peer;
struct dp_batch;
struct dp_hs;

struct dp_keypair {
    struct dp_keypair *hnext;       /* receiver-index hash chain */
    struct dp_peer *peer;
    u64 id;                         /* unique per install: tells a reused index apart */
    u64 send_counter;
    u64 created_ns;
    u32 local_index, remote_index;
    u8 is_initiator, can_send;
    u8 send_key[32], recv_key[32];
    struct wgc_replay replay;       /* RX worker only, under mu */
};

struct dp_peer {
    struct dp_keypair *kp[3];       /* previous, current, next */
    /* The one owner of the sticky source (endpoint.src): set by Python, by
     * roaming (dp_recv.c), and cleared when a send finds it gone (dp_send.c). */
    struct wgc_dp_endpoint endpoint;
    u64 rx_bytes, tx_bytes;
    u64 last_data_sent_ns, last_auth_sent_ns, last_data_recv_ns, last_auth_recv_ns;
    u64 rekey_signal_ns;
    u32 events;
    u32 queued;        /* in dp->pending: at most once, so pending never overflows */
    u32 confirmed_index;
    i32 slot;
};

/* Allowed IPs: entries sorted by family, prefix length (longest first),
 * then key; a group is the run of one (family, length). Keys are the
 * address as a big-endian 128-bit number (IPv4 in the top 32 bits). */
struct dp_route {
    u64 hi, lo;
    i32 peer;
    u8 family, len;
};
struct dp_group {
    u32 start, count;
    u8 family, len;
};
struct dp_lpm {
    u32 n_routes, n_groups;
    struct dp_group groups[33 + 129];
    struct dp_route routes[];
};

struct dp_upcall_rec {
    u32 kind, len;
    struct wgc_dp_endpoint from;
    u8 *data;                       /* packet_max bytes of dp->upcall_mem */
};

struct wgc_dp {
    /* ---- fixed: set by wgc_dp_new or wgc_dp_start before the workers run ---- */
    u32 max_peers;                  /* slots in peers and pending */
    u32 packet_max;                 /* largest IP packet; sizes every buffer */
    u32 bucket_mask;                /* the index hash has bucket_mask + 1 chains */
    int event_fd;                   /* readable when Python has work (wgcore.h) */
    int stop_fd;                    /* readable when the workers must return */
    int tun_fd, udp_fd[2];          /* udp_fd[0] IPv4, [1] IPv6; -1 if none */
    u32 flags;                      /* WGC_DP_* start flags */
    int udp_gro;                    /* UDP_GRO is on: RX buffers hold super-datagrams */
    u8 *upcall_mem;                 /* WGC_DP_UPCALLS * packet_max bytes for ring */

    /* ---- Python's thread (wgc_dp_start/stop/free) ---- */
    int running;                    /* the workers exist */
    pthread_t tx_thread, rx_thread;
    pthread_t hs_threads[DP_HS_THREADS_MAX];   /* dp_handshake.c's workers */
    u32 n_hs_threads;

    /* ---- shared: read and written only under mu ---- */
    pthread_mutex_t mu;
    struct dp_peer **peers;         /* by slot; NULL is a free slot */
    u32 n_peers;
    struct dp_keypair **buckets;    /* receiver-index hash of every installed keypair */
    u64 next_kp_id;                 /* dp_keypair.id of the next install */
    struct dp_lpm *lpm;             /* allowed IPs, replaced as a whole */
    u32 mtu;                        /* caps padding (dp_padded_len) */
    u32 *pending, n_pending;        /* peers with events, each at most once */
    int activity_armed;             /* the next ACTIVITY event writes event_fd */
    struct dp_upcall_rec ring[WGC_DP_UPCALLS];  /* upcalls waiting for Python */
    u32 ring_head, ring_count;
    struct wgc_dp_stats stats;      /* drops by reason */
    struct {                        /* Python's cookie state (wgc_dp_set_cookie) */
        u8 has_key;                 /* 0: no private key, handshakes all go up */
        u8 mac1_key[32], cookie_key[32], secret[32];
        u64 secret_set_ns;          /* 0: no secret */
    } cookie;
    struct dp_hs *hs;               /* the responder's table (dp_handshake.c) */

    /* ---- the TX worker's alone (dp_send.c) ---- */
    struct {
        struct dp_batch *batch;
        int udp_gso;                /* 0 once the kernel refused UDP_SEGMENT for good */
    } tx;

    /* ---- the RX worker's alone (dp_recv.c) ---- */
    struct {
        struct dp_batch *batch;
        /* Arrival times of the last handshake messages (device.py's load rule). */
        u64 hs_times[WGC_UNDER_LOAD_HANDSHAKES_PER_SECOND];
        u32 hs_pos;
        u64 under_load_until_ns;
        struct wgc_ratelimit *limit;
        u8 nonces[24 * 32];         /* cookie reply nonces, refilled by getrandom */
        u32 nonces_used;
    } rx;

    /* ---- wgc_dp_send, from any Python thread ---- */
    struct {
        pthread_mutex_t mu;         /* guards buf */
        u8 *buf;                    /* packet_max + DP_BUF_EXTRA bytes */
    } send;
};

/* ---- small shared helpers: no locking of their own ---- */

static inline u64 dp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u64)ts.tv_sec * DP_NS + (u64)ts.tv_nsec;
}

/* Make an eventfd readable. A full counter (never in practice) or EAGAIN
 * still leaves it readable. */
static inline void dp_notify(int fd)
{
    u64 one = 1;
    if (write(fd, &one, sizeof(one)) < 0)
        return;
}

/* Under mu: the peer in slot, or NULL. */
static inline struct dp_peer *dp_peer_at(struct wgc_dp *dp, i32 slot)
{
    if (slot < 0 || (u32)slot >= dp->max_peers)
        return NULL;
    return dp->peers[slot];
}

/* Under mu: the receiver-index hash chain for index. Indices are random
 * (index.py), so the low bits spread well. */
static inline struct dp_keypair **dp_bucket(struct wgc_dp *dp, u32 index)
{
    return &dp->buckets[index & dp->bucket_mask];
}

/* Under mu: the installed keypair with this local index, or NULL. */
static inline struct dp_keypair *dp_find_keypair(struct wgc_dp *dp, u32 local_index)
{
    struct dp_keypair *kp = *dp_bucket(dp, local_index);
    while (kp != NULL && kp->local_index != local_index)
        kp = kp->hnext;
    return kp;
}

/* Under mu: the peer's sticky source is gone; sends let routing choose. */
static inline void dp_forget_source(struct dp_peer *p)
{
    p->endpoint.has_src = 0;
    p->endpoint.src_ifindex = 0;
    memset(p->endpoint.src, 0, sizeof(p->endpoint.src));
}

/* Two endpoints are the same (memcmp of the struct, which has no padding),
 * word by word inline: a libc call per packet shows on small cores. */
static inline int dp_ep_equal(const struct wgc_dp_endpoint *a, const struct wgc_dp_endpoint *b)
{
    const u8 *x = (const u8 *)a, *y = (const u8 *)b;
    size_t i;
    for (i = 0; i < sizeof(*a); i += 4) {
        u32 u, v;
        memcpy(&u, x + i, 4);
        memcpy(&v, y + i, 4);
        if (u != v)
            return 0;
    }
    return 1;
}

/* Network byte order (IP and TCP headers). */
static inline u16 load16_be(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline void store16_be(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline u32 load32_be(const u8 *p)
{
    return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}
static inline void store32_be(u8 *p, u32 v)
{
    p[0] = (u8)(v >> 24); p[1] = (u8)(v >> 16); p[2] = (u8)(v >> 8); p[3] = (u8)v;
}

/* dp_send.c, dp_recv.c: the worker threads' bodies */
void *dp_tx_main(void *arg);
void *dp_rx_main(void *arg);

/* dp_event.c, under mu */
void dp_signal(struct wgc_dp *dp, struct dp_peer *p, u32 events);
void dp_upcall(struct wgc_dp *dp, u32 kind, const u8 *data, u32 len,
               const struct wgc_dp_endpoint *from);
void dp_unqueue(struct wgc_dp *dp, i32 slot);

/* dp_lpm.c */
struct dp_lpm *dp_lpm_build(const struct wgc_dp_prefix *p, size_t n);
i32 dp_lpm_lookup(const struct dp_lpm *t, u8 family, const u8 *addr);
void dp_lpm_forget_peer(struct dp_lpm *t, i32 peer);

#endif
