/*
 * dp_datagram.c - datagrams Python makes (handshake messages, cookie replies)
 * leave through the workers' sockets, from the sticky source as theirs do:
 * a sendmsg with IP_PKTINFO, which MicroPython's sockets cannot make, so both
 * runtimes send them here.
 */
#define _GNU_SOURCE
#include <string.h>

#include "datapath.h"
#include "dp_batch.h"

int wgc_dp_send_datagram(struct wgc_dp *dp, const struct wgc_dp_endpoint *to,
                         const uint8_t *data, size_t len)
{
    struct dp_pkt pkt;
    struct iovec iov;

    if (to->family != 4 && to->family != 6)
        return -1;
    memset(&pkt, 0, sizeof(pkt));
    pkt.ep = *to;
    iov.iov_base = (void *)data;
    iov.iov_len = len;
    /* udp_fd changes only in wgc_dp_start/stop, on Python's thread: ours. */
    if (dp_send_datagram(dp->udp_fd[to->family == 6], &iov, &pkt) != 0)
        return -1;
    return pkt.src_gone;
}
