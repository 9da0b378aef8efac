/*
 * prof_dp.c - drives the real data path (the dp_*.c workers, unchanged)
 * through N transport packets each way, for the per-packet profile
 * (tests/bench/prof_dp.py, make profile-dp).
 *
 * No TUN: the data path's tun_fd is one end of a SOCK_DGRAM socketpair
 * (wgcore.h allows any packet fd), the peer is a UDP socket on 127.0.0.1.
 * This thread plays the kernel and the peer; the two workers do the work
 * being measured (the plugin counts per thread).
 *   send:    write BURST IPv4 packets of LEN bytes into the "TUN", read the
 *            BURST datagrams the TX worker sealed from the peer socket
 *   receive: seal BURST datagrams here with the peer's keys, send them to
 *            the data path's socket with one sendmmsg, read the packets the
 *            RX worker wrote to the "TUN"
 * Mode "tso" is what a TCP flow through wgpyd's IFF_VNET_HDR TUN looks like:
 * each burst is one TSO super-packet of BURST MTU-sized TCP segments behind
 * a virtio_net_hdr, and the received segments (one flow, in order, valid
 * checksums) may come out coalesced by the data path's GRO.
 * A burst waits for the previous one to come out, so nothing is dropped.
 * The send phase runs first, then the receive phase, so at most one worker
 * is busy at a time.
 *
 * Usage: prof_dp N BURST [LEN [plain|tso]]   (N = 0 measures the setup alone)
 * Exit status 0 only if every packet arrived intact.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wgcore.h"

#define MTU 1420
#define PACKET_MAX 1500
#define HDR 16
#define VNET_LEN 10
#define TCP_HDR 40                  /* IPv4 + TCP, no options */
#define MSS (MTU - TCP_HDR)
#define SUPER_MAX 65536
#define LOCAL_INDEX 0x11223344u
#define REMOTE_INDEX 0x55667788u
#define WAIT_MS 20000

static const uint8_t our_ip[4] = {10, 0, 0, 1}, peer_ip[4] = {10, 0, 0, 2};

struct rig {
    int tun, peer_udp;              /* our ends: the "TUN" and the peer's socket */
    struct sockaddr_in dp_addr;     /* the data path's socket */
    uint8_t send_key[32], recv_key[32];
    uint64_t tx_counter, rx_counter;
    int tso;
};

#define BURST_MAX 64

static uint8_t pkt[SUPER_MAX + VNET_LEN], buf[SUPER_MAX + VNET_LEN], plain[PACKET_MAX];
/* receive: a burst's datagrams, sealed before any is sent, then one sendmmsg,
 * so the RX worker meets them as a fast peer's would arrive. */
static uint8_t sealed[BURST_MAX][HDR + MTU + WGC_TAG_LEN];
static struct mmsghdr sealed_msgs[BURST_MAX];
static struct iovec sealed_iov[BURST_MAX];
static uint32_t n_sealed;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void fail(const char *what, uint32_t i)
{
    fprintf(stderr, "prof_dp: %s %u wrong\n", what, i);
    exit(1);
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        die("getsockname");
    return ntohs(a.sin_port);
}

static int udp_socket(int nonblock)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_DGRAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket");
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("bind");
    return fd;
}

static void wait_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, WAIT_MS) != 1) {
        fprintf(stderr, "prof_dp: timed out waiting for packets\n");
        exit(1);
    }
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }

/* RFC 1071 sum, folded and complemented. */
static uint16_t checksum(uint32_t sum, const uint8_t *p, uint32_t len)
{
    uint32_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* An IPv4 header of a packet of len bytes; protocol 17 with a numbered
 * payload (plain mode) or 6 (the TCP header and payload are the caller's). */
static void ip_header(uint8_t *p, uint32_t len, const uint8_t src[4], const uint8_t dst[4],
                      uint8_t proto, uint16_t id)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, len);
    put16(p + 4, id);
    p[6] = 0x40;                    /* DF */
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    put16(p + 10, checksum(0, p, 20));
}

static void plain_packet(uint8_t *p, uint32_t len, const uint8_t src[4], const uint8_t dst[4],
                         uint32_t seq)
{
    uint32_t i;
    ip_header(p, len, src, dst, 17, 0);
    for (i = 20; i < len; i++)
        p[i] = (uint8_t)(seq + i);
}

/* The byte at offset off of the TCP stream. */
static uint8_t stream_byte(uint32_t off)
{
    return (uint8_t)(off * 7 + (off >> 8));
}

/* A TCP/IPv4 packet carrying stream bytes [seq, seq + payload); csum: a
 * valid TCP checksum, else the TSO convention (the pseudo-header sum). */
static uint32_t tcp_packet(uint8_t *p, uint32_t seq, uint32_t payload, uint16_t id,
                           const uint8_t src[4], const uint8_t dst[4], int csum)
{
    uint32_t len = TCP_HDR + payload, i, pseudo;
    ip_header(p, len, src, dst, 6, id);
    memset(p + 20, 0, 20);
    put16(p + 20, 40000);
    put16(p + 22, 5201);
    put32(p + 24, seq);
    put32(p + 28, 777);
    p[32] = 5 << 4;
    p[33] = 0x10;                   /* ACK */
    put16(p + 34, 500);
    for (i = 0; i < payload; i++)
        p[TCP_HDR + i] = stream_byte(seq + i);
    pseudo = (uint32_t)src[0] << 8 | src[1];
    pseudo += (uint32_t)src[2] << 8 | src[3];
    pseudo += (uint32_t)dst[0] << 8 | dst[1];
    pseudo += (uint32_t)dst[2] << 8 | dst[3];
    pseudo += 6 + (len - 20);
    if (csum) {
        put16(p + 36, checksum(pseudo, p + 20, len - 20));
    } else {
        while (pseudo >> 16)
            pseudo = (pseudo & 0xffff) + (pseudo >> 16);
        put16(p + 36, pseudo);
    }
    return len;
}

/* A TCP/IPv4 packet's IP and TCP checksums verify. */
static int tcp_checksums_ok(const uint8_t *p, uint32_t len)
{
    uint32_t pseudo = 6 + (len - 20), i;
    for (i = 12; i < 20; i += 2)
        pseudo += (uint32_t)p[i] << 8 | p[i + 1];
    return checksum(0, p, 20) == 0 && checksum(pseudo, p + 20, len - 20) == 0;
}

/* Read the next sealed datagram from the peer socket and open it. */
static uint32_t recv_sealed(struct rig *r, uint32_t i)
{
    ssize_t n;
    wait_readable(r->peer_udp);
    n = recv(r->peer_udp, buf, sizeof(buf), 0);
    if (n < HDR + WGC_TAG_LEN ||
        wgc_wg_open(plain, buf + HDR, (size_t)n - HDR, NULL, 0, r->tx_counter++,
                    r->send_key) != 0)
        fail("sent packet", i);
    return (uint32_t)n - HDR - WGC_TAG_LEN;
}

/* Seal len bytes of p (padded to 16) as the next datagram of the burst. */
static void seal_next(struct rig *r, const uint8_t *p, uint32_t len)
{
    uint32_t padded = (len + 15) / 16 * 16, i;
    uint8_t *d = sealed[n_sealed];
    if (padded > MTU)
        padded = len;
    memcpy(plain, p, len);
    memset(plain + len, 0, padded - len);
    d[0] = 4;
    d[1] = d[2] = d[3] = 0;
    for (i = 0; i < 4; i++)
        d[4 + i] = (uint8_t)(LOCAL_INDEX >> (8 * i));
    for (i = 0; i < 8; i++)
        d[8 + i] = (uint8_t)(r->rx_counter >> (8 * i));
    wgc_wg_seal(d + HDR, plain, padded, NULL, 0, r->rx_counter++, r->recv_key);
    sealed_iov[n_sealed].iov_base = d;
    sealed_iov[n_sealed].iov_len = HDR + padded + WGC_TAG_LEN;
    memset(&sealed_msgs[n_sealed], 0, sizeof(sealed_msgs[n_sealed]));
    sealed_msgs[n_sealed].msg_hdr.msg_name = &r->dp_addr;
    sealed_msgs[n_sealed].msg_hdr.msg_namelen = sizeof(r->dp_addr);
    sealed_msgs[n_sealed].msg_hdr.msg_iov = &sealed_iov[n_sealed];
    sealed_msgs[n_sealed].msg_hdr.msg_iovlen = 1;
    n_sealed++;
}

static void send_burst(struct rig *r)
{
    uint32_t done = 0;
    while (done < n_sealed) {
        int k = sendmmsg(r->peer_udp, sealed_msgs + done, n_sealed - done, 0);
        if (k <= 0)
            die("sendmmsg");
        done += (uint32_t)k;
    }
    n_sealed = 0;
}

/* send, plain: b packets of len bytes, one TUN read each. */
static void send_plain(struct rig *r, uint32_t first, uint32_t b, uint32_t len)
{
    uint32_t k;
    for (k = 0; k < b; k++) {
        plain_packet(pkt, len, our_ip, peer_ip, first + k);
        if (write(r->tun, pkt, len) != (ssize_t)len)
            die("tun write");
    }
    for (k = 0; k < b; k++) {
        plain_packet(pkt, len, our_ip, peer_ip, first + k);
        if (recv_sealed(r, first + k) != len || memcmp(plain, pkt, len) != 0)
            fail("sent packet", first + k);
    }
}

/* send, tso: one super-packet of b segments (stream offset first * MSS). */
static void send_tso(struct rig *r, uint32_t first, uint32_t b)
{
    uint8_t *ip = pkt + VNET_LEN;
    uint32_t len = tcp_packet(ip, first * MSS, b * MSS, (uint16_t)first, our_ip, peer_ip, 0), k;
    uint16_t v[4] = {TCP_HDR, MSS, 20, 16};     /* hdr_len, gso_size, csum_start, _offset */

    pkt[0] = 1;                     /* NEEDS_CSUM */
    pkt[1] = 1;                     /* GSO_TCPV4 */
    memcpy(pkt + 2, v, sizeof(v));  /* host order, as a legacy TUN */
    if (write(r->tun, pkt, VNET_LEN + len) != (ssize_t)(VNET_LEN + len))
        die("tun write");
    for (k = 0; k < b; k++) {
        uint32_t off = (first + k) * MSS, i;
        if (recv_sealed(r, first + k) != MTU || plain[9] != 6 || !tcp_checksums_ok(plain, MTU) ||
            ((uint32_t)plain[24] << 24 | (uint32_t)plain[25] << 16 | plain[26] << 8 | plain[27]) !=
                off)
            fail("sent segment", first + k);
        for (i = 0; i < MSS; i++)
            if (plain[TCP_HDR + i] != stream_byte(off + i))
                fail("sent segment", first + k);
    }
}

/* receive, plain: b datagrams, each written to the TUN alone. */
static void recv_plain(struct rig *r, uint32_t first, uint32_t b, uint32_t len)
{
    uint32_t k;
    for (k = 0; k < b; k++) {
        plain_packet(pkt, len, peer_ip, our_ip, first + k);
        seal_next(r, pkt, len);
    }
    send_burst(r);
    for (k = 0; k < b; k++) {
        ssize_t n;
        wait_readable(r->tun);
        n = read(r->tun, buf, sizeof(buf));
        plain_packet(pkt, len, peer_ip, our_ip, first + k);
        if (n != (ssize_t)len || memcmp(buf, pkt, len) != 0)
            fail("received packet", first + k);
    }
}

/* receive, tso: b segments of one flow; TUN writes carry one or more.
 * Returns the number of TUN writes. */
static uint32_t recv_tso(struct rig *r, uint32_t first, uint32_t b)
{
    uint32_t writes = 0;
    uint32_t k, want = first * MSS, end = (first + b) * MSS;
    for (k = 0; k < b; k++) {
        uint32_t len = tcp_packet(pkt, (first + k) * MSS, MSS, (uint16_t)(first + k), peer_ip,
                                  our_ip, 1);
        seal_next(r, pkt, len);
    }
    send_burst(r);
    while (want < end) {
        const uint8_t *ip = buf + VNET_LEN;
        uint32_t seq, i, payload;
        ssize_t n;
        wait_readable(r->tun);
        n = read(r->tun, buf, sizeof(buf));
        writes++;
        if (n < VNET_LEN + TCP_HDR + 1 || (buf[0] == 0 && !tcp_checksums_ok(ip, (uint32_t)n - VNET_LEN)))
            fail("received segment at", want);
        seq = (uint32_t)ip[24] << 24 | (uint32_t)ip[25] << 16 | ip[26] << 8 | ip[27];
        payload = (uint32_t)n - VNET_LEN - TCP_HDR;
        if (seq != want || ((uint32_t)ip[2] << 8 | ip[3]) != (uint32_t)n - VNET_LEN)
            fail("received segment at", want);
        for (i = 0; i < payload; i++)
            if (ip[TCP_HDR + i] != stream_byte(want + i))
                fail("received segment at", want);
        want += payload;
    }
    return writes;
}

int main(int argc, char **argv)
{
    struct wgc_dp_keypair kp[3];
    struct wgc_dp_endpoint ep;
    struct wgc_dp_prefix route;
    struct timespec ts;
    struct rig r;
    struct wgc_dp *dp;
    uint32_t n, burst, len, i, done, writes = 0;
    int tun[2], dp_udp, slot;
    uint32_t flags = WGC_DP_NO_UDP_GSO | WGC_DP_NO_UDP_GRO;

    if (argc < 3)
        return fprintf(stderr, "usage: prof_dp N BURST [LEN [plain|tso]]\n"), 2;
    memset(&r, 0, sizeof(r));
    n = (uint32_t)strtoul(argv[1], NULL, 10);
    burst = (uint32_t)strtoul(argv[2], NULL, 10);
    len = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : MTU;
    r.tso = argc > 4 && strcmp(argv[4], "tso") == 0;
    if (burst == 0 || burst > BURST_MAX || len < 20 || len > MTU ||
        (r.tso && (len != MTU || burst * MSS > 65000)))
        return fprintf(stderr, "prof_dp: bad BURST or LEN\n"), 2;
    if (r.tso)
        flags |= WGC_DP_VNET_HDR;

    for (i = 0; i < 32; i++) {
        r.send_key[i] = (uint8_t)(i + 1);
        r.recv_key[i] = (uint8_t)(0x80 + i);
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, tun) != 0)
        die("socketpair");
    /* The data path's end is non-blocking, as the TUN fd wgpyd opens. */
    if (fcntl(tun[0], F_SETFL, O_NONBLOCK) != 0)
        die("fcntl");
    r.tun = tun[1];
    dp_udp = udp_socket(1);
    r.peer_udp = udp_socket(0);
    memset(&r.dp_addr, 0, sizeof(r.dp_addr));
    r.dp_addr.sin_family = AF_INET;
    r.dp_addr.sin_port = htons(port_of(dp_udp));
    r.dp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    dp = wgc_dp_new(4, PACKET_MAX, MTU);
    if (dp == NULL)
        die("wgc_dp_new");
    slot = wgc_dp_peer_add(dp);
    memset(&ep, 0, sizeof(ep));
    ep.family = 4;
    ep.port = port_of(r.peer_udp);
    memcpy(ep.addr, "\x7f\x00\x00\x01", 4);
    memset(&route, 0, sizeof(route));
    route.family = 4;
    route.len = 32;
    memcpy(route.addr, peer_ip, 4);
    route.peer = slot;
    memset(kp, 0, sizeof(kp));
    memcpy(kp[1].send_key, r.send_key, 32);
    memcpy(kp[1].recv_key, r.recv_key, 32);
    kp[1].local_index = LOCAL_INDEX;
    kp[1].remote_index = REMOTE_INDEX;
    kp[1].present = 1;
    kp[1].can_send = 1;
    clock_gettime(CLOCK_MONOTONIC, &ts);    /* created now, on the workers' clock */
    kp[1].created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    if (slot < 0 || wgc_dp_peer_set_endpoint(dp, slot, &ep) != 0 ||
        wgc_dp_set_allowed_ips(dp, &route, 1) != 0 || wgc_dp_peer_set_keypairs(dp, slot, kp) != 0)
        die("peer setup");
    if (wgc_dp_start(dp, tun[0], dp_udp, -1, flags) != 0)
        die("wgc_dp_start");

    for (done = 0; done < n; done += burst) {
        uint32_t b = n - done < burst ? n - done : burst;
        if (r.tso)
            send_tso(&r, done, b);
        else
            send_plain(&r, done, b, len);
    }
    for (done = 0; done < n; done += burst) {
        uint32_t b = n - done < burst ? n - done : burst;
        if (r.tso)
            writes += recv_tso(&r, done, b);
        else
            recv_plain(&r, done, b, len);
    }
    /* GRO checks each segment's checksum first: none coalesced would mean
     * it judged valid ones wrong (bursts are sent at once, so some share a
     * recvmmsg). */
    if (r.tso && burst > 1 && n >= 4 * burst && writes == n) {
        fprintf(stderr, "prof_dp: GRO never coalesced\n");
        return 1;
    }
    wgc_dp_stop(dp);
    wgc_dp_free(dp);
    printf("prof_dp: %u packets of %u bytes each way, bursts of %u, %s\n", n, len, burst,
           r.tso ? "tso" : "plain");
    return 0;
}
