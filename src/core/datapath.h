/*
 * datapath.h - private structures shared by datapath.c (object, config,
 * events, upcalls), dp_lpm.c (allowed IPs), dp_io.c (batches, crypto, the
 * RX worker), dp_tx.c (the TX worker), dp_udp.c (addresses and sends) and
 * dp_offload.c (TUN segmentation, GRO, checksums). Not part of the ABI.
 * Every includer defines _GNU_SOURCE first (struct mmsghdr).
 *
 * Concurrency (the only place in wgpy that has any): one mutex, dp->mu,
 * guards every shared field: peers, keypairs, index table, routes,
 * counters, events and the upcall ring. Workers take it for short
 * bookkeeping phases per batch and do the crypto and the syscalls outside
 * it, on copies of the keys, so TX and RX run in parallel on two cores.
 * dp->flags and dp->udp_gro are set before the workers start; udp_gso is
 * the TX worker's alone.
 */
#ifndef WGC_DATAPATH_H
#define WGC_DATAPATH_H

#ifndef __linux__
#error "the datapath uses Linux interfaces (recvmmsg, eventfd, IP_PKTINFO)"
#endif

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "wgcore.h"
#include "util.h"

typedef uint16_t u16;           /* util.h has the crypto code's widths only */

#define DP_HEADER_LEN 16            /* type, receiver, counter */
/* A packet buffer: header, packet_max, up to 15 padding bytes, tag; rounded up. */
#define DP_BUF_EXTRA 64
#define DP_NS 1000000000ull
/* Protocol constants the workers act on (constants.py, Specification). */
#define DP_REKEY_AFTER_MESSAGES (1ull << 60)
#define DP_REKEY_AFTER_TIME_NS (120 * DP_NS)
#define DP_REJECT_AFTER_TIME_NS (180 * DP_NS)
/* REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (keep_key_fresh_receiving). */
#define DP_REKEY_RECV_AFTER_NS ((180 - 10 - 5) * DP_NS)
/* A rekey signal per peer at most this often: Python rate-limits initiations itself. */
#define DP_REKEY_SIGNAL_NS DP_NS
#define DP_URGENT (WGC_DP_EV_CONFIRMED | WGC_DP_EV_REKEY_SEND | WGC_DP_EV_REKEY_RECV)

struct dp_peer;

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


/* ---- a worker's batch (dp_io.c, dp_udp.c, dp_offload.c) ---- */
/* Room for IP(V6)_PKTINFO plus one UDP_SEGMENT (u16) or UDP_GRO (int). */
#define DP_CMSG_BYTES (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))
/* TX: segments per batch; a 64 KiB TSO super-packet at MSS 1380 is 48 of them. */
#define DP_TX_SEGS 64
/* TX: a TUN read; the largest GSO super-packet plus its virtio_net_hdr. */
#define DP_SUPER_LEN 65536
/* RX with UDP GRO: datagram buffers per recvmmsg, each a whole coalesced
 * super-datagram; without GRO, DP_RX_MSGS buffers of packet_max. */
#define DP_GRO_BUFS 8
#define DP_GRO_BUF_LEN 65536
#define DP_RX_MSGS 32
/* RX: datagrams (after splitting GRO super-datagrams) handled per batch. */
#define DP_RX_PKTS 256
/* At most this many datagrams per UDP_SEGMENT send (the kernel's older limit). */
#define DP_UDP_GSO_SEGS 64
/* ... and at most this many bytes: an IPv6 datagram's payload limit. */
#define DP_UDP_GSO_BYTES (65535 - 8)
/* virtio_net_hdr (linux/virtio_net.h) in front of every TUN packet with IFF_VNET_HDR. */
#define DP_VNET_LEN 10
/* It sits in the last DP_VNET_LEN bytes of the header room in front of the
 * IP packet, so a TUN read or write is one contiguous span. */
#define DP_VNET_AT (DP_HEADER_LEN - DP_VNET_LEN)

enum { PKT_DROP, PKT_SEAL, PKT_OPEN, PKT_WRITE };

union dp_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

union dp_cmsg {
    size_t align;           /* cmsghdr alignment (its type has a flexible member) */
    u8 bytes[DP_CMSG_BYTES];
};

struct dp_pkt {
    u8 *buf;                /* header at buf, IP packet at buf + DP_HEADER_LEN */
    u32 len;                /* see the phase functions */
    u32 data_len;           /* TX: IP packet length before padding */
    int state;
    i32 slot;
    u32 local_index;
    u64 kp_id, counter;
    u8 key[32];
    struct wgc_dp_endpoint ep;
};

/* Host-order copy of a virtio_net_hdr. */
struct dp_vnet {
    u8 flags, gso_type;
    u16 hdr_len, gso_size, csum_start, csum_offset;
};
#define DP_VNET_F_NEEDS_CSUM 1
#define DP_VNET_GSO_NONE 0
#define DP_VNET_GSO_TCPV4 1
#define DP_VNET_GSO_TCPV6 4
#define DP_VNET_GSO_UDP_L4 5
#define DP_VNET_GSO_ECN 0x80

/* A TSO/USO super-packet being cut into segments (dp_offload.c). */
struct dp_tso {
    const u8 *pkt;          /* IP header first */
    u32 len;                /* of the whole super-packet */
    u32 l4_off, hdr_len;    /* TCP header offset; IP + TCP header length */
    u32 gso_size;
    u32 off;                /* payload offset of the next segment; len when done */
    u16 ip_id;
    u8 udp;                 /* UDP_L4 (USO) rather than TCP */
    u32 seq;
};

/* A worker's batch: cap packets, each a buf_len-byte slice of mem (TX) or
 * of a received datagram buffer (RX: n_recv of recv_len bytes in mem). */
struct dp_io {
    u32 cap, buf_len, n_recv, recv_len;
    struct dp_pkt *pkt;
    struct wgc_batch_item *items;
    struct mmsghdr *msgs;
    u32 *msg_pkt;           /* msgs[i] carries pkt[msg_pkt[i]] ... */
    u32 *msg_segs;          /* ... and the msg_segs[i] - 1 after it (UDP GSO) */
    u32 *members;           /* RX: a GRO group's packet indices */
    struct iovec *iov;
    union dp_sockaddr *names;
    union dp_cmsg *cmsg;
    u8 *mem;
    u8 *super;              /* TX: TUN reads that overflow a packet buffer */
    struct dp_tso tso;      /* TX: the super-packet being segmented, if tso.pkt */
    u32 bad_offload;        /* TX: dropped since the last flush into stats */
};

struct wgc_dp {
    pthread_mutex_t mu;
    struct dp_peer **peers;
    u32 max_peers, n_peers;
    struct dp_keypair **buckets;
    u32 bucket_mask;
    struct dp_lpm *lpm;
    u32 mtu, packet_max;
    int event_fd, stop_fd;
    int tun_fd, udp_fd[2];          /* [0] IPv4, [1] IPv6 */
    u32 flags;                      /* WGC_DP_* start flags */
    int udp_gso;                    /* TX worker: 0 once the kernel refused UDP_SEGMENT */
    int udp_gro;                    /* UDP_GRO is on: RX buffers hold super-datagrams */
    int running;
    pthread_t tx_thread, rx_thread;
    struct dp_io *tx_io, *rx_io;
    u32 *pending, n_pending;        /* peers with events, each at most once */
    int activity_armed;
    struct dp_upcall_rec ring[WGC_DP_UPCALLS];
    u32 ring_head, ring_count;
    u8 *upcall_mem;
    struct wgc_dp_stats stats;
    u64 next_kp_id;
    pthread_mutex_t send_mu;        /* send_buf, for wgc_dp_send from any thread */
    u8 *send_buf;
};

/* datapath.c; all but dp_now_ns are called with mu held */
u64 dp_now_ns(void);
void dp_wake(struct wgc_dp *dp);     /* make event_fd readable */
struct dp_peer *dp_peer_at(struct wgc_dp *dp, i32 slot);
struct dp_keypair *dp_find_keypair(struct wgc_dp *dp, u32 local_index);
void dp_signal(struct wgc_dp *dp, struct dp_peer *p, u32 events);
void dp_upcall(struct wgc_dp *dp, u32 kind, const u8 *data, u32 len,
               const struct wgc_dp_endpoint *from);
struct dp_keypair *dp_send_keypair(struct dp_peer *p, u64 now);
u32 dp_padded_len(u32 len, u32 mtu);

/* dp_lpm.c */
struct dp_lpm *dp_lpm_build(const struct wgc_dp_prefix *p, size_t n);
i32 dp_lpm_lookup(const struct dp_lpm *t, u8 family, const u8 *addr);
void dp_lpm_forget_peer(struct dp_lpm *t, i32 peer);

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

/* dp_offload.c */
void dp_vnet_load(struct dp_vnet *v, const u8 *p);
void dp_vnet_store(const struct dp_vnet *v, u8 *p);
int dp_csum_finish(const struct dp_vnet *v, u8 *pkt, u32 len);
int dp_tso_begin(struct dp_tso *t, const struct dp_vnet *v, const u8 *pkt, u32 len,
                 u32 seg_max);
u32 dp_tso_next(struct dp_tso *t, u8 *out);
u32 dp_gro_group(struct dp_pkt *pkt, u32 n, u32 first, u32 *members, u32 max, int udp);
u32 dp_gro_finish(const struct dp_pkt *pkt, const u32 *members, u32 count, u8 *vnet);
u32 dp_gro_payload_off(const u8 *ip);

/* dp_io.c, dp_tx.c */
struct dp_io *dp_io_new(u32 packet_max, int tx);
void dp_io_recv_layout(struct dp_io *io, int gro);
u32 dp_crypt_runs(struct dp_io *io, u32 n, int want, int sealing);
void dp_io_free(struct dp_io *io);
void *dp_tx_main(void *arg);
void *dp_rx_main(void *arg);
void dp_seal_prepare(struct wgc_dp *dp, struct dp_peer *p, struct dp_keypair *kp,
                     struct dp_pkt *pkt, u64 now, int worker);

/* dp_udp.c */
void dp_fill_msg(struct msghdr *h, union dp_sockaddr *name, union dp_cmsg *cmsg,
                 struct iovec *iov, u32 n_iov, const struct wgc_dp_endpoint *ep, u32 gso_size);
u32 dp_parse_msg(const struct msghdr *h, struct wgc_dp_endpoint *ep);
int dp_udp_gro_enable(int fd, int on);
u32 dp_send_msgs(struct wgc_dp *dp, struct dp_io *io, int fd, u32 m);
int dp_send_one(struct wgc_dp *dp, i32 slot, const u8 *packet, size_t len);

#endif
