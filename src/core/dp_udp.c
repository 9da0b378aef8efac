/*
 * dp_udp.c - the socket edge of both pipelines (wireguard-go conn/):
 * sockaddr and IP_PKTINFO / IPV6_PKTINFO in both directions (the sticky
 * source address), UDP_SEGMENT on sends and UDP_GRO on receives, and sends
 * with their fallbacks when our source address went away or the kernel
 * refuses GSO. A leaf: it calls no other datapath file and takes no lock;
 * what a send learns (source gone, GSO refused) goes back to the caller,
 * which owns the peer state (dp_send.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "dp_batch.h"

/* linux/udp.h values, for C libraries whose netinet/udp.h predates them. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define SEND_RETRIES 8
#define SEND_WAIT_MS 10

/* Append our source address (IP_PKTINFO / IPV6_PKTINFO) at c. */
static void put_pktinfo(struct msghdr *h, struct cmsghdr *c, const struct wgc_dp_endpoint *ep)
{
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

/* msghdr for sending n_iov buffers to ep, from ep's sticky source when it
 * has one; gso_size > 0: the kernel cuts the data into datagrams of that
 * size (UDP_SEGMENT), the last one may be shorter. */
void dp_fill_msg(struct msghdr *h, union dp_sockaddr *name, union dp_cmsg *cmsg,
                 struct iovec *iov, u32 n_iov, const struct wgc_dp_endpoint *ep, u32 gso_size)
{
    struct cmsghdr *c;

    /* Field by field, not memset: a libc call per message is a visible share
     * of a packet's cost on small cores (make profile-dp). The control bytes
     * past each cmsg's length are never read, so cmsg is not cleared. */
    *h = (struct msghdr){.msg_name = name, .msg_iov = iov, .msg_iovlen = n_iov,
                         .msg_control = cmsg->bytes};
    if (ep->family == 4) {
        name->in4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(ep->port)};
        memcpy(&name->in4.sin_addr, ep->addr, 4);
        h->msg_namelen = sizeof(name->in4);
    } else {
        name->in6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(ep->port)};
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
    if (ep->has_src)
        put_pktinfo(h, c, ep);
    else if (h->msg_controllen == 0)
        h->msg_control = NULL;
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
static int source_gone(int err)
{
    return err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH;
}

/* Where pkt goes now: its endpoint, without the source once that was gone. */
static struct wgc_dp_endpoint send_ep(const struct dp_pkt *pkt)
{
    struct wgc_dp_endpoint ep = pkt->ep;
    if (pkt->src_gone)
        ep.has_src = 0;
    return ep;
}

/* Errors by which the kernel refuses a UDP_SEGMENT message. */
static int gso_refused(int err)
{
    return err == EIO || err == EINVAL || err == EMSGSIZE;
}

/* EIO: the route's device has no checksum offload, so GSO can never work
 * there: off for good. EINVAL / EMSGSIZE: a segment exceeds the device MTU
 * (or the batch a size limit), which a later MTU change may cure: only this
 * message goes unsegmented. */
static int gso_refused_for_good(int err)
{
    return err == EIO;
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

/* The kernel refused a UDP_SEGMENT message: this message's datagrams go one
 * by one. Whether GSO stays on is the caller's (gso_refused_for_good). Returns
 * the datagrams that failed. */
static u32 send_unsegmented(struct dp_batch *b, int fd, u32 msg)
{
    const struct dp_pkt *pkt = &b->pkt[b->msg_pkt[msg]];
    struct wgc_dp_endpoint ep = send_ep(pkt);
    struct iovec *iov = b->msgs[msg].msg_hdr.msg_iov;
    u32 i, n = b->msg_segs[msg], failed = 0;
    struct msghdr h;
    union dp_sockaddr name;
    union dp_cmsg cmsg;

    for (i = 0; i < n; i++) {
        int tries = 0;
        dp_fill_msg(&h, &name, &cmsg, &iov[i], 1, &ep, 0);
        while (sendmsg(fd, &h, 0) < 0) {
            if (errno == EINTR || wait_writable(fd, &tries))
                continue;
            failed++;
            break;
        }
    }
    return failed;
}

/* sendmmsg the batch's first m messages to fd; returns how many datagrams
 * failed. A message whose source address is gone is sent again without it
 * and its first packet gets src_gone; a refused UDP_SEGMENT message is sent
 * unsegmented, and *gso becomes 0 if the refusal is for good. */
u32 dp_send_msgs(struct dp_batch *b, int fd, u32 m, int *gso)
{
    u32 done = 0, failed = 0, i;
    int tries = 0;

    if (fd < 0) {
        for (i = 0; i < m; i++)
            failed += b->msg_segs[i];
        return failed;
    }
    while (done < m) {
        struct dp_pkt *pkt;
        struct msghdr *h;
        int r = sendmmsg(fd, b->msgs + done, m - done, 0);
        if (r > 0) {
            done += (u32)r;
            continue;
        }
        if (errno == EINTR || wait_writable(fd, &tries))
            continue;
        h = &b->msgs[done].msg_hdr;
        pkt = &b->pkt[b->msg_pkt[done]];
        if (pkt->ep.has_src && !pkt->src_gone && source_gone(errno)) {
            struct wgc_dp_endpoint ep;
            pkt->src_gone = 1;
            ep = send_ep(pkt);
            dp_fill_msg(h, &b->names[done], &b->cmsg[done], h->msg_iov,
                        (u32)h->msg_iovlen, &ep, b->msg_segs[done] > 1 ?
                        (u32)h->msg_iov[0].iov_len : 0);
            continue;
        }
        if (b->msg_segs[done] > 1 && gso_refused(errno)) {
            if (gso_refused_for_good(errno))
                *gso = 0;
            failed += send_unsegmented(b, fd, done);
        } else {
            failed += b->msg_segs[done];
        }
        done++;
    }
    return failed;
}

/* sendmsg one datagram (iov) to pkt->ep; 0 or -1. As dp_send_msgs, a gone
 * source address sets pkt->src_gone and the datagram goes without it. */
int dp_send_datagram(int fd, struct iovec *iov, struct dp_pkt *pkt)
{
    struct wgc_dp_endpoint ep = send_ep(pkt);
    struct msghdr h;
    union dp_sockaddr name;
    union dp_cmsg cmsg;
    int tries = 0;

    dp_fill_msg(&h, &name, &cmsg, iov, 1, &ep, 0);
    while (fd >= 0) {
        if (sendmsg(fd, &h, 0) >= 0)
            return 0;
        if (errno == EINTR || wait_writable(fd, &tries))
            continue;
        if (!ep.has_src || !source_gone(errno))
            break;
        pkt->src_gone = 1;
        ep = send_ep(pkt);
        dp_fill_msg(&h, &name, &cmsg, iov, 1, &ep, 0);
    }
    return -1;
}
