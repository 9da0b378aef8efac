/*
 * dp_udp.c - the datapath's UDP addressing: sockaddr and IP_PKTINFO /
 * IPV6_PKTINFO in both directions (sticky source addresses, as udp.py),
 * UDP_SEGMENT on sends and UDP_GRO on receives, batched sends with the
 * fallbacks when our source address went away or the kernel refuses GSO,
 * and the single send Python uses for keepalives and staged packets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "datapath.h"

/* linux/udp.h values, for C libraries whose netinet/udp.h predates them. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define SEND_RETRIES 8
#define SEND_WAIT_MS 10

/* msghdr for sending n_iov buffers to ep, from ep's sticky source when it
 * has one; gso_size > 0: the kernel cuts the data into datagrams of that
 * size (UDP_SEGMENT), the last one may be shorter. */
void dp_fill_msg(struct msghdr *h, union dp_sockaddr *name, union dp_cmsg *cmsg,
                 struct iovec *iov, u32 n_iov, const struct wgc_dp_endpoint *ep, u32 gso_size)
{
    struct cmsghdr *c;

    memset(h, 0, sizeof(*h));
    memset(name, 0, sizeof(*name));
    memset(cmsg, 0, sizeof(*cmsg));
    h->msg_name = name;
    h->msg_iov = iov;
    h->msg_iovlen = n_iov;
    h->msg_control = cmsg->bytes;
    if (ep->family == 4) {
        name->in4.sin_family = AF_INET;
        name->in4.sin_port = htons(ep->port);
        memcpy(&name->in4.sin_addr, ep->addr, 4);
        h->msg_namelen = sizeof(name->in4);
    } else {
        name->in6.sin6_family = AF_INET6;
        name->in6.sin6_port = htons(ep->port);
        memcpy(&name->in6.sin6_addr, ep->addr, 16);
        h->msg_namelen = sizeof(name->in6);
    }
    c = (struct cmsghdr *)cmsg->bytes;
    if (gso_size > 0) {
        u16 size = (u16)gso_size;
        c->cmsg_level = IPPROTO_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(size));
        memcpy(CMSG_DATA(c), &size, sizeof(size));
        h->msg_controllen = CMSG_SPACE(sizeof(size));
        c = (struct cmsghdr *)(cmsg->bytes + h->msg_controllen);
    }
    if (!ep->has_src) {
        if (h->msg_controllen == 0)
            h->msg_control = NULL;
        return;
    }
    if (ep->family == 4) {
        /* ifindex 0: routing picks the interface, only the source is pinned (udp.py). */
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        memcpy(&pi.ipi_spec_dst, ep->src, 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        h->msg_controllen += CMSG_SPACE(sizeof(pi));
    } else {
        /* IPv6 keeps the ifindex: a link-local source needs it. */
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        memcpy(&pi.ipi6_addr, ep->src, 16);
        pi.ipi6_ifindex = ep->src_ifindex;
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        h->msg_controllen += CMSG_SPACE(sizeof(pi));
    }
}

/* The remote address and our local one (IP_PKTINFO) of a received datagram;
 * returns the size of the datagrams coalesced into it (UDP_GRO), 0 if one. */
u32 dp_parse_msg(const struct msghdr *h, struct wgc_dp_endpoint *ep)
{
    const union dp_sockaddr *name = h->msg_name;
    struct cmsghdr *c;
    u32 gro = 0;

    memset(ep, 0, sizeof(*ep));
    if (name->sa.sa_family == AF_INET) {
        ep->family = 4;
        ep->port = ntohs(name->in4.sin_port);
        memcpy(ep->addr, &name->in4.sin_addr, 4);
    } else {
        ep->family = 6;
        ep->port = ntohs(name->in6.sin6_port);
        memcpy(ep->addr, &name->in6.sin6_addr, 16);
    }
    for (c = CMSG_FIRSTHDR((struct msghdr *)h); c != NULL;
         c = CMSG_NXTHDR((struct msghdr *)h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(ep->src, &pi.ipi_addr, 4);
            ep->src_ifindex = (u32)pi.ipi_ifindex;
            ep->has_src = 1;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(ep->src, &pi.ipi6_addr, 16);
            ep->src_ifindex = pi.ipi6_ifindex;
            ep->has_src = 1;
        } else if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(c), sizeof(size));
            gro = size > 0 ? (u32)size : 0;
        }
    }
    return gro;
}

/* Ask for coalesced receives; 1 if the kernel (>= 5.0) took it. */
int dp_udp_gro_enable(int fd, int on)
{
    return fd >= 0 && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

/* Our source address went away (DHCP renew, roaming): let routing choose. */
static void forget_source(struct wgc_dp *dp, const struct dp_pkt *pkt)
{
    struct dp_peer *p;
    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, pkt->slot);
    if (p != NULL && memcmp(&p->endpoint, &pkt->ep, sizeof(pkt->ep)) == 0) {
        p->endpoint.has_src = 0;
        p->endpoint.src_ifindex = 0;
        memset(p->endpoint.src, 0, sizeof(p->endpoint.src));
    }
    pthread_mutex_unlock(&dp->mu);
}

static int source_gone(int err)
{
    return err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH;
}

static int wait_writable(int fd, int *tries)
{
    struct pollfd pfd;
    if ((errno != EAGAIN && errno != ENOBUFS) || (*tries)++ >= SEND_RETRIES)
        return 0;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    return poll(&pfd, 1, SEND_WAIT_MS) >= 0;
}

/* The kernel refused a UDP_SEGMENT message (EIO: no checksum offload on
 * the route's device; EINVAL or EMSGSIZE: a datagram exceeds the device
 * MTU, where plain sends would be fragmented). GSO stays off from now on;
 * this message's datagrams go one by one. Returns the datagrams that failed. */
static u32 send_unsegmented(struct wgc_dp *dp, struct dp_io *io, int fd, u32 msg)
{
    const struct dp_pkt *pkt = &io->pkt[io->msg_pkt[msg]];
    struct iovec *iov = io->msgs[msg].msg_hdr.msg_iov;
    u32 i, n = io->msg_segs[msg], failed = 0;
    struct msghdr h;
    union dp_sockaddr name;
    union dp_cmsg cmsg;

    dp->udp_gso = 0;
    pthread_mutex_lock(&dp->mu);
    dp->stats.udp_gso_refused = 1;
    pthread_mutex_unlock(&dp->mu);
    for (i = 0; i < n; i++) {
        int tries = 0;
        dp_fill_msg(&h, &name, &cmsg, &iov[i], 1, &pkt->ep, 0);
        while (sendmsg(fd, &h, 0) < 0) {
            if (errno == EINTR || wait_writable(fd, &tries))
                continue;
            failed++;
            break;
        }
    }
    return failed;
}

/* sendmmsg the first m messages to fd; returns how many datagrams failed. */
u32 dp_send_msgs(struct wgc_dp *dp, struct dp_io *io, int fd, u32 m)
{
    u32 done = 0, failed = 0, i;
    int tries = 0;

    if (fd < 0) {
        for (i = 0; i < m; i++)
            failed += io->msg_segs[i];
        return failed;
    }
    while (done < m) {
        struct dp_pkt *pkt;
        struct msghdr *h;
        int r = sendmmsg(fd, io->msgs + done, m - done, 0);
        if (r > 0) {
            done += (u32)r;
            continue;
        }
        if (errno == EINTR || wait_writable(fd, &tries))
            continue;
        h = &io->msgs[done].msg_hdr;
        pkt = &io->pkt[io->msg_pkt[done]];
        if (pkt->ep.has_src && source_gone(errno)) {
            forget_source(dp, pkt);
            pkt->ep.has_src = 0;
            dp_fill_msg(h, &io->names[done], &io->cmsg[done], h->msg_iov,
                        (u32)h->msg_iovlen, &pkt->ep, io->msg_segs[done] > 1 ?
                        (u32)h->msg_iov[0].iov_len : 0);
            continue;
        }
        if (io->msg_segs[done] > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE))
            failed += send_unsegmented(dp, io, fd, done);
        else
            failed += io->msg_segs[done];
        done++;
    }
    return failed;
}

int dp_send_one(struct wgc_dp *dp, i32 slot, const u8 *packet, size_t len)
{
    struct dp_pkt pkt;
    struct msghdr h;
    struct iovec iov;
    union dp_sockaddr name;
    union dp_cmsg cmsg;
    struct dp_peer *p;
    struct dp_keypair *kp = NULL;
    u64 now = dp_now_ns();
    int fd, tries = 0;

    memset(&pkt, 0, sizeof(pkt));
    pkt.buf = dp->send_buf;
    pkt.len = (u32)len;
    if (len > 0)
        memcpy(pkt.buf + DP_HEADER_LEN, packet, len);
    pthread_mutex_lock(&dp->mu);
    p = dp_peer_at(dp, slot);
    if (p != NULL && p->endpoint.family != 0)
        kp = dp_send_keypair(p, now);
    if (kp != NULL) {
        memset(pkt.buf + DP_HEADER_LEN + len, 0, dp_padded_len((u32)len, dp->mtu) - len);
        dp_seal_prepare(dp, p, kp, &pkt, now, 0);
    }
    pthread_mutex_unlock(&dp->mu);
    if (kp == NULL)
        return -1;
    wgc_wg_seal(pkt.buf + DP_HEADER_LEN, pkt.buf + DP_HEADER_LEN, pkt.len, NULL, 0,
                pkt.counter, pkt.key);
    wgc_wipe(pkt.key, 32);
    fd = dp->udp_fd[pkt.ep.family == 6];
    iov.iov_base = pkt.buf;
    iov.iov_len = DP_HEADER_LEN + pkt.len + WGC_TAG_LEN;
    dp_fill_msg(&h, &name, &cmsg, &iov, 1, &pkt.ep, 0);
    while (fd >= 0) {
        if (sendmsg(fd, &h, 0) >= 0)
            return 0;
        if (errno == EINTR || wait_writable(fd, &tries))
            continue;
        if (!pkt.ep.has_src || !source_gone(errno))
            break;
        forget_source(dp, &pkt);
        pkt.ep.has_src = 0;
        dp_fill_msg(&h, &name, &cmsg, &iov, 1, &pkt.ep, 0);
    }
    return -1;
}
