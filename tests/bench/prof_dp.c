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
 *   receive: send BURST datagrams sealed here with the peer's keys to the
 *            data path's socket, read the BURST packets the RX worker
 *            wrote to the "TUN"
 * A burst waits for the previous one to come out, so nothing is dropped.
 * The send phase runs first, then the receive phase, so at most one worker
 * is busy at a time.
 *
 * Usage: prof_dp N BURST [LEN]   (N = 0 measures the setup alone)
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
#define LOCAL_INDEX 0x11223344u
#define REMOTE_INDEX 0x55667788u
#define WAIT_MS 20000

static const uint8_t our_ip[4] = {10, 0, 0, 1}, peer_ip[4] = {10, 0, 0, 2};

static void die(const char *what)
{
    perror(what);
    exit(2);
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

/* A minimal IPv4 packet of len bytes from src to dst, payload numbered by seq. */
static void ip_packet(uint8_t *p, uint32_t len, const uint8_t src[4], const uint8_t dst[4],
                      uint32_t seq)
{
    uint32_t i;
    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 17;
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    for (i = 20; i < len; i++)
        p[i] = (uint8_t)(seq + i);
}

static void wait_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, WAIT_MS) != 1) {
        fprintf(stderr, "prof_dp: timed out waiting for packets\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static uint8_t pkt[PACKET_MAX + 64], buf[PACKET_MAX + 64], plain[PACKET_MAX];
    uint8_t send_key[32], recv_key[32];
    struct wgc_dp_keypair kp[3];
    struct wgc_dp_endpoint ep;
    struct wgc_dp_prefix route;
    struct sockaddr_in to;
    struct wgc_dp *dp;
    uint32_t n, burst, len, i, done;
    int tun[2], dp_udp, peer_udp, slot;
    uint64_t counter = 0;

    if (argc < 3)
        return fprintf(stderr, "usage: prof_dp N BURST [LEN]\n"), 2;
    n = (uint32_t)strtoul(argv[1], NULL, 10);
    burst = (uint32_t)strtoul(argv[2], NULL, 10);
    len = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : MTU;
    if (burst == 0 || len < 20 || len > MTU)
        return fprintf(stderr, "prof_dp: bad BURST or LEN\n"), 2;

    for (i = 0; i < 32; i++) {
        send_key[i] = (uint8_t)(i + 1);
        recv_key[i] = (uint8_t)(0x80 + i);
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, tun) != 0)
        die("socketpair");
    /* The data path's end is non-blocking, as the TUN fd wgpyd opens. */
    if (fcntl(tun[0], F_SETFL, O_NONBLOCK) != 0)
        die("fcntl");
    dp_udp = udp_socket(1);
    peer_udp = udp_socket(0);

    dp = wgc_dp_new(4, PACKET_MAX, MTU);
    if (dp == NULL)
        die("wgc_dp_new");
    slot = wgc_dp_peer_add(dp);
    memset(&ep, 0, sizeof(ep));
    ep.family = 4;
    ep.port = port_of(peer_udp);
    memcpy(ep.addr, "\x7f\x00\x00\x01", 4);
    memset(kp, 0, sizeof(kp));
    memcpy(kp[1].send_key, send_key, 32);
    memcpy(kp[1].recv_key, recv_key, 32);
    kp[1].local_index = LOCAL_INDEX;
    kp[1].remote_index = REMOTE_INDEX;
    kp[1].present = 1;
    kp[1].can_send = 1;
    memset(&route, 0, sizeof(route));
    route.family = 4;
    route.len = 32;
    memcpy(route.addr, peer_ip, 4);
    route.peer = slot;
    if (slot < 0 || wgc_dp_peer_set_endpoint(dp, slot, &ep) != 0 ||
        wgc_dp_set_allowed_ips(dp, &route, 1) != 0)
        die("peer setup");
    {
        /* Created now (CLOCK_MONOTONIC, as the workers' clock). */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        kp[1].created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    if (wgc_dp_peer_set_keypairs(dp, slot, kp) != 0)
        die("keypairs");
    if (wgc_dp_start(dp, tun[0], dp_udp, -1, WGC_DP_NO_UDP_GSO | WGC_DP_NO_UDP_GRO) != 0)
        die("wgc_dp_start");

    /* send: plaintext into the TUN, sealed datagrams out at the peer */
    for (done = 0; done < n; done += burst) {
        uint32_t b = n - done < burst ? n - done : burst, k;
        for (k = 0; k < b; k++) {
            ip_packet(pkt, len, our_ip, peer_ip, done + k);
            if (write(tun[1], pkt, len) != (ssize_t)len)
                die("tun write");
        }
        for (k = 0; k < b; k++) {
            ssize_t r;
            wait_readable(peer_udp);
            r = recv(peer_udp, buf, sizeof(buf), 0);
            ip_packet(pkt, len, our_ip, peer_ip, done + k);
            if (r < HDR + WGC_TAG_LEN ||
                wgc_wg_open(plain, buf + HDR, (size_t)r - HDR, NULL, 0,
                            done + k, send_key) != 0 ||
                memcmp(plain, pkt, len) != 0) {
                fprintf(stderr, "prof_dp: sent packet %u wrong\n", done + k);
                return 1;
            }
        }
    }

    /* receive: datagrams sealed here, plaintext out of the TUN */
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons(port_of(dp_udp));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (done = 0; done < n; done += burst) {
        uint32_t b = n - done < burst ? n - done : burst, k;
        for (k = 0; k < b; k++) {
            uint32_t padded = (len + 15) / 16 * 16;
            ip_packet(pkt, len, peer_ip, our_ip, done + k);
            memset(pkt + len, 0, padded - len);
            buf[0] = 4; buf[1] = buf[2] = buf[3] = 0;
            buf[4] = (uint8_t)LOCAL_INDEX; buf[5] = (uint8_t)(LOCAL_INDEX >> 8);
            buf[6] = (uint8_t)(LOCAL_INDEX >> 16); buf[7] = (uint8_t)(LOCAL_INDEX >> 24);
            for (i = 0; i < 8; i++)
                buf[8 + i] = (uint8_t)(counter >> (8 * i));
            wgc_wg_seal(buf + HDR, pkt, padded, NULL, 0, counter++, recv_key);
            if (sendto(peer_udp, buf, HDR + padded + WGC_TAG_LEN, 0, (struct sockaddr *)&to,
                       sizeof(to)) < 0)
                die("sendto");
        }
        for (k = 0; k < b; k++) {
            ssize_t r;
            wait_readable(tun[1]);
            r = read(tun[1], buf, sizeof(buf));
            ip_packet(pkt, len, peer_ip, our_ip, done + k);
            if (r != (ssize_t)len || memcmp(buf, pkt, len) != 0) {
                fprintf(stderr, "prof_dp: received packet %u wrong\n", done + k);
                return 1;
            }
        }
    }
    wgc_dp_stop(dp);
    wgc_dp_free(dp);
    printf("prof_dp: %u packets of %u bytes each way, bursts of %u\n", n, len, burst);
    return 0;
}
