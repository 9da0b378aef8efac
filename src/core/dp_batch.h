/*
 * dp_batch.h - a worker's batch and the packet in it: private to the
 * worker that owns the batch (dp->tx.batch, dp->rx.batch), so nothing here
 * is locked. Declares the files that work on batches and packets:
 * dp_batch.c (allocation, crypto runs), dp_udp.c (the sockets),
 * dp_offload.c (TUN offloads) and dp_cookie.c (the handshake gate).
 */
#ifndef WGC_DP_BATCH_H
#define WGC_DP_BATCH_H

#include "datapath.h"

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

enum { PKT_DROP, PKT_SEAL, PKT_OPEN, PKT_WRITE, PKT_REPLY, PKT_HANDSHAKE };

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
    u64 kp_id, counter;     /* kp_id: dp_keypair.id of the key copied into key */
    u8 key[32];
    struct wgc_dp_endpoint ep;
    u8 src_gone;            /* TX: ep's source address was gone, sent without it */
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
struct dp_batch {
    u32 cap, buf_len, n_recv, recv_len;
    struct dp_pkt *pkt;
    struct wgc_batch_item *items;
    struct mmsghdr *msgs;
    u32 *msg_pkt;           /* msgs[i] carries pkt[msg_pkt[i]] ... */
    u32 *msg_segs;          /* ... and the msg_segs[i] - 1 after it (UDP GSO) */
    u32 *members;           /* RX: a GRO group's packet indices */
    struct iovec *iov;      /* TX messages, RX TUN writes */
    struct iovec *recv_iov; /* RX: msgs[i] receives into recv_iov[i], set up once */
    u32 n_dirty;            /* RX: msgs whose lengths the last recvmmsg overwrote */
    union dp_sockaddr *names;
    union dp_cmsg *cmsg;
    u8 *mem;
    u8 *super;              /* TX: TUN reads that overflow a packet buffer */
    struct dp_tso tso;      /* TX: the super-packet being segmented, if tso.pkt */
    u32 bad_offload;        /* TX: dropped since the last flush into stats */
};

/* dp_batch.c */
struct dp_batch *dp_batch_new(u32 packet_max, int tx);
void dp_batch_recv_layout(struct dp_batch *b, int gro);
void dp_batch_free(struct dp_batch *b);
u32 dp_crypt_runs(struct dp_batch *b, u32 n, int want);

/* dp_udp.c */
void dp_fill_msg(struct msghdr *h, union dp_sockaddr *name, union dp_cmsg *cmsg,
                 struct iovec *iov, u32 n_iov, const struct wgc_dp_endpoint *ep, u32 gso_size);
u32 dp_parse_msg(const struct msghdr *h, struct wgc_dp_endpoint *ep);
int dp_udp_gro_enable(int fd, int on);
u32 dp_send_msgs(struct dp_batch *b, int fd, u32 m, int *gso);
int dp_send_datagram(int fd, struct iovec *iov, struct dp_pkt *pkt);

/* dp_cookie.c, RX worker under mu: what to do with a received datagram
 * that is not a transport packet for us; DP_GATE_REPLY leaves a cookie
 * reply in pkt->buf (pkt->len bytes) to send back to pkt->ep. DP_GATE_PASS:
 * a handshake message that passed every check; DP_GATE_UP: one for Python
 * to judge (malformed, a cookie reply, no key, or a secret to rotate). */
enum { DP_GATE_UP, DP_GATE_PASS, DP_GATE_DROP, DP_GATE_REPLY };
int dp_cookie_gate(struct wgc_dp *dp, struct dp_pkt *pkt, u64 now);

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

#endif
