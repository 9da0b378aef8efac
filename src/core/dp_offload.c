/*
 * dp_offload.c - TUN offloads (virtio_net_hdr, IFF_VNET_HDR): cutting a TSO
 * super-packet read from the TUN into MTU-sized TCP segments, finishing a
 * checksum the kernel left to us (NEEDS_CSUM), and coalescing received TCP
 * segments of one flow into a super-packet for the TUN (GRO), as the
 * kernel's tcp_gso_segment/tcp_gro_receive and wireguard-go's
 * tun/offload_linux.go do. Pure functions on buffers: no locks, no syscalls.
 *
 * Checksums are RFC 1071 one's-complement sums of big-endian 16-bit words.
 * The data is summed as native 32-bit words with end-around carry (2^16 = 1
 * mod 0xffff, so 32-bit words fold to the same result, and a sum of
 * byte-swapped words is the byte-swapped sum: RFC 1071 2(B)), then swapped
 * once on little-endian hosts: about half the instructions per byte of
 * big-endian loads on MIPS (make profile-dp), where this is the largest
 * share of a TCP segment's cost after the AEAD.
 */
#define _GNU_SOURCE
#include <string.h>

#include "dp_batch.h"

#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17
#define TCP_CSUM_OFF 16
#define UDP_CSUM_OFF 6
/* The kernel's UDP_GRO_CNT_MAX: no more datagrams per coalesced one. */
#define UDP_GRO_SEGS 64
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
/* Followers must not carry SYN, RST, URG, ECE or CWR (tcp_gro_receive flushes). */
#define TCP_GRO_FLAGS_OK (TCP_ACK | TCP_PSH)

/* ---- virtio_net_hdr: legacy layout, host byte order (tun16_to_cpu) ---- */

static u16 load16_host(const u8 *p)
{
    u16 v;
    memcpy(&v, p, 2);
    return v;
}

static void store16_host(u8 *p, u16 v)
{
    memcpy(p, &v, 2);
}

void dp_vnet_load(struct dp_vnet *v, const u8 *p)
{
    v->flags = p[0];
    v->gso_type = p[1];
    v->hdr_len = load16_host(p + 2);
    v->gso_size = load16_host(p + 4);
    v->csum_start = load16_host(p + 6);
    v->csum_offset = load16_host(p + 8);
}

void dp_vnet_store(const struct dp_vnet *v, u8 *p)
{
    p[0] = v->flags;
    p[1] = v->gso_type;
    store16_host(p + 2, v->hdr_len);
    store16_host(p + 4, v->gso_size);
    store16_host(p + 6, v->csum_start);
    store16_host(p + 8, v->csum_offset);
}

/* ---- checksums ---- */

static int little_endian(void)
{
    const u16 one = 1;
    u8 low;
    memcpy(&low, &one, 1);
    return low == 1;
}

/* One's-complement add of a native word, end-around carry. */
static u32 add_carry(u32 s, u32 w)
{
    s += w;
    return s + (s < w);
}

static u32 load32_native(const u8 *p)
{
    u32 w;
    memcpy(&w, p, 4);
    return w;
}

/* The 32-bit sum s of native-order words, plus an n < 4 byte tail at p, folded to 16 bits. */
static u32 csum_finish(u32 s, const u8 *p, u32 n)
{
    if (n >= 2) {
        u16 h;
        memcpy(&h, p, 2);
        s = add_carry(s, h);
        p += 2;
        n -= 2;
    }
    if (n)      /* an odd tail is padded with a zero byte: the word's high byte in wire order */
        s = add_carry(s, little_endian() ? p[0] : (u32)p[0] << 8);
    s = (s & 0xffff) + (s >> 16);
    return (s & 0xffff) + (s >> 16);
}

/* The folded 16-bit sum of n bytes at p, as native-order words. */
static u32 csum_native(const u8 *p, u32 n)
{
    u32 s = 0;
    for (; n >= 16; p += 16, n -= 16) {
        s = add_carry(s, load32_native(p));
        s = add_carry(s, load32_native(p + 4));
        s = add_carry(s, load32_native(p + 8));
        s = add_carry(s, load32_native(p + 12));
    }
    for (; n >= 4; p += 4, n -= 4)
        s = add_carry(s, load32_native(p));
    return csum_finish(s, p, n);
}

/* The same, copying the bytes to dst in the same pass (TSO segments: one
 * read of the payload instead of two). */
static u32 csum_copy_native(u8 *dst, const u8 *p, u32 n)
{
    u32 s = 0;
    for (; n >= 16; p += 16, dst += 16, n -= 16) {
        u32 a = load32_native(p), b = load32_native(p + 4);
        u32 c = load32_native(p + 8), d = load32_native(p + 12);
        memcpy(dst, &a, 4);
        memcpy(dst + 4, &b, 4);
        memcpy(dst + 8, &c, 4);
        memcpy(dst + 12, &d, 4);
        s = add_carry(add_carry(add_carry(add_carry(s, a), b), c), d);
    }
    for (; n >= 4; p += 4, dst += 4, n -= 4) {
        u32 a = load32_native(p);
        memcpy(dst, &a, 4);
        s = add_carry(s, a);
    }
    memcpy(dst, p, n);
    return csum_finish(s, p, n);
}

/* A folded native-order sum in wire (big-endian) order. */
static u32 csum_wire(u32 native)
{
    return little_endian() ? (native >> 8 | native << 8) & 0xffff : native;
}

static u64 csum_add(u64 sum, const u8 *p, u32 n)
{
    return sum + csum_wire(csum_native(p, n));
}

/* Copy n bytes and return their sum (in wire order, unfolded as csum_add's). */
static u64 csum_copy(u8 *dst, const u8 *src, u32 n)
{
    return csum_wire(csum_copy_native(dst, src, n));
}

static u16 csum_fold(u64 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (u16)sum;
}

/* The pseudo-header (addresses, protocol, L4 length) of an IP packet. */
static u64 pseudo_sum(const u8 *ip, u8 proto, u32 l4_len)
{
    if (ip[0] >> 4 == 4)
        return csum_add(0, ip + 12, 8) + proto + l4_len;
    return csum_add(0, ip + 8, 32) + proto + l4_len;
}

static void ipv4_header_csum(u8 *ip)
{
    u32 ihl = (u32)(ip[0] & 15) * 4;
    store16_be(ip + 10, 0);
    store16_be(ip + 10, (u16)~csum_fold(csum_add(0, ip, ihl)));
}

/* Set the IP length field(s) of a packet of total bytes; an IPv6 payload
 * length counts any extension headers too. */
static void set_ip_len(u8 *ip, u32 total)
{
    if (ip[0] >> 4 == 4) {
        store16_be(ip + 2, (u16)total);
        ipv4_header_csum(ip);
    } else {
        store16_be(ip + 4, (u16)(total - 40));
    }
}

/* NEEDS_CSUM on a single packet: the field at csum_start + csum_offset holds
 * the pseudo-header sum; the checksum covers csum_start to the end. */
int dp_csum_finish(const struct dp_vnet *v, u8 *pkt, u32 len)
{
    u32 at = (u32)v->csum_start + v->csum_offset;
    u16 c;
    if (v->csum_start >= len || at + 2 > len)
        return -1;
    c = (u16)~csum_fold(csum_add(0, pkt + v->csum_start, len - v->csum_start));
    /* UDP sends 0 as 0xffff (0 means "no checksum"); TCP reads both alike. */
    store16_be(pkt + at, c == 0 ? 0xffff : c);
    return 0;
}

/* ---- TSO: one super-packet -> segments (TX) ---- */

/* Check the super-packet against its header; seg_max bounds one segment.
 * TCPV4/TCPV6 from TSO; UDP_L4 (USO) from local senders using UDP_SEGMENT
 * once the TUN has USO on. */
int dp_tso_begin(struct dp_tso *t, const struct dp_vnet *v, const u8 *pkt, u32 len,
                 u32 seg_max)
{
    u8 type = v->gso_type & (u8)~DP_VNET_GSO_ECN;
    u32 l4 = v->csum_start, l4_hdr;
    int v4 = len >= 20 && pkt[0] >> 4 == 4;

    memset(t, 0, sizeof(*t));
    if (len < 40 || (!v4 && pkt[0] >> 4 != 6) ||
        (type == DP_VNET_GSO_TCPV4 && (!v4 || pkt[9] != IPPROTO_TCP_NUM)) ||
        (type == DP_VNET_GSO_TCPV6 && v4) ||
        (type != DP_VNET_GSO_TCPV4 && type != DP_VNET_GSO_TCPV6 && type != DP_VNET_GSO_UDP_L4))
        return -1;
    t->udp = type == DP_VNET_GSO_UDP_L4;
    /* csum_start is the L4 header (the kernel sets it so for GSO). */
    if (l4 < (v4 ? 20u : 40u) || l4 + 20 > len ||
        v->csum_offset != (t->udp ? UDP_CSUM_OFF : TCP_CSUM_OFF))
        return -1;
    l4_hdr = t->udp ? 8 : (u32)(pkt[l4 + 12] >> 4) * 4;
    if (l4_hdr < 8 || l4 + l4_hdr > len || v->gso_size == 0 || l4 + l4_hdr + v->gso_size > seg_max)
        return -1;
    t->pkt = pkt;
    t->len = len;
    t->l4_off = l4;
    t->hdr_len = l4 + l4_hdr;
    t->gso_size = v->gso_size;
    t->off = t->hdr_len;
    t->ip_id = v4 ? load16_be(pkt + 4) : 0;
    t->seq = t->udp ? 0 : load32_be(pkt + l4 + 4);
    return 0;
}

/* TCP: sequence number and flags of a segment. FIN and PSH belong to the
 * last segment, CWR to the first (tcp_gso_segment). */
static void tso_tcp_fields(struct dp_tso *t, u8 *tcp, int first, int last)
{
    u8 flags = tcp[13];
    store32_be(tcp + 4, t->seq);
    if (!last)
        flags &= (u8)~(TCP_FIN | TCP_PSH);
    if (!first)
        flags &= (u8)~TCP_CWR;
    tcp[13] = flags;
}

/* Write the next segment at out (headers copied and fixed, payload copied,
 * checksums computed); returns its length, 0 when the super-packet is done. */
u32 dp_tso_next(struct dp_tso *t, u8 *out)
{
    u32 payload = t->len - t->off, seg_len, l4_len, at;
    u8 *l4 = out + t->l4_off;
    u64 payload_sum;
    u16 c;
    int last;

    if (t->pkt == NULL || t->off >= t->len)
        return 0;
    if (payload > t->gso_size)
        payload = t->gso_size;
    last = t->off + payload == t->len;
    seg_len = t->hdr_len + payload;
    memcpy(out, t->pkt, t->hdr_len);
    /* The L4 header's length is even, so the payload's sum adds on. */
    payload_sum = csum_copy(out + t->hdr_len, t->pkt + t->off, payload);
    if (out[0] >> 4 == 4)
        store16_be(out + 4, t->ip_id++);    /* consecutive IDs, as the kernel's GSO */
    set_ip_len(out, seg_len);
    l4_len = seg_len - t->l4_off;
    if (t->udp) {
        store16_be(l4 + 4, (u16)l4_len);
        at = UDP_CSUM_OFF;
    } else {
        tso_tcp_fields(t, l4, t->off == t->hdr_len, last);
        at = TCP_CSUM_OFF;
    }
    store16_be(l4 + at, 0);
    c = (u16)~csum_fold(csum_add(pseudo_sum(out, t->udp ? IPPROTO_UDP_NUM : IPPROTO_TCP_NUM,
                                            l4_len), l4, t->hdr_len - t->l4_off) + payload_sum);
    store16_be(l4 + at, c == 0 && t->udp ? 0xffff : c);
    t->seq += payload;
    t->off += payload;
    if (last)
        t->pkt = NULL;
    return seg_len;
}

/* ---- GRO: same-flow TCP segments or UDP datagrams -> one super-packet (RX) ---- */

/* The L4 offset of a plain IPv4 (no options, not a fragment) or IPv6 (no
 * extension headers) TCP or UDP packet with room for its L4 header, else 0. */
static u32 gro_l4_off(const u8 *ip, u32 len)
{
    u8 proto;
    u32 l4;
    if (ip[0] == 0x45 && (load16_be(ip + 6) & 0x3fff) == 0) {
        proto = ip[9];
        l4 = 20;
    } else if (ip[0] >> 4 == 6) {
        proto = ip[6];
        l4 = 40;
    } else {
        return 0;
    }
    if (proto == IPPROTO_TCP_NUM)
        return len >= l4 + 20 ? l4 : 0;
    return proto == IPPROTO_UDP_NUM && len >= l4 + 8 ? l4 : 0;
}

static u8 l4_proto(const u8 *ip)
{
    return ip[0] >> 4 == 4 ? ip[9] : ip[6];
}

/* Where the payload starts in a packet gro_l4_off accepted. */
u32 dp_gro_payload_off(const u8 *ip)
{
    u32 l4 = ip[0] >> 4 == 4 ? 20 : 40;
    if (l4_proto(ip) == IPPROTO_UDP_NUM)
        return l4 + 8;
    return l4 + (u32)(ip[l4 + 12] >> 4) * 4;
}

/* A packet GRO may start or extend: TCP with only ACK (+PSH), or UDP when
 * the TUN takes UDP GSO; a payload; a valid checksum. */
static int gro_candidate(const struct dp_pkt *pkt, int udp)
{
    const u8 *ip = pkt->buf + DP_HEADER_LEN;
    u32 l4 = gro_l4_off(ip, pkt->len), hdr;
    u8 proto = l4_proto(ip);
    if (l4 == 0 || (proto == IPPROTO_UDP_NUM && !udp))
        return 0;
    hdr = dp_gro_payload_off(ip);
    if (hdr >= pkt->len)
        return 0;
    if (proto == IPPROTO_TCP_NUM) {
        if (hdr < l4 + 20 || (ip[l4 + 13] & (u8)~TCP_GRO_FLAGS_OK) != 0 || !(ip[l4 + 13] & TCP_ACK))
            return 0;
    } else if (load16_be(ip + l4 + 4) != pkt->len - l4) {
        return 0;               /* the UDP length is rewritten: it must be the packet's */
    } else if (l4 == 20 && load16_be(ip + l4 + UDP_CSUM_OFF) == 0) {
        return 1;               /* IPv4 UDP without a checksum: nothing to verify */
    }
    /* A coalesced packet reaches the stack as CHECKSUM_PARTIAL, never verified
     * again: only packets that verify now may join one. */
    return csum_fold(csum_add(pseudo_sum(ip, proto, pkt->len - l4), ip + l4, pkt->len - l4)) ==
           0xffff;
}

enum { GRO_OTHER_FLOW, GRO_BREAK, GRO_FOLLOWS };

/* Whether b continues the group headed by h (next_seq: TCP's expected sequence). */
static int gro_match(const u8 *h, const u8 *b, u32 b_len, u32 next_seq)
{
    u32 l4 = h[0] >> 4 == 4 ? 20 : 40, hdr = dp_gro_payload_off(h);

    if (b[0] >> 4 != h[0] >> 4 || gro_l4_off(b, b_len) != l4 || l4_proto(b) != l4_proto(h))
        return GRO_OTHER_FLOW;
    if (l4 == 20 ? memcmp(h + 12, b + 12, 8) != 0 : memcmp(h + 8, b + 8, 32) != 0)
        return GRO_OTHER_FLOW;
    if (memcmp(h + l4, b + l4, 4) != 0)
        return GRO_OTHER_FLOW;      /* ports */
    /* Same flow: any difference in what the merged header keeps ends the group. */
    if (l4 == 20 ? h[1] != b[1] || h[6] != b[6] || h[8] != b[8]
                 : memcmp(h, b, 4) != 0 || h[7] != b[7])
        return GRO_BREAK;           /* TOS/ECN, DF, TTL; class/flow label, hop limit */
    if (l4_proto(h) == IPPROTO_UDP_NUM)
        return GRO_FOLLOWS;
    if (dp_gro_payload_off(b) != hdr || load32_be(b + l4 + 4) != next_seq ||
        memcmp(h + l4 + 8, b + l4 + 8, 5) != 0 || memcmp(h + l4 + 14, b + l4 + 14, 2) != 0 ||
        memcmp(h + l4 + 18, b + l4 + 18, hdr - l4 - 18) != 0)
        return GRO_BREAK;           /* sequence; ack, data offset; window; urg ptr + options */
    return GRO_FOLLOWS;
}

/* From pkt[first] (state PKT_WRITE), collect the indices of the packets
 * that coalesce with it, in order, into members (members[0] = first); the
 * count, 1 when nothing joins. Packets of other flows are skipped over, so
 * order within every flow is kept. udp: the TUN takes UDP GSO packets. */
u32 dp_gro_group(struct dp_pkt *pkt, u32 n, u32 first, u32 *members, u32 max, int udp)
{
    const u8 *h = pkt[first].buf + DP_HEADER_LEN;
    u32 count = 1, j, l4, hdr, gso, next_seq = 0, total;
    int tcp;

    members[0] = first;
    if (!gro_candidate(&pkt[first], udp))
        return 1;
    l4 = h[0] >> 4 == 4 ? 20 : 40;
    tcp = l4_proto(h) == IPPROTO_TCP_NUM;
    if (tcp && (h[l4 + 13] & TCP_PSH))
        return 1;                   /* PSH ends a group: nothing may follow it */
    if (!tcp && max > UDP_GRO_SEGS)
        max = UDP_GRO_SEGS;
    hdr = dp_gro_payload_off(h);
    gso = pkt[first].len - hdr;
    if (tcp)
        next_seq = load32_be(h + l4 + 4) + gso;
    total = pkt[first].len;
    for (j = first + 1; j < n && count < max; j++) {
        const u8 *b = pkt[j].buf + DP_HEADER_LEN;
        u32 payload;
        int m;
        if (pkt[j].state != PKT_WRITE)
            continue;
        m = gro_match(h, b, pkt[j].len, next_seq);
        if (m == GRO_OTHER_FLOW)
            continue;
        if (m == GRO_BREAK || !gro_candidate(&pkt[j], udp))
            break;
        payload = pkt[j].len - hdr;
        if (payload > gso || total + payload > 65535)
            break;
        members[count++] = j;
        total += payload;
        next_seq += payload;
        /* A short segment or PSH is the last one a group can take. */
        if (payload < gso || (tcp && (b[l4 + 13] & TCP_PSH)))
            break;
    }
    return count;
}

/* Rewrite the head's headers for the coalesced packet of members (lengths,
 * TCP's PSH from the last segment, partial checksum) and write the matching
 * virtio_net_hdr at vnet. Returns the coalesced packet's length. */
u32 dp_gro_finish(const struct dp_pkt *pkt, const u32 *members, u32 count, u8 *vnet)
{
    u8 *ip = pkt[members[0]].buf + DP_HEADER_LEN;
    const u8 *last = pkt[members[count - 1]].buf + DP_HEADER_LEN;
    u32 l4 = ip[0] >> 4 == 4 ? 20 : 40, hdr = dp_gro_payload_off(ip);
    u32 total = pkt[members[0]].len, i;
    u8 proto = l4_proto(ip);
    struct dp_vnet v;

    for (i = 1; i < count; i++)
        total += pkt[members[i]].len - hdr;
    set_ip_len(ip, total);
    if (proto == IPPROTO_TCP_NUM) {
        ip[l4 + 13] |= last[l4 + 13] & TCP_PSH;
        v.gso_type = l4 == 20 ? DP_VNET_GSO_TCPV4 : DP_VNET_GSO_TCPV6;
        v.csum_offset = TCP_CSUM_OFF;
    } else {
        store16_be(ip + l4 + 4, (u16)(total - l4));
        v.gso_type = DP_VNET_GSO_UDP_L4;
        v.csum_offset = UDP_CSUM_OFF;
    }
    /* CHECKSUM_PARTIAL convention: the field holds the folded pseudo-header
     * sum, not complemented; whoever segments or delivers completes it. */
    store16_be(ip + l4 + v.csum_offset, csum_fold(pseudo_sum(ip, proto, total - l4)));
    v.flags = DP_VNET_F_NEEDS_CSUM;
    v.hdr_len = (u16)hdr;
    v.gso_size = (u16)(pkt[members[0]].len - hdr);
    v.csum_start = (u16)l4;
    dp_vnet_store(&v, vnet);
    return total;
}
