/*
 * fuzz_dp_rx.c - libFuzzer target for the data path's receive side: real UDP
 * datagrams on loopback (IPv4 and IPv6) go through udp_receive (recvmmsg,
 * IP_PKTINFO parsing, GRO segment split) and rx_batch (classify by receiver index, batch open,
 * replay check, inner length and source checks, TUN write) of dp_recv.c's rx_socket, with
 * one peer holding a current and a next keypair. The workers are not started:
 * the harness drives one batch at a time, so each run is deterministic.
 *
 * Invariant: a datagram gives a drop (a counter) or an upcall or, only when it
 * is a genuine seal under an installed key with a fresh counter and an allowed
 * inner source, exactly its inner packet on TUN; rx_bytes moves only for those
 * genuine seals. Records: flags[1] len[2] counter[8] bytes[len];
 * flags bit 0 seal (as the peer would), bit 1 under the next keypair, bit 2 flip
 * one bit after sealing, bit 3 send over IPv6, bit 4 receiver index 0x33333333.
 */
#define _GNU_SOURCE
#include "dp_recv.c"   /* rx_socket and rx_batch are static: compile them in here */

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>

#define PACKET_MAX 2048
#define CUR_INDEX 0x11111111u
#define NEXT_INDEX 0x22222222u
#define MAX_REC 32
#define MAX_LEN 2200

static struct wgc_dp *dp;
static int tun[2], rx4 = -1, tx4 = -1, rx6 = -1, tx6 = -1;
static struct sockaddr_in to4;
static struct sockaddr_in6 to6;
static const uint8_t KEY_CUR[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t KEY_NEXT[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

static void check(int ok) { if (!ok) abort(); }

static int udp_pair(int family, int *rx, int *tx, void *to, socklen_t len)
{
    int one = 1;
    *rx = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    *tx = socket(family, SOCK_DGRAM, 0);
    if (*rx < 0 || *tx < 0)
        return -1;
    if (family == AF_INET)
        setsockopt(*rx, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    else
        setsockopt(*rx, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    if (bind(*rx, to, len) != 0 || getsockname(*rx, to, &len) != 0)
        return -1;
    return 0;
}

static void setup(void)
{
    struct wgc_dp_prefix pfx[2];
    int bufsz = 1 << 22;

    dp = wgc_dp_new(4, PACKET_MAX, 1420);
    check(dp != NULL && wgc_dp_peer_add(dp) == 0);
    check(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, tun) == 0);
    setsockopt(tun[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
    setsockopt(tun[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
    dp->tun_fd = tun[0];
    dp_batch_recv_layout(dp->rx.batch, 0);
    to4.sin_family = AF_INET;
    to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(udp_pair(AF_INET, &rx4, &tx4, &to4, sizeof(to4)) == 0);
    to6.sin6_family = AF_INET6;
    to6.sin6_addr = in6addr_loopback;
    if (udp_pair(AF_INET6, &rx6, &tx6, &to6, sizeof(to6)) != 0)
        rx6 = -1;   /* no IPv6 on this host: everything goes over IPv4 */
    setsockopt(rx4, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
    memset(pfx, 0, sizeof(pfx));
    pfx[0].family = 4; pfx[0].len = 8; pfx[0].addr[0] = 10;
    pfx[1].family = 6; pfx[1].len = 8; pfx[1].addr[0] = 0xfd;
    check(wgc_dp_set_allowed_ips(dp, pfx, 2) == 0);
}

/* Fresh keypairs (and replay windows) for every input: runs do not depend on each other. */
static void install_keys(void)
{
    struct wgc_dp_keypair kp[3];
    memset(kp, 0, sizeof(kp));
    check(wgc_dp_peer_set_keypairs(dp, 0, kp) == 0);     /* wipes the old ones */
    kp[1].present = kp[2].present = 1;
    kp[1].local_index = CUR_INDEX;
    kp[2].local_index = NEXT_INDEX;
    memcpy(kp[1].recv_key, KEY_CUR, 32);
    memcpy(kp[2].recv_key, KEY_NEXT, 32);
    kp[1].created_ns = kp[2].created_ns = dp_now_ns();
    kp[1].can_send = kp[2].can_send = 1;
    check(wgc_dp_peer_set_keypairs(dp, 0, kp) == 0);
}

static void drain(int fd)
{
    uint8_t buf[4096];
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        ;
}

/* As the daemon does: wgc_dp_peer_read only for slots wgc_dp_poll handed out. (Reading a
 * peer that is still queued clears its events, and its next event queues it again: the
 * pending array, max_peers long, overflows. An API contract, reported in docs/security.md.) */
static void read_peer(struct wgc_dp_peer_state *out)
{
    int32_t slots[8];
    while (wgc_dp_poll(dp, slots, 8) > 0)
        ;
    check(wgc_dp_peer_read(dp, 0, out) == 0);
}

static uint64_t drops(const struct wgc_dp_stats *s)
{
    return s->rx_expired_keypair + s->rx_decrypt + s->rx_replay + s->rx_inner_malformed +
           s->rx_inner_not_allowed + s->upcall_full + s->upcall_too_big;
}

/* Everything queued on fd (loopback delivers during sendto) through rx_socket. */
static u32 receive_all(int fd, u32 want)
{
    u32 rounds = 0;
    struct pollfd p = {fd, POLLIN, 0};
    if (want == 0)
        return 0;
    while (poll(&p, 1, rounds == 0 ? 50 : 0) > 0 && (p.revents & POLLIN) && rounds < 1000) {
        rx_socket(dp, dp->rx.batch, fd);
        rounds++;
    }
    return want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[MAX_LEN + 64];
    static uint8_t upbuf[WGC_DP_UPCALLS * PACKET_MAX];
    struct wgc_dp_upcall ups[WGC_DP_UPCALLS];
    struct wgc_dp_stats before, after;
    struct wgc_dp_peer_state ps0, ps1;
    uint64_t genuine_bytes = 0;
    u32 sent4 = 0, sent6 = 0, n = 0, got, tun_packets = 0, upcalls = 0;
    size_t pos = 0;

    if (dp == NULL)
        setup();
    install_keys();
    drain(tun[1]);
    wgc_dp_upcalls(dp, ups, WGC_DP_UPCALLS, upbuf, sizeof(upbuf));
    wgc_dp_get_stats(dp, &before);
    read_peer(&ps0);

    while (n < MAX_REC && pos + 11 <= size) {
        uint8_t flags = data[pos];
        size_t len = ((size_t)data[pos + 1] | (size_t)data[pos + 2] << 8) % MAX_LEN;
        uint64_t counter;
        int six = (flags & 8) && rx6 >= 0;
        memcpy(&counter, data + pos + 3, 8);
        pos += 11;
        if (len > size - pos)
            len = size - pos;
        if (flags & 1) {
            u32 index = flags & 16 ? 0x33333333u : flags & 2 ? NEXT_INDEX : CUR_INDEX;
            if (len > PACKET_MAX)
                len = PACKET_MAX;
            store32_le(pkt, 4);
            store32_le(pkt + 4, index);
            memcpy(pkt + 8, &counter, 8);
            wgc_wg_seal(pkt + 16, data + pos, len, NULL, 0, counter,
                        flags & 2 ? KEY_NEXT : KEY_CUR);
            if (flags & 4)
                pkt[(flags >> 5) % (len + 32)] ^= (uint8_t)(1u << (counter & 7));
            else if (!(flags & 16))
                genuine_bytes += len + 32;
            pos += len;
            len += 32;
        } else {
            memcpy(pkt, data + pos, len);
            pos += len;
        }
        if (six)
            sent6 += sendto(tx6, pkt, len, 0, (struct sockaddr *)&to6, sizeof(to6)) >= 0;
        else
            sent4 += sendto(tx4, pkt, len, 0, (struct sockaddr *)&to4, sizeof(to4)) >= 0;
        n++;
    }
    got = receive_all(rx4, sent4);
    if (rx6 >= 0)
        got += receive_all(rx6, sent6);
    check(got == sent4 + sent6);

    /* What came out: TUN packets must be inner packets from 10/8 or fd00::/8. */
    for (;;) {
        ssize_t r = recv(tun[1], pkt, sizeof(pkt), MSG_DONTWAIT);
        if (r < 0)
            break;
        check(r >= 20);
        if (pkt[0] >> 4 == 4)
            check(pkt[12] == 10);
        else
            check(r >= 40 && pkt[0] >> 4 == 6 && pkt[8] == 0xfd);
        tun_packets++;
    }
    for (;;) {
        size_t k = wgc_dp_upcalls(dp, ups, WGC_DP_UPCALLS, upbuf, sizeof(upbuf));
        if (k == 0)
            break;
        upcalls += (u32)k;
    }
    wgc_dp_get_stats(dp, &after);
    read_peer(&ps1);
    /* Every datagram is accounted for at most once, and rx_bytes only grows by genuine seals. */
    check(drops(&after) - drops(&before) + upcalls + tun_packets <= got);
    check(ps1.rx_bytes - ps0.rx_bytes <= genuine_bytes);
    check(after.tun_write_errors == before.tun_write_errors);
    return 0;
}
